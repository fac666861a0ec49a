/* The engine process's own parts (serve.c, turn.c, workers.c): not a module
 * face, only what those files share. See radlink/serve.h and DESIGN.md
 * ("Processes and threads") for the picture. */
#ifndef RADLINK_ENGINE_H
#define RADLINK_ENGINE_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "radlink/audit_ship.h"
#include "radlink/cfg.h"
#include "radlink/cmd.h"
#include "radlink/ctlsock.h"
#include "radlink/dicom.h"
#include "radlink/dispatch.h"
#include "radlink/forward.h"
#include "radlink/http.h"
#include "radlink/metrics.h"
#include "radlink/ingest.h"
#include "radlink/limits.h"
#include "radlink/loop.h"
#include "radlink/mllp.h"
#include "radlink/receive.h"
#include "radlink/report.h"
#include "radlink/store.h"

/* One frame received during the current turn, and its outcome. */
typedef struct pending {
    uint64_t conn;
    ingest_kind kind;
    char peer[RL_PEER_TEXT_MAX];
    char listener[RL_LISTENER_TEXT_MAX];
    char why[RL_FRAME_WHY_MAX];
    rl_str raw; /* in the turn's arena */
    int64_t recv_us;
    rl_buf ack;        /* the answer, once ingested */
    ingest_result res; /* what ingest decided */
} pending;

/* A control request waiting for the turn (store verbs) or for the reload. */
typedef struct ctl_req {
    uint64_t conn;
    int argc;
    char **argv;   /* one malloc'd block */
    int status;
    rl_buf out;
} ctl_req;

/* Local worker processes, started and supervised by the engine (workers.c). */
typedef struct workers workers;
workers *workers_new(unsigned n, const char *endpoint, const char *ae_title);
void workers_start(workers *w);
/* SIGCHLD came: reap, and schedule restarts with backoff; ended(ctx, pid)
 * hears of each worker that ended. */
void workers_reap(workers *w, void (*ended)(void *ctx, long pid), void *ctx);
/* Restart what is due; the next time something is (rl_mono_ms), or -1. */
void workers_tick(workers *w);
int64_t workers_deadline_ms(const workers *w);
void workers_status(const workers *w, rl_buf *out);
/* Local worker processes running now. */
unsigned workers_alive(const workers *w);
/* SIGTERM each, wait (bounded), SIGKILL the rest, free. */
void workers_free(workers *w);

typedef struct engine {
    const cfg *cfg;
    loop *l;
    store *st;
    cmdq *q;
    mllp_server *srv;
    ctlsock_server *ctl;
    ingest ing;
    route_set *routes;  /* the active set; replaced whole between two turns */
    /* its file ("": the built-in routes/default.xml): the configuration's,
     * until `routes reload FILE` switches it (until the engine restarts) */
    char routes_file[RL_CFG_PATH_MAX];
    char reload_file[RL_CFG_PATH_MAX]; /* the file the running load reads */
    forwarder *fwd;
    /* the PACS that get the modalities' MPPS (<pacs mpps="true">): senders
     * beside the route file's destinations */
    route_dest mpps_dests[RL_MAX_PACS];
    size_t n_mpps_dests;
    dicom_scp *dicom;
    receiver recv;
    dispatcher *jobs;
    workers *wk;
    audit_shipper *ship; /* NULL: no collector configured */
    struct alert_runner *alerts; /* NULL: no <alerts> rules */
    http_server *http;   /* NULL: no HTTP listener */
    struct web *web;     /* what its threads share (engine/web) */
    /* /metrics: messages committed by listener, type and outcome (a
     * sender inventing types fills at most RL_METRICS_MSG_SERIES series),
     * and the time from a frame's arrival to its ACK */
    struct msg_series *series;
    size_t nseries;
    metrics_hist ack_h;
    metrics_hist commit_h; /* a turn's store commit: LMDB's page writes and syncs */
    int sig_fd;
    int stop_signal;
    bool reload_signal;
    /* a reload reads and compiles the route file on a thread of its own (a
     * large or slow file never stalls ACKs); the loop swaps the result in
     * between two turns. reload_for: the first requests of reloads that the
     * running load answers (the later ones asked after it read the file) */
    bool reloading;
    pthread_t reload_th;
    size_t reload_for;
    struct cmd *reload_done;
    /* the ports the listeners bound (the system picks those given as auto) */
    unsigned mllp_port[RL_MAX_LISTENERS], dicom_port, http_port;
    /* serve --user: listening sockets bound before root was dropped (0: none) */
    int mllp_fd[RL_MAX_LISTENERS], dicom_fd, dicom_tls_fd;
    char data_abs[RL_CFG_PATH_MAX];
    char spool[RL_CFG_PATH_MAX + RL_PATH_SUFFIX_MAX];     /* DATA/spool */
    report_ctx report;    /* the report action's: the spool, and whether a PACS is set */
    char work_root[RL_CFG_PATH_MAX + RL_PATH_SUFFIX_MAX]; /* DATA/spool/work */
    int64_t started_us;
    int64_t takeover_us;  /* --standby: when the lock came (0: it was free at once) */
    /* the turn's inputs */
    pending *batch;
    size_t nbatch, cap;
    rl_arena arena;
    cmd *cmds, *cmds_tail;
    ctl_req *reqs;
    size_t nreqs, capreqs;
    ctl_req *reloads;  /* `routes reload` requests: answered after the reload */
    size_t nreloads, capreloads;
    size_t answered_last; /* connections answered in the last turn: their next
                           * message is likely on its way (see gather) */
    /* counters */
    uint64_t counts[MSGLOG_STATUS_SLOTS]; /* committed messages by msglog_status */
    uint64_t tolerated[INGEST_TOL_COUNT]; /* committed messages accepted with each irregularity */
    uint64_t turns, commits, commit_failures, instances;
    int64_t commit_fail_logged_ms;  /* when a failed commit was last logged */
    uint64_t commit_fail_unlogged;  /* failed commits since, not logged one by one */
    int lock_fd;
    int64_t retention_next_ms; /* the next retention pass (monotonic) */
    unsigned long retained[RL_RETENTION_KINDS]; /* removed: messages, worklist, jobs, studies,
                                                 * instances, audit */
    int64_t watchdog_ms, watchdog_next_ms; /* systemd's watchdog: fed every watchdog_ms */
    int64_t grow_check_ms;     /* the next look at the map's room (monotonic) */
    bool store_full;           /* a turn found the map full: grow now */
    uint64_t map_grown;        /* times the map grew */
    int64_t reader_check_ms;   /* the next check for dead readers' slots (monotonic) */
    uint64_t readers_cleared;  /* slots of dead readers cleared since start */
    /* the file drop (inbox.c) */
    int inbox_fd;          /* inotify, or -1 */
    bool inbox_due;        /* look now */
    int64_t inbox_next_ms; /* the next periodic look (monotonic) */
} engine;

/* The file drop <inbox dir poll> (inbox.c): every file dropped there goes
 * through ingest like a received frame, then to done/ or error/ with a
 * report. start makes done/ and error/ and watches the directory; tick takes
 * what is ready (a file per transaction); deadline says when to look next. */
int inbox_start(engine *e, rl_err *err);
void inbox_stop(engine *e);
void inbox_tick(engine *e);
int64_t inbox_deadline_ms(const engine *e);

/* Audit events the loop records itself, each committed at once
 * (audit_serve.c). */
struct audit_event;
void engine_audit(engine *e, const struct audit_event *ev);
void engine_audit_app(engine *e, bool start);
/* A security alert (type: an audit_type) about peer ("ip:port", or "") or
 * user, stored in the next turn (audit_alert_cmd: limited to a rate). */
void engine_audit_alert(engine *e, int type, const char *peer, const char *user,
                        const char *what);
/* The route file reloaded (ok) or refused: a configuration change. */
void engine_audit_config(engine *e, const char *file, bool ok, const char *text);

/* The composition (start.c): everything the engine serves with, started in
 * order; 0, or a code with err. engine_stop undoes what was started. */
int engine_start(engine *e, rl_err *err);
void engine_stop(engine *e);
/* serve --user (user.c): bind the listeners as root, then become the user. */
int engine_become_user(engine *e, const cfg *c, rl_err *err);
/* Between two turns (ticks.c): the parts' timeouts and due work, the map's
 * growth, retention, stale readers, the watchdog, a reload. */
void engine_after_turn(engine *e);
/* One retention pass now, in its own transaction, the spool files of what
 * it removed unlinked after the commit, the counts added (ticks.c). */
struct retention_result;
int engine_retention_pass(engine *e, struct retention_result *r, rl_err *err);
/* `radlink retention run`: passes until nothing is left; what went, in out. */
int engine_retention_run(engine *e, rl_buf *out);
/* Reloads (reload.c): swap in what the reload thread read and start a load
 * that was asked for; at stop, drop a load under way and answer who waits. */
void engine_reload_tick(engine *e);
void engine_reload_stop(engine *e);
/* Facts for `radlink status` in the store's meta database (key, value pairs). */
void engine_put_meta(engine *e, const char *const *kv, size_t n);
/* The configured route file, or the built-in one. */
int engine_load_routes(const cfg *c, const char *file, route_set **out, rl_buf *errors);
/* The running routes made known: meta database, senders, warnings. */
void engine_publish_routes(engine *e, const char *status);
/* <pacs mpps="true">: a sender per PACS, its queue "mpps:AE". */
void engine_mpps_dests(engine *e);

/* ---- the turn's inputs ---- */

/* One transaction of a turn: which frames, whether everything else too, and
 * what its sources tell each other. */
typedef struct turn_ctx {
    size_t first, n;   /* frames [first, first + n) */
    bool rest;         /* commands, requests and job outcomes too */
    int64_t now_us;
    struct cmd *cmds;  /* the commands taken for this transaction */
    unsigned forwarded;/* messages queued for destinations */
    bool kick;         /* wake the senders after the commit */
    size_t answered;   /* distinct connections answered */
    bool filed;        /* an instance was filed in the spool: it is synced before the commit */
    /* after the commit */
    bool ok;
    int rc;            /* the transaction's code when it failed */
    const char *why;
} turn_ctx;

/* A source of inputs of the turn: apply them in its transaction (a code
 * other than STORE_OK fails the whole turn), then finish them once it is
 * committed (tc->ok) or not. */
typedef struct input_source {
    const char *name;
    int (*apply)(struct engine *e, store_txn *t, turn_ctx *tc, rl_err *err);
    void (*finish)(struct engine *e, turn_ctx *tc);
} input_source;

extern const input_source engine_frames;   /* frames.c */
extern const input_source engine_commands; /* commands.c */
extern const input_source engine_requests; /* requests.c */

/* MLLP events: a frame into the turn's batch (frames.c). */
void engine_on_mllp(void *ctx, mllp_event ev, const mllp_peer *peer, rl_str data,
                    const char *why);

/* One turn: apply everything that arrived in one write transaction, commit,
 * answer (turn.c). Does nothing when nothing arrived. */
void engine_turn(engine *e);
/* Answer a control request that needs no transaction (status), or queue it. */
void engine_on_ctl(void *ctx, uint64_t conn, int argc, char **argv);
/* Load the route file again; a valid one replaces the running set. Returns 0
 * or 1 with every error in out (when out is not NULL). */
int engine_reload(engine *e, rl_buf *out);
/* The words of `radlink status` that only the running engine knows
 * (returns 0, the control reply's status). */
int engine_status(engine *e, rl_buf *out);

/* engine/web: the HTTP listener's part of the engine. */
/* Start the listener of <http> (none when its port is 0) / stop it. */
int engine_web_start(engine *e, rl_err *err);
void engine_web_stop(engine *e);
/* The engine is serving (listeners up, routes loaded) / stopping. */
void engine_web_ready(engine *e, bool ready);
/* Loop: count n messages of a frame received on listener with type
 * (ingest_result.type) and outcome (a msglog_status). */
void engine_count_messages(engine *e, const char *listener, const char *type, int status,
                           unsigned n);
/* Loop: the control verbs the listener asks the loop: `metrics` (what only
 * the loop knows, in Prometheus text), `health` (status 0 when serving),
 * `destinations` (every destination's name, one per line). */
int engine_metrics(engine *e, rl_buf *out);
int engine_health(engine *e, rl_buf *out);
int engine_destinations(engine *e, rl_buf *out);
/* Loop: `facts`, what only the loop knows for the alert rules ("key value"
 * lines, radlink/alert.h alert_facts_loop reads them). */
int engine_facts(engine *e, rl_buf *out);

/* One listener's pressure, for `radlink status` and /metrics: the MLLP
 * listeners together, each DICOM port, the HTTP listener. */
typedef struct listener_row {
    const char *name;      /* "mllp", "dicom", "dicom-tls", "http" */
    unsigned unidentified; /* connections that have not identified themselves */
    unsigned open, max;    /* MLLP: connections open of max-connections; others: waiting */
    bool pressure;
    unsigned long evicted, stress_closed, denied;
} listener_row;

/* The rows of the listeners running (at most RL_LISTENER_ROWS). */
#define RL_LISTENER_ROWS 4
unsigned engine_listener_rows(engine *e, listener_row *rows);

#endif
