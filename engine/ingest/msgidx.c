/* The message log's indexes (radlink/msgidx.h): the keys a message gives,
 * written and removed with it, built for an older store, and checked. */
#include "radlink/msgidx.h"

#include <stdio.h>
#include <string.h>

#include "radlink/audit.h"
#include "radlink/limits.h"
#include "radlink/log.h"
#include "radlink/rec.h"

/* ---- a message's keys ---- */

void msgidx_keys_init(msgidx_keys *k)
{
    rl_buf_init(&k->b, 0);
    k->n = 0;
}

void msgidx_keys_free(msgidx_keys *k)
{
    rl_buf_free(&k->b);
}

void msgidx_keys_reset(msgidx_keys *k)
{
    rl_buf_reset(&k->b);
    k->n = 0;
}

bool msgidx_keys_next(const msgidx_keys *k, size_t *pos, rl_str *key)
{
    if (*pos + 2 > k->b.len)
        return false;
    const unsigned char *p = (const unsigned char *)k->b.data + *pos;
    size_t n = (size_t)p[0] << 8 | p[1];
    *key = (rl_str){ (const char *)p + 2, n };
    *pos += 2 + n;
    return true;
}

static bool has_key(const msgidx_keys *k, rl_str key)
{
    size_t pos = 0;
    rl_str have;
    while (msgidx_keys_next(k, &pos, &have))
        if (rl_str_eq(have, key))
            return true;
    return false;
}

/* The index key of kind and its value(s), each cut to MSGIDX_VALUE_MAX
 * bytes at a character's boundary; its length. */
static size_t key_of(char kind, rl_str a, rl_str b, char key[MSGIDX_KEY_MAX])
{
    size_t n = 0;
    key[n++] = kind;
    a = rl_utf8_cut_bytes(a, MSGIDX_VALUE_MAX);
    memcpy(key + n, a.p, a.n);
    n += a.n;
    if (b.n) {
        b = rl_utf8_cut_bytes(b, MSGIDX_VALUE_MAX);
        key[n++] = '\0';
        memcpy(key + n, b.p, b.n);
        n += b.n;
    }
    return n;
}

void msgidx_keys_add(msgidx_keys *k, char kind, rl_str a, rl_str b)
{
    /* the record's own keys ('C', 'T', 'S', added last) always have room:
     * the duplicate check reads 'C' */
    bool header = kind == 'C' || kind == 'T' || kind == 'S';
    if ((!a.n && !b.n) || k->n >= (header ? MSGIDX_KEYS_MAX : MSGIDX_KEYS_MAX - 3))
        return;
    char key[MSGIDX_KEY_MAX];
    size_t n = key_of(kind, a, b, key);
    rl_str ks = { key, n };
    if (has_key(k, ks))
        return;
    unsigned char len[2] = { (unsigned char)(n >> 8), (unsigned char)n };
    if (rl_buf_add(&k->b, len, 2) == 0 && rl_buf_add(&k->b, key, n) == 0)
        k->n++;
}

/* ---- names, folded ---- */

/* U+00C0..U+00FF and U+0100..U+017F: the base letter; '.' kept as it is;
 * digits stand for two letters. */
static const char latin1[] = "AAAAAA1CEEEEIIIIDNOOOOO.OUUUUY23AAAAAA1CEEEEIIIIDNOOOOO.OUUUUY2Y";
static const char latin_ext_a[] = "AAAAAACCCCCCCCDDDDEEEEEEEEEEGGGGGGGGHHHHIIIIIIIIII44JJKKKLLLL"
                                  "LLLLLLNNNNNNNNNOOOOOO55RRRRRRSSSSSSSSTTTTTTUUUUUUUUUUUUWWYYYZ"
                                  "ZZZZZS";
static const char *const pairs[] = { "AE", "TH", "SS", "IJ", "OE" };

size_t msgidx_fold(rl_str in, char *out, size_t n)
{
    in = rl_str_trim(in);
    size_t k = 0;
    for (size_t i = 0; i < in.n && k + 2 < n; i++) {
        unsigned char c = (unsigned char)in.p[i];
        if (c >= 'a' && c <= 'z') {
            out[k++] = (char)(c - 'a' + 'A');
            continue;
        }
        if (c >= 0xC3 && c <= 0xC5 && i + 1 < in.n &&
            ((unsigned char)in.p[i + 1] & 0xC0) == 0x80) {
            unsigned cp = (c & 0x1Fu) << 6 | ((unsigned char)in.p[i + 1] & 0x3Fu);
            char base = cp >= 0x100 ? latin_ext_a[cp - 0x100] : cp >= 0xC0 ? latin1[cp - 0xC0] : '.';
            if (base != '.') {
                i++;
                if (base >= '1' && base <= '5') {
                    out[k++] = pairs[base - '1'][0];
                    out[k++] = pairs[base - '1'][1];
                } else {
                    out[k++] = base;
                }
                continue;
            }
        }
        out[k++] = (char)c;
    }
    out[k] = '\0';
    return k;
}

/* ---- the keys of a message's text ---- */

static rl_str value_at(hl7_msg *m, const char *seg, unsigned occ, unsigned field, unsigned rep,
                       unsigned comp, unsigned sub)
{
    hl7_path p = { .seg_idx = occ, .field = field, .comp = comp, .sub = sub };
    memcpy(p.seg, seg, 3);
    rl_str v;
    rl_err err;
    return hl7_get_rep(m, &p, rep, &v, &err) == HL7_VALUE ? v : (rl_str){ "", 0 };
}

/* An identifier field (CX): every repetition's ID and authority. */
static void ids(hl7_msg *m, const char *seg, unsigned occ, unsigned field, msgidx_keys *k)
{
    hl7_path p = { .seg_idx = occ, .field = field };
    memcpy(p.seg, seg, 3);
    unsigned reps = hl7_rep_count(m, &p);
    for (unsigned r = 1; r <= reps && r <= MSGIDX_KEYS_MAX; r++) {
        rl_str id = value_at(m, seg, occ, field, r, 1, 0);
        if (id.n)
            msgidx_keys_add(k, 'I', id, value_at(m, seg, occ, field, r, 4, 1));
    }
}

static void names(hl7_msg *m, unsigned occ, msgidx_keys *k)
{
    hl7_path p = { .seg = "PID", .seg_idx = occ, .field = 5 };
    unsigned reps = hl7_rep_count(m, &p);
    for (unsigned r = 1; r <= reps && r <= MSGIDX_KEYS_MAX; r++) {
        char fam[MSGIDX_VALUE_MAX], giv[MSGIDX_VALUE_MAX], both[2 * MSGIDX_VALUE_MAX + 2];
        size_t nf = msgidx_fold(value_at(m, "PID", occ, 5, r, 1, 1), fam, sizeof fam);
        size_t ng = msgidx_fold(value_at(m, "PID", occ, 5, r, 2, 0), giv, sizeof giv);
        if (!nf && !ng)
            continue;
        int w = snprintf(both, sizeof both, "%s^%s", fam, giv);
        msgidx_keys_add(k, 'N', (rl_str){ both, w > 0 ? (size_t)w : 0 }, (rl_str){ "", 0 });
    }
}

void msgidx_collect(hl7_msg *m, msgidx_keys *k)
{
    unsigned pid = 0, mrg = 0, orc = 0, obr = 0, ipc = 0, zds = 0;
    rl_str none = { "", 0 };
    /* the accession first (OBR-18, IPC-1), then the placer's and filler's numbers */
    for (size_t i = 0; i < m->nsegs; i++) {
        rl_str s = m->segs[i];
        if (hl7_seg_is(s, "OBR"))
            msgidx_keys_add(k, 'A', value_at(m, "OBR", ++obr, 18, 1, 0, 0), none);
        else if (hl7_seg_is(s, "IPC"))
            msgidx_keys_add(k, 'A', value_at(m, "IPC", ++ipc, 1, 1, 1, 0), none);
    }
    obr = ipc = 0;
    for (size_t i = 0; i < m->nsegs; i++) {
        rl_str s = m->segs[i];
        if (hl7_seg_is(s, "PID")) {
            ids(m, "PID", ++pid, 3, k);
            names(m, pid, k);
        } else if (hl7_seg_is(s, "MRG")) {
            ids(m, "MRG", ++mrg, 1, k);
        } else if (hl7_seg_is(s, "ORC")) {
            orc++;
            msgidx_keys_add(k, 'A', value_at(m, "ORC", orc, 2, 1, 1, 0), none);
            msgidx_keys_add(k, 'A', value_at(m, "ORC", orc, 3, 1, 1, 0), none);
        } else if (hl7_seg_is(s, "OBR")) {
            obr++;
            msgidx_keys_add(k, 'A', value_at(m, "OBR", obr, 2, 1, 1, 0), none);
            msgidx_keys_add(k, 'A', value_at(m, "OBR", obr, 3, 1, 1, 0), none);
        } else if (hl7_seg_is(s, "IPC")) {
            msgidx_keys_add(k, 'U', value_at(m, "IPC", ++ipc, 3, 1, 1, 0), none);
        } else if (hl7_seg_is(s, "ZDS")) {
            msgidx_keys_add(k, 'U', value_at(m, "ZDS", ++zds, 1, 1, 1, 0), none);
        }
    }
}

void msgidx_header(const msglog_rec *r, msgidx_keys *k)
{
    rl_str none = { "", 0 };
    msgidx_keys_add(k, 'C', r->ctrl, none);
    /* MSH-9's message code and trigger event: "ORM^O01" */
    size_t n = 0, comps = 0;
    while (n < r->type.n && !(r->type.p[n] == '^' && ++comps == 2))
        n++;
    msgidx_keys_add(k, 'T', (rl_str){ r->type.p, n }, none);
    if (r->app.n || r->fac.n) {
        /* "APP" NUL "FAC"; an empty application still keeps its NUL */
        char key[2 * MSGIDX_VALUE_MAX + 2];
        rl_str a = rl_utf8_cut_bytes(r->app, MSGIDX_VALUE_MAX),
               f = rl_utf8_cut_bytes(r->fac, MSGIDX_VALUE_MAX);
        memcpy(key, a.p, a.n);
        key[a.n] = '\0';
        memcpy(key + a.n + 1, f.p, f.n);
        msgidx_keys_add(k, 'S', (rl_str){ key, a.n + 1 + f.n }, none);
    }
}

static bool is_batch(rl_str raw)
{
    size_t i = raw.n >= 3 && !memcmp(raw.p, "\xEF\xBB\xBF", 3) ? 3 : 0;
    while (i < raw.n && (raw.p[i] == '\r' || raw.p[i] == '\n'))
        i++;
    return raw.n - i >= 3 && (!memcmp(raw.p + i, "FHS", 3) || !memcmp(raw.p + i, "BHS", 3));
}

void msgidx_of_record(const msglog_rec *r, hl7_msg *scratch, msgidx_keys *k)
{
    msgidx_keys_reset(k);
    rl_err err;
    /* the text's keys first, as the engine gathers them */
    if (r->status != MSG_DUPLICATE && !is_batch(r->raw) &&
        hl7_parse(scratch, r->raw.p, r->raw.n, &err) == HL7_OK)
        msgidx_collect(scratch, k);
    msgidx_header(r, k);
}

/* ---- entries ---- */

static int entries(store_txn *t, uint64_t seq, const msgidx_keys *k, bool put, rl_err *err)
{
    unsigned char v[RL_BE64_BYTES];
    rec_be64(seq, v);
    size_t pos = 0;
    rl_str key, val = { (char *)v, sizeof v };
    while (msgidx_keys_next(k, &pos, &key)) {
        int rc = put ? store_put(t, STORE_MSG_IDX, key, val, 0, err)
                     : store_del(t, STORE_MSG_IDX, key, val, err);
        if (rc < 0 || (put && rc))
            return rc;
    }
    return STORE_OK;
}

int msgidx_put(store_txn *t, uint64_t seq, const msgidx_keys *k, rl_err *err)
{
    return entries(t, seq, k, true, err);
}

int msgidx_del(store_txn *t, uint64_t seq, const msgidx_keys *k, rl_err *err)
{
    return entries(t, seq, k, false, err);
}

/* META msg.idx: "1" the messages are indexed, "2" the audit events too */
static int built_level(store_txn *t)
{
    rl_str v;
    rl_err err;
    if (store_get(t, STORE_META, RL_STR("msg.idx"), &v, &err) != STORE_OK || v.n != 1)
        return 0;
    return v.p[0] - '0';
}

bool msgidx_ready(store_txn *t)
{
    return built_level(t) >= 2;
}

/* ---- a build ---- */

/* ---- the duplicate check ---- */

/* Whether record r is what the duplicate check answers from: accepted or
 * AE (a retransmission of either gets the same answer), received from a
 * sender (a replay, which has no listener, is not), with this control ID
 * from this sender, the effective one as ingest names it: "listener L" and
 * the peer's address when MSH-3 and MSH-4 are empty. */
static bool dedup_match(const msglog_rec *r, rl_str app, rl_str fac, rl_str ctrl)
{
    if ((r->status != MSG_ACCEPTED && r->status != MSG_ERROR) || !r->listener.n ||
        !rl_str_eq(r->ctrl, ctrl))
        return false;
    if (r->app.n || r->fac.n || !r->peer.n)
        return rl_str_eq(r->app, app) && rl_str_eq(r->fac, fac);
    char who[RL_INGEST_WHO_MAX], host[RL_SENDER_TEXT_MAX];
    snprintf(who, sizeof who, "listener %.*s", RL_STR_FMT(r->listener));
    snprintf(host, sizeof host, "%.*s", RL_STR_FMT(r->peer));
    char *colon = strrchr(host, ':');
    if (colon)
        *colon = '\0'; /* the address, not the port of that connection */
    return rl_str_eq(rl_str_c(who), app) && rl_str_eq(rl_str_c(host), fac);
}

int msgidx_dedup_find(store_txn *t, rl_str app, rl_str fac, rl_str ctrl, int64_t since_us,
                      uint64_t *seq, int64_t *recv_us, rl_err *err)
{
    if (app.n > RL_DEDUP_FIELD_MAX || fac.n > RL_DEDUP_FIELD_MAX || ctrl.n > RL_DEDUP_FIELD_MAX)
        return rl_err_set(err, STORE_E_ARG, -1,
                          "MSH-3, MSH-4 or MSH-10 is longer than %d bytes", RL_DEDUP_FIELD_MAX);
    char kb[MSGIDX_KEY_MAX];
    rl_str key = { kb, key_of('C', ctrl, (rl_str){ "", 0 }, kb) }, v;
    store_cursor *c;
    int rc = ctrl.n ? store_cursor_open(t, STORE_MSG_IDX, &c, err) : STORE_NOTFOUND;
    if (rc != STORE_OK)
        return rc;
    /* the messages with this control ID, newest first, back to since_us;
     * the header (status, time) is read first, so that duplicates, AR
     * answers and old messages cost no decompression */
    rl_str ck = key;
    int m = store_cursor_get(c, STORE_SET, &ck, &v);
    if (m == STORE_OK)
        m = store_cursor_get(c, STORE_LAST_DUP, &ck, &v);
    rc = STORE_NOTFOUND;
    for (; m == STORE_OK; m = store_cursor_get(c, STORE_PREV_DUP, &ck, &v)) {
        if (v.n != RL_BE64_BYTES)
            continue;
        uint64_t s = rec_get_be64(v.p);
        unsigned char sk[RL_BE64_BYTES];
        rec_be64(s, sk);
        rl_str val;
        msglog_rec r = MSGLOG_REC_INIT;
        int g = store_get(t, STORE_MSG, (rl_str){ (char *)sk, sizeof sk }, &val, err);
        if (g == STORE_OK && msglog_head(val, &r) != STORE_OK)
            g = STORE_E_CORRUPT;
        if (g == STORE_OK && r.recv_us < since_us)
            break; /* the rest is older still */
        if (g == STORE_OK && r.status != MSG_ACCEPTED && r.status != MSG_ERROR)
            continue;
        if (g == STORE_OK) /* the value already read: no second lookup */
            g = msglog_decode(t, val, &r, err);
        if (g == STORE_OK && dedup_match(&r, app, fac, ctrl)) {
            *seq = s;
            *recv_us = r.recv_us;
            msglog_rec_free(&r);
            rc = STORE_OK;
            break;
        }
        msglog_rec_free(&r);
        if (g != STORE_OK && g != STORE_NOTFOUND && g != STORE_E_CORRUPT && g != STORE_E_VERSION) {
            rc = g; /* the store failed: not a reason to take a message as new */
            break;
        }
        if (g == STORE_E_CORRUPT || g == STORE_E_VERSION)
            log_warn("msgidx.dedup_unreadable", "seq=%llu text=\"a message with the same MSH-10 "
                     "does not decode: passed over by the duplicate check\"",
                     (unsigned long long)s);
    }
    if (m != STORE_OK && m != STORE_NOTFOUND && rc == STORE_NOTFOUND)
        rc = rl_err_set(err, m, -1, "the message index cannot be read");
    store_cursor_close(c);
    return rc;
}

/* A store written before the duplicate check used the message index kept
 * its own duplicate index: emptied once, as nothing reads it. */
static int fold_dedup(store *s, rl_err *err)
{
    store_txn *t;
    uint64_t n = 0;
    int rc = store_begin(s, NULL, true, &t, err);
    if (rc != STORE_OK)
        return rc;
    if (store_entries(t, STORE_DEDUP, &n, err) == STORE_OK && n &&
        (rc = store_drop(t, STORE_DEDUP, err)) == STORE_OK)
        log_info("msgidx.dedup_folded", "entries=%llu text=\"the duplicate check reads the "
                 "message index: its own index is emptied\"", (unsigned long long)n);
    rc = rc == STORE_OK ? store_commit(t, err) : (store_abort(t), rc);
    if (rc != STORE_OK) /* nothing reads it: its space can wait for another start */
        log_warn("msgidx.dedup_fold_failed", "text=\"%s\"", err->msg);
    return STORE_OK;
}

/* One step: up to MSGIDX_BUILD_STEP messages from *from on; *from is where
 * the next starts, 0 when the log is done. */
static int build_step(store_txn *t, hl7_msg *m, msgidx_keys *k, uint64_t *from, uint64_t *done,
                      rl_err *err)
{
    store_cursor *c;
    int rc = store_cursor_open(t, STORE_MSG, &c, err);
    if (rc)
        return rc;
    unsigned char kb[RL_BE64_BYTES];
    rec_be64(*from, kb);
    rl_str key = { (char *)kb, sizeof kb }, val;
    unsigned n = 0;
    int got = store_cursor_get(c, STORE_SEEK, &key, &val);
    /* keys to write are gathered first: a cursor's views end at a write */
    rl_buf todo;
    rl_buf_init(&todo, 0);
    msglog_rec r = MSGLOG_REC_INIT;
    rl_err derr;
    for (; got == STORE_OK && n < MSGIDX_BUILD_STEP; got = store_cursor_get(c, STORE_NEXT, &key, &val)) {
        if (key.n != RL_BE64_BYTES || msglog_decode(t, val, &r, &derr) != STORE_OK)
            continue;
        r.seq = rec_get_be64(key.p);
        msgidx_of_record(&r, m, k);
        unsigned char s[RL_BE64_BYTES], len[4] = { 0, 0, (unsigned char)(k->b.len >> 8),
                                                   (unsigned char)k->b.len };
        rec_be64(r.seq, s);
        if (k->b.len > 0xFFFF || rl_buf_add(&todo, s, sizeof s) || rl_buf_add(&todo, len, 4) ||
            rl_buf_add(&todo, k->b.data, k->b.len))
            continue;
        n++;
        *from = r.seq + 1;
    }
    msglog_rec_free(&r);
    *from = got == STORE_OK ? *from : 0;
    store_cursor_close(c);
    for (size_t pos = 0; rc == STORE_OK && pos + 12 <= todo.len;) {
        const unsigned char *p = (const unsigned char *)todo.data + pos;
        uint64_t seq = rec_get_be64(p);
        size_t len = (size_t)p[10] << 8 | p[11];
        msgidx_keys one = { { (char *)p + 12, len, len, 0 }, 0 };
        rc = msgidx_put(t, seq, &one, err);
        pos += 12 + len;
    }
    rl_buf_free(&todo);
    *done += n;
    return rc;
}

/* One step over the audit trail: the patient index of up to
 * MSGIDX_BUILD_STEP events from *from on; *from 0 when done. */
static int build_audit_step(store_txn *t, uint64_t *from, uint64_t *done, rl_err *err)
{
    store_cursor *c;
    int rc = store_cursor_open(t, STORE_AUDIT, &c, err);
    if (rc)
        return rc;
    unsigned char kb[RL_BE64_BYTES];
    rec_be64(*from, kb);
    rl_str key = { (char *)kb, sizeof kb }, val;
    rl_buf todo; /* be64 seq, u8 length, patient ID: written after the cursor is done */
    rl_buf_init(&todo, 0);
    unsigned n = 0;
    int got = store_cursor_get(c, STORE_SEEK, &key, &val);
    for (; got == STORE_OK && n < MSGIDX_BUILD_STEP; got = store_cursor_get(c, STORE_NEXT, &key, &val)) {
        audit_rec r;
        if (key.n != RL_BE64_BYTES || audit_decode(t, rec_get_be64(key.p), val, &r) != STORE_OK)
            continue;
        n++;
        *from = r.seq + 1;
        if (!r.patient_id.n || r.patient_id.n > 255)
            continue;
        unsigned char h[RL_BE64_BYTES + 1];
        rec_be64(r.seq, h);
        h[RL_BE64_BYTES] = (unsigned char)r.patient_id.n;
        rl_buf_add(&todo, h, sizeof h);
        rl_buf_add_str(&todo, r.patient_id);
    }
    *from = got == STORE_OK ? *from : 0;
    store_cursor_close(c);
    for (size_t pos = 0; rc == STORE_OK && pos + RL_BE64_BYTES + 1 <= todo.len;) {
        const unsigned char *p = (const unsigned char *)todo.data + pos;
        audit_rec r = { .seq = rec_get_be64(p),
                        .patient_id = { (const char *)p + RL_BE64_BYTES + 1, p[RL_BE64_BYTES] } };
        rc = audit_index_put(t, &r, err);
        pos += RL_BE64_BYTES + 1 + r.patient_id.n;
    }
    rl_buf_free(&todo);
    *done += n;
    return rc;
}

int msgidx_build(store *s, bool reindex, msgidx_progress_fn progress, void *ctx,
                 uint64_t *built, rl_err *err)
{
    *built = 0;
    hl7_msg m;
    hl7_msg_init(&m, &(hl7_limits){ .max_bytes = 256u << 20 });
    msgidx_keys k;
    msgidx_keys_init(&k);
    uint64_t total = 0;
    int rc = STORE_OK;
    while (rc == STORE_OK) {
        store_txn *t;
        if ((rc = store_begin(s, NULL, true, &t, err)) != STORE_OK)
            break;
        uint64_t from = 1;
        rl_str v;
        if (reindex) {
            rc = store_drop(t, STORE_MSG_IDX, err);
            /* and where an earlier build stopped: this one starts at the beginning */
            static const char *const meta[] = { "msg.idx", "msg.idx.next", "msg.idx.anext" };
            for (size_t i = 0; rc == STORE_OK && i < sizeof meta / sizeof *meta; i++) {
                rc = store_del(t, STORE_META, rl_str_c(meta[i]), (rl_str){ NULL, 0 }, err);
                rc = rc == STORE_NOTFOUND ? STORE_OK : rc;
            }
            reindex = false;
        }
        int level = rc == STORE_OK ? built_level(t) : 0;
        if (level >= 2) {
            store_abort(t);
            break;
        }
        /* first the messages (level 0), then the audit trail (level 1) */
        const char *next_key = level ? "msg.idx.anext" : "msg.idx.next";
        if (store_get(t, STORE_META, rl_str_c(next_key), &v, err) == STORE_OK &&
            v.n == RL_BE64_BYTES)
            from = rec_get_be64(v.p);
        if (!total) {
            uint64_t events = 0;
            store_entries(t, STORE_MSG, &total, err);
            store_entries(t, STORE_AUDIT, &events, err);
            total += events;
        }
        if (rc == STORE_OK)
            rc = level ? build_audit_step(t, &from, built, err)
                       : build_step(t, &m, &k, &from, built, err);
        unsigned char nb[RL_BE64_BYTES];
        rec_be64(from, nb);
        if (rc == STORE_OK)
            rc = from ? store_put(t, STORE_META, rl_str_c(next_key),
                                  (rl_str){ (char *)nb, sizeof nb }, 0, err)
                      : store_put(t, STORE_META, RL_STR("msg.idx"), level ? RL_STR("2") : RL_STR("1"),
                                  0, err);
        if (rc == STORE_OK && !from) {
            rc = store_del(t, STORE_META, rl_str_c(next_key), (rl_str){ NULL, 0 }, err);
            rc = rc == STORE_NOTFOUND ? STORE_OK : rc;
        }
        rc = rc == STORE_OK ? store_commit(t, err) : (store_abort(t), rc);
        if (rc == STORE_OK && progress)
            progress(ctx, *built, total);
    }
    msgidx_keys_free(&k);
    hl7_msg_free(&m);
    return rc == STORE_OK ? fold_dedup(s, err) : rc;
}

/* ---- a check ---- */

#define MSGIDX_TEXT_MAX (RL_ERR_MSG_MAX + 64)

static const char *kind_name(char kind)
{
    switch (kind) {
    case 'I': return "patient ID";
    case 'A': return "order number";
    case 'U': return "study UID";
    case 'N': return "name";
    case 'C': return "control ID";
    case 'T': return "type";
    case 'S': return "sender";
    default: return "unknown";
    }
}

int msgidx_verify(store_txn *t, msgidx_problem_fn problem, void *ctx, uint64_t *entries,
                  rl_err *err)
{
    *entries = 0;
    char text[MSGIDX_TEXT_MAX];
    if (!msgidx_ready(t)) {
        problem(ctx, "message indexes: not built yet (the engine builds them when it starts)");
        return STORE_OK;
    }
    store_cursor *msgs, *idx;
    int rc = store_cursor_open(t, STORE_MSG, &msgs, err);
    if (rc)
        return rc;
    if ((rc = store_cursor_open(t, STORE_MSG_IDX, &idx, err)) != STORE_OK) {
        store_cursor_close(msgs);
        return rc;
    }
    hl7_msg m;
    hl7_msg_init(&m, &(hl7_limits){ .max_bytes = 256u << 20 });
    msgidx_keys k;
    msgidx_keys_init(&k);
    uint64_t expected = 0, missing = 0;
    rl_str key, val;
    msglog_rec r = MSGLOG_REC_INIT;
    for (int got = store_cursor_get(msgs, STORE_FIRST, &key, &val); got == STORE_OK;
         got = store_cursor_get(msgs, STORE_NEXT, &key, &val)) {
        if (key.n != RL_BE64_BYTES)
            continue;
        rl_err derr;
        if (msglog_decode(t, val, &r, &derr) != STORE_OK) {
            snprintf(text, sizeof text, "message %llu: %s",
                     (unsigned long long)rec_get_be64(key.p), derr.msg);
            problem(ctx, text);
            continue;
        }
        r.seq = rec_get_be64(key.p);
        msgidx_of_record(&r, &m, &k);
        unsigned char s[RL_BE64_BYTES];
        rec_be64(r.seq, s);
        size_t pos = 0;
        rl_str want;
        while (msgidx_keys_next(&k, &pos, &want)) {
            expected++;
            rl_str ik = want, iv = { (char *)s, sizeof s };
            if (store_cursor_get(idx, STORE_BOTH, &ik, &iv) == STORE_OK)
                continue;
            missing++;
            snprintf(text, sizeof text, "message %llu: its %s index entry is missing",
                     (unsigned long long)r.seq, kind_name(want.p[0]));
            problem(ctx, text);
        }
    }
    msglog_rec_free(&r);
    /* the audit events' patient entries */
    store_cursor *ev;
    if (store_cursor_open(t, STORE_AUDIT, &ev, err) == STORE_OK) {
        for (int got = store_cursor_get(ev, STORE_FIRST, &key, &val); got == STORE_OK;
             got = store_cursor_get(ev, STORE_NEXT, &key, &val)) {
            audit_rec ev_rec;
            if (key.n != RL_BE64_BYTES || audit_decode(t, rec_get_be64(key.p), val, &ev_rec) != STORE_OK)
                continue;
            if (ev_rec.facts_lost) {
                snprintf(text, sizeof text, "audit event %llu: its facts do not decompress (its "
                         "XML cannot be written)", (unsigned long long)ev_rec.seq);
                problem(ctx, text);
            }
            if (!ev_rec.patient_id.n || ev_rec.patient_id.n > 255)
                continue;
            char want[256 + 1];
            want[0] = 'E';
            memcpy(want + 1, ev_rec.patient_id.p, ev_rec.patient_id.n);
            expected++;
            rl_str ik = { want, ev_rec.patient_id.n + 1 }, iv = { key.p, key.n };
            if (store_cursor_get(idx, STORE_BOTH, &ik, &iv) == STORE_OK)
                continue;
            missing++;
            snprintf(text, sizeof text, "audit event %llu: its patient index entry is missing",
                     (unsigned long long)ev_rec.seq);
            problem(ctx, text);
        }
        store_cursor_close(ev);
    }
    uint64_t have = 0;
    store_entries(t, STORE_MSG_IDX, &have, err);
    *entries = have;
    if (have + missing > expected) {
        snprintf(text, sizeof text, "message indexes: %llu entries name no message, or the "
                 "wrong one", (unsigned long long)(have + missing - expected));
        problem(ctx, text);
    }
    if (missing || have + missing != expected)
        problem(ctx, "message indexes: rebuild them with 'radlink serve --reindex'");
    msgidx_keys_free(&k);
    hl7_msg_free(&m);
    store_cursor_close(idx);
    store_cursor_close(msgs);
    return STORE_OK;
}
