/* One criterion of a message search against the indexes (msgfind_crit.h):
 * from the user's words to a key range, and from the range to the
 * messages, newest first. */
#include "msgfind_crit.h"

#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "radlink/limits.h"
#include "radlink/rec.h"

static size_t literal_len(const char *s)
{
    return strcspn(s, "*?[");
}

static void set_lit(crit *c, const char *p, size_t n)
{
    n = n < sizeof c->lit ? n : sizeof c->lit - 1;
    memcpy(c->lit, p, n);
    c->lit_n = n;
}

static void set_pat(char *dst, size_t dn, const char *p, size_t n)
{
    snprintf(dst, dn, "%.*s", (int)n, p);
}

static void init(crit *c, char kind, const char *label)
{
    memset(c, 0, sizeof *c);
    c->kind = kind;
    c->label = label;
    rl_buf_init(&c->keys, 0);
}

int crit_glob(crit *c, char kind, const char *label, const char *text)
{
    init(c, kind, label);
    size_t lit = literal_len(text);
    set_lit(c, text, lit);
    set_pat(c->pat, sizeof c->pat, text, strlen(text));
    c->filt = text[lit] ? CF_GLOB : CF_EXACT;
    return lit ? 0 : -1;
}

/* "ID" or "ID^^^AUTHORITY" (the authority's first subcomponent). */
int crit_patient(crit *c, const char *text)
{
    init(c, 'I', "patient");
    size_t idn = strcspn(text, "^"), authn = 0;
    const char *auth = "", *q = text;
    for (int comp = 1;; comp++) {
        size_t n = strcspn(q, "^");
        if (comp == 4) {
            auth = q;
            authn = strcspn(q, "&^");
            break;
        }
        if (!q[n])
            break;
        q += n + 1;
    }
    set_pat(c->pat, sizeof c->pat, text, idn);
    set_pat(c->pat2, sizeof c->pat2, auth, authn);
    size_t lit = literal_len(c->pat);
    if (c->pat[lit] || c->pat2[literal_len(c->pat2)]) {
        set_lit(c, text, lit);
        c->filt = CF_TWO;
        return lit ? 0 : -1;
    }
    if (!authn) {
        /* the ID alone: "ID" (indexed without an authority) or "ID" NUL any */
        set_lit(c, c->pat, strlen(c->pat));
        c->whole = true;
        c->filt = CF_TWO;
        return idn ? 0 : -1;
    }
    char key[MSGIDX_KEY_MAX];
    size_t a = strlen(c->pat), b = strlen(c->pat2);
    if (a + 1 + b > sizeof key)
        b = sizeof key - a - 1;
    memcpy(key, c->pat, a);
    key[a] = '\0';
    memcpy(key + a + 1, c->pat2, b);
    set_lit(c, key, a + 1 + b);
    c->filt = CF_EXACT;
    return idn ? 0 : -1;
}

int crit_name(crit *c, const char *text)
{
    init(c, 'N', "name");
    char folded[MSGIDX_KEY_MAX];
    size_t n = msgidx_fold(rl_str_c(text), folded, sizeof folded);
    set_pat(c->pat, sizeof c->pat, folded, n);
    size_t lit = literal_len(folded);
    set_lit(c, folded, lit);
    if (folded[lit])
        c->filt = CF_GLOB;
    else
        c->filt = strchr(folded, '^') ? CF_EXACT : CF_WORD;
    return lit ? 0 : -1;
}

/* "APP" or "APP/FACILITY" */
int crit_sender(crit *c, const char *text)
{
    init(c, 'S', "sender");
    const char *slash = strchr(text, '/');
    size_t an = slash ? (size_t)(slash - text) : strlen(text);
    set_pat(c->pat, sizeof c->pat, text, an);
    if (slash)
        set_pat(c->pat2, sizeof c->pat2, slash + 1, strlen(slash + 1));
    size_t lit = literal_len(c->pat);
    c->filt = CF_TWO;
    if (c->pat[lit]) {
        set_lit(c, c->pat, lit);
        return 0; /* the few senders are read whole */
    }
    char key[MSGIDX_KEY_MAX];
    size_t k = an < sizeof key - 1 ? an : sizeof key - 1;
    memcpy(key, c->pat, k);
    key[k++] = '\0';
    size_t fl = literal_len(c->pat2);
    if (fl > sizeof key - k)
        fl = sizeof key - k;
    memcpy(key + k, c->pat2, fl);
    set_lit(c, key, k + fl);
    if (slash && !c->pat2[fl])
        c->filt = CF_EXACT;
    return 0;
}

int crit_type(crit *c, const char *text)
{
    init(c, 'T', "type");
    size_t lit = literal_len(text);
    set_pat(c->pat, sizeof c->pat, text, strlen(text));
    set_lit(c, text, lit);
    c->filt = text[lit] ? CF_TYPE : strchr(text, '^') ? CF_EXACT : CF_WORD;
    return 0; /* a handful of types: read whole when need be */
}

/* ---- a PATH=VALUE and the index that covers its path ---- */

static bool path_is(const hl7_path *p, const char *seg, unsigned field, bool whole_ok)
{
    return !strcmp(p->seg, seg) && p->field == field && p->sub == 0 &&
           (p->comp == 1 || (p->comp == 0 && whole_ok));
}

int crit_of_path(crit *c, const hl7_path *p, const char *value, char *why, size_t whyn)
{
    char first[MSGIDX_KEY_MAX]; /* the value's first component */
    snprintf(first, sizeof first, "%.*s", (int)strcspn(value, "^"), value);
    int rc = 1;
    if (path_is(p, "PID", 3, true) || path_is(p, "MRG", 1, true))
        rc = crit_patient(c, p->comp ? first : value);
    else if (path_is(p, "OBR", 18, true) || path_is(p, "ORC", 2, true) ||
             path_is(p, "ORC", 3, true) || path_is(p, "OBR", 2, true) ||
             path_is(p, "OBR", 3, true) || path_is(p, "IPC", 1, true))
        rc = crit_glob(c, 'A', "accession", first);
    else if (path_is(p, "ZDS", 1, true) || path_is(p, "IPC", 3, true))
        rc = crit_glob(c, 'U', "study", first);
    else if (!strcmp(p->seg, "PID") && p->field == 5 && p->sub == 0 && p->comp <= 1)
        rc = crit_name(c, p->comp ? first : value);
    else if (!strcmp(p->seg, "MSH") && p->field == 10 && p->comp == 0)
        rc = crit_glob(c, 'C', "control-id", value);
    else if (!strcmp(p->seg, "MSH") && p->field == 9 && p->comp == 0) {
        /* the index holds the first two components: "ORM^O01" */
        char two[MSGIDX_KEY_MAX];
        size_t k = strcspn(value, "^");
        if (value[k])
            k += 1 + strcspn(value + k + 1, "^");
        snprintf(two, sizeof two, "%.*s", (int)k, value);
        rc = crit_type(c, two);
    }
    if (rc == 0)
        return 0;
    char path[32];
    hl7_path_format(p, path, sizeof path);
    if (rc > 0)
        snprintf(why, whyn, "no index covers %s", path);
    else
        snprintf(why, whyn, "'%s' starts with a wildcard", value);
    if (rc < 0)
        crit_free(c);
    return -1;
}

/* ---- values ---- */

bool crit_glob_str(const char *pat, rl_str v)
{
    char b[RL_FIELD_MATCH_TEXT_MAX];
    snprintf(b, sizeof b, "%.*s", (int)(v.n < sizeof b ? v.n : sizeof b - 1), v.p);
    return fnmatch(pat, b, 0) == 0;
}

bool crit_type_matches(const char *pattern, rl_str type)
{
    size_t comps = strchr(pattern, '^') ? 2 : 1, n = 0, seen = 0;
    while (n < type.n && !(type.p[n] == '^' && ++seen >= comps))
        n++;
    return crit_glob_str(pattern, (rl_str){ type.p, n });
}

bool crit_accepts(const crit *c, rl_str v)
{
    switch (c->filt) {
    case CF_EXACT:
        return v.n == c->lit_n && !memcmp(v.p, c->lit, v.n);
    case CF_PREFIX:
        return v.n >= c->lit_n && !memcmp(v.p, c->lit, c->lit_n);
    case CF_GLOB:
        return crit_glob_str(c->pat, v);
    case CF_WORD: {
        size_t n = strlen(c->pat);
        return v.n >= n && !memcmp(v.p, c->pat, n) && (v.n == n || v.p[n] == '^');
    }
    case CF_TWO: {
        const char *nul = memchr(v.p, '\0', v.n);
        rl_str a = { v.p, nul ? (size_t)(nul - v.p) : v.n };
        rl_str b = nul ? (rl_str){ nul + 1, v.n - a.n - 1 } : (rl_str){ "", 0 };
        return crit_glob_str(c->pat, a) && (!c->pat2[0] || crit_glob_str(c->pat2, b));
    }
    case CF_TYPE:
        return crit_type_matches(c->pat, v);
    }
    return false;
}

bool crit_any(const crit *c, const msgidx_keys *k)
{
    size_t pos = 0;
    rl_str key;
    while (msgidx_keys_next(k, &pos, &key))
        if (key.n && key.p[0] == c->kind && crit_accepts(c, (rl_str){ key.p + 1, key.n - 1 }))
            return true;
    return false;
}

/* ---- against the index ---- */

/* Keys sort "LIT" < "LIT" NUL ... < "LIT" anything else: a whole literal's
 * range ends at the first of the last. */
static bool in_range(const crit *c, rl_str key)
{
    return key.n >= 1 + c->lit_n && key.p[0] == c->kind && !memcmp(key.p + 1, c->lit, c->lit_n) &&
           (!c->whole || key.n == 1 + c->lit_n || key.p[1 + c->lit_n] == '\0');
}

int crit_resolve(store_txn *t, crit *c, rl_err *err)
{
    store_cursor *cur;
    int rc = store_cursor_open(t, STORE_MSG_IDX, &cur, err);
    if (rc)
        return rc;
    char start[MSGIDX_KEY_MAX + 1];
    start[0] = c->kind;
    memcpy(start + 1, c->lit, c->lit_n);
    rl_str key = { start, 1 + c->lit_n }, val;
    for (int got = store_cursor_get(cur, STORE_SEEK, &key, &val);
         got == STORE_OK && in_range(c, key); got = store_cursor_get(cur, STORE_NEXT_KEY, &key, &val)) {
        if (!crit_accepts(c, (rl_str){ key.p + 1, key.n - 1 }))
            continue;
        if (++c->nkeys > CRIT_ENUM_MAX) {
            c->broad = true;
            break;
        }
        uint64_t n = 0;
        store_cursor_count(cur, &n);
        c->count += n;
        if (c->nkeys <= CRIT_MERGE_MAX) {
            unsigned char len[2] = { (unsigned char)(key.n >> 8), (unsigned char)key.n };
            rl_buf_add(&c->keys, len, 2);
            rl_buf_add(&c->keys, key.p, key.n);
        }
        if (c->kind == 'T' && c->filt == CF_EXACT)
            break;
    }
    store_cursor_close(cur);
    return STORE_OK;
}

void crit_free(crit *c)
{
    rl_buf_free(&c->keys);
}

static bool next_key(const crit *c, size_t *pos, rl_str *key)
{
    msgidx_keys k = { c->keys, (unsigned)c->nkeys };
    return msgidx_keys_next(&k, pos, key);
}

bool crit_has(store_cursor *cur, const crit *c, uint64_t seq)
{
    unsigned char s[RL_BE64_BYTES];
    rec_be64(seq, s);
    size_t pos = 0;
    rl_str key;
    while (next_key(c, &pos, &key)) {
        rl_str k = key, v = { (char *)s, sizeof s };
        if (store_cursor_get(cur, STORE_BOTH, &k, &v) == STORE_OK)
            return true;
    }
    return false;
}

/* ---- streams ---- */

/* The key's last message below hi: its cursor is left there. */
static uint64_t last_below(store_cursor *cur, rl_str key, uint64_t hi)
{
    unsigned char h[RL_BE64_BYTES];
    rec_be64(hi, h);
    rl_str k = key, v = { (char *)h, sizeof h };
    int got = store_cursor_get(cur, STORE_BOTH_RANGE, &k, &v);
    if (got == STORE_OK)
        got = store_cursor_get(cur, STORE_PREV_DUP, &k, &v);
    else if ((got = store_cursor_get(cur, STORE_SET, &k, &v)) == STORE_OK)
        got = store_cursor_get(cur, STORE_LAST_DUP, &k, &v);
    return got == STORE_OK && v.n == RL_BE64_BYTES ? rec_get_be64(v.p) : 0;
}

static int cmp_desc(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? 1 : x > y ? -1 : 0;
}

/* Every message of every key of c in [lo, hi), sorted newest first. */
static int gather(store_txn *t, const crit *c, crit_stream *s, uint64_t hi, rl_err *err)
{
    store_cursor *cur;
    int rc = store_cursor_open(t, STORE_MSG_IDX, &cur, err);
    if (rc)
        return rc;
    size_t cap = c->count < CRIT_GATHER_MAX ? (size_t)c->count + 1 : CRIT_GATHER_MAX;
    s->arr = malloc(cap * sizeof *s->arr);
    char start[MSGIDX_KEY_MAX + 1];
    start[0] = c->kind;
    memcpy(start + 1, c->lit, c->lit_n);
    rl_str key = { start, 1 + c->lit_n }, val;
    unsigned char l[RL_BE64_BYTES];
    rec_be64(s->lo, l);
    for (int got = s->arr ? store_cursor_get(cur, STORE_SEEK, &key, &val) : STORE_NOTFOUND;
         got == STORE_OK && in_range(c, key);
         got = store_cursor_get(cur, STORE_NEXT_KEY, &key, &val)) {
        if (!crit_accepts(c, (rl_str){ key.p + 1, key.n - 1 }))
            continue;
        rl_str k = key, v = { (char *)l, sizeof l };
        for (int d = store_cursor_get(cur, STORE_BOTH_RANGE, &k, &v); d == STORE_OK;
             d = store_cursor_get(cur, STORE_NEXT_DUP, &k, &v)) {
            uint64_t seq = rec_get_be64(v.p);
            if (seq >= hi)
                break;
            if (s->narr < cap)
                s->arr[s->narr++] = seq;
        }
        key = k; /* NEXT_KEY goes on from this key */
    }
    store_cursor_close(cur);
    if (!s->arr)
        return rl_err_set(err, STORE_E_IO, -1, "out of memory");
    qsort(s->arr, s->narr, sizeof *s->arr, cmp_desc);
    return STORE_OK;
}

int crit_stream_open(store_txn *t, const crit *c, uint64_t lo, uint64_t hi, crit_stream *s,
                     rl_err *err)
{
    memset(s, 0, sizeof *s);
    s->lo = lo;
    if (c->nkeys > CRIT_MERGE_MAX)
        return gather(t, c, s, hi, err);
    size_t pos = 0;
    rl_str key;
    while (next_key(c, &pos, &key) && s->n < CRIT_MERGE_MAX) {
        int rc = store_cursor_open(t, STORE_MSG_IDX, &s->cur[s->n], err);
        if (rc) {
            crit_stream_close(s);
            return rc;
        }
        s->head[s->n] = last_below(s->cur[s->n], key, hi);
        s->n++;
    }
    return STORE_OK;
}

uint64_t crit_stream_next(crit_stream *s)
{
    for (;;) {
        uint64_t seq = 0;
        if (s->arr) {
            if (s->pos < s->narr)
                seq = s->arr[s->pos++];
        } else {
            size_t best = s->n;
            for (size_t i = 0; i < s->n; i++)
                if (s->head[i] && (best == s->n || s->head[i] > s->head[best]))
                    best = i;
            if (best < s->n) {
                seq = s->head[best];
                rl_str k, v;
                s->head[best] = store_cursor_get(s->cur[best], STORE_PREV_DUP, &k, &v) == STORE_OK &&
                                        v.n == RL_BE64_BYTES
                                    ? rec_get_be64(v.p)
                                    : 0;
            }
        }
        if (!seq || seq < s->lo)
            return 0;
        if (seq == s->last) /* the same message under two of the keys */
            continue;
        s->last = seq;
        return seq;
    }
}

void crit_stream_close(crit_stream *s)
{
    for (size_t i = 0; i < s->n; i++)
        store_cursor_close(s->cur[i]);
    free(s->arr);
    memset(s, 0, sizeof *s);
}
