/* Retention (<retention>): what the engine removes so that the store and
 * the spool stay bounded, in passes of the engine's loop between two turns,
 * each a write transaction of at most RL_RETENTION_BATCH removals (the next
 * comes soon after while work is left, so messages never wait long).
 *
 * - messages older than `messages`, and the oldest while the log is larger
 *   than `messages-max-mb`, with their duplicate-index entries; a message
 *   a queue still holds, and the newest (its sequence number is the next
 *   one's base), stay;
 * - worklist entries whose scheduled date is more than `worklist` past;
 * - jobs done more than `jobs` ago (not the newest);
 * - the spool files of studies delivered and verified (matched or
 *   corrected, every instance sent by a job, no job left) and untouched for
 *   `spool`: their instance records go in the transaction, the files after
 *   its commit; the study's record stays, with its reconciliation.
 * - audit events older than `audit`, once the collector has them (when one
 *   is configured; else the store is their only copy, and `audit` says how
 *   long the site keeps them) — not the newest.
 * A duration of 0 keeps that kind forever (the default). */
#include "radlink/retention.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "radlink/audit.h"
#include "radlink/job.h"
#include "radlink/limits.h"
#include "radlink/msgidx.h"
#include "radlink/msglog.h"
#include "radlink/queue.h"
#include "radlink/rec.h"
#include "radlink/report.h"
#include "radlink/study.h"
#include "radlink/wl.h"

typedef struct pass {
    store_txn *t;
    int64_t now_us;
    unsigned budget;
    retention_result *out;
    rl_buf *unlink_paths; /* NUL-separated */
    rl_err *err;
    int rc;
    hl7_msg *scratch;  /* a message's text, parsed for its index keys */
    msgidx_keys *keys;
} pass;

static bool spend(pass *p)
{
    if (!p->budget) {
        p->out->more = true;
        return false;
    }
    p->budget--;
    return true;
}

/* ---- messages ---- */

typedef struct seqs {
    uint64_t *v;
    size_t n, cap;
} seqs;

static int collect_queued(void *ctx, const queue_item *it)
{
    seqs *s = ctx;
    if (s->n == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 256;
        uint64_t *nv = realloc(s->v, cap * sizeof *nv);
        if (!nv)
            return 1;
        s->v = nv;
        s->cap = cap;
    }
    s->v[s->n++] = it->msg_seq;
    return 0;
}

/* A report waiting for its study is filed from its message when the study
 * arrives: that message stays. */
static int collect_waiting(void *ctx, const report_rec *r)
{
    queue_item it = { .msg_seq = r->seq };
    return collect_queued(ctx, &it);
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static uint64_t db_bytes(store_txn *t, store_db db)
{
    uint64_t bytes = 0;
    rl_err err;
    store_db_bytes(t, db, &bytes, &err);
    return bytes;
}

/* A message that may go: its seq, and whether its age alone says so (else
 * only the log's size does). */
typedef struct candidate {
    uint64_t seq;
    bool old;
} candidate;

typedef struct candidates {
    candidate *v;
    size_t n, cap;
    bool cut; /* the pass's budget stopped the gathering */
} candidates;

static bool add_candidate(candidates *c, uint64_t seq, bool old)
{
    if (c->n == c->cap) {
        size_t cap = c->cap ? c->cap * 2 : 256;
        candidate *nv = realloc(c->v, cap * sizeof *nv);
        if (!nv)
            return false;
        c->v = nv;
        c->cap = cap;
    }
    c->v[c->n++] = (candidate){ seq, old };
    return true;
}

/* The oldest messages, in order, that may go: past the age, or (while the
 * log is larger than its bound) any; not one a queue holds or a report
 * waiting for its study needs, not the newest.
 * At most the pass's budget. */
static void gather_messages(pass *p, int64_t cutoff, bool oversize, const seqs *queued,
                            candidates *out)
{
    uint64_t next;
    store_cursor *c;
    if (store_next_seq(p->t, STORE_MSG, &next, p->err) != STORE_OK ||
        (p->rc = store_cursor_open(p->t, STORE_MSG, &c, p->err)) != STORE_OK)
        return;
    rl_str k, v;
    for (int rc = store_cursor_get(c, STORE_FIRST, &k, &v); rc == STORE_OK;
         rc = store_cursor_get(c, STORE_NEXT, &k, &v)) {
        if (k.n != RL_BE64_BYTES)
            continue;
        uint64_t seq = rec_get_be64(k.p);
        msglog_rec m;
        if (seq + 1 >= next || msglog_head(v, &m) != STORE_OK)
            break; /* the newest stays */
        if (m.recv_us >= cutoff && !oversize)
            break; /* in order of time: the rest is newer */
        if (queued->n && bsearch(&seq, queued->v, queued->n, sizeof *queued->v, cmp_u64))
            continue; /* a queue holds it */
        if (out->n == p->budget) {
            out->cut = true;
            break;
        }
        if (!add_candidate(out, seq, m.recv_us < cutoff))
            break;
    }
    store_cursor_close(c);
}

/* Remove one message and its index entries (the duplicate check reads them:
 * a removed message is no longer a retransmission's original). */
static void remove_message(pass *p, uint64_t seq)
{
    msglog_rec m = MSGLOG_REC_INIT;
    if (msglog_get(p->t, seq, &m, p->err) != STORE_OK) {
        msglog_rec_free(&m);
        return;
    }
    msgidx_of_record(&m, p->scratch, p->keys); /* copies: the keys outlive the record */
    msglog_rec_free(&m);
    unsigned char key[RL_BE64_BYTES];
    rec_be64(seq, key);
    p->rc = msgidx_del(p->t, seq, p->keys, p->err);
    if (p->rc == STORE_OK)
        p->rc = store_del(p->t, STORE_MSG, (rl_str){ (char *)key, sizeof key },
                          (rl_str){ NULL, 0 }, p->err);
    if (p->rc == STORE_NOTFOUND)
        p->rc = STORE_OK;
    p->out->messages += p->rc == STORE_OK;
}

/* Messages past `messages`, and the oldest while the log is larger than
 * `messages-max-mb`. The log's size is measured as the bound is, in the
 * pages its records take (branch, leaf and overflow pages: a 2.5 kB message
 * takes a whole 4 KB overflow page), after each removal: a pass removes what
 * the bound asks, no more. */
static void messages(pass *p, const cfg_retention *r)
{
    if (!r->messages_s && !r->messages_max_mb)
        return;
    int64_t cutoff = r->messages_s ? p->now_us - (int64_t)r->messages_s * 1000000 : INT64_MIN;
    uint64_t max = r->messages_max_mb << 20;
    bool oversize = max && db_bytes(p->t, STORE_MSG) > max;
    seqs q = { 0 };
    queue_each(p->t, NULL, collect_queued, &q, p->err);
    report_each_waiting(p->t, NULL, collect_waiting, &q, p->err);
    if (q.n)
        qsort(q.v, q.n, sizeof *q.v, cmp_u64);
    candidates c = { 0 };
    gather_messages(p, cutoff, oversize, &q, &c);
    size_t i = 0;
    for (; i < c.n && p->rc == STORE_OK; i++) {
        if (!c.v[i].old && !(max && db_bytes(p->t, STORE_MSG) > max))
            break; /* young, and the log fits: the rest stays */
        if (!spend(p))
            break;
        remove_message(p, c.v[i].seq);
    }
    /* the budget stopped the gathering, and all it gathered went */
    if (c.cut && i == c.n)
        p->out->more = true;
    free(c.v);
    free(q.v);
}

/* ---- the audit trail ---- */

typedef struct audit_gone {
    pass *p;
    int64_t cutoff;
    uint64_t upto; /* the last seq that may go: shipped, and not the newest */
    seqs seq;
} audit_gone;

static int audit_old(void *ctx, const audit_rec *a)
{
    audit_gone *g = ctx;
    if (a->seq > g->upto || a->time_us >= g->cutoff || !spend(g->p))
        return 1;
    collect_queued(&g->seq, &(queue_item){ .msg_seq = a->seq });
    return 0;
}

static void audit_trail(pass *p, const cfg_retention *r, bool collector)
{
    if (!r->audit_s)
        return;
    uint64_t next, shipped = UINT64_MAX;
    if (store_next_seq(p->t, STORE_AUDIT, &next, p->err) != STORE_OK)
        return;
    if (collector && audit_shipped(p->t, &shipped, p->err) != STORE_OK)
        return;
    audit_gone g = { p, p->now_us - (int64_t)r->audit_s * 1000000,
                     shipped < next - 1 ? shipped : next - 2, { 0 } };
    if (next < 2)
        return;
    audit_each(p->t, 1, audit_old, &g, p->err);
    for (size_t i = 0; i < g.seq.n && p->rc == STORE_OK; i++) {
        unsigned char key[RL_BE64_BYTES];
        rec_be64(g.seq.v[i], key);
        rl_str k = { (char *)key, sizeof key }, v;
        audit_rec ar;
        /* its index entry first (the key is copied before the write) */
        if (store_get(p->t, STORE_AUDIT, k, &v, p->err) == STORE_OK &&
            audit_decode(p->t, g.seq.v[i], v, &ar) == STORE_OK)
            p->rc = audit_index_del(p->t, &ar, p->err);
        if (p->rc == STORE_OK)
            p->rc = store_del(p->t, STORE_AUDIT, k, (rl_str){ NULL, 0 }, p->err);
        p->out->audit += p->rc == STORE_OK;
        if (p->rc == STORE_NOTFOUND)
            p->rc = STORE_OK;
    }
    free(g.seq.v);
}

/* ---- worklist ---- */

typedef struct wl_gone {
    pass *p;
    rl_buf keys; /* u32 length + key, each */
} wl_gone;

static int wl_old(void *ctx, rl_str key, const wl_entry *e)
{
    (void)e;
    wl_gone *g = ctx;
    if (!spend(g->p))
        return 1;
    uint32_t n = (uint32_t)key.n;
    rl_buf_add(&g->keys, &n, sizeof n);
    rl_buf_add(&g->keys, key.p, key.n);
    return 0;
}

static void worklist(pass *p, const cfg_retention *r)
{
    if (!r->worklist_s)
        return;
    /* the date index, up to the day before the cutoff's (inclusive) */
    char day[RL_DATE_TEXT_MAX];
    time_t s = (time_t)((p->now_us - (int64_t)r->worklist_s * 1000000) / 1000000) - 86400;
    struct tm tm;
    localtime_r(&s, &tm);
    strftime(day, sizeof day, "%Y%m%d", &tm);
    wl_gone g = { p, { 0 } };
    rl_buf_init(&g.keys, 0);
    wl_scan(p->t, 'D', RL_STR("0"), rl_str_c(day), wl_old, &g, p->err);
    for (size_t i = 0; i + 4 <= g.keys.len && p->rc == STORE_OK;) {
        uint32_t n;
        memcpy(&n, g.keys.data + i, sizeof n);
        rl_str key = { (char *)g.keys.data + i + 4, n };
        i += 4 + n;
        p->rc = wl_remove(p->t, key, p->err);
        p->out->worklist += p->rc == STORE_OK;
        if (p->rc == STORE_NOTFOUND)
            p->rc = STORE_OK;
    }
    rl_buf_free(&g.keys);
}

/* ---- jobs ---- */

typedef struct job_gone {
    pass *p;
    int64_t cutoff;
    uint64_t last;
    seqs ids;
} job_gone;

static int job_old(void *ctx, const job *j)
{
    job_gone *g = ctx;
    if (j->state == JOB_DONE && j->updated_us < g->cutoff && j->id < g->last) {
        if (!spend(g->p))
            return 1;
        collect_queued(&g->ids, &(queue_item){ .msg_seq = j->id });
    }
    return 0;
}

static void jobs(pass *p, const cfg_retention *r)
{
    if (!r->jobs_s)
        return;
    job_gone g = { p, p->now_us - (int64_t)r->jobs_s * 1000000, 0, { 0 } };
    uint64_t next;
    if (store_next_seq(p->t, STORE_JOB, &next, p->err) != STORE_OK)
        return;
    g.last = next - 1; /* the newest stays: ids count on from it */
    job_each(p->t, 1, job_old, &g, p->err);
    for (size_t i = 0; i < g.ids.n && p->rc == STORE_OK; i++) {
        p->rc = job_remove(p->t, g.ids.v[i], p->err);
        p->out->jobs += p->rc == STORE_OK;
        if (p->rc == STORE_NOTFOUND)
            p->rc = STORE_OK;
    }
    free(g.ids.v);
}

/* ---- the spool ---- */

typedef struct spool_gone {
    pass *p;
    int64_t cutoff;
    rl_buf studies; /* u32 + UID each: delivered, verified, old */
} spool_gone;

typedef struct sent_ctx {
    store_txn *t;
    bool all_sent;
    unsigned n;
} sent_ctx;

static int all_sent(void *ctx, rl_str sop)
{
    sent_ctx *s = ctx;
    study_inst *in = malloc(sizeof *in);
    rl_err err;
    if (!in || study_get_instance(s->t, sop, in, &err) != STORE_OK || in->held)
        s->all_sent = false;
    /* every node it goes to got it (a legacy record: every PACS, sent_gen) */
    else if (in->legacy ? !in->sent_gen : !in->ndest)
        s->all_sent = false;
    for (size_t i = 0; s->all_sent && in && i < in->ndest; i++)
        if (!in->dest[i].sent_gen)
            s->all_sent = false;
    free(in);
    s->n++;
    return s->all_sent ? 0 : 1;
}

/* A job of the study still to run: its files stay. Jobs are "UID@NODE";
 * one from before destinations is "UID". */
static bool unfinished_job(store_txn *t, rl_str uid)
{
    char k[RL_JOB_INDEX_KEY_MAX];
    if (uid.n + 2 > sizeof k)
        return true;
    memcpy(k, uid.p, uid.n);
    k[uid.n] = '@';
    bool any = false;
    rl_err err;
    if (job_unfinished_under(t, (rl_str){ k, uid.n + 1 }, &any, &err) != STORE_OK || any)
        return true;
    k[0] = 'S';
    memcpy(k + 1, uid.p, uid.n);
    rl_str v;
    return store_get(t, STORE_JOB_IDX, (rl_str){ k, uid.n + 1 }, &v, &err) == STORE_OK;
}

static int study_old(void *ctx, rl_str uid, const study_rec *s)
{
    spool_gone *g = ctx;
    if ((s->state != RECON_MATCHED && s->state != RECON_CORRECTED) || s->updated_us >= g->cutoff)
        return 0;
    sent_ctx sc = { g->p->t, true, 0 };
    rl_err err;
    study_index_each(g->p->t, 'I', uid, all_sent, &sc, &err);
    if (!sc.all_sent || !sc.n || unfinished_job(g->p->t, uid))
        return 0;
    if (g->p->budget < sc.n) {
        g->p->out->more = true;
        return 1;
    }
    g->p->budget -= sc.n;
    uint32_t n = (uint32_t)uid.n;
    rl_buf_add(&g->studies, &n, sizeof n);
    rl_buf_add(&g->studies, uid.p, uid.n);
    return 0;
}

typedef struct inst_gone {
    pass *p;
    rl_buf sops;
} inst_gone;

static int take_sop(void *ctx, rl_str sop)
{
    inst_gone *ig = ctx;
    uint32_t n = (uint32_t)sop.n;
    rl_buf_add(&ig->sops, &n, sizeof n);
    rl_buf_add(&ig->sops, sop.p, sop.n);
    return 0;
}

static void spool(pass *p, const cfg_retention *r)
{
    if (!r->spool_s)
        return;
    spool_gone g = { p, p->now_us - (int64_t)r->spool_s * 1000000, { 0 } };
    rl_buf_init(&g.studies, 0);
    study_each(p->t, study_old, &g, p->err);
    for (size_t i = 0; i + 4 <= g.studies.len && p->rc == STORE_OK;) {
        uint32_t n;
        memcpy(&n, g.studies.data + i, sizeof n);
        rl_str uid = { (char *)g.studies.data + i + 4, n };
        i += 4 + n;
        inst_gone ig = { p, { 0 } };
        rl_buf_init(&ig.sops, 0);
        study_index_each(p->t, 'I', uid, take_sop, &ig, p->err);
        for (size_t j = 0; j + 4 <= ig.sops.len && p->rc == STORE_OK;) {
            uint32_t m;
            memcpy(&m, ig.sops.data + j, sizeof m);
            rl_str sop = { (char *)ig.sops.data + j + 4, m };
            j += 4 + m;
            study_inst *in = malloc(sizeof *in);
            if (in && study_get_instance(p->t, sop, in, p->err) == STORE_OK) {
                p->rc = study_forget_instance(p->t, uid, sop, p->err);
                if (p->rc == STORE_OK) {
                    rl_buf_add(p->unlink_paths, in->f[STUDY_F_PATH],
                               strlen(in->f[STUDY_F_PATH]) + 1);
                    p->out->instances++;
                }
            }
            free(in);
        }
        rl_buf_free(&ig.sops);
        p->out->studies += p->rc == STORE_OK;
    }
    rl_buf_free(&g.studies);
}

int retention_pass(store_txn *t, const cfg *c, int64_t now_us, unsigned budget,
                   rl_buf *unlink_paths, retention_result *out, rl_err *err)
{
    const cfg_retention *r = &c->retention;
    memset(out, 0, sizeof *out);
    hl7_msg scratch;
    hl7_msg_init(&scratch, &(hl7_limits){ .max_bytes = 256u << 20 });
    msgidx_keys keys;
    msgidx_keys_init(&keys);
    pass p = { t, now_us, budget, out, unlink_paths, err, STORE_OK, &scratch, &keys };
    messages(&p, r);
    msgidx_keys_free(&keys);
    hl7_msg_free(&scratch);
    if (p.rc == STORE_OK)
        worklist(&p, r);
    if (p.rc == STORE_OK)
        jobs(&p, r);
    if (p.rc == STORE_OK)
        spool(&p, r);
    if (p.rc == STORE_OK)
        audit_trail(&p, r, c->audit.host[0] != '\0');
    return p.rc;
}

bool retention_on(const cfg_retention *r)
{
    return r->messages_s || r->messages_max_mb || r->worklist_s || r->jobs_s || r->spool_s ||
           r->audit_s;
}
