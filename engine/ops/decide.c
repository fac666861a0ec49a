/* hl7 decide: the answer the engine would give to a message, decided exactly
 * as for a received frame in a nested transaction that is then undone (what
 * `radlink hl7 ack` and `routes test` ask, one message at a time). */
#include <stdio.h>
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
    /* a retransmission: what the engine answers (the original's ACK), and
     * the message it repeats; the trace and ACK above are its routes' */
    rl_buf dup_ack;
    uint64_t dup_of;
    char dup_code[RL_ACK_CODE_SIZE];
} decision;

static void traced(view *v, decision *d)
{
    view_printf(v, "(a dry run: what follows is undone, nothing is sent)\n");
    view_add(v, rl_buf_view(&d->trace));
    if (d->after.len && !rl_str_eq(trim_eol(rl_buf_view(&d->after)), trim_eol(rl_buf_view(&d->msg)))) {
        view_printf(v, "message after transforms:\n");
        add_lines(v, rl_buf_view(&d->after), "  ", false);
    }
    if (d->dup_of) {
        view_printf(v, "as a new message: %s; its ACK would be:\n",
                    msglog_status_name(d->res.status));
        add_lines(v, rl_buf_view(&d->ack), "  ", false);
        view_printf(v, "but the engine answers it as a retransmission of message %llu "
                    "(same sender, control ID and bytes, within <hl7 dedup-window>; "
                    "radlink msg show %llu), with that message's ACK:\n",
                    (unsigned long long)d->dup_of, (unsigned long long)d->dup_of);
        add_lines(v, rl_buf_view(&d->dup_ack), "  ", false);
        return;
    }
    view_printf(v, "%s; ACK that would be sent:\n", msglog_status_name(d->res.status));
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
    ingest_input in = { INGEST_FRAME, rl_buf_view(&d->msg), "dry run", "", "", c->now_us, false };
    d->res = (ingest_result){ .ack = &d->ack };
    rc = ingest_run(c->ing, child, &in, c->routes, &d->res, trace_on ? &d->trace : NULL, err);
    store_abort(child);
    if (rc == STORE_OK && trace_on && d->res.status == MSG_DUPLICATE) {
        /* a retransmission is answered without routing: the routes' trace
         * is asked for as if it were new, beside the engine's answer */
        d->dup_of = d->res.dup_of;
        snprintf(d->dup_code, sizeof d->dup_code, "%s", d->res.ack_code);
        rl_buf_add_str(&d->dup_ack, rl_buf_view(&d->ack));
        rl_buf_reset(&d->ack);
        rl_buf_reset(&d->trace);
        in.as_new = true;
        d->res = (ingest_result){ .ack = &d->ack };
        if ((rc = store_begin(NULL, c->t, true, &child, err)) != STORE_OK)
            return rc;
        rc = ingest_run(c->ing, child, &in, c->routes, &d->res, &d->trace, err);
        store_abort(child);
    }
    if (rc == STORE_OK && trace_on && d->res.status == MSG_ACCEPTED)
        hl7_serialize(&c->ing->msg, &d->after);
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
    rl_buf_init(&d.dup_ack, 0);
    d.dup_of = 0;
    int status;
    rl_err err;
    if (ops_unhex(ops_str(c, "MESSAGE"), &d.msg) != 0) {
        status = view_fail(c->out, OP_USAGE, "hl7 decide: the message is not hex");
    } else if (decide(c, &d, trace_on, &err) != STORE_OK) {
        status = ops_store_fail(c->out, &err);
    } else {
        /* the engine's answer decides (a retransmission's: the original's) */
        status = strcmp(d.dup_of ? d.dup_code : d.res.ack_code, "AA") != 0 ? OP_FAIL : OP_OK;
        if (trace_on)
            traced(c->out, &d);
        else
            add_lines(c->out, rl_buf_view(&d.ack), "", raw);
    }
    rl_buf_free(&d.msg);
    rl_buf_free(&d.ack);
    rl_buf_free(&d.trace);
    rl_buf_free(&d.after);
    rl_buf_free(&d.dup_ack);
    return status;
}
