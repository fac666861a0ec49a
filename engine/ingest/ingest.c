/* From a received frame to a logged outcome and the ACK to send after commit:
 * parse, check the header, recognise retransmissions, route (transforms and
 * actions in a nested transaction, undone if the message is refused), log. */
#include "radlink/ingest.h"

#include <stdio.h>
#include <string.h>

#include "radlink/limits.h"
#include "radlink/log.h"

void ingest_init(ingest *g, const ingest_cfg *cfg)
{
    memset(g, 0, sizeof *g);
    g->cfg = *cfg;
    hl7_limits lim = { .max_bytes = cfg->max_frame, .max_segments = 0 };
    hl7_msg_init(&g->msg, &lim);
    rl_buf_init(&g->joined, 0);
    msgidx_keys_init(&g->keys);
}

void ingest_free(ingest *g)
{
    hl7_msg_free(&g->msg);
    rl_buf_free(&g->joined);
    msgidx_keys_free(&g->keys);
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

/* The received header, read before routes may change the message. */
typedef struct hdr {
    rl_str app, fac, ctrl;
    char typebuf[RL_MSG_TYPE_RAW_MAX];
    rl_str type; /* "TYPE^TRIGGER^STRUCTURE" whatever the delimiters */
} hdr;

static void read_hdr(hl7_msg *m, hdr *h)
{
    h->app = msh(m, 3);
    h->fac = msh(m, 4);
    h->ctrl = msh(m, 10);
    rl_str raw = msh(m, 9), c;
    size_t k = 0;
    for (unsigned i = 1; i <= 3 && hl7_piece(raw, m->seps.comp, i, &c) != HL7_ABSENT; i++) {
        if (c.n == 0)
            break;
        int w = snprintf(h->typebuf + k, sizeof h->typebuf - k, "%s%.*s", i > 1 ? "^" : "",
                         (int)c.n, c.p);
        if (w < 0 || (size_t)w >= sizeof h->typebuf - k)
            break;
        k += (size_t)w;
    }
    h->type = (rl_str){ h->typebuf, k };
}

static void build_ack_more(hl7_msg *m, const char *code, int errcode, const char *text,
                           const hl7_path *at, uint64_t seq, const hl7_ack_err *more,
                           size_t n_more, rl_buf *out)
{
    char ctrl[RL_ACK_CONTROL_ID_MAX];
    snprintf(ctrl, sizeof ctrl, "RL%llu", (unsigned long long)seq);
    hl7_ack_info info = { .code = code, .err_code = errcode, .err_text = text, .err_at = at,
                          .control_id = ctrl, .now_us = rl_now_us(), .more = more,
                          .n_more = n_more };
    rl_buf_reset(out);
    hl7_ack_build(m->nsegs ? m : NULL, &info, out);
}

static void build_ack(hl7_msg *m, const char *code, int errcode, const char *text,
                      const hl7_path *at, uint64_t seq, rl_buf *out)
{
    build_ack_more(m, code, errcode, text, at, seq, NULL, 0, out);
}

typedef struct outcome {
    msglog_status status;
    const char *code, *error, *summary;
    uint64_t dup_of;
} outcome;

/* The record's keys, and its text's (read before routing) unless it is a
 * retransmission: into the index with the record. g->keys is spent. */
static int index_message(ingest *g, store_txn *t, const msglog_rec *r, rl_err *err)
{
    if (r->status == MSG_DUPLICATE)
        msgidx_keys_reset(&g->keys);
    msgidx_header(r, &g->keys);
    return msgidx_put(t, r->seq, &g->keys, err);
}

/* Append the log record for this message (in t) and fill res. */
static int log_outcome(ingest *g, store_txn *t, const ingest_input *in, const hdr *h,
                       const outcome *o, rl_str ack, ingest_result *res, rl_err *err)
{
    msglog_rec r = {
        .status = o->status,
        .recv_us = in->recv_us,
        .dup_of = o->dup_of,
        .peer = rl_str_c(in->peer),
        .listener = rl_str_c(in->listener),
        .app = h->app,
        .fac = h->fac,
        .type = h->type,
        .ctrl = h->ctrl,
        .ack_code = rl_str_c(o->code),
        .error = rl_str_c(o->error),
        .outcome = rl_str_c(o->summary),
        .ack = ack,
        .raw = in->raw,
    };
    int rc = msglog_append(t, &r, err);
    if (rc == STORE_OK)
        rc = index_message(g, t, &r, err);
    if (rc)
        return rc;
    res->status = o->status;
    res->dup_of = o->dup_of;
    res->by_status[o->status]++;
    /* the type as a metrics label: two components, plain characters */
    size_t k = 0, comps = 0;
    for (size_t i = 0; i < h->type.n && k + 1 < sizeof res->type; i++) {
        char c = h->type.p[i];
        if (c == '^' && ++comps == 2)
            break;
        if ((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '^' || c == '_')
            res->type[k++] = c;
    }
    res->type[k] = '\0';
    res->seq = r.seq;
    snprintf(res->ack_code, sizeof res->ack_code, "%s", o->code ? o->code : "");
    if (o->status == MSG_ACCEPTED || o->status == MSG_DUPLICATE)
        log_debug("hl7.message", "seq=%llu status=%s ack=%s peer=%s type=%.*s ctrl=%.*s",
                  (unsigned long long)r.seq, msglog_status_name(o->status), o->code, in->peer,
                  RL_STR_FMT(h->type), RL_STR_FMT(h->ctrl));
    else {
        /* the error text can quote the message (an accession too long, an
         * unknown patient): it is in the message log (radlink msg show SEQ),
         * and here only at debug level */
        log_info("hl7.message", "seq=%llu status=%s ack=%s peer=%s type=%.*s ctrl=%.*s",
                 (unsigned long long)r.seq, msglog_status_name(o->status), o->code, in->peer,
                 RL_STR_FMT(h->type), RL_STR_FMT(h->ctrl));
        log_debug("hl7.message_error", "seq=%llu error=\"%s\"", (unsigned long long)r.seq,
                  o->error ? o->error : "");
    }
    return STORE_OK;
}

/* Reject before routing: AR with ERR, logged as REJECTED. */
static int reject(ingest *g, store_txn *t, const ingest_input *in, int errcode, const char *text,
                  const hl7_path *at, ingest_result *res, rl_err *err)
{
    uint64_t seq;
    int rc = store_next_seq(t, STORE_MSG, &seq, err);
    if (rc)
        return rc;
    hdr h;
    read_hdr(&g->msg, &h);
    /* a frame that never ended gets no answer: none is logged either */
    bool answered = in->kind != INGEST_INCOMPLETE;
    if (answered)
        build_ack(&g->msg, "AR", errcode, text, at, seq, res->ack);
    outcome o = { MSG_REJECTED, answered ? "AR" : "", text, "", 0 };
    return log_outcome(g, t, in, &h, &o, answered ? rl_buf_view(res->ack) : (rl_str){ "", 0 }, res,
                       err);
}

/* MSH-12.1: a version of HL7 table 0104 from 2.1 through 2.8 */
static bool supported_version(rl_str v)
{
    static const char *const known[] = { "2.1", "2.2", "2.3", "2.3.1", "2.4", "2.5", "2.5.1",
                                         "2.6", "2.7", "2.7.1", "2.8", "2.8.1", "2.8.2" };
    for (size_t i = 0; i < sizeof known / sizeof *known; i++)
        if (rl_str_eq(v, rl_str_c(known[i])))
            return true;
    return false;
}

const char *ingest_tolerance_name(int k)
{
    static const char *const names[INGEST_TOL_COUNT] = { "control-id-reused",
                                                         "msh2-doubled-escape",
                                                         "msh18-unicode", "msh12-version",
                                                         "msh10-empty", "stray-line" };
    return k >= 0 && k < INGEST_TOL_COUNT ? names[k] : "?";
}

/* The parse's irregularities, as warnings for the log and bits for counting. */
static void quirks_of(const hl7_msg *m, char *note, size_t n, unsigned *tolerated)
{
    size_t k = strlen(note);
    if ((m->quirks & HL7_QUIRK_MSH2_ESCAPE) && k < n) {
        k += (size_t)snprintf(note + k, n - k, "%swarning: MSH-2 ^~\\\\& read as ^~\\&",
                              k ? "; " : "");
        *tolerated |= 1u << INGEST_TOL_MSH2_ESCAPE;
    }
    if ((m->quirks & HL7_QUIRK_UNICODE) && k < n) {
        snprintf(note + k, n - k, "%swarning: MSH-18 UNICODE (no encoding named) read as UTF-8",
                 k ? "; " : "");
        *tolerated |= 1u << INGEST_TOL_UNICODE;
    }
}

/* MSH-12 as senders write it: "2.5.0" for 2.5 (any N.N.0 whose N.N radlink
 * reads). */
static bool zero_patch(rl_str v)
{
    return v.n > 2 && v.p[v.n - 2] == '.' && v.p[v.n - 1] == '0' &&
           supported_version((rl_str){ v.p, v.n - 2 });
}

static void add_note(char *note, size_t n, const char *text)
{
    size_t k = strlen(note);
    if (k && k + 2 < n) {
        memcpy(note + k, "; ", 3);
        k += 2;
    }
    size_t t = strlen(text);
    if (k + 1 < n) {
        size_t c = t < n - k - 1 ? t : n - k - 1;
        memcpy(note + k, text, c);
        note[k + c] = '\0';
    }
}

/* Header checks every receiver needs before it can act: 0 or a reject.
 * What a lenient receiver tolerates is noted (note, tolerated). */
static int check_header(ingest *g, store_txn *t, const ingest_input *in, ingest_result *res,
                        rl_err *err, bool *rejected, char *note, size_t noten,
                        unsigned *tolerated)
{
    hl7_msg *m = &g->msg;
    char text[RL_REJECT_HEADER_TEXT_MAX];
    hl7_path at = { .seg = "MSH", .seg_idx = 1 };
    rl_str ctrl = msh(m, 10), type = msh(m, 9), ver = msh(m, 12), pid = msh(m, 11);
    hl7_piece(ver, m->seps.comp, 1, &ver);
    hl7_piece(pid, m->seps.comp, 1, &pid);
    *rejected = true;
    if (ctrl.n == 0 && g->cfg.strict) {
        at.field = 10;
        return reject(g, t, in, HL7_ERR_REQUIRED_MISSING, "MSH-10 (message control ID) is empty",
                      &at, res, err);
    }
    if (ctrl.n == 0) {
        add_note(note, noten, "warning: MSH-10 empty: accepted without a duplicate check");
        *tolerated |= 1u << INGEST_TOL_NO_CONTROL_ID;
    }
    if (type.n == 0) {
        at.field = 9;
        return reject(g, t, in, HL7_ERR_REQUIRED_MISSING, "MSH-9 (message type) is empty", &at,
                      res, err);
    }
    if (!g->cfg.strict && (ver.n == 0 || zero_patch(ver))) {
        char w[RL_REJECT_HEADER_TEXT_MAX];
        if (ver.n)
            snprintf(w, sizeof w, "warning: MSH-12 %.*s read as %.*s", (int)ver.n, ver.p,
                     (int)ver.n - 2, ver.p);
        else
            snprintf(w, sizeof w, "warning: MSH-12 empty, read as 2.5");
        add_note(note, noten, w);
        *tolerated |= 1u << INGEST_TOL_VERSION;
    } else if (!supported_version(ver)) {
        at.field = 12;
        snprintf(text, sizeof text, "MSH-12 version '%.*s' is not one radlink reads (2.1, 2.2, "
                 "2.3, 2.3.1, 2.4, 2.5, 2.5.1, 2.6, 2.7, 2.7.1, 2.8, 2.8.1, 2.8.2)",
                 (int)(ver.n > 40 ? 40 : ver.n), ver.p);
        return reject(g, t, in, HL7_ERR_UNSUPPORTED_VERSION, text, &at, res, err);
    }
    if (pid.n && !(pid.n == 1 && (pid.p[0] == 'P' || pid.p[0] == 'T' || pid.p[0] == 'D'))) {
        at.field = 11;
        snprintf(text, sizeof text, "MSH-11 processing ID '%.*s' is not P, T or D",
                 (int)(pid.n > 40 ? 40 : pid.n), pid.p);
        return reject(g, t, in, HL7_ERR_UNSUPPORTED_PROCESSING, text, &at, res, err);
    }
    *rejected = false;
    return STORE_OK;
}

/* Route the parsed message in a nested transaction and log the outcome: the
 * effects stay only if the routes accept it. */
static int route_and_log(ingest *g, store_txn *t, const route_set *rs, const ingest_input *in,
                         const hdr *h, const char *note, ingest_result *res, rl_buf *trace,
                         rl_err *err)
{
    hl7_msg *m = &g->msg;
    store_txn *child;
    int rc = store_begin(NULL, t, true, &child, err);
    if (rc)
        return rc;
    uint64_t seq;
    if ((rc = store_next_seq(child, STORE_MSG, &seq, err)) != STORE_OK) {
        store_abort(child);
        return rc;
    }
    rl_str msh0 = m->segs[0];
    route_result rr;
    route_env env = { .txn = child, .now_us = in->recv_us, .msg_seq = seq,
                      .peer = in->peer, .hook_ctx = g->hook_ctx };
    memcpy(env.hooks, g->hooks, sizeof env.hooks);
    if (rs) {
        if (route_eval(rs, m, &env, &rr, trace) == ROUTE_E_STORE) {
            store_abort(child);
            return rl_err_set(err, env.store_err.code ? env.store_err.code : STORE_E_IO, -1,
                              "%s", env.store_err.msg);
        }
    } else {
        memset(&rr, 0, sizeof rr);
        rr.accept = true;
        snprintf(rr.code, sizeof rr.code, "AA");
    }
    m->segs[0] = msh0; /* the ACK mirrors the MSH that was received */
    char summary[RL_INGEST_SUMMARY_MAX];
    snprintf(summary, sizeof summary, "%s%s%s", note, note[0] && rr.summary[0] ? ": " : "",
             rr.summary);
    if (rr.accept) {
        /* MSA-3: a sender without MSH-10 learns why a resend is applied again */
        build_ack(m, "AA", 0, h->ctrl.n ? NULL : "MSH-10 is empty: no duplicate check was possible",
                  NULL, seq, res->ack);
        outcome o = { MSG_ACCEPTED, "AA", NULL, summary, 0 };
        rc = log_outcome(g, child, in, h, &o, rl_buf_view(res->ack), res, err);
        if (rc != STORE_OK) {
            store_abort(child);
            return rc;
        }
        res->forwarded = env.forwarded;
        return store_commit(child, err);
    }
    store_abort(child); /* a refused message changes nothing */
    bool ae = strcmp(rr.code, "AR") != 0;
    hl7_ack_err more[ROUTE_PROBLEMS];
    size_t n_more = route_ack_errs(&rr, more, ROUTE_PROBLEMS);
    build_ack_more(m, rr.code, rr.errcode, rr.text, rr.has_at ? &rr.at : NULL, seq, more, n_more,
                   res->ack);
    char all[RL_INGEST_PROBLEMS_MAX]; /* every problem in the log */
    size_t k = (size_t)snprintf(all, sizeof all, "%s", rr.text);
    for (size_t i = 0; i < rr.n_more && k < sizeof all; i++)
        k += (size_t)snprintf(all + k, sizeof all - k, "; %s", rr.more[i].text);
    outcome o = { ae ? MSG_ERROR : MSG_REJECTED, rr.code, all, summary, 0 };
    /* An AE is about the content: a retransmission gets the same answer
     * (the duplicate check finds an AE's record as it finds an AA's). */
    return log_outcome(g, t, in, h, &o, rl_buf_view(res->ack), res, err);
}

int ingest_one(ingest *g, store_txn *t, const ingest_input *in, ingest_result *res, rl_err *err)
{
    return ingest_run(g, t, in, g->routes, res, NULL, err);
}

/* ---- a batch (FHS/BHS ... BTS/FTS) in one frame ---- */

static bool starts_batch(rl_str raw)
{
    size_t i = 0;
    if (raw.n >= 3 && !memcmp(raw.p, "\xEF\xBB\xBF", 3))
        i = 3;
    while (i < raw.n && (raw.p[i] == '\r' || raw.p[i] == '\n'))
        i++;
    return raw.n - i >= 4 && (!memcmp(raw.p + i, "FHS", 3) || !memcmp(raw.p + i, "BHS", 3));
}

typedef struct batch_run {
    ingest *g;
    store_txn *t;
    const ingest_input *in;
    const route_set *rs;
    ingest_result *res;
    rl_buf *trace, one;
    rl_err *err;
    int rc;
    unsigned n;
} batch_run;

static int count_msg(void *ctx, rl_str raw, size_t off)
{
    (void)raw, (void)off;
    (*(unsigned *)ctx)++;
    return 0;
}

/* One message of the batch, as if it had come alone. */
static int batch_msg(void *ctx, rl_str raw, size_t off)
{
    (void)off;
    batch_run *b = ctx;
    ingest_input sub = *b->in;
    sub.raw = raw;
    ingest_result r = { .ack = &b->one };
    if (b->trace)
        rl_buf_printf(b->trace, "batch message %u:\n", b->n + 1);
    b->rc = ingest_run(b->g, b->t, &sub, b->rs, &r, b->trace, b->err);
    if (b->rc != STORE_OK)
        return 1;
    b->n++;
    rl_buf_add_str(b->res->ack, rl_buf_view(&b->one));
    b->res->forwarded += r.forwarded;
    b->res->tolerated |= r.tolerated;
    for (int k = 0; k < MSGLOG_STATUS_SLOTS; k++)
        b->res->by_status[k] += r.by_status[k];
    /* the batch's outcome is its worst message's */
    static const int rank[MSGLOG_STATUS_SLOTS] = { 0, 0, 2, 3, 1 };
    if (r.status > 0 && r.status < MSGLOG_STATUS_SLOTS &&
        rank[r.status] >= rank[b->res->status]) {
        b->res->status = r.status;
        memcpy(b->res->ack_code, r.ack_code, sizeof r.ack_code);
    }
    b->res->seq = r.seq;
    memcpy(b->res->type, r.type, sizeof r.type);
    return 0;
}

/* A header segment's field (1-based after the name, as for MSH: n = 3 is
 * BHS-3). */
static rl_str hdr_field(rl_str raw, const char *name, unsigned n)
{
    rl_str none = { "", 0 };
    const char *p = raw.p, *end = raw.p + raw.n;
    while (p < end) {
        const char *e = p;
        while (e < end && *e != '\r' && *e != '\n')
            e++;
        if (e - p >= 4 && !memcmp(p, name, 3)) {
            rl_str seg = { p + 4, (size_t)(e - p - 4) }, v;
            /* field 1 is the separator itself: BHS-2 is the first piece */
            return n >= 2 && hl7_piece(seg, p[3], n - 1, &v) != HL7_ABSENT ? v : none;
        }
        p = e < end ? e + 1 : e;
    }
    return none;
}

/* The answer to a batch (HL7 v2.5 2.10.3): the same envelope, sender and
 * receiver swapped, an ACK per message, and the counts. */
static int ingest_batch(ingest *g, store_txn *t, const ingest_input *in, const route_set *rs,
                        ingest_result *res, rl_buf *trace, rl_err *err)
{
    unsigned total = 0;
    rl_err serr;
    hl7_split_info info;
    if (hl7_split(in->raw, count_msg, &total, &info, &serr) != HL7_OK || total == 0) {
        /* nothing is applied from a batch that does not hold together */
        rl_err ignored;
        (void)hl7_parse(&g->msg, "", 0, &ignored);
        return reject(g, t, in, HL7_ERR_SEGMENT_SEQUENCE, total ? serr.msg : "a batch without "
                      "messages", NULL, res, err);
    }
    char when[RL_HL7_TS_TEXT_MAX];
    rl_time_hl7(in->recv_us, when, sizeof when);
    rl_buf body;
    rl_buf_init(&body, 0);
    rl_buf *ack = res->ack;
    res->ack = &body;
    batch_run b = { g, t, in, rs, res, trace, { 0 }, err, STORE_OK, 0 };
    rl_buf_init(&b.one, 0);
    hl7_split(in->raw, batch_msg, &b, &info, &serr);
    rl_buf_free(&b.one);
    res->ack = ack;
    if (b.rc == STORE_OK) {
        if (info.file_header)
            rl_buf_printf(ack, "FHS|^~\\&|%.*s|%.*s|%.*s|%.*s|%s\r",
                          RL_STR_FMT(hdr_field(in->raw, "FHS", 5)),
                          RL_STR_FMT(hdr_field(in->raw, "FHS", 6)),
                          RL_STR_FMT(hdr_field(in->raw, "FHS", 3)),
                          RL_STR_FMT(hdr_field(in->raw, "FHS", 4)), when);
        rl_buf_printf(ack, "BHS|^~\\&|%.*s|%.*s|%.*s|%.*s|%s|||||%.*s\r",
                      RL_STR_FMT(hdr_field(in->raw, "BHS", 5)),
                      RL_STR_FMT(hdr_field(in->raw, "BHS", 6)),
                      RL_STR_FMT(hdr_field(in->raw, "BHS", 3)),
                      RL_STR_FMT(hdr_field(in->raw, "BHS", 4)), when,
                      RL_STR_FMT(hdr_field(in->raw, "BHS", 11)));
        rl_buf_add_str(ack, rl_buf_view(&body));
        rl_buf_printf(ack, "BTS|%u\r", b.n);
        if (info.file_header)
            rl_buf_add_c(ack, "FTS|1\r");
    }
    rl_buf_free(&body);
    return b.rc;
}

/* Parse the input into g->msg. A segment the parse refuses may be a line
 * break typed into a field: the message as it was meant (*as_meant, and
 * *in pointed at it), kept and parsed so (the log holds it that way, and
 * says so; *joined lines); only then is the message read a second time. A
 * joined text that does not parse either is refused as it came. */
static int parse_as_meant(ingest *g, const ingest_input **in, ingest_input *as_meant,
                          size_t *joined, rl_err *perr)
{
    hl7_msg *m = &g->msg;
    const ingest_input *got = *in;
    int prc = hl7_parse(m, got->raw.p, got->raw.n, perr);
    if (prc != HL7_E_SEGMENT || got->kind != INGEST_FRAME || g->cfg.strict ||
        (*joined = hl7_join_stray_lines(got->raw, &g->joined)) == 0)
        return prc;
    *as_meant = *got;
    as_meant->raw = rl_buf_view(&g->joined);
    rl_err jerr;
    if (hl7_parse(m, as_meant->raw.p, as_meant->raw.n, &jerr) == HL7_OK) {
        *in = as_meant;
        return HL7_OK;
    }
    *joined = 0;
    return hl7_parse(m, got->raw.p, got->raw.n, perr);
}

int ingest_run(ingest *g, store_txn *t, const ingest_input *in, const route_set *rs,
               ingest_result *res, rl_buf *trace, rl_err *err)
{
    hl7_msg *m = &g->msg;
    rl_err perr;
    char text[RL_REJECT_FRAME_TEXT_MAX];
    rl_buf_reset(res->ack);
    res->close_after = false;
    res->forwarded = 0;
    res->tolerated = 0;
    memset(res->by_status, 0, sizeof res->by_status);
    msgidx_keys_reset(&g->keys);
    if (in->kind == INGEST_FRAME && starts_batch(in->raw))
        return ingest_batch(g, t, in, rs, res, trace, err);

    ingest_input as_meant;
    size_t joined = 0;
    int prc = parse_as_meant(g, &in, &as_meant, &joined, &perr);
    if (prc == HL7_OK)
        msgidx_collect(m, &g->keys);
    if (in->kind == INGEST_OVERSIZE) {
        snprintf(text, sizeof text, "%s: more than %zu bytes; connection closed", in->why,
                 g->cfg.max_frame);
        res->close_after = true;
        return reject(g, t, in, HL7_ERR_INTERNAL, text, NULL, res, err);
    }
    if (in->kind == INGEST_INCOMPLETE) {
        /* The sender never finished this frame: log it, answer nothing. */
        snprintf(text, sizeof text, "incomplete MLLP frame of %zu bytes: %s", in->raw.n, in->why);
        int rc = reject(g, t, in, HL7_ERR_INTERNAL, text, NULL, res, err);
        rl_buf_reset(res->ack);
        return rc;
    }
    if (prc != HL7_OK)
        return reject(g, t, in, parse_errcode(prc), perr.msg, NULL, res, err);
    bool rejected;
    char note[RL_INGEST_NOTE_MAX] = "";
    unsigned tolerated = 0;
    int rc = check_header(g, t, in, res, err, &rejected, note, sizeof note, &tolerated);
    if (rc || rejected)
        return rc;
    if (joined) {
        char w[RL_INGEST_NOTE_MAX];
        snprintf(w, sizeof w, "warning: %zu line%s that %s no segment joined to the line before "
                 "as a line break (\\X0D\\)", joined, joined == 1 ? "" : "s",
                 joined == 1 ? "is" : "are");
        add_note(note, sizeof note, w);
        tolerated |= 1u << INGEST_TOL_STRAY_LINE;
    }

    /* Retransmission? Same sender and control ID within the window. A sender
     * that leaves MSH-3 and MSH-4 empty is known by where it connects from. */
    hdr h;
    read_hdr(m, &h);
    rl_str app = h.app, fac = h.fac;
    char who[RL_INGEST_WHO_MAX], host[RL_SENDER_TEXT_MAX];
    if (!app.n && !fac.n && in->peer && in->listener) {
        snprintf(host, sizeof host, "%s", in->peer);
        char *colon = strrchr(host, ':');
        if (colon)
            *colon = '\0'; /* the address, not the port of this connection */
        snprintf(who, sizeof who, "listener %s", in->listener);
        app = rl_str_c(who);
        fac = rl_str_c(host);
    }
    hl7_path at = { .seg = "MSH", .seg_idx = 1, .field = 10 };
    uint64_t orig_seq;
    int64_t orig_us;
    /* no control ID: nothing to tell a retransmission by */
    rc = h.ctrl.n ? msgidx_dedup_find(t, app, fac, h.ctrl, in->recv_us - g->cfg.dedup_window_us,
                                      &orig_seq, &orig_us, err)
                  : STORE_NOTFOUND;
    if (rc == STORE_E_ARG)
        return reject(g, t, in, HL7_ERR_DATA_TYPE, err->msg, &at, res, err);
    if (rc < 0)
        return rc;
    if (rc == STORE_OK && in->recv_us - orig_us <= g->cfg.dedup_window_us && !in->as_new) {
        msglog_rec orig = MSGLOG_REC_INIT;
        if ((rc = msglog_get(t, orig_seq, &orig, err)) != STORE_OK) {
            msglog_rec_free(&orig);
            return rc < 0 ? rc : rl_err_set(err, STORE_E_CORRUPT, -1, "duplicate index points "
                                            "at missing message %llu",
                                            (unsigned long long)orig_seq);
        }
        if (rl_str_eq(orig.raw, in->raw)) {
            /* copy what is needed before writing: LMDB views end at a write */
            rl_buf_add_str(res->ack, orig.ack);
            char why[RL_DUPLICATE_TEXT_MAX], code[RL_ACK_CODE_SIZE];
            snprintf(why, sizeof why, "retransmission of message %llu",
                     (unsigned long long)orig_seq);
            snprintf(code, sizeof code, "%.*s",
                     (int)(orig.ack_code.n < sizeof code ? orig.ack_code.n : sizeof code - 1),
                     orig.ack_code.p);
            msglog_rec_free(&orig);
            outcome o = { MSG_DUPLICATE, code, why, "", orig_seq };
            return log_outcome(g, t, in, &h, &o, rl_buf_view(res->ack), res, err);
        }
        msglog_rec_free(&orig);
        /* Senders restart their counters: the same ID with other content is
         * a new message, applied, and said so. */
        char w[RL_INGEST_NOTE_MAX];
        snprintf(w, sizeof w, "warning: control ID reused (message %llu had other content)",
                 (unsigned long long)orig_seq);
        add_note(note, sizeof note, w);
        tolerated |= 1u << INGEST_TOL_CTRL_REUSED;
    }
    quirks_of(m, note, sizeof note, &tolerated);
    rc = route_and_log(g, t, rs, in, &h, note, res, trace, err);
    res->tolerated = tolerated;
    return rc;
}

int ingest_replay(ingest *g, store_txn *t, uint64_t seq, const route_set *rs, ingest_result *res,
                  rl_buf *trace, rl_err *err)
{
    msglog_rec orig = MSGLOG_REC_INIT;
    int rc = msglog_get(t, seq, &orig, err);
    /* Copy the bytes: LMDB views end at the first write. */
    rl_buf raw;
    rl_buf_init(&raw, 0);
    if (rc == STORE_OK)
        rl_buf_add_str(&raw, orig.raw);
    msglog_rec_free(&orig);
    if (rc == STORE_NOTFOUND)
        return rl_err_set(err, STORE_NOTFOUND, -1, "no message %llu", (unsigned long long)seq);
    if (rc)
        return rc;
    char peer[RL_SENDER_TEXT_MAX];
    snprintf(peer, sizeof peer, "replay of %llu", (unsigned long long)seq);
    ingest_input in = { INGEST_FRAME, rl_buf_view(&raw), peer, "", "", rl_now_us(), false };
    rl_err perr;
    rc = hl7_parse(&g->msg, raw.data, raw.len, &perr);
    msgidx_keys_reset(&g->keys);
    if (rc == HL7_OK)
        msgidx_collect(&g->msg, &g->keys);
    if (rc != HL7_OK) {
        rc = rl_err_set(err, HL7_E_SEGMENT, -1, "message %llu does not parse: %s", (unsigned long long)seq,
                        perr.msg);
    } else {
        hdr h;
        read_hdr(&g->msg, &h);
        char note[RL_REPLAY_NOTE_MAX];
        snprintf(note, sizeof note, "replay of message %llu", (unsigned long long)seq);
        rc = route_and_log(g, t, rs ? rs : g->routes, &in, &h, note, res, trace, err);
    }
    rl_buf_free(&raw);
    return rc;
}

void ingest_refusal(ingest *g, rl_str raw, const char *text, rl_buf *ack)
{
    rl_err perr;
    (void)hl7_parse(&g->msg, raw.p, raw.n, &perr);
    build_ack(&g->msg, "AR", HL7_ERR_INTERNAL, text, NULL, 0, ack);
}
