/* Commands other threads post to the loop (radlink/cmd.h): one input source
 * of the turn (engine.h). Each kind says, in one row of the table below, what
 * is applied in the turn's transaction (in a nested transaction of its own,
 * so that one that fails is refused alone) and what is done once the turn is
 * committed. A new kind is its own module's functions and one row here. */
#include <stdio.h>
#include <stdlib.h>

#include "engine.h"
#include "radlink/report.h"
#include "radlink/audit.h"
#include "radlink/audit_post.h"
#include "radlink/log.h"
#include "radlink/mpps.h"
#include "radlink/recon.h"

typedef struct cmd_kind_ops {
    const char *failed; /* the log event when apply fails */
    /* Inside the turn (t: the command's own nested transaction): a store
     * code, the reason in err. NULL: nothing is stored. */
    int (*apply)(engine *e, store_txn *t, cmd *c, turn_ctx *tc, rl_err *err);
    /* After the commit (tc->ok says whether the turn was committed); NULL:
     * the command is finished with its status. */
    void (*finish)(engine *e, cmd *c, const turn_ctx *tc);
} cmd_kind_ops;

/* ---- the kinds ---- */

static int instance_apply(engine *e, store_txn *t, cmd *c, turn_ctx *tc, rl_err *err)
{
    recon_out ro;
    tc->filed = true; /* the turn syncs the spool before its commit */
    int rc = study_receive_apply(t, c, tc->now_us, &ro, err);
    /* once per study and change, not once per instance */
    if (rc == STORE_OK && (ro.state == RECON_UNMATCHED || ro.discrepancies) &&
        (ro.state != ro.was || ro.target_changed))
        log_warn("recon.study", "study=%s state=%s by=%s discrepancies=%u",
                 c->u.instance.in->f[STUDY_F_STUDY_UID], recon_state_name(ro.state), ro.how,
                 ro.discrepancies);
    /* reports that came before their study are its now */
    unsigned linked = 0;
    const study_inst *in = c->u.instance.in;
    if (rc == STORE_OK && !c->duplicate)
        rc = report_file_arrived(t, &e->report, rl_str_c(in->f[STUDY_F_STUDY_UID]),
                                 rl_str_c(in->f[STUDY_F_ACCESSION]), tc->now_us, &linked, err);
    if (linked)
        log_info("report.linked", "study=%s reports=%u", in->f[STUDY_F_STUDY_UID], linked);
    return rc;
}

/* A command's own outcome, or the turn's failure. */
static void finish_as_turn(engine *e, cmd *c, const turn_ctx *tc)
{
    cmdq_finish(e->q, &c->q, tc->ok ? c->q.status : tc->rc, tc->ok ? c->q.text : tc->why);
}

static void instance_finish(engine *e, cmd *c, const turn_ctx *tc)
{
    if (tc->ok && c->q.status == STORE_OK)
        e->instances++;
    finish_as_turn(e, c, tc);
}

static int mpps_apply_cmd(engine *e, store_txn *t, cmd *c, turn_ctx *tc, rl_err *err)
{
    unsigned queued = 0;
    int rc = mpps_apply(t, c->u.mpps.req, e->routes, e->mpps_dests, e->n_mpps_dests, tc->now_us,
                        &queued, err);
    tc->kick |= rc == STORE_OK && queued;
    return rc;
}

static int audit_apply(engine *e, store_txn *t, cmd *c, turn_ctx *tc, rl_err *err)
{
    (void)e, (void)tc;
    return audit_store(t, &c->u.audit, err);
}

static int shipped_apply(engine *e, store_txn *t, cmd *c, turn_ctx *tc, rl_err *err)
{
    (void)e, (void)tc;
    uint64_t was;
    int rc = audit_shipped(t, &was, err);
    if (rc == STORE_OK && c->u.shipped > was)
        rc = audit_set_shipped(t, c->u.shipped, err);
    return rc;
}

static int alerts_apply(engine *e, store_txn *t, cmd *c, turn_ctx *tc, rl_err *err)
{
    (void)e, (void)tc;
    return store_put(t, STORE_META, RL_STR("alerts.state"),
                     (rl_str){ (const char *)(c + 1), c->u.alerts.len }, 0, err);
}

static int delivery_apply(engine *e, store_txn *t, cmd *c, turn_ctx *tc, rl_err *err)
{
    (void)e;
    int rc = forwarder_apply(t, c, err);
    tc->kick |= rc == STORE_OK && c->u.delivery.outcome != CMD_DELIVERED;
    return rc;
}

static void sender_exit_finish(engine *e, cmd *c, const turn_ctx *tc)
{
    (void)tc;
    forwarder_exited(e->fwd, c->u.sender.sender);
    cmdq_finish(e->q, &c->q, 0, NULL);
}

static void report_finish(engine *e, cmd *c, const turn_ctx *tc)
{
    (void)tc;
    dispatch_commit_report(e->jobs, c->u.report.txn, c->u.report.lines ? c->u.report.lines : "");
    free(c->u.report.lines);
    cmdq_finish(e->q, &c->q, 0, NULL);
}

static void routes_loaded_finish(engine *e, cmd *c, const turn_ctx *tc)
{
    (void)tc;
    e->reload_done = c; /* swapped in after the turn (reload.c) */
}

static const cmd_kind_ops kinds[] = {
    [CMD_INSTANCE] = { "dicom.index_failed", instance_apply, instance_finish },
    [CMD_DELIVERY] = { "forward.store", delivery_apply, NULL },
    [CMD_SENDER_EXIT] = { NULL, NULL, sender_exit_finish },
    [CMD_COMMIT_REPORT] = { NULL, NULL, report_finish },
    [CMD_MPPS] = { "dicom.mpps_failed", mpps_apply_cmd, NULL },
    [CMD_ROUTES_LOADED] = { NULL, NULL, routes_loaded_finish },
    [CMD_AUDIT] = { "audit.store_failed", audit_apply, NULL },
    [CMD_AUDIT_SHIPPED] = { "audit.store_failed", shipped_apply, NULL },
    [CMD_ALERTS] = { "alerts.store_failed", alerts_apply, NULL },
};

static const cmd_kind_ops *ops_of(const cmd *c)
{
    size_t k = (size_t)c->kind;
    return k < sizeof kinds / sizeof *kinds ? &kinds[k] : &kinds[0];
}

/* ---- the input source ---- */

/* One command in a nested transaction of t; its status goes to c. */
static void apply_one(engine *e, store_txn *t, cmd *c, turn_ctx *tc)
{
    const cmd_kind_ops *k = ops_of(c);
    store_txn *child;
    rl_err err;
    rl_err_clear(&err);
    int rc = store_begin(NULL, t, true, &child, &err);
    if (rc == STORE_OK) {
        rc = k->apply(e, child, c, tc, &err);
        rc = rc == STORE_OK ? store_commit(child, &err) : (store_abort(child), rc);
    }
    c->q.status = rc;
    if (rc != STORE_OK) {
        snprintf(c->q.text, sizeof c->q.text, "%.*s", (int)sizeof c->q.text - 1, err.msg);
        log_error(k->failed, "error=\"%s\"", err.msg);
    }
}

static int commands_apply(engine *e, store_txn *t, turn_ctx *tc, rl_err *err)
{
    if (!tc->rest)
        return STORE_OK;
    tc->cmds = e->cmds;
    e->cmds = e->cmds_tail = NULL;
    for (cmd *c = tc->cmds; c; c = cmd_next(c))
        if (ops_of(c)->apply)
            apply_one(e, t, c, tc);
    return tc->cmds ? audit_instances_received(t, tc->cmds, err) : STORE_OK;
}

static void commands_finish(engine *e, turn_ctx *tc)
{
    for (cmd *c = tc->cmds, *next; c; c = next) {
        next = cmd_next(c);
        const cmd_kind_ops *k = ops_of(c);
        (k->finish ? k->finish : finish_as_turn)(e, c, tc);
    }
    tc->cmds = NULL;
}

const input_source engine_commands = { "commands", commands_apply, commands_finish };
