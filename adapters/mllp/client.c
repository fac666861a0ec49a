/* The MLLP client: connect (plain or TLS) with a timeout, send a framed
 * message, wait for one framed reply. Blocking from the caller's view; built
 * on the network layer's non-blocking connection and its waits, so every
 * step honours the timeout and the cancel descriptor. */
#include <stdio.h>
#include <stdlib.h>

#include "mllp_internal.h"

struct mllp_client {
    net_conn io;
    net_tls_ctx *ctx;
    mllp_decoder dec;
    int cancel_fd;
    char peer[300];
};

/* The MLLP code for a failed wait or connect. */
static int mllp_code(int net_rc)
{
    return net_rc == NET_E_CANCELLED ? MLLP_E_CANCELLED
           : net_rc == NET_E_TIMEOUT ? MLLP_E_TIMEOUT
                                     : MLLP_E_IO;
}

/* TLS on the connected socket, the handshake done before deadline. */
static int start_tls(mllp_client *c, const char *host, const net_tls_opts *tls, int64_t deadline,
                     rl_err *err)
{
    rl_err why;
    if (!(c->ctx = net_tls_client_ctx(tls, &why)))
        return rl_err_set(err, MLLP_E_CONFIG, -1, "%s", why.msg);
    if (net_tls_start(&c->io, c->ctx, tls->server_name ? tls->server_name : host, &why) != 0)
        return rl_err_set(err, MLLP_E_TLS, -1, "%s: TLS handshake failed: %s", c->peer, why.msg);
    int h;
    while ((h = net_handshake(&c->io, &why)) == NET_AGAIN) {
        int w = net_wait(&c->io, false, deadline, c->cancel_fd);
        if (w == NET_E_CANCELLED)
            return rl_err_set(err, MLLP_E_CANCELLED, -1, "%s: cancelled", c->peer);
        if (w != 0)
            return rl_err_set(err, MLLP_E_TIMEOUT, -1, "%s: TLS handshake timed out", c->peer);
    }
    if (h != 0) {
        const char *v = net_tls_verify_error(&c->io);
        return rl_err_set(err, MLLP_E_TLS, -1, "%s: TLS handshake failed: %s%s%s", c->peer,
                          why.msg, v ? ": " : "", v ? v : "");
    }
    return 0;
}

int mllp_client_open(const char *host, unsigned port, const net_tls_opts *tls, int timeout_ms,
                     int cancel_fd, mllp_client **out, rl_err *err)
{
    int64_t deadline = rl_mono_ms() + timeout_ms;
    mllp_client *c = calloc(1, sizeof *c);
    if (!c)
        return rl_err_set(err, MLLP_E_IO, -1, "out of memory");
    c->io.fd = -1;
    c->cancel_fd = cancel_fd;
    snprintf(c->peer, sizeof c->peer, "%s:%u", host, port);
    /* an ACK, or a reply from a peer radlink forwards to: at most the
     * largest frame radlink itself could be configured to take */
    mllp_decoder_init(&c->dec, RL_MAX_FRAME_CEILING);
    rl_err why;
    int rc = net_connect(host, port, deadline, cancel_fd, &c->io.fd, &why);
    if (rc != 0)
        rc = rl_err_set(err, mllp_code(rc), -1, "%s:%u: %s", host, port, why.msg);
    if (rc == 0 && tls)
        rc = start_tls(c, host, tls, deadline, err);
    if (rc) {
        mllp_client_close(c);
        return rc;
    }
    *out = c;
    return 0;
}

/* Write all of out before deadline. */
static int send_all(mllp_client *c, const rl_buf *out, int64_t deadline, rl_err *err)
{
    rl_err why;
    size_t sent = 0;
    while (sent < out->len) {
        size_t n = 0;
        int rc = net_write(&c->io, out->data + sent, out->len - sent, &n, &why);
        if (rc == 0) {
            sent += n;
        } else if (rc == NET_AGAIN) {
            /* TLS may need to read before it can write */
            int w = net_wait(&c->io, true, deadline, c->cancel_fd);
            if (w == NET_E_CANCELLED)
                return rl_err_set(err, MLLP_E_CANCELLED, -1, "%s: cancelled", c->peer);
            if (w != 0)
                return rl_err_set(err, MLLP_E_TIMEOUT, -1, "%s: send timed out", c->peer);
        } else {
            return rl_err_set(err, MLLP_E_IO, -1, "%s: send failed: %s", c->peer, why.msg);
        }
    }
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
    int rc = send_all(c, &out, deadline, err);
    rl_buf_free(&out);
    char buf[MLLP_READ_CHUNK];
    rl_err why;
    while (rc == 0) {
        size_t n = 0;
        int r = net_read(&c->io, buf, sizeof buf, &n, &why);
        if (r == NET_AGAIN) {
            int w = net_wait(&c->io, false, deadline, c->cancel_fd);
            if (w == NET_E_CANCELLED)
                rc = rl_err_set(err, MLLP_E_CANCELLED, -1, "%s: cancelled", c->peer);
            else if (w != 0)
                rc = rl_err_set(err, MLLP_E_TIMEOUT, -1, "%s: no ACK within %d ms", c->peer,
                                timeout_ms);
            continue;
        }
        if (r == NET_EOF)
            return rl_err_set(err, MLLP_E_CLOSED, -1, "%s: connection closed before the ACK",
                              c->peer);
        if (r != 0)
            return rl_err_set(err, MLLP_E_IO, -1, "%s: receive failed: %s", c->peer, why.msg);
        size_t off = 0;
        while (off < n) {
            size_t used;
            int f = mllp_decoder_feed(&c->dec, buf + off, n - off, &used);
            off += used;
            if (f == MLLP_FRAME) {
                rl_buf_add_str(reply, rl_buf_view(&c->dec.frame));
                /* bytes after the reply would belong to a later exchange: keep
                 * none (MLLP is one reply per message) */
                return 0;
            }
            if (f != MLLP_AGAIN)
                return rl_err_set(err, MLLP_E_IO, -1, "%s: malformed MLLP reply", c->peer);
        }
    }
    return rc;
}

void mllp_client_close(mllp_client *c)
{
    if (!c)
        return;
    net_close(&c->io);
    net_tls_ctx_free(c->ctx);
    mllp_decoder_free(&c->dec);
    free(c);
}
