/* The job dispatcher (engine/job/dispatch.c), run by the engine's loop; the
 * worker process it talks to is radlink/worker.h. Jobs are records in LMDB
 * (radlink/job.h) before anything is sent; ZeroMQ only carries them.
 *
 * The ZeroMQ Guide's load-balancing pattern with heartbeats. ROUTER in the
 * engine, DEALER in each worker. Frames after the ROUTER identity and an
 * empty delimiter:
 *   worker -> engine   READY credit name        (again after every job)
 *                      HEARTBEAT [ID.ATTEMPT...] every RL_HEARTBEAT_MS, naming
 *                                                the attempts it works on (none:
 *                                                it is idle, and may take one)
 *                      DONE id attempt result
 *                      FAIL id attempt reason
 *   engine -> worker   JOB message               (radlink/job_msg.h)
 *                      HEARTBEAT
 * A worker gets at most its credit (capped at RL_WORKER_CREDIT_MAX) of
 * attempts. An attempt's lease lives while the worker's heartbeats name it;
 * a worker silent for <jobs worker-timeout> seconds is lost with its
 * attempts, which fail and are retried. The dispatcher never opens a
 * transaction of its own: the loop hands it the turn's transaction.
 *
 * Threads: the dispatcher's functions are for the loop's thread only. */
#ifndef RADLINK_DISPATCH_H
#define RADLINK_DISPATCH_H

#include "radlink/dicom.h"
#include "radlink/job.h"
#include "radlink/limits.h"
#include "radlink/loop.h"
#include "radlink/store.h"

typedef struct dispatch_cfg {
    char endpoint[RL_JOBS_ENDPOINT_MAX]; /* ipc://... for the local workers */
    struct {
        char ae_title[RL_AE_TITLE_SIZE], host[RL_HOST_MAX];
        unsigned port;
        unsigned update, verify, reject, commit_timeout_s; /* radlink/job.h */
        unsigned associations; /* a study is sent over up to this many at once */
        dicom_tls tls; /* files on the worker's host */
        bool node;     /* a <node>: only what DICOM routes send it */
        bool get;      /* retrieve="get": priors are fetched from it with C-GET */
        unsigned query_timeout_s; /* each C-FIND answer or retrieve response */
        unsigned max_answers;     /* a patient's studies considered */
    } pacs[RL_MAX_PACS]; /* the DICOM nodes, <pacs> and <node> */
    size_t n_pacs;
    /* the site secret de-identification derives UIDs from (DATA/deid.key),
     * sent with the jobs whose DICOM route programs de-identify */
    uint8_t deid_secret[DICOM_DEID_SECRET_SIZE];
    unsigned max_attempts;       /* then a job is dead (default 5) */
    unsigned worker_timeout_s;   /* a worker silent this long is lost */
    char work_root[RL_DATA_PATH_MAX]; /* DATA/spool/work: the attempts' corrected copies */
    struct receiver *recv;       /* the DICOM listener's filing (NULL without one) */
    struct route_set *const *routes; /* the engine's routes, as reloads leave them (the
                                      * <prefetch> rules), or NULL */
    /* remote workers: a tcp endpoint; with a key pair, ZeroMQ CURVE and only
     * the listed worker public keys get in (Z85, 40 characters) */
    char tcp_endpoint[RL_JOB_TCP_ENDPOINT];
    char public_key[RL_CURVE_KEY_SIZE], secret_key[RL_CURVE_KEY_SIZE];
    char worker_keys[RL_WORKER_KEYS_MAX][RL_CURVE_KEY_SIZE];
    size_t n_worker_keys;
} dispatch_cfg;

typedef struct dispatcher dispatcher;

/* Bind the endpoints and watch them on l. */
dispatcher *dispatch_new(loop *l, const dispatch_cfg *cfg, rl_err *err);
void dispatch_free(dispatcher *d);

/* Whether the dispatcher has something for a write transaction now: outcomes
 * or lost attempts to record, or a due job and a worker with credit. */
bool dispatch_pending(const dispatcher *d, int64_t now_us);
/* In the turn's transaction t: record outcomes and lost attempts, start due
 * jobs while workers have credit. Every job is applied in a nested
 * transaction: one that cannot be applied is logged and left, the turn goes
 * on. Returns a store error only when t itself is unusable. */
int dispatch_apply(dispatcher *d, store_txn *t, int64_t now_us, rl_err *err);
/* After the turn: committed, send the started attempts and settle the
 * leases; not committed, forget the started attempts and keep the outcomes
 * for a later turn. */
void dispatch_after_commit(dispatcher *d, bool committed);
/* Heartbeats out, silent workers and expired leases found; call when
 * dispatch_deadline_ms has passed. */
void dispatch_tick(dispatcher *d);
/* The local worker with this pid ended (the engine reaped it): what it held
 * fails now and is retried, and it is no longer offered jobs. */
void dispatch_worker_ended(dispatcher *d, long pid);
/* The next time (rl_mono_ms) the dispatcher needs the loop, or -1. */
int64_t dispatch_deadline_ms(const dispatcher *d);
/* A PACS's storage commitment report (from the DICOM listener): passed on to
 * the worker that announced the transaction, or kept for it a while
 * (RL_COMMIT_REPORT_KEEP_S) when the report came first. */
void dispatch_commit_report(dispatcher *d, const char *txn_uid, const char *lines);
/* Workers and running attempts, one line each, for `radlink status`. */
void dispatch_status(const dispatcher *d, rl_buf *out);
/* Workers found silent (lost) since the engine started. */
unsigned long dispatch_lost_workers(const dispatcher *d);
/* Workers connected (local and remote) and jobs running on them. */
void dispatch_counts(const dispatcher *d, unsigned *workers, unsigned *running);

#endif
