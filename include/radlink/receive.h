/* Filing received DICOM instances (engine/study/receive.c), in two halves.
 *
 * A DICOM thread (the SCP's on_instance): the temporary file is synced,
 * renamed to DATA/spool/STUDY/SERIES/SOP.dcm and the directories the rename
 * touched are synced (each association's syncs run in parallel with the
 * others' and with the loop's commit); then the loop is asked to index it
 * (CMD_INSTANCE) and the thread waits for that commit; only then does the
 * SCP answer success. Instances from several associations share one commit
 * with the turn's HL7 messages.
 *
 * The loop: study_receive_apply indexes the instance, reconciles its study
 * and wants the study's job, in the turn's transaction. */
#ifndef RADLINK_RECEIVE_H
#define RADLINK_RECEIVE_H

#include <stdatomic.h>
#include <stdbool.h>

#include "radlink/cmd.h"
#include "radlink/recon.h"
#include "radlink/study.h"

typedef struct receiver {
    store *st;             /* read only here: the duplicate check */
    cmdq *q;               /* the loop's */
    char spool[1100];      /* absolute DATA/spool */
    bool refuse_duplicates;
    /* DICOM threads filing an instance right now (received, being synced):
     * their command is surely coming, and the loop waits a little for it
     * (group commit). Read by the loop. */
    atomic_uint filing;
} receiver;

/* The SCP's on_instance (any DICOM thread): 0 stored, 1 refused as a
 * duplicate, -1 failed (why says it). */
int study_receive(void *ctx, const study_inst *in, const char *tmp, char *why, size_t whyn);

/* The loop: index, reconcile and schedule one CMD_INSTANCE in t; out says
 * how it reconciled. */
int study_receive_apply(store_txn *t, cmd *c, int64_t now_us, recon_out *out, rl_err *err);

#endif
