/* The HTTP listener on GNU libmicrohttpd: it parses HTTP/1.1 (keep-alive,
 * chunked bodies, timeouts, a thread per connection); this file turns each
 * request into an http_req, calls the handler and sends its answer.
 *
 * Connections are accepted by the network layer's gate (radlink/net.h),
 * which holds each, costing no thread, until its first request's headers
 * (over TLS: its ClientHello) are in, and hands it to libmicrohttpd
 * (MHD_add_connection): a host holding silent connections takes no thread
 * from the console's users.
 *
 * HTTPS: libmicrohttpd's own TLS is GnuTLS, with other settings than the
 * MLLP and DICOM listeners. So TLS is the network layer's (radlink/net.h:
 * OpenSSL, the MLLP listeners' settings, same certificate files, TLS 1.2+,
 * client certificates checked by OpenSSL): a relay thread per connection
 * the gate hands over does the handshake and carries the plain bytes over
 * a socket pair to libmicrohttpd (MHD_add_connection, with the client's
 * real address). */
#include "radlink/http.h"

#include <errno.h>
#include <fcntl.h>
#include <microhttpd.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include "radlink/limits.h"
#include "radlink/log.h"
#include "radlink/net.h"


struct http_server {
    struct MHD_Daemon *d;
    unsigned port; /* the port bound (the one picked for port 0) */
    http_handler h;
    void *ctx;
    size_t body_max;
    bool tls;
    int listen_fd;
    /* HTTPS */
    net_tls_ctx *ssl;
    int stop_fd;   /* eventfd: readable when stopping */
    net_gate *gate;
    void (*denied)(void *ctx, const char *ip); /* http_opts' */
    void *denied_ctx;
    pthread_mutex_t lock;
    pthread_cond_t idle;
    unsigned relays;
    unsigned timeout_ms;
    unsigned max_connections;
    char last_error[256]; /* libmicrohttpd's last message (why a start failed) */
};

/* A request's body, gathered over the access handler's calls. */
typedef struct pending_req {
    char *body;
    size_t n;
    bool too_big;
} pending_req;

const char *http_header(const http_req *r, const char *name)
{
    return MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, name);
}

const char *http_query(const http_req *r, const char *name)
{
    return MHD_lookup_connection_value(r->conn, MHD_GET_ARGUMENT_KIND, name);
}

int http_cookie(const http_req *r, const char *name, char *out, size_t n)
{
    const char *v = MHD_lookup_connection_value(r->conn, MHD_COOKIE_KIND, name);
    if (!v || strlen(v) >= n)
        return -1;
    snprintf(out, n, "%s", v);
    return (int)strlen(out);
}

static void on_log(void *cls, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));

static void on_log(void *cls, const char *fmt, va_list ap)
{
    http_server *s = cls;
    char text[256];
    vsnprintf(text, sizeof text, fmt, ap);
    text[strcspn(text, "\n")] = '\0';
    snprintf(s->last_error, sizeof s->last_error, "%s", text);
    log_debug("http.server", "text=\"%s\"", text);
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **req_cls,
                         enum MHD_RequestTerminationCode toe)
{
    (void)cls;
    (void)conn;
    (void)toe;
    pending_req *p = *req_cls;
    if (p) {
        free(p->body);
        free(p);
        *req_cls = NULL;
    }
}

static enum MHD_Result send_resp(struct MHD_Connection *conn, http_resp *resp)
{
    struct MHD_Response *r = MHD_create_response_from_buffer(
        resp->body.len, resp->body.data ? resp->body.data : "", MHD_RESPMEM_MUST_COPY);
    if (!r)
        return MHD_NO;
    MHD_add_response_header(r, "Content-Type",
                            resp->content_type ? resp->content_type
                                               : "text/plain; charset=utf-8");
    /* the handler's header lines: "Name: value\r\n" each */
    const char *p = resp->headers.len ? rl_buf_cstr(&resp->headers) : "";
    while (*p) {
        size_t n = strcspn(p, "\r\n");
        const char *colon = memchr(p, ':', n);
        if (colon) {
            char name[128], value[2048];
            snprintf(name, sizeof name, "%.*s", (int)(colon - p), p);
            const char *v = colon + 1;
            while (*v == ' ')
                v++;
            snprintf(value, sizeof value, "%.*s", (int)(p + n - v), v);
            MHD_add_response_header(r, name, value);
        }
        p += n;
        while (*p == '\r' || *p == '\n')
            p++;
    }
    enum MHD_Result ok = MHD_queue_response(conn, (unsigned)resp->status, r);
    MHD_destroy_response(r);
    return ok;
}

static enum MHD_Result refuse(struct MHD_Connection *conn, int status, const char *text)
{
    http_resp resp = { .status = status };
    rl_buf_init(&resp.headers, 0);
    rl_buf_init(&resp.body, 0);
    rl_buf_printf(&resp.body, "%s\n", text);
    rl_buf_add_c(&resp.headers, "Connection: close\r\n");
    enum MHD_Result ok = send_resp(conn, &resp);
    rl_buf_free(&resp.headers);
    rl_buf_free(&resp.body);
    return ok;
}

static enum MHD_Result on_access(void *cls, struct MHD_Connection *conn, const char *url,
                                 const char *method, const char *version,
                                 const char *upload_data, size_t *upload_data_size,
                                 void **req_cls)
{
    (void)version;
    http_server *s = cls;
    pending_req *p = *req_cls;
    if (!p) { /* the headers are in: the body (if any) follows in later calls */
        if (!(p = calloc(1, sizeof *p)))
            return MHD_NO;
        *req_cls = p;
        const char *cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Content-Length");
        if (cl && strtoull(cl, NULL, 10) > s->body_max)
            p->too_big = true;
        return MHD_YES;
    }
    if (*upload_data_size) {
        if (!p->too_big && p->n + *upload_data_size <= s->body_max) {
            char *b = realloc(p->body, p->n + *upload_data_size + 1);
            if (!b)
                return MHD_NO;
            memcpy(b + p->n, upload_data, *upload_data_size);
            p->body = b;
            p->n += *upload_data_size;
        } else {
            p->too_big = true;
        }
        *upload_data_size = 0;
        return MHD_YES;
    }
    if (p->too_big)
        return refuse(conn, 413, "request body too large");
    http_req req = { .method = method, .path = url, .tls = s->tls,
                     .body = { p->body ? p->body : "", p->n }, .conn = conn };
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    if (ci && ci->client_addr)
        net_addr_str(ci->client_addr, req.peer, sizeof req.peer);
    http_resp resp = { .status = 200 };
    rl_buf_init(&resp.headers, 16 * 1024);
    rl_buf_init(&resp.body, 0);
    s->h(s->ctx, &req, &resp);
    enum MHD_Result ok = send_resp(conn, &resp);
    rl_buf_free(&resp.headers);
    rl_buf_free(&resp.body);
    return ok;
}

/* ---- HTTPS: OpenSSL in front of libmicrohttpd ---- */

typedef struct relay {
    http_server *s;
    net_conn c;    /* the client's connection, TLS once the handshake is done */
    net_addr peer; /* its address, for libmicrohttpd and the log */
} relay;

/* Write all of buf to a blocking socket; false when it is gone. */
static bool write_all(int fd, const char *buf, size_t n)
{
    while (n) {
        ssize_t w = send(fd, buf, n, MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return false;
        buf += w;
        n -= (size_t)w;
    }
    return true;
}

/* Write all of buf to the TLS client; false when it is gone, when the
 * listener stops, or when it took no byte for the request timeout. */
static bool tls_write_all(http_server *s, net_conn *c, const char *buf, size_t n)
{
    int64_t deadline = rl_mono_ms() + s->timeout_ms;
    while (n) {
        size_t put = 0;
        int rc = net_write(c, buf, n, &put, NULL);
        if (rc == NET_AGAIN) {
            if (net_wait(c, true, deadline, s->stop_fd) != 0)
                return false;
            continue;
        }
        if (rc != 0)
            return false;
        buf += put;
        n -= put;
        deadline = rl_mono_ms() + s->timeout_ms;
    }
    return true;
}

/* The TLS handshake, bounded by the request timeout: 0, or the reason in
 * err (NET_E_CANCELLED: the listener is stopping). */
static int handshake(http_server *s, net_conn *c, rl_err *err)
{
    int64_t deadline = rl_mono_ms() + s->timeout_ms;
    if (net_tls_start(c, s->ssl, NULL, err) != 0)
        return err->code;
    for (;;) {
        int rc = net_handshake(c, err);
        if (rc != NET_AGAIN)
            return rc;
        int w = net_wait(c, false, deadline, s->stop_fd);
        if (w == NET_E_CANCELLED)
            return rl_err_set(err, w, -1, "the listener is stopping");
        if (w != 0)
            return rl_err_set(err, NET_E_TIMEOUT, -1, "TLS handshake timed out");
    }
}

/* Carry the bytes both ways until either side closes or the listener
 * stops; idle connections are libmicrohttpd's to time out: it closes its
 * end. */
static void relay_loop(http_server *s, net_conn *c, int sp)
{
    char buf[16384];
    for (;;) {
        struct pollfd pf[3] = { { c->fd, (short)(c->want_write ? POLLOUT : POLLIN), 0 },
                                { sp, POLLIN, 0 }, { s->stop_fd, POLLIN, 0 } };
        if (poll(pf, 3, -1) < 0) {
            if (errno == EINTR)
                continue;
            return;
        }
        if (pf[2].revents)
            return;
        /* everything TLS holds, so that no decrypted byte waits in it unseen */
        while (pf[0].revents) {
            size_t got = 0;
            int rc = net_read(c, buf, sizeof buf, &got, NULL);
            if (rc == NET_AGAIN)
                break;
            if (rc != 0 || !write_all(sp, buf, got))
                return;
        }
        if (pf[1].revents) {
            ssize_t n = recv(sp, buf, sizeof buf, 0);
            if (n <= 0 || !tls_write_all(s, c, buf, (size_t)n))
                return;
        }
    }
}

static void relay_end(http_server *s)
{
    pthread_mutex_lock(&s->lock);
    if (--s->relays == 0)
        pthread_cond_broadcast(&s->idle);
    pthread_mutex_unlock(&s->lock);
}

static void *relay_main(void *arg)
{
    relay *r = arg;
    http_server *s = r->s;
    int sp[2] = { -1, -1 };
    rl_err err;
    int rc = handshake(s, &r->c, &err);
    if (rc != 0) {
        if (rc != NET_E_CANCELLED)
            log_warn("http.tls_failed", "peer=%s error=\"%s\"", r->peer.text, err.msg);
        goto out;
    }
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp) != 0) {
        sp[0] = sp[1] = -1;
        goto out;
    }
    if (MHD_add_connection(s->d, sp[1], (const struct sockaddr *)r->peer.sa, r->peer.len) !=
        MHD_YES) {
        sp[1] = -1; /* closed by libmicrohttpd */
        goto out;
    }
    sp[1] = -1; /* libmicrohttpd's now */
    relay_loop(s, &r->c, sp[0]);
out:
    net_close(&r->c);
    if (sp[0] >= 0)
        close(sp[0]);
    if (sp[1] >= 0)
        close(sp[1]);
    free(r);
    relay_end(s);
    return NULL;
}

/* A connection refused for max-connections: at most a line a second (the
 * gate's thread only). */
static void refused_log(const net_addr *peer, unsigned max)
{
    static int64_t last_ms;
    static unsigned long quiet;
    int64_t now = rl_mono_ms();
    if (now - last_ms < RL_REPEATED_ERROR_LOG_MS) {
        quiet++;
        return;
    }
    log_warn("http.refused", "peer=%s reason=\"%u connections already\" repeated=%lu", peer->text,
             max, quiet);
    last_ms = now;
    quiet = 0;
}

/* The gate's thread: a connection whose first request (or ClientHello)
 * is in. */
static void take(void *ctx, int fd, const net_addr *peer)
{
    http_server *s = ctx;
    if (!s->tls) {
        if (MHD_add_connection(s->d, fd, (const struct sockaddr *)peer->sa, peer->len) !=
            MHD_YES)
            refused_log(peer, s->max_connections); /* libmicrohttpd closed it */
        return;
    }
    relay *r = calloc(1, sizeof *r);
    if (!r) {
        close(fd);
        return;
    }
    r->s = s;
    r->peer = *peer;
    r->c = (net_conn){ .fd = fd };
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK); /* the relay's TLS is non-blocking */
    pthread_mutex_lock(&s->lock);
    bool room = s->relays < s->max_connections;
    s->relays += room;
    pthread_mutex_unlock(&s->lock);
    pthread_t th;
    if (!room || pthread_create(&th, NULL, relay_main, r) != 0) {
        if (room)
            relay_end(s);
        refused_log(peer, s->max_connections);
        close(fd);
        free(r);
        return;
    }
    pthread_detach(th);
}

static void denied(void *ctx, const char *ip)
{
    http_server *s = ctx;
    if (s->denied)
        s->denied(s->denied_ctx, ip);
}

/* The first request's headers are in. */
static net_gate_verdict look_plain(const unsigned char *b, size_t n)
{
    if (b[0] < 'A' || b[0] > 'Z')
        return NET_GATE_REFUSE; /* no HTTP method starts otherwise */
    for (size_t i = 3; i < n; i++)
        if (b[i] == '\n' && b[i - 1] == '\r' && b[i - 2] == '\n' && b[i - 3] == '\r')
            return NET_GATE_READY;
    return NET_GATE_MORE;
}

void http_gate_stats(http_server *s, net_gate_stats *st)
{
    memset(st, 0, sizeof *st);
    if (s && s->gate)
        net_gate_stats_get(s->gate, st);
}

int http_start(const http_opts *o, http_handler h, void *ctx, http_server **out, rl_err *err)
{
    *out = NULL;
    http_server *s = calloc(1, sizeof *s);
    if (!s)
        return rl_err_set(err, RL_E_NOMEM, -1, "out of memory");
    s->h = h;
    s->ctx = ctx;
    s->body_max = o->body_max;
    s->tls = o->tls != NULL;
    s->timeout_ms = o->request_timeout_ms;
    s->max_connections = o->max_connections ? o->max_connections : 1;
    s->stop_fd = -1;
    pthread_mutex_init(&s->lock, NULL);
    pthread_cond_init(&s->idle, NULL);
    if (net_listen("http listener", o->bind, o->port, &s->listen_fd, &s->port, err) != 0) {
        char why[sizeof err->msg];
        snprintf(why, sizeof why, "%s", err->msg);
        s->listen_fd = -1;
        http_stop(s);
        return rl_err_set(err, HTTP_E_START, -1, "%s", why);
    }
    /* the gate takes the connections and hands them over */
    /* poll(), not select(): a connection's descriptor may be past 1,024 */
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION |
                     MHD_USE_POLL | MHD_USE_ERROR_LOG | MHD_USE_ITC | MHD_USE_NO_LISTEN_SOCKET;
    if (s->tls && !(s->ssl = net_tls_server_ctx(o->tls, err))) {
        http_stop(s);
        return err->code;
    }
    s->d = MHD_start_daemon(flags, 0, NULL, NULL, on_access, s,
                            MHD_OPTION_EXTERNAL_LOGGER, on_log, s,
                            MHD_OPTION_NOTIFY_COMPLETED, on_completed, s,
                            MHD_OPTION_CONNECTION_LIMIT, s->max_connections,
                            MHD_OPTION_CONNECTION_TIMEOUT,
                            (unsigned)((o->request_timeout_ms + 999) / 1000),
                            MHD_OPTION_END);
    if (!s->d) {
        rl_err_set(err, HTTP_E_START, -1, "http listener %s:%u: %s", o->bind, o->port,
                   s->last_error[0] ? s->last_error : "libmicrohttpd did not start");
        http_stop(s);
        return HTTP_E_START;
    }
    if ((s->stop_fd = eventfd(0, EFD_CLOEXEC)) < 0) {
        http_stop(s);
        return rl_err_set(err, HTTP_E_START, -1, "http listener: no eventfd");
    }
    net_gate_opts go = { .name = s->tls ? "https" : "http", .listen_fd = s->listen_fd,
                         .max_waiting = s->max_connections,
                         .max_per_address = s->max_connections / 4 ? s->max_connections / 4 : 1,
                         .timeout_ms = o->request_timeout_ms,
                         .stress_timeout_ms = o->stress_timeout_ms ? o->stress_timeout_ms
                                                                   : o->request_timeout_ms,
                         .allow = o->allow, .look = s->tls ? net_gate_look_tls : look_plain,
                         .take = take, .denied = denied, .ctx = s };
    s->denied = o->denied;
    s->denied_ctx = o->denied_ctx;
    s->listen_fd = -1; /* the gate's now, closed by it even when it does not start */
    if (net_gate_start(&go, &s->gate, err) != 0) {
        char why[sizeof err->msg];
        snprintf(why, sizeof why, "%s", err->msg);
        http_stop(s);
        return rl_err_set(err, HTTP_E_START, -1, "%s", why);
    }
    *out = s;
    return 0;
}

unsigned http_port(const http_server *s)
{
    return s ? s->port : 0;
}

void http_stop(http_server *s)
{
    if (!s)
        return;
    if (s->stop_fd >= 0) {
        uint64_t one = 1;
        if (write(s->stop_fd, &one, sizeof one) < 0) { /* an eventfd write does not fail */
        }
    }
    net_gate_free(s->gate); /* no connection is handed over after this */
    /* relays end on the stop event; wait for them before the daemon goes */
    pthread_mutex_lock(&s->lock);
    while (s->relays)
        pthread_cond_wait(&s->idle, &s->lock);
    pthread_mutex_unlock(&s->lock);
    if (s->d)
        MHD_stop_daemon(s->d);
    if (s->listen_fd >= 0)
        close(s->listen_fd);
    if (s->stop_fd >= 0)
        close(s->stop_fd);
    net_tls_ctx_free(s->ssl);
    pthread_mutex_destroy(&s->lock);
    pthread_cond_destroy(&s->idle);
    free(s);
}
