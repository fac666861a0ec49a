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

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>

#include "radlink/cmd.h"
#include "radlink/recon.h"
#include "radlink/study.h"

typedef struct receiver {
    store *st;             /* read only here: the duplicate check */
    cmdq *q;               /* the loop's */
    char spool[RL_DATA_PATH_MAX]; /* absolute DATA/spool */
    bool refuse_duplicates;
    /* DICOM threads filing an instance right now (received, being synced):
     * their command is surely coming, and the loop waits a little for it
     * (group commit). Read by the loop. */
    atomic_uint filing;
    /* SOP Instances whose new copy is being renamed into the spool and
     * indexed right now (nodes on the DICOM threads' stacks); a correction
     * never replaces such a file (receiver_replace). Initialise lock with
     * PTHREAD_MUTEX_INITIALIZER. */
    pthread_mutex_t lock;
    struct receiver_arrival *arriving;
    /* one filing per SOP Instance at a time (a replaced copy is taken back
     * when the index refuses the new one); PTHREAD_COND_INITIALIZER */
    pthread_cond_t turn;
    /* frees what on_dataset decided for an instance (the SCP's cookie: a
     * route_dicom_decision), once it is filed or refused; NULL: nothing
     * to free */
    void (*decision_free)(void *decision);
} receiver;

/* The SCP's on_instance (any DICOM thread): 0 stored, 1 refused as a
 * duplicate, -1 failed (why says it). */
int study_receive(void *ctx, const study_inst *in, const char *tmp, void *cookie, char *why,
                  size_t whyn);

/* The SCP's on_commit_report (any DICOM thread): posted to the loop, which
 * passes it to the worker waiting for it (radlink/dispatch.h). */
void study_commit_report(void *ctx, const char *txn_uid, const char *lines);

/* The loop, recording a correction: the corrected copy `copy` of SOP
 * Instance sop replaces its spool file `path`, unless an association is
 * filing a new copy of that instance right now (that copy is newer than the
 * correction; its study's next job sends it). r may be NULL (no DICOM
 * listener). */
typedef enum receiver_replaced {
    RECEIVER_REPLACED = 1, /* the copy is the spool file now */
    RECEIVER_NO_COPY = 0,  /* there was no corrected copy (none needed, or moved already) */
    RECEIVER_ARRIVING = 2, /* left alone: a newer copy is arriving */
} receiver_replaced;
/* RL_E_SYS with errno when the rename fails. */
int receiver_replace(receiver *r, const char *sop, const char *copy, const char *path);

/* The loop: index, reconcile and schedule one CMD_INSTANCE in t; out says
 * how it reconciled. */
int study_receive_apply(store_txn *t, cmd *c, int64_t now_us, recon_out *out, rl_err *err);

#endif
