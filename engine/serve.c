/* radlink serve: the engine process. One event-loop thread owns the MLLP
 * sockets and the HL7 write path. Each loop turn collects every frame that
 * arrived, applies them all in ONE write transaction, commits (fsync), and
 * only then sends their ACKs: group commit, durable ACKs, arrival order kept.
 * Signal handlers only set flags; the loop acts on them. */
#include "radlink/serve.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "radlink/dicom.h"
#include "radlink/digest.h"
#include "radlink/dispatch.h"
#include "radlink/forward.h"
#include "radlink/receive.h"
#include "radlink/recon.h"
#include "radlink/ingest.h"
#include "radlink/log.h"
#include "radlink/loop.h"
#include "radlink/mllp.h"
#include "radlink/store.h"
#include "radlink/version.h"
#include "radlink/wl_hook.h"

#define SHUTDOWN_FLUSH_MS 5000

static volatile sig_atomic_t stop_signal, reload_signal;

static void on_stop(int sig)
{
    stop_signal = sig;
}

static void on_hup(int sig)
{
    (void)sig;
    reload_signal = 1;
}

/* One frame received during the current loop turn. */
typedef struct pending {
    uint64_t conn;
    ingest_kind kind;
    char peer[64];
    char listener[80];
    char why[96];
    rl_str raw; /* in the batch arena */
    int64_t recv_us;
} pending;

typedef struct engine {
    const cfg *cfg;
    loop *l;
    store *st;
    mllp_server *srv;
    ingest ing;
    route_set *routes;  /* the active set; replaced whole between two batches */
    forwarder *fwd;
    dicom_scp *dicom;
    receiver recv;
    dispatcher *jobs;
    char jobs_endpoint[700];
    pid_t wpid[64];
    int64_t wrestart_ms[64];
    int wbackoff_ms[64];
    uint64_t counts[5]; /* committed messages by msglog_status */
    pending *batch;
    size_t nbatch, cap;
    rl_arena arena;
    uint64_t batches, batched_msgs, commit_failures;
    int lock_fd;
} engine;

static void on_mllp(void *ctx, mllp_event ev, const mllp_peer *peer, rl_str data, const char *why)
{
    engine *e = ctx;
    if (e->nbatch == e->cap) {
        size_t cap = e->cap ? e->cap * 2 : 64;
        pending *b = realloc(e->batch, cap * sizeof *b);
        if (!b) {
            log_error("serve.nomem", "conn=%llu dropped_frame_bytes=%zu",
                      (unsigned long long)peer->conn, data.n);
            mllp_server_close(e->srv, peer->conn, false);
            return;
        }
        e->batch = b;
        e->cap = cap;
    }
    char *copy = rl_arena_alloc(&e->arena, data.n ? data.n : 1);
    if (!copy) {
        log_error("serve.nomem", "conn=%llu dropped_frame_bytes=%zu",
                  (unsigned long long)peer->conn, data.n);
        mllp_server_close(e->srv, peer->conn, false);
        return;
    }
    memcpy(copy, data.p, data.n);
    pending *p = &e->batch[e->nbatch++];
    p->conn = peer->conn;
    p->kind = ev == MLLP_EV_FRAME ? INGEST_FRAME
              : ev == MLLP_EV_OVERSIZE ? INGEST_OVERSIZE
                                       : INGEST_INCOMPLETE;
    snprintf(p->peer, sizeof p->peer, "%s", peer->addr);
    snprintf(p->listener, sizeof p->listener, "%s", peer->listener);
    snprintf(p->why, sizeof p->why, "%s", why ? why : "");
    p->raw = (rl_str){ copy, data.n };
    p->recv_us = rl_now_us();
}

/* Apply frames [first, first + n) in one transaction, commit, then answer. */
static void process_range(engine *e, size_t first, size_t n)
{
    rl_buf *acks = calloc(n, sizeof *acks);
    bool *close_after = calloc(n, sizeof *close_after);
    msglog_status *status = calloc(n, sizeof *status);
    rl_err err;
    int rc = acks && close_after && status ? STORE_OK : rl_err_set(&err, STORE_E_IO, -1, "out of memory");
    for (size_t i = 0; acks && i < n; i++)
        rl_buf_init(&acks[i], 0);
    store_txn *t = NULL;
    if (rc == STORE_OK)
        rc = store_begin(e->st, NULL, true, &t, &err);
    unsigned forwarded = 0;
    for (size_t i = 0; rc == STORE_OK && i < n; i++) {
        pending *p = &e->batch[first + i];
        ingest_input in = { p->kind, p->raw, p->peer, p->listener, p->why, p->recv_us };
        ingest_result res = { .ack = &acks[i] };
        rc = ingest_one(&e->ing, t, &in, &res, &err);
        close_after[i] = res.close_after;
        status[i] = res.status;
        forwarded += res.forwarded;
    }
    if (t)
        rc = rc == STORE_OK ? store_commit(t, &err) : (store_abort(t), rc);
    if (rc == STORE_OK) {
        for (size_t i = 0; i < n; i++)
            e->counts[status[i]]++;
        if (forwarded)
            forwarder_kick(e->fwd);
    }
    if (rc != STORE_OK) {
        /* Nothing of this turn is stored: refuse every message with AR so the
         * senders try again later. What was stored before is untouched. */
        e->commit_failures++;
        log_error("store.commit_failed", "messages=%zu error=\"%s\"", n, err.msg);
        char text[480];
        snprintf(text, sizeof text, "message not stored, try again later: %s", err.msg);
        for (size_t i = 0; acks && i < n; i++) {
            rl_buf_reset(&acks[i]);
            if (e->batch[first + i].kind != INGEST_INCOMPLETE)
                ingest_refusal(&e->ing, e->batch[first + i].raw, text, &acks[i]);
        }
    }
    e->batches++;
    e->batched_msgs += n;
    for (size_t i = 0; i < n; i++) {
        if (acks && acks[i].len)
            mllp_server_reply(e->srv, e->batch[first + i].conn, rl_buf_view(&acks[i]));
        if (!acks || (close_after && close_after[i]))
            mllp_server_close(e->srv, e->batch[first + i].conn, true);
        if (acks)
            rl_buf_free(&acks[i]);
    }
    free(acks);
    free(close_after);
    free(status);
}

/* Group commit: the whole turn in one transaction. Without it (a setting for
 * measuring what group commit buys) every message commits on its own. */
static void process_batch(engine *e)
{
    if (e->cfg->group_commit)
        process_range(e, 0, e->nbatch);
    else
        for (size_t i = 0; i < e->nbatch; i++)
            process_range(e, i, 1);
    e->nbatch = 0;
    rl_arena_reset(&e->arena);
}

/* One engine per data directory: a second one would fight over the store. */
static int lock_data_dir(engine *e, rl_err *err)
{
    char path[CFG_PATH + 32];
    snprintf(path, sizeof path, "%s/serve.lock", e->cfg->data_dir);
    e->lock_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0640);
    if (e->lock_fd < 0)
        return rl_err_set(err, -1, -1, "%s: %s", path, strerror(errno));
    if (flock(e->lock_fd, LOCK_EX | LOCK_NB) != 0) {
        char pid[32] = "";
        ssize_t n = pread(e->lock_fd, pid, sizeof pid - 1, 0);
        pid[n > 0 ? n : 0] = '\0';
        pid[strcspn(pid, "\n")] = '\0';
        return rl_err_set(err, -1, -1, "data directory %s is in use by another radlink serve "
                          "(pid %s)", e->cfg->data_dir, pid[0] ? pid : "?");
    }
    char pid[32];
    int n = snprintf(pid, sizeof pid, "%ld\n", (long)getpid());
    if (ftruncate(e->lock_fd, 0) != 0 || pwrite(e->lock_fd, pid, (size_t)n, 0) != n)
        log_warn("serve.lock", "path=%s error=\"cannot record pid\"", path);
    return 0;
}

/* Facts about the running engine for `radlink status`, in the store's meta
 * database: key -> text. */
static void put_meta(engine *e, const char *const *kv, size_t n)
{
    store_txn *t;
    rl_err err;
    int rc = store_begin(e->st, NULL, true, &t, &err);
    for (size_t i = 0; rc == STORE_OK && i + 1 < n; i += 2)
        rc = store_put(t, STORE_META, rl_str_c(kv[i]), rl_str_c(kv[i + 1]), 0, &err);
    if (t)
        rc = rc == STORE_OK ? store_commit(t, &err) : (store_abort(t), rc);
    if (rc != STORE_OK)
        log_warn("serve.meta", "error=\"%s\"", err.msg);
}

/* Load the configured route file (or the built-in default). */
static int load_routes(const cfg *c, route_set **out, rl_buf *errors)
{
    route_load_opts o = { .extra_dests = c->dests, .n_extra_dests = c->n_dests };
    return c->routes_file[0] ? route_load(c->routes_file, &o, out, errors)
                             : route_load_default(&o, out, errors);
}

static void publish_routes(engine *e, const char *status)
{
    char when[32], count[32], abs[4096];
    const char *file = route_source(e->routes);
    if (e->cfg->routes_file[0] && realpath(file, abs))
        file = abs; /* so that `radlink msg replay` finds it from anywhere */
    snprintf(when, sizeof when, "%lld", (long long)rl_now_us());
    snprintf(count, sizeof count, "%zu", route_count(e->routes));
    const char *kv[] = { "routes.file", file, "routes.sha256",
                         route_sha256(e->routes), "routes.loaded_us", when, "routes.count", count,
                         "routes.reload", status };
    put_meta(e, kv, sizeof kv / sizeof *kv);
    /* the text itself, so that `radlink msg replay` runs exactly these routes */
    store_txn *t;
    rl_err err;
    if (store_begin(e->st, NULL, true, &t, &err) == STORE_OK) {
        if (store_put(t, STORE_META, RL_STR("routes.text"), route_text(e->routes), 0, &err) ==
            STORE_OK)
            store_commit(t, &err);
        else
            store_abort(t);
    }
    for (int k = 0; k < ROUTE_HOOK_COUNT; k++)
        if (route_hook_line(e->routes, (route_hook_kind)k) && !engine_hook((route_hook_kind)k))
            log_warn("routes.unavailable", "file=%s line=%d action=%s text=\"every message that "
                     "reaches it gets AE\"", route_source(e->routes),
                     route_hook_line(e->routes, (route_hook_kind)k),
                     route_hook_name((route_hook_kind)k));
    size_t nd;
    const route_dest *d = route_dests(e->routes, &nd);
    forwarder_set(e->fwd, d, nd);
}

/* SIGHUP: load the file anew; a valid file replaces the running set between
 * two batches, an invalid one leaves it running and the errors are logged. */
static void reload_routes(engine *e)
{
    rl_buf errors;
    rl_buf_init(&errors, 64 * 1024);
    route_set *rs = NULL;
    char status[4000];
    if (load_routes(e->cfg, &rs, &errors) != ROUTE_OK) {
        rl_buf_cstr(&errors);
        /* every error, one per line, for `radlink routes reload` and status */
        snprintf(status, sizeof status, "failed %lld: %.3900s", (long long)rl_now_us(),
                 errors.data ? errors.data : "");
        size_t sl = strlen(status);
        while (sl && status[sl - 1] == '\n')
            status[--sl] = '\0';
        char *line = errors.data ? errors.data : "", *save = NULL;
        for (char *l = strtok_r(line, "\n", &save); l; l = strtok_r(NULL, "\n", &save))
            log_error("routes.reload_failed", "error=\"%s\"", l);
        const char *kv[] = { "routes.reload", status };
        put_meta(e, kv, 2);
        log_warn("routes.kept", "file=%s sha256=%s", route_source(e->routes),
                 route_sha256(e->routes));
    } else {
        route_set *old = e->routes;
        e->routes = rs;
        e->ing.routes = rs;
        route_free(old);
        snprintf(status, sizeof status, "ok %lld", (long long)rl_now_us());
        publish_routes(e, status);
        log_info("routes.reloaded", "file=%s sha256=%s routes=%zu", route_source(rs),
                 route_sha256(rs), route_count(rs));
    }
    rl_buf_free(&errors);
}

/* ---- local workers, supervised ---- */

extern char **environ;

static void spawn_worker(engine *e, unsigned i)
{
    char *argv[] = { "radlink", "worker", "--connect", e->jobs_endpoint, "--ae-title",
                     (char *)e->cfg->dicom_ae, NULL };
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid == 0) {
        /* Only async-signal-safe calls until exec. The worker holds none of
         * the engine's descriptors (DICOM and MLLP sockets, the store), and
         * dies with the engine, so a killed engine can start again at once. */
        close_range(3, ~0U, 0);
        prctl(PR_SET_PDEATHSIG, SIGTERM);
        if (getppid() != parent)
            _exit(0);
        execve("/proc/self/exe", argv, environ);
        _exit(127);
    }
    if (pid < 0) {
        log_error("jobs.worker_spawn", "error=\"%s\"", strerror(errno));
        e->wpid[i] = 0;
        e->wrestart_ms[i] = rl_mono_ms() + e->wbackoff_ms[i];
        return;
    }
    e->wpid[i] = pid;
    log_info("jobs.worker_started", "slot=%u pid=%ld", i, (long)pid);
}

/* Reap workers that died and start them again, with backoff (1 s doubling to
 * 1 min; a worker that ran a minute is forgiven). */
static void supervise(engine *e)
{
    int status;
    pid_t pid;
    while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
        for (unsigned i = 0; i < e->cfg->workers && i < 64; i++) {
            if (e->wpid[i] != pid)
                continue;
            e->wpid[i] = 0;
            e->wrestart_ms[i] = rl_mono_ms() + e->wbackoff_ms[i];
            log_warn("jobs.worker_died", "slot=%u pid=%ld %s=%d restart_in_ms=%d", i, (long)pid,
                     WIFSIGNALED(status) ? "signal" : "exit",
                     WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status),
                     e->wbackoff_ms[i]);
            e->wbackoff_ms[i] = e->wbackoff_ms[i] < 60000 ? e->wbackoff_ms[i] * 2 : 60000;
        }
    }
    for (unsigned i = 0; i < e->cfg->workers && i < 64; i++)
        if (!e->wpid[i] && rl_mono_ms() >= e->wrestart_ms[i])
            spawn_worker(e, i);
}

static void stop_workers(engine *e)
{
    for (unsigned i = 0; i < e->cfg->workers && i < 64; i++)
        if (e->wpid[i] > 0)
            kill(e->wpid[i], SIGTERM);
    int64_t deadline = rl_mono_ms() + 5000;
    for (unsigned i = 0; i < e->cfg->workers && i < 64; i++) {
        while (e->wpid[i] > 0) {
            int st;
            pid_t r = waitpid(e->wpid[i], &st, WNOHANG);
            if (r == e->wpid[i] || r < 0)
                e->wpid[i] = 0;
            else if (rl_mono_ms() > deadline) {
                kill(e->wpid[i], SIGKILL);
                waitpid(e->wpid[i], &st, 0);
                e->wpid[i] = 0;
            } else {
                usleep(20000);
            }
        }
    }
}

static int start_jobs(engine *e, rl_err *err)
{
    char abs[4096];
    if (!realpath(e->cfg->data_dir, abs))
        return rl_err_set(err, -1, -1, "%s: %s", e->cfg->data_dir, strerror(errno));
    dispatch_cfg dc = { .st = e->st, .n_pacs = e->cfg->n_pacs,
                        .max_attempts = e->cfg->job_attempts };
    if (strlen(abs) + 16 <= 100) { /* a unix socket path holds 107 bytes */
        snprintf(dc.endpoint, sizeof dc.endpoint, "ipc://%s/jobs.sock", abs);
    } else { /* a deep data directory: a short path named after it */
        char hex[65];
        digest_sha256_hex(abs, strlen(abs), hex);
        snprintf(dc.endpoint, sizeof dc.endpoint, "ipc:///tmp/radlink-%.16s.sock", hex);
    }
    snprintf(e->jobs_endpoint, sizeof e->jobs_endpoint, "%s", dc.endpoint);
    for (unsigned i = 0; i < e->cfg->n_pacs && i < DISPATCH_MAX_PACS; i++) {
        snprintf(dc.pacs[i].ae_title, sizeof dc.pacs[i].ae_title, "%s", e->cfg->pacs[i].ae);
        snprintf(dc.pacs[i].host, sizeof dc.pacs[i].host, "%s", e->cfg->pacs[i].host);
        dc.pacs[i].port = e->cfg->pacs[i].port;
    }
    snprintf(dc.tcp_endpoint, sizeof dc.tcp_endpoint, "%s", e->cfg->jobs_listen);
    if (e->cfg->jobs_key_file[0] &&
        keyfile_read(e->cfg->jobs_key_file, dc.public_key, dc.secret_key, err) != 0)
        return -1;
    for (unsigned i = 0; i < e->cfg->n_worker_keys && i < 32; i++)
        snprintf(dc.worker_keys[dc.n_worker_keys++], sizeof dc.worker_keys[0], "%s",
                 e->cfg->worker_keys[i]);
    char npacs[16];
    snprintf(npacs, sizeof npacs, "%u", e->cfg->n_pacs);
    const char *kv[] = { "engine.pacs", npacs };
    put_meta(e, kv, 2);
    if (!(e->jobs = dispatcher_start(&dc, err)))
        return -1;
    for (unsigned i = 0; i < e->cfg->workers && i < 64; i++) {
        e->wbackoff_ms[i] = 1000;
        spawn_worker(e, i);
    }
    return 0;
}

static int start(engine *e, rl_err *err)
{
    if (mkdir(e->cfg->data_dir, 0750) != 0 && errno != EEXIST)
        return rl_err_set(err, -1, -1, "%s: %s", e->cfg->data_dir, strerror(errno));
    if (lock_data_dir(e, err) != 0)
        return -1;
    store_opts so = { .map_size = e->cfg->map_size_mb << 20, .readonly = false };
    if (store_open(e->cfg->data_dir, &so, &e->st, err) != STORE_OK)
        return -1;
    if (!(e->l = loop_new()))
        return rl_err_set(err, -1, -1, "cannot create the event loop: %s", strerror(errno));
    ingest_cfg ic = { .dedup_window_us = (int64_t)e->cfg->dedup_window_s * 1000000,
                      .max_frame = e->cfg->max_frame };
    ingest_init(&e->ing, &ic);
    rl_arena_init(&e->arena, 1 << 20, 0);

    rl_buf errors;
    rl_buf_init(&errors, 64 * 1024);
    if (load_routes(e->cfg, &e->routes, &errors) != ROUTE_OK) {
        rl_buf_cstr(&errors);
        fprintf(stderr, "%s", errors.data ? errors.data : "");
        rl_err_set(err, -1, -1, "the route file %s has errors (listed above)",
                   e->cfg->routes_file[0] ? e->cfg->routes_file : "(built in)");
        rl_buf_free(&errors);
        return -1;
    }
    rl_buf_free(&errors);
    e->ing.routes = e->routes;
    for (int k = 0; k < ROUTE_HOOK_COUNT; k++)
        e->ing.hooks[k] = engine_hook((route_hook_kind)k);
    if (!(e->fwd = forwarder_new(e->st)))
        return rl_err_set(err, -1, -1, "out of memory");
    char pid[32], started[32], conf[4096];
    const char *conf_path = e->cfg->source;
    if (strcmp(conf_path, "embedded default") != 0 && realpath(conf_path, conf))
        conf_path = conf;
    snprintf(pid, sizeof pid, "%ld", (long)getpid());
    snprintf(started, sizeof started, "%lld", (long long)rl_now_us());
    const char *kv[] = { "engine.pid", pid, "engine.started_us", started, "engine.config",
                         conf_path };
    put_meta(e, kv, sizeof kv / sizeof *kv);
    publish_routes(e, "ok (at start)");
    log_info("routes.loaded", "file=%s sha256=%s routes=%zu", route_source(e->routes),
             route_sha256(e->routes), route_count(e->routes));

    mllp_listen ls[CFG_MAX_LISTENERS];
    mllp_tls_opts tls[CFG_MAX_LISTENERS];
    for (unsigned i = 0; i < e->cfg->n_mllp; i++) {
        const cfg_listener *cl = &e->cfg->mllp[i];
        tls[i] = (mllp_tls_opts){ .cert = cl->cert, .key = cl->key,
                                  .ca = cl->ca[0] ? cl->ca : NULL,
                                  .verify_peer = cl->verify_client };
        ls[i] = (mllp_listen){ cl->bind, cl->port, cl->tls ? &tls[i] : NULL };
    }
    if (e->cfg->dicom_port) {
        dicom_scp_cfg dc = { .port = e->cfg->dicom_port,
                             .max_associations = e->cfg->dicom_max_associations,
                             .max_responses = e->cfg->dicom_max_responses,
                             .dimse_timeout_s = e->cfg->dicom_timeout_s,
                             .icase_names = e->cfg->dicom_icase_names, .st = e->st };
        snprintf(dc.ae_title, sizeof dc.ae_title, "%s", e->cfg->dicom_ae);
        /* storage: DATA/spool, temporary files in DATA/spool/incoming */
        char spool[CFG_PATH + 16];
        snprintf(spool, sizeof spool, "%s/spool", e->cfg->data_dir);
        if (mkdir(spool, 0750) != 0 && errno != EEXIST)
            return rl_err_set(err, -1, -1, "%s: %s", spool, strerror(errno));
        e->recv = (receiver){ .st = e->st, .refuse_duplicates = e->cfg->dicom_refuse_duplicates,
                              .after_store = recon_after_store };
        if (!realpath(spool, e->recv.spool))
            return rl_err_set(err, -1, -1, "%s: %s", spool, strerror(errno));
        if (strlen(e->recv.spool) + 10 > sizeof dc.incoming_dir)
            return rl_err_set(err, -1, -1, "%s: path too long", e->recv.spool);
        snprintf(dc.incoming_dir, sizeof dc.incoming_dir, "%.*s/incoming",
                 (int)(sizeof dc.incoming_dir - 10), e->recv.spool);
        if (mkdir(dc.incoming_dir, 0750) != 0 && errno != EEXIST)
            return rl_err_set(err, -1, -1, "%s: %s", dc.incoming_dir, strerror(errno));
        dc.on_instance = study_receive;
        dc.ctx = &e->recv;
        for (unsigned i = 0; i < e->cfg->n_dicom_allowed && i < DICOM_MAX_ALLOWED; i++)
            snprintf(dc.allowed[dc.n_allowed++], sizeof dc.allowed[0], "%s",
                     e->cfg->dicom_allowed[i]);
        if (dicom_scp_start(&dc, &e->dicom, err) != 0)
            return -1;
    }
    if (start_jobs(e, err) != 0)
        return -1;
    mllp_server_cfg sc = { ls, e->cfg->n_mllp, e->cfg->max_frame, e->cfg->max_connections,
                           e->cfg->idle_timeout_s, e->cfg->read_timeout_s };
    if (mllp_server_new(e->l, &sc, on_mllp, e, &e->srv, err) != 0)
        return -1;
    return 0;
}

static void stop(engine *e)
{
    stop_workers(e);
    dispatcher_stop(e->jobs);
    dicom_scp_stop(e->dicom);
    forwarder_free(e->fwd);
    route_free(e->routes);
    mllp_server_free(e->srv);
    loop_free(e->l);
    ingest_free(&e->ing);
    store_close(e->st);
    rl_arena_free(&e->arena);
    free(e->batch);
    if (e->lock_fd >= 0)
        close(e->lock_fd);
}

int serve_run(const cfg *c)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_stop;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sa.sa_handler = on_hup;
    sigaction(SIGHUP, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);

    printf("radlink %s\n", RADLINK_VERSION);
    cfg_print(c, stdout);
    fflush(stdout);

    engine e = { .cfg = c, .lock_fd = -1 };
    rl_err err;
    if (start(&e, &err) != 0) {
        log_error("serve.start_failed", "error=\"%s\"", err.msg);
        fprintf(stderr, "radlink serve: %s\n", err.msg);
        stop(&e);
        return 1;
    }
    log_info("serve.start", "version=%s config=%s data=%s", RADLINK_VERSION, c->source,
             c->data_dir);

    while (!stop_signal) {
        if (loop_run_once(e.l, 1000) < 0) {
            log_error("serve.loop", "error=\"%s\"", strerror(errno));
            break;
        }
        if (e.nbatch)
            process_batch(&e);
        if (reload_signal) { /* between two batches: no message sees two sets */
            reload_signal = 0;
            reload_routes(&e);
        }
        mllp_server_tick(e.srv);
        supervise(&e);
    }

    /* Clean shutdown: accept nothing new, answer what was read, write it out. */
    log_info("serve.stopping", "signal=%s", stop_signal == SIGINT ? "SIGINT" : "SIGTERM");
    mllp_server_stop_listening(e.srv);
    if (e.nbatch)
        process_batch(&e);
    int64_t deadline = rl_mono_ms() + SHUTDOWN_FLUSH_MS;
    while (mllp_server_pending(e.srv) && rl_mono_ms() < deadline) {
        loop_run_once(e.l, 100);
        if (e.nbatch) /* frames read while flushing are answered too */
            process_batch(&e);
    }
    mllp_stats ms;
    mllp_server_stats(e.srv, &ms);
    log_info("serve.stop", "accepted=%llu errors=%llu rejected=%llu duplicates=%llu "
             "batches=%llu connections=%llu junk_bytes=%llu",
             (unsigned long long)e.counts[MSG_ACCEPTED],
             (unsigned long long)e.counts[MSG_ERROR],
             (unsigned long long)e.counts[MSG_REJECTED],
             (unsigned long long)e.counts[MSG_DUPLICATE], (unsigned long long)e.batches,
             (unsigned long long)ms.accepted, (unsigned long long)ms.junk_bytes);
    stop(&e);
    return 0;
}
