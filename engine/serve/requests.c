/* Operators' requests on the engine's control socket (radlink/ops.h): a
 * question answered at once from what the loop knows, a `routes reload`
 * queued for the reload thread, or a change of the store queued for the
 * turn, applied there by its verb's handler and answered after the commit.
 * One input source of the turn (engine.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine.h"
#include "radlink/log.h"
#include "radlink/ops.h"
#include "radlink/view.h"

/* The route file a request names (msg replay --routes FILE), loaded for it
 * alone: 0 and *rs (NULL when it names none), or 1 with the errors in out. */
static int request_routes(engine *e, const op_call *c, route_set **rs, rl_buf *out)
{
    *rs = NULL;
    const char *file = (c->verb->flags & OP_ROUTES) ? ops_str(c, "routes") : NULL;
    if (!file)
        return 0;
    rl_buf errors;
    rl_buf_init(&errors, RL_ROUTE_ERRORS_MAX);
    route_load_opts o;
    const char *nodes[RL_MAX_PACS];
    cfg_route_opts(e->cfg, &o, nodes, &dicom_dict);
    int rc = route_load(file, &o, rs, &errors) == ROUTE_OK ? 0 : 1;
    if (rc)
        rl_buf_add_str(out, rl_buf_view(&errors));
    rl_buf_free(&errors);
    return rc;
}

/* An operator's request that changes the store (radlink/ops.h), in a nested
 * transaction of t: parsed, run by its handler, kept when it says so. */
static void apply_req(engine *e, store_txn *t, ctl_req *r, int64_t now_us, bool *kick)
{
    int used = 0;
    const op_verb *v = ops_find(ops_verbs, r->argc, r->argv, &used);
    char path[RL_OP_NAME_MAX], why[RL_VIEW_FAIL_MAX];
    op_call c = { .verb = v, .path = path, .now_us = now_us, .ing = &e->ing,
                  .routes = e->routes, .data = e->cfg->data_dir, .user = "" };
    ops_name(v, path, sizeof path);
    if (ops_parse(v, r->argc - used, r->argv + used, &c.vals, why, sizeof why) != OP_OK) {
        r->status = OP_USAGE;
        rl_buf_printf(&r->out, "%s\n", why);
        return;
    }
    route_set *other = NULL;
    if (request_routes(e, &c, &other, &r->out) != 0) {
        r->status = OP_BADINPUT;
        return;
    }
    if (other)
        c.routes = other;
    store_txn *child;
    rl_err err;
    c.out = view_new(VIEW_TEXT);
    if (!c.out || store_begin(NULL, t, true, &child, &err) != STORE_OK) {
        r->status = OP_FAIL;
        rl_buf_printf(&r->out, "%s\n", c.out ? err.msg : "out of memory");
        view_free(c.out);
        route_free(other);
        return;
    }
    c.t = child;
    r->status = ops_run(&c);
    rl_buf_add_str(&r->out, view_text(c.out));
    if (view_failure(c.out)[0])
        rl_buf_printf(&r->out, "%s\n", view_failure(c.out));
    view_free(c.out);
    if (c.keep && store_commit(child, &err) != STORE_OK) {
        r->status = OP_FAIL;
        rl_buf_printf(&r->out, "not stored: %s\n", err.msg);
    } else if (!c.keep) {
        store_abort(child);
    }
    *kick |= c.kick_senders;
    route_free(other);
    log_info("ctl.request", "verb=\"%s\" status=%d", path, r->status);
}

static void free_req(ctl_req *r)
{
    free(r->argv);
    rl_buf_free(&r->out);
}

static char **copy_argv(int argc, char **argv)
{
    size_t bytes = (size_t)(argc + 1) * sizeof(char *);
    for (int i = 0; i < argc; i++)
        bytes += strlen(argv[i]) + 1;
    char **v = malloc(bytes);
    if (!v)
        return NULL;
    char *p = (char *)(v + argc + 1);
    for (int i = 0; i < argc; i++) {
        size_t n = strlen(argv[i]) + 1;
        memcpy(p, argv[i], n);
        v[i] = p;
        p += n;
    }
    v[argc] = NULL;
    return v;
}

static bool push_req(ctl_req **arr, size_t *n, size_t *cap, uint64_t conn, int argc, char **argv)
{
    if (*n == *cap) {
        size_t c = *cap ? *cap * 2 : 8;
        ctl_req *a = realloc(*arr, c * sizeof *a);
        if (!a)
            return false;
        *arr = a;
        *cap = c;
    }
    ctl_req *r = &(*arr)[*n];
    memset(r, 0, sizeof *r);
    r->conn = conn;
    r->argc = argc;
    r->argv = copy_argv(argc, argv);
    rl_buf_init(&r->out, RL_CTL_OUTPUT_MAX);
    if (!r->argv)
        return false;
    (*n)++;
    return true;
}

/* What the engine answers at once, from what its loop knows (OP_ENGINE). */
static int engine_answer(engine *e, op_engine_q q, rl_buf *out)
{
    switch (q) {
    case OPE_STATUS: return engine_status(e, out);
    case OPE_METRICS: return engine_metrics(e, out);
    case OPE_HEALTH: return engine_health(e, out);
    case OPE_DESTINATIONS: return engine_destinations(e, out);
    case OPE_RETENTION: return engine_retention_run(e, out);
    case OPE_FACTS: return engine_facts(e, out);
    default: return OP_USAGE;
    }
}

/* A control request: answered at once (a question), queued for the reload,
 * or queued for the turn (a change of the store). The verb table says
 * which (radlink/ops.h). */
void engine_on_ctl(void *ctx, uint64_t conn, int argc, char **argv)
{
    engine *e = ctx;
    int used = 0;
    const op_verb *v = ops_find(ops_verbs, argc, argv, &used);
    if (v && v->engine != OPE_NONE && v->engine != OPE_RELOAD) {
        rl_buf out;
        rl_buf_init(&out, RL_CTL_OUTPUT_MAX);
        int st = engine_answer(e, v->engine, &out);
        ctlsock_reply(e->ctl, conn, st, rl_buf_view(&out));
        rl_buf_free(&out);
        return;
    }
    bool ok;
    if (v && v->engine == OPE_RELOAD)
        ok = push_req(&e->reloads, &e->nreloads, &e->capreloads, conn, argc, argv);
    else if (v && (v->flags & OP_WRITES))
        ok = push_req(&e->reqs, &e->nreqs, &e->capreqs, conn, argc, argv);
    else {
        ctlsock_reply(e->ctl, conn, OP_USAGE, RL_STR("not a request this engine takes\n"));
        return;
    }
    if (!ok)
        ctlsock_reply(e->ctl, conn, OP_FAIL, RL_STR("the engine is out of memory\n"));
}

/* ---- the input source ---- */

static int requests_apply(engine *e, store_txn *t, turn_ctx *tc, rl_err *err)
{
    (void)err;
    for (size_t i = 0; tc->rest && i < e->nreqs; i++)
        apply_req(e, t, &e->reqs[i], tc->now_us, &tc->kick);
    return 0;
}

static void requests_finish(engine *e, turn_ctx *tc)
{
    for (size_t i = 0; tc->rest && i < e->nreqs; i++) {
        ctl_req *r = &e->reqs[i];
        if (!tc->ok) {
            r->status = OP_FAIL;
            rl_buf_reset(&r->out);
            rl_buf_printf(&r->out, "not stored: %s\n", tc->why);
        }
        ctlsock_reply(e->ctl, r->conn, r->status, rl_buf_view(&r->out));
        free_req(r);
    }
    if (tc->rest)
        e->nreqs = 0;
}

const input_source engine_requests = { "requests", requests_apply, requests_finish };
