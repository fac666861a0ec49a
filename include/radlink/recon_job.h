/* Study jobs (engine/recon/correct.c): what an attempt of a study's job
 * takes from the store when it starts, and what its outcome changes in the
 * study and the spool. Beside the reconciliation (radlink/recon.h), which
 * decides that a study needs a job; the dispatcher (radlink/dispatch.h)
 * calls these in the loop's transaction. */
#ifndef RADLINK_RECON_JOB_H
#define RADLINK_RECON_JOB_H

#include "radlink/job.h"
#include "radlink/job_msg.h"
#include "radlink/store.h"

/* A study job's subject: the study's UID and the DICOM node it sends to,
 * "UID@AE"; "UID@" corrects the spool's copies and sends nothing (no node
 * takes the study). A subject without '@' is a job from before
 * destinations: starting it hands its work to one job per destination. */
int recon_job_subject(rl_str study_uid, const char *ae, char *out, size_t n);
/* Split a subject; false when it has no '@' (then ae is empty). */
bool recon_job_split(rl_str subject, rl_str *study_uid, rl_str *ae);
/* Is something of the study left to send (or to correct in the spool) with
 * its current target: a node an instance has not reached? */
int recon_unsent(store_txn *t, rl_str study_uid, bool *any, rl_err *err);
/* Want a job, due now, for each node the study still has to reach, whatever
 * the policy for studies no order claims (`radlink recon forward`): sent
 * gets each job and its node. */
typedef struct recon_sent {
    size_t n;
    uint64_t id[RL_DICOM_SENDS_MAX];
    char ae[RL_DICOM_SENDS_MAX][RL_AE_TITLE_SIZE];
} recon_sent;
int recon_send_now(store_txn *t, rl_str study_uid, int64_t now_us, recon_sent *sent,
                   rl_err *err);

/* Start an attempt of the study job job_id (PENDING or FAILED) in t: fill
 * msg (the target's attributes, the instances still to send with their spool
 * paths, the PACS given; strings copied into arena) and move the job to
 * RUNNING for worker. When nothing is left to send the job is DONE at once
 * and *started is false. */
int recon_job_start(store_txn *t, uint64_t job_id, const char *worker, const job_peer *pacs,
                    size_t n_pacs, const char *work_root, int64_t now_us, job_msg *msg,
                    rl_arena *arena, bool *started, rl_err *err);

/* The attempt sent what it had to: the corrected copies in its work
 * directory replace the spool files of the instances it covered (synced;
 * through recv, which leaves alone an instance whose new copy is arriving;
 * recv may be NULL), the changes and any new UIDs (IOCM) are recorded.
 * verified: those instances are marked sent, the study is corrected when
 * nothing is left, the job DONE with result. Not verified (the PACS does not
 * show what it was sent): nothing is marked sent, the study and the job are
 * UNVERIFIED with result as the reason, until an administrator retries.
 * JOB_E_STALE for an attempt that no longer holds the job (nothing changes).
 * The renames are not undone if t is aborted: recording the outcome again
 * finds those copies in place. *changes (may be NULL) gets the number of
 * header changes this attempt recorded (corrections made). */
struct receiver;
int recon_job_done(store_txn *t, uint64_t job_id, uint32_t attempt, bool verified, rl_str result,
                   const char *work_root, struct receiver *recv, int64_t now_us,
                   unsigned *changes, rl_err *err);

/* In an attempt's work directory: the instances the node's DICOM route
 * program could not be applied to, "SOP Instance UID TAB why" per line. */
#define RECON_JOB_FAILED_LIST "failed.list"

/* The work directory of one attempt, under work_root (DATA/spool/work), and
 * its removal with whatever it still holds (a failed or superseded attempt,
 * copies of instances that were replaced meanwhile). */
void recon_work_dir(const char *work_root, uint64_t job_id, uint32_t attempt, char *out,
                    size_t n);
void recon_work_remove(const char *work_root, uint64_t job_id, uint32_t attempt);
/* Every attempt's work directory (at engine start, when none runs). */
void recon_work_clear(const char *work_root);

/* The changes a study's jobs made: each as "Keyword TAB old TAB new TAB reason"
 * with the job id. */
typedef int (*recon_change_visit)(void *ctx, uint64_t job_id, rl_str line);
int recon_changes_each(store_txn *t, rl_str study_uid, recon_change_visit cb, void *ctx,
                       rl_err *err);

#endif
