/* The route file's reloads (SIGHUP, `radlink routes reload`): read and
 * compiled on a thread of its own so that a large or slow file never stalls
 * ACKs, then swapped in by the loop between two turns, so that no message
 * sees two sets. A file with errors keeps the running set; either way the
 * store's meta database says what runs, and the audit trail records it. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "engine.h"
#include "radlink/limits.h"
#include "radlink/log.h"
#include "radlink/ops.h"
#include "radlink/wl_hook.h"

/* Facts about the running engine for `radlink status`, in the store's meta
 * database: key -> text. Written by the loop's thread, between turns. */
void engine_put_meta(engine *e, const char *const *kv, size_t n)
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

/* Load a route file (file "": the built-in default) with the
 * configuration's destinations and nodes. */
int engine_load_routes(const cfg *c, const char *file, route_set **out, rl_buf *errors)
{
    route_load_opts o;
    const char *nodes[RL_MAX_PACS];
    cfg_route_opts(c, &o, nodes, &dicom_dict);
    return file[0] ? route_load(file, &o, out, errors) : route_load_default(&o, out, errors);
}

void engine_publish_routes(engine *e, const char *status)
{
    char when[RL_NUM_TEXT_MAX], count[RL_NUM_TEXT_MAX], abs[RL_ABS_PATH_MAX];
    const char *file = route_source(e->routes);
    if (e->routes_file[0] && rl_realpath(file, abs, sizeof abs))
        file = abs; /* so that `radlink msg replay` finds it from anywhere */
    snprintf(when, sizeof when, "%lld", (long long)rl_now_us());
    snprintf(count, sizeof count, "%zu", route_count(e->routes));
    /* the destinations whose senders move past a parked message (ordered="false"),
     * for `radlink queue list`'s WAITS */
    size_t ndu;
    const route_dest *du = route_dests(e->routes, &ndu);
    rl_buf unordered;
    rl_buf_init(&unordered, 0);
    for (size_t i = 0; i < ndu; i++)
        if (du[i].unordered)
            rl_buf_printf(&unordered, "%s\n", du[i].name);
    const char *kv[] = { "routes.file", file, "routes.sha256",
                         route_sha256(e->routes), "routes.loaded_us", when, "routes.count", count,
                         "routes.reload", status, "queue.unordered", rl_buf_cstr(&unordered) };
    engine_put_meta(e, kv, sizeof kv / sizeof *kv);
    rl_buf_free(&unordered);
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
void engine_mpps_dests(engine *e)
{
    e->n_mpps_dests = 0;
    for (unsigned i = 0; i < e->cfg->n_pacs; i++) {
        const cfg_pacs *p = &e->cfg->pacs[i];
        if (!p->mpps)
            continue;
        route_dest *d = &e->mpps_dests[e->n_mpps_dests++];
        memset(d, 0, sizeof *d);
        d->kind = ROUTE_DEST_MPPS;
        /* each step's requests are apart from other steps': one parked does
         * not hold back the modalities' other steps */
        d->unordered = true;
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
    char status[RL_ROUTES_STATUS_MAX];
    if (!rs) {
        /* every error, one per line, for `radlink routes reload` and status */
        snprintf(status, sizeof status, "failed %lld: %.*s", (long long)rl_now_us(),
                 RL_ROUTES_STATUS_ERRORS, errors);
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
        engine_put_meta(e, kv, 2);
        engine_audit_config(e, e->reload_file[0] ? e->reload_file : "(built in)", false,
                            "route file reload refused: the running routes stay");
        log_warn("routes.kept", "file=%s sha256=%s", route_source(e->routes),
                 route_sha256(e->routes));
        if (out)
            rl_buf_printf(out, "reload failed, the running routes stay:\n%s", errors);
        return 1;
    }
    bool switched = strcmp(e->routes_file, e->reload_file) != 0;
    snprintf(e->routes_file, sizeof e->routes_file, "%s", e->reload_file);
    route_set *old = e->routes;
    e->routes = rs;
    e->ing.routes = rs;
    if (e->dicom)
        receiver_set_routes(&e->recv, rs); /* no DICOM thread still reads old */
    route_free(old);
    snprintf(status, sizeof status, "ok %lld", (long long)rl_now_us());
    engine_publish_routes(e, status);
    char what[RL_AUDIT_CONFIG_TEXT_MAX];
    snprintf(what, sizeof what, "route file %s: sha256 %s", switched ? "switched to" : "reloaded",
             route_sha256(rs));
    engine_audit_config(e, route_source(rs), true, what);
    log_info("routes.reloaded", "file=%s sha256=%s routes=%zu", route_source(rs),
             route_sha256(rs), route_count(rs));
    if (out)
        rl_buf_printf(out, "%s (engine pid %ld): %s, %zu routes, sha256 %s\n%s",
                      switched ? "switched" : "reloaded", (long)getpid(), route_source(rs),
                      route_count(rs), route_sha256(rs),
                      switched ? "until the engine restarts: set <routes file> (or --routes) "
                                 "to keep it\n" : "");
    return 0;
}

int engine_reload(engine *e, rl_buf *out)
{
    rl_buf errors;
    rl_buf_init(&errors, RL_ROUTE_ERRORS_MAX);
    route_set *rs = NULL;
    if (engine_load_routes(e->cfg, e->reload_file, &rs, &errors) != ROUTE_OK)
        rs = NULL;
    const char *et = rl_buf_cstr(&errors);
    int rc = reload_apply(e, rs, et ? et : "out of memory\n", out);
    rl_buf_free(&errors);
    return rc;
}

/* The reload thread: reads and compiles the route file (libxml2, the
 * schema, every regex) while the loop goes on answering, then hands the
 * result to the loop. Reads only e->cfg, which nobody changes, and
 * e->reload_file, which the loop sets before and leaves until it is done. */
static void *reload_main(void *arg)
{
    cmd *c = arg; /* made by the loop: the result always reaches it */
    engine *e = c->u.routes.reloader;
    rl_buf errors;
    rl_buf_init(&errors, RL_ROUTE_ERRORS_MAX);
    route_set *rs = NULL;
    int64_t t0 = rl_now_us();
    if (engine_load_routes(e->cfg, e->reload_file, &rs, &errors) != ROUTE_OK)
        rs = NULL;
    log_debug("routes.loaded_off_loop", "ms=%lld", (long long)(rl_now_us() - t0) / 1000);
    const char *et = rl_buf_cstr(&errors);
    char *text = et ? strdup(et) : NULL; /* NULL: said as "out of memory" */
    rl_buf_free(&errors);
    c->u.routes.rs = rs;
    c->u.routes.errors = text;
    if (cmdq_post(e->q, &c->q) != 0) { /* the engine stops: c is freed */
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

/* The file request i of the waiting reloads names (`routes reload FILE`),
 * else the active one; SIGHUP's (no request) is the active one. */
static void reload_file_of(const engine *e, size_t i, char *out, size_t n)
{
    snprintf(out, n, "%s", e->routes_file);
    if (i >= e->nreloads)
        return;
    int used = 0;
    const ctl_req *r = &e->reloads[i];
    const op_verb *v = ops_find(ops_verbs, r->argc, r->argv, &used);
    op_vals vals;
    char why[RL_OP_NAME_MAX * 2];
    if (v && ops_parse(v, r->argc - used, r->argv + used, &vals, why, sizeof why) == OP_OK) {
        op_call c = { .verb = v, .vals = vals };
        const char *file = ops_str(&c, "FILE");
        if (file && file[0])
            snprintf(out, n, "%s", file);
    }
}

/* Between turns: swap in what the reload thread read, and start a load
 * when one was asked for (SIGHUP, `radlink routes reload`). */
void engine_reload_tick(engine *e)
{
    if (e->reload_done) {
        cmd *c = e->reload_done;
        e->reload_done = NULL;
        pthread_join(e->reload_th, NULL);
        e->reloading = false;
        rl_buf out;
        rl_buf_init(&out, RL_CTL_OUTPUT_MAX);
        int st = reload_apply(e, c->u.routes.rs,
                              c->u.routes.errors ? c->u.routes.errors : "out of memory\n", &out);
        free(c->u.routes.errors);
        cmdq_finish(e->q, &c->q, 0, NULL);
        answer_reloads(e, e->reload_for, st, rl_buf_view(&out));
        rl_buf_free(&out);
    }
    if ((e->reload_signal || e->nreloads) && !e->reloading) {
        e->reload_signal = false;
        /* the file the first request names (none: the active one); the
         * requests after it that ask the same are answered by this load */
        char first[RL_CFG_PATH_MAX];
        reload_file_of(e, 0, first, sizeof first);
        snprintf(e->reload_file, sizeof e->reload_file, "%s", first);
        e->reload_for = 0;
        char f[RL_CFG_PATH_MAX];
        while (e->reload_for < e->nreloads &&
               (reload_file_of(e, e->reload_for, f, sizeof f), !strcmp(f, first)))
            e->reload_for++;
        cmd *c = calloc(1, sizeof *c);
        if (c) {
            c->kind = CMD_ROUTES_LOADED;
            c->u.routes.reloader = e;
        }
        if (c && pthread_create(&e->reload_th, NULL, reload_main, c) == 0) {
            e->reloading = true;
        } else { /* no thread: read it here, as before */
            free(c);
            rl_buf out;
            rl_buf_init(&out, RL_CTL_OUTPUT_MAX);
            int st = engine_reload(e, &out);
            answer_reloads(e, e->reload_for, st, rl_buf_view(&out));
            rl_buf_free(&out);
        }
    }
}

/* At stop: wait for a running load and drop what it read. */
void engine_reload_stop(engine *e)
{
    if (e->reloading) {
        pthread_join(e->reload_th, NULL);
        e->reloading = false;
        cmd *c = cmd_of(cmdq_take(e->q));
        while (c) { /* what the last turns did not take */
            cmd *next = cmd_next(c);
            if (c->kind == CMD_ROUTES_LOADED && !e->reload_done)
                e->reload_done = c;
            else
                cmdq_finish(e->q, &c->q, RL_E_ARG, "the engine is stopping");
            c = next;
        }
    }
    if (e->reload_done) {
        route_free(e->reload_done->u.routes.rs);
        free(e->reload_done->u.routes.errors);
        cmdq_finish(e->q, &e->reload_done->q, 0, NULL);
        e->reload_done = NULL;
    }
    answer_reloads(e, e->nreloads, 1, RL_STR("the engine is stopping: the routes stay as they were\n"));
}
