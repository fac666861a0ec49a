/* hl7 decide: the answer the engine would give to a message, decided exactly
 * as for a received frame in a nested transaction that is then undone (what
 * `radlink hl7 ack` and `routes test` ask, one message at a time). */
#include <string.h>

#include "ops_internal.h"
#include "radlink/ingest.h"
#include "radlink/msglog.h"

static void add_lines(view *v, rl_str text, const char *indent, bool raw)
{
    size_t start = 0;
    for (size_t i = 0; i <= text.n; i++) {
        if (i < text.n && text.p[i] != '\r' && text.p[i] != '\n')
            continue;
        if (i > start)
            view_printf(v, "%s%.*s%c", indent, (int)(i - start), text.p + start,
                        raw ? '\r' : '\n');
        start = i + 1;
    }
}

static rl_str trim_eol(rl_str s)
{
    while (s.n && (s.p[s.n - 1] == '\r' || s.p[s.n - 1] == '\n'))
        s.n--;
    return s;
}

typedef struct decision {
    rl_buf msg, ack, trace, after;
    ingest_result res;
} decision;

static void traced(view *v, decision *d)
{
    view_printf(v, "(a dry run: what follows is undone, nothing is sent)\n");
    view_add(v, rl_buf_view(&d->trace));
    if (d->after.len && !rl_str_eq(trim_eol(rl_buf_view(&d->after)), trim_eol(rl_buf_view(&d->msg)))) {
        view_printf(v, "message after transforms:\n");
        add_lines(v, rl_buf_view(&d->after), "  ", false);
    }
    view_printf(v, "%s; ACK that would be sent:\n",
                d->res.status == MSG_DUPLICATE ? "a retransmission"
                                               : msglog_status_name(d->res.status));
    add_lines(v, rl_buf_view(&d->ack), "  ", false);
}

/* Decide d->msg in a nested transaction of c->t, undone after. */
static int decide(op_call *c, decision *d, bool trace_on, rl_err *err)
{
    store_txn *child;
    int rc = store_begin(NULL, c->t, true, &child, err);
    if (rc != STORE_OK)
        return rc;
    /* exactly what a received frame goes through, then undone */
    ingest_input in = { INGEST_FRAME, rl_buf_view(&d->msg), "dry run", "", "", c->now_us };
    d->res = (ingest_result){ .ack = &d->ack };
    rc = ingest_run(c->ing, child, &in, c->routes, &d->res, trace_on ? &d->trace : NULL, err);
    if (rc == STORE_OK && trace_on && d->res.status == MSG_ACCEPTED)
        hl7_serialize(&c->ing->msg, &d->after);
    store_abort(child);
    return rc;
}

int ops_hl7_decide(op_call *c)
{
    bool trace_on = ops_flag(c, "trace"), raw = ops_flag(c, "raw");
    c->dry = true; /* nothing is ever kept */
    if (!c->ing || !c->routes)
        return view_fail(c->out, OP_FAIL, "no routes to decide with");
    decision d;
    rl_buf_init(&d.msg, 0);
    rl_buf_init(&d.ack, 0);
    rl_buf_init(&d.trace, 0);
    rl_buf_init(&d.after, 0);
    int status;
    rl_err err;
    if (ops_unhex(ops_str(c, "MESSAGE"), &d.msg) != 0) {
        status = view_fail(c->out, OP_USAGE, "hl7 decide: the message is not hex");
    } else if (decide(c, &d, trace_on, &err) != STORE_OK) {
        status = ops_store_fail(c->out, &err);
    } else {
        status = strcmp(d.res.ack_code, "AA") != 0 ? OP_FAIL : OP_OK;
        if (trace_on)
            traced(c->out, &d);
        else
            add_lines(c->out, rl_buf_view(&d.ack), "", raw);
    }
    rl_buf_free(&d.msg);
    rl_buf_free(&d.ack);
    rl_buf_free(&d.trace);
    rl_buf_free(&d.after);
    return status;
}
