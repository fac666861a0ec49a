/* The reports radlink holds (radlink/report.h, STORE_REPORT): one record
 * per ORU by its message seq, and three indexes in the same database: the
 * reports waiting (or held) for a study of their accession ('W') or of the
 * Study Instance UID they name ('U'), and those of a study ('S'). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "radlink/rec.h"
#include "radlink/report.h"
#include "radlink/store.h"

#define REPORT_REC_VERSION 2

const char *report_state_name(report_state s)
{
    return s == REPORT_LINKED ? "linked" : s == REPORT_HELD ? "held" : "waiting";
}

/* 'R' be64 seq */
static rl_str rec_key(unsigned char k[1 + RL_BE64_BYTES], uint64_t seq)
{
    k[0] = 'R';
    rec_be64(seq, k + 1);
    return (rl_str){ (const char *)k, 1 + RL_BE64_BYTES };
}

/* kind, text, NUL, be64 seq into b */
static int idx_key(rl_buf *b, char kind, rl_str text, uint64_t seq)
{
    unsigned char be[RL_BE64_BYTES];
    rec_be64(seq, be);
    rl_buf_reset(b);
    int rc = rl_buf_add_ch(b, kind);
    rc |= rl_buf_add_str(b, text);
    rc |= rl_buf_add_ch(b, '\0');
    rc |= rl_buf_add(b, be, sizeof be);
    return rc ? RL_E_NOMEM : 0;
}

static int idx_put(store_txn *t, char kind, rl_str text, uint64_t seq, bool del, rl_err *err)
{
    rl_buf k;
    rl_buf_init(&k, 0);
    int rc = idx_key(&k, kind, text, seq);
    if (rc)
        rc = rl_err_set(err, RL_E_NOMEM, -1, "out of memory");
    else if (del)
        rc = store_del(t, STORE_REPORT, rl_buf_view(&k), (rl_str){ NULL, 0 }, err);
    else
        rc = store_put(t, STORE_REPORT, rl_buf_view(&k), RL_STR(""), 0, err);
    rl_buf_free(&k);
    return rc == STORE_NOTFOUND ? STORE_OK : rc;
}

int report_put(store_txn *t, const report_rec *r, rl_err *err)
{
    rl_buf b;
    rl_buf_init(&b, 0);
    rec_put_u8(&b, REPORT_REC_VERSION);
    rec_put_u64(&b, r->seq);
    rec_put_u8(&b, (uint8_t)r->state);
    rec_put_u8(&b, (uint8_t)r->status);
    rec_put_u64(&b, (uint64_t)r->received_us);
    rec_put_str(&b, r->accession);
    rec_put_str(&b, r->study_uid);
    rec_put_str(&b, r->control_id);
    rec_put_u32(&b, r->ntexts);
    rec_put_u8(&b, r->pdf);
    int rc = rec_put_u8(&b, r->opts);
    unsigned char k[1 + RL_BE64_BYTES];
    rc = rc ? rl_err_set(err, RL_E_NOMEM, -1, "out of memory")
            : store_put(t, STORE_REPORT, rec_key(k, r->seq), rl_buf_view(&b), 0, err);
    rl_buf_free(&b);
    if (rc == STORE_OK && r->state != REPORT_LINKED)
        rc = idx_put(t, 'W', r->accession, r->seq, false, err);
    if (rc == STORE_OK && r->state != REPORT_LINKED && r->study_uid.n)
        rc = idx_put(t, 'U', r->study_uid, r->seq, false, err);
    if (rc == STORE_OK && r->state == REPORT_LINKED)
        rc = idx_put(t, 'S', r->study_uid, r->seq, false, err);
    return rc;
}

int report_get(store_txn *t, uint64_t seq, report_rec *r, rl_err *err)
{
    unsigned char k[1 + RL_BE64_BYTES];
    rl_str v;
    int rc = store_get(t, STORE_REPORT, rec_key(k, seq), &v, err);
    if (rc)
        return rc;
    rec_reader rd;
    rec_reader_init(&rd, v.p, v.n);
    memset(r, 0, sizeof *r);
    uint8_t version = rec_get_u8(&rd);
    r->seq = rec_get_u64(&rd);
    r->state = (report_state)rec_get_u8(&rd);
    r->status = (char)rec_get_u8(&rd);
    r->received_us = (int64_t)rec_get_u64(&rd);
    r->accession = rec_get_str(&rd);
    r->study_uid = rec_get_str(&rd);
    r->control_id = rec_get_str(&rd);
    r->ntexts = rec_get_u32(&rd);
    r->pdf = rec_get_u8(&rd) != 0;
    r->opts = version >= 2 ? rec_get_u8(&rd) : 0;
    if (!rec_ok(&rd) || version < 1 || version > REPORT_REC_VERSION)
        return rl_err_set(err, STORE_E_CORRUPT, -1, "report %llu: a record that does not decode",
                          (unsigned long long)seq);
    return STORE_OK;
}

/* The seqs under one index key prefix (kind text NUL), in order. */
typedef struct seqs {
    uint64_t *v;
    size_t n, cap;
} seqs;

static int index_seqs(store_txn *t, char kind, rl_str text, bool any, seqs *out, rl_err *err)
{
    rl_buf prefix;
    rl_buf_init(&prefix, 0);
    rl_buf_add_ch(&prefix, kind);
    if (!any) {
        rl_buf_add_str(&prefix, text);
        rl_buf_add_ch(&prefix, '\0');
    }
    store_cursor *c;
    int rc = store_cursor_open(t, STORE_REPORT, &c, err);
    rl_str k = rl_buf_view(&prefix), v;
    for (int g = rc ? STORE_NOTFOUND : store_cursor_get(c, STORE_SEEK, &k, &v);
         g == STORE_OK && rc == STORE_OK; g = store_cursor_get(c, STORE_NEXT, &k, &v)) {
        if (k.n < prefix.len + RL_BE64_BYTES || memcmp(k.p, prefix.data, prefix.len) != 0)
            break;
        if (out->n == out->cap) {
            size_t cap = out->cap ? out->cap * 2 : 16;
            uint64_t *nv = realloc(out->v, cap * sizeof *nv);
            if (!nv) {
                rc = rl_err_set(err, RL_E_NOMEM, -1, "out of memory");
                break;
            }
            out->v = nv;
            out->cap = cap;
        }
        out->v[out->n++] = rec_get_be64(k.p + k.n - RL_BE64_BYTES);
        k = rl_buf_view(&prefix);
    }
    if (!rc)
        store_cursor_close(c);
    rl_buf_free(&prefix);
    return rc;
}

static int visit(store_txn *t, char kind, rl_str text, bool any, report_visit cb, void *ctx,
                 rl_err *err)
{
    seqs s = { 0 };
    int rc = index_seqs(t, kind, text, any, &s, err);
    for (size_t i = 0; rc == STORE_OK && i < s.n; i++) {
        report_rec r;
        rc = report_get(t, s.v[i], &r, err);
        if (rc == STORE_OK && cb(ctx, &r))
            break;
    }
    free(s.v);
    return rc;
}

int report_each_of_study(store_txn *t, rl_str study_uid, report_visit cb, void *ctx, rl_err *err)
{
    return visit(t, 'S', study_uid, false, cb, ctx, err);
}

int report_each_waiting(store_txn *t, const char *accession, report_visit cb, void *ctx,
                        rl_err *err)
{
    return visit(t, 'W', rl_str_c(accession ? accession : ""), !accession, cb, ctx, err);
}

/* The reports waiting under index kind/text, linked to study_uid now. */
static int link_waiting(store_txn *t, char kind, rl_str text, rl_str study_uid, report_visit cb,
                        void *ctx, unsigned *n, rl_err *err)
{
    seqs s = { 0 };
    int rc = index_seqs(t, kind, text, false, &s, err);
    for (size_t i = 0; rc == STORE_OK && i < s.n; i++) {
        report_rec r;
        rc = report_get(t, s.v[i], &r, err);
        if (rc)
            break;
        /* the record's strings view the store: copy before it is written */
        char acc[RL_LO_SIZE], ctl[RL_LO_SIZE], uid[RL_UID_SIZE];
        snprintf(acc, sizeof acc, "%.*s", (int)r.accession.n, r.accession.p);
        snprintf(ctl, sizeof ctl, "%.*s", (int)r.control_id.n, r.control_id.p);
        snprintf(uid, sizeof uid, "%.*s", (int)r.study_uid.n, r.study_uid.p);
        r.accession = rl_str_c(acc);
        r.control_id = rl_str_c(ctl);
        r.study_uid = study_uid;
        r.state = REPORT_LINKED;
        rc = idx_put(t, 'W', r.accession, r.seq, true, err);
        if (rc == STORE_OK && uid[0])
            rc = idx_put(t, 'U', rl_str_c(uid), r.seq, true, err);
        if (rc == STORE_OK)
            rc = report_put(t, &r, err);
        if (rc == STORE_OK && cb)
            cb(ctx, &r);
        *n += rc == STORE_OK;
    }
    free(s.v);
    return rc;
}

int report_study_arrived(store_txn *t, rl_str study_uid, rl_str accession, report_visit cb,
                         void *ctx, unsigned *n, rl_err *err)
{
    *n = 0;
    int rc = link_waiting(t, 'U', study_uid, study_uid, cb, ctx, n, err);
    if (rc == STORE_OK && accession.n)
        rc = link_waiting(t, 'W', accession, study_uid, cb, ctx, n, err);
    return rc;
}
