/* Worklist queries: attribute matching per DICOM PS3.4 C.2.2.2 (single value,
 * universal, wildcard, range, list of UIDs, sequence matching, combined
 * date-time ranges) and a planner that picks the most selective index. */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "wl_internal.h"

static rl_str trim(rl_str v)
{
    while (v.n && (v.p[v.n - 1] == ' ' || v.p[v.n - 1] == '\0'))
        v.n--;
    while (v.n && v.p[0] == ' ')
        v.p++, v.n--;
    return v;
}

static size_t digits_only(rl_str v)
{
    size_t d = 0;
    while (d < v.n && v.p[d] >= '0' && v.p[d] <= '9')
        d++;
    return d;
}

static bool has_wild(rl_str v)
{
    return memchr(v.p, '*', v.n) || memchr(v.p, '?', v.n);
}

/* DICOM wildcard matching: '*' any run (also empty), '?' one character
 * (one UTF-8 character, not one byte). Everything else is literal. */
static size_t utf8_len(unsigned char c)
{
    return c < 0x80 ? 1 : c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC0 ? 2 : 1;
}

static bool eq_char(const char *a, const char *b, size_t n, bool icase)
{
    if (!icase || n != 1)
        return memcmp(a, b, n) == 0;
    return tolower((unsigned char)*a) == tolower((unsigned char)*b);
}

static bool wild(const char *p, size_t pn, const char *s, size_t sn, bool icase)
{
    size_t pi = 0, si = 0, star_p = (size_t)-1, star_s = 0;
    while (si < sn) {
        if (pi < pn && p[pi] == '*') {
            star_p = ++pi;
            star_s = si;
            continue;
        }
        if (pi < pn) {
            size_t cl = utf8_len((unsigned char)s[si]);
            if (si + cl > sn)
                cl = sn - si;
            if (p[pi] == '?') {
                pi++;
                si += cl;
                continue;
            }
            size_t pl = utf8_len((unsigned char)p[pi]);
            if (pl == cl && pi + pl <= pn && eq_char(p + pi, s + si, cl, icase)) {
                pi += pl;
                si += cl;
                continue;
            }
        }
        if (star_p == (size_t)-1)
            return false;
        pi = star_p;
        si = ++star_s;
        while (si < sn && ((unsigned char)s[si] & 0xC0) == 0x80)
            si = ++star_s;
    }
    while (pi < pn && p[pi] == '*')
        pi++;
    return pi == pn;
}

static bool single(rl_str q, rl_str v, bool icase)
{
    if (has_wild(q))
        return wild(q.p, q.n, v.p, v.n, icase);
    if (q.n != v.n)
        return false;
    for (size_t i = 0; i < q.n; i++)
        if (!eq_char(q.p + i, v.p + i, 1, icase))
            return false;
    return true;
}

/* Values separated by '\' (value multiplicity > 1): any may match. */
static bool any_of(rl_str q, rl_str v, bool icase)
{
    const char *p = q.p, *end = q.p + q.n;
    for (;;) {
        const char *bs = memchr(p, '\\', (size_t)(end - p));
        rl_str one = trim((rl_str){ p, (size_t)((bs ? bs : end) - p) });
        if (single(one, v, icase))
            return true;
        if (!bs)
            return false;
        p = bs + 1;
    }
}

/* Normalised date/time text for range comparison: digits only, the lower
 * bound padded with '0', the upper with '9'. */
static void norm(rl_str v, size_t width, bool upper, char *out)
{
    size_t k = 0;
    for (size_t i = 0; i < v.n && k < width; i++)
        if (v.p[i] >= '0' && v.p[i] <= '9')
            out[k++] = v.p[i];
        else if (v.p[i] == '.' || v.p[i] == '+')
            break;
    while (k < width)
        out[k++] = upper ? '9' : '0';
    out[width] = '\0';
}

typedef struct range {
    char lo[RL_HL7_TS_TEXT_MAX], hi[RL_HL7_TS_TEXT_MAX]; /* a DT's 14 digits at most */
} range;

/* A DA/TM/DT query value as a range: "a-b", "a-", "-b" or a single value. */
static void to_range(rl_str q, size_t width, range *r)
{
    const char *dash = memchr(q.p, '-', q.n);
    if (!dash) {
        norm(q, width, false, r->lo);
        norm(q, width, true, r->hi);
        return;
    }
    rl_str a = { q.p, (size_t)(dash - q.p) }, b = { dash + 1, q.n - (size_t)(dash - q.p) - 1 };
    if (a.n)
        norm(a, width, false, r->lo);
    else
        memset(r->lo, '0', width), r->lo[width] = '\0';
    if (b.n)
        norm(b, width, true, r->hi);
    else
        memset(r->hi, '9', width), r->hi[width] = '\0';
}

static bool in_range(rl_str v, size_t width, const range *r)
{
    if (!v.n)
        return false;
    char x[RL_HL7_TS_TEXT_MAX];
    norm(v, width, false, x);
    return strcmp(x, r->lo) >= 0 && strcmp(x, r->hi) <= 0;
}

/* Person names: the alphabetic group, component by component. */
static rl_str pn_comp(rl_str v, unsigned i)
{
    const char *eq = memchr(v.p, '=', v.n);
    if (eq)
        v.n = (size_t)(eq - v.p);
    const char *p = v.p, *end = v.p + v.n;
    for (unsigned k = 0; k < i; k++) {
        const char *c = memchr(p, '^', (size_t)(end - p));
        if (!c)
            return (rl_str){ "", 0 };
        p = c + 1;
    }
    const char *c = memchr(p, '^', (size_t)(end - p));
    return trim((rl_str){ p, (size_t)((c ? c : end) - p) });
}

/* With components (DOE^J*), each given component is matched on its own. A
 * value without '^' matches the whole name (so *JANE* finds DOE^JANE, as
 * PS3.4 applies wildcards to the whole value) or the family name alone (so
 * DOE finds DOE^JANE, which is what a modality asking DOE means). */
static bool pn_match(rl_str q, rl_str v, bool icase)
{
    if (q.n == 1 && q.p[0] == '*')
        return true;
    if (!memchr(q.p, '^', q.n)) {
        const char *eq = memchr(v.p, '=', v.n);
        rl_str alpha = { v.p, eq ? (size_t)(eq - v.p) : v.n };
        return single(q, trim(alpha), icase) || single(q, pn_comp(v, 0), icase);
    }
    for (unsigned i = 0; i < 5; i++) {
        rl_str qc = pn_comp(q, i);
        if (!qc.n || (qc.n == 1 && qc.p[0] == '*'))
            continue;
        if (!single(qc, pn_comp(v, i), icase))
            return false;
    }
    return true;
}

static bool key_matches(const wl_key *k, rl_str v, bool icase)
{
    rl_str q = trim(k->value);
    v = trim(v);
    if (!q.n || (q.n == 1 && q.p[0] == '*'))
        return true; /* universal */
    if (!strcmp(k->vr, "DA")) {
        range r;
        to_range(q, 8, &r);
        return in_range(v, 8, &r);
    }
    if (!strcmp(k->vr, "TM")) {
        range r;
        to_range(q, 6, &r);
        return in_range(v, 6, &r);
    }
    if (!strcmp(k->vr, "DT")) {
        range r;
        to_range(q, 14, &r);
        return in_range(v, 14, &r);
    }
    if (!strcmp(k->vr, "PN"))
        return pn_match(q, v, icase);
    if (!strcmp(k->vr, "UI") || !strcmp(k->vr, "AE") || !strcmp(k->vr, "CS")) {
        /* several values on either side: a match when any pair matches */
        for (size_t i = 0, start = 0; i <= v.n; i++)
            if (i == v.n || v.p[i] == '\\') {
                if (any_of(q, (rl_str){ v.p + start, i - start }, false))
                    return true;
                start = i + 1;
            }
        return false;
    }
    return single(q, v, false);
}

static const wl_key *find_key(const wl_query *q, uint32_t seq, uint32_t tag)
{
    for (size_t i = 0; i < q->n; i++) {
        const wl_key *k = &q->k[i];
        if (seq ? (k->depth == 2 && k->path[0] == seq && k->path[1] == tag)
                : (k->depth == 1 && k->path[0] == tag))
            return k;
    }
    return NULL;
}

static bool is_range(const wl_key *k)
{
    rl_str v = trim(k->value);
    return v.n && memchr(v.p, '-', v.n);
}

bool wl_matches(const wl_query *q, const wl_entry *e)
{
    /* Scheduled Procedure Step Start Date and Time, both given as ranges: one
     * combined date-time range (PS3.4 C.2.2.2.5.2). */
    const wl_key *dk = find_key(q, WL_SPS_SEQ, WL_SPS_DATE);
    const wl_key *tk = find_key(q, WL_SPS_SEQ, WL_SPS_TIME);
    bool combined = dk && tk && is_range(dk) && is_range(tk);
    if (combined) {
        range d, t;
        to_range(trim(dk->value), 8, &d);
        to_range(trim(tk->value), 6, &t);
        range dt; /* 8 date digits + 6 time digits */
        memcpy(dt.lo, d.lo, 8);
        memcpy(dt.lo + 8, t.lo, 7);
        memcpy(dt.hi, d.hi, 8);
        memcpy(dt.hi + 8, t.hi, 7);
        rl_str date = trim(wl_sps(e, WL_SPS_DATE)), time = trim(wl_sps(e, WL_SPS_TIME));
        char v[RL_HL7_TS_TEXT_MAX], tm[sizeof "HHMMSS"];
        norm(date, 8, false, v);
        norm(time, 6, false, tm);
        memcpy(v + 8, tm, 7);
        if (!date.n || strcmp(v, dt.lo) < 0 || strcmp(v, dt.hi) > 0)
            return false;
    }
    for (size_t i = 0; i < q->n; i++) {
        const wl_key *k = &q->k[i];
        if (k->sequence || !trim(k->value).n)
            continue;
        if (combined && (k == dk || k == tk))
            continue;
        const rl_str *v = wl_get_attr(e, k->path, k->depth);
        if (!key_matches(k, v ? *v : (rl_str){ "", 0 }, q->icase_names))
            return false;
    }
    return true;
}

int wl_query_add(wl_query *q, uint32_t seq, uint32_t tag, const char *vr, rl_str value)
{
    if (q->n == WL_MAX_ATTRS)
        return RL_E_LIMIT;
    wl_key *k = &q->k[q->n++];
    memset(k, 0, sizeof *k);
    k->path[0] = seq ? seq : tag;
    k->path[1] = seq ? tag : 0;
    k->depth = seq ? 2 : 1;
    snprintf(k->vr, sizeof k->vr, "%s", vr);
    k->value = value;
    return 0;
}

/* ---- checking a query ---- */

static bool valid_date(rl_str v)
{
    if (v.n != 8 || digits_only(v) != 8)
        return false;
    int m = (v.p[4] - '0') * 10 + (v.p[5] - '0'), d = (v.p[6] - '0') * 10 + (v.p[7] - '0');
    return m >= 1 && m <= 12 && d >= 1 && d <= 31;
}

static bool valid_time(rl_str v)
{
    size_t d = digits_only(v);
    if (d == 0 || d % 2 || d > 6)
        return false;
    int h = (v.p[0] - '0') * 10 + (v.p[1] - '0');
    int mi = d >= 4 ? (v.p[2] - '0') * 10 + (v.p[3] - '0') : 0;
    int se = d >= 6 ? (v.p[4] - '0') * 10 + (v.p[5] - '0') : 0;
    if (h > 23 || mi > 59 || se > 60)
        return false;
    if (d == v.n)
        return true;
    if (d != 6 || v.p[6] != '.')
        return false;
    rl_str frac = { v.p + 7, v.n - 7 };
    return frac.n >= 1 && frac.n <= 6 && digits_only(frac) == frac.n;
}

static bool valid_datetime(rl_str v)
{
    size_t d = digits_only(v);
    return d >= 4 && d <= 14 && d % 2 == 0;
}

/* A single value or a range of them, by check. */
static bool valid_range(rl_str v, bool (*check)(rl_str))
{
    const char *dash = memchr(v.p, '-', v.n);
    if (!dash)
        return check(v);
    rl_str a = { v.p, (size_t)(dash - v.p) }, b = { dash + 1, v.n - a.n - 1 };
    if (memchr(b.p, '-', b.n) || (!a.n && !b.n))
        return false;
    return (!a.n || check(a)) && (!b.n || check(b));
}

bool wl_key_valid(const wl_key *k, rl_err *err)
{
    rl_str v = trim(k->value);
    if (!v.n || k->sequence)
        return true;
    const char *what = NULL;
    if (!strcmp(k->vr, "DA") && !valid_range(v, valid_date))
        what = "a date or date range (YYYYMMDD, YYYYMMDD-YYYYMMDD, YYYYMMDD-, -YYYYMMDD)";
    else if (!strcmp(k->vr, "TM") && !valid_range(v, valid_time))
        what = "a time or time range (HHMMSS, HHMM-HHMM...)";
    else if (!strcmp(k->vr, "DT") && !valid_range(v, valid_datetime))
        what = "a date-time or date-time range";
    if (!what)
        return true;
    const wl_model_attr *m = wl_model_by_path(k->path, k->depth);
    rl_err_set(err, RL_E_ARG, -1, "%s '%.*s' is not %s", m ? m->keyword : "value",
               (int)(v.n > 40 ? 40 : v.n), v.p, what);
    return false;
}

/* ---- planning ---- */

static bool exact(const wl_key *k)
{
    rl_str v = k ? trim(k->value) : (rl_str){ "", 0 };
    return v.n && !has_wild(v) && !memchr(v.p, '\\', v.n) && !(v.n == 1 && v.p[0] == '*');
}

static void set_part(char *out, size_t *n, rl_str v)
{
    size_t k = v.n < WL_KEY_MAX - 1 ? v.n : WL_KEY_MAX - 1;
    memcpy(out, v.p, k);
    *n = k;
}

/* AE/modality NUL date-range, for the 'S' and 'M' indexes. */
static void plan_pair(wl_plan *p, char kind, const wl_key *k, const wl_key *dk)
{
    rl_str a = trim(k->value);
    p->kind = kind;
    range r;
    if (dk && trim(dk->value).n && !has_wild(trim(dk->value)))
        to_range(trim(dk->value), 8, &r);
    else
        memcpy(r.lo, "00000000", 9), memcpy(r.hi, "99999999", 9);
    size_t n = a.n < WL_KEY_MAX - 10 ? a.n : WL_KEY_MAX - 10;
    memcpy(p->from, a.p, n);
    p->from[n] = '\0';
    memcpy(p->from + n + 1, r.lo, 8);
    p->from_n = n + 9;
    memcpy(p->to, a.p, n);
    p->to[n] = '\0';
    memcpy(p->to + n + 1, r.hi, 8);
    p->to_n = n + 9;
    /* entries without a date sort before "00000000": include them when the
     * query does not restrict the date */
    if (!dk || !trim(dk->value).n)
        p->from_n = n + 1;
}

void wl_plan_query(const wl_query *q, wl_plan *p)
{
    memset(p, 0, sizeof *p);
    const wl_key *acc = find_key(q, 0, WL_ACCESSION), *suid = find_key(q, 0, WL_STUDY_UID),
                 *pid = find_key(q, 0, WL_PATIENT_ID),
                 *ae = find_key(q, WL_SPS_SEQ, WL_STATION_AE),
                 *mod = find_key(q, WL_SPS_SEQ, WL_MODALITY),
                 *date = find_key(q, WL_SPS_SEQ, WL_SPS_DATE);
    const struct {
        const wl_key *k;
        char kind;
    } singles[] = { { acc, 'A' }, { suid, 'U' }, { pid, 'P' } };
    for (size_t i = 0; i < 3; i++) {
        if (exact(singles[i].k)) {
            p->kind = singles[i].kind;
            set_part(p->from, &p->from_n, trim(singles[i].k->value));
            set_part(p->to, &p->to_n, trim(singles[i].k->value));
            return;
        }
    }
    if (exact(ae)) {
        plan_pair(p, 'S', ae, date);
        return;
    }
    if (exact(mod)) {
        plan_pair(p, 'M', mod, date);
        return;
    }
    if (date && trim(date->value).n && !has_wild(trim(date->value))) {
        range r;
        to_range(trim(date->value), 8, &r);
        p->kind = 'D';
        memcpy(p->from, r.lo, 8);
        p->from_n = 8;
        memcpy(p->to, r.hi, 8);
        p->to_n = 8;
    }
}

typedef struct find_ctx {
    const wl_query *q;
    wl_visit cb;
    void *ctx;
} find_ctx;

static int filter(void *ctx, rl_str key, const wl_entry *e)
{
    find_ctx *f = ctx;
    return wl_matches(f->q, e) ? f->cb(f->ctx, key, e) : 0;
}

int wl_find(store_txn *t, const wl_query *q, wl_visit cb, void *ctx, wl_plan *plan, rl_err *err)
{
    wl_plan local;
    if (!plan)
        plan = &local;
    wl_plan_query(q, plan);
    find_ctx f = { q, cb, ctx };
    return wl_scan(t, plan->kind, (rl_str){ plan->from, plan->from_n },
                   plan->kind ? (rl_str){ plan->to, plan->to_n } : (rl_str){ NULL, 0 }, filter,
                   &f, err);
}
