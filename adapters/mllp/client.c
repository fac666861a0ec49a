/* The MLLP client: connect (plain or TLS) with a timeout, send a framed
 * message, wait for one framed reply. Blocking from the caller's view; built
 * on a non-blocking socket and poll so every step honours the timeout. */
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "mllp_internal.h"

struct mllp_client {
    mllp_io io;
    SSL_CTX *ctx;
    mllp_decoder dec;
    int cancel_fd;
    char peer[300];
};

#define WAIT_CANCELLED (-2)

/* Wait for fd to become readable or writable before deadline_ms: 1 ready,
 * 0 timed out, WAIT_CANCELLED when cancel_fd (if >= 0) became readable. */
static int wait_fd(int fd, bool write, int64_t deadline_ms, int cancel_fd)
{
    int64_t left = deadline_ms - rl_mono_ms();
    if (left <= 0)
        return 0;
    struct pollfd p[2] = { { .fd = fd, .events = (short)(write ? POLLOUT : POLLIN) },
                           { .fd = cancel_fd, .events = POLLIN } };
    int r;
    do
        r = poll(p, cancel_fd >= 0 ? 2 : 1, (int)left);
    while (r < 0 && errno == EINTR);
    if (r > 0 && cancel_fd >= 0 && (p[1].revents & POLLIN))
        return WAIT_CANCELLED;
    return r > 0 ? 1 : r;
}

static int connect_tcp(const char *host, unsigned port, int64_t deadline, int cancel_fd, int *out,
                       rl_err *err)
{
    char ps[16];
    snprintf(ps, sizeof ps, "%u", port);
    struct addrinfo hints = { .ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICSERV };
    struct addrinfo *ai = NULL;
    int g = getaddrinfo(host, ps, &hints, &ai);
    if (g != 0)
        return rl_err_set(err, MLLP_E_IO, -1, "%s:%u: %s", host, port, gai_strerror(g));
    int rc = MLLP_E_IO, last = 0;
    for (struct addrinfo *a = ai; a; a = a->ai_next) {
        int fd = socket(a->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (fd < 0)
            continue;
        if (connect(fd, a->ai_addr, a->ai_addrlen) != 0 && errno != EINPROGRESS) {
            last = errno;
            close(fd);
            continue;
        }
        int w = wait_fd(fd, true, deadline, cancel_fd);
        if (w <= 0) {
            close(fd);
            freeaddrinfo(ai);
            return w == WAIT_CANCELLED
                       ? rl_err_set(err, MLLP_E_CANCELLED, -1, "%s:%u: cancelled", host, port)
                       : rl_err_set(err, MLLP_E_TIMEOUT, -1, "%s:%u: connection timed out", host,
                                    port);
        }
        int soerr = 0;
        socklen_t sl = sizeof soerr;
        getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl);
        if (soerr) {
            last = soerr;
            close(fd);
            continue;
        }
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        *out = fd;
        rc = 0;
        break;
    }
    freeaddrinfo(ai);
    if (rc)
        return rl_err_set(err, MLLP_E_IO, -1, "%s:%u: %s", host, port,
                          last ? strerror(last) : "cannot connect");
    return 0;
}

int mllp_client_open(const char *host, unsigned port, const mllp_tls_opts *tls, int timeout_ms,
                     int cancel_fd, mllp_client **out, rl_err *err)
{
    int64_t deadline = rl_mono_ms() + timeout_ms;
    mllp_client *c = calloc(1, sizeof *c);
    if (!c)
        return rl_err_set(err, MLLP_E_IO, -1, "out of memory");
    c->io.fd = -1;
    c->cancel_fd = cancel_fd;
    snprintf(c->peer, sizeof c->peer, "%s:%u", host, port);
    mllp_decoder_init(&c->dec, 256u << 20);
    int rc = connect_tcp(host, port, deadline, cancel_fd, &c->io.fd, err);
    if (rc == 0 && tls) {
        if (!(c->ctx = mllp_tls_ctx(tls, false, err)))
            rc = MLLP_E_CONFIG;
        if (rc == 0) {
            c->io.ssl = SSL_new(c->ctx);
            SSL_set_fd(c->io.ssl, c->io.fd);
            const char *name = tls->server_name ? tls->server_name : host;
            SSL_set_tlsext_host_name(c->io.ssl, name);
            SSL_set1_host(c->io.ssl, name);
            char why[256] = "";
            int h;
            while ((h = mllp_io_handshake(&c->io, false, why, sizeof why)) == 0) {
                int w = wait_fd(c->io.fd, c->io.want_write, deadline, cancel_fd);
                if (w <= 0) {
                    rc = w == WAIT_CANCELLED
                             ? rl_err_set(err, MLLP_E_CANCELLED, -1, "%s: cancelled", c->peer)
                             : rl_err_set(err, MLLP_E_TIMEOUT, -1, "%s: TLS handshake timed out",
                                          c->peer);
                    break;
                }
            }
            if (h < 0) {
                long v = SSL_get_verify_result(c->io.ssl);
                rc = rl_err_set(err, MLLP_E_TLS, -1, "%s: TLS handshake failed: %s%s%s", c->peer,
                                why, v != X509_V_OK ? ": " : "",
                                v != X509_V_OK ? X509_verify_cert_error_string(v) : "");
            }
        }
    }
    if (rc) {
        mllp_client_close(c);
        return rc;
    }
    *out = c;
    return 0;
}

int mllp_client_exchange(mllp_client *c, rl_str msg, rl_buf *reply, int timeout_ms, rl_err *err)
{
    int64_t deadline = rl_mono_ms() + timeout_ms;
    rl_buf out;
    rl_buf_init(&out, 0);
    if (mllp_wrap(&out, msg) != 0) {
        rl_buf_free(&out);
        return rl_err_set(err, MLLP_E_IO, -1, "out of memory");
    }
    char why[256] = "";
    size_t sent = 0;
    int rc = 0;
    while (sent < out.len && rc == 0) {
        long n = mllp_io_write(&c->io, out.data + sent, out.len - sent, why, sizeof why);
        if (n > 0)
            sent += (size_t)n;
        else if (n == IO_AGAIN) {
            /* TLS may need to read before it can write */
            bool want_write = c->io.ssl ? c->io.want_write : true;
            int w = wait_fd(c->io.fd, want_write, deadline, c->cancel_fd);
            if (w == WAIT_CANCELLED)
                rc = rl_err_set(err, MLLP_E_CANCELLED, -1, "%s: cancelled", c->peer);
            else if (w <= 0)
                rc = rl_err_set(err, MLLP_E_TIMEOUT, -1, "%s: send timed out", c->peer);
        } else
            rc = rl_err_set(err, MLLP_E_IO, -1, "%s: send failed: %s", c->peer, why);
    }
    rl_buf_free(&out);
    char buf[65536];
    while (rc == 0) {
        long n = mllp_io_read(&c->io, buf, sizeof buf, why, sizeof why);
        if (n == IO_AGAIN) {
            int w = wait_fd(c->io.fd, c->io.want_write, deadline, c->cancel_fd);
            if (w == WAIT_CANCELLED)
                rc = rl_err_set(err, MLLP_E_CANCELLED, -1, "%s: cancelled", c->peer);
            else if (w <= 0)
                rc = rl_err_set(err, MLLP_E_TIMEOUT, -1, "%s: no ACK within %d ms", c->peer,
                                timeout_ms);
            continue;
        }
        if (n == IO_EOF)
            return rl_err_set(err, MLLP_E_CLOSED, -1, "%s: connection closed before the ACK",
                              c->peer);
        if (n < 0)
            return rl_err_set(err, MLLP_E_IO, -1, "%s: receive failed: %s", c->peer, why);
        size_t off = 0;
        while (off < (size_t)n) {
            size_t used;
            int r = mllp_decoder_feed(&c->dec, buf + off, (size_t)n - off, &used);
            off += used;
            if (r == MLLP_FRAME) {
                rl_buf_add_str(reply, rl_buf_view(&c->dec.frame));
                /* bytes after the reply would belong to a later exchange: keep
                 * none (MLLP is one reply per message) */
                return 0;
            }
            if (r != MLLP_AGAIN)
                return rl_err_set(err, MLLP_E_IO, -1, "%s: malformed MLLP reply", c->peer);
        }
    }
    return rc;
}

void mllp_client_close(mllp_client *c)
{
    if (!c)
        return;
    mllp_io_close(&c->io);
    SSL_CTX_free(c->ctx);
    mllp_decoder_free(&c->dec);
    free(c);
}
