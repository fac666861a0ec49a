/* Shipping the audit trail to a collector: syslog over TLS (RFC 5425,
 * octet counting) with RFC 5424 headers, as IHE ATNA's Record Audit Event
 * (ITI-20) has it. One thread reads the events from the store after the
 * last one shipped and writes them; the store is the queue, so a collector
 * that is down only delays shipping.
 *
 * RFC 5425 has no acknowledgement: a write that TLS accepted may still die
 * in a socket buffer when the collector goes away. So an event counts as
 * shipped only once the connection it went out on is seen alive a moment
 * after (RL_AUDIT_CONFIRM_MS); a connection found closed sends everything
 * after the last confirmed event again. The collector may get an event
 * twice, never none. The confirmed position is stored by the loop
 * (CMD_AUDIT_SHIPPED, META audit.shipped), so a restart goes on from it.
 * The connection, the TLS and the framing are the syslog adapter's
 * (radlink/syslog.h). */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "radlink/audit.h"
#include "radlink/audit_ship.h"
#include "radlink/cmd.h"
#include "radlink/limits.h"
#include "radlink/log.h"
#include "radlink/rec.h"
#include "radlink/syslog.h"

struct audit_shipper {
    audit_ship_cfg cfg;
    pthread_t th;
    pthread_mutex_t lock;
    pthread_cond_t cond;
    bool woken, stopping, running;
    /* the thread's own */
    syslog_client *cl;
    uint64_t sent, confirmed;
    int64_t last_write_ms, retry_ms;
    unsigned backoff_ms;
    /* for status (under lock) */
    uint64_t st_confirmed, st_last;
    unsigned long st_sent, st_resent, st_connects;
    bool st_up;
    int64_t st_down_us; /* since when it is down (0: up) */
    char st_why[200];
};

static void set_state(audit_shipper *s, bool up, const char *why)
{
    pthread_mutex_lock(&s->lock);
    bool was = s->st_up;
    s->st_up = up;
    if (up)
        s->st_down_us = 0;
    else if (was || !s->st_down_us)
        s->st_down_us = rl_now_us();
    snprintf(s->st_why, sizeof s->st_why, "%s", why ? why : "");
    s->st_confirmed = s->confirmed;
    pthread_mutex_unlock(&s->lock);
    if (up && !was)
        log_info("audit.collector_up", "collector=%s:%u", s->cfg.host, s->cfg.port);
    else if (!up && (was || !s->st_connects))
        log_warn("audit.collector_down", "collector=%s:%u error=\"%s\" text=\"events are kept "
                 "and shipped when it is back\"", s->cfg.host, s->cfg.port, why);
}

static void drop(audit_shipper *s, const char *why)
{
    syslog_disconnect(s->cl);
    if (s->sent > s->confirmed) {
        pthread_mutex_lock(&s->lock);
        s->st_resent += (unsigned long)(s->sent - s->confirmed);
        pthread_mutex_unlock(&s->lock);
    }
    s->sent = s->confirmed; /* what was not confirmed goes again */
    s->retry_ms = rl_mono_ms() + s->backoff_ms;
    s->backoff_ms = s->backoff_ms < 30000 ? s->backoff_ms * 2 : 30000;
    set_state(s, false, why);
}

/* Connect to the collector (TCP and TLS, each bounded). */
static int connect_collector(audit_shipper *s, rl_err *err)
{
    if (syslog_connect(s->cl, err) != 0)
        return -1;
    s->backoff_ms = 1000;
    pthread_mutex_lock(&s->lock);
    s->st_connects++;
    pthread_mutex_unlock(&s->lock);
    set_state(s, true, "");
    return 0;
}

typedef struct batch {
    audit_shipper *s;
    rl_buf out, xml;
    uint64_t last;
    unsigned n;
} batch;

/* One event as an RFC 5424 message: PRI 85 (facility 10
 * security/authorization, severity 5 notice, as ITI-20 says), MSGID
 * IHE+RFC-3881, the AuditMessage as MSG. */
static int frame(void *ctx, const audit_rec *r)
{
    batch *b = ctx;
    syslog_header h = { .pri = 85, .time_us = r->time_us, .hostname = b->s->cfg.hostname,
                        .app = "radlink", .procid = (long)getpid(), .msgid = "IHE+RFC-3881" };
    rl_buf_reset(&b->xml);
    int rc = audit_rec_xml(r, &b->xml);
    if (rc == RL_E_NOMEM)
        return 1; /* the batch so far goes, this event next time */
    if (rc != 0) { /* a record that does not decode: said, and passed over */
        log_error("audit.unreadable", "seq=%llu text=\"its facts do not decode: not shipped\"",
                  (unsigned long long)r->seq);
        b->last = r->seq;
        return 0;
    }
    syslog_frame(&b->out, &h, rl_buf_view(&b->xml));
    b->last = r->seq;
    return ++b->n >= RL_AUDIT_SHIP_BATCH || b->out.len > (1u << 20);
}

/* Write the events after s->sent; 1 when more are waiting. */
static int ship(audit_shipper *s)
{
    batch b = { .s = s };
    rl_buf_init(&b.out, 0);
    rl_buf_init(&b.xml, 0);
    store_txn *t;
    rl_err err;
    int rc = store_begin(s->cfg.st, NULL, false, &t, &err);
    if (rc == STORE_OK) {
        rc = audit_each(t, s->sent + 1, frame, &b, &err);
        rl_buf_free(&b.xml);
        uint64_t next = 0;
        store_next_seq(t, STORE_AUDIT, &next, &err);
        pthread_mutex_lock(&s->lock);
        s->st_last = next - 1;
        pthread_mutex_unlock(&s->lock);
        store_abort(t);
    }
    if (rc < 0) {
        log_error("audit.read_failed", "error=\"%s\"", err.msg);
        rl_buf_free(&b.out);
        return 0;
    }
    if (syslog_send(s->cl, b.out.data, b.out.len, &err) != 0) {
        rl_buf_free(&b.out);
        drop(s, err.msg);
        return 0;
    }
    int more = b.n >= RL_AUDIT_SHIP_BATCH || b.out.len > (1u << 20);
    rl_buf_free(&b.out);
    if (b.n) {
        s->sent = b.last;
        s->last_write_ms = rl_mono_ms();
        pthread_mutex_lock(&s->lock);
        s->st_sent += b.n;
        pthread_mutex_unlock(&s->lock);
    }
    return more;
}

static void confirm(audit_shipper *s)
{
    s->confirmed = s->sent;
    pthread_mutex_lock(&s->lock);
    s->st_confirmed = s->confirmed;
    pthread_mutex_unlock(&s->lock);
    cmd *c = calloc(1, sizeof *c);
    if (!c)
        return; /* said again with the next confirmation */
    c->kind = CMD_AUDIT_SHIPPED;
    c->u.shipped = s->confirmed;
    cmdq_post(s->cfg.q, &c->q);
}

static void *ship_main(void *arg)
{
    audit_shipper *s = arg;
    pthread_mutex_lock(&s->lock);
    while (!s->stopping) {
        pthread_mutex_unlock(&s->lock);
        int64_t now = rl_mono_ms();
        int more = 0;
        if (!syslog_connected(s->cl) && now >= s->retry_ms) {
            rl_err why;
            if (connect_collector(s, &why) != 0) {
                s->retry_ms = now + s->backoff_ms;
                s->backoff_ms = s->backoff_ms < 30000 ? s->backoff_ms * 2 : 30000;
                set_state(s, false, why.msg);
            }
        }
        if (syslog_connected(s->cl) && syslog_gone(s->cl))
            drop(s, "the collector closed the connection");
        if (syslog_connected(s->cl) && s->sent > s->confirmed &&
            now - s->last_write_ms >= RL_AUDIT_CONFIRM_MS)
            confirm(s);
        if (syslog_connected(s->cl))
            more = ship(s);
        /* wait for new events (the loop wakes us), for the moment to
         * confirm what went out, or for the next connection attempt */
        int64_t wait_ms = -1;
        now = rl_mono_ms();
        if (more)
            wait_ms = 0;
        else if (!syslog_connected(s->cl))
            wait_ms = s->retry_ms > now ? s->retry_ms - now : 0;
        else if (s->sent > s->confirmed)
            wait_ms = RL_AUDIT_CONFIRM_MS;
        pthread_mutex_lock(&s->lock);
        if (!s->woken && !s->stopping && wait_ms != 0) {
            if (wait_ms < 0) {
                pthread_cond_wait(&s->cond, &s->lock);
            } else {
                struct timespec ts;
                clock_gettime(CLOCK_MONOTONIC, &ts);
                ts.tv_sec += wait_ms / 1000;
                ts.tv_nsec += (wait_ms % 1000) * 1000000;
                if (ts.tv_nsec >= 1000000000) {
                    ts.tv_sec++;
                    ts.tv_nsec -= 1000000000;
                }
                pthread_cond_timedwait(&s->cond, &s->lock, &ts);
            }
        }
        s->woken = false;
    }
    pthread_mutex_unlock(&s->lock);
    if (syslog_connected(s->cl)) {
        if (s->sent > s->confirmed && !syslog_gone(s->cl))
            confirm(s);
        syslog_disconnect(s->cl);
    }
    return NULL;
}

int audit_ship_start(const audit_ship_cfg *c, audit_shipper **out, rl_err *err)
{
    *out = NULL;
    audit_shipper *s = calloc(1, sizeof *s);
    if (!s)
        return rl_err_set(err, RL_E_NOMEM, -1, "out of memory");
    s->cfg = *c;
    s->backoff_ms = 1000;
    s->st_down_us = rl_now_us(); /* not reached yet */
    if (!s->cfg.hostname[0] && gethostname(s->cfg.hostname, sizeof s->cfg.hostname) != 0)
        snprintf(s->cfg.hostname, sizeof s->cfg.hostname, "-");
    syslog_opts so = { .host = c->host, .port = c->port, .server_name = c->server_name,
                       .ca = c->ca[0] ? c->ca : NULL, .cert = c->cert[0] ? c->cert : NULL,
                       .key = c->key[0] ? c->key : NULL,
                       .timeout_ms = RL_AUDIT_CONNECT_TIMEOUT_S * 1000 };
    rl_err why;
    if (syslog_client_new(&so, &s->cl, &why) != 0) {
        free(s);
        return rl_err_set(err, RL_E_ARG, -1, "<audit><syslog>: %s (ca %s, cert %s)", why.msg,
                          c->ca[0] ? c->ca : "system", c->cert[0] ? c->cert : "none");
    }
    store_txn *t;
    int rc = store_begin(c->st, NULL, false, &t, err);
    if (rc == STORE_OK) {
        rc = audit_shipped(t, &s->confirmed, err);
        store_abort(t);
    }
    if (rc != STORE_OK) {
        syslog_client_free(s->cl);
        free(s);
        return rc;
    }
    s->sent = s->st_confirmed = s->confirmed;
    pthread_mutex_init(&s->lock, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&s->cond, &ca);
    pthread_condattr_destroy(&ca);
    if (pthread_create(&s->th, NULL, ship_main, s) != 0) {
        syslog_client_free(s->cl);
        free(s);
        return rl_err_set(err, RL_E_SYS, -1, "cannot start the audit shipping thread");
    }
    s->running = true;
    *out = s;
    return 0;
}

void audit_ship_wake(audit_shipper *s)
{
    if (!s)
        return;
    pthread_mutex_lock(&s->lock);
    s->woken = true;
    pthread_cond_signal(&s->cond);
    pthread_mutex_unlock(&s->lock);
}

void audit_ship_status(audit_shipper *s, rl_buf *out)
{
    if (!s) {
        rl_buf_add_c(out, "audit: kept in the store (no collector configured)\n");
        return;
    }
    pthread_mutex_lock(&s->lock);
    rl_buf_printf(out, "audit: collector %s:%u %s%s%s, %llu of %llu events shipped (%lu sent, "
                  "%lu sent again after a lost connection)\n", s->cfg.host, s->cfg.port,
                  s->st_up ? "up" : "down", s->st_up ? "" : ": ", s->st_up ? "" : s->st_why,
                  (unsigned long long)s->st_confirmed, (unsigned long long)s->st_last,
                  s->st_sent, s->st_resent);
    pthread_mutex_unlock(&s->lock);
}

int64_t audit_ship_down_since(audit_shipper *s, char *why, size_t n)
{
    pthread_mutex_lock(&s->lock);
    int64_t since = s->st_down_us;
    snprintf(why, n, "%s", s->st_up ? "" : s->st_why);
    pthread_mutex_unlock(&s->lock);
    return since;
}

void audit_ship_stop(audit_shipper *s)
{
    if (!s)
        return;
    pthread_mutex_lock(&s->lock);
    s->stopping = true;
    pthread_cond_signal(&s->cond);
    pthread_mutex_unlock(&s->lock);
    if (s->running)
        pthread_join(s->th, NULL);
    syslog_client_free(s->cl);
    pthread_mutex_destroy(&s->lock);
    pthread_cond_destroy(&s->cond);
    free(s);
}
