/* The message log's finder (radlink/msgfind.h), shared by the CLI, the
 * console and the API: the indexes where they answer, else the scan. */
#include "radlink/msgfind.h"

#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "msgfind_crit.h"
#include "radlink/limits.h"
#include "radlink/rec.h"

int msgfind_set_search(msgfind *f, const char *text, rl_err *err)
{
    const char *eq = strchr(text, '=');
    if (!eq)
        return rl_err_set(err, RL_E_ARG, -1, "expected PATH=VALUE, e.g. PID-3.1=12345"), -1;
    if (hl7_path_parse((rl_str){ text, (size_t)(eq - text) }, &f->path, err) != 0)
        return -1;
    f->has_value = true;
    f->value = eq + 1;
    return 0;
}

/* "APP" or "APP/FACILITY", wildcards allowed */
static bool sender_matches(const char *pattern, rl_str app, rl_str fac)
{
    char a[RL_FIELD_MATCH_TEXT_MAX];
    const char *slash = strchr(pattern, '/');
    snprintf(a, sizeof a, "%.*s", (int)(slash ? (size_t)(slash - pattern) : strlen(pattern)),
             pattern);
    return crit_glob_str(a, app) && (!slash || crit_glob_str(slash + 1, fac));
}

bool msgfind_row_matches(const msgfind *f, const msglog_rec *r)
{
    if (f->status >= 0 && (int)r->status != f->status)
        return false;
    if (f->sender && !sender_matches(f->sender, r->app, r->fac))
        return false;
    return !f->type || crit_type_matches(f->type, r->type);
}

/* PID-3=ID or PID-3=ID^^^AUTHORITY (MRG-1 the same): an identifier is its
 * ID, with or without the authority; the rest of the field does not count. */
static bool is_cx(const hl7_path *p)
{
    return p->comp == 0 && ((!strcmp(p->seg, "PID") && p->field == 3) ||
                            (!strcmp(p->seg, "MRG") && p->field == 1));
}

static bool cx_matches(hl7_msg *m, const hl7_path *p, const char *pattern)
{
    char id[RL_FIELD_MATCH_TEXT_MAX], auth[RL_FIELD_MATCH_TEXT_MAX] = "";
    size_t idn = strcspn(pattern, "^");
    snprintf(id, sizeof id, "%.*s", (int)idn, pattern);
    const char *q = pattern;
    for (int comp = 1; comp < 4 && q[strcspn(q, "^")]; comp++)
        q += strcspn(q, "^") + 1;
    if (q != pattern && q > pattern + idn)
        snprintf(auth, sizeof auth, "%.*s", (int)strcspn(q, "&^"), q);
    unsigned reps = p->rep ? 1 : hl7_rep_count(m, p);
    for (unsigned r = 1; r <= reps; r++) {
        hl7_path c = *p;
        rl_str v, a;
        rl_err err;
        c.comp = 1;
        if (hl7_get_rep(m, &c, p->rep ? p->rep : r, &v, &err) < HL7_EMPTY || !crit_glob_str(id, v))
            continue;
        c.comp = 4;
        c.sub = 1;
        if (hl7_get_rep(m, &c, p->rep ? p->rep : r, &a, &err) < HL7_ABSENT)
            a = (rl_str){ "", 0 };
        if (!auth[0] || crit_glob_str(auth, a))
            return true;
    }
    return false;
}

static bool has_value(hl7_msg *m, const hl7_path *p, const char *pattern)
{
    if (is_cx(p))
        return cx_matches(m, p, pattern);
    unsigned reps = p->rep ? 1 : hl7_rep_count(m, p);
    for (unsigned r = 1; r <= reps; r++) {
        rl_str v;
        rl_err err;
        int k = hl7_get_rep(m, p, r, &v, &err);
        if (k < HL7_EMPTY)
            continue;
        char buf[RL_FIELD_MATCH_TEXT_MAX];
        if (k == HL7_NULL)
            snprintf(buf, sizeof buf, "\"\"");
        else
            snprintf(buf, sizeof buf, "%.*s",
                     (int)(v.n > RL_FIELD_MATCH_MAX ? RL_FIELD_MATCH_MAX : v.n), v.p);
        if (fnmatch(pattern, buf, 0) == 0)
            return true;
    }
    return false;
}

/* ---- the plan: which criteria, which leads ---- */

typedef struct plan {
    crit c[CRIT_MAX];
    size_t n;          /* criteria on the message's content or header keys */
    bool content;      /* one of them needs the parsed text (a scan's check) */
    int lead;          /* the index that leads, -1: the scan */
    char why[200];     /* a scan: why */
} plan;

static void add(plan *p, int rc, const char *what)
{
    crit *c = &p->c[p->n];
    if (rc != 0) {
        if (!p->why[0])
            snprintf(p->why, sizeof p->why, "%s starts with a wildcard", what);
        crit_free(c);
    }
    /* a pattern no index narrows is still checked on each message */
    c->broad = rc != 0;
    p->content |= c->kind == 'I' || c->kind == 'A' || c->kind == 'N' || c->kind == 'U';
    p->n++;
}

static void make_plan(const msgfind *f, plan *p)
{
    memset(p, 0, sizeof *p);
    p->lead = -1;
    if (f->patient)
        add(p, crit_patient(&p->c[p->n], f->patient), "--patient");
    if (f->accession)
        add(p, crit_glob(&p->c[p->n], 'A', "accession", f->accession), "--accession");
    if (f->name)
        add(p, crit_name(&p->c[p->n], f->name), "--name");
    if (f->study)
        add(p, crit_glob(&p->c[p->n], 'U', "study", f->study), "--study");
    char why[200] = "";
    if (f->has_value) {
        if (crit_of_path(&p->c[p->n], &f->path, f->value, why, sizeof why) == 0)
            p->n++;
        else if (!p->why[0])
            snprintf(p->why, sizeof p->why, "%s", why);
    }
    /* type and sender are in each record: they lead only when nothing else can */
    if (!p->n && f->type) {
        crit_type(&p->c[p->n], f->type);
        p->n++;
    }
    if (!p->n && f->sender) {
        crit_sender(&p->c[p->n], f->sender);
        p->n++;
    }
}

static void free_plan(plan *p)
{
    for (size_t i = 0; i < p->n; i++)
        crit_free(&p->c[i]);
}

/* Resolve each criterion against the index; the one naming the fewest
 * messages leads. */
static int choose(store_txn *t, plan *p, rl_err *err)
{
    if (!p->n) {
        if (!p->why[0])
            snprintf(p->why, sizeof p->why, "no index answers these filters");
        return STORE_OK;
    }
    if (!msgidx_ready(t)) {
        snprintf(p->why, sizeof p->why, "the message indexes are being built (at the engine's "
                 "start)");
        return STORE_OK;
    }
    for (size_t i = 0; i < p->n; i++) {
        if (p->c[i].broad)
            continue;
        int rc = crit_resolve(t, &p->c[i], err);
        if (rc)
            return rc;
        if (p->c[i].broad)
            continue;
        if (p->lead < 0 || p->c[i].count < p->c[p->lead].count)
            p->lead = (int)i;
    }
    if (p->lead < 0 && !p->why[0])
        snprintf(p->why, sizeof p->why, "the patterns match too many values to read by index");
    if (p->lead >= 0 && p->c[p->lead].count > CRIT_GATHER_MAX &&
        p->c[p->lead].nkeys > CRIT_MERGE_MAX) {
        snprintf(p->why, sizeof p->why, "the %s pattern matches too many messages to sort",
                 p->c[p->lead].label);
        p->lead = -1;
    }
    return STORE_OK;
}

/* ---- one candidate ---- */

typedef struct walk {
    store_txn *t;
    const msgfind *f;
    plan *p;
    store_cursor *cur;  /* the index, for the other criteria */
    hl7_msg m;
    msgidx_keys keys;
    msglog_rec r; /* the candidate, read into again for each */
    uint64_t scanned;
} walk;

/* Whether message seq passes every criterion but the leading one. */
static bool passes(walk *w, uint64_t seq, rl_err *err)
{
    bool need_keys = false;
    for (size_t i = 0; i < w->p->n; i++) {
        const crit *c = &w->p->c[i];
        if ((int)i == w->p->lead)
            continue;
        if (w->p->lead >= 0 && !c->broad && c->nkeys <= CRIT_MERGE_MAX) {
            if (!crit_has(w->cur, c, seq))
                return false;
        } else {
            need_keys = true;
        }
    }
    msglog_rec *r = &w->r;
    w->scanned++;
    if (msglog_get(w->t, seq, r, err) != STORE_OK || !msgfind_row_matches(w->f, r))
        return false;
    bool parsed = false;
    if (need_keys) {
        msgidx_of_record(r, &w->m, &w->keys);
        parsed = r->status != MSG_DUPLICATE;
        for (size_t i = 0; i < w->p->n; i++) {
            const crit *c = &w->p->c[i];
            bool by_index = (int)i == w->p->lead ||
                            (w->p->lead >= 0 && !c->broad && c->nkeys <= CRIT_MERGE_MAX);
            if (!by_index && !crit_any(c, &w->keys))
                return false;
        }
    }
    if (!w->f->has_value)
        return true;
    if (r->status == MSG_DUPLICATE)
        return false;
    rl_err perr;
    if (!parsed && hl7_parse(&w->m, r->raw.p, r->raw.n, &perr) != HL7_OK)
        return false;
    return has_value(&w->m, &w->f->path, w->f->value);
}

/* ---- the page ---- */

/* The range of sequence numbers f's times and before allow: [lo, hi). */
static int range_of(store_txn *t, const msgfind *f, uint64_t before, uint64_t *lo, uint64_t *hi,
                    rl_err *err)
{
    int rc = store_next_seq(t, STORE_MSG, hi, err);
    if (rc != STORE_OK)
        return rc;
    *lo = 1;
    if (f->since_us && (rc = msglog_seek_time(t, f->since_us, lo, err)) != STORE_OK)
        return rc;
    uint64_t until;
    if (f->until_us && (rc = msglog_seek_time(t, f->until_us, &until, err)) != STORE_OK)
        return rc;
    if (f->until_us && until < *hi)
        *hi = until;
    if (before && before < *hi)
        *hi = before;
    /* retention removes the oldest: the log starts at its first record */
    store_cursor *c;
    if (store_cursor_open(t, STORE_MSG, &c, err) == STORE_OK) {
        rl_str k, v;
        if (store_cursor_get(c, STORE_FIRST, &k, &v) == STORE_OK && k.n == 8 &&
            rec_get_be64(k.p) > *lo)
            *lo = rec_get_be64(k.p);
        store_cursor_close(c);
    }
    return STORE_OK;
}

static void how_of(const plan *p, msgfind_how *how)
{
    size_t k = 0;
    how->index[0] = '\0';
    how->why_scan[0] = '\0';
    if (p->lead < 0) {
        snprintf(how->why_scan, sizeof how->why_scan, "%s", p->why);
        return;
    }
    for (size_t i = 0; i < p->n && k < sizeof how->index; i++)
        if ((int)i == p->lead || (!p->c[i].broad && p->c[i].nkeys <= CRIT_MERGE_MAX))
            k += (size_t)snprintf(how->index + k, sizeof how->index - k, "%s%s", k ? "+" : "",
                                  p->c[i].label);
}

int msgfind_page(store_txn *t, const msgfind *f, uint64_t before, uint64_t *seqs, size_t max,
                 size_t *n, uint64_t *resume, msgfind_how *how, rl_err *err)
{
    *n = 0;
    *resume = 0;
    uint64_t lo, hi;
    int rc = range_of(t, f, before, &lo, &hi, err);
    if (rc != STORE_OK)
        return rc;
    plan *p = calloc(1, sizeof *p);
    if (!p)
        return rl_err_set(err, STORE_E_IO, -1, "out of memory");
    make_plan(f, p);
    walk w = { .t = t, .f = f, .p = p, .r = MSGLOG_REC_INIT };
    hl7_msg_init(&w.m, &(hl7_limits){ .max_bytes = 256u << 20 });
    msgidx_keys_init(&w.keys);
    if ((rc = choose(t, p, err)) == STORE_OK && p->lead >= 0)
        rc = store_cursor_open(t, STORE_MSG_IDX, &w.cur, err);
    if (rc == STORE_OK && p->lead >= 0) {
        crit_stream s;
        rc = crit_stream_open(t, &p->c[p->lead], lo, hi, &s, err);
        for (uint64_t seq; rc == STORE_OK && (seq = crit_stream_next(&s)) != 0;) {
            if (!passes(&w, seq, err))
                continue;
            if (*n == max) { /* one more exists: the next page starts below the last */
                *resume = seqs[max - 1];
                break;
            }
            seqs[(*n)++] = seq;
        }
        crit_stream_close(&s);
    } else if (rc == STORE_OK) {
        for (uint64_t seq = hi - 1; seq >= lo && seq >= 1; seq--) {
            if (*n == max) {
                *resume = seq + 1;
                break;
            }
            if (passes(&w, seq, err))
                seqs[(*n)++] = seq;
        }
    }
    if (how) {
        how_of(p, how);
        how->scanned = w.scanned;
    }
    store_cursor_close(w.cur);
    msglog_rec_free(&w.r);
    msgidx_keys_free(&w.keys);
    hl7_msg_free(&w.m);
    free_plan(p);
    free(p);
    return rc;
}
