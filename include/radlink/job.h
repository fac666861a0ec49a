/* Jobs: work for `radlink worker` processes, written to LMDB first and then
 * dispatched over ZeroMQ (engine/job/dispatch.c).
 *
 * STORE_JOB: be64 id -> record, version 1:
 *   u8 version, u8 state, u32 attempts, u64 created, u64 updated,
 *   u64 next attempt (us), str kind, str subject (a study UID), str last
 *   error, str result.
 * STORE_JOB_IDX (several values per key): 'S' subject -> be64 ids of its
 *   jobs that are not finished, so a study has at most one waiting job;
 *   'P' -> be64 ids of every pending job, which the dispatcher reads. */
#ifndef RADLINK_JOB_H
#define RADLINK_JOB_H

#include <stdint.h>

#include "radlink/store.h"

typedef enum job_state {
    JOB_PENDING = 1, /* waiting for a worker (maybe backing off) */
    JOB_DONE = 2,
    JOB_DEAD = 3,    /* failed too often: kept for `radlink jobs retry` */
} job_state;

typedef struct job {
    uint64_t id;
    job_state state;
    uint32_t attempts;
    int64_t created_us, updated_us, next_us;
    rl_str kind, subject, last_error, result; /* views valid until the txn ends */
} job;

const char *job_state_name(job_state s);
/* A job of kind for subject, unless one is waiting already (then *id is that
 * one and *created false). */
int job_submit(store_txn *t, const char *kind, rl_str subject, int64_t now_us, uint64_t *id,
               bool *created, rl_err *err);
int job_get(store_txn *t, uint64_t id, job *out, rl_err *err);
/* Rewrite state, attempts, times, error and result (the subject index follows). */
int job_update(store_txn *t, const job *j, rl_err *err);
typedef int (*job_visit)(void *ctx, const job *j);
/* Every pending job, oldest first (the 'P' index). */
int job_each_pending(store_txn *t, job_visit cb, void *ctx, rl_err *err);
/* Every job, oldest first (from id `from`). */
int job_each(store_txn *t, uint64_t from, job_visit cb, void *ctx, rl_err *err);

#endif
