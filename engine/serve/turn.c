/* The engine's turn: every input that arrived since the last one (HL7
 * frames from every connection, commands from DICOM and sender threads, job
 * outcomes, operators' requests) is applied in ONE write transaction, which
 * is committed (fsync) before anything is answered: group commit for
 * everything. Per connection, messages are applied and answered in arrival
 * order. Each input other than a frame is applied in a nested transaction,
 * so one that fails is refused alone and the turn goes on; frames nest their
 * routing effects inside ingest. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine.h"
#include "radlink/audit.h"
#include "radlink/ops.h"
#include "radlink/view.h"
#include "radlink/log.h"
#include "radlink/mpps.h"

/* Run one command in a nested transaction of t; its status goes to c. */
static void apply_cmd(engine *e, store_txn *t, cmd *c, const route_set *rs, int64_t now_us,
                      bool *kick)
{
    store_txn *child;
    rl_err err;
    rl_err_clear(&err);
    int rc = store_begin(NULL, t, true, &child, &err);
    if (rc == STORE_OK) {
        if (c->kind == CMD_INSTANCE) {
            recon_out ro;
            rc = study_receive_apply(child, c, now_us, &ro, &err);
            /* once per study and change, not once per instance */
            if (rc == STORE_OK && (ro.state == RECON_UNMATCHED || ro.discrepancies) &&
                (ro.state != ro.was || ro.target_changed))
                log_warn("recon.study", "study=%s state=%s by=%s discrepancies=%u",
                         c->u.instance.in->f[STUDY_F_STUDY_UID], recon_state_name(ro.state),
                         ro.how, ro.discrepancies);
        } else if (c->kind == CMD_MPPS) {
            unsigned queued = 0;
            rc = mpps_apply(child, c->u.mpps.req, rs, e->mpps_dests, e->n_mpps_dests, now_us,
                            &queued, &err);
            *kick |= rc == STORE_OK && queued;
        } else if (c->kind == CMD_AUDIT) {
            rc = audit_store(child, &c->u.audit, &err);
        } else if (c->kind == CMD_AUDIT_SHIPPED) {
            uint64_t was;
            rc = audit_shipped(child, &was, &err);
            if (rc == STORE_OK && c->u.shipped > was)
                rc = audit_set_shipped(child, c->u.shipped, &err);
        } else if (c->kind == CMD_DELIVERY) {
            rc = forwarder_apply(child, c, &err);
            *kick |= rc == STORE_OK && c->u.delivery.outcome != CMD_DELIVERED;
        }
        rc = rc == STORE_OK ? store_commit(child, &err) : (store_abort(child), rc);
    }
    c->status = rc;
    if (rc != STORE_OK) {
        snprintf(c->text, sizeof c->text, "%.299s", err.msg);
        log_error(c->kind == CMD_INSTANCE ? "dicom.index_failed"
                  : c->kind == CMD_MPPS   ? "dicom.mpps_failed"
                  : c->kind == CMD_AUDIT  ? "audit.store_failed"
                                          : "forward.store",
                  "error=\"%s\"", err.msg);
    }
}

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
    route_load_opts o = { .extra_dests = e->cfg->dests, .n_extra_dests = e->cfg->n_dests };
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

/* Frames [first, first + n), and when `rest` everything else of the turn, in
 * one transaction. */
static void commit_range(engine *e, size_t first, size_t n, bool rest)
{
    int64_t now_us = rl_now_us();
    rl_buf *acks = calloc(n ? n : 1, sizeof *acks);
    bool *close_after = calloc(n ? n : 1, sizeof *close_after);
    msglog_status *status = calloc(n ? n : 1, sizeof *status);
    unsigned (*by_status)[5] = calloc(n ? n : 1, sizeof *by_status);
    unsigned *tolerated = calloc(n ? n : 1, sizeof *tolerated);
    char (*types)[16] = calloc(n ? n : 1, sizeof *types);
    rl_err err;
    rl_err_clear(&err);
    int rc = acks && close_after && status && tolerated && by_status && types ? STORE_OK
                                           : rl_err_set(&err, RL_E_NOMEM, -1, "out of memory");
    for (size_t i = 0; acks && i < n; i++)
        rl_buf_init(&acks[i], 0);
    store_txn *t = NULL;
    if (rc == STORE_OK)
        rc = store_begin(e->st, NULL, true, &t, &err);
    unsigned forwarded = 0;
    bool kick = false;
    for (size_t i = 0; rc == STORE_OK && i < n; i++) {
        pending *p = &e->batch[first + i];
        ingest_input in = { p->kind, p->raw, p->peer, p->listener, p->why, p->recv_us };
        ingest_result res = { .ack = &acks[i] };
        rc = ingest_one(&e->ing, t, &in, &res, &err);
        close_after[i] = res.close_after;
        status[i] = res.status;
        tolerated[i] = res.tolerated;
        memcpy(by_status[i], res.by_status, sizeof by_status[i]);
        memcpy(types[i], res.type, sizeof types[i]);
        forwarded += res.forwarded;
    }
    cmd *cmds = rest ? e->cmds : NULL;
    if (rest)
        e->cmds = e->cmds_tail = NULL;
    for (cmd *c = cmds; rc == STORE_OK && c; c = c->next) {
        if (c->kind == CMD_SENDER_EXIT || c->kind == CMD_COMMIT_REPORT ||
            c->kind == CMD_ROUTES_LOADED)
            continue;
        apply_cmd(e, t, c, e->routes, now_us, &kick);
    }
    if (rc == STORE_OK && cmds)
        rc = audit_instances_received(t, cmds, &err);
    for (size_t i = 0; rest && rc == STORE_OK && i < e->nreqs; i++)
        apply_req(e, t, &e->reqs[i], now_us, &kick);
    if (rest && rc == STORE_OK)
        rc = dispatch_apply(e->jobs, t, now_us, &err);
    if (t)
        rc = rc == STORE_OK ? store_commit(t, &err) : (store_abort(t), rc);
    bool ok = rc == STORE_OK;
    e->turns++;
    if (ok) {
        e->commits++;
        for (size_t i = 0; i < n; i++) {
            for (int k = 0; k < 5; k++) {
                e->counts[k] += by_status[i][k];
                engine_count_messages(e, e->batch[first + i].listener, types[i], k,
                                      by_status[i][k]);
            }
            for (int k = 0; k < INGEST_TOL_COUNT; k++)
                e->tolerated[k] += (tolerated[i] >> k) & 1u;
        }
    } else {
        /* Nothing of this turn is stored: refuse every message with AR so the
         * senders try again later. What was stored before is untouched. A
         * full map grows before the next turn (serve.c). */
        e->commit_failures++;
        e->store_full |= rc == STORE_E_FULL;
        /* a full store fails every turn: once a second is enough to say so */
        int64_t now_ms = rl_mono_ms();
        if (now_ms - e->commit_fail_logged_ms >= RL_REPEATED_ERROR_LOG_MS) {
            log_error("store.commit_failed", "messages=%zu code=\"%s\" error=\"%s\" "
                      "repeated=%llu", n, rl_strerror(rc), err.msg,
                      (unsigned long long)e->commit_fail_unlogged);
            e->commit_fail_logged_ms = now_ms;
            e->commit_fail_unlogged = 0;
        } else {
            e->commit_fail_unlogged++;
        }
        char text[480];
        snprintf(text, sizeof text, "message not stored, try again later: %s", err.msg);
        for (size_t i = 0; acks && i < n; i++) {
            rl_buf_reset(&acks[i]);
            if (e->batch[first + i].kind != INGEST_INCOMPLETE)
                ingest_refusal(&e->ing, e->batch[first + i].raw, text, &acks[i]);
        }
    }
    size_t answered = 0;
    for (size_t i = 0; i < n; i++) {
        if (acks && acks[i].len) {
            mllp_server_reply(e->srv, e->batch[first + i].conn, rl_buf_view(&acks[i]));
            metrics_observe(&e->ack_h, rl_now_us() - e->batch[first + i].recv_us);
            bool seen = false; /* distinct connections (a turn has a few dozen at most) */
            for (size_t k = 0; k < i && !seen && answered < 256; k++)
                seen = e->batch[first + k].conn == e->batch[first + i].conn;
            answered += !seen;
        }
        if (!acks || (close_after && close_after[i]))
            mllp_server_close(e->srv, e->batch[first + i].conn, true);
        if (acks)
            rl_buf_free(&acks[i]);
    }
    for (cmd *c = cmds, *next; c; c = next) {
        next = c->next;
        if (c->kind == CMD_SENDER_EXIT) {
            forwarder_exited(e->fwd, c->u.sender.sender);
            cmdq_finish(e->q, c, 0, NULL);
            continue;
        }
        if (c->kind == CMD_ROUTES_LOADED) { /* swapped in after the turn */
            e->reload_done = c;
            continue;
        }
        if (c->kind == CMD_COMMIT_REPORT) {
            dispatch_commit_report(e->jobs, c->u.report.txn,
                                   c->u.report.lines ? c->u.report.lines : "");
            free(c->u.report.lines);
            cmdq_finish(e->q, c, 0, NULL);
            continue;
        }
        if (c->kind == CMD_INSTANCE && ok && c->status == STORE_OK)
            e->instances++;
        cmdq_finish(e->q, c, ok ? c->status : rc, ok ? c->text : err.msg);
    }
    if (rest) {
        for (size_t i = 0; i < e->nreqs; i++) {
            ctl_req *r = &e->reqs[i];
            if (!ok) {
                r->status = 1;
                rl_buf_reset(&r->out);
                rl_buf_printf(&r->out, "not stored: %s\n", err.msg);
            }
            ctlsock_reply(e->ctl, r->conn, r->status, rl_buf_view(&r->out));
            free_req(r);
        }
        e->nreqs = 0;
        dispatch_after_commit(e->jobs, ok);
    }
    if (ok && (forwarded || kick))
        forwarder_kick(e->fwd);
    if (ok)
        audit_ship_wake(e->ship);
    if (rest || n)
        e->answered_last = answered;
    free(acks);
    free(close_after);
    free(status);
    free(tolerated);
    free(types);
    free(by_status);
}

void engine_turn(engine *e)
{
    bool rest = e->cmds || e->nreqs || dispatch_pending(e->jobs, rl_now_us());
    if (!e->nbatch && !rest)
        return;
    /* Group commit: the whole turn in one transaction. Without it (a setting
     * for measuring what group commit buys) every message commits on its own. */
    if (e->cfg->group_commit) {
        commit_range(e, 0, e->nbatch, true);
    } else {
        for (size_t i = 0; i < e->nbatch; i++)
            commit_range(e, i, 1, false);
        if (rest)
            commit_range(e, 0, 0, true);
    }
    e->nbatch = 0;
    rl_arena_reset(&e->arena);
}

/* ---- control requests ---- */

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
    rl_buf_init(&r->out, RL_CTL_REPLY_MAX - 64);
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
        rl_buf_init(&out, RL_CTL_REPLY_MAX - 64);
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
