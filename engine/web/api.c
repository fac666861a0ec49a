/* The JSON API (/api/...): the CLI's verbs over HTTP. Reads run here, in a
 * read transaction of the engine's store (never blocking its writer), with
 * the code the CLI reads with; state changes go to the engine's loop over
 * the control socket as the same requests the CLI sends (radlink/ctl.h),
 * each recorded in the audit trail with the user who asked.
 *
 * Lists carry no patient data (no names, no patient IDs): only a detail
 * answer (a message, a study, a worklist entry) does, to a logged-in user.
 * Errors are {"error": "..."} with a 4xx or 5xx status. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "web.h"
#include "../cli/cli.h"
#include "radlink/hl7.h"
#include "radlink/job.h"
#include "radlink/msgfind.h"
#include "radlink/queue.h"
#include "radlink/recon.h"
#include "radlink/recon_job.h"
#include "radlink/study.h"
#include "radlink/users.h"
#include "radlink/wl.h"

#define LIST_DEFAULT 50
#define LIST_MAX 1000

/* ---- answers ---- */

void web_json(web_call *c, int status, json_t *j)
{
    char *text = j ? json_dumps(j, JSON_COMPACT | JSON_ENSURE_ASCII | JSON_REAL_PRECISION(9)) : NULL;
    json_decref(j);
    if (!text) {
        web_text(c, 500, "out of memory\n");
        return;
    }
    c->resp->status = status;
    c->resp->content_type = "application/json";
    rl_buf_reset(&c->resp->body);
    rl_buf_add_c(&c->resp->body, text);
    rl_buf_add_ch(&c->resp->body, '\n');
    free(text);
}

void web_error(web_call *c, int status, const char *fmt, ...)
{
    char text[600];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    web_json(c, status, json_pack("{s:s}", "error", text));
}

/* A JSON string of bytes from outside (HL7, DICOM): UTF-8 as it is, else
 * each byte read as ISO 8859-1 (HL7's usual default), so nothing is lost. */
static json_t *jstr(rl_str s)
{
    json_t *j = json_stringn(s.p ? s.p : "", s.n);
    if (j)
        return j;
    char *u = malloc(s.n * 2 + 1);
    size_t k = 0;
    if (!u)
        return json_null();
    for (size_t i = 0; i < s.n; i++) {
        unsigned char b = (unsigned char)s.p[i];
        if (b < 0x80) {
            u[k++] = (char)b;
        } else {
            u[k++] = (char)(0xC0 | (b >> 6));
            u[k++] = (char)(0x80 | (b & 0x3F));
        }
    }
    j = json_stringn(u, k);
    free(u);
    return j ? j : json_null();
}

static json_t *jtime(int64_t us)
{
    if (!us)
        return json_null();
    char t[40];
    rl_time_iso(us, t, sizeof t);
    return json_string(t);
}

/* ---- request parts ---- */

/* A number from the query: def when absent; false (and a 400 written)
 * when it is not one within [min, max]. */
static bool q_num(web_call *c, const char *name, uint64_t def, uint64_t min, uint64_t max,
                  uint64_t *out)
{
    const char *v = http_query(c->req, name);
    *out = def;
    if (!v)
        return true;
    if (!rl_str_to_u64(rl_str_c(v), max, out) || *out < min) {
        web_error(c, 400, "%s: '%.100s' is not a number from %llu to %llu", name, v,
                  (unsigned long long)min, (unsigned long long)max);
        return false;
    }
    return true;
}

static bool path_u64(web_call *c, const char *text, const char *what, uint64_t *out)
{
    if (rl_str_to_u64(rl_str_c(text), UINT64_MAX, out) && *out)
        return true;
    web_error(c, 400, "'%.100s' is not a %s", text, what);
    return false;
}

/* The request body as a JSON object (an empty body is {}); NULL and a 400
 * with the line and column when it is not one. */
static json_t *body_object(web_call *c)
{
    if (!c->req->body.n)
        return json_object();
    json_error_t e;
    json_t *j = json_loadb(c->req->body.p, c->req->body.n, 0, &e);
    if (!j) {
        web_error(c, 400, "the body is not JSON: line %d, column %d: %s", e.line, e.column,
                  e.text);
        return NULL;
    }
    if (!json_is_object(j)) {
        json_decref(j);
        web_error(c, 400, "the body must be a JSON object");
        return NULL;
    }
    return j;
}

static store_txn *read_txn(web_call *c)
{
    store_txn *t;
    rl_err err;
    if (store_begin(c->w->st, NULL, false, &t, &err) != STORE_OK) {
        web_error(c, 503, "the store cannot be read: %s", err.msg);
        return NULL;
    }
    return t;
}

/* ---- actions: the CLI's requests, through the loop ---- */

/* Send argv to the loop; answer {"done", "status", "output"}: 200 when
 * done (or, with result_ok, when the request ran at all: a replay the
 * routes refuse is a result), 409 when refused, 400 for a request that
 * does not parse, 503 when the engine did not answer. */
static void action(web_call *c, int argc, char **argv, bool result_ok)
{
    char what[600];
    size_t k = 0;
    for (int i = 0; i < argc && k < sizeof what - 1; i++)
        k += (size_t)snprintf(what + k, sizeof what - k, "%s%s", i ? " " : "", argv[i]);
    rl_buf out;
    rl_buf_init(&out, RL_CTL_REPLY_MAX);
    int status = 1;
    int rc = web_ctl(c->w, argc, argv, &status, &out);
    web_audit_action(c, what, rc == 0 ? status : 1, rl_buf_cstr(&out));
    int http = rc != 0 ? 503 : status == 0 || (result_ok && status == 1) ? 200
                             : status == 2 ? 400 : 409;
    web_json(c, http, json_pack("{s:b, s:i, s:o}", "done", rc == 0 && status == 0, "status",
                                status, "output", jstr(rl_buf_view(&out))));
    rl_buf_free(&out);
}

/* ---- status and the overview ---- */

static const char *const msg_status_names[] = { "", "accepted", "error", "rejected",
                                                "duplicate" };

/* Messages per minute over the last hour, from the log (its time index). */
static json_t *last_hour(store_txn *t, int64_t now)
{
    int64_t start = now - 3600 * 1000000LL;
    start -= start % 60000000;
    json_t *by[4];
    unsigned counts[4][61] = { { 0 } };
    uint64_t seq = 0, next = 1;
    rl_err err;
    store_next_seq(t, STORE_MSG, &next, &err);
    if (msglog_seek_time(t, start, &seq, &err) == STORE_OK) {
        for (; seq && seq < next; seq++) {
            msglog_rec r;
            if (msglog_get(t, seq, &r, &err) != STORE_OK)
                continue;
            int64_t m = (r.recv_us - start) / 60000000;
            if (m >= 0 && m <= 60 && r.status >= 1 && r.status <= 4)
                counts[r.status - 1][m]++;
        }
    }
    json_t *o = json_object();
    json_object_set_new(o, "start", jtime(start));
    json_object_set_new(o, "minutes", json_integer(61));
    for (int s = 0; s < 4; s++) {
        by[s] = json_array();
        for (int m = 0; m <= 60; m++)
            json_array_append_new(by[s], json_integer(counts[s][m]));
        json_object_set_new(o, msg_status_names[s + 1], by[s]);
    }
    return o;
}

static json_t *meta(store_txn *t, const char *key)
{
    rl_str v;
    rl_err err;
    if (store_get(t, STORE_META, rl_str_c(key), &v, &err) != STORE_OK)
        return json_null();
    return jstr(v);
}

static void api_status(web_call *c)
{
    web_gauges *g = calloc(1, sizeof *g);
    if (!g || web_gauges_read(c->w, g) != 0) {
        free(g);
        web_error(c, 503, "the store cannot be read");
        return;
    }
    int64_t now = rl_now_us();
    json_t *o = json_object(), *dests = json_array(), *jobs = json_object(),
           *studies = json_object();
    unsigned long pending = 0, parked = 0;
    for (size_t i = 0; i < g->nd; i++) {
        const web_dest_gauge *d = &g->d[i];
        pending += d->pending;
        parked += d->parked;
        json_array_append_new(dests, json_pack("{s:s, s:I, s:I, s:f}", "name", d->name,
                                               "pending", (json_int_t)d->pending, "parked",
                                               (json_int_t)d->parked, "oldest_age_s",
                                               d->pending ? (double)(now - d->oldest_us) / 1e6
                                                          : 0.0));
    }
    for (int s = JOB_PENDING; s <= JOB_UNVERIFIED; s++)
        json_object_set_new(jobs, job_state_name((job_state)s), json_integer((json_int_t)g->jobs[s]));
    for (int s = RECON_NEW; s <= RECON_FORWARDED; s++)
        json_object_set_new(studies, recon_state_name((recon_state)s),
                            json_integer((json_int_t)g->studies[s]));
    json_object_set_new(o, "destinations", dests);
    json_object_set_new(o, "jobs", jobs);
    json_object_set_new(o, "studies", studies);
    json_object_set_new(o, "unmatched", json_integer((json_int_t)g->studies[RECON_UNMATCHED]));
    json_object_set_new(o, "messages_logged", json_integer((json_int_t)g->messages));
    json_object_set_new(o, "rss_bytes", json_real(web_rss_bytes()));
    if (g->have_usage)
        json_object_set_new(o, "store",
                            json_pack("{s:I, s:I, s:I}", "map_bytes", (json_int_t)g->usage.map_bytes,
                                      "used_bytes", (json_int_t)g->usage.used_bytes, "free_bytes",
                                      (json_int_t)(g->usage.map_bytes - g->usage.used_bytes +
                                                   g->usage.reusable_bytes)));
    free(g);
    /* what only the loop knows, in the words of `radlink status` */
    char *req[] = { "status" };
    int st = 1;
    rl_buf out;
    rl_buf_init(&out, RL_CTL_REPLY_MAX);
    web_ctl(c->w, 1, req, &st, &out);
    json_object_set_new(o, "engine", jstr(rl_buf_view(&out)));
    rl_buf_free(&out);
    store_txn *t = read_txn(c);
    if (!t) {
        json_decref(o);
        return;
    }
    json_object_set_new(o, "last_hour", last_hour(t, now));
    json_object_set_new(o, "routes",
                        json_pack("{s:o, s:o, s:o, s:o}", "file", meta(t, "routes.file"), "sha256",
                                  meta(t, "routes.sha256"), "count", meta(t, "routes.count"),
                                  "reload", meta(t, "routes.reload")));
    store_abort(t);
    /* the gauges sampled over the last hour */
    json_t *samples = json_array();
    pthread_mutex_lock(&c->w->lock);
    for (size_t i = 0; i < c->w->nsamples; i++) {
        size_t k = (c->w->next_sample + WEB_SAMPLES - c->w->nsamples + i) % WEB_SAMPLES;
        const web_sample *s = &c->w->samples[k];
        json_array_append_new(samples,
                              json_pack("{s:o, s:f, s:f, s:f, s:f, s:f, s:f}", "at", jtime(s->at_us),
                                        "pending", s->pending, "parked", s->parked, "unmatched",
                                        s->unmatched, "jobs_waiting", s->jobs_waiting, "jobs_dead",
                                        s->jobs_dead, "store_used", s->store_used));
    }
    pthread_mutex_unlock(&c->w->lock);
    json_object_set_new(o, "samples", samples);
    json_object_set_new(o, "queued_total", json_integer((json_int_t)pending));
    json_object_set_new(o, "parked_total", json_integer((json_int_t)parked));
    web_json(c, 200, o);
}

static void *sampler(void *arg)
{
    web *w = arg;
    web_gauges *g = malloc(sizeof *g);
    pthread_mutex_lock(&w->lock);
    while (g && !w->stopping) {
        pthread_mutex_unlock(&w->lock);
        bool ok = web_gauges_read(w, g) == 0;
        pthread_mutex_lock(&w->lock);
        if (ok) {
            web_sample s = { .at_us = rl_now_us() };
            for (size_t i = 0; i < g->nd; i++) {
                s.pending += (double)g->d[i].pending;
                s.parked += (double)g->d[i].parked;
            }
            s.unmatched = (double)g->studies[RECON_UNMATCHED];
            s.jobs_waiting = (double)(g->jobs[JOB_PENDING] + g->jobs[JOB_FAILED] +
                                      g->jobs[JOB_RUNNING]);
            s.jobs_dead = (double)(g->jobs[JOB_DEAD] + g->jobs[JOB_UNVERIFIED]);
            s.store_used = g->have_usage ? (double)g->usage.used_bytes : 0;
            w->samples[w->next_sample] = s;
            w->next_sample = (w->next_sample + 1) % WEB_SAMPLES;
            if (w->nsamples < WEB_SAMPLES)
                w->nsamples++;
        }
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_sec += 60;
        while (!w->stopping &&
               pthread_cond_timedwait(&w->wake, &w->lock, &until) == 0) {
        }
    }
    pthread_mutex_unlock(&w->lock);
    free(g);
    return NULL;
}

void web_sampler_start(web *w)
{
    pthread_cond_init(&w->wake, NULL);
    w->sampler_on = pthread_create(&w->sampler, NULL, sampler, w) == 0;
}

void web_sampler_stop(web *w)
{
    if (!w->sampler_on)
        return;
    pthread_mutex_lock(&w->lock);
    w->stopping = true;
    pthread_cond_broadcast(&w->wake);
    pthread_mutex_unlock(&w->lock);
    pthread_join(w->sampler, NULL);
    w->sampler_on = false;
}

/* ---- messages ---- */

static json_t *msg_row(const msglog_rec *r)
{
    rl_str note = r->error;
    for (size_t i = 0; !note.n && i + 9 <= r->outcome.n; i++)
        if (memcmp(r->outcome.p + i, "warning: ", 9) == 0)
            note = (rl_str){ r->outcome.p + i, r->outcome.n - i };
    return json_pack("{s:I, s:o, s:s, s:o, s:o, s:o, s:o, s:o, s:o}", "seq", (json_int_t)r->seq,
                     "received", jtime(r->recv_us), "status", msglog_status_name(r->status),
                     "ack", jstr(r->ack_code), "type", jstr(r->type), "control_id",
                     jstr(r->ctrl), "peer", jstr(r->peer), "listener", jstr(r->listener),
                     "note", jstr(note));
}

static void api_messages(web_call *c)
{
    uint64_t limit, before;
    if (!q_num(c, "limit", LIST_DEFAULT, 1, LIST_MAX, &limit) ||
        !q_num(c, "before", 0, 0, UINT64_MAX, &before))
        return;
    msgfind f = { .status = -1 };
    const char *status = http_query(c->req, "status"), *type = http_query(c->req, "type"),
               *since = http_query(c->req, "since"), *search = http_query(c->req, "q");
    if (status && status[0] && (f.status = msglog_status_parse(status)) < 0) {
        web_error(c, 400, "status must be accepted, error, rejected or duplicate");
        return;
    }
    if (type && type[0])
        f.type = type;
    if (since && since[0] && cli_parse_since(since, &f.since_us) != 0) {
        web_error(c, 400, "since: '%.60s' is not a date (2026-11-23[T10:15]) or an age (30s, "
                  "10m, 2h, 3d)", since);
        return;
    }
    rl_err err;
    if (search && search[0] && msgfind_set_search(&f, search, &err) != 0) {
        web_error(c, 400, "q: %s", err.msg);
        return;
    }
    store_txn *t = read_txn(c);
    if (!t)
        return;
    uint64_t *seqs = malloc(limit * sizeof *seqs), resume = 0, scanned = 0;
    size_t n = 0;
    int64_t t0 = rl_now_us();
    int rc = seqs ? msgfind_page(t, &f, before, seqs, limit, &n, &resume, &scanned, &err)
                  : STORE_E_IO;
    int64_t took = rl_now_us() - t0;
    if (rc != STORE_OK) {
        store_abort(t);
        free(seqs);
        web_error(c, 503, "the message log cannot be read");
        return;
    }
    json_t *rows = json_array();
    for (size_t i = 0; i < n; i++) {
        msglog_rec r;
        if (msglog_get(t, seqs[i], &r, &err) == STORE_OK)
            json_array_append_new(rows, msg_row(&r));
    }
    store_abort(t);
    free(seqs);
    web_json(c, 200, json_pack("{s:o, s:o, s:I, s:f}", "messages", rows, "next_before",
                               resume ? json_integer((json_int_t)resume) : json_null(),
                               "scanned", (json_int_t)scanned, "search_ms",
                               (double)took / 1000.0));
}

static json_t *tree_text(rl_str raw)
{
    hl7_msg m;
    rl_err err;
    hl7_msg_init(&m, &(hl7_limits){ .max_bytes = raw.n + 1 });
    char *text = NULL;
    size_t len = 0;
    json_t *j;
    if (hl7_parse(&m, raw.p, raw.n, &err) != HL7_OK) {
        char why[sizeof err.msg + 32];
        snprintf(why, sizeof why, "(does not parse: %s)", err.msg);
        j = json_string(why);
    } else {
        FILE *f = open_memstream(&text, &len);
        if (f) {
            cli_hl7_tree(f, &m, &err);
            fclose(f);
        }
        j = jstr((rl_str){ text, text ? len : 0 });
    }
    free(text);
    hl7_msg_free(&m);
    return j;
}

static void api_message(web_call *c, char **arg)
{
    uint64_t seq;
    if (!path_u64(c, arg[0], "message number", &seq))
        return;
    store_txn *t = read_txn(c);
    if (!t)
        return;
    msglog_rec r;
    rl_err err;
    int rc = msglog_get(t, seq, &r, &err);
    if (rc != STORE_OK) {
        store_abort(t);
        if (rc == STORE_NOTFOUND)
            web_error(c, 404, "no message %llu", (unsigned long long)seq);
        else
            web_error(c, 503, "%s", err.msg);
        return;
    }
    json_t *o = msg_row(&r);
    json_object_set_new(o, "ack_code", jstr(r.ack_code));
    json_object_set_new(o, "sender", json_pack("{s:o, s:o}", "application", jstr(r.app),
                                               "facility", jstr(r.fac)));
    json_object_set_new(o, "duplicate_of",
                        r.dup_of ? json_integer((json_int_t)r.dup_of) : json_null());
    json_object_set_new(o, "error", jstr(r.error));
    json_object_set_new(o, "routing", jstr(r.outcome));
    json_object_set_new(o, "raw", jstr(r.raw));
    json_object_set_new(o, "tree", tree_text(r.raw));
    json_object_set_new(o, "ack_sent", jstr(r.ack));
    store_abort(t);
    /* the route trace: the replay's dry run (nothing kept, nothing sent) */
    char *req[] = { "msg", "replay", arg[0], "--dry-run" };
    rl_buf out;
    rl_buf_init(&out, RL_CTL_REPLY_MAX);
    int status = 1;
    if (web_ctl(c->w, 4, req, &status, &out) == 0)
        json_object_set_new(o, "trace", jstr(rl_buf_view(&out)));
    rl_buf_free(&out);
    web_json(c, 200, o);
}

static bool message_exists(web_call *c, const char *text, uint64_t *seq)
{
    if (!path_u64(c, text, "message number", seq))
        return false;
    store_txn *t = read_txn(c);
    if (!t)
        return false;
    msglog_rec r;
    rl_err err;
    int rc = msglog_get(t, *seq, &r, &err);
    store_abort(t);
    if (rc != STORE_OK)
        web_error(c, 404, "no message %llu", (unsigned long long)*seq);
    return rc == STORE_OK;
}

static void api_replay(web_call *c, char **arg)
{
    uint64_t seq;
    json_t *b = body_object(c);
    if (!b)
        return;
    bool dry = json_is_true(json_object_get(b, "dry_run"));
    json_decref(b);
    if (!message_exists(c, arg[0], &seq))
        return;
    char *req[] = { "msg", "replay", arg[0], "--dry-run" };
    action(c, dry ? 4 : 3, req, true);
}

/* ---- queues ---- */

typedef struct queue_list {
    json_t *rows;
    const char *state;
    uint64_t skip, limit, total;
} queue_list;

static int queue_row(void *ctx, const queue_item *it)
{
    queue_list *l = ctx;
    const char *state = it->state == QUEUE_PENDING ? "pending" : "parked";
    if (l->state && strcmp(l->state, state) != 0)
        return 0;
    if (l->total++ < l->skip || json_array_size(l->rows) >= l->limit)
        return 0;
    json_array_append_new(l->rows,
                          json_pack("{s:s, s:I, s:s, s:I, s:o, s:i, s:o, s:o}", "dest", it->dest,
                                    "qseq", (json_int_t)it->qseq, "state", state, "msg_seq",
                                    (json_int_t)it->msg_seq, "queued", jtime(it->enq_us),
                                    "attempts", (int)it->attempts, "next_attempt",
                                    it->state == QUEUE_PENDING && it->attempts ? jtime(it->next_us)
                                                                               : json_null(),
                                    "last_error", jstr(it->last_error)));
    return 0;
}

static void api_queues(web_call *c)
{
    queue_list l = { .state = http_query(c->req, "state") };
    const char *dest = http_query(c->req, "dest");
    if (!q_num(c, "limit", 100, 1, LIST_MAX, &l.limit) ||
        !q_num(c, "offset", 0, 0, UINT64_MAX, &l.skip))
        return;
    if (l.state && !l.state[0])
        l.state = NULL;
    if (l.state && strcmp(l.state, "pending") && strcmp(l.state, "parked")) {
        web_error(c, 400, "state must be pending or parked");
        return;
    }
    store_txn *t = read_txn(c);
    if (!t)
        return;
    l.rows = json_array();
    rl_err err;
    queue_each(t, dest && dest[0] ? dest : NULL, queue_row, &l, &err);
    store_abort(t);
    web_json(c, 200, json_pack("{s:o, s:I}", "items", l.rows, "total", (json_int_t)l.total));
}

static bool queue_item_exists(web_call *c, const char *dest, const char *qtext)
{
    uint64_t qseq;
    if (!path_u64(c, qtext, "queue number", &qseq))
        return false;
    store_txn *t = read_txn(c);
    if (!t)
        return false;
    queue_item it;
    rl_err err;
    int rc = queue_get(t, dest, qseq, &it, &err);
    store_abort(t);
    if (rc != STORE_OK)
        web_error(c, 404, "nothing queued for '%.64s' as %llu", dest, (unsigned long long)qseq);
    return rc == STORE_OK;
}

static void api_queue_retry(web_call *c, char **arg)
{
    if (!queue_item_exists(c, arg[0], arg[1]))
        return;
    char *req[] = { "queue", "retry", arg[0], arg[1] };
    action(c, 4, req, false);
}

static void api_queue_park(web_call *c, char **arg)
{
    if (!queue_item_exists(c, arg[0], arg[1]))
        return;
    char *req[] = { "queue", "park", arg[0], arg[1] };
    action(c, 4, req, false);
}

static void api_queue_retry_all(web_call *c, char **arg)
{
    char *req[] = { "queue", "retry", arg[0], "--all" };
    action(c, 4, req, false);
}

/* ---- jobs ---- */

static json_t *job_json(const job *j)
{
    return json_pack("{s:I, s:s, s:o, s:o, s:i, s:o, s:o, s:o, s:o, s:o, s:o}", "id",
                     (json_int_t)j->id, "state", job_state_name(j->state), "kind", jstr(j->kind),
                     "study_uid", jstr(j->subject), "attempts", (int)j->attempts, "created",
                     jtime(j->created_us), "updated", jtime(j->updated_us), "not_before",
                     j->state == JOB_PENDING || j->state == JOB_FAILED ? jtime(j->due_us)
                                                                        : json_null(),
                     "worker", jstr(j->worker), "result", jstr(j->result), "last_error",
                     jstr(j->last_error));
}

typedef struct job_list {
    json_t *rows;
    int state;
    uint64_t limit, next;
} job_list;

static int job_row(void *ctx, const job *j)
{
    job_list *l = ctx;
    if (l->state && (int)j->state != l->state)
        return 0;
    if (json_array_size(l->rows) >= l->limit) {
        l->next = j->id;
        return 1;
    }
    json_array_append_new(l->rows, job_json(j));
    return 0;
}

static void api_jobs(web_call *c)
{
    job_list l = { 0 };
    uint64_t from;
    const char *state = http_query(c->req, "state");
    if (!q_num(c, "limit", 100, 1, LIST_MAX, &l.limit) ||
        !q_num(c, "from", 1, 1, UINT64_MAX, &from))
        return;
    if (state && state[0] && !(l.state = (int)job_state_parse(state))) {
        web_error(c, 400, "state must be pending, running, failed, done, dead or unverified");
        return;
    }
    store_txn *t = read_txn(c);
    if (!t)
        return;
    l.rows = json_array();
    rl_err err;
    job_each(t, from, job_row, &l, &err);
    store_abort(t);
    web_json(c, 200, json_pack("{s:o, s:o}", "jobs", l.rows, "next_from",
                               l.next ? json_integer((json_int_t)l.next) : json_null()));
}

static bool job_exists(web_call *c, const char *text, json_t **out)
{
    uint64_t id;
    if (!path_u64(c, text, "job ID", &id))
        return false;
    store_txn *t = read_txn(c);
    if (!t)
        return false;
    job j;
    rl_err err;
    int rc = job_get(t, id, &j, &err);
    if (rc == STORE_OK && out)
        *out = job_json(&j);
    store_abort(t);
    if (rc != STORE_OK)
        web_error(c, 404, "no job %llu", (unsigned long long)id);
    return rc == STORE_OK;
}

static void api_job(web_call *c, char **arg)
{
    json_t *j = NULL;
    if (job_exists(c, arg[0], &j))
        web_json(c, 200, j);
}

static void api_job_retry(web_call *c, char **arg)
{
    if (!job_exists(c, arg[0], NULL))
        return;
    char *req[] = { "jobs", "retry", arg[0] };
    action(c, 3, req, false);
}

static void api_jobs_retry_dead(web_call *c, char **arg)
{
    (void)arg;
    char *req[] = { "jobs", "retry", "--dead" };
    action(c, 3, req, false);
}

/* ---- reconciliation ---- */

static int count_note(void *ctx, rl_str a, rl_str b, rl_str d)
{
    (void)a, (void)b, (void)d;
    (*(unsigned *)ctx)++;
    return 0;
}

typedef struct study_list {
    json_t *rows;
    int state; /* -1 any */
    uint64_t skip, limit, total;
    int64_t now;
} study_list;

static int study_row(void *ctx, rl_str uid, const study_rec *s)
{
    study_list *l = ctx;
    if (l->state >= 0 && (int)s->state != l->state)
        return 0;
    if (l->total++ < l->skip || json_array_size(l->rows) >= l->limit)
        return 0;
    unsigned notes = 0;
    recon_note_each(s->note, count_note, &notes);
    json_array_append_new(
        l->rows, json_pack("{s:o, s:s, s:o, s:o, s:o, s:i, s:i, s:o, s:o, s:f}", "study_uid",
                           jstr(uid), "state", recon_state_name(s->state), "accession",
                           jstr(s->f[STUDY_F_ACCESSION]), "study_date",
                           jstr(s->f[STUDY_F_STUDY_DATE]), "modality", jstr(s->f[STUDY_F_MODALITY]),
                           "instances", (int)s->instances, "notes", (int)notes, "first",
                           jtime(s->first_us), "updated", jtime(s->updated_us), "age_s",
                           (double)(l->now - s->first_us) / 1e6));
    return 0;
}

static void studies(web_call *c, int state)
{
    study_list l = { .state = state, .now = rl_now_us() };
    const char *st = http_query(c->req, "state");
    if (!q_num(c, "limit", 100, 1, LIST_MAX, &l.limit) ||
        !q_num(c, "offset", 0, 0, UINT64_MAX, &l.skip))
        return;
    if (state < 0 && st && st[0]) {
        for (int s = RECON_NEW; s <= RECON_FORWARDED; s++)
            if (strcmp(st, recon_state_name((recon_state)s)) == 0)
                l.state = s;
        if (l.state < 0) {
            web_error(c, 400, "state must be one of new, matched, unmatched, correcting, "
                      "corrected, unverified, forwarded");
            return;
        }
    }
    store_txn *t = read_txn(c);
    if (!t)
        return;
    l.rows = json_array();
    rl_err err;
    study_each(t, study_row, &l, &err);
    store_abort(t);
    web_json(c, 200, json_pack("{s:o, s:I}", "studies", l.rows, "total", (json_int_t)l.total));
}

static void api_recon(web_call *c)
{
    studies(c, -1);
}

static void api_unmatched(web_call *c)
{
    studies(c, RECON_UNMATCHED);
}

static int note_item(void *ctx, rl_str a, rl_str b, rl_str d)
{
    json_t **arr = ctx; /* [candidates, discrepancies] */
    if (rl_str_eq_c(a, "Candidate") || rl_str_eq_c(a, "Claimed"))
        json_array_append_new(arr[0], json_pack("{s:o, s:o, s:b}", "accession", jstr(b), "what",
                                                jstr(d), "taken", rl_str_eq_c(a, "Claimed")));
    else
        json_array_append_new(arr[1], json_pack("{s:o, s:o, s:o}", "attribute", jstr(a),
                                                "in_images", jstr(b), "from_ris", jstr(d)));
    return 0;
}

static int change_item(void *ctx, uint64_t job_id, rl_str v)
{
    const char *f[4] = { v.p, NULL, NULL, NULL }, *end = v.p + v.n;
    int nf = 1;
    for (const char *q = v.p; q < end && nf < 4; q++)
        if (*q == '\t')
            f[nf++] = q + 1;
    if (nf == 4)
        json_array_append_new(
            ctx, json_pack("{s:o, s:o, s:o, s:I, s:o}", "attribute",
                           jstr((rl_str){ f[0], (size_t)(f[1] - f[0] - 1) }), "old",
                           jstr((rl_str){ f[1], (size_t)(f[2] - f[1] - 1) }), "new",
                           jstr((rl_str){ f[2], (size_t)(f[3] - f[2] - 1) }), "job",
                           (json_int_t)job_id, "reason", jstr((rl_str){ f[3], (size_t)(end - f[3]) })));
    return 0;
}

typedef struct inst_ctx {
    store_txn *t;
    json_t *rows;
} inst_ctx;

static int inst_item(void *ctx, rl_str sop)
{
    inst_ctx *x = ctx;
    if (json_array_size(x->rows) >= LIST_MAX)
        return 1;
    study_inst *in = malloc(sizeof *in);
    rl_err err;
    if (in && study_get_instance(x->t, sop, in, &err) == STORE_OK)
        json_array_append_new(x->rows, json_pack("{s:s, s:s, s:s, s:o}", "sop_uid",
                                                 in->f[STUDY_F_SOP_UID], "modality",
                                                 in->f[STUDY_F_MODALITY], "series_uid",
                                                 in->f[STUDY_F_SERIES_UID], "received",
                                                 jtime(in->received_us)));
    free(in);
    return 0;
}

static void api_study(web_call *c, char **arg)
{
    store_txn *t = read_txn(c);
    if (!t)
        return;
    study_rec s;
    rl_err err;
    rl_str uid = rl_str_c(arg[0]);
    if (study_get(t, uid, &s, &err) != STORE_OK) {
        store_abort(t);
        web_error(c, 404, "no study %.128s", arg[0]);
        return;
    }
    json_t *o = json_pack("{s:o, s:s, s:i, s:o, s:o}", "study_uid", jstr(uid), "state",
                          recon_state_name(s.state), "instances", (int)s.instances, "first",
                          jtime(s.first_us), "updated", jtime(s.updated_us));
    json_t *fields = json_object();
    for (int i = 0; i < STUDY_F_COUNT; i++)
        if (s.f[i].n)
            json_object_set_new(fields, study_field_name[i], jstr(s.f[i]));
    json_object_set_new(o, "fields", fields);
    json_t *order = json_null();
    if (s.matched.n) {
        rl_str k = s.matched;
        const char *z1 = memchr(k.p, '\0', k.n);
        const char *z2 = z1 ? memchr(z1 + 1, '\0', k.n - (size_t)(z1 + 1 - k.p)) : NULL;
        if (z1 && z2)
            order = json_pack("{s:o, s:o, s:o}", "accession",
                              jstr((rl_str){ k.p, (size_t)(z1 - k.p) }), "procedure",
                              jstr((rl_str){ z1 + 1, (size_t)(z2 - z1 - 1) }), "step",
                              jstr((rl_str){ z2 + 1, k.n - (size_t)(z2 + 1 - k.p) }));
    }
    json_object_set_new(o, "order", order);
    json_t *lists[2] = { json_array(), json_array() };
    recon_note_each(s.note, note_item, lists);
    json_object_set_new(o, "candidates", lists[0]);
    json_object_set_new(o, "discrepancies", lists[1]);
    json_t *changes = json_array();
    recon_changes_each(t, uid, change_item, changes, &err);
    json_object_set_new(o, "changes", changes);
    inst_ctx x = { t, json_array() };
    study_index_each(t, 'I', uid, inst_item, &x, &err);
    json_object_set_new(o, "instance_list", x.rows);
    store_abort(t);
    web_json(c, 200, o);
}

static int wl_one(void *ctx, rl_str k, const wl_entry *e)
{
    (void)k, (void)e;
    (*(unsigned *)ctx)++;
    return 1;
}

static void api_link(web_call *c, char **arg)
{
    json_t *b = body_object(c);
    if (!b)
        return;
    const char *acc = NULL;
    int force = 0;
    json_error_t e;
    if (json_unpack_ex(b, &e, JSON_STRICT, "{s:s, s?b}", "accession", &acc, "force", &force) != 0 ||
        !acc[0]) {
        json_decref(b);
        web_error(c, 400, "expected {\"accession\": ACCESSION[, \"force\": true]}: %s", e.text);
        return;
    }
    char accession[65];
    snprintf(accession, sizeof accession, "%s", acc);
    json_decref(b);
    store_txn *t = read_txn(c);
    if (!t)
        return;
    study_rec s;
    rl_err err;
    bool study = study_get(t, rl_str_c(arg[0]), &s, &err) == STORE_OK;
    unsigned orders = 0;
    wl_query *q = calloc(1, sizeof *q);
    if (q) {
        wl_query_add(q, 0, WL_ACCESSION, "SH", rl_str_c(accession));
        wl_find(t, q, wl_one, &orders, NULL, &err);
        free(q);
    }
    store_abort(t);
    if (!study) {
        web_error(c, 404, "no study %.128s", arg[0]);
        return;
    }
    if (!orders) {
        web_error(c, 404, "no worklist entry with accession number %s", accession);
        return;
    }
    char *req[] = { "recon", "link", arg[0], accession, "--force" };
    action(c, force ? 5 : 4, req, false);
}

/* ---- worklist ---- */

typedef struct wl_list {
    json_t *rows;
    uint64_t limit;
    bool more;
} wl_list;

static int wl_row(void *ctx, rl_str k, const wl_entry *e)
{
    (void)k;
    wl_list *l = ctx;
    if (json_array_size(l->rows) >= l->limit) {
        l->more = true;
        return 1;
    }
    json_array_append_new(
        l->rows, json_pack("{s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o}", "accession",
                           jstr(wl_top(e, WL_ACCESSION)), "procedure", jstr(wl_top(e, WL_RP_ID)),
                           "step", jstr(wl_sps(e, WL_SPS_ID)), "date",
                           jstr(wl_sps(e, WL_SPS_DATE)), "time", jstr(wl_sps(e, WL_SPS_TIME)),
                           "modality", jstr(wl_sps(e, WL_MODALITY)), "station",
                           jstr(wl_sps(e, WL_STATION_AE)), "status",
                           jstr(wl_sps(e, WL_SPS_STATUS))));
    return 0;
}

static void api_worklist(web_call *c)
{
    wl_list l = { 0 };
    if (!q_num(c, "limit", 100, 1, LIST_MAX, &l.limit))
        return;
    wl_query *q = calloc(1, sizeof *q);
    if (!q) {
        web_error(c, 503, "out of memory");
        return;
    }
    static const struct { const char *arg; uint32_t tag; const char *vr; } keys[] = {
        { "date", WL_SPS_DATE, "DA" }, { "station", WL_STATION_AE, "AE" },
        { "modality", WL_MODALITY, "CS" },
    };
    for (size_t i = 0; i < sizeof keys / sizeof *keys; i++) {
        const char *v = http_query(c->req, keys[i].arg);
        if (v && v[0])
            wl_query_add(q, WL_SPS_SEQ, keys[i].tag, keys[i].vr, rl_str_c(v));
    }
    for (size_t i = 0; i < q->n; i++) {
        rl_err kerr;
        if (!wl_key_valid(&q->k[i], &kerr)) {
            free(q);
            web_error(c, 400, "%s", kerr.msg);
            return;
        }
    }
    store_txn *t = read_txn(c);
    if (!t) {
        free(q);
        return;
    }
    l.rows = json_array();
    rl_err err;
    wl_find(t, q, wl_row, &l, NULL, &err);
    store_abort(t);
    free(q);
    web_json(c, 200, json_pack("{s:o, s:b}", "entries", l.rows, "more", l.more));
}

static int wl_detail(void *ctx, rl_str k, const wl_entry *e)
{
    (void)k;
    json_t *attrs = json_array();
    for (size_t i = 0; i < e->n; i++) {
        const wl_attr *a = &e->a[i];
        const wl_model_attr *m = wl_model_by_path(a->path, a->depth);
        char tag[40];
        int w = 0;
        for (uint8_t d = 0; d < a->depth; d++)
            w += snprintf(tag + w, sizeof tag - (size_t)w, "%s(%04X,%04X)", d ? ">" : "",
                          a->path[d] >> 16, a->path[d] & 0xffff);
        json_array_append_new(attrs, json_pack("{s:s, s:s, s:o}", "tag", tag, "keyword",
                                               m ? m->keyword : "?", "value", jstr(a->value)));
    }
    json_array_append_new(ctx, json_pack("{s:o, s:o, s:o, s:o, s:o}", "created",
                                         jtime(e->created_us), "updated", jtime(e->updated_us),
                                         "message",
                                         e->msg_seq ? json_integer((json_int_t)e->msg_seq)
                                                    : json_null(),
                                         "source", jstr(e->source), "attributes", attrs));
    return 0;
}

static void api_worklist_entry(web_call *c, char **arg)
{
    wl_query *q = calloc(1, sizeof *q);
    store_txn *t = q ? read_txn(c) : NULL;
    if (!t) {
        free(q);
        return;
    }
    wl_query_add(q, 0, WL_ACCESSION, "SH", rl_str_c(arg[0]));
    json_t *rows = json_array();
    rl_err err;
    wl_find(t, q, wl_detail, rows, NULL, &err);
    store_abort(t);
    free(q);
    if (!json_array_size(rows)) {
        json_decref(rows);
        web_error(c, 404, "no worklist entry with accession number %.64s", arg[0]);
        return;
    }
    web_json(c, 200, json_pack("{s:s, s:o}", "accession", arg[0], "entries", rows));
}

/* ---- routes ---- */

static void api_routes(web_call *c)
{
    store_txn *t = read_txn(c);
    if (!t)
        return;
    json_t *o = json_pack("{s:o, s:o, s:o, s:o, s:o}", "file", meta(t, "routes.file"), "sha256",
                          meta(t, "routes.sha256"), "count", meta(t, "routes.count"),
                          "loaded_us", meta(t, "routes.loaded_us"), "reload",
                          meta(t, "routes.reload"));
    store_abort(t);
    web_json(c, 200, o);
}

static void api_routes_reload(web_call *c, char **arg)
{
    (void)arg;
    char *req[] = { "routes", "reload" };
    action(c, 2, req, false);
}

/* ---- users (admins) ---- */

static pthread_mutex_t users_lock = PTHREAD_MUTEX_INITIALIZER;

static void api_users(web_call *c)
{
    users_rec *u = calloc(RL_USERS_MAX, sizeof *u);
    size_t n = 0;
    rl_err err;
    if (!u || users_load(c->w->users_path, u, RL_USERS_MAX, &n, &err) != 0) {
        free(u);
        web_error(c, 503, "the users file cannot be read");
        return;
    }
    json_t *rows = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(rows, json_pack("{s:s, s:s}", "name", u[i].name, "role",
                                              users_role_name((int)u[i].role)));
    free(u);
    web_json(c, 200, json_pack("{s:o}", "users", rows));
}

/* Add or change a user (body {"name", "role", "password"}), or remove one
 * (name given, remove true). */
static void users_change(web_call *c, const char *name, const char *role_name,
                         const char *password, bool remove)
{
    int role = remove ? 0 : users_role_parse(role_name);
    if (!users_name_ok(name) || (!remove && role < 0)) {
        web_error(c, 400, "a user name is 1 to 63 of A-Z a-z 0-9 . _ -, a role viewer, "
                  "operator or admin");
        return;
    }
    if (!remove && strlen(password) < RL_PASSWORD_MIN) {
        web_error(c, 400, "a password has at least %d characters", RL_PASSWORD_MIN);
        return;
    }
    char hash[200] = "";
    rl_err err;
    if (!remove && users_hash(password, hash, sizeof hash, &err) != 0) {
        web_error(c, 503, "%s", err.msg);
        return;
    }
    users_rec *u = calloc(RL_USERS_MAX, sizeof *u);
    size_t n = 0;
    int http = 200;
    char text[200];
    pthread_mutex_lock(&users_lock);
    if (!u || users_load(c->w->users_path, u, RL_USERS_MAX, &n, &err) != 0) {
        http = 503;
        snprintf(text, sizeof text, "the users file cannot be read");
    } else {
        size_t i = 0;
        while (i < n && strcmp(u[i].name, name) != 0)
            i++;
        if (remove && i == n) {
            http = 404;
            snprintf(text, sizeof text, "no user %s", name);
        } else if (!remove && i == n && n == RL_USERS_MAX) {
            http = 409;
            snprintf(text, sizeof text, "the users file holds %d users at most", RL_USERS_MAX);
        } else {
            if (remove) {
                memmove(&u[i], &u[i + 1], (n - i - 1) * sizeof *u);
                n--;
            } else {
                snprintf(u[i].name, sizeof u[i].name, "%s", name);
                u[i].role = (users_role)role;
                snprintf(u[i].hash, sizeof u[i].hash, "%s", hash);
                n += i == n;
            }
            if (users_save(c->w->users_path, u, n, &err) != 0) {
                http = 503;
                snprintf(text, sizeof text, "%.190s", err.msg);
            } else {
                snprintf(text, sizeof text, "user %s %s", name,
                         remove ? "removed" : "saved");
            }
        }
    }
    pthread_mutex_unlock(&users_lock);
    free(u);
    char what[120];
    snprintf(what, sizeof what, "user %s %s", remove ? "del" : "set", name);
    web_audit_action(c, what, http == 200 ? 0 : 1, text);
    if (http == 200)
        web_end_sessions(c->w, name);
    if (http != 200)
        web_error(c, http, "%s", text);
    else
        web_json(c, 200, json_pack("{s:b, s:s}", "done", 1, "output", text));
}

static void api_user_set(web_call *c, char **arg)
{
    (void)arg;
    json_t *b = body_object(c);
    const char *name = NULL, *role = NULL, *password = NULL;
    json_error_t e;
    if (!b)
        return;
    if (json_unpack_ex(b, &e, JSON_STRICT, "{s:s, s:s, s:s}", "name", &name, "role", &role,
                       "password", &password) != 0)
        web_error(c, 400, "expected {\"name\", \"role\", \"password\"}: %s", e.text);
    else
        users_change(c, name, role, password, false);
    json_decref(b);
}

static void api_user_del(web_call *c, char **arg)
{
    users_change(c, arg[0], NULL, NULL, true);
}

/* ---- the table ---- */

typedef struct api_route {
    const char *method, *pattern; /* "*" matches one path segment */
    int role;                     /* users_role needed */
    void (*get)(web_call *c);     /* GET without arguments */
    void (*fn)(web_call *c, char **arg);
} api_route;

static void api_get_message(web_call *c, char **a) { api_message(c, a); }

static const api_route routes[] = {
    { "GET", "/api/status", USERS_VIEWER, api_status, NULL },
    { "GET", "/api/messages", USERS_VIEWER, api_messages, NULL },
    { "GET", "/api/messages/*", USERS_VIEWER, NULL, api_get_message },
    { "POST", "/api/messages/*/replay", USERS_OPERATOR, NULL, api_replay },
    { "GET", "/api/queues", USERS_VIEWER, api_queues, NULL },
    { "POST", "/api/queues/*/*/retry", USERS_OPERATOR, NULL, api_queue_retry },
    { "POST", "/api/queues/*/*/park", USERS_OPERATOR, NULL, api_queue_park },
    { "POST", "/api/queues/*/retry-all", USERS_OPERATOR, NULL, api_queue_retry_all },
    { "GET", "/api/jobs", USERS_VIEWER, api_jobs, NULL },
    { "POST", "/api/jobs/retry-dead", USERS_OPERATOR, NULL, api_jobs_retry_dead },
    { "GET", "/api/jobs/*", USERS_VIEWER, NULL, api_job },
    { "POST", "/api/jobs/*/retry", USERS_OPERATOR, NULL, api_job_retry },
    { "GET", "/api/recon", USERS_VIEWER, api_recon, NULL },
    { "GET", "/api/recon/unmatched", USERS_VIEWER, api_unmatched, NULL },
    { "GET", "/api/recon/*", USERS_VIEWER, NULL, api_study },
    { "POST", "/api/recon/*/link", USERS_OPERATOR, NULL, api_link },
    { "GET", "/api/worklist", USERS_VIEWER, api_worklist, NULL },
    { "GET", "/api/worklist/*", USERS_VIEWER, NULL, api_worklist_entry },
    { "GET", "/api/routes", USERS_VIEWER, api_routes, NULL },
    { "POST", "/api/routes/reload", USERS_ADMIN, NULL, api_routes_reload },
    { "GET", "/api/users", USERS_ADMIN, api_users, NULL },
    { "POST", "/api/users", USERS_ADMIN, NULL, api_user_set },
    { "DELETE", "/api/users/*", USERS_ADMIN, NULL, api_user_del },
};

/* path against pattern; the "*" segments go to arg (NUL-terminated in buf). */
static bool match(const char *pattern, const char *path, char *buf, size_t bufn, char **arg,
                  int *narg)
{
    size_t k = 0;
    *narg = 0;
    while (*pattern && *path) {
        if (*pattern == '*') {
            size_t n = strcspn(path, "/");
            if (!n || *narg == 4 || k + n + 1 > bufn)
                return false;
            memcpy(buf + k, path, n);
            buf[k + n] = '\0';
            arg[(*narg)++] = buf + k;
            k += n + 1;
            path += n;
            pattern++;
            continue;
        }
        if (*pattern++ != *path++)
            return false;
    }
    return !*pattern && !*path;
}

bool web_api(web_call *c)
{
    const char *path = c->req->path, *method = c->req->method;
    if (strncmp(path, "/api/", 5) != 0 && strcmp(path, "/api") != 0)
        return false;
    bool get = !strcmp(method, "GET") || !strcmp(method, "HEAD");
    if (!strcmp(path, "/api/login")) {
        if (!strcmp(method, "POST"))
            web_login(c);
        else
            web_error(c, 405, "log in with POST");
        return true;
    }
    if (!strcmp(path, "/api/logout")) {
        if (!strcmp(method, "POST"))
            web_logout(c);
        else
            web_error(c, 405, "log out with POST");
        return true;
    }
    if (!strcmp(path, "/api/session") && get) {
        web_session_info(c);
        return true;
    }
    char buf[1024], *arg[4];
    int narg;
    bool path_known = false;
    for (size_t i = 0; i < sizeof routes / sizeof *routes; i++) {
        const api_route *r = &routes[i];
        if (!match(r->pattern, path, buf, sizeof buf, arg, &narg))
            continue;
        path_known = true;
        bool same = !strcmp(r->method, method) || (get && !strcmp(r->method, "GET"));
        if (!same)
            continue;
        if (web_auth(c, r->role, strcmp(r->method, "GET") != 0) != 0)
            return true;
        if (r->get)
            r->get(c);
        else
            r->fn(c, arg);
        return true;
    }
    if (path_known)
        web_error(c, 405, "%s is not taken by %s", method, path);
    else
        web_error(c, 404, "no such API: %s", path);
    return true;
}
