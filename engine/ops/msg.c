/* msg list|search|show|replay: the message log. Reads run beside the engine
 * (LMDB readers never block its writer); a replay runs the message through
 * the routes again as a new log entry, in the engine's turn. */
#include <stdlib.h>
#include <string.h>

#include "ops_internal.h"
#include "radlink/ingest.h"
#include "radlink/msgfind.h"
#include "radlink/msgidx.h"
#include "radlink/msglog.h"
#include "radlink/route.h"

/* ---- the view of a message ---- */

static const view_field M_SEQ = { "seq", "SEQ", 8 };
static const view_field M_RECEIVED = { "received", "RECEIVED", 19 };
static const view_field M_STATUS = { "status", "STATUS", 9 };
static const view_field M_ACK = { "ack", "ACK", 3, 3 };
static const view_field M_TYPE = { "type", "TYPE", 17 };
static const view_field M_CTRL = { "control_id", "CONTROL-ID", 20 };
static const view_field M_PEER = { "peer", "PEER", 21 };
static const view_field M_LISTENER = { "listener" };
static const view_field M_NOTE = { "note", "ERROR", 0, 100 };
static const view_field *const message_cols[] = { &M_SEQ, &M_RECEIVED, &M_STATUS, &M_ACK,
                                                   &M_TYPE, &M_CTRL, &M_PEER, &M_NOTE, NULL };

/* the detail's text lines */
static const view_field D_RECEIVED = { NULL, NULL, 0, 0, "received", VIEW_ISO };
static const view_field D_PEER = { NULL, NULL, 0, 0, "peer" };
static const view_field D_STATUS = { NULL, NULL, 0, 0, "status" };
static const view_field D_TYPE = { NULL, NULL, 0, 0, "type" };
static const view_field D_CTRL = { NULL, NULL, 0, 0, "control-id" };
static const view_field D_SENDER = { NULL, NULL, 0, 0, "sender" };
static const view_field D_DUP = { "duplicate_of", NULL, 0, 0, "duplicate-of",
                                  VIEW_NULL_EMPTY | VIEW_OMIT_EMPTY };
static const view_field D_ERROR = { "error", NULL, 0, 0, "error", VIEW_OMIT_EMPTY };
static const view_field D_ROUTING = { "routing", NULL, 0, 0, "routing", VIEW_OMIT_EMPTY };
static const view_field D_ACK_CODE = { "ack_code" };
static const view_field D_APP = { "application" }, D_FAC = { "facility" };
static const view_field D_RAW = { "raw" }, D_ACK_SENT = { "ack_sent" };

/* The error, else what was tolerated (the routing summary's warning). */
static rl_str note_of(const msglog_rec *r)
{
    rl_str note = r->error;
    for (size_t i = 0; !note.n && i + 9 <= r->outcome.n; i++)
        if (memcmp(r->outcome.p + i, "warning: ", 9) == 0)
            note = (rl_str){ r->outcome.p + i, r->outcome.n - i };
    return note;
}

/* The fields a list row shows (and a detail answer in JSON starts with). */
static void message_fields(view *v, const msglog_rec *r)
{
    view_u64(v, &M_SEQ, r->seq);
    view_time(v, &M_RECEIVED, r->recv_us);
    view_cstr(v, &M_STATUS, msglog_status_name(r->status));
    view_str(v, &M_ACK, r->ack_code);
    view_str(v, &M_TYPE, r->type);
    view_str(v, &M_CTRL, r->ctrl);
    view_str(v, &M_PEER, r->peer);
    view_str(v, &M_LISTENER, r->listener);
    view_str(v, &M_NOTE, note_of(r));
}

static void message_row(view *v, const msglog_rec *r)
{
    view_row(v);
    message_fields(v, r);
    view_row_end(v);
}

static void message_detail(view *v, const msglog_rec *r)
{
    char line[RL_VIEW_FAIL_MAX];
    view_printf(v, "message %llu\n", (unsigned long long)r->seq);
    view_detail(v, 12);
    if (view_is_json(v))
        message_fields(v, r);
    view_time(v, &D_RECEIVED, r->recv_us);
    snprintf(line, sizeof line, "%.*s (listener %.*s)", RL_STR_FMT(r->peer),
             RL_STR_FMT(r->listener));
    view_cstr(v, &D_PEER, line);
    snprintf(line, sizeof line, "%s (%.*s)", msglog_status_name(r->status),
             RL_STR_FMT(r->ack_code));
    view_cstr(v, &D_STATUS, line);
    view_str(v, &D_TYPE, r->type);
    view_str(v, &D_CTRL, r->ctrl);
    snprintf(line, sizeof line, "%.*s / %.*s", RL_STR_FMT(r->app), RL_STR_FMT(r->fac));
    view_cstr(v, &D_SENDER, line);
    view_str(v, &D_ACK_CODE, r->ack_code);
    view_obj(v, "sender");
    view_str(v, &D_APP, r->app);
    view_str(v, &D_FAC, r->fac);
    view_obj_end(v);
    view_u64(v, &D_DUP, r->dup_of);
    view_str(v, &D_ERROR, r->error);
    view_str(v, &D_ROUTING, r->outcome);
    view_detail_end(v);
    view_str(v, &D_RAW, r->raw);
    view_str(v, &D_ACK_SENT, r->ack);
}

/* ---- msg list, msg search ---- */

static void filter_of(op_call *c, msgfind *f)
{
    const char *status = ops_str(c, "status");
    *f = (msgfind){ .status = status ? msglog_status_parse(status) : -1,
                    .type = ops_str(c, "type"),
                    .since_us = ops_since(c, "since"),
                    .until_us = ops_since(c, "until"),
                    .patient = ops_str(c, "patient"),
                    .accession = ops_str(c, "accession"),
                    .name = ops_str(c, "name"),
                    .sender = ops_str(c, "sender"),
                    .study = ops_str(c, "study") };
}

/* Text with --since and nothing the indexes answer: forward from that
 * time, oldest first. */
static void list_forward(op_call *c, const msgfind *f, size_t limit)
{
    rl_err err;
    uint64_t next = 1, seq = 1;
    size_t shown = 0;
    store_next_seq(c->t, STORE_MSG, &next, &err);
    msglog_seek_time(c->t, f->since_us, &seq, &err);
    msglog_rec r = MSGLOG_REC_INIT;
    for (; seq < next && shown < limit; seq++) {
        if (msglog_get(c->t, seq, &r, &err) == STORE_OK && msgfind_row_matches(f, &r) &&
            (!f->until_us || r.recv_us < f->until_us)) {
            message_row(c->out, &r);
            shown++;
        }
    }
    msglog_rec_free(&r);
}

/* A page of matches: JSON newest first with where the next page starts;
 * text oldest first (the newest ones, in the order they came). */
static int list_page(op_call *c, const msgfind *f, size_t *found)
{
    size_t limit = (size_t)ops_u64(c, "limit", RL_API_LIST_DEFAULT), n = 0;
    uint64_t *seqs = malloc(limit * sizeof *seqs), resume = 0;
    if (!seqs)
        return view_fail(c->out, OP_FAIL, "out of memory");
    int64_t t0 = rl_now_us();
    msgfind_how how;
    rl_err err;
    int rc = msgfind_page(c->t, f, ops_u64(c, "before", 0), seqs, limit, &n, &resume, &how, &err);
    int64_t took = rl_now_us() - t0;
    if (rc != STORE_OK) {
        free(seqs);
        return ops_store_fail(c->out, &err);
    }
    bool json = view_is_json(c->out);
    msglog_rec r = MSGLOG_REC_INIT;
    for (size_t k = 0; k < n; k++)
        if (msglog_get(c->t, seqs[json ? k : n - 1 - k], &r, &err) == STORE_OK)
            message_row(c->out, &r);
    msglog_rec_free(&r);
    free(seqs);
    view_list_end(c->out);
    view_json(c->out, "next_before", resume ? json_integer((json_int_t)resume) : json_null());
    view_json(c->out, "scanned", json_integer((json_int_t)how.scanned));
    view_json(c->out, "search_ms", json_real((double)took / 1000.0));
    view_json(c->out, "index", how.index[0] ? json_string(how.index) : json_null());
    view_json(c->out, "scan", how.why_scan[0] ? json_string(how.why_scan) : json_null());
    /* the scan is said where the answer is not: text on stderr */
    if (c->notes && how.why_scan[0] && (f->has_value || f->patient || f->accession || f->name ||
                                        f->study || f->sender || f->type))
        fprintf(c->notes, "radlink %s: %s: read the log instead, %llu messages in %.0f ms\n",
                c->path, how.why_scan, (unsigned long long)how.scanned, (double)took / 1000.0);
    if (c->notes && resume && !json)
        fprintf(c->notes, "radlink %s: more match: --before %llu shows the next page\n", c->path,
                (unsigned long long)resume);
    *found = n;
    return OP_OK;
}

static bool any_index_filter(const msgfind *f)
{
    return f->has_value || f->patient || f->accession || f->name || f->study || f->sender;
}

int ops_msg_list(op_call *c)
{
    msgfind f;
    filter_of(c, &f);
    rl_err err;
    const char *search = ops_str(c, "search");
    if (search && search[0] && msgfind_set_search(&f, search, &err) != 0)
        return view_fail(c->out, OP_USAGE, "%s%s", view_is_json(c->out) ? "q: " : "", err.msg);
    view_list(c->out, "messages", message_cols);
    if (f.since_us && !view_is_json(c->out) && !any_index_filter(&f)) {
        list_forward(c, &f, (size_t)ops_u64(c, "limit", RL_API_LIST_DEFAULT));
        view_list_end(c->out);
        return OP_OK;
    }
    size_t n;
    return list_page(c, &f, &n);
}

int ops_msg_search(op_call *c)
{
    msgfind f;
    filter_of(c, &f);
    rl_err err;
    const char *pv = ops_str(c, "PATH=VALUE");
    if (pv && msgfind_set_search(&f, pv, &err) != 0)
        return view_fail(c->out, OP_USAGE, "%s", err.msg);
    if (!any_index_filter(&f) && !f.type)
        return view_fail(c->out, OP_USAGE, "say what to find: PATH=VALUE, --patient, "
                         "--accession, --name, --study, --sender or --type");
    view_list(c->out, "messages", message_cols);
    size_t n = 0;
    int rc = list_page(c, &f, &n);
    return rc != OP_OK ? rc : n ? OP_OK : OP_FAIL; /* exit 1: nothing matches */
}

/* ---- msg show ---- */

/* JSON: the orders, patients and studies the message names (its index
 * keys), for the console's links to their stories (radlink trace). */
static void names_of(op_call *c, const msglog_rec *r)
{
    if (!view_is_json(c->out))
        return;
    hl7_msg m;
    hl7_msg_init(&m, &(hl7_limits){ .max_bytes = 256u << 20 });
    msgidx_keys k;
    msgidx_keys_init(&k);
    msgidx_of_record(r, &m, &k);
    json_t *acc = json_array(), *pat = json_array(), *study = json_array();
    size_t pos = 0;
    rl_str key;
    while (msgidx_keys_next(&k, &pos, &key)) {
        rl_str v = { key.p + 1, key.n - 1 };
        if (key.p[0] == 'I')
            v.n = strnlen(v.p, v.n); /* the ID, not its authority */
        json_t *to = key.p[0] == 'A' ? acc : key.p[0] == 'I' ? pat : key.p[0] == 'U' ? study : NULL;
        if (to)
            json_array_append_new(to, view_jstr(v));
    }
    view_json(c->out, "accessions", acc);
    view_json(c->out, "patients", pat);
    view_json(c->out, "studies", study);
    msgidx_keys_free(&k);
    hl7_msg_free(&m);
}

/* JSON: the route trace of a dry-run replay by the engine (nothing kept,
 * nothing sent); text shows it with 'msg replay --dry-run'. */
static void trace_of(op_call *c, const char *seq)
{
    char *req[] = { "msg", "replay", (char *)seq, "--dry-run" };
    rl_buf out;
    rl_buf_init(&out, RL_CTL_REPLY_MAX);
    int status = 1;
    if (view_is_json(c->out) && ops_ask(c, 4, req, &status, &out) == 0)
        view_json(c->out, "trace", view_jstr(rl_buf_view(&out)));
    rl_buf_free(&out);
}

int ops_msg_show(op_call *c)
{
    uint64_t seq = ops_u64(c, "SEQ", 0);
    msglog_rec r = MSGLOG_REC_INIT;
    rl_err err;
    int rc = msglog_get(c->t, seq, &r, &err);
    if (rc != STORE_OK)
        msglog_rec_free(&r);
    if (rc == STORE_NOTFOUND)
        return view_fail(c->out, OP_NOTFOUND, "no message %llu", (unsigned long long)seq);
    if (rc != STORE_OK)
        return ops_store_fail(c->out, &err);
    message_detail(c->out, &r);
    ops_text_block(c->out, "raw", r.raw);
    rl_buf tree;
    rl_buf_init(&tree, 0);
    if (ops_hl7_tree_of(r.raw, &tree, &err) != 0) {
        rl_buf_reset(&tree);
        rl_buf_printf(&tree, "(does not parse: %s)", err.msg);
        view_printf(c->out, "tree: %.*s\n", (int)tree.len, tree.data);
    } else {
        view_printf(c->out, "tree:\n%.*s", (int)tree.len, tree.data);
    }
    view_json(c->out, "tree", view_jstr(rl_buf_view(&tree)));
    rl_buf_free(&tree);
    ops_text_block(c->out, "ack", r.ack);
    names_of(c, &r);
    msglog_rec_free(&r);
    trace_of(c, ops_str(c, "SEQ"));
    return OP_OK;
}

/* ---- msg replay ---- */

static void replay_words(op_call *c, uint64_t seq, const ingest_result *res, rl_str trace,
                         rl_str ack)
{
    view *v = c->out;
    view_add(v, trace);
    view_printf(v, "message %llu %s with %s as message %llu: %s", (unsigned long long)seq,
                c->dry ? "would be replayed" : "replayed", route_source(c->routes),
                (unsigned long long)res->seq, msglog_status_name(res->status));
    if (res->forwarded)
        view_printf(v, ", %u forward%s %s", res->forwarded, res->forwarded == 1 ? "" : "s",
                    c->dry ? "would be queued" : "queued");
    view_printf(v, "\nACK:\n");
    for (size_t i = 0; i < ack.n; i++)
        view_printf(v, "%c", ack.p[i] == '\r' ? '\n' : ack.p[i]);
}

int ops_msg_replay(op_call *c)
{
    uint64_t seq = ops_u64(c, "SEQ", 0);
    c->dry = ops_flag(c, "dry-run");
    if (!c->ing || !c->routes)
        return view_fail(c->out, OP_FAIL, "no routes to replay with");
    rl_buf ack, trace;
    rl_buf_init(&ack, 0);
    rl_buf_init(&trace, 0);
    ingest_result res = { .ack = &ack };
    rl_err err;
    int rc = ingest_replay(c->ing, c->t, seq, c->routes, &res,
                           ops_flag(c, "quiet") ? NULL : &trace, &err);
    int status;
    if (rc == STORE_OK) {
        replay_words(c, seq, &res, rl_buf_view(&trace), rl_buf_view(&ack));
        /* a replay the routes refuse is logged like a refused message: it is
         * kept, and the status says it was refused */
        status = res.status == MSG_ACCEPTED ? OP_OK : OP_FAIL;
        c->keep = !c->dry;
        c->kick_senders |= res.forwarded > 0 && !c->dry;
    } else {
        status = view_fail(c->out, rc == STORE_NOTFOUND ? OP_NOTFOUND : OP_FAIL, "%s", err.msg);
    }
    rl_buf_free(&ack);
    rl_buf_free(&trace);
    return status;
}
