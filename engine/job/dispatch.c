/* The job dispatcher: a thread of the engine with a ZeroMQ ROUTER socket.
 * Workers (DEALER) say READY with a credit, get at most that many jobs, send
 * HEARTBEATs, and answer DONE or FAIL. Jobs are in LMDB before they are
 * dispatched; a dispatch counts as an attempt and holds the job for a lease;
 * a worker that goes silent loses its jobs to the others; a job that fails
 * backs off (2^attempts s, at most 5 min) and after max-attempts it is dead.
 *
 * Frames, after the ROUTER identity and an empty delimiter:
 *   worker -> engine: READY credit | HEARTBEAT | DONE id result | FAIL id reason
 *   engine -> worker: JOB id payload | HEARTBEAT */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

#include "radlink/dispatch.h"
#include "radlink/job.h"
#include "radlink/log.h"
#include "radlink/rec.h"
#include "radlink/study.h"
#include "radlink/wl.h"
#include "frames.h"

#define MAX_WORKERS 64
#define MAX_INFLIGHT 256
#define SILENT_MS 6000
#define HEARTBEAT_MS 1000
#define LEASE_US (10ll * 60 * 1000000)

typedef struct worker {
    void *sock; /* the ROUTER it came in on (ipc, or tcp with CURVE) */
    char id[256];
    size_t idn;
    int credit;
    int64_t last_ms;
} worker;

typedef struct inflight {
    uint64_t job;
    int worker;
    char *sets; /* the changes sent: "keyword TAB old TAB new" lines */
} inflight;

struct dispatcher {
    dispatch_cfg cfg;
    void *ctx, *router, *tcp, *zap;
    pthread_t thread;
    atomic_bool stop;
    worker w[MAX_WORKERS];
    int nw;
    inflight f[MAX_INFLIGHT];
    int nf;
    int64_t last_hb_ms;
};

/* ---- the payload of a study job ---- */

typedef struct files_ctx {
    store_txn *t;
    rl_buf *out;
} files_ctx;

static int add_file(void *ctx, rl_str sop)
{
    files_ctx *fc = ctx;
    study_inst *in = malloc(sizeof *in);
    rl_err err;
    if (in && study_get_instance(fc->t, sop, in, &err) == STORE_OK)
        rl_buf_printf(fc->out, "file\t%s\n", in->f[STUDY_F_PATH]);
    free(in);
    return 0;
}

/* study, the changes (when it is to be corrected), its files, the PACS. */
static int build_payload(dispatcher *d, store_txn *t, const job *j, rl_buf *out, rl_buf *sets)
{
    study_rec s;
    rl_err err;
    int rc = study_get(t, j->subject, &s, &err);
    if (rc)
        return rc;
    rl_buf_printf(out, "study\t%.*s\n", RL_STR_FMT(j->subject));
    if (s.state == RECON_CORRECTING) {
        const char *p = s.note.p, *end = s.note.p + s.note.n;
        while (p < end) {
            const char *nl = memchr(p, '\n', (size_t)(end - p));
            rl_str line = { p, (size_t)((nl ? nl : end) - p) };
            const char *tab = memchr(line.p, '\t', line.n);
            if (tab) {
                char kw[64];
                snprintf(kw, sizeof kw, "%.*s", (int)(tab - line.p), line.p);
                const wl_model_attr *m = wl_model_find(kw);
                if (m && m->depth == 1) {
                    rl_buf_printf(out, "set\t%08X\t%.*s\n", m->tags[0], (int)line.n, line.p);
                    rl_buf_printf(sets, "%.*s\n", (int)line.n, line.p);
                }
            }
            p = nl ? nl + 1 : end;
        }
    }
    files_ctx fc = { t, out };
    study_index_each(t, 'I', j->subject, add_file, &fc, &err);
    for (size_t i = 0; i < d->cfg.n_pacs; i++)
        rl_buf_printf(out, "pacs\t%s\t%s\t%u\n", d->cfg.pacs[i].ae_title, d->cfg.pacs[i].host,
                      d->cfg.pacs[i].port);
    return STORE_OK;
}

/* ---- sending ---- */

static int send_frames(const worker *w, const char *const *frames, const size_t *lens, int n)
{
    return frames_send(w->sock, w->id, w->idn, frames, lens, n);
}

/* ZAP (RFC 27): a worker connecting over tcp with CURVE gets in only with a
 * listed public key. */
static void on_zap(dispatcher *d)
{
    zmq_msg_t f[7];
    int n = frames_recv(d->zap, f, 7);
    bool ok = false;
    char pub[41] = "";
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

/* ---- outcomes ---- */

static int64_t backoff_us(uint32_t attempts)
{
    int64_t s = 1;
    for (uint32_t i = 0; i < attempts && s < 300; i++)
        s *= 2;
    return (s > 300 ? 300 : s) * 1000000;
}

static void record_changes(store_txn *t, const job *j, const char *sets, rl_err *err)
{
    unsigned n = 0;
    for (const char *p = sets; p && *p;) {
        const char *nl = strchr(p, '\n');
        size_t len = nl ? (size_t)(nl - p) : strlen(p);
        unsigned char key[300];
        size_t kn = j->subject.n < 250 ? j->subject.n : 250;
        memcpy(key, j->subject.p, kn);
        key[kn++] = 0;
        rec_be64(j->id, key + kn);
        kn += 8;
        key[kn++] = (unsigned char)(n >> 8);
        key[kn++] = (unsigned char)n;
        rl_buf v;
        rl_buf_init(&v, 0);
        rl_buf_printf(&v, "%.*s\tdisagreed with the RIS (order or patient record)", (int)len, p);
        store_put(t, STORE_CHANGE, (rl_str){ (char *)key, kn }, rl_buf_view(&v), 0, err);
        rl_buf_free(&v);
        n++;
        p = nl ? nl + 1 : p + len;
    }
}

static void finish(dispatcher *d, uint64_t id, bool ok, rl_str text)
{
    inflight *f = NULL;
    for (int i = 0; i < d->nf; i++)
        if (d->f[i].job == id)
            f = &d->f[i];
    store_txn *t;
    rl_err err;
    if (store_begin(d->cfg.st, NULL, true, &t, &err) != STORE_OK) {
        log_error("jobs.store", "job=%llu error=\"%s\"", (unsigned long long)id, err.msg);
        return;
    }
    job j;
    int rc = job_get(t, id, &j, &err);
    char subject[256];
    char *keep = malloc(text.n + 1);
    if (rc == STORE_OK && keep) {
        memcpy(keep, text.p, text.n);
        keep[text.n] = '\0';
        snprintf(subject, sizeof subject, "%.*s", RL_STR_FMT(j.subject));
        j.subject = rl_str_c(subject);
        j.kind = RL_STR("study"); /* the one kind of job so far */
        j.updated_us = rl_now_us();
        if (ok) {
            j.state = JOB_DONE;
            j.result = rl_str_c(keep);
            j.last_error = (rl_str){ "", 0 };
            if (f && f->sets && f->sets[0]) {
                record_changes(t, &j, f->sets, &err);
                /* the study's index now holds the corrected values */
                for (const char *p = f->sets; *p;) {
                    const char *nl = strchr(p, '\n');
                    size_t ln = nl ? (size_t)(nl - p) : strlen(p);
                    const char *t1 = memchr(p, '\t', ln);
                    const char *t2 = t1 ? memchr(t1 + 1, '\t', ln - (size_t)(t1 + 1 - p)) : NULL;
                    for (int fi = 0; t2 && fi < STUDY_F_COUNT; fi++)
                        if (strlen(study_field_name[fi]) == (size_t)(t1 - p) &&
                            !memcmp(study_field_name[fi], p, (size_t)(t1 - p)) &&
                            fi != STUDY_F_STUDY_UID)
                            study_set_field(t, j.subject, fi,
                                            (rl_str){ t2 + 1, ln - (size_t)(t2 + 1 - p) }, &err);
                    p = nl ? nl + 1 : p + ln;
                }
                study_rec s;
                if (study_get(t, j.subject, &s, &err) == STORE_OK && s.state == RECON_CORRECTING)
                    study_set_state(t, j.subject, RECON_CORRECTED, (rl_str){ NULL, 0 },
                                    (rl_str){ NULL, 0 }, &err);
            }
        } else {
            j.last_error = rl_str_c(keep);
            j.result = (rl_str){ "", 0 };
            j.state = j.attempts >= d->cfg.max_attempts ? JOB_DEAD : JOB_PENDING;
            j.next_us = rl_now_us() + backoff_us(j.attempts);
        }
        rc = job_update(t, &j, &err);
    }
    rc = rc == STORE_OK ? store_commit(t, &err) : (store_abort(t), rc);
    if (rc != STORE_OK)
        log_error("jobs.store", "job=%llu error=\"%s\"", (unsigned long long)id, err.msg);
    else if (ok)
        log_info("jobs.done", "job=%llu study=%s result=\"%s\"", (unsigned long long)id, subject,
                 keep ? keep : "");
    else
        log_warn(j.state == JOB_DEAD ? "jobs.dead" : "jobs.failed",
                 "job=%llu study=%s attempts=%u error=\"%s\"", (unsigned long long)id, subject,
                 j.attempts, keep ? keep : "");
    free(keep);
    if (f) {
        free(f->sets);
        *f = d->f[--d->nf];
    }
}

/* A worker went silent: its jobs are due again at once. */
static void drop_worker(dispatcher *d, int wi)
{
    log_warn("jobs.worker_lost", "worker=%d silent_ms=%lld", wi,
             (long long)(rl_mono_ms() - d->w[wi].last_ms));
    for (int i = 0; i < d->nf;) {
        if (d->f[i].worker == wi) {
            finish(d, d->f[i].job, false, RL_STR("the worker went silent"));
            continue;
        }
        if (d->f[i].worker == d->nw - 1)
            d->f[i].worker = wi;
        i++;
    }
    d->w[wi] = d->w[--d->nw];
}

static int find_worker(dispatcher *d, void *sock, const char *id, size_t n)
{
    for (int i = 0; i < d->nw; i++)
        if (d->w[i].sock == sock && d->w[i].idn == n && memcmp(d->w[i].id, id, n) == 0)
            return i;
    return -1;
}

static void on_message(dispatcher *d, void *sock)
{
    zmq_msg_t parts[5];
    int n = frames_recv(sock, parts, 5);
    if (n < 3 || zmq_msg_size(&parts[0]) > sizeof d->w[0].id)
        goto done;
    const char *id = zmq_msg_data(&parts[0]);
    size_t idn = zmq_msg_size(&parts[0]);
    rl_str type = { zmq_msg_data(&parts[2]), zmq_msg_size(&parts[2]) };
    int wi = find_worker(d, sock, id, idn);
    if (wi < 0 && d->nw < MAX_WORKERS) {
        wi = d->nw++;
        memset(&d->w[wi], 0, sizeof d->w[wi]);
        d->w[wi].sock = sock;
        memcpy(d->w[wi].id, id, idn);
        d->w[wi].idn = idn;
        log_info("jobs.worker", "worker=%d connected%s", wi, sock == d->tcp ? " over tcp" : "");
    }
    if (wi < 0)
        goto done;
    d->w[wi].last_ms = rl_mono_ms();
    if (rl_str_eq(type, RL_STR("READY")) && n >= 4) {
        char c[16];
        snprintf(c, sizeof c, "%.*s", (int)zmq_msg_size(&parts[3]), (char *)zmq_msg_data(&parts[3]));
        d->w[wi].credit += atoi(c) > 0 ? atoi(c) : 1;
    } else if ((rl_str_eq(type, RL_STR("DONE")) || rl_str_eq(type, RL_STR("FAIL"))) && n >= 5) {
        char jid[32];
        snprintf(jid, sizeof jid, "%.*s", (int)zmq_msg_size(&parts[3]),
                 (char *)zmq_msg_data(&parts[3]));
        finish(d, strtoull(jid, NULL, 10), rl_str_eq(type, RL_STR("DONE")),
               (rl_str){ zmq_msg_data(&parts[4]), zmq_msg_size(&parts[4]) });
    }
done:
    frames_close(parts, n);
}

/* ---- dispatching ---- */

typedef struct due_ctx {
    dispatcher *d;
    uint64_t ids[32];
    int n;
} due_ctx;

static int collect_due(void *ctx, const job *j)
{
    due_ctx *c = ctx;
    if (j->state != JOB_PENDING || j->next_us > rl_now_us())
        return 0;
    for (int i = 0; i < c->d->nf; i++)
        if (c->d->f[i].job == j->id)
            return 0;
    c->ids[c->n++] = j->id;
    return c->n == 32;
}

static int credit_total(dispatcher *d)
{
    int c = 0;
    for (int i = 0; i < d->nw; i++)
        c += d->w[i].credit;
    return c;
}

static void dispatch_due(dispatcher *d)
{
    if (credit_total(d) == 0 || d->nf >= MAX_INFLIGHT)
        return;
    store_txn *t;
    rl_err err;
    if (store_begin(d->cfg.st, NULL, false, &t, &err) != STORE_OK)
        return;
    due_ctx c = { .d = d };
    job_each_pending(t, collect_due, &c, &err);
    store_abort(t);
    for (int k = 0; k < c.n && credit_total(d) > 0 && d->nf < MAX_INFLIGHT; k++) {
        int wi = -1;
        for (int i = 0; i < d->nw; i++)
            if (d->w[i].credit > 0 && (wi < 0 || d->w[i].credit > d->w[wi].credit))
                wi = i;
        rl_buf payload, sets;
        rl_buf_init(&payload, 0);
        rl_buf_init(&sets, 0);
        job j;
        int rc = store_begin(d->cfg.st, NULL, true, &t, &err);
        char subject[256] = "";
        if (rc == STORE_OK)
            rc = job_get(t, c.ids[k], &j, &err);
        if (rc == STORE_OK) {
            snprintf(subject, sizeof subject, "%.*s", RL_STR_FMT(j.subject));
            rc = build_payload(d, t, &j, &payload, &sets);
            /* keep every view before writing */
            char kind[32], lerr[300], res[300];
            snprintf(kind, sizeof kind, "%.*s", RL_STR_FMT(j.kind));
            snprintf(lerr, sizeof lerr, "%.*s", RL_STR_FMT(j.last_error));
            snprintf(res, sizeof res, "%.*s", RL_STR_FMT(j.result));
            j.kind = rl_str_c(kind);
            j.subject = rl_str_c(subject);
            j.last_error = rl_str_c(lerr);
            j.result = rl_str_c(res);
            if (rc == STORE_NOTFOUND) { /* the study is gone: nothing to do */
                j.state = JOB_DONE;
                j.result = RL_STR("the study is no longer stored");
                rc = job_update(t, &j, &err);
                rc = rc == STORE_OK ? store_commit(t, &err) : (store_abort(t), rc);
                rl_buf_free(&payload);
                rl_buf_free(&sets);
                continue;
            }
            j.attempts++;
            j.next_us = rl_now_us() + LEASE_US;
            j.updated_us = rl_now_us();
            if (rc == STORE_OK)
                rc = job_update(t, &j, &err);
        }
        rc = t ? (rc == STORE_OK ? store_commit(t, &err) : (store_abort(t), rc)) : rc;
        if (rc == STORE_OK) {
            char jid[32];
            int jn = snprintf(jid, sizeof jid, "%llu", (unsigned long long)c.ids[k]);
            const char *fr[3] = { "JOB", jid, payload.data ? payload.data : "" };
            size_t ln[3] = { 3, (size_t)jn, payload.len };
            if (send_frames(&d->w[wi], fr, ln, 3) == 0) {
                d->w[wi].credit--;
                inflight *f = &d->f[d->nf++];
                f->job = c.ids[k];
                f->worker = wi;
                f->sets = sets.len ? strndup(sets.data, sets.len) : NULL;
                log_info("jobs.dispatch", "job=%llu study=%s worker=%d attempt=%u",
                         (unsigned long long)c.ids[k], subject, wi, j.attempts);
            }
        } else {
            log_error("jobs.store", "job=%llu error=\"%s\"", (unsigned long long)c.ids[k],
                      err.msg);
        }
        rl_buf_free(&payload);
        rl_buf_free(&sets);
    }
}

static void drain(dispatcher *d, void *sock, bool zap)
{
    for (int k = 0; k < 64; k++) {
        int ev = 0;
        size_t el = sizeof ev;
        zmq_getsockopt(sock, ZMQ_EVENTS, &ev, &el);
        if (!(ev & ZMQ_POLLIN))
            break;
        if (zap)
            on_zap(d);
        else
            on_message(d, sock);
    }
}

static void *run(void *arg)
{
    dispatcher *d = arg;
    while (!atomic_load(&d->stop)) {
        zmq_pollitem_t it[3] = { { d->router, 0, ZMQ_POLLIN, 0 } };
        int ni = 1;
        if (d->tcp)
            it[ni++] = (zmq_pollitem_t){ d->tcp, 0, ZMQ_POLLIN, 0 };
        if (d->zap)
            it[ni++] = (zmq_pollitem_t){ d->zap, 0, ZMQ_POLLIN, 0 };
        if (zmq_poll(it, ni, 200) > 0) {
            for (int i = 0; i < ni; i++)
                if (it[i].revents & ZMQ_POLLIN)
                    drain(d, it[i].socket, it[i].socket == d->zap);
        }
        int64_t now = rl_mono_ms();
        for (int i = 0; i < d->nw;) {
            if (now - d->w[i].last_ms > SILENT_MS)
                drop_worker(d, i);
            else
                i++;
        }
        if (now - d->last_hb_ms >= HEARTBEAT_MS) {
            d->last_hb_ms = now;
            for (int i = 0; i < d->nw; i++) {
                const char *fr[1] = { "HEARTBEAT" };
                size_t ln[1] = { 9 };
                send_frames(&d->w[i], fr, ln, 1);
            }
        }
        dispatch_due(d);
    }
    return NULL;
}

/* The tcp endpoint: CURVE with the engine's key pair and a ZAP handler, or,
 * without keys, loopback only. */
static int open_tcp(dispatcher *d, rl_err *err)
{
    const dispatch_cfg *c = &d->cfg;
    int linger = 0;
    if (c->secret_key[0]) {
        d->zap = zmq_socket(d->ctx, ZMQ_REP);
        if (!d->zap || zmq_bind(d->zap, "inproc://zeromq.zap.01") != 0)
            return rl_err_set(err, -1, -1, "ZAP handler: %s", zmq_strerror(zmq_errno()));
    } else if (strncmp(c->tcp_endpoint, "tcp://127.0.0.1:", 16) != 0 &&
               strncmp(c->tcp_endpoint, "tcp://localhost:", 16) != 0) {
        return rl_err_set(err, -1, -1, "jobs endpoint %s: without a key pair (radlink keygen) "
                          "a tcp endpoint may only listen on 127.0.0.1", c->tcp_endpoint);
    }
    d->tcp = zmq_socket(d->ctx, ZMQ_ROUTER);
    if (!d->tcp)
        return rl_err_set(err, -1, -1, "%s", zmq_strerror(zmq_errno()));
    zmq_setsockopt(d->tcp, ZMQ_LINGER, &linger, sizeof linger);
    if (c->secret_key[0]) {
        int server = 1;
        zmq_setsockopt(d->tcp, ZMQ_CURVE_SERVER, &server, sizeof server);
        zmq_setsockopt(d->tcp, ZMQ_CURVE_SECRETKEY, c->secret_key, 40);
        zmq_setsockopt(d->tcp, ZMQ_ZAP_DOMAIN, "radlink", 7);
    }
    if (zmq_bind(d->tcp, c->tcp_endpoint) != 0)
        return rl_err_set(err, -1, -1, "jobs endpoint %s: %s", c->tcp_endpoint,
                          zmq_strerror(zmq_errno()));
    return 0;
}

dispatcher *dispatcher_start(const dispatch_cfg *cfg, rl_err *err)
{
    dispatcher *d = calloc(1, sizeof *d);
    if (!d) {
        rl_err_set(err, -1, -1, "out of memory");
        return NULL;
    }
    d->cfg = *cfg;
    if (!d->cfg.max_attempts)
        d->cfg.max_attempts = 5;
    d->ctx = zmq_ctx_new();
    d->router = d->ctx ? zmq_socket(d->ctx, ZMQ_ROUTER) : NULL;
    int linger = 0;
    if (d->router)
        zmq_setsockopt(d->router, ZMQ_LINGER, &linger, sizeof linger);
    if (!d->router || zmq_bind(d->router, cfg->endpoint) != 0) {
        rl_err_set(err, -1, -1, "jobs endpoint %s: %s", cfg->endpoint, zmq_strerror(zmq_errno()));
        if (d->router)
            zmq_close(d->router);
        if (d->ctx)
            zmq_ctx_term(d->ctx);
        free(d);
        return NULL;
    }
    if (cfg->tcp_endpoint[0] && open_tcp(d, err) != 0) {
        if (d->tcp)
            zmq_close(d->tcp);
        if (d->zap)
            zmq_close(d->zap);
        zmq_close(d->router);
        zmq_ctx_term(d->ctx);
        free(d);
        return NULL;
    }
    if (pthread_create(&d->thread, NULL, run, d) != 0) {
        rl_err_set(err, -1, -1, "cannot start the job dispatcher");
        zmq_close(d->router);
        zmq_ctx_term(d->ctx);
        free(d);
        return NULL;
    }
    log_info("jobs.listen", "endpoint=%s%s%s%s pacs=%zu", cfg->endpoint,
             cfg->tcp_endpoint[0] ? " " : "", cfg->tcp_endpoint,
             cfg->secret_key[0] ? " curve=yes" : "", cfg->n_pacs);
    return d;
}

void dispatcher_stop(dispatcher *d)
{
    if (!d)
        return;
    atomic_store(&d->stop, true);
    pthread_join(d->thread, NULL);
    for (int i = 0; i < d->nf; i++)
        free(d->f[i].sets);
    if (d->tcp)
        zmq_close(d->tcp);
    if (d->zap)
        zmq_close(d->zap);
    zmq_close(d->router);
    zmq_ctx_term(d->ctx);
    free(d);
}
