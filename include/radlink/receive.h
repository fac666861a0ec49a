/* Filing received DICOM instances (engine/study/receive.c), in two halves.
 *
 * A DICOM thread (the SCP's on_instance): the temporary file is synced and
 * renamed to DATA/spool/STUDY/SERIES/SOP.dcm, then the loop is asked to
 * index it (CMD_INSTANCE) and the thread waits for that commit; only then
 * does the SCP answer success. The spool directories the rename touched are
 * synced by the loop, once per turn for all instances of the turn, just
 * before it commits: instances from several associations share one commit
 * (and one directory sync per series) with the turn's HL7 messages.
 *
 * The loop: study_receive_apply indexes the instance, reconciles its study
 * and wants the study's job, in the turn's transaction. */
#ifndef RADLINK_RECEIVE_H
#define RADLINK_RECEIVE_H

#include <stdbool.h>

#include "radlink/cmd.h"
#include "radlink/recon.h"
#include "radlink/study.h"

typedef struct receiver {
    store *st;             /* read only here: the duplicate check */
    cmdq *q;               /* the loop's */
    char spool[1100];      /* absolute DATA/spool */
    bool refuse_duplicates;
} receiver;

/* The SCP's on_instance (any DICOM thread): 0 stored, 1 refused as a
 * duplicate, -1 failed (why says it). */
int study_receive(void *ctx, const study_inst *in, const char *tmp, char *why, size_t whyn);

/* The loop: index, reconcile and schedule one CMD_INSTANCE in t; out says
 * how it reconciled. */
int study_receive_apply(store_txn *t, cmd *c, int64_t now_us, recon_out *out, rl_err *err);

/* The loop: sync every distinct directory the instances of cmds were filed
 * in (the list linked by next; other kinds are skipped). 0, or RL_E_SYS. */
int study_receive_sync(const cmd *cmds, rl_err *err);

#endif
