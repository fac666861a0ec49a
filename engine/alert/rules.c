/* The rules and the book (radlink/alert.h): which conditions hold in what
 * the engine measured, and what is owed to people because of them. Pure:
 * no clock, no store, no network; the runner (run.c) feeds it. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "radlink/alert.h"

const char *alert_kind_name(alert_kind k)
{
    switch (k) {
    case ALERT_FIRING: return "firing";
    case ALERT_REPEAT: return "repeat";
    case ALERT_RESOLVED: return "resolved";
    }
    return "?";
}

void alert_facts_free(alert_facts *f)
{
    free(f->unmatched_us);
    free(f->reports_us);
    f->unmatched_us = f->reports_us = NULL;
    f->nunmatched = f->nreports = 0;
}

/* A condition's text, cut at its size (a long file name or reason is cut,
 * never overrun). */
__attribute__((format(printf, 2, 3))) static void say(alert_cond *c, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->text, sizeof c->text, fmt, ap);
    va_end(ap);
    alert_utf8_trim(c->text);
}

/* "2d 3h", "45m", "30s": an age as people read it. */
static void age_text(int64_t s, char *out, size_t n)
{
    if (s < 0)
        s = 0;
    if (s >= 86400)
        snprintf(out, n, "%lldd %lldh", (long long)(s / 86400), (long long)(s % 86400 / 3600));
    else if (s >= 3600)
        snprintf(out, n, "%lldh %lldm", (long long)(s / 3600), (long long)(s % 3600 / 60));
    else if (s >= 60)
        snprintf(out, n, "%lldm", (long long)(s / 60));
    else
        snprintf(out, n, "%llds", (long long)s);
}

static void day_text(int64_t us, char *out, size_t n)
{
    time_t t = (time_t)(us / 1000000);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, n, "%Y-%m-%d %H:%M UTC", &tm);
}

typedef struct conds {
    alert_cond **v;
    size_t *n, *cap;
    int failed;
} conds;

/* A condition of rule r about subject; its text after it. */
static alert_cond *add(conds *cs, const cfg_alert_rule *r, const char *subject)
{
    if (*cs->n == *cs->cap) {
        size_t cap = *cs->cap ? *cs->cap * 2 : 16;
        alert_cond *v = realloc(*cs->v, cap * sizeof *v);
        if (!v) {
            cs->failed = -1;
            return NULL;
        }
        *cs->v = v, *cs->cap = cap;
    }
    alert_cond *c = &(*cs->v)[(*cs->n)++];
    memset(c, 0, sizeof *c);
    const char *on = alert_on_names[r->on];
    snprintf(c->on, sizeof c->on, "%s", on);
    snprintf(c->subject, sizeof c->subject, "%s", subject);
    /* the threshold is part of the key: two rules on one thing at two
     * levels are two alerts */
    snprintf(c->key, sizeof c->key, "%s/%llu/%u/%u/%s", on, (unsigned long long)r->over,
             (unsigned)r->older_s, (unsigned)r->within_s, subject);
    alert_utf8_trim(c->subject);
    alert_utf8_trim(c->key);
    c->for_s = r->for_s;
    c->repeat_s = r->repeat_s;
    return c;
}

static bool dest_taken(const cfg_alert_rule *r, const alert_dest_fact *d)
{
    return !r->destination[0] || strcmp(r->destination, d->name) == 0;
}

static void eval_dests(conds *cs, const cfg_alert_rule *r, const alert_facts *f)
{
    char age[32], lim[32];
    for (size_t i = 0; i < f->nd; i++) {
        const alert_dest_fact *d = &f->d[i];
        if (!dest_taken(r, d))
            continue;
        alert_cond *c = NULL;
        if (r->on == ALERT_QUEUE_DEPTH && d->pending > r->over) {
            if ((c = add(cs, r, d->name)))
                say(c, "destination %s: %lu message%s waiting (the rule says over "
                    "%llu); see radlink queue list --dest %s", d->name, d->pending,
                    d->pending == 1 ? "" : "s", (unsigned long long)r->over, d->name);
        } else if (r->on == ALERT_QUEUE_AGE && d->pending && d->oldest_us &&
                   f->now_us - d->oldest_us > (int64_t)r->older_s * 1000000) {
            age_text((f->now_us - d->oldest_us) / 1000000, age, sizeof age);
            age_text(r->older_s, lim, sizeof lim);
            if ((c = add(cs, r, d->name)))
                say(c, "destination %s: its oldest message has waited "
                         "%s (the rule says over %s), %lu waiting", d->name, age, lim,
                         d->pending);
        } else if (r->on == ALERT_PARKED && d->parked > r->over) {
            if ((c = add(cs, r, d->name)))
                say(c, "destination %s: %lu message%s parked; see radlink queue list "
                    "--dest %s --state parked, then queue retry", d->name, d->parked,
                    d->parked == 1 ? "" : "s", d->name);
        }
    }
}

/* How many of v are older than s seconds at now. */
static size_t older_than(const int64_t *v, size_t n, int64_t now_us, uint32_t s)
{
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        k += v[i] && now_us - v[i] > (int64_t)s * 1000000;
    return k;
}

static void eval_certs(conds *cs, const cfg_alert_rule *r, const alert_facts *f)
{
    char day[40], left[32];
    for (size_t i = 0; i < f->ncerts; i++) {
        const alert_cert_fact *k = &f->certs[i];
        if (!k->not_after_us)
            continue; /* unreadable: said by the engine at start, not guessed at here */
        int64_t left_s = (k->not_after_us - f->now_us) / 1000000;
        if (left_s > (int64_t)r->within_s)
            continue;
        alert_cond *c = add(cs, r, k->what);
        if (!c)
            return;
        day_text(k->not_after_us, day, sizeof day);
        age_text(left_s, left, sizeof left);
        if (left_s <= 0)
            say(c, "the %s (%s) expired on %s", k->what, k->where,
                     day);
        else
            say(c, "the %s (%s) expires on %s, in %s", k->what,
                     k->where, day, left);
    }
}

static void eval_rule(conds *cs, const cfg_alert_rule *r, const alert_facts *f)
{
    alert_cond *c;
    char age[32];
    size_t k;
    switch ((alert_on)r->on) {
    case ALERT_QUEUE_DEPTH:
    case ALERT_QUEUE_AGE:
    case ALERT_PARKED:
        eval_dests(cs, r, f);
        break;
    case ALERT_DEAD_JOBS:
    case ALERT_UNVERIFIED: {
        bool dead = r->on == ALERT_DEAD_JOBS;
        unsigned long n = dead ? f->jobs_dead : f->jobs_unverified;
        if (n > r->over && (c = add(cs, r, dead ? "jobs dead" : "jobs unverified")))
            say(c, "%lu job%s %s; see radlink jobs list --state %s",
                     n, n == 1 ? "" : "s", dead ? "dead" : "unverified",
                     dead ? "dead" : "unverified");
        break;
    }
    case ALERT_UNMATCHED:
        age_text(r->older_s, age, sizeof age);
        if ((k = older_than(f->unmatched_us, f->nunmatched, f->now_us, r->older_s)) &&
            (c = add(cs, r, "unmatched studies")))
            say(c, "%zu stud%s unmatched for over %s; see radlink "
                     "recon list --state unmatched", k, k == 1 ? "y" : "ies", age);
        break;
    case ALERT_REPORTS:
        age_text(r->older_s, age, sizeof age);
        if ((k = older_than(f->reports_us, f->nreports, f->now_us, r->older_s)) &&
            (c = add(cs, r, "waiting reports")))
            say(c, "%zu report%s waiting for %s study for over %s; "
                     "see radlink recon list --reports", k, k == 1 ? "" : "s",
                     k == 1 ? "its" : "their", age);
        break;
    case ALERT_CERTIFICATE:
        eval_certs(cs, r, f);
        break;
    case ALERT_STORE_USE:
        if (f->store_pct >= 0 && (uint64_t)f->store_pct > r->over &&
            (c = add(cs, r, "store")))
            say(c, "the store uses %d%% of the largest map it may "
                     "grow to (<store max-map-size-mb>; retention removes old records)",
                     f->store_pct);
        break;
    case ALERT_DISK_USE:
        if (f->disk_pct >= 0 && (uint64_t)f->disk_pct > r->over && (c = add(cs, r, "disk")))
            say(c, "the file system of the data directory is %d%% "
                     "full", f->disk_pct);
        break;
    case ALERT_AUDIT_DOWN:
        if (f->audit_on && f->audit_down_us &&
            f->now_us - f->audit_down_us > (int64_t)r->older_s * 1000000 &&
            (c = add(cs, r, "audit collector"))) {
            age_text((f->now_us - f->audit_down_us) / 1000000, age, sizeof age);
            say(c, "the audit collector %s has been down for %s%s%s "
                     "(events are kept and shipped when it is back)", f->audit_where, age,
                     f->audit_why[0] ? ": " : "", f->audit_why);
        }
        break;
    case ALERT_WORKER_LOST:
        if (f->workers_connected < f->workers_expected && (c = add(cs, r, "workers")))
            say(c, "%u of %u workers connected (workers lost since "
                     "the engine started: %lu); jobs wait until one is back",
                     f->workers_connected, f->workers_expected, f->workers_lost);
        break;
    case ALERT_ON_COUNT:
        break;
    }
}

int alert_eval(const cfg_alerts *a, const alert_facts *f, alert_cond **out, size_t *n,
               size_t *cap)
{
    conds cs = { out, n, cap, 0 };
    for (unsigned i = 0; i < a->n_rules && !cs.failed; i++)
        if (a->rules[i].on < ALERT_ON_COUNT)
            eval_rule(&cs, &a->rules[i], f);
    return cs.failed;
}

/* ---- the book ---- */

static void owe(alert_book *b, alert_kind kind, const alert_active *a, int64_t now_us,
                unsigned channels)
{
    if (!channels)
        return;
    if (b->nout == RL_ALERT_OUTBOX_MAX) { /* the oldest note gives way */
        memmove(&b->out[0], &b->out[1], (b->nout - 1) * sizeof b->out[0]);
        b->nout--;
        b->dropped++;
    }
    alert_note *n = &b->out[b->nout++];
    memset(n, 0, sizeof *n);
    n->kind = kind;
    n->a = *a;
    n->at_us = now_us;
    n->channels = channels;
}

static const alert_cond *find_cond(const alert_cond *c, size_t n, const char *key)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(c[i].key, key) == 0)
            return &c[i];
    return NULL;
}

static alert_active *find_active(alert_book *b, const char *key)
{
    for (size_t i = 0; i < b->nactive; i++)
        if (strcmp(b->active[i].key, key) == 0)
            return &b->active[i];
    return NULL;
}

bool alert_step(alert_book *b, const alert_cond *c, size_t n, int64_t now_us,
                uint32_t default_repeat_s, unsigned channels)
{
    bool changed = false;
    /* what no longer holds: resolved if it was said, forgotten either way */
    for (size_t i = 0; i < b->nactive;) {
        alert_active *a = &b->active[i];
        if (find_cond(c, n, a->key)) {
            i++;
            continue;
        }
        if (a->fired_us) {
            a->sent_us = now_us;
            a->sent++;
            owe(b, ALERT_RESOLVED, a, now_us, channels);
        }
        b->active[i] = b->active[--b->nactive];
        changed = true;
    }
    unsigned long over = 0;
    for (size_t i = 0; i < n; i++) {
        alert_active *a = find_active(b, c[i].key);
        if (!a) {
            if (b->nactive == RL_ALERT_ACTIVE_MAX) {
                over++;
                continue;
            }
            a = &b->active[b->nactive++];
            memset(a, 0, sizeof *a);
            snprintf(a->key, sizeof a->key, "%s", c[i].key);
            snprintf(a->on, sizeof a->on, "%s", c[i].on);
            snprintf(a->subject, sizeof a->subject, "%s", c[i].subject);
            a->since_us = now_us;
            changed = true;
        }
        if (strcmp(a->text, c[i].text) != 0) {
            snprintf(a->text, sizeof a->text, "%s", c[i].text); /* the latest figures */
            changed = true;
        }
        a->for_s = c[i].for_s;
        a->repeat_s = c[i].repeat_s;
        uint32_t repeat = a->repeat_s ? a->repeat_s : default_repeat_s;
        if (!a->fired_us && now_us - a->since_us >= (int64_t)a->for_s * 1000000) {
            a->fired_us = a->sent_us = now_us;
            a->sent++;
            owe(b, ALERT_FIRING, a, now_us, channels);
            changed = true;
        } else if (a->fired_us && repeat && now_us - a->sent_us >= (int64_t)repeat * 1000000) {
            a->sent_us = now_us;
            a->sent++;
            owe(b, ALERT_REPEAT, a, now_us, channels);
            changed = true;
        }
    }
    changed |= over != b->over;
    b->over = over;
    return changed;
}
