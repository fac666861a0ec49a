/* The dispatcher's state (engine/job/dispatch.c and dispatch_turn.c): the
 * workers, their credit and the leases of running attempts, the outcomes and
 * starts waiting for a turn, the storage commitment reports in passing.
 * dispatch.c owns the sockets and what lives in memory; dispatch_turn.c
 * records in the loop's transaction and uses dispatch.c, not the other way.
 * Not part of the dispatcher's public face (radlink/dispatch.h). */
#ifndef RADLINK_JOB_DISPATCHER_H
#define RADLINK_JOB_DISPATCHER_H

#include "radlink/dispatch.h"

typedef struct worker {
    bool used;
    void *sock; /* the ROUTER it came in on (ipc, or tcp with CURVE) */
    char id[RL_WORKER_ID_MAX];
    size_t idn;
    int credit;
    int64_t last_ms;
    char name[RL_WORKER_NAME_SIZE];
} worker;

typedef struct lease {
    uint64_t job;
    uint32_t attempt;
    int w;
    int64_t last_ms; /* the last heartbeat of its worker that named it */
} lease;

/* Something to record in the next transaction. */
typedef struct outcome {
    uint64_t job;
    uint32_t attempt;
    enum { O_DONE, O_FAIL, O_LOST, O_UNVERIFIED } what;
    char *text;
    bool recorded;    /* in the current turn: gone once it commits */
    unsigned tries;   /* turns whose recording of it failed */
    int64_t not_before_us; /* after a failure, offered again from then */
} outcome;

/* An attempt started in this turn, sent once the turn is committed. */
typedef struct start {
    int w;
    uint64_t job;
    uint32_t attempt;
    rl_buf msg;
} start;

/* Storage commitment: a transaction a worker waits for, or a report that
 * came before the worker said so (the PACS may answer at once). */
typedef struct commit_wait {
    char txn[RL_UID_SIZE];
    int w;              /* the worker waiting (announce) */
    char *lines;        /* the report (early) */
    int64_t until_ms;
} commit_wait;

struct dispatcher {
    dispatch_cfg cfg;
    loop *l;
    void *ctx, *router, *tcp, *zap;
    int fds[3];
    worker w[RL_WORKERS_MAX];
    lease *leases;
    size_t nleases, capleases;
    outcome *out;
    size_t nout, capout;
    start *starts;
    size_t nstarts, capstarts;
    int64_t next_hb_ms;
    int64_t next_due_us;  /* the earliest due job seen (0: not known, look) */
    int64_t retry_after_us; /* after a failed commit */
    commit_wait waits[RL_COMMIT_REPORTS_MAX], early[RL_COMMIT_REPORTS_MAX];
    unsigned long reports;
    unsigned long dispatched, done, failed, unverified, lost_workers, late;
    /* per node: the last study job there found its storage commitment
     * refused (that job's id; 0: not so), for `radlink status` */
    uint64_t no_commit_job[RL_MAX_PACS];
};

/* A new lease: attempt `attempt` of job jid runs on worker w (memory only;
 * without memory the attempt has no lease, see dispatch.c). */
void dispatch_add_lease(dispatcher *d, uint64_t jid, uint32_t attempt, int w);
/* Read what sock has (a ROUTER, or the ZAP handler) until ZeroMQ says no more. */
void dispatch_drain(dispatcher *d, void *sock);
/* The credit of all connected workers together. */
int dispatch_credit(const dispatcher *d);

#endif
