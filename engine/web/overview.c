/* The console's overview (/api/status): the store's gauges (queues, jobs,
 * studies, its size), the engine's own words, the last hour's messages by
 * minute, and the gauges a sampler thread records once a minute for the
 * charts. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "web.h"
#include "radlink/job.h"
#include "radlink/msglog.h"
#include "radlink/rec.h"
#include "radlink/recon.h"
#include "radlink/study.h"
#include "radlink/view.h"

/* ---- status and the overview ---- */

static const char *const msg_status_names[] = { "", "accepted", "error", "rejected",
                                                "duplicate" };

/* Messages per minute over the last hour, from the log (its time index). */
static json_t *last_hour(store_txn *t, int64_t now)
{
    int64_t start = now - 3600 * 1000000LL;
    start -= start % 60000000;
    json_t *by[4];
    unsigned counts[4][61] = { { 0 } };
    uint64_t seq = 0, next = 1;
    rl_err err;
    store_next_seq(t, STORE_MSG, &next, &err);
    if (msglog_seek_time(t, start, &seq, &err) == STORE_OK) {
        msglog_rec r = MSGLOG_REC_INIT;
        for (; seq && seq < next; seq++) {
            unsigned char key[RL_BE64_BYTES];
            rec_be64(seq, key);
            rl_str v;
            if (store_get(t, STORE_MSG, (rl_str){ (char *)key, sizeof key }, &v, &err) != STORE_OK ||
                msglog_head(v, &r) != STORE_OK)
                continue;
            int64_t m = (r.recv_us - start) / 60000000;
            if (m >= 0 && m <= 60 && r.status >= 1 && r.status <= 4)
                counts[r.status - 1][m]++;
        }
    }
    json_t *o = json_object();
    json_object_set_new(o, "start", view_jtime(start));
    json_object_set_new(o, "minutes", json_integer(61));
    for (int s = 0; s < 4; s++) {
        by[s] = json_array();
        for (int m = 0; m <= 60; m++)
            json_array_append_new(by[s], json_integer(counts[s][m]));
        json_object_set_new(o, msg_status_names[s + 1], by[s]);
    }
    return o;
}

static json_t *meta(store_txn *t, const char *key)
{
    rl_str v;
    rl_err err;
    if (store_get(t, STORE_META, rl_str_c(key), &v, &err) != STORE_OK)
        return json_null();
    return view_jstr(v);
}

static store_txn *read_txn(web_call *c)
{
    store_txn *t;
    rl_err err;
    if (store_begin(c->w->st, NULL, false, &t, &err) != STORE_OK) {
        web_error(c, 503, "the store cannot be read: %s", err.msg);
        return NULL;
    }
    return t;
}

void web_overview(web_call *c)
{
    web_gauges *g = calloc(1, sizeof *g);
    if (!g || web_gauges_read(c->w, g) != 0) {
        free(g);
        web_error(c, 503, "the store cannot be read");
        return;
    }
    int64_t now = rl_now_us();
    json_t *o = json_object(), *dests = json_array(), *jobs = json_object(),
           *studies = json_object();
    unsigned long pending = 0, parked = 0;
    for (size_t i = 0; i < g->nd; i++) {
        const web_dest_gauge *d = &g->d[i];
        pending += d->pending;
        parked += d->parked;
        json_array_append_new(dests, json_pack("{s:s, s:I, s:I, s:f}", "name", d->name,
                                               "pending", (json_int_t)d->pending, "parked",
                                               (json_int_t)d->parked, "oldest_age_s",
                                               d->pending ? (double)(now - d->oldest_us) / 1e6
                                                          : 0.0));
    }
    for (int s = JOB_PENDING; s <= JOB_UNVERIFIED; s++)
        json_object_set_new(jobs, job_state_name((job_state)s), json_integer((json_int_t)g->jobs[s]));
    for (int s = RECON_NEW; s <= RECON_FORWARDED; s++)
        json_object_set_new(studies, recon_state_name((recon_state)s),
                            json_integer((json_int_t)g->studies[s]));
    json_object_set_new(o, "destinations", dests);
    json_object_set_new(o, "jobs", jobs);
    json_object_set_new(o, "studies", studies);
    json_object_set_new(o, "unmatched", json_integer((json_int_t)g->studies[RECON_UNMATCHED]));
    json_object_set_new(o, "messages_logged", json_integer((json_int_t)g->messages));
    json_object_set_new(o, "rss_bytes", json_real(web_rss_bytes()));
    if (g->have_usage)
        json_object_set_new(o, "store",
                            json_pack("{s:I, s:I, s:I}", "map_bytes", (json_int_t)g->usage.map_bytes,
                                      "used_bytes", (json_int_t)g->usage.used_bytes, "free_bytes",
                                      (json_int_t)(g->usage.map_bytes - g->usage.used_bytes +
                                                   g->usage.reusable_bytes)));
    free(g);
    /* what only the loop knows, in the words of `radlink status` */
    char *req[] = { "status" };
    int st = 1;
    rl_buf out;
    rl_buf_init(&out, RL_CTL_REPLY_MAX);
    web_ctl(c->w, 1, req, &st, &out);
    json_object_set_new(o, "engine", view_jstr(rl_buf_view(&out)));
    rl_buf_free(&out);
    /* the PACS and nodes of the configuration, for their checks */
    json_t *pacs = json_array();
    for (unsigned i = 0; i < c->w->cfg->n_pacs; i++) {
        const cfg_pacs *p = &c->w->cfg->pacs[i];
        json_array_append_new(pacs, json_pack("{s:s, s:s, s:i, s:b, s:s}", "ae", p->ae, "host",
                                              p->host, "port", (int)p->port, "tls", p->tls.on,
                                              "kind", p->node ? "node" : "pacs"));
    }
    json_object_set_new(o, "pacs", pacs);
    store_txn *t = read_txn(c);
    if (!t) {
        json_decref(o);
        return;
    }
    json_object_set_new(o, "last_hour", last_hour(t, now));
    json_object_set_new(o, "routes",
                        json_pack("{s:o, s:o, s:o, s:o}", "file", meta(t, "routes.file"), "sha256",
                                  meta(t, "routes.sha256"), "count", meta(t, "routes.count"),
                                  "reload", meta(t, "routes.reload")));
    store_abort(t);
    /* the gauges sampled over the last hour */
    json_t *samples = json_array();
    pthread_mutex_lock(&c->w->lock);
    for (size_t i = 0; i < c->w->nsamples; i++) {
        size_t k = (c->w->next_sample + WEB_SAMPLES - c->w->nsamples + i) % WEB_SAMPLES;
        const web_sample *s = &c->w->samples[k];
        json_array_append_new(samples,
                              json_pack("{s:o, s:f, s:f, s:f, s:f, s:f, s:f}", "at", view_jtime(s->at_us),
                                        "pending", s->pending, "parked", s->parked, "unmatched",
                                        s->unmatched, "jobs_waiting", s->jobs_waiting, "jobs_dead",
                                        s->jobs_dead, "store_used", s->store_used));
    }
    pthread_mutex_unlock(&c->w->lock);
    json_object_set_new(o, "samples", samples);
    json_object_set_new(o, "queued_total", json_integer((json_int_t)pending));
    json_object_set_new(o, "parked_total", json_integer((json_int_t)parked));
    web_json(c, 200, o);
}

static void *sampler(void *arg)
{
    web *w = arg;
    web_gauges *g = malloc(sizeof *g);
    pthread_mutex_lock(&w->lock);
    while (g && !w->stopping) {
        pthread_mutex_unlock(&w->lock);
        bool ok = web_gauges_read(w, g) == 0;
        pthread_mutex_lock(&w->lock);
        if (ok) {
            web_sample s = { .at_us = rl_now_us() };
            for (size_t i = 0; i < g->nd; i++) {
                s.pending += (double)g->d[i].pending;
                s.parked += (double)g->d[i].parked;
            }
            s.unmatched = (double)g->studies[RECON_UNMATCHED];
            s.jobs_waiting = (double)(g->jobs[JOB_PENDING] + g->jobs[JOB_FAILED] +
                                      g->jobs[JOB_RUNNING]);
            s.jobs_dead = (double)(g->jobs[JOB_DEAD] + g->jobs[JOB_UNVERIFIED]);
            s.store_used = g->have_usage ? (double)g->usage.used_bytes : 0;
            w->samples[w->next_sample] = s;
            w->next_sample = (w->next_sample + 1) % WEB_SAMPLES;
            if (w->nsamples < WEB_SAMPLES)
                w->nsamples++;
        }
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_sec += 60;
        while (!w->stopping &&
               pthread_cond_timedwait(&w->wake, &w->lock, &until) == 0) {
        }
    }
    pthread_mutex_unlock(&w->lock);
    free(g);
    return NULL;
}

void web_sampler_start(web *w)
{
    pthread_cond_init(&w->wake, NULL);
    w->sampler_on = pthread_create(&w->sampler, NULL, sampler, w) == 0;
}

void web_sampler_stop(web *w)
{
    if (!w->sampler_on)
        return;
    pthread_mutex_lock(&w->lock);
    w->stopping = true;
    pthread_cond_broadcast(&w->wake);
    pthread_mutex_unlock(&w->lock);
    pthread_join(w->sampler, NULL);
    w->sampler_on = false;
}

