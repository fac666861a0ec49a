/* The engine's alert runner: a thread that every <alerts every> gathers what
 * the engine measures (the store in one read transaction, which never
 * blocks the writer; the loop's own counters over the control socket; the
 * file system; certificates), steps the book, sends what is owed and hands
 * the book to the loop to keep (CMD_ALERTS). Sending happens here, never on
 * the loop: a mail server that takes twenty seconds delays only alerts. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>

#include "radlink/alert.h"
#include "radlink/cmd.h"
#include "radlink/cmdq.h"
#include "radlink/ctlsock.h"
#include "radlink/job.h"
#include "radlink/log.h"
#include "radlink/queue.h"
#include "radlink/report.h"
#include "radlink/store.h"
#include "radlink/study.h"

/* A certificate watched: a file, or a TLS peer read every
 * RL_ALERT_PEER_PROBE_S. */
typedef struct watch {
    char what[96], where[300];
    char host[256];
    unsigned port; /* 0: a file */
    int64_t not_after_us, next_ms;
    char why[120];
} watch;

struct alert_runner {
    alert_runner_cfg rc;
    const cfg_alerts *a;
    char host[256];
    pthread_t th;
    pthread_mutex_t lock;
    pthread_cond_t wake;
    bool stopping, running, done; /* done: the thread ended (under lock) */
    watch certs[RL_ALERT_CERTS_MAX];
    size_t ncerts;
    alert_book *book;
    /* for status (under lock) */
    size_t st_active, st_owed;
    unsigned long st_sent, st_failed;
    char st_error[200];
};

static bool stopping(alert_runner *r)
{
    pthread_mutex_lock(&r->lock);
    bool s = r->stopping;
    pthread_mutex_unlock(&r->lock);
    return s;
}

/* ---- what is watched ---- */

static void watch_file(alert_runner *r, const char *what, const char *file)
{
    if (!file[0] || r->ncerts == RL_ALERT_CERTS_MAX)
        return;
    for (size_t i = 0; i < r->ncerts; i++)
        if (!r->certs[i].port && strcmp(r->certs[i].where, file) == 0)
            return; /* one file named twice (a CA for two peers) is one certificate */
    watch *w = &r->certs[r->ncerts++];
    memset(w, 0, sizeof *w);
    snprintf(w->what, sizeof w->what, "%s", what);
    snprintf(w->where, sizeof w->where, "%s", file);
    alert_utf8_trim(w->what);
    alert_utf8_trim(w->where);
}

static void watch_peer(alert_runner *r, const char *what, const char *host, unsigned port)
{
    if (!host[0] || !port || r->ncerts == RL_ALERT_CERTS_MAX)
        return;
    watch *w = &r->certs[r->ncerts++];
    memset(w, 0, sizeof *w);
    snprintf(w->what, sizeof w->what, "%s", what);
    alert_utf8_trim(w->what);
    snprintf(w->host, sizeof w->host, "%s", host);
    w->port = port;
    snprintf(w->where, sizeof w->where, "%s:%u", host, port);
}

/* "https://host:port/path" -> host and port (443 by default); false when
 * it is not https. */
static bool https_peer(const char *url, char *host, size_t n, unsigned *port)
{
    if (strncmp(url, "https://", 8) != 0)
        return false;
    const char *h = url + 8, *end = h + strcspn(h, "/?#");
    const char *colon = memchr(h, ':', (size_t)(end - h));
    snprintf(host, n, "%.*s", (int)((colon ? colon : end) - h), h);
    *port = 443;
    if (colon) {
        uint64_t p;
        if (rl_str_to_u64((rl_str){ colon + 1, (size_t)(end - colon - 1) }, 65535, &p) && p)
            *port = (unsigned)p;
    }
    return host[0] != '\0';
}

static void watch_all(alert_runner *r)
{
    const cfg *c = r->rc.c;
    char what[96], host[256];
    for (unsigned i = 0; i < c->n_mllp; i++)
        if (c->mllp[i].tls) {
            snprintf(what, sizeof what, "MLLP listener %u certificate", i + 1);
            watch_file(r, what, c->mllp[i].cert);
            snprintf(what, sizeof what, "MLLP listener %u client CA", i + 1);
            watch_file(r, what, c->mllp[i].ca);
        }
    if (c->dicom_tls.on) {
        watch_file(r, "DICOM TLS listener certificate", c->dicom_tls.cert);
        watch_file(r, "DICOM TLS listener client CA", c->dicom_tls.ca);
    }
    if (c->http.l.tls) {
        watch_file(r, "console (HTTPS) certificate", c->http.l.cert);
        watch_file(r, "console client CA", c->http.l.ca);
    }
    for (unsigned i = 0; i < c->n_pacs; i++)
        if (c->pacs[i].tls.on) {
            snprintf(what, sizeof what, "certificate radlink presents to %s", c->pacs[i].ae);
            watch_file(r, what, c->pacs[i].tls.cert);
            snprintf(what, sizeof what, "CA of %s", c->pacs[i].ae);
            watch_file(r, what, c->pacs[i].tls.ca);
            snprintf(what, sizeof what, "certificate of %s (peer)", c->pacs[i].ae);
            watch_peer(r, what, c->pacs[i].host, c->pacs[i].port);
        }
    for (unsigned i = 0; i < c->n_dests; i++)
        if (c->dests[i].tls) {
            snprintf(what, sizeof what, "certificate radlink presents to %s", c->dests[i].name);
            watch_file(r, what, c->dests[i].cert);
            snprintf(what, sizeof what, "CA of destination %s", c->dests[i].name);
            watch_file(r, what, c->dests[i].ca);
            snprintf(what, sizeof what, "certificate of destination %s (peer)", c->dests[i].name);
            watch_peer(r, what, c->dests[i].host, c->dests[i].port);
        }
    if (c->audit.host[0]) {
        watch_file(r, "certificate radlink presents to the audit collector", c->audit.cert);
        watch_file(r, "CA of the audit collector", c->audit.ca);
        watch_peer(r, "certificate of the audit collector (peer)", c->audit.host, c->audit.port);
    }
    unsigned port;
    if (https_peer(r->a->webhook.url, host, sizeof host, &port))
        watch_peer(r, "certificate of the alert webhook (peer)", host, port);
}

/* Read what is due: files every look (cheap), peers every
 * RL_ALERT_PEER_PROBE_S (a handshake each). */
static void read_certs(alert_runner *r, alert_facts *f)
{
    int64_t now = rl_mono_ms();
    for (size_t i = 0; i < r->ncerts; i++) {
        watch *w = &r->certs[i];
        if (w->port && stopping(r))
            w->next_ms = now; /* no handshake now: looked at next time */
        else if (!w->port) {
            if (alert_cert_file(w->where, &w->not_after_us, w->why, sizeof w->why) != 0)
                w->not_after_us = 0;
        } else if (now >= w->next_ms) {
            int64_t us = 0;
            if (alert_cert_peer(w->host, w->port, RL_ALERT_PROBE_TIMEOUT_MS, &us, w->why,
                                sizeof w->why) == 0)
                w->not_after_us = us;
            /* a peer that cannot be reached keeps what was read last time
             * (being down is another alert's), and is tried again later */
            w->next_ms = now + (w->not_after_us ? RL_ALERT_PEER_PROBE_S * 1000
                                                : RL_ALERT_PEER_RETRY_S * 1000);
        }
        alert_cert_fact *k = &f->certs[f->ncerts++];
        snprintf(k->what, sizeof k->what, "%s", w->what);
        snprintf(k->where, sizeof k->where, "%s", w->where);
        k->not_after_us = w->not_after_us;
        snprintf(k->why, sizeof k->why, "%s", w->why);
    }
}

/* ---- what the store says ---- */

/* The walks over every job, study and waiting report are made only for
 * rules that read them. */
typedef struct alert_cfg_needs {
    bool jobs, studies, reports;
} alert_cfg_needs;

static int on_job(void *ctx, const job *j)
{
    alert_facts *f = ctx;
    f->jobs_dead += j->state == JOB_DEAD;
    f->jobs_unverified += j->state == JOB_UNVERIFIED;
    return 0;
}

static int push_us(int64_t **v, size_t *n, int64_t us)
{
    if ((*n & (*n + 1)) == 0 || *n == 0) { /* 0, 1, 3, 7...: room doubles */
        int64_t *g = realloc(*v, (*n * 2 + 2) * sizeof *g);
        if (!g)
            return 1;
        *v = g;
    }
    (*v)[(*n)++] = us;
    return 0;
}

static int on_study(void *ctx, rl_str uid, const study_rec *s)
{
    (void)uid;
    alert_facts *f = ctx;
    return s->state == RECON_UNMATCHED ? push_us(&f->unmatched_us, &f->nunmatched, s->first_us)
                                       : 0;
}

static int on_report(void *ctx, const report_rec *rr)
{
    alert_facts *f = ctx;
    return push_us(&f->reports_us, &f->nreports, rr->received_us);
}

static bool read_store(alert_runner *r, alert_facts *f, const alert_cfg_needs *need)
{
    store_txn *t;
    rl_err err;
    if (store_begin(r->rc.st, NULL, false, &t, &err) != STORE_OK) {
        log_warn("alerts.store", "error=\"%s\"", err.msg);
        return false;
    }
    queue_gauges(t, f->d, sizeof f->d / sizeof *f->d, &f->nd, &err);
    if (need->jobs)
        job_each(t, 0, on_job, f, &err);
    if (need->studies)
        study_each(t, on_study, f, &err);
    if (need->reports)
        report_each_waiting(t, NULL, on_report, f, &err);
    store_usage u;
    if (store_usage_get(t, &u, &err) == 0 && r->rc.c->max_map_size_mb) {
        uint64_t used = u.used_bytes - u.reusable_bytes;
        f->store_pct = (int)(used * 100 / (r->rc.c->max_map_size_mb << 20));
    }
    store_abort(t);
    return true;
}

/* ---- what only the loop knows ---- */

void alert_facts_loop(rl_str text, alert_facts *f)
{
    const char *p = text.p, *end = text.p + text.n;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t n = (size_t)((nl ? nl : end) - p);
        const char *sp = memchr(p, ' ', n);
        if (sp) {
            rl_str k = { p, (size_t)(sp - p) }, v = { sp + 1, n - (size_t)(sp - p) - 1 };
            uint64_t u = 0;
            bool num = rl_str_to_u64(v, INT64_MAX, &u);
            if (rl_str_eq_c(k, "workers_expected") && num)
                f->workers_expected = (unsigned)u;
            else if (rl_str_eq_c(k, "workers_connected") && num)
                f->workers_connected = (unsigned)u;
            else if (rl_str_eq_c(k, "workers_lost") && num)
                f->workers_lost = (unsigned long)u;
            else if (rl_str_eq_c(k, "audit_down_us") && num)
                f->audit_down_us = (int64_t)u, f->audit_on = true;
            else if (rl_str_eq_c(k, "audit_where"))
                snprintf(f->audit_where, sizeof f->audit_where, "%.*s", RL_STR_FMT(v));
            else if (rl_str_eq_c(k, "audit_why"))
                snprintf(f->audit_why, sizeof f->audit_why, "%.*s", RL_STR_FMT(v));
        }
        p += n + 1;
    }
}

static bool read_loop(alert_runner *r, alert_facts *f)
{
    char *argv[] = { "facts" };
    int status = 1;
    rl_buf out;
    rl_err err;
    rl_buf_init(&out, 512);
    bool ok = ctlsock_call(r->rc.ctl_path, 1, argv, RL_ALERT_SEND_TIMEOUT_S * 1000, &status,
                           &out, &err) == 0 && status == 0;
    if (ok)
        alert_facts_loop(rl_buf_view(&out), f);
    rl_buf_free(&out);
    return ok;
}

/* What the engine measures now; false when the store or the loop could not
 * be read (then nothing is judged: an alert is not resolved for want of a
 * reading). */
static bool gather(alert_runner *r, alert_facts *f)
{
    memset(f, 0, sizeof *f);
    f->store_pct = f->disk_pct = -1;
    alert_cfg_needs need = { 0 };
    for (unsigned i = 0; i < r->a->n_rules; i++) {
        unsigned on = r->a->rules[i].on;
        need.jobs |= on == ALERT_DEAD_JOBS || on == ALERT_UNVERIFIED;
        need.studies |= on == ALERT_UNMATCHED;
        need.reports |= on == ALERT_REPORTS;
    }
    bool ok = read_store(r, f, &need);
    ok = read_loop(r, f) && ok;
    read_certs(r, f);
    struct statvfs sv;
    if (statvfs(r->rc.c->data_dir, &sv) == 0 && sv.f_blocks) {
        /* as df counts it: blocks used of those a user may use */
        uint64_t used = sv.f_blocks - sv.f_bfree, avail = used + sv.f_bavail;
        f->disk_pct = avail ? (int)((used * 100 + avail - 1) / avail) : 100;
    }
    f->now_us = rl_now_us(); /* after the reads: an age is never negative */
    return ok;
}

/* ---- the thread ---- */

/* The book to the loop, which keeps it in the store. */
static void keep(alert_runner *r)
{
    rl_buf json;
    rl_buf_init(&json, 4096);
    if (alert_book_json(r->book, &json) == 0) {
        cmd *c = malloc(sizeof *c + json.len + 1);
        if (c) {
            memset(c, 0, sizeof *c);
            c->kind = CMD_ALERTS;
            c->u.alerts.len = json.len;
            memcpy((char *)(c + 1), json.data, json.len);
            ((char *)(c + 1))[json.len] = '\0';
            cmdq_post(r->rc.q, &c->q);
        }
    }
    rl_buf_free(&json);
}

/* Send what is owed, channel by channel; a note is done once every
 * channel took it, or given up after RL_ALERT_ATTEMPTS_MAX looks. */
static bool deliver(alert_runner *r)
{
    alert_book *b = r->book;
    bool changed = false;
    unsigned down = 0; /* channels that failed in this pass: tried again at the next look */
    for (size_t i = 0; i < b->nout && !stopping(r);) {
        alert_note *n = &b->out[i];
        if (!(n->channels & ~down)) {
            i++;
            continue;
        }
        for (unsigned ch = 1; ch <= ALERT_CH_SYSLOG; ch <<= 1) {
            if (!(n->channels & ch) || (down & ch))
                continue;
            char why[200];
            if (alert_send(r->a, ch, n, r->host, r->rc.console, why, sizeof why) == 0) {
                n->channels &= ~ch;
                pthread_mutex_lock(&r->lock);
                r->st_sent++;
                pthread_mutex_unlock(&r->lock);
                log_info("alerts.sent", "channel=%s kind=%s alert=%s",
                         ch == ALERT_CH_EMAIL ? "email" : ch == ALERT_CH_WEBHOOK ? "webhook"
                                                                                : "syslog",
                         alert_kind_name(n->kind), n->a.on);
            } else {
                down |= ch;
                snprintf(n->last_error, sizeof n->last_error, "%s", why);
                pthread_mutex_lock(&r->lock);
                r->st_failed++;
                snprintf(r->st_error, sizeof r->st_error, "%s", why);
                pthread_mutex_unlock(&r->lock);
                log_warn("alerts.send_failed", "channel=%s alert=%s error=\"%s\"",
                         ch == ALERT_CH_EMAIL ? "email" : ch == ALERT_CH_WEBHOOK ? "webhook"
                                                                                : "syslog",
                         n->a.on, why);
            }
        }
        changed = true;
        n->attempts++;
        if (n->channels && n->attempts < RL_ALERT_ATTEMPTS_MAX) {
            i++;
            continue;
        }
        if (n->channels) {
            b->dropped++;
            log_error("alerts.given_up", "alert=%s attempts=%u error=\"%s\"", n->a.on,
                      n->attempts, n->last_error);
        }
        memmove(n, n + 1, (b->nout - i - 1) * sizeof *n);
        b->nout--;
    }
    return changed;
}

static void look(alert_runner *r, alert_facts *f, alert_cond **conds, size_t *cap)
{
    size_t n = 0;
    bool changed = false;
    if (gather(r, f)) {
        if (alert_eval(r->a, f, conds, &n, cap) != 0)
            log_error("alerts.eval", "error=\"out of memory\"");
        else
            changed = alert_step(r->book, *conds, n, f->now_us, r->a->repeat_s,
                                 alert_channels(r->a));
    }
    alert_facts_free(f);
    if (r->book->nout)
        changed |= deliver(r);
    if (changed)
        keep(r);
    pthread_mutex_lock(&r->lock);
    r->st_active = 0;
    for (size_t i = 0; i < r->book->nactive; i++)
        r->st_active += r->book->active[i].fired_us != 0;
    r->st_owed = r->book->nout;
    pthread_mutex_unlock(&r->lock);
}

static void *run_main(void *arg)
{
    alert_runner *r = arg;
    alert_facts *f = malloc(sizeof *f);
    alert_cond *conds = NULL;
    size_t cap = 0;
    pthread_mutex_lock(&r->lock);
    while (f && !r->stopping) {
        pthread_mutex_unlock(&r->lock);
        look(r, f, &conds, &cap);
        pthread_mutex_lock(&r->lock);
        struct timespec until;
        clock_gettime(CLOCK_MONOTONIC, &until);
        until.tv_sec += r->a->every_s;
        while (!r->stopping && pthread_cond_timedwait(&r->wake, &r->lock, &until) == 0) {
        }
    }
    r->done = true;
    pthread_mutex_unlock(&r->lock);
    free(conds);
    free(f);
    return NULL;
}

void alert_runner_request_stop(alert_runner *r)
{
    if (!r)
        return;
    pthread_mutex_lock(&r->lock);
    r->stopping = true;
    pthread_cond_broadcast(&r->wake);
    pthread_mutex_unlock(&r->lock);
}

bool alert_runner_done(alert_runner *r)
{
    if (!r || !r->running)
        return true;
    pthread_mutex_lock(&r->lock);
    bool d = r->done;
    pthread_mutex_unlock(&r->lock);
    return d;
}

/* The book the store kept (alerts.state), or an empty one. */
static void load_book(alert_runner *r)
{
    store_txn *t;
    rl_err err;
    rl_str v;
    if (store_begin(r->rc.st, NULL, false, &t, &err) != STORE_OK)
        return;
    if (store_get(t, STORE_META, RL_STR("alerts.state"), &v, &err) == STORE_OK &&
        alert_book_parse(v, r->book) != 0) {
        log_warn("alerts.state", "text=\"the alerts kept in the store do not parse; started "
                 "afresh\"");
        memset(r->book, 0, sizeof *r->book);
    }
    store_abort(t);
}

int alert_runner_start(const alert_runner_cfg *rc, alert_runner **out, rl_err *err)
{
    *out = NULL;
    if (!rc->c->alerts.n_rules)
        return 0;
    alert_runner *r = calloc(1, sizeof *r);
    if (!r || !(r->book = calloc(1, sizeof *r->book))) {
        free(r);
        return rl_err_set(err, RL_E_NOMEM, -1, "alerts: out of memory");
    }
    r->rc = *rc;
    r->a = &rc->c->alerts;
    if (r->a->host_name[0])
        snprintf(r->host, sizeof r->host, "%s", r->a->host_name);
    else if (gethostname(r->host, sizeof r->host - 1) != 0)
        snprintf(r->host, sizeof r->host, "radlink");
    watch_all(r);
    load_book(r);
    pthread_mutex_init(&r->lock, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&r->wake, &ca);
    pthread_condattr_destroy(&ca);
    if (pthread_create(&r->th, NULL, run_main, r) != 0) {
        alert_runner_stop(r);
        return rl_err_set(err, RL_E_SYS, -1, "alerts: the thread could not start");
    }
    r->running = true;
    log_info("alerts.started", "rules=%u channels=%s%s%s every_s=%u", r->a->n_rules,
             r->a->email.url[0] ? "email," : "", r->a->webhook.url[0] ? "webhook," : "",
             r->a->syslog.on ? "syslog" : "", (unsigned)r->a->every_s);
    *out = r;
    return 0;
}

void alert_runner_stop(alert_runner *r)
{
    if (!r)
        return;
    if (r->running) {
        pthread_mutex_lock(&r->lock);
        r->stopping = true;
        pthread_cond_broadcast(&r->wake);
        pthread_mutex_unlock(&r->lock);
        pthread_join(r->th, NULL);
    }
    pthread_mutex_destroy(&r->lock);
    pthread_cond_destroy(&r->wake);
    free(r->book);
    free(r);
}

void alert_runner_status(alert_runner *r, rl_buf *out)
{
    if (!r) {
        rl_buf_add_c(out, "alerts: none configured (<alerts> in the configuration)\n");
        return;
    }
    pthread_mutex_lock(&r->lock);
    rl_buf_printf(out, "alerts: %zu firing, %zu notification%s owed, %lu sent, %lu sends failed"
                  "%s%s\n", r->st_active, r->st_owed, r->st_owed == 1 ? "" : "s", r->st_sent,
                  r->st_failed, r->st_failed ? "; last error: " : "", r->st_error);
    pthread_mutex_unlock(&r->lock);
}
