/* Outbound senders, one thread per destination; behaviour in radlink/forward.h.
 * A sender reads its queue head in a short read transaction, delivers it with
 * the MLLP client (the code behind `radlink send`), and hands the outcome to
 * the loop. It keeps its connection open between messages and reconnects
 * after any error. It wakes on a kick, a retry time or a stop, never on a
 * polling interval. */
#include "radlink/forward.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "radlink/dicom.h"
#include "radlink/limits.h"
#include "radlink/log.h"
#include "radlink/mllp.h"
#include "radlink/mpps.h"
#include "radlink/queue.h"

/* A read of the store that failed (a record that does not decode...) is
 * tried again after this long; it is an error path, not a poll. */
#define STORE_ERROR_RETRY_MS 1000

typedef enum sender_phase { S_IDLE, S_SENDING, S_WAITING } sender_phase;

typedef struct sender {
    route_dest d;
    store *st;
    cmdq *q;
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool stop, kicked;
    int cancel_fd;          /* eventfd: readable once stop is set */
    atomic_int phase;       /* sender_phase, for status */
    atomic_llong wait_until_us;
    atomic_ullong parked_first; /* ordered: the parked message the queue waits behind */
    atomic_bool exited;
    mllp_client *conn;
    uint64_t delivered, parked, failures;
    route_dest next;        /* while retiring: the destination that replaces it */
    bool has_next;
    struct sender *link;
} sender;

struct forwarder {
    store *st;
    cmdq *q;
    sender *active, *retiring;
};

/* What the downstream answered. */
typedef struct answer {
    char code[RL_ACK_CODE_SIZE];
    char text[RL_ANSWER_TEXT_MAX];
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
            snprintf(a->code, sizeof a->code, "%.*s",
                     (int)(v.n < sizeof a->code ? v.n : sizeof a->code - 1), v.p);
        else if (!a->text[0])
            snprintf(a->text, sizeof a->text, "%.*s",
                     (int)(v.n < sizeof a->text ? v.n : sizeof a->text - 1), v.p);
    }
    if (!a->code[0] && !a->text[0])
        snprintf(a->text, sizeof a->text, "the reply has no MSA-1");
    hl7_msg_free(&m);
}

static int64_t backoff_us(const sender *s, uint32_t attempts)
{
    int64_t max = (int64_t)s->d.max_retry_delay_s * 1000, ms = RL_FORWARD_FIRST_RETRY_MS;
    for (uint32_t i = 1; i < attempts && ms < max; i++)
        ms *= 2;
    return (ms > max ? max : ms) * 1000;
}

/* Sleep until deadline_us (wall clock; 0 = no deadline), a kick, or stop. */
static void wait_until(sender *s, int64_t deadline_us)
{
    pthread_mutex_lock(&s->mu);
    atomic_store(&s->wait_until_us, deadline_us);
    while (!s->stop && !s->kicked) {
        if (!deadline_us) {
            pthread_cond_wait(&s->cv, &s->mu);
            continue;
        }
        int64_t left = deadline_us - rl_now_us();
        if (left <= 0)
            break;
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
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
    atomic_store(&s->wait_until_us, 0);
    pthread_mutex_unlock(&s->mu);
}

static bool stopping(sender *s)
{
    pthread_mutex_lock(&s->mu);
    bool st = s->stop;
    pthread_mutex_unlock(&s->mu);
    return st;
}

static void disconnect(sender *s)
{
    mllp_client_close(s->conn);
    s->conn = NULL;
}

/* Hand an outcome to the loop and wait until it is committed: 0, or -1 when
 * it was not (the engine stops, or the commit failed: the message is still
 * at the head of the queue and goes again). */
static int report(sender *s, const queue_item *it, cmd_delivery outcome, int64_t next_us,
                  const char *text)
{
    cmd c;
    memset(&c, 0, sizeof c);
    c.kind = CMD_DELIVERY;
    snprintf(c.u.delivery.dest, sizeof c.u.delivery.dest, "%s", it->dest);
    c.u.delivery.qseq = it->qseq;
    c.u.delivery.outcome = outcome;
    c.u.delivery.attempts = it->attempts;
    c.u.delivery.next_us = next_us;
    snprintf(c.u.delivery.text, sizeof c.u.delivery.text, "%s", text ? text : "");
    if (cmdq_call(s->q, &c.q) != 0) {
        log_warn("forward.unrecorded", "dest=%s qseq=%llu error=\"%s\"", s->d.name,
                 (unsigned long long)it->qseq, c.q.text);
        /* the message stays at the head: do not go round at once (a full
         * disk would have it sent again and again) */
        wait_until(s, rl_now_us() + STORE_ERROR_RETRY_MS * 1000ll);
        return -1;
    }
    return 0;
}

/* Deliver one item (it->attempts counts this one). */
static void deliver(sender *s, queue_item *it, rl_buf *payload)
{
    rl_err err;
    char why[RL_FORWARD_WHY_MAX] = "";
    int timeout_ms = (int)s->d.ack_timeout_s * 1000;
    atomic_store(&s->phase, S_SENDING);
    if (!s->conn) {
        net_tls_opts tls = { .cert = s->d.cert[0] ? s->d.cert : NULL,
                             .key = s->d.key[0] ? s->d.key : NULL,
                             .ca = s->d.ca[0] ? s->d.ca : NULL,
                             .verify_peer = s->d.ca[0] != '\0',
                             .server_name = s->d.server_name[0] ? s->d.server_name : NULL };
        if (mllp_client_open(s->d.host, s->d.port, s->d.tls ? &tls : NULL, timeout_ms,
                             s->cancel_fd, &s->conn, &err) != 0) {
            s->conn = NULL;
            if (err.code == MLLP_E_CANCELLED)
                return;
            snprintf(why, sizeof why, "cannot connect: %.300s", err.msg);
        }
    }
    answer a = { "", "" };
    if (s->conn) {
        rl_buf reply;
        rl_buf_init(&reply, 0);
        int rc = mllp_client_exchange(s->conn, rl_buf_view(payload), &reply, timeout_ms, &err);
        if (rc != 0) {
            disconnect(s);
            if (err.code == MLLP_E_CANCELLED) { /* stays queued, goes again */
                rl_buf_free(&reply);
                return;
            }
            snprintf(why, sizeof why, "no ACK: %.300s", err.msg);
        } else {
            read_answer(&reply, &a);
        }
        rl_buf_free(&reply);
    }
    it->attempts++;
    if (strcmp(a.code, "AA") == 0 || strcmp(a.code, "CA") == 0) {
        if (report(s, it, CMD_DELIVERED, 0, NULL) == 0) {
            s->delivered++;
            log_info("forward.delivered", "dest=%s qseq=%llu msg=%llu attempts=%u", s->d.name,
                     (unsigned long long)it->qseq, (unsigned long long)it->msg_seq, it->attempts);
        }
        return;
    }
    if (a.code[0] == 'A' || a.code[0] == 'C') { /* AE AR CE CR: the downstream refused it */
        /* an AE (a transient application error) is sent again, an AR
         * parked, as the destination says (on-ae, on-ar, retries) */
        bool rejected = a.code[1] == 'R';
        bool retry = rejected ? s->d.on_ar == ROUTE_AR_RETRY : s->d.on_ae == ROUTE_AE_RETRY;
        unsigned sends = s->d.retries ? s->d.retries : RL_DEST_RETRIES_DEFAULT;
        char text[RL_CMD_TEXT_MAX];
        if (retry && it->attempts < sends) {
            snprintf(text, sizeof text, "%s: %s (send %u of %u)", a.code,
                     a.text[0] ? a.text : "(no text)", it->attempts, sends);
            int64_t next = rl_now_us() + backoff_us(s, it->attempts);
            if (report(s, it, CMD_RETRY, next, text) == 0) {
                s->failures++;
                log_warn("forward.refused_retry", "dest=%s qseq=%llu msg=%llu answer=%s "
                         "attempts=%u of=%u", s->d.name, (unsigned long long)it->qseq,
                         (unsigned long long)it->msg_seq, a.code, it->attempts, sends);
            }
            return;
        }
        snprintf(text, sizeof text, "%s: %s", a.code, a.text[0] ? a.text : "(no text)");
        if (retry)
            snprintf(text + strlen(text), sizeof text - strlen(text), " (parked after %u sends)",
                     sends);
        if (report(s, it, CMD_PARKED, 0, text) == 0) {
            s->parked++;
            /* the downstream's text may name the patient: it is in the queue
             * record (radlink queue list), and here only at debug level */
            log_warn("forward.parked", "dest=%s qseq=%llu msg=%llu answer=%s "
                     "hint=\"radlink queue retry %s %llu\"", s->d.name,
                     (unsigned long long)it->qseq, (unsigned long long)it->msg_seq, a.code,
                     s->d.name, (unsigned long long)it->qseq);
            log_debug("forward.parked_text", "dest=%s qseq=%llu text=\"%s\"", s->d.name,
                      (unsigned long long)it->qseq, text);
        }
        return;
    }
    bool quoted = !why[0]; /* the reply's text may quote the message: debug only */
    if (!why[0])
        snprintf(why, sizeof why, "unusable reply from %s:%u: %s", s->d.host, s->d.port, a.text);
    disconnect(s);
    int64_t next = rl_now_us() + backoff_us(s, it->attempts);
    if (report(s, it, CMD_RETRY, next, why) == 0) {
        s->failures++;
        log_warn("forward.retry", "dest=%s qseq=%llu msg=%llu attempts=%u retry_in_ms=%lld "
                 "error=\"%s\"", s->d.name, (unsigned long long)it->qseq,
                 (unsigned long long)it->msg_seq, it->attempts,
                 (long long)((next - rl_now_us()) / 1000),
                 quoted ? "unusable reply (radlink queue list shows it)" : why);
    }
}

/* Success or a warning (PS3.7 C): the PACS has the step. */
static bool mpps_taken(bool create, uint16_t status)
{
    return status == 0x0000 || status == 0x0001 || status == 0x0107 || status == 0x0116 ||
           (status & 0xf000) == 0xb000 ||
           (create && status == 0x0111); /* created before: an earlier try got through */
}

/* Forward one MPPS request to a PACS (it->attempts counts this one): its
 * failure status parks it, an unreachable PACS or a refused association is
 * tried again with backoff. A DICOM exchange cannot be cancelled: at most
 * the destination's timeout. */
static void deliver_mpps(sender *s, queue_item *it, rl_buf *payload)
{
    bool create;
    rl_str uid, ds;
    it->attempts++;
    if (mpps_forward_decode(rl_buf_view(payload), &create, &uid, &ds) != 0 ||
        uid.n >= RL_UID_SIZE) {
        if (report(s, it, CMD_PARKED, 0, "the queued MPPS request does not decode") == 0)
            s->parked++;
        return;
    }
    char sop[RL_UID_SIZE], comment[RL_DICOM_COMMENT_MAX] = "", text[RL_MPPS_OUTCOME_MAX];
    snprintf(sop, sizeof sop, "%.*s", (int)uid.n, uid.p);
    dicom_peer to;
    memset(&to, 0, sizeof to);
    snprintf(to.ae_title, sizeof to.ae_title, "%s", s->d.ae);
    snprintf(to.host, sizeof to.host, "%s", s->d.host);
    to.port = s->d.port;
    to.tls.on = s->d.tls;
    snprintf(to.tls.ca, sizeof to.tls.ca, "%s", s->d.ca);
    snprintf(to.tls.cert, sizeof to.tls.cert, "%s", s->d.cert);
    snprintf(to.tls.key, sizeof to.tls.key, "%s", s->d.key);
    const char *op = create ? "N-CREATE" : "N-SET";
    uint16_t status = 0xffff;
    rl_err err;
    atomic_store(&s->phase, S_SENDING);
    int rc = dicom_mpps_send(s->d.calling_ae, &to, create, sop, ds, &status, comment,
                             sizeof comment, &err);
    if (rc == 0 && mpps_taken(create, status)) {
        if (report(s, it, CMD_DELIVERED, 0, NULL) == 0) {
            s->delivered++;
            log_info("forward.delivered", "dest=%s qseq=%llu op=%s sop=%s status=0x%04x "
                     "attempts=%u", s->d.name, (unsigned long long)it->qseq, op, sop, status,
                     it->attempts);
        }
        return;
    }
    if (rc == 0) { /* the PACS refused it: kept for an operator */
        snprintf(text, sizeof text, "%s of %s: status 0x%04x%s%s", op, sop, status,
                 comment[0] ? ": " : "", comment);
        if (report(s, it, CMD_PARKED, 0, text) == 0) {
            s->parked++;
            log_warn("forward.parked", "dest=%s qseq=%llu op=%s sop=%s status=0x%04x "
                     "hint=\"radlink queue retry %s %llu\"", s->d.name,
                     (unsigned long long)it->qseq, op, sop, status, s->d.name,
                     (unsigned long long)it->qseq);
        }
        return;
    }
    snprintf(text, sizeof text, "%.300s", err.msg);
    int64_t next = rl_now_us() + backoff_us(s, it->attempts);
    if (report(s, it, CMD_RETRY, next, text) == 0) {
        s->failures++;
        log_warn("forward.retry", "dest=%s qseq=%llu op=%s attempts=%u retry_in_ms=%lld "
                 "error=\"%s\"", s->d.name, (unsigned long long)it->qseq, op, it->attempts,
                 (long long)((next - rl_now_us()) / 1000), text);
    }
}

static void *run(void *arg)
{
    sender *s = arg;
    rl_buf payload;
    rl_buf_init(&payload, 0);
    log_info("forward.start", "dest=%s kind=%s host=%s port=%u tls=%s", s->d.name,
             s->d.kind == ROUTE_DEST_MPPS ? "mpps" : "mllp", s->d.host, s->d.port,
             s->d.tls ? "yes" : "no");
    while (!stopping(s)) {
        /* Copy the head out of a short read transaction. */
        store_txn *t;
        rl_err err;
        queue_item it;
        uint64_t behind = 0;
        int rc = store_begin(s->st, NULL, false, &t, &err);
        if (rc == STORE_OK) {
            rc = queue_head(t, s->d.name, !s->d.unordered, &it, &behind, &err);
            if (rc == STORE_OK) {
                rl_buf_reset(&payload);
                rl_buf_add(&payload, it.payload.p, it.payload.n);
                it.payload = rl_buf_view(&payload);
                it.last_error = (rl_str){ "", 0 };
            }
            store_abort(t);
        }
        atomic_store(&s->phase, S_WAITING);
        if (behind != atomic_load(&s->parked_first)) {
            atomic_store(&s->parked_first, behind);
            if (behind)
                log_warn("forward.blocked", "dest=%s qseq=%llu text=\"the queue waits behind "
                         "a parked message (ordered): radlink queue retry, or ordered=false\"",
                         s->d.name, (unsigned long long)behind);
        }
        if (rc < 0) {
            log_error("forward.store", "dest=%s error=\"%s\"", s->d.name, err.msg);
            wait_until(s, rl_now_us() + STORE_ERROR_RETRY_MS * 1000ll);
            continue;
        }
        if (rc == STORE_NOTFOUND) {
            if (s->conn) /* nothing to send: do not hold the downstream's connection */
                disconnect(s);
            atomic_store(&s->phase, S_IDLE);
            wait_until(s, 0);
            continue;
        }
        if (it.next_us > rl_now_us()) {
            wait_until(s, it.next_us);
            continue;
        }
        if (s->d.kind == ROUTE_DEST_MPPS)
            deliver_mpps(s, &it, &payload);
        else
            deliver(s, &it, &payload);
    }
    disconnect(s);
    rl_buf_free(&payload);
    log_info("forward.stop", "dest=%s delivered=%llu parked=%llu failures=%llu", s->d.name,
             (unsigned long long)s->delivered, (unsigned long long)s->parked,
             (unsigned long long)s->failures);
    atomic_store(&s->exited, true);
    cmd *c = calloc(1, sizeof *c);
    if (c) {
        c->kind = CMD_SENDER_EXIT;
        c->u.sender.sender = s;
        cmdq_post(s->q, &c->q); /* refused once the engine stopped: it joins us itself then */
    }
    return NULL;
}

forwarder *forwarder_new(store *st, cmdq *q)
{
    forwarder *f = calloc(1, sizeof *f);
    if (f) {
        f->st = st;
        f->q = q;
    }
    return f;
}

static void sender_free(sender *s)
{
    pthread_mutex_destroy(&s->mu);
    pthread_cond_destroy(&s->cv);
    if (s->cancel_fd >= 0)
        close(s->cancel_fd);
    free(s);
}

static sender *start_sender(forwarder *f, const route_dest *d)
{
    sender *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->d = *d;
    s->st = f->st;
    s->q = f->q;
    s->cancel_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    pthread_mutex_init(&s->mu, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&s->cv, &ca);
    pthread_condattr_destroy(&ca);
    if (s->cancel_fd < 0 || pthread_create(&s->thread, NULL, run, s) != 0) {
        log_error("forward.thread", "dest=%s error=\"%s\"", d->name, strerror(errno));
        sender_free(s);
        return NULL;
    }
    s->link = f->active;
    f->active = s;
    return s;
}

/* Ask s to end: its waits and its network I/O return at once. */
static void cancel(sender *s)
{
    pthread_mutex_lock(&s->mu);
    s->stop = true;
    pthread_cond_signal(&s->cv);
    pthread_mutex_unlock(&s->mu);
    uint64_t one = 1;
    ssize_t w = write(s->cancel_fd, &one, sizeof one);
    (void)w;
}

static sender *find(sender *list, const char *name)
{
    for (sender *s = list; s; s = s->link)
        if (strcmp(s->d.name, name) == 0)
            return s;
    return NULL;
}

void forwarder_set(forwarder *f, const route_dest *dests, size_t n)
{
    if (!f)
        return;
    /* Retire senders whose destination changed or went away. */
    sender **pp = &f->active;
    while (*pp) {
        sender *s = *pp;
        const route_dest *same = NULL;
        for (size_t i = 0; i < n && !same; i++)
            if (memcmp(&dests[i], &s->d, sizeof s->d) == 0)
                same = &dests[i];
        if (same) {
            pp = &s->link;
            continue;
        }
        *pp = s->link;
        cancel(s);
        s->link = f->retiring;
        f->retiring = s;
        log_info("forward.retire", "dest=%s", s->d.name);
    }
    for (size_t i = 0; i < n; i++) {
        if (find(f->active, dests[i].name))
            continue;
        sender *old = find(f->retiring, dests[i].name);
        if (old) { /* starts once the old sender of this queue ended */
            old->next = dests[i];
            old->has_next = true;
            continue;
        }
        start_sender(f, &dests[i]);
    }
    /* a retiring sender whose destination is gone again has no successor */
    for (sender *s = f->retiring; s; s = s->link) {
        bool named = false;
        for (size_t i = 0; i < n && !named; i++)
            named = strcmp(dests[i].name, s->d.name) == 0;
        if (!named)
            s->has_next = false;
    }
}

void forwarder_kick(forwarder *f)
{
    for (sender *s = f ? f->active : NULL; s; s = s->link) {
        pthread_mutex_lock(&s->mu);
        s->kicked = true;
        pthread_cond_signal(&s->cv);
        pthread_mutex_unlock(&s->mu);
    }
}

int forwarder_apply(store_txn *t, const cmd *c, rl_err *err)
{
    queue_item it;
    int rc = queue_get(t, c->u.delivery.dest, c->u.delivery.qseq, &it, err);
    if (rc == STORE_NOTFOUND) /* an operator removed it meanwhile */
        return STORE_OK;
    if (rc)
        return rc;
    switch (c->u.delivery.outcome) {
    case CMD_DELIVERED:
        rc = queue_remove(t, c->u.delivery.dest, c->u.delivery.qseq, err);
        return rc == STORE_NOTFOUND ? STORE_OK : rc;
    case CMD_PARKED:
        it.state = QUEUE_PARKED;
        it.attempts = c->u.delivery.attempts;
        it.last_error = rl_str_c(c->u.delivery.text);
        return queue_update(t, &it, err);
    case CMD_RETRY:
        /* an operator may have parked it meanwhile (radlink queue park): that stays */
        it.attempts = c->u.delivery.attempts;
        it.next_us = c->u.delivery.next_us;
        it.last_error = rl_str_c(c->u.delivery.text);
        return queue_update(t, &it, err);
    }
    return rl_err_set(err, RL_E_ARG, -1, "unknown delivery outcome %d", c->u.delivery.outcome);
}

void forwarder_exited(forwarder *f, void *ptr)
{
    for (sender **pp = &f->retiring; *pp; pp = &(*pp)->link) {
        sender *s = *pp;
        if (s != ptr)
            continue;
        *pp = s->link;
        pthread_join(s->thread, NULL);
        if (s->has_next)
            start_sender(f, &s->next);
        sender_free(s);
        return;
    }
}

void forwarder_stop(forwarder *f)
{
    if (!f)
        return;
    while (f->active) {
        sender *s = f->active;
        f->active = s->link;
        cancel(s);
        s->has_next = false;
        s->link = f->retiring;
        f->retiring = s;
    }
    for (sender *s = f->retiring; s; s = s->link)
        s->has_next = false;
}

bool forwarder_stopped(const forwarder *f)
{
    return !f || (!f->active && !f->retiring);
}

void forwarder_status(const forwarder *f, rl_buf *out)
{
    static const char *const phase[] = { "idle", "sending", "waiting" };
    for (const sender *s = f ? f->active : NULL; s; s = s->link) {
        int ph = atomic_load(&s->phase);
        long long until = atomic_load(&s->wait_until_us);
        rl_buf_printf(out, "sender %s %s:%u %s", s->d.name, s->d.host, s->d.port,
                      phase[ph < 0 || ph > 2 ? 0 : ph]);
        unsigned long long behind = atomic_load(&s->parked_first);
        if (behind)
            rl_buf_printf(out, " (waiting behind parked message %llu: nothing overtakes it; "
                          "radlink queue retry %s %llu, or ordered=\"false\")", behind,
                          s->d.name, behind);
        else if (ph == S_WAITING && until)
            rl_buf_printf(out, " (next attempt in %lld s)",
                          (until - rl_now_us()) / 1000000 > 0 ? (until - rl_now_us()) / 1000000 : 0);
        rl_buf_add_c(out, "\n");
    }
    for (const sender *s = f ? f->retiring : NULL; s; s = s->link)
        rl_buf_printf(out, "sender %s stopping\n", s->d.name);
}

unsigned forwarder_free(forwarder *f)
{
    if (!f)
        return 0;
    forwarder_stop(f);
    unsigned stuck = 0;
    int64_t deadline = rl_mono_ms() + RL_SENDER_EXIT_WAIT_MS;
    while (f->retiring) {
        sender *s = f->retiring;
        while (!atomic_load(&s->exited) && rl_mono_ms() < deadline)
            usleep(10 * 1000);
        f->retiring = s->link;
        if (atomic_load(&s->exited)) {
            pthread_join(s->thread, NULL);
            sender_free(s);
        } else { /* stuck where it cannot be cancelled */
            log_error("forward.stuck", "dest=%s reason=\"its sender did not end; it is left "
                      "to the process's exit\"", s->d.name);
            pthread_detach(s->thread);
            stuck++;
        }
    }
    free(f);
    return stuck;
}
