/* GET /metrics: Prometheus text format 0.0.4. What only the loop knows
 * comes from it over the control socket (`metrics`); what the store says
 * (queues, jobs, studies, map use) is read here, in one read transaction
 * that never blocks the writer. Labels carry listener, destination, type
 * and state names from the configuration, never patient data. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "web.h"
#include "radlink/job.h"
#include "radlink/limits.h"
#include "radlink/metrics.h"
#include "radlink/queue.h"
#include "radlink/recon.h"
#include "radlink/study.h"

static web_dest_gauge *dest_of(web_gauges *g, const char *name)
{
    for (size_t i = 0; i < g->nd; i++)
        if (strcmp(g->d[i].name, name) == 0)
            return &g->d[i];
    if (g->nd == WEB_MAX_DESTS)
        return NULL;
    web_dest_gauge *d = &g->d[g->nd++];
    memset(d, 0, sizeof *d);
    snprintf(d->name, sizeof d->name, "%s", name);
    return d;
}

/* The number before `word` in text ("1 moved (3 instances"), or 0. */
static unsigned long number_before(rl_str text, const char *word)
{
    size_t n = strlen(word);
    for (size_t i = 1; i + n <= text.n; i++) {
        if (memcmp(text.p + i, word, n) != 0 || text.p[i - 1] != ' ')
            continue;
        size_t e = i - 1, b = e;
        while (b > 0 && text.p[b - 1] >= '0' && text.p[b - 1] <= '9')
            b--;
        uint64_t v;
        if (b < e && rl_str_to_u64((rl_str){ text.p + b, e - b }, UINT32_MAX, &v))
            return (unsigned long)v;
    }
    return 0;
}

/* A done prefetch: what it moved (its result says), and how long from the
 * order to its end (a cancelled one moved nothing and is not timed). */
static void prefetch_done(web_gauges *g, const job *j)
{
    if (rl_str_eq_c((rl_str){ j->result.p, j->result.n < 9 ? j->result.n : 9 }, "cancelled"))
        return;
    g->prefetch_studies += number_before(j->result, "moved (");
    g->prefetch_instances += number_before(j->result, "instances, verified");
    g->prefetch_seconds += (double)(j->updated_us - j->created_us) / 1e6;
    g->prefetch_timed++;
}

static int on_job(void *ctx, const job *j)
{
    web_gauges *g = ctx;
    if (j->state >= 1 && j->state < 8) {
        g->jobs[j->state]++;
        if (rl_str_eq_c(j->kind, "prefetch")) {
            g->prefetch_jobs[j->state]++;
            if (j->state == JOB_DONE)
                prefetch_done(g, j);
        }
    }
    return 0;
}

static int on_study(void *ctx, rl_str uid, const study_rec *s)
{
    (void)uid;
    web_gauges *g = ctx;
    if (s->state < 8)
        g->studies[s->state]++;
    return 0;
}

/* Resident memory of the process, from /proc/self/statm (pages). */
double web_rss_bytes(void)
{
    char buf[RL_STATM_TEXT_MAX];
    FILE *f = fopen("/proc/self/statm", "r");
    if (!f)
        return 0;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    char *p;
    strtoul(buf, &p, 10); /* size, then resident */
    return (double)strtoul(p, NULL, 10) * (double)sysconf(_SC_PAGESIZE);
}

static void gauge(rl_buf *out, const char *name, const char *help, double v)
{
    metrics_head(out, name, "gauge", help);
    metrics_value(out, name, "", v);
}

int web_gauges_read(web *w, web_gauges *g)
{
    memset(g, 0, sizeof *g);
    int status = 1;
    char *req_d[] = { "destinations" };
    rl_buf dests;
    rl_buf_init(&dests, RL_CTL_REPLY_MAX);
    if (web_ctl(w, 1, req_d, &status, &dests) == 0 && status == 0) {
        const char *p = rl_buf_cstr(&dests);
        while (p && *p) {
            size_t n = strcspn(p, "\n");
            char name[RL_DEST_NAME_MAX];
            snprintf(name, sizeof name, "%.*s", (int)n, p);
            if (name[0])
                dest_of(g, name);
            p += n + (p[n] == '\n');
        }
    }
    rl_buf_free(&dests);
    store_txn *t;
    rl_err err;
    uint64_t next_msg = 1;
    if (store_begin(w->st, NULL, false, &t, &err) != STORE_OK)
        return -1;
    queue_gauges(t, g->d, WEB_MAX_DESTS, &g->nd, &err);
    job_each(t, 0, on_job, g, &err);
    study_each(t, on_study, g, &err);
    store_next_seq(t, STORE_MSG, &next_msg, &err);
    g->messages = next_msg - 1;
    g->have_usage = store_usage_get(t, &g->usage, &err) == 0;
    store_abort(t);
    return 0;
}

void web_metrics(web_call *c)
{
    int64_t t0 = rl_now_us();
    rl_buf *out = &c->resp->body;
    web *w = c->w;
    /* the loop's counters, then the store's gauges */
    web_gauges *g = calloc(1, sizeof *g);
    if (!g) {
        web_text(c, 503, "out of memory\n");
        return;
    }
    int status = 1;
    char *req_m[] = { "metrics" };
    if (web_ctl(w, 1, req_m, &status, out) != 0 || status != 0) {
        web_text(c, 503, "the engine's loop did not answer\n");
        free(g);
        return;
    }
    web_gauges_read(w, g);
    int64_t now = rl_now_us();
    static const char *const qname[] = { "radlink_queue_depth",
                                         "radlink_queue_oldest_age_seconds",
                                         "radlink_queue_parked" };
    static const char *const qhelp[] = {
        "messages waiting for a destination",
        "age of the oldest message waiting for a destination (0: none)",
        "messages a destination refused, kept until retried",
    };
    for (int m = 0; m < 3; m++) {
        metrics_head(out, qname[m], "gauge", qhelp[m]);
        for (size_t i = 0; i < g->nd; i++) {
            const web_dest_gauge *d = &g->d[i];
            char labels[RL_METRICS_DEST_LABELS_MAX] = "";
            metrics_label(labels, sizeof labels, "destination", rl_str_c(d->name));
            double age = d->pending ? (double)(now - d->oldest_us) / 1e6 : 0;
            double v = m == 0 ? (double)d->pending : m == 1 ? (age > 0 ? age : 0)
                                                           : (double)d->parked;
            metrics_value(out, qname[m], labels, v);
        }
    }
    metrics_head(out, "radlink_jobs", "gauge", "jobs in the store by state");
    for (int s = JOB_PENDING; s <= JOB_UNVERIFIED; s++) {
        char labels[RL_METRICS_STATE_LABELS_MAX] = "";
        metrics_label(labels, sizeof labels, "state", rl_str_c(job_state_name((job_state)s)));
        metrics_value(out, "radlink_jobs", labels, (double)g->jobs[s]);
    }
    metrics_head(out, "radlink_prefetch_jobs", "gauge", "prefetch jobs (an order's priors) by state");
    for (int s = JOB_PENDING; s <= JOB_UNVERIFIED; s++) {
        char labels[RL_METRICS_STATE_LABELS_MAX] = "";
        metrics_label(labels, sizeof labels, "state", rl_str_c(job_state_name((job_state)s)));
        metrics_value(out, "radlink_prefetch_jobs", labels, (double)g->prefetch_jobs[s]);
    }
    metrics_head(out, "radlink_prefetch_studies_moved", "gauge",
                 "prior studies moved by the prefetch jobs in the store");
    metrics_value(out, "radlink_prefetch_studies_moved", "", (double)g->prefetch_studies);
    metrics_head(out, "radlink_prefetch_instances_moved", "gauge",
                 "instances of them, verified at the destination");
    metrics_value(out, "radlink_prefetch_instances_moved", "", (double)g->prefetch_instances);
    metrics_head(out, "radlink_prefetch_seconds", "summary",
                 "seconds from the order to its priors present, per done prefetch job");
    metrics_value(out, "radlink_prefetch_seconds_sum", "", g->prefetch_seconds);
    metrics_value(out, "radlink_prefetch_seconds_count", "", (double)g->prefetch_timed);
    metrics_head(out, "radlink_studies", "gauge", "studies in the index by reconciliation state");
    for (int s = RECON_NEW; s <= RECON_FORWARDED; s++) {
        char labels[RL_METRICS_STATE_LABELS_MAX] = "";
        metrics_label(labels, sizeof labels, "state",
                      rl_str_c(recon_state_name((recon_state)s)));
        metrics_value(out, "radlink_studies", labels, (double)g->studies[s]);
    }
    gauge(out, "radlink_studies_unmatched", "studies no order was found for (the exception list)",
          (double)g->studies[RECON_UNMATCHED]);
    gauge(out, "radlink_messages_logged", "messages in the message log",
          (double)g->messages);
    if (g->have_usage) {
        const store_usage u = g->usage;
        gauge(out, "radlink_store_map_bytes", "the store's map size (its ceiling)",
              (double)u.map_bytes);
        gauge(out, "radlink_store_used_bytes", "bytes of the store file in use, up to its last "
              "page", (double)u.used_bytes);
        gauge(out, "radlink_store_free_bytes", "bytes the store can still take: the map past "
              "its last page, plus the pages it can reuse",
              (double)(u.map_bytes - u.used_bytes + u.reusable_bytes));
    }
    gauge(out, "process_resident_memory_bytes", "resident memory of the engine process",
          web_rss_bytes());
    gauge(out, "radlink_scrape_seconds", "time this scrape took",
          (double)(rl_now_us() - t0) / 1e6);
    free(g);
    c->resp->status = 200;
    c->resp->content_type = "text/plain; version=0.0.4; charset=utf-8";
}
