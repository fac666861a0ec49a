/* The job dispatcher on the engine's loop (radlink/dispatch.h). What workers
 * say is read as soon as their socket is readable; what it changes in the
 * store waits for the loop's next turn and its transaction. Workers, their
 * credit and the leases of running attempts live in memory: they describe
 * connections, which die with the engine (job_recover takes the store's
 * RUNNING jobs back at the next start). This file keeps the sockets and that
 * memory; the turn's part is dispatch_turn.c. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zmq.h>

#include "radlink/log.h"
#include "dispatcher.h"
#include "frames.h"

static void wait_commit(dispatcher *d, int wi, rl_str txn);

/* ---- outcomes and leases ---- */

static void add_outcome(dispatcher *d, uint64_t jid, uint32_t attempt, int what, rl_str text)
{
    if (d->nout == d->capout) {
        size_t cap = d->capout ? d->capout * 2 : 16;
        outcome *n = realloc(d->out, cap * sizeof *n);
        if (!n)
            return; /* the lease expires and the attempt is retried */
        d->out = n;
        d->capout = cap;
    }
    /* the record keeps RL_JOB_TEXT_MAX bytes of it, cut at a character */
    size_t n = text.n;
    if (n > RL_JOB_TEXT_MAX) {
        n = RL_JOB_TEXT_MAX;
        while (n > 0 && ((unsigned char)text.p[n] & 0xC0) == 0x80)
            n--;
    }
    char *t = malloc(n + 1);
    if (!t)
        return;
    memcpy(t, text.p, n);
    t[n] = '\0';
    d->out[d->nout++] = (outcome){ .job = jid, .attempt = attempt, .what = what, .text = t };
}

static lease *find_lease(dispatcher *d, uint64_t jid, uint32_t attempt)
{
    for (size_t i = 0; i < d->nleases; i++)
        if (d->leases[i].job == jid && d->leases[i].attempt == attempt)
            return &d->leases[i];
    return NULL;
}

static void drop_lease(dispatcher *d, uint64_t jid, uint32_t attempt)
{
    lease *l = find_lease(d, jid, attempt);
    if (l)
        *l = d->leases[--d->nleases];
}

void dispatch_add_lease(dispatcher *d, uint64_t jid, uint32_t attempt, int w)
{
    if (d->nleases == d->capleases) {
        size_t cap = d->capleases ? d->capleases * 2 : 16;
        lease *n = realloc(d->leases, cap * sizeof *n);
        if (!n)
            return; /* no lease: the attempt's outcome still counts; a lost
                     * worker's attempt is then only found at the next start */
        d->leases = n;
        d->capleases = cap;
    }
    d->leases[d->nleases++] = (lease){ jid, attempt, w, rl_mono_ms() };
}

/* A worker went silent (ended: it was a local one the engine saw end): its
 * attempts fail (and are retried), and it gets no more. */
static void lose_worker(dispatcher *d, int wi, bool ended)
{
    worker *w = &d->w[wi];
    log_warn("jobs.worker_lost", "worker=%d name=\"%s\" silent_ms=%lld ended=%s", wi, w->name,
             (long long)(rl_mono_ms() - w->last_ms), ended ? "yes" : "no");
    d->lost_workers++;
    for (size_t i = 0; i < d->nleases;) {
        if (d->leases[i].w == wi) {
            char why[sizeof "the worker () went silent for  s" + RL_WORKER_NAME_SIZE +
                     RL_NUM_TEXT_MAX];
            int n = ended ? snprintf(why, sizeof why, "the worker (%s) ended",
                                     w->name[0] ? w->name : "?")
                          : snprintf(why, sizeof why, "the worker (%s) went silent for %u s",
                                     w->name[0] ? w->name : "?", d->cfg.worker_timeout_s);
            add_outcome(d, d->leases[i].job, d->leases[i].attempt, O_LOST, (rl_str){ why, (size_t)n });
            d->leases[i] = d->leases[--d->nleases];
            continue;
        }
        i++;
    }
    memset(w, 0, sizeof *w);
}

void dispatch_worker_ended(dispatcher *d, long pid)
{
    char prefix[RL_NUM_TEXT_MAX + 8];
    int n = snprintf(prefix, sizeof prefix, "pid %ld on ", pid);
    if (d) /* what it said before it ended counts */
        dispatch_drain(d, d->router);
    for (int i = 0; d && i < RL_WORKERS_MAX; i++)
        if (d->w[i].used && d->w[i].sock == d->router &&
            strncmp(d->w[i].name, prefix, (size_t)n) == 0)
            lose_worker(d, i, true);
}

/* ---- messages from workers ---- */

static int find_worker(dispatcher *d, void *sock, const char *id, size_t n)
{
    for (int i = 0; i < RL_WORKERS_MAX; i++)
        if (d->w[i].used && d->w[i].sock == sock && d->w[i].idn == n &&
            memcmp(d->w[i].id, id, n) == 0)
            return i;
    return -1;
}

static bool parse_u64(const zmq_msg_t *m, uint64_t max, uint64_t *out)
{
    return rl_str_to_u64((rl_str){ zmq_msg_data((zmq_msg_t *)m), zmq_msg_size((zmq_msg_t *)m) },
                         max, out);
}

/* "ID.ATTEMPT" */
static bool parse_token(rl_str s, uint64_t *jid, uint32_t *attempt)
{
    const char *dot = memchr(s.p, '.', s.n);
    uint64_t a;
    if (!dot || !rl_str_to_u64((rl_str){ s.p, (size_t)(dot - s.p) }, UINT64_MAX, jid) ||
        !rl_str_to_u64((rl_str){ dot + 1, s.n - (size_t)(dot + 1 - s.p) }, UINT32_MAX, &a))
        return false;
    *attempt = (uint32_t)a;
    return true;
}

static void on_message(dispatcher *d, void *sock)
{
    enum { MAXP = 3 + 2 + 16 };
    zmq_msg_t parts[MAXP];
    int n = frames_recv(sock, parts, MAXP);
    if (n < 3 || zmq_msg_size(&parts[0]) > sizeof d->w[0].id)
        goto done;
    const char *id = zmq_msg_data(&parts[0]);
    size_t idn = zmq_msg_size(&parts[0]);
    rl_str type = { zmq_msg_data(&parts[2]), zmq_msg_size(&parts[2]) };
    int wi = find_worker(d, sock, id, idn);
    if (wi < 0) {
        for (int i = 0; i < RL_WORKERS_MAX && wi < 0; i++)
            if (!d->w[i].used)
                wi = i;
        if (wi < 0) {
            log_warn("jobs.worker_refused", "reason=\"%d workers connected already\"",
                     RL_WORKERS_MAX);
            goto done;
        }
        d->w[wi] = (worker){ .used = true, .sock = sock, .idn = idn };
        memcpy(d->w[wi].id, id, idn);
        log_info("jobs.worker", "worker=%d connected%s", wi, sock == d->tcp ? " over tcp" : "");
    }
    worker *w = &d->w[wi];
    w->last_ms = rl_mono_ms();
    if (rl_str_eq(type, RL_STR("READY")) && n >= 4) {
        uint64_t c;
        if (!parse_u64(&parts[3], 1000, &c) || c == 0)
            c = 1;
        w->credit = (int)(c > RL_WORKER_CREDIT_MAX ? RL_WORKER_CREDIT_MAX : c);
        /* attempts it still runs count against its credit */
        for (size_t i = 0; i < d->nleases; i++)
            if (d->leases[i].w == wi && w->credit > 0)
                w->credit--;
        if (n >= 5)
            snprintf(w->name, sizeof w->name, "%.*s", (int)zmq_msg_size(&parts[4]),
                     (char *)zmq_msg_data(&parts[4]));
    } else if (rl_str_eq(type, RL_STR("HEARTBEAT"))) {
        /* a heartbeat naming nothing from a worker that holds nothing says
         * it is idle: it can take a job even if its READY got lost (a
         * reconnection after the engine restarted) */
        bool holds = false;
        for (size_t i = 0; i < d->nleases && !holds; i++)
            holds = d->leases[i].w == wi;
        if (n == 3 && !holds && w->credit == 0)
            w->credit = 1;
        for (int i = 3; i < n; i++) {
            uint64_t jid;
            uint32_t attempt;
            lease *l;
            /* the lease follows the worker that names it (one that came
             * back on a new connection, in another slot) */
            if (parse_token((rl_str){ zmq_msg_data(&parts[i]), zmq_msg_size(&parts[i]) }, &jid,
                            &attempt) &&
                (l = find_lease(d, jid, attempt))) {
                l->w = wi;
                l->last_ms = w->last_ms;
            }
        }
    } else if ((rl_str_eq(type, RL_STR("DONE")) || rl_str_eq(type, RL_STR("FAIL")) ||
                rl_str_eq(type, RL_STR("UNVERIFIED"))) &&
               n >= 6) {
        uint64_t jid, attempt;
        if (parse_u64(&parts[3], UINT64_MAX, &jid) && parse_u64(&parts[4], UINT32_MAX, &attempt)) {
            /* the worker is done with it: its lease ends now (the outcome
             * itself stays queued until a turn commits it) */
            drop_lease(d, jid, (uint32_t)attempt);
            add_outcome(d, jid, (uint32_t)attempt,
                        rl_str_eq(type, RL_STR("DONE"))   ? O_DONE
                        : rl_str_eq(type, RL_STR("FAIL")) ? O_FAIL
                                                          : O_UNVERIFIED,
                        (rl_str){ zmq_msg_data(&parts[5]), zmq_msg_size(&parts[5]) });
        }
    } else if (rl_str_eq(type, RL_STR("COMMIT")) && n >= 6) {
        /* a storage commitment transaction this worker waits for */
        rl_str txn = { zmq_msg_data(&parts[5]), zmq_msg_size(&parts[5]) };
        if (txn.n < sizeof d->waits[0].txn)
            wait_commit(d, wi, txn);
    }
done:
    frames_close(parts, n);
}

/* ---- storage commitment reports, from the DICOM listener to a worker ---- */

static void send_report(dispatcher *d, int wi, const char *txn, const char *lines)
{
    worker *w = &d->w[wi];
    if (!w->used)
        return;
    const char *fr[3] = { "COMMITTED", txn, lines };
    size_t ln[3] = { 9, strlen(txn), strlen(lines) };
    frames_send(w->sock, w->id, w->idn, fr, ln, 3);
}

/* A slot of tab: an empty or expired one, else the oldest. */
static commit_wait *slot(commit_wait *tab)
{
    int64_t now = rl_mono_ms();
    commit_wait *best = &tab[0];
    for (size_t i = 0; i < RL_COMMIT_REPORTS_MAX; i++) {
        if (!tab[i].txn[0] || tab[i].until_ms < now) {
            best = &tab[i];
            break;
        }
        if (tab[i].until_ms < best->until_ms)
            best = &tab[i];
    }
    free(best->lines);
    memset(best, 0, sizeof *best);
    return best;
}

static void wait_commit(dispatcher *d, int wi, rl_str txn)
{
    for (size_t i = 0; i < RL_COMMIT_REPORTS_MAX; i++) {
        commit_wait *e = &d->early[i];
        if (e->txn[0] && rl_str_eq_c(txn, e->txn)) { /* it came first */
            send_report(d, wi, e->txn, e->lines ? e->lines : "");
            free(e->lines);
            memset(e, 0, sizeof *e);
            return;
        }
    }
    commit_wait *s = slot(d->waits);
    snprintf(s->txn, sizeof s->txn, "%.*s", RL_STR_FMT(txn));
    s->w = wi;
    s->until_ms = rl_mono_ms() + RL_COMMIT_REPORT_KEEP_S * 1000LL;
}

void dispatch_commit_report(dispatcher *d, const char *txn, const char *lines)
{
    if (!d || !txn[0] || strlen(txn) >= sizeof d->waits[0].txn)
        return;
    d->reports++;
    for (size_t i = 0; i < RL_COMMIT_REPORTS_MAX; i++) {
        commit_wait *e = &d->waits[i];
        if (e->txn[0] && strcmp(e->txn, txn) == 0) {
            send_report(d, e->w, txn, lines);
            memset(e, 0, sizeof *e);
            return;
        }
    }
    commit_wait *s = slot(d->early);
    snprintf(s->txn, sizeof s->txn, "%s", txn);
    s->lines = strdup(lines);
    s->until_ms = rl_mono_ms() + RL_COMMIT_REPORT_KEEP_S * 1000LL;
}

/* ZAP (RFC 27): a worker connecting over tcp with CURVE gets in only with a
 * listed public key. */
static void on_zap(dispatcher *d)
{
    zmq_msg_t f[7];
    int n = frames_recv(d->zap, f, 7);
    bool ok = false;
    char pub[RL_CURVE_KEY_SIZE] = "";
    if (n == 7 && zmq_msg_size(&f[6]) == 32) {
        zmq_z85_encode(pub, zmq_msg_data(&f[6]), 32);
        for (size_t i = 0; i < d->cfg.n_worker_keys && !ok; i++)
            ok = strcmp(pub, d->cfg.worker_keys[i]) == 0;
    }
    if (!ok)
        log_warn("jobs.worker_refused", "key=%s reason=\"not a listed worker key\"",
                 pub[0] ? pub : "?");
    const char *status = ok ? "200" : "400", *text = ok ? "OK" : "unknown worker key";
    zmq_send(d->zap, "1.0", 3, ZMQ_SNDMORE);
    if (n >= 2)
        zmq_send(d->zap, zmq_msg_data(&f[1]), zmq_msg_size(&f[1]), ZMQ_SNDMORE);
    else
        zmq_send(d->zap, "", 0, ZMQ_SNDMORE);
    zmq_send(d->zap, status, 3, ZMQ_SNDMORE);
    zmq_send(d->zap, text, strlen(text), ZMQ_SNDMORE);
    zmq_send(d->zap, pub, strlen(pub), ZMQ_SNDMORE);
    zmq_send(d->zap, "", 0, 0);
    frames_close(f, n);
}

/* ZeroMQ's descriptor says "look at ZMQ_EVENTS": read while it says POLLIN. */
void dispatch_drain(dispatcher *d, void *sock)
{
    for (;;) {
        int ev = 0;
        size_t el = sizeof ev;
        if (zmq_getsockopt(sock, ZMQ_EVENTS, &ev, &el) != 0 || !(ev & ZMQ_POLLIN))
            break;
        if (sock == d->zap)
            on_zap(d);
        else
            on_message(d, sock);
    }
}

static void on_fd(loop *l, int fd, unsigned events, void *ctx)
{
    (void)l;
    (void)events;
    dispatcher *d = ctx;
    void *socks[3] = { d->router, d->tcp, d->zap };
    for (int i = 0; i < 3; i++)
        if (socks[i] && d->fds[i] == fd)
            dispatch_drain(d, socks[i]);
}

int dispatch_credit(const dispatcher *d)
{
    int c = 0;
    for (int i = 0; i < RL_WORKERS_MAX; i++)
        if (d->w[i].used)
            c += d->w[i].credit;
    return c;
}

void dispatch_tick(dispatcher *d)
{
    if (!d)
        return;
    int64_t now = rl_mono_ms(), limit = (int64_t)d->cfg.worker_timeout_s * 1000;
    for (int i = 0; i < RL_WORKERS_MAX; i++)
        if (d->w[i].used && now - d->w[i].last_ms > limit)
            lose_worker(d, i, false);
    for (size_t i = 0; i < d->nleases;) {
        lease *l = &d->leases[i];
        if (now - l->last_ms > limit) { /* its worker lives but does not name it */
            char why[sizeof "no heartbeat named this attempt for  s" + RL_NUM_TEXT_MAX];
            int n = snprintf(why, sizeof why, "no heartbeat named this attempt for %u s",
                             d->cfg.worker_timeout_s);
            add_outcome(d, l->job, l->attempt, O_LOST, (rl_str){ why, (size_t)n });
            *l = d->leases[--d->nleases];
            continue;
        }
        i++;
    }
    if (now >= d->next_hb_ms) {
        d->next_hb_ms = now + RL_HEARTBEAT_MS;
        for (int i = 0; i < RL_WORKERS_MAX; i++) {
            if (!d->w[i].used)
                continue;
            const char *fr[1] = { "HEARTBEAT" };
            size_t ln[1] = { 9 };
            frames_send(d->w[i].sock, d->w[i].id, d->w[i].idn, fr, ln, 1);
        }
        dispatch_drain(d, d->router);
        if (d->tcp)
            dispatch_drain(d, d->tcp);
    }
}

int64_t dispatch_deadline_ms(const dispatcher *d)
{
    if (!d)
        return -1;
    int64_t dl = -1, limit = (int64_t)d->cfg.worker_timeout_s * 1000;
#define EARLIER(t) (dl = (dl < 0 || (t) < dl) ? (t) : dl)
    bool any = false;
    for (int i = 0; i < RL_WORKERS_MAX; i++)
        if (d->w[i].used) {
            any = true;
            EARLIER(d->w[i].last_ms + limit + 1);
        }
    if (any)
        EARLIER(d->next_hb_ms);
    for (size_t i = 0; i < d->nleases; i++)
        EARLIER(d->leases[i].last_ms + limit + 1);
    int64_t now_us = rl_now_us(), now_ms = rl_mono_ms();
    for (size_t i = 0; i < d->nout; i++)
        if (!d->out[i].recorded && d->out[i].not_before_us > now_us)
            EARLIER(now_ms + (d->out[i].not_before_us - now_us) / 1000 + 1);
    if (d->retry_after_us > now_us)
        EARLIER(now_ms + (d->retry_after_us - now_us) / 1000 + 1);
    else if (dispatch_credit(d) > 0 && d->next_due_us && d->next_due_us != INT64_MAX)
        EARLIER(now_ms + (d->next_due_us > now_us ? (d->next_due_us - now_us) / 1000 + 1 : 0));
#undef EARLIER
    return dl;
}

void dispatch_counts(const dispatcher *d, unsigned *workers, unsigned *running)
{
    *workers = *running = 0;
    for (int i = 0; d && i < RL_WORKERS_MAX; i++)
        *workers += d->w[i].used;
    if (d)
        *running = (unsigned)d->nleases;
}

unsigned long dispatch_lost_workers(const dispatcher *d)
{
    return d ? d->lost_workers : 0;
}

void dispatch_status(const dispatcher *d, rl_buf *out)
{
    if (!d)
        return;
    for (int i = 0; i < RL_WORKERS_MAX; i++) {
        const worker *w = &d->w[i];
        if (!w->used)
            continue;
        rl_buf_printf(out, "worker %d %s credit %d", i, w->name[0] ? w->name : "?", w->credit);
        for (size_t k = 0; k < d->nleases; k++)
            if (d->leases[k].w == i)
                rl_buf_printf(out, " running job %llu attempt %u",
                              (unsigned long long)d->leases[k].job, d->leases[k].attempt);
        rl_buf_add_c(out, "\n");
    }
    rl_buf_printf(out, "jobs dispatched %lu done %lu failed %lu unverified %lu, late outcomes "
                  "ignored %lu, workers lost %lu, commitment reports %lu\n", d->dispatched,
                  d->done, d->failed, d->unverified, d->late, d->lost_workers, d->reports);
    for (size_t i = 0; i < d->cfg.n_pacs; i++)
        if (d->no_commit_job[i])
            rl_buf_printf(out, "pacs %s: storage commitment refused (job %llu): studies are "
                          "verified by C-FIND alone; declare this engine's AE title, host and "
                          "port at the PACS as a modality that may ask for it, or set "
                          "verify=\"find\" for it (radlink pacs check %s)\n",
                          d->cfg.pacs[i].ae_title, (unsigned long long)d->no_commit_job[i],
                          d->cfg.pacs[i].ae_title);
}

/* ---- setup ---- */

static int watch(dispatcher *d, int slot, void *sock, rl_err *err)
{
    int fd;
    size_t fl = sizeof fd;
    if (zmq_getsockopt(sock, ZMQ_FD, &fd, &fl) != 0 ||
        loop_watch(d->l, fd, LOOP_READ, on_fd, d) != 0)
        return rl_err_set(err, JOB_E_ENDPOINT, -1, "cannot watch a ZeroMQ socket");
    d->fds[slot] = fd;
    return 0;
}

static void *router(dispatcher *d)
{
    void *s = zmq_socket(d->ctx, ZMQ_ROUTER);
    int linger = 0;
    int64_t max = RL_JOB_REPLY_MAX;
    int handover = 1; /* a worker that reconnects with its identity takes it over */
    if (s) {
        zmq_setsockopt(s, ZMQ_LINGER, &linger, sizeof linger);
        zmq_setsockopt(s, ZMQ_MAXMSGSIZE, &max, sizeof max);
        zmq_setsockopt(s, ZMQ_ROUTER_HANDOVER, &handover, sizeof handover);
    }
    return s;
}

/* The tcp endpoint: CURVE with the engine's key pair and a ZAP handler, or,
 * without keys, loopback only. */
static int open_tcp(dispatcher *d, rl_err *err)
{
    const dispatch_cfg *c = &d->cfg;
    if (c->secret_key[0]) {
        d->zap = zmq_socket(d->ctx, ZMQ_REP);
        if (!d->zap || zmq_bind(d->zap, "inproc://zeromq.zap.01") != 0)
            return rl_err_set(err, JOB_E_ENDPOINT, -1, "ZAP handler: %s",
                              zmq_strerror(zmq_errno()));
    } else if (strncmp(c->tcp_endpoint, "tcp://127.0.0.1:", 16) != 0 &&
               strncmp(c->tcp_endpoint, "tcp://localhost:", 16) != 0) {
        return rl_err_set(err, JOB_E_ENDPOINT, -1, "jobs endpoint %s: without a key pair "
                          "(radlink keygen) a tcp endpoint may only listen on 127.0.0.1",
                          c->tcp_endpoint);
    }
    d->tcp = router(d);
    if (!d->tcp)
        return rl_err_set(err, JOB_E_ENDPOINT, -1, "%s", zmq_strerror(zmq_errno()));
    if (c->secret_key[0]) {
        int server = 1;
        zmq_setsockopt(d->tcp, ZMQ_CURVE_SERVER, &server, sizeof server);
        zmq_setsockopt(d->tcp, ZMQ_CURVE_SECRETKEY, c->secret_key, 40);
        zmq_setsockopt(d->tcp, ZMQ_ZAP_DOMAIN, "radlink", 7);
    }
    if (zmq_bind(d->tcp, c->tcp_endpoint) != 0)
        return rl_err_set(err, JOB_E_ENDPOINT, -1, "jobs endpoint %s: %s", c->tcp_endpoint,
                          zmq_strerror(zmq_errno()));
    return 0;
}

dispatcher *dispatch_new(loop *l, const dispatch_cfg *cfg, rl_err *err)
{
    dispatcher *d = calloc(1, sizeof *d);
    if (!d) {
        rl_err_set(err, RL_E_NOMEM, -1, "out of memory");
        return NULL;
    }
    d->cfg = *cfg;
    d->l = l;
    d->fds[0] = d->fds[1] = d->fds[2] = -1;
    if (!d->cfg.max_attempts)
        d->cfg.max_attempts = 5;
    if (!d->cfg.worker_timeout_s)
        d->cfg.worker_timeout_s = RL_WORKER_TIMEOUT_DEFAULT_S;
    d->ctx = zmq_ctx_new();
    d->router = d->ctx ? router(d) : NULL;
    int rc = 0;
    if (!d->router || zmq_bind(d->router, cfg->endpoint) != 0)
        rc = rl_err_set(err, JOB_E_ENDPOINT, -1, "jobs endpoint %s: %s", cfg->endpoint,
                        zmq_strerror(zmq_errno()));
    if (rc == 0 && cfg->tcp_endpoint[0])
        rc = open_tcp(d, err);
    if (rc == 0)
        rc = watch(d, 0, d->router, err);
    if (rc == 0 && d->tcp)
        rc = watch(d, 1, d->tcp, err);
    if (rc == 0 && d->zap)
        rc = watch(d, 2, d->zap, err);
    if (rc != 0) {
        dispatch_free(d);
        return NULL;
    }
    log_info("jobs.listen", "endpoint=%s%s%s%s pacs=%zu", cfg->endpoint,
             cfg->tcp_endpoint[0] ? " " : "", cfg->tcp_endpoint,
             cfg->secret_key[0] ? " curve=yes" : "", cfg->n_pacs);
    return d;
}

void dispatch_free(dispatcher *d)
{
    if (!d)
        return;
    for (int i = 0; i < 3; i++)
        if (d->fds[i] >= 0)
            loop_unwatch(d->l, d->fds[i]);
    for (size_t i = 0; i < d->nout; i++)
        free(d->out[i].text);
    for (size_t i = 0; i < RL_COMMIT_REPORTS_MAX; i++)
        free(d->early[i].lines);
    for (size_t i = 0; i < d->nstarts; i++)
        rl_buf_free(&d->starts[i].msg);
    free(d->out);
    free(d->starts);
    free(d->leases);
    if (d->tcp)
        zmq_close(d->tcp);
    if (d->zap)
        zmq_close(d->zap);
    if (d->router)
        zmq_close(d->router);
    if (d->ctx)
        zmq_ctx_term(d->ctx);
    free(d);
}
