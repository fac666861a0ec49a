/* From a received frame to a logged outcome and the ACK to send after commit. */
#include "radlink/ingest.h"

#include <stdio.h>
#include <string.h>

#include "radlink/log.h"

void ingest_init(ingest *g, const ingest_cfg *cfg)
{
    memset(g, 0, sizeof *g);
    g->cfg = *cfg;
    hl7_limits lim = { .max_bytes = cfg->max_frame, .max_segments = 0 };
    hl7_msg_init(&g->msg, &lim);
}

void ingest_free(ingest *g)
{
    hl7_msg_free(&g->msg);
}

/* HL7 table 0357 code for a parse failure. */
static int parse_errcode(int rc)
{
    switch (rc) {
    case HL7_E_NO_MSH:
    case HL7_E_SEGMENT:
    case HL7_E_EMPTY:
        return HL7_ERR_SEGMENT_SEQUENCE;
    case HL7_E_SEPARATORS:
    case HL7_E_BINARY:
    case HL7_E_ENCODING:
        return HL7_ERR_DATA_TYPE;
    default:
        return HL7_ERR_INTERNAL;
    }
}

static rl_str msh(hl7_msg *m, unsigned field)
{
    rl_str v = { "", 0 };
    if (m->nsegs == 0 || hl7_field(m, m->segs[0], field, &v) < HL7_EMPTY)
        v = (rl_str){ "", 0 };
    return v;
}

static void build_ack(hl7_msg *m, bool parsed, const char *code, int errcode, const char *text,
                      const hl7_path *at, uint64_t seq, rl_buf *out)
{
    char ctrl[32];
    snprintf(ctrl, sizeof ctrl, "RL%llu", (unsigned long long)seq);
    hl7_ack_info info = { .code = code, .err_code = errcode, .err_text = text, .err_at = at,
                          .control_id = ctrl, .now_us = rl_now_us() };
    rl_buf_reset(out);
    hl7_ack_build(parsed || m->nsegs ? m : NULL, &info, out);
}

/* MSH-9 as "TYPE^TRIGGER^STRUCTURE" whatever the message's delimiters, so the
 * log can be filtered by type without parsing each message again. */
static rl_str norm_type(hl7_msg *m, char *buf, size_t n)
{
    rl_str raw = msh(m, 9), c;
    size_t k = 0;
    for (unsigned i = 1; i <= 3 && hl7_piece(raw, m->seps.comp, i, &c) != HL7_ABSENT; i++) {
        if (c.n == 0)
            break;
        int w = snprintf(buf + k, n - k, "%s%.*s", i > 1 ? "^" : "", (int)c.n, c.p);
        if (w < 0 || (size_t)w >= n - k)
            break;
        k += (size_t)w;
    }
    return (rl_str){ buf, k };
}

/* Append the log record for this message (in t) and fill res. */
static int log_outcome(ingest *g, store_txn *t, const ingest_input *in, msglog_status st,
                       const char *code, const char *error, uint64_t dup_of, rl_str ack,
                       ingest_result *res, rl_err *err)
{
    hl7_msg *m = &g->msg;
    char type[128];
    msglog_rec r = {
        .status = st,
        .recv_us = in->recv_us,
        .dup_of = dup_of,
        .peer = rl_str_c(in->peer),
        .listener = rl_str_c(in->listener),
        .app = msh(m, 3),
        .fac = msh(m, 4),
        .type = norm_type(m, type, sizeof type),
        .ctrl = msh(m, 10),
        .ack_code = rl_str_c(code),
        .error = rl_str_c(error),
        .outcome = RL_STR(""),
        .ack = ack,
        .raw = in->raw,
    };
    int rc = msglog_append(t, &r, err);
    if (rc)
        return rc;
    res->status = st;
    res->seq = r.seq;
    if (st == MSG_ACCEPTED || st == MSG_DUPLICATE)
        log_debug("hl7.message", "seq=%llu status=%s ack=%s peer=%s type=%.*s ctrl=%.*s",
                  (unsigned long long)r.seq, msglog_status_name(st), code, in->peer,
                  RL_STR_FMT(r.type), RL_STR_FMT(r.ctrl));
    else
        log_info("hl7.message", "seq=%llu status=%s ack=%s peer=%s type=%.*s ctrl=%.*s "
                 "error=\"%s\"", (unsigned long long)r.seq, msglog_status_name(st), code,
                 in->peer, RL_STR_FMT(r.type), RL_STR_FMT(r.ctrl), error ? error : "");
    return STORE_OK;
}

/* Reject: AR with ERR, logged as REJECTED. */
static int reject(ingest *g, store_txn *t, const ingest_input *in, bool parsed, int errcode,
                  const char *text, const hl7_path *at, ingest_result *res, rl_err *err)
{
    uint64_t seq;
    int rc = store_next_seq(t, STORE_MSG, &seq, err);
    if (rc)
        return rc;
    build_ack(&g->msg, parsed, "AR", errcode, text, at, seq, res->ack);
    return log_outcome(g, t, in, MSG_REJECTED, "AR", text, 0, rl_buf_view(res->ack), res, err);
}

/* MSH-12.1 "2.x" (v2.1 through v2.8) */
static bool supported_version(rl_str v)
{
    return v.n >= 3 && v.p[0] == '2' && v.p[1] == '.' && v.p[2] >= '1' && v.p[2] <= '8';
}

int ingest_one(ingest *g, store_txn *t, const ingest_input *in, ingest_result *res, rl_err *err)
{
    hl7_msg *m = &g->msg;
    rl_err perr;
    char text[512];
    rl_buf_reset(res->ack);
    res->close_after = false;

    int prc = hl7_parse(m, in->raw.p, in->raw.n, &perr);
    if (in->kind == INGEST_OVERSIZE) {
        snprintf(text, sizeof text, "%s: more than %zu bytes; connection closed", in->why,
                 g->cfg.max_frame);
        res->close_after = true;
        return reject(g, t, in, false, HL7_ERR_INTERNAL, text, NULL, res, err);
    }
    if (in->kind == INGEST_INCOMPLETE) {
        /* The sender never finished this frame: log it, answer nothing. */
        snprintf(text, sizeof text, "incomplete MLLP frame of %zu bytes: %s", in->raw.n,
                 in->why);
        int rc = reject(g, t, in, false, HL7_ERR_INTERNAL, text, NULL, res, err);
        rl_buf_reset(res->ack);
        return rc;
    }
    if (prc != HL7_OK)
        return reject(g, t, in, false, parse_errcode(prc), perr.msg, NULL, res, err);

    /* Header checks: what every receiver needs before it can answer properly. */
    hl7_path at = { .seg = "MSH", .seg_idx = 1 };
    rl_str ctrl = msh(m, 10), type = msh(m, 9), ver = msh(m, 12), pid = msh(m, 11);
    hl7_piece(ver, m->seps.comp, 1, &ver);
    hl7_piece(pid, m->seps.comp, 1, &pid);
    if (ctrl.n == 0) {
        at.field = 10;
        return reject(g, t, in, true, HL7_ERR_REQUIRED_MISSING,
                      "MSH-10 (message control ID) is empty", &at, res, err);
    }
    if (type.n == 0) {
        at.field = 9;
        return reject(g, t, in, true, HL7_ERR_REQUIRED_MISSING,
                      "MSH-9 (message type) is empty", &at, res, err);
    }
    if (!supported_version(ver)) {
        at.field = 12;
        snprintf(text, sizeof text, "MSH-12 version '%.*s' is not supported (2.1 to 2.8)",
                 (int)(ver.n > 40 ? 40 : ver.n), ver.p);
        return reject(g, t, in, true, HL7_ERR_UNSUPPORTED_VERSION, text, &at, res, err);
    }
    if (pid.n && !(pid.n == 1 && (pid.p[0] == 'P' || pid.p[0] == 'T' || pid.p[0] == 'D'))) {
        at.field = 11;
        snprintf(text, sizeof text, "MSH-11 processing ID '%.*s' is not P, T or D",
                 (int)(pid.n > 40 ? 40 : pid.n), pid.p);
        return reject(g, t, in, true, HL7_ERR_UNSUPPORTED_PROCESSING, text, &at, res, err);
    }

    /* Retransmission? Same sender and control ID within the window. */
    rl_str app = msh(m, 3), fac = msh(m, 4);
    uint64_t orig_seq;
    int64_t orig_us;
    int rc = msglog_dedup_find(t, app, fac, ctrl, &orig_seq, &orig_us, err);
    if (rc == STORE_E_ARG) {
        at.field = 10;
        return reject(g, t, in, true, HL7_ERR_DATA_TYPE, err->msg, &at, res, err);
    }
    if (rc < 0)
        return rc;
    if (rc == STORE_OK && in->recv_us - orig_us <= g->cfg.dedup_window_us) {
        msglog_rec orig;
        if ((rc = msglog_get(t, orig_seq, &orig, err)) != STORE_OK)
            return rc < 0 ? rc : rl_err_set(err, STORE_E_CORRUPT, -1, "duplicate index points "
                                            "at missing message %llu",
                                            (unsigned long long)orig_seq);
        if (rl_str_eq(orig.raw, in->raw)) {
            rl_buf_add_str(res->ack, orig.ack);
            char why[96];
            snprintf(why, sizeof why, "retransmission of message %llu",
                     (unsigned long long)orig_seq);
            char code[3];
            snprintf(code, sizeof code, "%.*s", (int)(orig.ack_code.n > 2 ? 2 : orig.ack_code.n),
                     orig.ack_code.p);
            return log_outcome(g, t, in, MSG_DUPLICATE, code, why, orig_seq,
                               rl_buf_view(res->ack), res, err);
        }
        at.field = 10;
        snprintf(text, sizeof text,
                 "message control ID '%.*s' from %.*s/%.*s was already used by message %llu "
                 "with different content",
                 (int)(ctrl.n > 60 ? 60 : ctrl.n), ctrl.p, (int)(app.n > 40 ? 40 : app.n), app.p,
                 (int)(fac.n > 40 ? 40 : fac.n), fac.p, (unsigned long long)orig_seq);
        return reject(g, t, in, true, HL7_ERR_DUPLICATE_KEY, text, &at, res, err);
    }

    /* Apply. Until routes exist every well-formed message is accepted and
     * logged; effects will run in this nested transaction so that a failure
     * undoes only this message. */
    store_txn *child;
    if ((rc = store_begin(NULL, t, true, &child, err)) != STORE_OK)
        return rc;
    uint64_t seq;
    if ((rc = store_next_seq(child, STORE_MSG, &seq, err)) == STORE_OK) {
        build_ack(m, true, "AA", 0, NULL, NULL, seq, res->ack);
        rc = log_outcome(g, child, in, MSG_ACCEPTED, "AA", NULL, 0, rl_buf_view(res->ack), res,
                         err);
    }
    if (rc == STORE_OK)
        rc = msglog_dedup_put(child, app, fac, ctrl, res->seq, in->recv_us, err);
    if (rc == STORE_OK)
        return store_commit(child, err);
    store_abort(child);
    return rc;
}

void ingest_refusal(ingest *g, rl_str raw, const char *text, rl_buf *ack)
{
    rl_err perr;
    bool parsed = hl7_parse(&g->msg, raw.p, raw.n, &perr) == HL7_OK;
    build_ack(&g->msg, parsed, "AR", HL7_ERR_INTERNAL, text, NULL, 0, ack);
}
