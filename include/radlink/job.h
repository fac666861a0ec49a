/* Jobs: work for `radlink worker` processes, kept in LMDB as one state
 * machine. Every transition below is a function of this module, applied in
 * the caller's write transaction: by the engine's loop inside its group
 * commit, or by the CLI on the store when no engine runs. Nothing else writes
 * job records.
 *
 *               job_want             job_start              job_done
 *   (nothing) ----------> PENDING ------------> RUNNING ------------> DONE
 *                           ^   ^                 |
 *                           |   |     job_fail    |  attempts < max
 *                           |   +---- FAILED <----+
 *                 job_retry |    (due after       |  attempts = max
 *                           +------- DEAD <-------+
 *                           |                     |  job_unverified
 *                           +---- UNVERIFIED <----+
 *
 *   PENDING  waiting for its due time (a study is "stable" once no instance
 *            came for <jobs study-stable> seconds), for a worker, or for the
 *            running job of the same subject to end.
 *   RUNNING  leased to one attempt (job id + attempt number) of one worker;
 *            the lease lives as long as that worker's heartbeats name it.
 *   FAILED   the last attempt failed; due again after 2^attempts seconds
 *            (at most RL_JOB_BACKOFF_MAX_S), then started like PENDING.
 *   DONE     the last attempt did it; result says what.
 *   DEAD     failed max-attempts times; `radlink jobs retry` makes it PENDING.
 *   UNVERIFIED  the attempt sent what it had to, but the PACS does not show
 *            it (storage commitment or C-FIND disagree): result says what the
 *            PACS shows and what to do; `radlink jobs retry` makes it PENDING.
 *
 * Rules this module keeps, whoever calls it:
 * - never two RUNNING jobs for one subject: while one runs, the others of its
 *   subject are not due (job_next_due does not see them);
 * - one waiting job per subject and kind: job_want for a subject that has one
 *   only moves its due time; while a job of the subject runs, the first want
 *   makes one follow-up, due when the running one ends;
 * - an outcome counts only from the attempt that holds the job: a DONE or
 *   FAIL for another attempt (a worker declared lost that comes back) changes
 *   nothing and returns JOB_E_STALE.
 *
 * STORE_JOB: be64 id -> record, version 2 (version 1, written by radlink
 * 0.1, reads with gen = upto = 0 and no worker):
 *   u8 version, u8 state, u32 attempts, u64 created, u64 updated, u64 due,
 *   u32 gen, u32 upto, str kind, str subject, str last error, str result,
 *   str worker.
 * STORE_JOB_IDX (several values per key):
 *   'S' subject -> be64 ids of its unfinished jobs (PENDING, FAILED, RUNNING)
 *   'D'         -> be64 due + be64 id of every PENDING or FAILED job whose
 *                  subject runs nothing, in due order: what the dispatcher
 *                  reads
 *   'R'         -> be64 ids of RUNNING jobs
 *   'H' what it is about (its subject up to '@': a study's UID, a prefetch's
 *       accession) -> be64 ids of every job, finished too, until retention
 *       removes it (radlink trace); META "job.hidx" "1" once every job is in
 *       it (job_index_upgrade at the engine's start) */
#ifndef RADLINK_JOB_H
#define RADLINK_JOB_H

#include <stdbool.h>
#include <stdint.h>

#include "radlink/err.h"
#include "radlink/limits.h"
#include "radlink/store.h"

typedef enum job_state {
    JOB_PENDING = 1,
    JOB_DONE = 2,
    JOB_DEAD = 3,
    JOB_RUNNING = 4,
    JOB_FAILED = 5,
    JOB_UNVERIFIED = 6,
} job_state;

typedef struct job {
    uint64_t id;
    job_state state;
    uint32_t attempts;  /* attempts started; the running attempt's number */
    int64_t created_us, updated_us;
    int64_t due_us;     /* PENDING, FAILED: not started before this */
    uint32_t gen, upto; /* what the last attempt covered, for its kind (study jobs:
                         * the study's target generation and last instance number) */
    /* Views: valid until the next write in the same transaction, or its end
     * (LMDB's rule for mdb_get data). Copy what must outlive that. */
    rl_str kind, subject, last_error, result, worker;
    rl_str history; /* each attempt's end, one line each, the newest last (bounded) */
} job;

const char *job_state_name(job_state s);
/* "pending" ... -> state, or 0 when unknown. */
job_state job_state_parse(const char *name);

/* Something of kind must be done for subject, not before not_before_us. Returns
 * the waiting job: created, or the existing one with its due time moved to
 * not_before_us when that is later. *created says which. */
int job_want(store_txn *t, const char *kind, rl_str subject, int64_t not_before_us,
             int64_t now_us, uint64_t *id, bool *created, rl_err *err);

/* A PENDING job due after due_us becomes due then (a job held back on
 * purpose, e.g. an unmatched study's forward, that is wanted sooner now);
 * any other job is left as it is. */
int job_due_by(store_txn *t, uint64_t id, int64_t due_us, int64_t now_us, rl_err *err);

/* The waiting (PENDING, FAILED) jobs of kind for subject are DONE with why
 * (an order cancelled: its prefetch is not wanted); *n how many. Nothing
 * when a job of the subject runs (its attempt ends as it ends). */
int job_cancel_waiting(store_txn *t, const char *kind, rl_str subject, rl_str why,
                       int64_t now_us, unsigned *n, rl_err *err);

/* The earliest job that may start (STORE_NOTFOUND when none): its id and due. */
int job_next_due(store_txn *t, uint64_t *id, int64_t *due_us, rl_err *err);

/* PENDING or FAILED -> RUNNING for a new attempt by worker (a name for
 * `jobs show`); gen/upto record what this attempt covers. out gets the job. */
int job_start(store_txn *t, uint64_t id, const char *worker, uint32_t gen, uint32_t upto,
              int64_t now_us, job *out, rl_err *err);

/* Outcomes of attempt number `attempt`: JOB_E_STALE unless that attempt holds
 * the job. job_fail makes the job FAILED (due after the backoff), or DEAD
 * once attempts reached max_attempts. out gets the job as written. */
int job_done(store_txn *t, uint64_t id, uint32_t attempt, rl_str result, int64_t now_us,
             job *out, rl_err *err);
int job_fail(store_txn *t, uint64_t id, uint32_t attempt, rl_str why, unsigned max_attempts,
             int64_t now_us, job *out, rl_err *err);
/* The attempt sent everything, but the PACS does not show it: UNVERIFIED
 * with why (what it shows, the remedy). Not retried by itself. */
int job_unverified(store_txn *t, uint64_t id, uint32_t attempt, rl_str why, int64_t now_us,
                   job *out, rl_err *err);

/* An administrator's retry: DEAD, UNVERIFIED or FAILED -> PENDING, due now, attempts
 * counted from zero again. A dead job whose subject has a waiting job of its
 * kind already (new instances came after it died) is folded into that one:
 * the dead job is DONE ("retried as job N"), job N is due now; *as_id says
 * which job now carries the work. JOB_E_STATE for a job that is PENDING,
 * RUNNING or DONE (the text says which). */
int job_retry(store_txn *t, uint64_t id, int64_t now_us, uint64_t *as_id, rl_err *err);

/* At engine start: every RUNNING job lost its attempt with the engine that
 * ran it; it becomes PENDING, due now (the attempt counts). The indexes are
 * rebuilt from the unfinished jobs (a store written by radlink 0.1 gets
 * them too). *recovered counts the jobs that were RUNNING. */
int job_recover(store_txn *t, int64_t now_us, unsigned *recovered, rl_err *err);

int job_get(store_txn *t, uint64_t id, job *out, rl_err *err);
/* Is a job whose subject starts with prefix unfinished (PENDING, FAILED,
 * RUNNING)? A study's jobs are "UID@NODE": prefix "UID@" asks for any. */
int job_unfinished_under(store_txn *t, rl_str prefix, bool *any, rl_err *err);
typedef int (*job_visit)(void *ctx, const job *j);
/* Every job about `about` (a study's UID, a prefetch's accession), oldest
 * first; stop when cb returns non-zero. */
int job_each_about(store_txn *t, rl_str about, job_visit cb, void *ctx, rl_err *err);
/* Remove a job's record and its 'H' entry (retention: a finished job). */
int job_remove(store_txn *t, uint64_t id, rl_err *err);
/* Index the jobs of a store from before the 'H' index (once); *n how many. */
int job_index_upgrade(store_txn *t, unsigned *n, rl_err *err);
/* Every job from id `from`, oldest first; stop when cb returns non-zero. */
int job_each(store_txn *t, uint64_t from, job_visit cb, void *ctx, rl_err *err);

/* How a PACS takes the correction of a study it holds already (the first
 * send of a study always goes in place, with the UIDs it came with). */
typedef enum pacs_update {
    PACS_UPDATE_RESEND = 0, /* corrected copies with the same UIDs: a PACS that overwrites */
    PACS_UPDATE_HL7 = 1,    /* IHE PIR: the ADT goes to the PACS's HL7 listener; the
                             * instances it holds are not sent again */
    PACS_UPDATE_IOCM = 2,   /* IHE IOCM: a rejection note for the instances it holds,
                             * then corrected copies with new SOP and series UIDs */
} pacs_update;

/* What a job checks after sending before it calls itself done. */
typedef enum pacs_verify {
    PACS_VERIFY_NONE = 0,
    PACS_VERIFY_FIND = 1,        /* C-FIND: the PACS shows the corrected values */
    PACS_VERIFY_COMMIT_FIND = 2, /* and storage commitment for every instance sent */
} pacs_verify;

/* The title of an IOCM rejection note (PS3.16 CID 7011). */
typedef enum pacs_reject {
    PACS_REJECT_WORKLIST = 0, /* (113038, DCM, "Incorrect Modality Worklist Entry") */
    PACS_REJECT_SAFETY = 1,   /* (113037, DCM, "Rejected for Patient Safety Reasons") */
} pacs_reject;

#endif
