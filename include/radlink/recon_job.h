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
