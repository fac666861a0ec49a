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
 * (CMD_AUDIT_SHIPPED, META audit.shipped), so a restart goes on from it. */
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "radlink/audit.h"
#include "radlink/audit_ship.h"
#include "radlink/cmd.h"
#include "radlink/limits.h"
#include "radlink/log.h"
#include "radlink/rec.h"

struct audit_shipper {
    audit_ship_cfg cfg;
    pthread_t th;
    pthread_mutex_t lock;
    pthread_cond_t cond;
    bool woken, stopping, running;
    /* the thread's own */
    SSL_CTX *ctx;
    SSL *ssl;
    int fd;
    uint64_t sent, confirmed;
    int64_t last_write_ms, retry_ms;
    unsigned backoff_ms;
    /* for status (under lock) */
    uint64_t st_confirmed, st_last;
    unsigned long st_sent, st_resent, st_connects;
    bool st_up;
    char st_why[200];
};

static void set_state(audit_shipper *s, bool up, const char *why)
{
    pthread_mutex_lock(&s->lock);
    bool was = s->st_up;
    s->st_up = up;
    snprintf(s->st_why, sizeof s->st_why, "%s", why ? why : "");
    s->st_confirmed = s->confirmed;
    pthread_mutex_unlock(&s->lock);
    if (up && !was)
        log_info("audit.collector_up", "collector=%s:%u", s->cfg.host, s->cfg.port);
    else if (!up && (was || !s->st_connects))
        log_warn("audit.collector_down", "collector=%s:%u error=\"%s\" text=\"events are kept "
                 "and shipped when it is back\"", s->cfg.host, s->cfg.port, why);
}

static void tls_error(char *out, size_t n, const char *what)
{
    unsigned long e = ERR_get_error();
    char buf[160] = "";
    if (e)
        ERR_error_string_n(e, buf, sizeof buf);
    snprintf(out, n, "%s%s%s", what, buf[0] ? ": " : "", buf);
    ERR_clear_error();
}

static void drop(audit_shipper *s, const char *why)
{
    if (s->ssl) {
        SSL_free(s->ssl);
        s->ssl = NULL;
    }
    if (s->fd >= 0)
        close(s->fd);
    s->fd = -1;
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

/* TCP with a bounded connect, then the TLS handshake. */
static int connect_collector(audit_shipper *s, char *why, size_t whyn)
{
    char port[8];
    snprintf(port, sizeof port, "%u", s->cfg.port);
    struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM }, *res;
    int g = getaddrinfo(s->cfg.host, port, &hints, &res);
    if (g != 0) {
        snprintf(why, whyn, "%s: %s", s->cfg.host, gai_strerror(g));
        return -1;
    }
    int fd = -1;
    for (struct addrinfo *a = res; a && fd < 0; a = a->ai_next) {
        fd = socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, a->ai_protocol);
        if (fd < 0)
            continue;
        struct timeval tv = { RL_AUDIT_CONNECT_TIMEOUT_S, 0 };
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        if (connect(fd, a->ai_addr, a->ai_addrlen) != 0) {
            snprintf(why, whyn, "connect: %s", strerror(errno));
            close(fd);
            fd = -1;
        }
    }
    freeaddrinfo(res);
    if (fd < 0)
        return -1;
    SSL *ssl = SSL_new(s->ctx);
    if (!ssl) {
        close(fd);
        snprintf(why, whyn, "out of memory");
        return -1;
    }
    const char *name = s->cfg.server_name[0] ? s->cfg.server_name : s->cfg.host;
    SSL_set_fd(ssl, fd);
    SSL_set_tlsext_host_name(ssl, name);
    /* the collector's certificate must name it (a host name or an IP address) */
    X509_VERIFY_PARAM *vp = SSL_get0_param(ssl);
    if (X509_VERIFY_PARAM_set1_ip_asc(vp, name) != 1)
        SSL_set1_host(ssl, name);
    if (SSL_connect(ssl) != 1) {
        long v = SSL_get_verify_result(ssl);
        if (v != X509_V_OK)
            snprintf(why, whyn, "TLS: the collector's certificate: %s",
                     X509_verify_cert_error_string(v));
        else
            tls_error(why, whyn, "TLS handshake failed");
        SSL_free(ssl);
        close(fd);
        return -1;
    }
    s->ssl = ssl;
    s->fd = fd;
    s->backoff_ms = 1000;
    pthread_mutex_lock(&s->lock);
    s->st_connects++;
    pthread_mutex_unlock(&s->lock);
    set_state(s, true, "");
    return 0;
}

/* Has the collector closed the connection (or reset it)? */
static bool closed(audit_shipper *s)
{
    struct pollfd p = { .fd = s->fd, .events = POLLIN };
    if (poll(&p, 1, 0) <= 0)
        return false;
    if (p.revents & (POLLERR | POLLHUP))
        return true;
    char b[256];
    int n = SSL_read(s->ssl, b, sizeof b); /* a collector says nothing: data or EOF */
    if (n > 0)
        return false;
    int e = SSL_get_error(s->ssl, n);
    return e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE;
}

typedef struct batch {
    audit_shipper *s;
    rl_buf out;
    uint64_t last;
    unsigned n;
} batch;

/* RFC 5424: <PRI>1 TIMESTAMP HOSTNAME APP-NAME PROCID MSGID SD MSG, PRI 85
 * (facility 10 security/authorization, severity 5 notice, as ITI-20 says),
 * framed "LENGTH SP MESSAGE" (RFC 5425). */
static int frame(void *ctx, const audit_rec *r)
{
    batch *b = ctx;
    char when[40], head[512];
    rl_time_iso(r->time_us, when, sizeof when);
    int hn = snprintf(head, sizeof head, "<85>1 %s %s radlink %ld IHE+RFC-3881 - ", when,
                      b->s->cfg.hostname, (long)getpid());
    rl_buf_printf(&b->out, "%zu ", (size_t)hn + r->xml.n);
    rl_buf_add(&b->out, head, (size_t)hn);
    rl_buf_add_str(&b->out, r->xml);
    b->last = r->seq;
    return ++b->n >= RL_AUDIT_SHIP_BATCH || b->out.len > (1u << 20);
}

/* Write the events after s->sent; 1 when more are waiting. */
static int ship(audit_shipper *s)
{
    batch b = { .s = s };
    rl_buf_init(&b.out, 0);
    store_txn *t;
    rl_err err;
    int rc = store_begin(s->cfg.st, NULL, false, &t, &err);
    if (rc == STORE_OK) {
        rc = audit_each(t, s->sent + 1, frame, &b, &err);
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
    size_t off = 0;
    while (off < b.out.len) {
        int w = SSL_write(s->ssl, b.out.data + off, (int)(b.out.len - off));
        if (w <= 0) {
            char why[200];
            tls_error(why, sizeof why, "write to the collector failed");
            rl_buf_free(&b.out);
            drop(s, why);
            return 0;
        }
        off += (size_t)w;
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
    cmdq_post(s->cfg.q, c);
}

static void *ship_main(void *arg)
{
    audit_shipper *s = arg;
    pthread_mutex_lock(&s->lock);
    while (!s->stopping) {
        pthread_mutex_unlock(&s->lock);
        int64_t now = rl_mono_ms();
        int more = 0;
        if (!s->ssl && now >= s->retry_ms) {
            char why[300] = "";
            if (connect_collector(s, why, sizeof why) != 0) {
                s->retry_ms = now + s->backoff_ms;
                s->backoff_ms = s->backoff_ms < 30000 ? s->backoff_ms * 2 : 30000;
                set_state(s, false, why);
            }
        }
        if (s->ssl && closed(s))
            drop(s, "the collector closed the connection");
        if (s->ssl && s->sent > s->confirmed && now - s->last_write_ms >= RL_AUDIT_CONFIRM_MS)
            confirm(s);
        if (s->ssl)
            more = ship(s);
        /* wait for new events (the loop wakes us), for the moment to
         * confirm what went out, or for the next connection attempt */
        int64_t wait_ms = -1;
        now = rl_mono_ms();
        if (more)
            wait_ms = 0;
        else if (!s->ssl)
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
    if (s->ssl) {
        if (s->sent > s->confirmed && !closed(s))
            confirm(s);
        SSL_shutdown(s->ssl);
        SSL_free(s->ssl);
        close(s->fd);
        s->ssl = NULL;
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
    s->fd = -1;
    s->backoff_ms = 1000;
    if (!s->cfg.hostname[0] && gethostname(s->cfg.hostname, sizeof s->cfg.hostname) != 0)
        snprintf(s->cfg.hostname, sizeof s->cfg.hostname, "-");
    s->ctx = SSL_CTX_new(TLS_client_method());
    if (!s->ctx) {
        free(s);
        return rl_err_set(err, RL_E_NOMEM, -1, "out of memory");
    }
    SSL_CTX_set_min_proto_version(s->ctx, TLS1_2_VERSION);
    SSL_CTX_set_verify(s->ctx, SSL_VERIFY_PEER, NULL);
    int ok = c->ca[0] ? SSL_CTX_load_verify_locations(s->ctx, c->ca, NULL)
                      : SSL_CTX_set_default_verify_paths(s->ctx);
    if (ok == 1 && c->cert[0])
        ok = SSL_CTX_use_certificate_chain_file(s->ctx, c->cert) == 1 &&
             SSL_CTX_use_PrivateKey_file(s->ctx, c->key, SSL_FILETYPE_PEM) == 1 &&
             SSL_CTX_check_private_key(s->ctx) == 1;
    if (ok != 1) {
        char why[200];
        tls_error(why, sizeof why, "TLS files");
        SSL_CTX_free(s->ctx);
        free(s);
        return rl_err_set(err, RL_E_ARG, -1, "<audit><syslog>: %s (ca %s, cert %s)", why,
                          c->ca[0] ? c->ca : "system", c->cert[0] ? c->cert : "none");
    }
    store_txn *t;
    int rc = store_begin(c->st, NULL, false, &t, err);
    if (rc == STORE_OK) {
        rc = audit_shipped(t, &s->confirmed, err);
        store_abort(t);
    }
    if (rc != STORE_OK) {
        SSL_CTX_free(s->ctx);
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
        SSL_CTX_free(s->ctx);
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
    SSL_CTX_free(s->ctx);
    pthread_mutex_destroy(&s->lock);
    pthread_cond_destroy(&s->cond);
    free(s);
}
