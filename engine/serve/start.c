/* The engine process's composition: the data directory (its lock, its
 * mode), the store and what a dead engine left, the loop and its command
 * queue, the routes, the control socket, the listeners (MLLP, DICOM, HTTP),
 * the job dispatcher and its workers, the file drop and the audit shipper,
 * in that order; stop undoes it. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/resource.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "engine.h"
#include "radlink/alert.h"
#include "radlink/limits.h"
#include "radlink/log.h"
#include "radlink/msgidx.h"
#include <dirent.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <systemd/sd-daemon.h>

#include "radlink/audit.h"
#include "radlink/digest.h"
#include "radlink/net.h"
#include "radlink/audit_post.h"
#include "radlink/job.h"
#include "radlink/keyfile.h"
#include "radlink/mpps.h"
#include "radlink/recon.h"
#include "radlink/recon_job.h"
#include "radlink/wl_hook.h"

/* A user who may not control the engine tried to. */
static void on_ctl_refused(void *ctx, long uid, long pid)
{
    char user[RL_AUDIT_UID_TEXT_MAX], what[RL_AUDIT_REFUSED_TEXT_MAX];
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
    cmd *c = cmd_of(cmdq_take(e->q));
    if (!c)
        return;
    if (e->cmds_tail)
        e->cmds_tail->q.next = &c->q;
    else
        e->cmds = c;
    while (c->q.next)
        c = cmd_next(c);
    e->cmds_tail = c;
}

/* A local worker ended: what it held is retried now, not after the worker
 * timeout, and no job goes to it meanwhile. */
static void worker_ended(void *ctx, long pid)
{
    dispatch_worker_ended(((engine *)ctx)->jobs, pid);
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
            workers_reap(e->wk, worker_ended, e);
            break;
        }
    }
}

/* One engine per data directory: a second one would fight over the store. */
static int lock_data_dir(engine *e, rl_err *err)
{
    char path[RL_SERVE_LOCK_PATH_MAX];
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
        char pid[RL_NUM_TEXT_MAX] = "";
        ssize_t n = pread(e->lock_fd, pid, sizeof pid - 1, 0);
        pid[n > 0 ? n : 0] = '\0';
        pid[strcspn(pid, "\n")] = '\0';
        return rl_err_set(err, STORE_E_BUSY, -1, "data directory %s is in use by another radlink "
                          "serve (pid %s)", e->cfg->data_dir, pid[0] ? pid : "?");
    }
    char pid[RL_NUM_TEXT_MAX];
    int n = snprintf(pid, sizeof pid, "%ld\n", (long)getpid());
    if (ftruncate(e->lock_fd, 0) != 0 || pwrite(e->lock_fd, pid, (size_t)n, 0) != n)
        log_warn("serve.lock", "path=%s error=\"cannot record pid\"", path);
    return 0;
}

/* The site secret de-identification derives new UIDs from: DATA/deid.key,
 * made once (random, mode 0600) and kept, so that a study sent twice
 * stays one study; a backup copies it with the data directory. */
static int deid_secret(engine *e, uint8_t out[DICOM_DEID_SECRET_SIZE], rl_err *err)
{
    char path[RL_DATA_PATH_MAX + sizeof "/deid.key"];
    snprintf(path, sizeof path, "%s/deid.key", e->cfg->data_dir);
    rl_buf b;
    rl_buf_init(&b, 4096);
    rl_err rerr;
    int rc = 0;
    if (rl_read_file(path, &b, &rerr) == 0) {
        if (b.len != DICOM_DEID_SECRET_SIZE)
            rc = rl_err_set(err, RL_E_ARG, -1, "%s: %zu bytes, %d expected (remove it to have "
                            "a new one made: de-identified UIDs then change)", path, b.len,
                            DICOM_DEID_SECRET_SIZE);
        else
            memcpy(out, b.data, DICOM_DEID_SECRET_SIZE);
        rl_buf_free(&b);
        return rc;
    }
    rl_buf_free(&b);
    if (digest_random(out, DICOM_DEID_SECRET_SIZE) != 0)
        return rl_err_set(err, RL_E_SYS, -1, "no randomness for %s", path);
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0 || write(fd, out, DICOM_DEID_SECRET_SIZE) != DICOM_DEID_SECRET_SIZE ||
        fsync(fd) != 0)
        rc = rl_err_set(err, RL_E_SYS, -1, "%s: %s", path, strerror(errno));
    if (fd >= 0)
        close(fd);
    return rc;
}

static int start_jobs(engine *e, rl_err *err)
{
    dispatch_cfg dc = { .n_pacs = e->cfg->n_pacs, .max_attempts = e->cfg->job_attempts,
                        .worker_timeout_s = e->cfg->worker_timeout_s };
    char sock[RL_SOCK_PATH_MAX];
    if (ctlsock_path(e->cfg->data_dir, "jobs.sock", sock, sizeof sock, err) != 0)
        return err->code;
    snprintf(dc.endpoint, sizeof dc.endpoint, "ipc://%.*s",
             (int)(sizeof dc.endpoint - sizeof "ipc://"), sock);
    snprintf(dc.work_root, sizeof dc.work_root, "%s", e->work_root);
    dc.routes = &e->routes;
    dc.recv = e->cfg->dicom_port || e->cfg->dicom_tls.on ? &e->recv : NULL;
    for (unsigned i = 0; i < e->cfg->n_pacs && i < RL_MAX_PACS; i++) {
        snprintf(dc.pacs[i].ae_title, sizeof dc.pacs[i].ae_title, "%s", e->cfg->pacs[i].ae);
        snprintf(dc.pacs[i].host, sizeof dc.pacs[i].host, "%s", e->cfg->pacs[i].host);
        dc.pacs[i].port = e->cfg->pacs[i].port;
        dc.pacs[i].update = e->cfg->pacs[i].update;
        dc.pacs[i].verify = e->cfg->pacs[i].verify;
        dc.pacs[i].reject = e->cfg->pacs[i].reject;
        dc.pacs[i].commit_timeout_s = e->cfg->pacs[i].commit_timeout_s;
        dc.pacs[i].associations = e->cfg->pacs[i].associations;
        dc.pacs[i].tls = e->cfg->pacs[i].tls;
        dc.pacs[i].get = e->cfg->pacs[i].retrieve == CFG_RETRIEVE_GET;
        dc.pacs[i].query_timeout_s = e->cfg->pacs[i].query_timeout_s;
        dc.pacs[i].max_answers = e->cfg->pacs[i].max_answers;
        dc.pacs[i].node = e->cfg->pacs[i].node;
    }
    if (deid_secret(e, dc.deid_secret, err) != 0)
        return err->code;
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
        snprintf(p.pacs[i].ae, sizeof p.pacs[i].ae, "%s", e->cfg->pacs[i].ae);
        p.pacs[i].node = e->cfg->pacs[i].node;
    }
    rc = job_recover(t, rl_now_us(), &n, err);
    unsigned reindexed = 0;
    if (rc == STORE_OK)
        rc = study_index_upgrade(t, &reindexed, err);
    unsigned mpps_indexed = 0, jobs_indexed = 0;
    if (rc == STORE_OK)
        rc = mpps_index_upgrade(t, &mpps_indexed, err);
    if (rc == STORE_OK)
        rc = job_index_upgrade(t, &jobs_indexed, err);
    if (rc == STORE_OK)
        rc = recon_policy_save(t, &p, err);
    unsigned held = 0;
    if (rc == STORE_OK)
        rc = recon_schedule_unmatched(t, rl_now_us(), &held, err);
    rc = rc == STORE_OK ? store_commit(t, err) : (store_abort(t), rc);
    if (rc == STORE_OK && jobs_indexed)
        log_info("jobs.reindexed", "jobs=%u text=\"indexed by what they are about\"", jobs_indexed);
    if (rc == STORE_OK && mpps_indexed)
        log_info("mpps.reindexed", "records=%u text=\"performed steps, indexed by accession\"",
                 mpps_indexed);
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
            char p[RL_SPOOL_FILE_PATH_MAX];
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

/* The data directory: made (0700) when new, refused when others may write
 * to it, locked (one engine), its absolute path known. */
static int start_data_dir(engine *e, rl_err *err)
{
    const char *dir = e->cfg->data_dir;
    char abs[RL_ABS_PATH_MAX];
    struct stat dst;
    if (stat(dir, &dst) != 0 && errno == ENOENT) {
        if (!rl_abspath(dir, abs, sizeof abs))
            snprintf(abs, sizeof abs, "%s", dir);
        /* a <data dir> that is not there is more often a wrong path than a
         * new site: an empty store would answer every worklist query empty */
        if (e->cfg->data_dir_from_file && !e->cfg->init)
            return rl_err_set(err, RL_E_ARG, -1, "%s (<data dir> of %s) does not exist: give "
                              "--init to create a new, empty store there (relative paths in a "
                              "configuration file resolve against its directory)", abs,
                              e->cfg->source);
        log_warn("serve.new_store", "dir=%s text=\"creating a new, empty store\"", abs);
    }
    if (mkdir(dir, 0700) != 0 && errno != EEXIST)
        return rl_err_set(err, RL_E_SYS, -1, "%s: %s", dir, strerror(errno));
    if (stat(dir, &dst) != 0)
        return rl_err_set(err, RL_E_SYS, -1, "%s: %s", dir, strerror(errno));
    if (dst.st_mode & 022) /* another user could replace the store or the spool */
        return rl_err_set(err, RL_E_ARG, -1, "%s: group or others may write to it (mode %04o): "
                          "chmod go-w %s (or 700)", dir, (unsigned)(dst.st_mode & 07777), dir);
    int rc = lock_data_dir(e, err);
    if (rc != 0)
        return rc;
    if (!rl_realpath(dir, e->data_abs, sizeof e->data_abs))
        return rl_err_set(err, RL_E_SYS, -1, "%s: %s", dir, strerror(errno));
    return 0;
}

/* Progress of a build of the message indexes: a line every few seconds. */
typedef struct build_seen {
    int64_t last_ms;
} build_seen;

static void build_progress(void *ctx, uint64_t done, uint64_t total)
{
    build_seen *b = ctx;
    int64_t now = rl_mono_ms();
    if (!total || (now - b->last_ms < MSGIDX_PROGRESS_MS && done < total))
        return; /* a new store has nothing to index */
    b->last_ms = now;
    log_info("msg.index", "indexed=%llu of=%llu percent=%llu text=\"indexing the message log "
             "(once)\"", (unsigned long long)done, (unsigned long long)total,
             (unsigned long long)(total ? done * 100 / total : 100));
}

/* The message log's indexes, built once for a store that predates them
 * (or again on --reindex) before anything is received. */
static int index_messages(engine *e, rl_err *err)
{
    build_seen b = { rl_mono_ms() };
    uint64_t built = 0;
    int64_t t0 = rl_mono_ms();
    int rc = msgidx_build(e->st, e->cfg->reindex, build_progress, &b, &built, err);
    if (rc == STORE_OK && built)
        log_info("msg.indexed", "messages=%llu ms=%lld text=\"the message log is indexed\"",
                 (unsigned long long)built, (long long)(rl_mono_ms() - t0));
    return rc;
}

/* The store, the loop with its command queue and signals, the ingest, the
 * spool, and what a dead engine left there. */
static int start_store(engine *e, rl_err *err)
{
    store_opts so = { .map_size = e->cfg->map_size_mb << 20, .readonly = false };
    int rc = store_open(e->cfg->data_dir, &so, &e->st, err);
    if (rc == STORE_OK)
        rc = index_messages(e, err);
    if (rc != STORE_OK)
        return rc;
    audit_set_source(e->cfg->dicom_ae, e->cfg->audit.site);
    if (!(e->l = loop_new()))
        return rl_err_set(err, RL_E_SYS, -1, "cannot create the event loop: %s", strerror(errno));
    if (!(e->q = cmdq_new(err)) || loop_watch(e->l, cmdq_fd(e->q), LOOP_READ, on_cmds, e) != 0)
        return rl_err_set(err, RL_E_SYS, -1, "cannot watch the command queue");
    if (loop_watch(e->l, e->sig_fd, LOOP_READ, on_signal, e) != 0)
        return rl_err_set(err, RL_E_SYS, -1, "cannot watch signals");
    ingest_cfg ic = { .dedup_window_us = (int64_t)e->cfg->dedup_window_s * 1000000,
                      .max_frame = e->cfg->max_frame, .strict = e->cfg->hl7_strict };
    ingest_init(&e->ing, &ic);
    rl_arena_init(&e->arena, RL_TURN_ARENA_CHUNK, 0);
    snprintf(e->spool, sizeof e->spool, "%s/spool", e->data_abs);
    snprintf(e->work_root, sizeof e->work_root, "%s/spool/work", e->data_abs);
    if (mkdir(e->spool, 0750) != 0 && errno != EEXIST)
        return rl_err_set(err, RL_E_SYS, -1, "%s: %s", e->spool, strerror(errno));
    return recover(e, err);
}

/* The routes (a file with errors stops the start: they are listed), the
 * senders of their destinations, and the engine's facts for `status`. */
static int start_routes(engine *e, rl_err *err)
{
    rl_buf errors;
    rl_buf_init(&errors, RL_ROUTE_ERRORS_MAX);
    snprintf(e->routes_file, sizeof e->routes_file, "%s", e->cfg->routes_file);
    if (engine_load_routes(e->cfg, e->routes_file, &e->routes, &errors) != ROUTE_OK) {
        const char *text = rl_buf_cstr(&errors);
        fprintf(stderr, "%s", text ? text : "");
        rl_buf_free(&errors);
        return rl_err_set(err, ROUTE_E_LOAD, -1, "the route file %s has errors (listed above)",
                          e->cfg->routes_file[0] ? e->cfg->routes_file : "(built in)");
    }
    rl_buf_free(&errors);
    e->ing.routes = e->routes;
    for (int k = 0; k < ROUTE_HOOK_COUNT; k++)
        e->ing.hooks[k] = engine_hook((route_hook_kind)k);
    e->report = (report_ctx){ e->spool, e->cfg->n_pacs > 0, &e->routes, &dicom_ds_io,
                              e->cfg->dicom_ae };
    e->ing.hook_ctx = &e->report; /* where the report action files a report's objects */
    engine_mpps_dests(e);
    if (!(e->fwd = forwarder_new(e->st, e->q)))
        return rl_err_set(err, RL_E_NOMEM, -1, "out of memory");
    char pid[RL_NUM_TEXT_MAX], started[RL_NUM_TEXT_MAX], conf[RL_CFG_PATH_MAX];
    const char *conf_path = e->cfg->source;
    if (strcmp(conf_path, "embedded default") != 0 && rl_realpath(conf_path, conf, sizeof conf))
        conf_path = conf;
    snprintf(pid, sizeof pid, "%ld", (long)getpid());
    snprintf(started, sizeof started, "%lld", (long long)rl_now_us());
    const char *kv[] = { "engine.pid", pid, "engine.started_us", started, "engine.config",
                         conf_path };
    engine_put_meta(e, kv, sizeof kv / sizeof *kv);
    engine_publish_routes(e, "ok (at start)");
    log_info("routes.loaded", "file=%s sha256=%s routes=%zu", route_source(e->routes),
             route_sha256(e->routes), route_count(e->routes));
    return 0;
}

/* A listener's port: as configured, or given as auto, bound here on port 0
 * so that the system picks one (its socket handed to the listener). */
static int bind_auto(unsigned port, bool bound, int *fd, unsigned *out,
                     int (*bind_fn)(const char *, unsigned, int *, rl_err *), const char *addr,
                     rl_err *err)
{
    *out = port;
    if (port != RL_PORT_AUTO)
        return 0;
    int rc = bound ? 0 : bind_fn(addr, 0, fd, err);
    if (rc == 0)
        *out = net_local_port(*fd);
    return rc;
}

/* The DICOM listener's settings from the configuration. */
static void dicom_settings(engine *e, dicom_scp_cfg *dc)
{
    const cfg *c = e->cfg;
    *dc = (dicom_scp_cfg){ .port = c->dicom_port, .tls = c->dicom_tls,
                           .assoc_timeout_s = c->dicom_assoc_timeout_s, .fd = e->dicom_fd,
                           .tls_fd = e->dicom_tls_fd, .max_per_address = c->dicom_max_per_address,
                           .max_associations = c->dicom_max_associations,
                           .max_responses = c->dicom_max_responses,
                           .dimse_timeout_s = c->dicom_timeout_s,
                           .icase_names = c->dicom_icase_names, .st = e->st,
                           .max_connections = c->dicom_max_connections,
                           .stress_timeout_s = c->dicom_stress_timeout_s };
    char why[160];
    if (cidr_parse(c->dicom_allow_from, &dc->allow, why, sizeof why) != 0) /* checked at load */
        log_error("dicom.allow_from", "text=\"%s\"", why);
    snprintf(dc->ae_title, sizeof dc->ae_title, "%s", c->dicom_ae);
    snprintf(dc->bind, sizeof dc->bind, "%s", c->dicom_bind);
    dc->on_dataset = study_on_dataset;
    dc->cookie_free = study_decision_free;
    dc->on_instance = study_receive;
    dc->on_commit_report = c->n_pacs ? study_commit_report : NULL;
    dc->on_mpps = mpps_receive;
    dc->on_query = audit_dicom_query;
    dc->on_alert = audit_dicom_alert;
    snprintf(dc->mwl_hide, sizeof dc->mwl_hide, "%s", c->dicom_mwl_hide);
    dc->ctx = &e->recv;
    for (unsigned i = 0; i < c->n_dicom_allowed && i < RL_DICOM_ALLOW_MAX; i++)
        snprintf(dc->allowed[dc->n_allowed++], sizeof dc->allowed[0], "%s", c->dicom_allowed[i]);
    /* a PACS sends its storage commitment reports from its own AE */
    for (unsigned i = 0; dc->n_allowed && i < c->n_pacs && dc->n_allowed < RL_DICOM_ALLOW_MAX; i++)
        snprintf(dc->allowed[dc->n_allowed++], sizeof dc->allowed[0], "%s", c->pacs[i].ae);
}

/* The DICOM listener (worklist, storage, MPPS); instances spooled in
 * DATA/spool, their temporary files in DATA/spool/incoming. */
static int start_dicom(engine *e, rl_err *err)
{
    if (!e->cfg->dicom_port && !e->cfg->dicom_tls.on)
        return 0;
    if (e->cfg->dicom_tls.on && e->cfg->dicom_tls.port == e->cfg->dicom_port)
        return rl_err_set(err, RL_E_ARG, -1, "<dicom>: the TLS port %u is the plain port too",
                          e->cfg->dicom_tls.port); /* --dicom may have made it so */
    int rc = bind_auto(e->cfg->dicom_port, e->dicom_fd > 0, &e->dicom_fd, &e->dicom_port,
                       dicom_bind, e->cfg->dicom_bind, err);
    if (rc != 0)
        return rc;
    dicom_scp_cfg dc;
    dicom_settings(e, &dc);
    dc.port = e->dicom_port;
    dc.fd = e->dicom_fd;
    e->recv = (receiver){ .st = e->st, .q = e->q,
                          .refuse_duplicates = e->cfg->dicom_refuse_duplicates,
                          .lock = PTHREAD_MUTEX_INITIALIZER, .turn = PTHREAD_COND_INITIALIZER,
                          .decision_free = study_decision_free,
                          .routes_lock = PTHREAD_RWLOCK_INITIALIZER, .routes = e->routes,
                          .dcm_io = &dicom_ds_io };
    snprintf(e->recv.spool, sizeof e->recv.spool, "%s", e->spool);
    if (strlen(e->recv.spool) + sizeof "/incoming" > sizeof dc.incoming_dir)
        return rl_err_set(err, RL_E_ARG, -1, "%s: path too long", e->recv.spool);
    snprintf(dc.incoming_dir, sizeof dc.incoming_dir, "%s/incoming", e->recv.spool);
    if (mkdir(dc.incoming_dir, 0700) != 0 && errno != EEXIST)
        return rl_err_set(err, RL_E_SYS, -1, "%s: %s", dc.incoming_dir, strerror(errno));
    clear_partial(dc.incoming_dir);
    return dicom_scp_start(&dc, &e->dicom, err);
}

/* The MLLP listeners. */
static int start_mllp(engine *e, rl_err *err)
{
    mllp_listen ls[CFG_MAX_LISTENERS];
    net_tls_opts tls[CFG_MAX_LISTENERS];
    for (unsigned i = 0; i < e->cfg->n_mllp; i++) {
        const cfg_listener *cl = &e->cfg->mllp[i];
        int rc = bind_auto(cl->port, e->mllp_fd[i] > 0, &e->mllp_fd[i], &e->mllp_port[i],
                           mllp_bind, cl->bind, err);
        if (rc != 0)
            return rc;
        tls[i] = (net_tls_opts){ .cert = cl->cert, .key = cl->key,
                                 .ca = cl->ca[0] ? cl->ca : NULL,
                                 .verify_peer = cl->verify_client };
        ls[i] = (mllp_listen){ cl->bind, e->mllp_port[i], cl->tls ? &tls[i] : NULL,
                               e->mllp_fd[i] };
    }
    cidr_list allow;
    char why[160];
    if (cidr_parse(e->cfg->mllp_allow_from, &allow, why, sizeof why) != 0)
        return rl_err_set(err, MLLP_E_CONFIG, -1, "mllp allow-from: %s", why);
    mllp_server_cfg sc = { ls,
                           e->cfg->n_mllp,
                           e->cfg->max_frame,
                           e->cfg->max_connections,
                           e->cfg->idle_timeout_s,
                           e->cfg->read_timeout_s,
                           e->cfg->max_per_address,
                           (size_t)e->cfg->max_buffered_mb << 20,
                           e->cfg->mllp_stress_timeout_s,
                           &allow };
    return mllp_server_new(e->l, &sc, engine_on_mllp, e, &e->srv, err);
}

/* The audit trail's collector, when one is configured. */
static int start_shipper(engine *e, rl_err *err)
{
    if (!e->cfg->audit.host[0])
        return 0;
    audit_ship_cfg ac = { .port = e->cfg->audit.port, .st = e->st, .q = e->q };
    snprintf(ac.host, sizeof ac.host, "%s", e->cfg->audit.host);
    snprintf(ac.server_name, sizeof ac.server_name, "%s", e->cfg->audit.server_name);
    snprintf(ac.ca, sizeof ac.ca, "%s", e->cfg->audit.ca);
    snprintf(ac.cert, sizeof ac.cert, "%s", e->cfg->audit.cert);
    snprintf(ac.key, sizeof ac.key, "%s", e->cfg->audit.key);
    return audit_ship_start(&ac, &e->ship, err);
}

/* The alert rules' thread, when <alerts> has rules; after the HTTP
 * listener, whose address the mails give. */
static int start_alerts(engine *e, rl_err *err)
{
    alert_runner_cfg rc = { .c = e->cfg, .st = e->st, .q = e->q };
    int rc_ = ctlsock_path(e->cfg->data_dir, "control.sock", rc.ctl_path, sizeof rc.ctl_path, err);
    if (rc_ != 0)
        return rc_;
    if (e->http)
        snprintf(rc.console, sizeof rc.console, "%s://%s:%u/", e->cfg->http.l.tls ? "https" : "http",
                 e->cfg->http.l.bind, e->http_port);
    return alert_runner_start(&rc, &e->alerts, err);
}

static int start_control(engine *e, rl_err *err)
{
    char ctl[RL_CFG_PATH_MAX];
    int rc = ctlsock_path(e->cfg->data_dir, "control.sock", ctl, sizeof ctl, err);
    if (rc == 0)
        rc = ctlsock_listen(e->l, ctl, engine_on_ctl, e, &e->ctl, err);
    if (rc == 0)
        ctlsock_set_on_refused(e->ctl, on_ctl_refused);
    return rc;
}

/* Every connection held is a descriptor: the soft limit (1,024 under most
 * service managers) goes up to the hard one, as a server holding a
 * thousand connections needs. */
static void raise_nofile(void)
{
    struct rlimit r;
    if (getrlimit(RLIMIT_NOFILE, &r) != 0 || r.rlim_cur >= r.rlim_max)
        return;
    rlim_t was = r.rlim_cur;
    r.rlim_cur = r.rlim_max;
    if (setrlimit(RLIMIT_NOFILE, &r) == 0)
        log_debug("serve.nofile", "was=%llu now=%llu", (unsigned long long)was,
                  (unsigned long long)r.rlim_cur);
}

int engine_start(engine *e, rl_err *err)
{
    raise_nofile();
    static int (*const steps[])(engine *, rl_err *) = {
        start_data_dir, start_store, start_routes, start_control, start_dicom,
        start_jobs,     start_mllp,  inbox_start,  start_shipper, engine_web_start,
        start_alerts,
    };
    for (size_t i = 0; i < sizeof steps / sizeof *steps; i++) {
        int rc = steps[i](e, err);
        if (rc != 0)
            return rc;
    }
    return 0;
}

void engine_stop(engine *e)
{
    /* first the HTTP listener: its threads read the store and ask the loop
     * over the control socket, closed before so that none waits for it */
    ctlsock_free(e->ctl);
    e->ctl = NULL;
    engine_web_stop(e);
    alert_runner_stop(e->alerts); /* before the queue closes: its last book goes to the loop */
    e->alerts = NULL;
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
        n = cmd_next(c);
        cmdq_finish(e->q, &c->q, RL_E_ARG, "the engine is stopping");
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
