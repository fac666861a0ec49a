/* Outbound senders, one thread per destination; behaviour in radlink/forward.h.
 * A sender reads its queue head in a short read transaction, delivers it with
 * the MLLP client (the code behind `radlink send`), and records the outcome
 * in a short write transaction. It keeps its connection open between
 * messages and reconnects after any error. */
#include "radlink/forward.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "radlink/log.h"
#include "radlink/mllp.h"
#include "radlink/queue.h"

#define IDLE_POLL_MS 2000 /* notice `radlink queue retry` made by another process */
#define FIRST_RETRY_MS 1000

typedef struct sender {
    route_dest d;
    store *st;
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool stop, kicked;
    mllp_client *conn;
    uint64_t delivered, parked, failures;
    struct sender *next;
} sender;

struct forwarder {
    store *st;
    sender *senders;
};

/* What the downstream answered. */
typedef struct answer {
    char code[3];
    char text[256];
} answer;

static void read_answer(rl_buf *reply, answer *a)
{
    hl7_msg m;
    hl7_msg_init(&m, NULL);
    rl_err err;
    a->code[0] = a->text[0] = '\0';
    if (hl7_parse(&m, reply->data, reply->len, &err) != HL7_OK) {
        snprintf(a->text, sizeof a->text, "the reply is not HL7: %.200s", err.msg);
        hl7_msg_free(&m);
        return;
    }
    static const char *paths[] = { "MSA-1", "MSA-3", "ERR-8", "ERR-3.2" };
    for (size_t i = 0; i < sizeof paths / sizeof *paths; i++) {
        hl7_path p;
        rl_str v;
        if (hl7_path_parse(rl_str_c(paths[i]), &p, &err) != HL7_OK ||
            hl7_get(&m, &p, &v, &err) != HL7_VALUE)
            continue;
        if (i == 0)
            snprintf(a->code, sizeof a->code, "%.*s", (int)(v.n < 2 ? v.n : 2), v.p);
        else if (!a->text[0])
            snprintf(a->text, sizeof a->text, "%.*s", (int)(v.n < 255 ? v.n : 255), v.p);
    }
    if (!a->code[0] && !a->text[0])
        snprintf(a->text, sizeof a->text, "the reply has no MSA-1");
    hl7_msg_free(&m);
}

static int64_t backoff_us(const sender *s, uint32_t attempts)
{
    int64_t ms = FIRST_RETRY_MS;
    for (uint32_t i = 1; i < attempts && ms < (int64_t)s->d.max_retry_delay_s * 1000; i++)
        ms *= 2;
    if (ms > (int64_t)s->d.max_retry_delay_s * 1000)
        ms = (int64_t)s->d.max_retry_delay_s * 1000;
    return ms * 1000;
}

/* Wait until deadline_us (wall clock), a kick, or stop. */
static void wait_until(sender *s, int64_t deadline_us)
{
    pthread_mutex_lock(&s->mu);
    while (!s->stop && !s->kicked) {
        int64_t now = rl_now_us();
        if (now >= deadline_us)
            break;
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        int64_t left = deadline_us - now;
        ts.tv_sec += (time_t)(left / 1000000);
        ts.tv_nsec += (long)(left % 1000000) * 1000;
        if (ts.tv_nsec >= 1000000000L) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000L;
        }
        if (pthread_cond_timedwait(&s->cv, &s->mu, &ts) == ETIMEDOUT)
            break;
    }
    s->kicked = false;
    pthread_mutex_unlock(&s->mu);
}

static bool stopping(sender *s)
{
    pthread_mutex_lock(&s->mu);
    bool st = s->stop;
    pthread_mutex_unlock(&s->mu);
    return st;
}

/* Record the outcome of one attempt. remove: delivered; else the item is
 * rewritten (parked or backing off). A failure to write is logged; the
 * sender will find the item again and act on it again. */
static void record(sender *s, const queue_item *it, bool remove)
{
    store_txn *t;
    rl_err err;
    int rc = store_begin(s->st, NULL, true, &t, &err);
    if (rc == STORE_OK) {
        /* an operator may have parked it (radlink queue park) meanwhile: keep that */
        queue_item now;
        queue_item upd = *it;
        if (!remove && upd.state == QUEUE_PENDING &&
            queue_get(t, it->dest, it->qseq, &now, &err) == STORE_OK && now.state == QUEUE_PARKED)
            upd.state = QUEUE_PARKED;
        rc = remove ? queue_remove(t, it->dest, it->qseq, &err) : queue_update(t, &upd, &err);
        if (rc == STORE_NOTFOUND)
            rc = STORE_OK; /* removed by an operator */
        rc = rc == STORE_OK ? store_commit(t, &err) : (store_abort(t), rc);
    }
    if (rc != STORE_OK)
        log_error("forward.store", "dest=%s qseq=%llu error=\"%s\"", it->dest,
                  (unsigned long long)it->qseq, err.msg);
}

static void disconnect(sender *s)
{
    mllp_client_close(s->conn);
    s->conn = NULL;
}

/* Deliver one item; returns the time of the next attempt (0 = at once). */
static int64_t deliver(sender *s, queue_item *it, rl_buf *payload)
{
    rl_err err;
    char why[700] = "";
    int timeout_ms = (int)s->d.ack_timeout_s * 1000;
    if (!s->conn) {
        mllp_tls_opts tls = { .cert = s->d.cert[0] ? s->d.cert : NULL,
                              .key = s->d.key[0] ? s->d.key : NULL,
                              .ca = s->d.ca[0] ? s->d.ca : NULL,
                              .verify_peer = s->d.ca[0] != '\0',
                              .server_name = s->d.server_name[0] ? s->d.server_name : NULL };
        if (mllp_client_open(s->d.host, s->d.port, s->d.tls ? &tls : NULL, timeout_ms, &s->conn,
                             &err) != 0) {
            s->conn = NULL;
            snprintf(why, sizeof why, "cannot connect: %.300s",
                     err.msg);
        }
    }
    answer a = { "", "" };
    if (s->conn) {
        rl_buf reply;
        rl_buf_init(&reply, 0);
        if (mllp_client_exchange(s->conn, rl_buf_view(payload), &reply, timeout_ms, &err) != 0) {
            snprintf(why, sizeof why, "no ACK: %.300s", err.msg);
            disconnect(s);
        } else {
            read_answer(&reply, &a);
        }
        rl_buf_free(&reply);
    }
    it->attempts++;
    if (strcmp(a.code, "AA") == 0 || strcmp(a.code, "CA") == 0) {
        record(s, it, true);
        s->delivered++;
        log_info("forward.delivered", "dest=%s qseq=%llu msg=%llu attempts=%u", s->d.name,
                 (unsigned long long)it->qseq, (unsigned long long)it->msg_seq, it->attempts);
        return 0;
    }
    if (a.code[0] == 'A' || a.code[0] == 'C') { /* AE AR CE CR: the downstream refused it */
        char text[300];
        snprintf(text, sizeof text, "%s: %s", a.code, a.text[0] ? a.text : "(no text)");
        it->state = QUEUE_PARKED;
        it->last_error = rl_str_c(text);
        record(s, it, false);
        s->parked++;
        log_warn("forward.parked", "dest=%s qseq=%llu msg=%llu answer=\"%s\" "
                 "hint=\"radlink queue retry %s %llu\"", s->d.name, (unsigned long long)it->qseq,
                 (unsigned long long)it->msg_seq, text, s->d.name, (unsigned long long)it->qseq);
        return 0;
    }
    if (!why[0])
        snprintf(why, sizeof why, "unusable reply from %s:%u: %s", s->d.host, s->d.port, a.text);
    disconnect(s);
    int64_t next = rl_now_us() + backoff_us(s, it->attempts);
    it->next_us = next;
    it->last_error = rl_str_c(why);
    record(s, it, false);
    s->failures++;
    log_warn("forward.retry", "dest=%s qseq=%llu msg=%llu attempts=%u retry_in_ms=%lld "
             "error=\"%s\"", s->d.name, (unsigned long long)it->qseq,
             (unsigned long long)it->msg_seq, it->attempts,
             (long long)((next - rl_now_us()) / 1000), why);
    return next;
}

static void *run(void *arg)
{
    sender *s = arg;
    rl_buf payload, errtext;
    rl_buf_init(&payload, 0);
    rl_buf_init(&errtext, 0);
    log_info("forward.start", "dest=%s host=%s port=%u tls=%s", s->d.name, s->d.host, s->d.port,
             s->d.tls ? "yes" : "no");
    while (!stopping(s)) {
        /* Copy the head out of a short read transaction. */
        store_txn *t;
        rl_err err;
        queue_item it;
        int rc = store_begin(s->st, NULL, false, &t, &err);
        if (rc == STORE_OK) {
            rc = queue_head(t, s->d.name, &it, &err);
            if (rc == STORE_OK) {
                rl_buf_reset(&payload);
                rl_buf_reset(&errtext);
                rl_buf_add(&payload, it.payload.p, it.payload.n);
                rl_buf_add(&errtext, it.last_error.p, it.last_error.n);
                it.payload = rl_buf_view(&payload);
                it.last_error = rl_buf_view(&errtext);
            }
            store_abort(t);
        }
        if (rc < 0) {
            log_error("forward.store", "dest=%s error=\"%s\"", s->d.name, err.msg);
            wait_until(s, rl_now_us() + IDLE_POLL_MS * 1000ll);
            continue;
        }
        if (rc == STORE_NOTFOUND) {
            if (s->conn) /* nothing to send: do not hold the downstream's connection */
                disconnect(s);
            wait_until(s, rl_now_us() + IDLE_POLL_MS * 1000ll);
            continue;
        }
        if (it.next_us > rl_now_us()) {
            wait_until(s, it.next_us < rl_now_us() + IDLE_POLL_MS * 1000ll
                              ? it.next_us
                              : rl_now_us() + IDLE_POLL_MS * 1000ll);
            continue;
        }
        deliver(s, &it, &payload);
    }
    disconnect(s);
    rl_buf_free(&payload);
    rl_buf_free(&errtext);
    log_info("forward.stop", "dest=%s delivered=%llu parked=%llu failures=%llu", s->d.name,
             (unsigned long long)s->delivered, (unsigned long long)s->parked,
             (unsigned long long)s->failures);
    return NULL;
}

forwarder *forwarder_new(store *st)
{
    forwarder *f = calloc(1, sizeof *f);
    if (f)
        f->st = st;
    return f;
}

static void stop_sender(sender *s)
{
    pthread_mutex_lock(&s->mu);
    s->stop = true;
    pthread_cond_signal(&s->cv);
    pthread_mutex_unlock(&s->mu);
    pthread_join(s->thread, NULL);
    pthread_mutex_destroy(&s->mu);
    pthread_cond_destroy(&s->cv);
    free(s);
}

static sender *start_sender(forwarder *f, const route_dest *d)
{
    sender *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->d = *d;
    s->st = f->st;
    pthread_mutex_init(&s->mu, NULL);
    pthread_cond_init(&s->cv, NULL);
    if (pthread_create(&s->thread, NULL, run, s) != 0) {
        log_error("forward.thread", "dest=%s error=\"%s\"", d->name, strerror(errno));
        pthread_mutex_destroy(&s->mu);
        pthread_cond_destroy(&s->cv);
        free(s);
        return NULL;
    }
    return s;
}

void forwarder_set(forwarder *f, const route_dest *dests, size_t n)
{
    if (!f)
        return;
    /* Keep senders whose destination is unchanged, stop the rest. */
    sender **pp = &f->senders;
    while (*pp) {
        sender *s = *pp;
        bool keep = false;
        for (size_t i = 0; i < n && !keep; i++)
            keep = memcmp(&dests[i], &s->d, sizeof s->d) == 0;
        if (keep) {
            pp = &s->next;
        } else {
            *pp = s->next;
            stop_sender(s);
        }
    }
    for (size_t i = 0; i < n; i++) {
        bool running = false;
        for (sender *s = f->senders; s && !running; s = s->next)
            running = strcmp(s->d.name, dests[i].name) == 0;
        if (running)
            continue;
        sender *s = start_sender(f, &dests[i]);
        if (s) {
            s->next = f->senders;
            f->senders = s;
        }
    }
}

void forwarder_kick(forwarder *f)
{
    if (!f)
        return;
    for (sender *s = f->senders; s; s = s->next) {
        pthread_mutex_lock(&s->mu);
        s->kicked = true;
        pthread_cond_signal(&s->cv);
        pthread_mutex_unlock(&s->mu);
    }
}

void forwarder_free(forwarder *f)
{
    if (!f)
        return;
    forwarder_set(f, NULL, 0);
    free(f);
}
