/* Worklist entries: the record format and the indexes (see radlink/wl.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "radlink/rec.h"
#include "radlink/reczip.h"
#include "wl_internal.h"

/* wl_encode writes version 2; the store holds version 3: the byte 3, then
 * one compressed frame (radlink/reczip.h) of the version 2 record without
 * its version byte. Versions 1 and 2 are read as they are. */
#define WL_VERSION 2
#define WL_ZIP_VERSION 3
#define WL_ZIP_FAMILY "wl"

const rl_str *wl_get_attr(const wl_entry *e, const uint32_t *tags, uint8_t depth)
{
    for (size_t i = 0; i < e->n; i++)
        if (e->a[i].depth == depth && memcmp(e->a[i].path, tags, depth * sizeof *tags) == 0)
            return &e->a[i].value;
    return NULL;
}

rl_str wl_top(const wl_entry *e, uint32_t tag)
{
    const rl_str *v = wl_get_attr(e, &tag, 1);
    return v ? *v : (rl_str){ "", 0 };
}

rl_str wl_sps(const wl_entry *e, uint32_t tag)
{
    uint32_t p[2] = { WL_SPS_SEQ, tag };
    const rl_str *v = wl_get_attr(e, p, 2);
    return v ? *v : (rl_str){ "", 0 };
}

int wl_set_attr(wl_entry *e, const uint32_t *tags, uint8_t depth, rl_str value)
{
    for (size_t i = 0; i < e->n; i++)
        if (e->a[i].depth == depth && memcmp(e->a[i].path, tags, depth * sizeof *tags) == 0) {
            e->a[i].value = value;
            return 0;
        }
    if (depth < 1 || depth > 3)
        return RL_E_ARG;
    if (e->n == WL_MAX_ATTRS)
        return RL_E_LIMIT;
    wl_attr *a = &e->a[e->n++];
    memset(a, 0, sizeof *a);
    memcpy(a->path, tags, depth * sizeof *tags);
    a->depth = depth;
    a->value = value;
    return 0;
}

static size_t put_part(char *out, size_t n, size_t k, rl_str v)
{
    for (size_t i = 0; i < v.n && k + 1 < n; i++)
        out[k++] = v.p[i];
    return k;
}

size_t wl_key_of(const wl_entry *e, char *out, size_t n)
{
    size_t k = put_part(out, n, 0, wl_top(e, WL_ACCESSION));
    if (k + 1 < n)
        out[k++] = '\0';
    k = put_part(out, n, k, wl_top(e, WL_RP_ID));
    if (k + 1 < n)
        out[k++] = '\0';
    return put_part(out, n, k, wl_sps(e, WL_SPS_ID));
}

int wl_entry_own(wl_entry *e, rl_arena *a)
{
    if (e->source.n) {
        char *p = rl_arena_dup(a, e->source.p, e->source.n);
        if (!p)
            return RL_E_NOMEM;
        e->source.p = p;
    }
    for (size_t i = 0; i < e->n; i++) {
        char *p = rl_arena_dup(a, e->a[i].value.p ? e->a[i].value.p : "", e->a[i].value.n);
        if (!p)
            return RL_E_NOMEM;
        e->a[i].value.p = p;
    }
    return 0;
}

int wl_encode(const wl_entry *e, rl_buf *out)
{
    int rc = rec_put_u8(out, WL_VERSION) | rec_put_u64(out, (uint64_t)e->created_us) |
             rec_put_u64(out, (uint64_t)e->updated_us) | rec_put_u64(out, e->msg_seq) |
             rec_put_str(out, e->source) |
             rec_put_u8(out, (uint8_t)(e->n >> 8)) | rec_put_u8(out, (uint8_t)e->n);
    for (size_t i = 0; i < e->n; i++) {
        rc |= rec_put_u8(out, e->a[i].depth);
        for (uint8_t d = 0; d < e->a[i].depth; d++)
            rc |= rec_put_u32(out, e->a[i].path[d]);
        rc |= rec_put_str(out, e->a[i].value);
    }
    return rc;
}

int wl_decode(rl_str rec, wl_entry *e)
{
    rec_reader r;
    rec_reader_init(&r, rec.p, rec.n);
    uint8_t version = rec_get_u8(&r);
    if (version != 1 && version != WL_VERSION)
        return STORE_E_VERSION;
    e->created_us = (int64_t)rec_get_u64(&r);
    e->updated_us = (int64_t)rec_get_u64(&r);
    e->msg_seq = rec_get_u64(&r);
    e->source = version >= 2 ? rec_get_str(&r) : (rl_str){ "", 0 };
    size_t n = (size_t)rec_get_u8(&r) << 8;
    n |= rec_get_u8(&r);
    if (n > WL_MAX_ATTRS)
        return STORE_E_CORRUPT;
    e->n = 0;
    for (size_t i = 0; i < n && rec_ok(&r); i++) {
        wl_attr *a = &e->a[e->n++];
        memset(a, 0, sizeof *a);
        a->depth = rec_get_u8(&r);
        if (a->depth < 1 || a->depth > 3)
            return STORE_E_CORRUPT;
        for (uint8_t d = 0; d < a->depth; d++)
            a->path[d] = rec_get_u32(&r);
        a->value = rec_get_str(&r);
    }
    return rec_ok(&r) && r.p == r.end ? STORE_OK : STORE_E_CORRUPT;
}

/* ---- indexes ---- */

typedef struct idx_key {
    char b[WL_KEY_MAX];
    size_t n;
} idx_key;

static void idx_make(idx_key *k, char kind, rl_str a, rl_str b, bool two)
{
    k->n = 0;
    k->b[k->n++] = kind;
    k->n = put_part(k->b, sizeof k->b, k->n, a);
    if (two) {
        if (k->n + 1 < sizeof k->b)
            k->b[k->n++] = '\0';
        k->n = put_part(k->b, sizeof k->b, k->n, b);
    }
}

/* The index keys of an entry; empty values are not indexed. */
#define WL_IDX_KEYS 22
static size_t idx_keys(const wl_entry *e, idx_key *out)
{
    rl_str acc = wl_top(e, WL_ACCESSION), pid = wl_top(e, WL_PATIENT_ID),
           suid = wl_top(e, WL_STUDY_UID), date = wl_sps(e, WL_SPS_DATE),
           ae = wl_sps(e, WL_STATION_AE), mod = wl_sps(e, WL_MODALITY);
    size_t n = 0;
    if (acc.n)
        idx_make(&out[n++], 'A', acc, acc, false);
    if (pid.n)
        idx_make(&out[n++], 'P', pid, pid, false);
    if (suid.n)
        idx_make(&out[n++], 'U', suid, suid, false);
    if (date.n)
        idx_make(&out[n++], 'D', date, date, false);
    /* a station AE title with several values: one index key per value */
    for (size_t i = 0, start = 0; ae.n && i <= ae.n && n < WL_IDX_KEYS - 1; i++)
        if (i == ae.n || ae.p[i] == '\\') {
            if (i > start)
                idx_make(&out[n++], 'S', (rl_str){ ae.p + start, i - start }, date, true);
            start = i + 1;
        }
    if (mod.n)
        idx_make(&out[n++], 'M', mod, date, true);
    return n;
}

static int idx_apply(store_txn *t, const wl_entry *e, rl_str key, bool add, rl_err *err)
{
    idx_key k[WL_IDX_KEYS];
    size_t n = idx_keys(e, k);
    for (size_t i = 0; i < n; i++) {
        rl_str ik = { k[i].b, k[i].n };
        int rc = add ? store_put(t, STORE_WL_IDX, ik, key, 0, err)
                     : store_del(t, STORE_WL_IDX, ik, key, err);
        if (rc < 0)
            return rc;
    }
    return STORE_OK;
}

/* A stored entry as version 2 bytes: as stored, or decompressed into scratch
 * (training) or, without one, memory that lasts as long as the transaction. */
static int plain_of(store_txn *t, rl_str v, rl_buf *scratch, rl_str *plain, rl_err *err)
{
    if (v.n == 0 || (unsigned char)v.p[0] != WL_ZIP_VERSION) {
        *plain = v;
        return STORE_OK;
    }
    rl_str z = { v.p + 1, v.n - 1 };
    size_t n = 0;
    int rc = reczip_frame_size(z, &n, err);
    if (rc)
        return rc;
    char *dst = NULL;
    if (scratch) {
        rl_buf_reset(scratch);
        if (rl_buf_reserve(scratch, n + 1) == 0)
            dst = scratch->data;
    } else {
        dst = store_txn_scratch(t, n + 1);
    }
    if (!dst)
        return rl_err_set(err, STORE_E_IO, -1, "out of memory");
    dst[0] = WL_VERSION;
    rc = reczip_unpack_to(t, WL_ZIP_FAMILY, z, dst + 1, n, err);
    *plain = (rl_str){ dst, n + 1 };
    return rc;
}

static int train_text(store_txn *t, rl_str val, rl_buf *scratch, rl_str *text)
{
    rl_err ignored;
    rl_str p;
    int rc = plain_of(t, val, scratch, &p, &ignored);
    if (rc == STORE_OK && p.n < 1)
        rc = STORE_E_CORRUPT;
    *text = rc == STORE_OK ? (rl_str){ p.p + 1, p.n - 1 } : (rl_str){ NULL, 0 };
    return rc;
}

int wl_get(store_txn *t, rl_str key, wl_entry *e, rl_err *err)
{
    rl_str v, p;
    int rc = store_get(t, STORE_WL, key, &v, err);
    if (rc)
        return rc;
    if ((rc = plain_of(t, v, NULL, &p, err)) != STORE_OK) {
        char why[RL_ERR_MSG_MAX];
        snprintf(why, sizeof why, "%s", err->msg);
        return rl_err_set(err, rc, -1, "worklist entry does not decode: %s", why);
    }
    if (wl_decode(p, e) != STORE_OK)
        return rl_err_set(err, STORE_E_CORRUPT, -1, "worklist entry does not decode");
    return STORE_OK;
}

int wl_remove(store_txn *t, rl_str key, rl_err *err)
{
    wl_entry *old = malloc(sizeof *old);
    if (!old)
        return rl_err_set(err, STORE_E_IO, -1, "out of memory");
    int rc = wl_get(t, key, old, err);
    if (rc == STORE_OK)
        rc = idx_apply(t, old, key, false, err);
    free(old);
    if (rc == STORE_OK)
        rc = store_del(t, STORE_WL, key, (rl_str){ NULL, 0 }, err);
    return rc;
}

int wl_put(store_txn *t, const wl_entry *e, rl_err *err)
{
    char kb[WL_KEY_MAX];
    rl_str key = { kb, wl_key_of(e, kb, sizeof kb) };
    int rc = wl_remove(t, key, err);
    if (rc < 0)
        return rc;
    uint64_t held = 0;
    if (store_entries(t, STORE_WL, &held, err) == STORE_OK && reczip_due(t, WL_ZIP_FAMILY, held) &&
        (rc = reczip_train(t, WL_ZIP_FAMILY, STORE_WL, train_text, err)) != STORE_OK)
        return rc;
    rl_buf b, z;
    rl_buf_init(&b, 0);
    rl_buf_init(&z, 0);
    if (wl_encode(e, &b) != 0 || rl_buf_add_ch(&z, (char)WL_ZIP_VERSION))
        rc = rl_err_set(err, STORE_E_ARG, -1, "worklist entry too large");
    else
        rc = reczip_pack(t, WL_ZIP_FAMILY, (rl_str){ b.data + 1, b.len - 1 }, &z, err);
    if (rc == STORE_OK)
        rc = store_put(t, STORE_WL, key, rl_buf_view(&z), 0, err);
    rl_buf_free(&b);
    rl_buf_free(&z);
    return rc == STORE_OK ? idx_apply(t, e, key, true, err) : rc;
}

/* ---- scans ---- */

static int visit_key(store_txn *t, rl_str key, wl_entry *e, wl_visit cb, void *ctx, rl_err *err,
                     bool *stop)
{
    int rc = wl_get(t, key, e, err);
    if (rc == STORE_NOTFOUND)
        return STORE_OK; /* an index entry without its entry: skip */
    if (rc)
        return rc;
    *stop = cb(ctx, key, e) != 0;
    return STORE_OK;
}

int wl_scan(store_txn *t, char kind, rl_str from, rl_str to, wl_visit cb, void *ctx, rl_err *err)
{
    wl_entry *e = malloc(sizeof *e);
    if (!e)
        return rl_err_set(err, STORE_E_IO, -1, "out of memory");
    store_cursor *c;
    int rc = store_cursor_open(t, kind ? STORE_WL_IDX : STORE_WL, &c, err);
    if (rc) {
        free(e);
        return rc;
    }
    rl_str k, v, p;
    bool stop = false;
    /* entries decode into memory the transaction owns: callers keep views of
     * them (as they kept the store's own before entries were compressed) */
    if (!kind) {
        rc = store_cursor_get(c, STORE_FIRST, &k, &v);
        while (rc == STORE_OK && !stop) {
            if (plain_of(t, v, NULL, &p, err) != STORE_OK || wl_decode(p, e) != STORE_OK) {
                rc = rl_err_set(err, STORE_E_CORRUPT, -1, "worklist entry does not decode");
                break;
            }
            stop = cb(ctx, k, e) != 0;
            rc = store_cursor_get(c, STORE_NEXT, &k, &v);
        }
    } else {
        idx_key lo, hi;
        idx_make(&lo, kind, from, from, false);
        if (to.p)
            idx_make(&hi, kind, to, to, false);
        k = (rl_str){ lo.b, lo.n };
        rc = store_cursor_get(c, STORE_SEEK, &k, &v);
        while (rc == STORE_OK && !stop) {
            if (k.n == 0 || k.p[0] != kind)
                break;
            if (to.p) { /* past the upper bound (inclusive, byte order)? */
                size_t m = k.n < hi.n ? k.n : hi.n;
                int cmp = memcmp(k.p, hi.b, m);
                if (cmp > 0 || (cmp == 0 && k.n > hi.n))
                    break;
            }
            /* copy the entry key: reading the entry moves no cursor, but be safe */
            char kb[WL_KEY_MAX];
            size_t kn = v.n < sizeof kb ? v.n : sizeof kb;
            memcpy(kb, v.p, kn);
            rc = visit_key(t, (rl_str){ kb, kn }, e, cb, ctx, err, &stop);
            if (rc)
                break;
            rc = store_cursor_get(c, STORE_NEXT, &k, &v);
        }
    }
    store_cursor_close(c);
    free(e);
    return rc < 0 ? rc : STORE_OK;
}
