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
#include "radlink/dicom.h"
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
    /* The route set the DICOM routes are read from: the loop's, swapped by
     * receiver_set_routes; a DICOM thread deciding reads it under the read
     * side of routes_lock (PTHREAD_RWLOCK_INITIALIZER). */
    pthread_rwlock_t routes_lock;
    const struct route_set *routes;
    const route_dcm_io *dcm_io; /* how the routes read and change a data set
                                 * (the DICOM adapter's dicom_ds_io) */
} receiver;

/* The SCP's on_dataset (any DICOM thread): the <on-receive> routes change
 * the instance, and the <dicom-route>s decide where it goes; *cookie gets
 * the decision (a route_dicom_decision, freed by study_decision_free), or
 * stays NULL when the route set has no <dicom-routes> (every <pacs> gets
 * it as it is). A decision that cannot be made holds the instance; false
 * when the <on-receive> changes must not be kept (one of them failed). */
bool study_on_dataset(void *ctx, dicom_ds *ds, const char *calling_ae, const char *called_ae,
                      void **cookie);
void study_decision_free(void *decision);
/* The loop, before it frees the set it replaces: from now on the DICOM
 * threads decide with rs (waits for any deciding with the old one). */
void receiver_set_routes(receiver *r, const struct route_set *rs);

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
