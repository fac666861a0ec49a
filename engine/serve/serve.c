/* radlink serve: the engine process. Its loop thread owns every write
 * transaction of the store and wakes only on events: MLLP sockets, the
 * command queue (DICOM and sender threads), the ZeroMQ sockets of the job
 * dispatcher, the control socket, a signalfd, and the earliest deadline of
 * its parts (timeouts, retries, heartbeats, due jobs). Each wake ends with one
 * turn (turn.c). Signals are read from the signalfd; no handler runs. */
#include "radlink/serve.h"

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/signalfd.h>
#include <systemd/sd-daemon.h>
#include <sys/stat.h>
#include <unistd.h>

#include "engine.h"
#include "radlink/retention.h"
#include "radlink/audit.h"
#include "radlink/audit_post.h"
#include "radlink/job.h"
#include "radlink/keyfile.h"
#include "radlink/limits.h"
#include "radlink/log.h"
#include "radlink/mpps.h"
#include "radlink/recon.h"
#include "radlink/recon_job.h"
#include "radlink/version.h"
#include "radlink/wl_hook.h"

static void on_mllp(void *ctx, mllp_event ev, const mllp_peer *peer, rl_str data, const char *why)
{
    engine *e = ctx;
    if (ev == MLLP_EV_TLS_FAILED) {
        engine_audit_alert(e, AUDIT_T_NODE_AUTH, peer->addr, "", why ? why : "TLS failed");
        return;
    }
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

/* A user who may not control the engine tried to. */
static void on_ctl_refused(void *ctx, long uid, long pid)
{
    char user[64], what[160];
    snprintf(user, sizeof user, "uid %ld", uid);
    snprintf(what, sizeof what, "control request refused: uid %ld (pid %ld) may not change the "
             "engine's state", uid, pid);
    engine_audit_alert(ctx, AUDIT_T_RESTRICTED_FUNCTION, "", user, what);
}

/* Commands from other threads: appended to the turn's list. */
static void on_cmds(loop *l, int fd, unsigned events, void *ctx)
{
    (void)l;
    (void)fd;
    (void)events;
    engine *e = ctx;
    cmd *c = cmdq_take(e->q);
    if (!c)
        return;
    if (e->cmds_tail)
        e->cmds_tail->next = c;
    else
        e->cmds = c;
    while (c->next)
        c = c->next;
    e->cmds_tail = c;
}

static void on_signal(loop *l, int fd, unsigned events, void *ctx)
{
    (void)l;
    (void)events;
    engine *e = ctx;
    struct signalfd_siginfo si;
    while (read(fd, &si, sizeof si) == (ssize_t)sizeof si) {
        switch (si.ssi_signo) {
        case SIGINT:
        case SIGTERM:
            e->stop_signal = (int)si.ssi_signo;
            break;
        case SIGHUP:
            e->reload_signal = true;
            break;
        case SIGCHLD:
            workers_reap(e->wk);
            break;
        }
    }
}

/* One engine per data directory: a second one would fight over the store. */
static int lock_data_dir(engine *e, rl_err *err)
{
    char path[CFG_PATH + 32];
    snprintf(path, sizeof path, "%s/serve.lock", e->cfg->data_dir);
    e->lock_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0640);
    if (e->lock_fd < 0)
        return rl_err_set(err, RL_E_SYS, -1, "%s: %s", path, strerror(errno));
    /* a command changing the store directly holds it for a moment */
    int locked, tries = 0;
    while ((locked = flock(e->lock_fd, LOCK_EX | LOCK_NB)) != 0 && errno == EWOULDBLOCK &&
           ++tries <= RL_LOCK_WAIT_MS / 50)
        usleep(50 * 1000);
    if (locked != 0 && errno == EWOULDBLOCK && e->cfg->standby) {
        /* a standby: wait for the active engine to go (its lock goes with
         * its process, however it ends), then take its place */
        log_info("serve.standby", "data=%s text=\"another engine serves; waiting to take over\"",
                 e->cfg->data_dir);
        sd_notifyf(0, "STATUS=standing by: another engine serves %s", e->cfg->data_dir);
        while ((locked = flock(e->lock_fd, LOCK_EX | LOCK_NB)) != 0 && errno == EWOULDBLOCK) {
            struct signalfd_siginfo si;
            while (read(e->sig_fd, &si, sizeof si) == (ssize_t)sizeof si)
                if (si.ssi_signo == SIGINT || si.ssi_signo == SIGTERM) {
                    e->stop_signal = (int)si.ssi_signo;
                    return rl_err_set(err, STORE_E_BUSY, -1, "stopped while standing by");
                }
            usleep(RL_STANDBY_POLL_MS * 1000);
        }
        e->takeover_us = rl_now_us();
        log_warn("serve.takeover", "data=%s text=\"the active engine is gone: taking over\"",
                 e->cfg->data_dir);
    }
    if (locked != 0) {
        char pid[32] = "";
        ssize_t n = pread(e->lock_fd, pid, sizeof pid - 1, 0);
        pid[n > 0 ? n : 0] = '\0';
        pid[strcspn(pid, "\n")] = '\0';
        return rl_err_set(err, STORE_E_BUSY, -1, "data directory %s is in use by another radlink "
                          "serve (pid %s)", e->cfg->data_dir, pid[0] ? pid : "?");
    }
    char pid[32];
    int n = snprintf(pid, sizeof pid, "%ld\n", (long)getpid());
    if (ftruncate(e->lock_fd, 0) != 0 || pwrite(e->lock_fd, pid, (size_t)n, 0) != n)
        log_warn("serve.lock", "path=%s error=\"cannot record pid\"", path);
    return 0;
}

/* Facts about the running engine for `radlink status`, in the store's meta
 * database: key -> text. Written by the loop's thread, between turns. */
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
    if (e->cfg->routes_file[0] && rl_realpath(file, abs, sizeof abs))
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
    route_dest *all = calloc(nd + e->n_mpps_dests + 1, sizeof *all);
    if (!all) {
        log_error("forward.set", "error=\"out of memory\"");
        return;
    }
    memcpy(all, d, nd * sizeof *d);
    memcpy(all + nd, e->mpps_dests, e->n_mpps_dests * sizeof *all);
    forwarder_set(e->fwd, all, nd + e->n_mpps_dests);
    free(all);
}

/* <pacs mpps="true">: a sender per PACS, its queue "mpps:AE". */
static void make_mpps_dests(engine *e)
{
    e->n_mpps_dests = 0;
    for (unsigned i = 0; i < e->cfg->n_pacs; i++) {
        const cfg_pacs *p = &e->cfg->pacs[i];
        if (!p->mpps)
            continue;
        route_dest *d = &e->mpps_dests[e->n_mpps_dests++];
        memset(d, 0, sizeof *d);
        d->kind = ROUTE_DEST_MPPS;
        snprintf(d->name, sizeof d->name, "mpps:%s", p->ae);
        snprintf(d->host, sizeof d->host, "%s", p->host);
        d->port = p->port;
        snprintf(d->ae, sizeof d->ae, "%s", p->ae);
        snprintf(d->calling_ae, sizeof d->calling_ae, "%s", e->cfg->dicom_ae);
        d->ack_timeout_s = RL_MPPS_FORWARD_TIMEOUT_S;
        d->max_retry_delay_s = RL_MPPS_FORWARD_MAX_RETRY_S;
        d->tls = p->tls.on;
        snprintf(d->ca, sizeof d->ca, "%s", p->tls.ca);
        snprintf(d->cert, sizeof d->cert, "%s", p->tls.cert);
        snprintf(d->key, sizeof d->key, "%s", p->tls.key);
    }
}

/* Swap in a route set read by the reload thread (rs), or keep the running
 * one and say why (errors); the reply for `radlink routes reload` in out.
 * 0: reloaded, 1: refused. */
static int reload_apply(engine *e, route_set *rs, const char *errors, rl_buf *out)
{
    char status[4000];
    if (!rs) {
        /* every error, one per line, for `radlink routes reload` and status */
        snprintf(status, sizeof status, "failed %lld: %.3900s", (long long)rl_now_us(), errors);
        size_t sl = strlen(status);
        while (sl && status[sl - 1] == '\n')
            status[--sl] = '\0';
        for (const char *p = errors, *end = p + strlen(errors); p < end;) {
            const char *nl = memchr(p, '\n', (size_t)(end - p));
            size_t len = (size_t)((nl ? nl : end) - p);
            if (len)
                log_error("routes.reload_failed", "error=\"%.*s\"", (int)len, p);
            p = nl ? nl + 1 : end;
        }
        const char *kv[] = { "routes.reload", status };
        put_meta(e, kv, 2);
        engine_audit_config(e, e->cfg->routes_file[0] ? e->cfg->routes_file : "(built in)",
                            false, "route file reload refused: the running routes stay");
        log_warn("routes.kept", "file=%s sha256=%s", route_source(e->routes),
                 route_sha256(e->routes));
        if (out)
            rl_buf_printf(out, "reload failed, the running routes stay:\n%s", errors);
        return 1;
    }
    route_set *old = e->routes;
    e->routes = rs;
    e->ing.routes = rs;
    route_free(old);
    snprintf(status, sizeof status, "ok %lld", (long long)rl_now_us());
    publish_routes(e, status);
    char what[200];
    snprintf(what, sizeof what, "route file reloaded: sha256 %s", route_sha256(rs));
    engine_audit_config(e, route_source(rs), true, what);
    log_info("routes.reloaded", "file=%s sha256=%s routes=%zu", route_source(rs),
             route_sha256(rs), route_count(rs));
    if (out)
        rl_buf_printf(out, "reloaded (engine pid %ld): %s, %zu routes, sha256 %s\n",
                      (long)getpid(), route_source(rs), route_count(rs), route_sha256(rs));
    return 0;
}

int engine_reload(engine *e, rl_buf *out)
{
    rl_buf errors;
    rl_buf_init(&errors, 64 * 1024);
    route_set *rs = NULL;
    if (load_routes(e->cfg, &rs, &errors) != ROUTE_OK)
        rs = NULL;
    const char *et = rl_buf_cstr(&errors);
    int rc = reload_apply(e, rs, et ? et : "out of memory\n", out);
    rl_buf_free(&errors);
    return rc;
}

/* The reload thread: reads and compiles the route file (libxml2, the
 * schema, every regex) while the loop goes on answering, then hands the
 * result to the loop. Reads only e->cfg, which nobody changes. */
static void *reload_main(void *arg)
{
    cmd *c = arg; /* made by the loop: the result always reaches it */
    engine *e = c->u.routes.engine;
    rl_buf errors;
    rl_buf_init(&errors, 64 * 1024);
    route_set *rs = NULL;
    int64_t t0 = rl_now_us();
    if (load_routes(e->cfg, &rs, &errors) != ROUTE_OK)
        rs = NULL;
    log_debug("routes.loaded_off_loop", "ms=%lld", (long long)(rl_now_us() - t0) / 1000);
    const char *et = rl_buf_cstr(&errors);
    char *text = et ? strdup(et) : NULL; /* NULL: said as "out of memory" */
    rl_buf_free(&errors);
    c->u.routes.rs = rs;
    c->u.routes.errors = text;
    if (cmdq_post(e->q, c) != 0) { /* the engine stops: c is freed */
        route_free(rs);
        free(text);
    }
    return NULL;
}

/* Answer the first n `routes reload` requests; the later ones wait for the
 * next load. */
static void answer_reloads(engine *e, size_t n, int status, rl_str text)
{
    if (n > e->nreloads)
        n = e->nreloads;
    if (n == 0)
        return; /* reloads may be NULL: no arithmetic on it */
    for (size_t i = 0; i < n; i++) {
        ctlsock_reply(e->ctl, e->reloads[i].conn, status, text);
        free(e->reloads[i].argv);
        rl_buf_free(&e->reloads[i].out);
    }
    memmove(e->reloads, e->reloads + n, (e->nreloads - n) * sizeof *e->reloads);
    e->nreloads -= n;
}

/* Between turns: swap in what the reload thread read, and start a load
 * when one was asked for (SIGHUP, `radlink routes reload`). */
static void reload_tick(engine *e)
{
    if (e->reload_done) {
        cmd *c = e->reload_done;
        e->reload_done = NULL;
        pthread_join(e->reload_th, NULL);
        e->reloading = false;
        rl_buf out;
        rl_buf_init(&out, RL_CTL_REPLY_MAX - 64);
        int st = reload_apply(e, c->u.routes.rs,
                              c->u.routes.errors ? c->u.routes.errors : "out of memory\n", &out);
        free(c->u.routes.errors);
        cmdq_finish(e->q, c, 0, NULL);
        answer_reloads(e, e->reload_for, st, rl_buf_view(&out));
        rl_buf_free(&out);
    }
    if ((e->reload_signal || e->nreloads) && !e->reloading) {
        e->reload_signal = false;
        e->reload_for = e->nreloads;
        cmd *c = calloc(1, sizeof *c);
        if (c) {
            c->kind = CMD_ROUTES_LOADED;
            c->u.routes.engine = e;
        }
        if (c && pthread_create(&e->reload_th, NULL, reload_main, c) == 0) {
            e->reloading = true;
        } else { /* no thread: read it here, as before */
            free(c);
            rl_buf out;
            rl_buf_init(&out, RL_CTL_REPLY_MAX - 64);
            int st = engine_reload(e, &out);
            answer_reloads(e, e->reload_for, st, rl_buf_view(&out));
            rl_buf_free(&out);
        }
    }
}

/* At stop: wait for a running load and drop what it read. */
static void reload_stop(engine *e)
{
    if (e->reloading) {
        pthread_join(e->reload_th, NULL);
        e->reloading = false;
        cmd *c = cmdq_take(e->q);
        while (c) { /* what the last turns did not take */
            cmd *next = c->next;
            if (c->kind == CMD_ROUTES_LOADED && !e->reload_done)
                e->reload_done = c;
            else
                cmdq_finish(e->q, c, RL_E_ARG, "the engine is stopping");
            c = next;
        }
    }
    if (e->reload_done) {
        route_free(e->reload_done->u.routes.rs);
        free(e->reload_done->u.routes.errors);
        cmdq_finish(e->q, e->reload_done, 0, NULL);
        e->reload_done = NULL;
    }
    answer_reloads(e, e->nreloads, 1, RL_STR("the engine is stopping: the routes stay as they were\n"));
}

int engine_status(engine *e, rl_buf *out)
{
    rl_buf_printf(out, "engine pid %ld, up %lld s, radlink %s\n", (long)getpid(),
                  (long long)((rl_now_us() - e->started_us) / 1000000), RADLINK_VERSION);
    mllp_stats ms;
    mllp_server_stats(e->srv, &ms);
    rl_buf_printf(out, "mllp connections %u open, %llu accepted; messages accepted %llu, error "
                  "%llu, rejected %llu, duplicate %llu\n", ms.open,
                  (unsigned long long)ms.accepted, (unsigned long long)e->counts[MSG_ACCEPTED],
                  (unsigned long long)e->counts[MSG_ERROR],
                  (unsigned long long)e->counts[MSG_REJECTED],
                  (unsigned long long)e->counts[MSG_DUPLICATE]);
    rl_buf_printf(out, "mllp refused %llu (over max-per-address %llu), frames over the memory "
                  "budget %llu, frame buffers %zu bytes\n", (unsigned long long)ms.refused,
                  (unsigned long long)ms.refused_per_address,
                  (unsigned long long)ms.over_budget, ms.buffered);
    rl_buf_add_c(out, "hl7 accepted with irregularities:");
    for (int k = 0; k < INGEST_TOL_COUNT; k++)
        rl_buf_printf(out, "%s %s %llu", k ? "," : "", ingest_tolerance_name(k),
                      (unsigned long long)e->tolerated[k]);
    rl_buf_add_ch(out, '\n');
    rl_buf_printf(out, "store readers %u, stale readers cleared %llu\n", store_readers(e->st),
                  (unsigned long long)e->readers_cleared);
    rl_buf_printf(out, "turns %llu, commits %llu, commit failures %llu, instances %llu\n",
                  (unsigned long long)e->turns, (unsigned long long)e->commits,
                  (unsigned long long)e->commit_failures, (unsigned long long)e->instances);
    dicom_scp_status(e->dicom, out);
    workers_status(e->wk, out);
    audit_ship_status(e->ship, out);
    dispatch_status(e->jobs, out);
    forwarder_status(e->fwd, out);
    return 0;
}

static int start_jobs(engine *e, rl_err *err)
{
    dispatch_cfg dc = { .n_pacs = e->cfg->n_pacs, .max_attempts = e->cfg->job_attempts,
                        .worker_timeout_s = e->cfg->worker_timeout_s };
    char sock[700];
    if (ctlsock_path(e->cfg->data_dir, "jobs.sock", sock, sizeof sock, err) != 0)
        return err->code;
    snprintf(dc.endpoint, sizeof dc.endpoint, "ipc://%.690s", sock);
    snprintf(dc.work_root, sizeof dc.work_root, "%s", e->work_root);
    dc.recv = e->cfg->dicom_port || e->cfg->dicom_tls.on ? &e->recv : NULL;
    for (unsigned i = 0; i < e->cfg->n_pacs && i < RL_MAX_PACS; i++) {
        snprintf(dc.pacs[i].ae_title, sizeof dc.pacs[i].ae_title, "%s", e->cfg->pacs[i].ae);
        snprintf(dc.pacs[i].host, sizeof dc.pacs[i].host, "%s", e->cfg->pacs[i].host);
        dc.pacs[i].port = e->cfg->pacs[i].port;
        dc.pacs[i].update = e->cfg->pacs[i].update;
        dc.pacs[i].verify = e->cfg->pacs[i].verify;
        dc.pacs[i].reject = e->cfg->pacs[i].reject;
        dc.pacs[i].commit_timeout_s = e->cfg->pacs[i].commit_timeout_s;
        dc.pacs[i].tls = e->cfg->pacs[i].tls;
    }
    snprintf(dc.tcp_endpoint, sizeof dc.tcp_endpoint, "%s", e->cfg->jobs_listen);
    if (e->cfg->jobs_key_file[0] &&
        keyfile_read(e->cfg->jobs_key_file, dc.public_key, dc.secret_key, err) != 0)
        return err->code;
    for (unsigned i = 0; i < e->cfg->n_worker_keys && i < RL_WORKER_KEYS_MAX; i++)
        snprintf(dc.worker_keys[dc.n_worker_keys++], sizeof dc.worker_keys[0], "%s",
                 e->cfg->worker_keys[i]);
    if (!(e->jobs = dispatch_new(e->l, &dc, err)))
        return err->code;
    if (!(e->wk = workers_new(e->cfg->workers, dc.endpoint, e->cfg->dicom_ae)))
        return rl_err_set(err, RL_E_NOMEM, -1, "out of memory");
    workers_start(e->wk);
    return 0;
}

/* The store as this engine starts: jobs a dead engine ran are waiting again,
 * their work directories gone; the policy the CLI schedules with. */
static int recover(engine *e, rl_err *err)
{
    store_txn *t;
    int rc = store_begin(e->st, NULL, true, &t, err);
    if (rc)
        return rc;
    unsigned n = 0;
    recon_policy p = { .n_pacs = e->cfg->n_pacs, .study_stable_s = e->cfg->study_stable_s,
                       .unmatched_forward_s = e->cfg->unmatched_forward_s };
    for (unsigned i = 0; i < e->cfg->n_pacs && i < RL_MAX_PACS; i++) {
        p.pacs[i].update = e->cfg->pacs[i].update;
        snprintf(p.pacs[i].hl7_dest, sizeof p.pacs[i].hl7_dest, "%s", e->cfg->pacs[i].hl7_dest);
    }
    rc = job_recover(t, rl_now_us(), &n, err);
    unsigned reindexed = 0;
    if (rc == STORE_OK)
        rc = study_index_upgrade(t, &reindexed, err);
    if (rc == STORE_OK)
        rc = recon_policy_save(t, &p, err);
    unsigned held = 0;
    if (rc == STORE_OK)
        rc = recon_schedule_unmatched(t, rl_now_us(), &held, err);
    rc = rc == STORE_OK ? store_commit(t, err) : (store_abort(t), rc);
    if (rc == STORE_OK && reindexed)
        log_info("study.reindexed", "studies=%u text=\"the orders they matched, indexed\"",
                 reindexed);
    if (rc == STORE_OK && n)
        log_warn("jobs.recovered", "jobs=%u text=\"running when the engine stopped: waiting "
                 "again\"", n);
    /* no attempt runs now: what is left in the work directory is garbage */
    if (rc == STORE_OK && mkdir(e->work_root, 0750) != 0 && errno != EEXIST)
        rc = rl_err_set(err, RL_E_SYS, -1, "%s: %s", e->work_root, strerror(errno));
    if (rc == STORE_OK)
        recon_work_clear(e->work_root);
    return rc;
}

/* Instances being received when the engine stopped: never answered with
 * success, so the modality sends them again; the halves go. */
static void clear_partial(const char *dir)
{
    DIR *d = opendir(dir);
    unsigned n = 0;
    for (struct dirent *de = d ? readdir(d) : NULL; de; de = readdir(d)) {
        size_t k = strlen(de->d_name);
        /* .part.prev: a second name of an indexed file kept while its
         * replacement was being indexed; the file itself stays */
        if ((k > 5 && !strcmp(de->d_name + k - 5, ".part")) ||
            (k > 10 && !strcmp(de->d_name + k - 10, ".part.prev"))) {
            char p[1200];
            snprintf(p, sizeof p, "%s/%s", dir, de->d_name);
            n += unlink(p) == 0;
        }
    }
    if (d)
        closedir(d);
    if (n)
        log_warn("dicom.incoming", "removed=%u text=\"instances half received when the engine "
                 "stopped (never acknowledged)\"", n);
}

static int start(engine *e, rl_err *err)
{
    if (mkdir(e->cfg->data_dir, 0700) != 0 && errno != EEXIST)
        return rl_err_set(err, RL_E_SYS, -1, "%s: %s", e->cfg->data_dir, strerror(errno));
    struct stat dst;
    if (stat(e->cfg->data_dir, &dst) != 0)
        return rl_err_set(err, RL_E_SYS, -1, "%s: %s", e->cfg->data_dir, strerror(errno));
    if (dst.st_mode & 022) /* another user could replace the store or the spool */
        return rl_err_set(err, RL_E_ARG, -1, "%s: group or others may write to it (mode %04o): "
                          "chmod go-w %s (or 700)", e->cfg->data_dir,
                          (unsigned)(dst.st_mode & 07777), e->cfg->data_dir);
    if (lock_data_dir(e, err) != 0)
        return -1;
    if (!rl_realpath(e->cfg->data_dir, e->data_abs, sizeof e->data_abs))
        return rl_err_set(err, RL_E_SYS, -1, "%s: %s", e->cfg->data_dir, strerror(errno));
    store_opts so = { .map_size = e->cfg->map_size_mb << 20, .readonly = false };
    if (store_open(e->cfg->data_dir, &so, &e->st, err) != STORE_OK)
        return -1;
    audit_set_source(e->cfg->dicom_ae, e->cfg->audit.site);
    if (!(e->l = loop_new()))
        return rl_err_set(err, RL_E_SYS, -1, "cannot create the event loop: %s", strerror(errno));
    if (!(e->q = cmdq_new(err)) || loop_watch(e->l, cmdq_fd(e->q), LOOP_READ, on_cmds, e) != 0)
        return rl_err_set(err, RL_E_SYS, -1, "cannot watch the command queue");
    if (loop_watch(e->l, e->sig_fd, LOOP_READ, on_signal, e) != 0)
        return rl_err_set(err, RL_E_SYS, -1, "cannot watch signals");
    ingest_cfg ic = { .dedup_window_us = (int64_t)e->cfg->dedup_window_s * 1000000,
                      .max_frame = e->cfg->max_frame };
    ingest_init(&e->ing, &ic);
    rl_arena_init(&e->arena, 1 << 20, 0);
    char spool[1100];
    snprintf(spool, sizeof spool, "%s/spool", e->data_abs);
    snprintf(e->work_root, sizeof e->work_root, "%s/spool/work", e->data_abs);
    if (mkdir(spool, 0750) != 0 && errno != EEXIST)
        return rl_err_set(err, RL_E_SYS, -1, "%s: %s", spool, strerror(errno));
    if (recover(e, err) != STORE_OK)
        return -1;

    rl_buf errors;
    rl_buf_init(&errors, 64 * 1024);
    if (load_routes(e->cfg, &e->routes, &errors) != ROUTE_OK) {
        rl_buf_cstr(&errors);
        fprintf(stderr, "%s", errors.data ? errors.data : "");
        rl_err_set(err, ROUTE_E_LOAD, -1, "the route file %s has errors (listed above)",
                   e->cfg->routes_file[0] ? e->cfg->routes_file : "(built in)");
        rl_buf_free(&errors);
        return -1;
    }
    rl_buf_free(&errors);
    e->ing.routes = e->routes;
    for (int k = 0; k < ROUTE_HOOK_COUNT; k++)
        e->ing.hooks[k] = engine_hook((route_hook_kind)k);
    make_mpps_dests(e);
    if (!(e->fwd = forwarder_new(e->st, e->q)))
        return rl_err_set(err, RL_E_NOMEM, -1, "out of memory");
    char pid[32], started[32], conf[4096];
    const char *conf_path = e->cfg->source;
    if (strcmp(conf_path, "embedded default") != 0 && rl_realpath(conf_path, conf, sizeof conf))
        conf_path = conf;
    snprintf(pid, sizeof pid, "%ld", (long)getpid());
    snprintf(started, sizeof started, "%lld", (long long)rl_now_us());
    const char *kv[] = { "engine.pid", pid, "engine.started_us", started, "engine.config",
                         conf_path };
    put_meta(e, kv, sizeof kv / sizeof *kv);
    publish_routes(e, "ok (at start)");
    log_info("routes.loaded", "file=%s sha256=%s routes=%zu", route_source(e->routes),
             route_sha256(e->routes), route_count(e->routes));

    char ctl[700];
    if (ctlsock_path(e->cfg->data_dir, "control.sock", ctl, sizeof ctl, err) != 0 ||
        ctlsock_listen(e->l, ctl, engine_on_ctl, e, &e->ctl, err) != 0)
        return -1;
    ctlsock_set_on_refused(e->ctl, on_ctl_refused);

    mllp_listen ls[CFG_MAX_LISTENERS];
    mllp_tls_opts tls[CFG_MAX_LISTENERS];
    for (unsigned i = 0; i < e->cfg->n_mllp; i++) {
        const cfg_listener *cl = &e->cfg->mllp[i];
        tls[i] = (mllp_tls_opts){ .cert = cl->cert, .key = cl->key,
                                  .ca = cl->ca[0] ? cl->ca : NULL,
                                  .verify_peer = cl->verify_client };
        ls[i] = (mllp_listen){ cl->bind, cl->port, cl->tls ? &tls[i] : NULL, e->mllp_fd[i] };
    }
    if (e->cfg->dicom_port || e->cfg->dicom_tls.on) {
        const dicom_tls *ct = &e->cfg->dicom_tls;
        if (ct->on && ct->port == e->cfg->dicom_port) /* --dicom may have made it so */
            return rl_err_set(err, RL_E_ARG, -1, "<dicom>: the TLS port %u is the plain port too",
                              ct->port);
        dicom_scp_cfg dc = { .port = e->cfg->dicom_port,
                             .tls = *ct,
                             .assoc_timeout_s = e->cfg->dicom_assoc_timeout_s,
                             .fd = e->dicom_fd,
                             .tls_fd = e->dicom_tls_fd,
                             .max_per_address = e->cfg->dicom_max_per_address,
                             .max_associations = e->cfg->dicom_max_associations,
                             .max_responses = e->cfg->dicom_max_responses,
                             .dimse_timeout_s = e->cfg->dicom_timeout_s,
                             .icase_names = e->cfg->dicom_icase_names, .st = e->st };
        snprintf(dc.ae_title, sizeof dc.ae_title, "%s", e->cfg->dicom_ae);
        snprintf(dc.bind, sizeof dc.bind, "%s", e->cfg->dicom_bind);
        /* storage: DATA/spool, temporary files in DATA/spool/incoming */
        e->recv = (receiver){ .st = e->st, .q = e->q,
                              .refuse_duplicates = e->cfg->dicom_refuse_duplicates,
                              .lock = PTHREAD_MUTEX_INITIALIZER,
                              .turn = PTHREAD_COND_INITIALIZER };
        snprintf(e->recv.spool, sizeof e->recv.spool, "%s", spool);
        if (strlen(e->recv.spool) + 10 > sizeof dc.incoming_dir)
            return rl_err_set(err, RL_E_ARG, -1, "%s: path too long", e->recv.spool);
        snprintf(dc.incoming_dir, sizeof dc.incoming_dir, "%.*s/incoming",
                 (int)(sizeof dc.incoming_dir - 10), e->recv.spool);
        if (mkdir(dc.incoming_dir, 0700) != 0 && errno != EEXIST)
            return rl_err_set(err, RL_E_SYS, -1, "%s: %s", dc.incoming_dir, strerror(errno));
        clear_partial(dc.incoming_dir);
        dc.on_instance = study_receive;
        dc.on_commit_report = e->cfg->n_pacs ? study_commit_report : NULL;
        dc.on_mpps = mpps_receive;
        dc.on_query = audit_dicom_query;
        dc.on_alert = audit_dicom_alert;
        snprintf(dc.mwl_hide, sizeof dc.mwl_hide, "%s", e->cfg->dicom_mwl_hide);
        dc.ctx = &e->recv;
        for (unsigned i = 0; i < e->cfg->n_dicom_allowed && i < RL_DICOM_ALLOW_MAX; i++)
            snprintf(dc.allowed[dc.n_allowed++], sizeof dc.allowed[0], "%s",
                     e->cfg->dicom_allowed[i]);
        /* a PACS sends its storage commitment reports from its own AE */
        for (unsigned i = 0; dc.n_allowed && i < e->cfg->n_pacs && dc.n_allowed < RL_DICOM_ALLOW_MAX;
             i++)
            snprintf(dc.allowed[dc.n_allowed++], sizeof dc.allowed[0], "%s", e->cfg->pacs[i].ae);
        if (dicom_scp_start(&dc, &e->dicom, err) != 0)
            return -1;
    }
    if (start_jobs(e, err) != 0)
        return -1;
    mllp_server_cfg sc = { ls,
                           e->cfg->n_mllp,
                           e->cfg->max_frame,
                           e->cfg->max_connections,
                           e->cfg->idle_timeout_s,
                           e->cfg->read_timeout_s,
                           e->cfg->max_per_address,
                           (size_t)e->cfg->max_buffered_mb << 20 };
    if (mllp_server_new(e->l, &sc, on_mllp, e, &e->srv, err) != 0)
        return -1;
    if (inbox_start(e, err) != 0)
        return -1;
    if (e->cfg->audit.host[0]) {
        audit_ship_cfg ac = { .port = e->cfg->audit.port, .st = e->st, .q = e->q };
        snprintf(ac.host, sizeof ac.host, "%s", e->cfg->audit.host);
        snprintf(ac.server_name, sizeof ac.server_name, "%s", e->cfg->audit.server_name);
        snprintf(ac.ca, sizeof ac.ca, "%s", e->cfg->audit.ca);
        snprintf(ac.cert, sizeof ac.cert, "%s", e->cfg->audit.cert);
        snprintf(ac.key, sizeof ac.key, "%s", e->cfg->audit.key);
        if (audit_ship_start(&ac, &e->ship, err) != 0)
            return -1;
    }
    if (engine_web_start(e, err) != 0)
        return -1;
    return 0;
}

static void stop(engine *e)
{
    /* first the HTTP listener: its threads read the store and ask the loop
     * over the control socket, closed before so that none waits for it */
    ctlsock_free(e->ctl);
    e->ctl = NULL;
    engine_web_stop(e);
    audit_ship_stop(e->ship); /* a start that failed after it began */
    e->ship = NULL;
    inbox_stop(e);
    workers_free(e->wk);
    if (e->q)
        cmdq_close(e->q, "the engine is stopping");
    dicom_scp_free(e->dicom);
    dispatch_free(e->jobs);
    bool stuck = forwarder_free(e->fwd) > 0;
    ctlsock_free(e->ctl);
    route_free(e->routes);
    mllp_server_free(e->srv);
    /* commands posted after the close were refused; any still listed are freed */
    for (cmd *c = e->cmds, *n; c; c = n) {
        n = c->next;
        cmdq_finish(e->q, c, RL_E_ARG, "the engine is stopping");
    }
    if (!stuck) /* else a sender thread may still touch them: the exit frees them */
        cmdq_free(e->q);
    loop_free(e->l);
    ingest_free(&e->ing);
    if (!stuck)
        store_close(e->st);
    rl_arena_free(&e->arena);
    free(e->batch);
    free(e->series);
    free(e->reqs);
    for (size_t i = 0; i < e->nreloads; i++) { /* asked for in the last instant */
        free(e->reloads[i].argv);
        rl_buf_free(&e->reloads[i].out);
    }
    free(e->reloads);
    if (e->lock_fd >= 0)
        close(e->lock_fd);
    if (e->sig_fd >= 0)
        close(e->sig_fd);
}

static void earliest(int64_t *dl, int64_t t)
{
    if (t >= 0 && (*dl < 0 || t < *dl))
        *dl = t;
}

/* Milliseconds until the first deadline of any part, or -1: nothing is due
 * until an event comes. */
static int next_timeout(engine *e)
{
    int64_t dl = -1;
    earliest(&dl, mllp_server_deadline_ms(e->srv));
    earliest(&dl, ctlsock_deadline_ms(e->ctl));
    earliest(&dl, dispatch_deadline_ms(e->jobs));
    earliest(&dl, workers_deadline_ms(e->wk));
    earliest(&dl, inbox_deadline_ms(e));
    earliest(&dl, e->reader_check_ms);
    if (retention_on(&e->cfg->retention))
        earliest(&dl, e->retention_next_ms);
    if (e->watchdog_ms)
        earliest(&dl, e->watchdog_next_ms);
    if (dl < 0)
        return -1;
    int64_t left = dl - rl_mono_ms();
    return left <= 0 ? 0 : left > 3600000 ? 3600000 : (int)left;
}

/* Inputs of the turn: distinct connections with a frame, instances posted. */
static void counts(const engine *e, size_t *conns, unsigned *instances)
{
    *conns = 0;
    for (size_t i = 0; i < e->nbatch && i < 256; i++) {
        bool seen = false;
        for (size_t k = 0; k < i && !seen; k++)
            seen = e->batch[k].conn == e->batch[i].conn;
        *conns += !seen;
    }
    *instances = 0;
    for (const cmd *c = e->cmds; c; c = c->next)
        *instances += c->kind == CMD_INSTANCE;
}

/* Group commit waits a moment for what is surely coming: connections
 * answered in the last turn usually send their next message within tens of
 * microseconds, and an association that received an instance posts it once
 * its file and directory are synced. Waiting for them (at most
 * RL_GATHER_MAX_US, or RL_GATHER_FILING_MAX_US while instances are being
 * filed) puts them in this turn's commit instead of making them pay for the
 * next one. A lone client never waits: it is in the turn already. */
static void gather(engine *e)
{
    size_t conns;
    unsigned inst;
    counts(e, &conns, &inst);
    if (!conns && !inst)
        return;
    int64_t start = rl_mono_us();
    for (;;) {
        unsigned filing = atomic_load(&e->recv.filing);
        int64_t limit = filing ? RL_GATHER_FILING_MAX_US : RL_GATHER_MAX_US;
        int64_t left = start + limit - rl_mono_us();
        if (!(conns < e->answered_last || filing) || left <= 0 || loop_run_us(e->l, left) < 0)
            break;
        counts(e, &conns, &inst);
    }
}


/* Between turns: timeouts and due work of the parts, a reload. */
/* The map grows itself before it is full (and at once after a turn found
 * it full), doubling up to <store max-map-size-mb>: between two turns, when
 * no write transaction is open. */
static void grow_tick(engine *e)
{
    int64_t now = rl_mono_ms();
    if (now < e->grow_check_ms)
        return;
    e->grow_check_ms = now + RL_STORE_GROW_CHECK_MS;
    uint64_t ceiling = e->cfg->max_map_size_mb << 20, min_free = (uint64_t)RL_STORE_GROW_MIN_FREE_MB
                                                                << 20;
    bool full = e->store_full;
    e->store_full = false;
    store_txn *t;
    store_usage u = { 0 };
    rl_err err;
    if (store_begin(e->st, NULL, false, &t, &err) != STORE_OK)
        return;
    int got = store_usage_get(t, &u, &err);
    store_abort(t);
    if (got != 0)
        return;
    uint64_t used = u.used_bytes - u.reusable_bytes, room = u.map_bytes - used;
    if (!full && (u.map_bytes >= ceiling || (room >= u.map_bytes / 10 && room >= min_free)))
        return;
    /* doubling until a tenth of the map and RL_STORE_GROW_MIN_FREE_MB are
     * free (a small map configured grows at the first look) */
    uint64_t was = u.map_bytes, grown = u.map_bytes;
    int rc;
    while ((rc = store_grow(e->st, ceiling, &was, &grown, &err)) == STORE_OK) {
        room = grown - used;
        if (room >= grown / 10 && room >= min_free)
            break;
    }
    if (grown > u.map_bytes) {
        e->map_grown++;
        log_warn("store.grown", "map_mb=%llu was_mb=%llu ceiling_mb=%llu",
                 (unsigned long long)(grown >> 20), (unsigned long long)(u.map_bytes >> 20),
                 (unsigned long long)e->cfg->max_map_size_mb);
    } else if (rc != STORE_OK) {
        log_error("store.full", "map_mb=%llu error=\"%s\"", (unsigned long long)(grown >> 20),
                  err.msg);
    }
}

/* Retention, between two turns: one batch in its own transaction; the
 * spool files of the instances it removed go once it is committed. */
static void retention_tick(engine *e)
{
    const cfg_retention *rc_cfg = &e->cfg->retention;
    int64_t now = rl_mono_ms();
    if (!retention_on(rc_cfg) || now < e->retention_next_ms)
        return;
    store_txn *t = NULL;
    rl_err err;
    rl_buf paths;
    rl_buf_init(&paths, 0);
    retention_result r = { 0 };
    int rc = store_begin(e->st, NULL, true, &t, &err);
    if (rc == STORE_OK) {
        rc = retention_pass(t, e->cfg, rl_now_us(), RL_RETENTION_BATCH, &paths, &r, &err);
        rc = rc == STORE_OK ? store_commit(t, &err) : (store_abort(t), rc);
    }
    e->retention_next_ms = now + (rc == STORE_OK && r.more ? RL_RETENTION_AGAIN_MS
                                                            : (int64_t)rc_cfg->every_s * 1000);
    if (rc != STORE_OK) {
        log_error("retention.failed", "error=\"%s\"", err.msg);
        rl_buf_free(&paths);
        return;
    }
    unsigned long files = 0;
    for (size_t i = 0; i < paths.len;) {
        const char *p = (const char *)paths.data + i;
        i += strlen(p) + 1;
        files += unlink(p) == 0;
        char dir[CFG_PATH * 2];
        snprintf(dir, sizeof dir, "%s", p);
        for (int up = 0; up < 2; up++) { /* the series' and the study's directories, if empty */
            char *slash = strrchr(dir, '/');
            if (!slash)
                break;
            *slash = '\0';
            if (rmdir(dir) != 0)
                break;
        }
    }
    rl_buf_free(&paths);
    unsigned long n[6] = { r.messages, r.worklist, r.jobs, r.studies, r.instances, r.audit };
    for (int i = 0; i < 6; i++)
        e->retained[i] += n[i];
    if (r.messages || r.worklist || r.jobs || r.studies || r.audit)
        log_info("retention.removed", "messages=%lu worklist=%lu jobs=%lu studies=%lu "
                 "instances=%lu files=%lu audit=%lu more=%s", r.messages, r.worklist, r.jobs,
                 r.studies, r.instances, files, r.audit, r.more ? "yes" : "no");
}

static void after_turn(engine *e)
{
    mllp_server_tick(e->srv);
    ctlsock_tick(e->ctl);
    int64_t now = rl_mono_ms(), d = dispatch_deadline_ms(e->jobs);
    if (d >= 0 && now >= d)
        dispatch_tick(e->jobs);
    workers_tick(e->wk);
    inbox_tick(e);
    if (rl_mono_ms() >= e->reader_check_ms) {
        int cleared = 0;
        rl_err err;
        e->reader_check_ms = rl_mono_ms() + RL_READER_CHECK_S * 1000;
        if (store_reader_check(e->st, &cleared, &err) != STORE_OK)
            log_error("store.readers", "error=\"%s\"", err.msg);
        else if (cleared) {
            e->readers_cleared += (uint64_t)cleared;
            log_warn("store.readers", "stale=%d text=\"reader slots of processes that died "
                     "mid-read cleared\"", cleared);
        }
    }
    if (e->watchdog_ms && rl_mono_ms() >= e->watchdog_next_ms) {
        sd_notify(0, "WATCHDOG=1"); /* the loop turns: the engine lives */
        e->watchdog_next_ms = rl_mono_ms() + e->watchdog_ms;
    }
    grow_tick(e);
    retention_tick(e);
    reload_tick(e); /* between two turns: no message sees two sets */
}

/* serve --user: the listening sockets are bound first, as root (ports
 * below 1024); then the process becomes the user for good, before anything
 * else is opened or created, so that every file, socket and worker of the
 * engine is the user's and no thread ever runs as root. */
static int prebind(engine *e, const cfg *c, rl_err *err)
{
    for (unsigned i = 0; i < c->n_mllp; i++)
        if (mllp_bind(c->mllp[i].bind, c->mllp[i].port, &e->mllp_fd[i], err) != 0)
            return -1;
    if (c->dicom_port && dicom_bind(c->dicom_bind, c->dicom_port, &e->dicom_fd, err) != 0)
        return -1;
    if (c->dicom_tls.on && dicom_bind(c->dicom_bind, c->dicom_tls.port, &e->dicom_tls_fd, err) != 0)
        return -1;
    return 0;
}

static int become_user(engine *e, const cfg *c, rl_err *err)
{
    if (geteuid() != 0)
        return rl_err_set(err, RL_E_ARG, -1, "--user %s: radlink serve was not started as root",
                          c->run_user);
    struct passwd *pw = getpwnam(c->run_user);
    if (!pw)
        return rl_err_set(err, RL_E_ARG, -1, "--user %s: no such user", c->run_user);
    if (pw->pw_uid == 0)
        return rl_err_set(err, RL_E_ARG, -1, "--user %s: that is root", c->run_user);
    struct stat st;
    if (stat(c->data_dir, &st) == 0 && st.st_uid != pw->pw_uid)
        return rl_err_set(err, RL_E_ARG, -1, "%s belongs to uid %ld, not to %s: chown -R %s %s",
                          c->data_dir, (long)st.st_uid, c->run_user, c->run_user, c->data_dir);
    if (prebind(e, c, err) != 0)
        return -1;
    if (initgroups(pw->pw_name, pw->pw_gid) != 0 || setgid(pw->pw_gid) != 0 ||
        setuid(pw->pw_uid) != 0)
        return rl_err_set(err, RL_E_SYS, -1, "--user %s: %s", c->run_user, strerror(errno));
    if (setuid(0) == 0 || geteuid() == 0) /* no way back */
        return rl_err_set(err, RL_E_SYS, -1, "--user %s: root could not be dropped", c->run_user);
    setenv("HOME", pw->pw_dir, 1);
    setenv("USER", pw->pw_name, 1);
    log_info("serve.user", "user=%s uid=%ld gid=%ld", pw->pw_name, (long)pw->pw_uid,
             (long)pw->pw_gid);
    return 0;
}

int serve_run(const cfg *c)
{
    /* Signals are read from a signalfd by the loop: block them before any
     * thread exists, so that every thread (DCMTK's, ZeroMQ's, senders)
     * inherits the mask and none of them takes one. */
    sigset_t mask;
    sigemptyset(&mask);
    sigaddset(&mask, SIGINT);
    sigaddset(&mask, SIGTERM);
    sigaddset(&mask, SIGHUP);
    sigaddset(&mask, SIGCHLD);
    pthread_sigmask(SIG_BLOCK, &mask, NULL);
    signal(SIGPIPE, SIG_IGN);
    /* Patient data at rest: everything the engine, its DICOM threads and
     * its workers create (directories, store, spool files, sockets, job
     * files) is the engine user's alone. */
    umask(077);

    printf("radlink %s\n", RADLINK_VERSION);
    cfg_print(c, stdout);
    fflush(stdout);

    engine e = { .cfg = c, .lock_fd = -1, .inbox_fd = -1, .started_us = rl_now_us() };
    e.sig_fd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
    rl_err err;
    rl_err_clear(&err);
    if (c->run_user[0] && become_user(&e, c, &err) != 0) {
        log_error("serve.start_failed", "code=\"%s\" error=\"%s\"", rl_strerror(err.code), err.msg);
        fprintf(stderr, "radlink serve: %s\n", err.msg);
        return 1;
    }
    if (e.sig_fd < 0 || start(&e, &err) != 0) {
        if (e.stop_signal && c->standby) { /* told to stop before it took over */
            log_info("serve.stop", "text=\"stopped while standing by\"");
            stop(&e);
            return 0;
        }
        if (e.sig_fd < 0)
            rl_err_set(&err, RL_E_SYS, -1, "signalfd: %s", strerror(errno));
        log_error("serve.start_failed", "code=\"%s\" error=\"%s\"", rl_strerror(err.code), err.msg);
        fprintf(stderr, "radlink serve: %s\n", err.msg);
        stop(&e);
        return 1;
    }
    log_info("serve.start", "version=%s config=%s data=%s%s", RADLINK_VERSION, c->source,
             c->data_dir, e.takeover_us ? " standby=took-over" : "");
    if (e.takeover_us)
        log_warn("serve.took_over", "ms=%lld text=\"serving: lock to listeners up\"",
                 (long long)((rl_now_us() - e.takeover_us) / 1000));
    engine_audit_app(&e, true);
    engine_web_ready(&e, true);
    /* systemd (Type=notify): ready now that the listeners are up; the
     * watchdog, when the unit asks for one, is fed from the loop */
    uint64_t wd_us = 0;
    if (sd_watchdog_enabled(0, &wd_us) > 0 && wd_us)
        e.watchdog_ms = (int64_t)(wd_us / 2000);
    sd_notifyf(0, "READY=1\nSTATUS=serving %s\nMAINPID=%ld", c->data_dir, (long)getpid());

    while (!e.stop_signal) {
        if (loop_run_once(e.l, next_timeout(&e)) < 0) {
            log_error("serve.loop", "error=\"%s\"", strerror(errno));
            break;
        }
        if (e.cfg->group_commit)
            gather(&e);
        engine_turn(&e);
        after_turn(&e);
    }

    /* Clean shutdown: accept nothing new, answer what was read and what the
     * DICOM threads still bring, write it out. */
    log_info("serve.stopping", "signal=%s", e.stop_signal == SIGINT ? "SIGINT" : "SIGTERM");
    sd_notify(0, "STOPPING=1");
    engine_web_ready(&e, false);
    mllp_server_stop_listening(e.srv);
    dicom_scp_stop_accepting(e.dicom);
    forwarder_stop(e.fwd);
    engine_turn(&e);
    int64_t deadline = rl_mono_ms() + RL_SHUTDOWN_FLUSH_MS;
    while ((mllp_server_pending(e.srv) || !dicom_scp_stopped(e.dicom) ||
            !forwarder_stopped(e.fwd) || e.cmds) &&
           rl_mono_ms() < deadline) {
        loop_run_once(e.l, 50);
        engine_turn(&e); /* frames and instances that came while flushing are answered too */
        mllp_server_tick(e.srv);
    }
    reload_stop(&e);
    mllp_stats ms;
    mllp_server_stats(e.srv, &ms);
    log_info("serve.stop", "accepted=%llu errors=%llu rejected=%llu duplicates=%llu "
             "turns=%llu commits=%llu instances=%llu connections=%llu junk_bytes=%llu",
             (unsigned long long)e.counts[MSG_ACCEPTED],
             (unsigned long long)e.counts[MSG_ERROR],
             (unsigned long long)e.counts[MSG_REJECTED],
             (unsigned long long)e.counts[MSG_DUPLICATE], (unsigned long long)e.turns,
             (unsigned long long)e.commits, (unsigned long long)e.instances,
             (unsigned long long)ms.accepted, (unsigned long long)ms.junk_bytes);
    engine_audit_app(&e, false);
    audit_ship_wake(e.ship);
    /* what the collector took is recorded before the engine goes */
    audit_ship_stop(e.ship);
    e.ship = NULL;
    loop_run_once(e.l, 0);
    engine_turn(&e);
    stop(&e);
    return 0;
}
