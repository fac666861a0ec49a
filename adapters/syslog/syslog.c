/* Syslog over TLS to a collector (RFC 5425 framing of RFC 5424 messages),
 * on the network layer: the connection, its writes, and noticing that the
 * collector went away (radlink/syslog.h). */
#include "radlink/syslog.h"

#include <stdio.h>
#include <stdlib.h>

#include "radlink/net.h"

struct syslog_client {
    char host[256], name[256];
    unsigned port;
    int timeout_ms;
    net_tls_ctx *ctx;
    net_conn conn; /* fd -1: not connected */
};

int syslog_client_new(const syslog_opts *o, syslog_client **out, rl_err *err)
{
    *out = NULL;
    syslog_client *c = calloc(1, sizeof *c);
    if (!c)
        return rl_err_set(err, RL_E_NOMEM, -1, "out of memory");
    snprintf(c->host, sizeof c->host, "%s", o->host);
    snprintf(c->name, sizeof c->name, "%s",
             o->server_name && *o->server_name ? o->server_name : o->host);
    c->port = o->port;
    c->timeout_ms = o->timeout_ms;
    c->conn.fd = -1;
    net_tls_opts t = { .cert = o->cert, .key = o->key, .ca = o->ca };
    if (!(c->ctx = net_tls_client_ctx(&t, err))) {
        free(c);
        return err ? err->code : NET_E_TLS_CONFIG;
    }
    *out = c;
    return 0;
}

/* The handshake, each step within the timeout. */
static int handshake(syslog_client *c, rl_err *err)
{
    rl_err why;
    if (net_tls_start(&c->conn, c->ctx, c->name, &why) != 0)
        return rl_err_set(err, NET_E_TLS, -1, "TLS handshake failed: %s", why.msg);
    int rc;
    int64_t deadline = rl_mono_ms() + c->timeout_ms;
    while ((rc = net_handshake(&c->conn, &why)) == NET_AGAIN)
        if (net_wait(&c->conn, false, deadline, -1) != 0)
            return rl_err_set(err, NET_E_TIMEOUT, -1, "TLS handshake timed out");
    if (rc == 0)
        return 0;
    const char *v = net_tls_verify_error(&c->conn);
    if (v)
        return rl_err_set(err, NET_E_TLS, -1, "TLS: the collector's certificate: %s", v);
    return rl_err_set(err, NET_E_TLS, -1, "TLS handshake failed: %s", why.msg);
}

int syslog_connect(syslog_client *c, rl_err *err)
{
    syslog_disconnect(c);
    rl_err why;
    int fd = -1;
    int rc = net_connect(c->host, c->port, rl_mono_ms() + c->timeout_ms, -1, &fd, &why);
    if (rc == NET_E_RESOLVE)
        return rl_err_set(err, rc, -1, "%s: %s", c->host, why.msg);
    if (rc != 0)
        return rl_err_set(err, rc, -1, "connect: %s", why.msg);
    c->conn = (net_conn){ .fd = fd };
    if ((rc = handshake(c, err)) != 0)
        syslog_disconnect(c);
    return rc;
}

bool syslog_connected(const syslog_client *c)
{
    return c->conn.fd >= 0;
}

int syslog_send(syslog_client *c, const char *data, size_t n, rl_err *err)
{
    rl_err why;
    int64_t deadline = rl_mono_ms() + c->timeout_ms;
    while (n) {
        size_t put = 0;
        int rc = net_write(&c->conn, data, n, &put, &why);
        if (rc == NET_AGAIN) {
            if (net_wait(&c->conn, true, deadline, -1) == 0)
                continue;
            rc = rl_err_set(&why, NET_E_TIMEOUT, -1, "nothing taken for %d ms", c->timeout_ms);
        }
        if (rc != 0)
            return rl_err_set(err, rc, -1, "write to the collector failed: %s", why.msg);
        data += put;
        n -= put;
        deadline = rl_mono_ms() + c->timeout_ms;
    }
    return 0;
}

bool syslog_gone(syslog_client *c)
{
    char b[256];
    size_t got;
    int rc = net_read(&c->conn, b, sizeof b, &got, NULL); /* data or EOF */
    return rc != 0 && rc != NET_AGAIN;
}

void syslog_disconnect(syslog_client *c)
{
    net_close(&c->conn);
}

void syslog_client_free(syslog_client *c)
{
    if (!c)
        return;
    syslog_disconnect(c);
    net_tls_ctx_free(c->ctx);
    free(c);
}

int syslog_frame(rl_buf *out, const syslog_header *h, rl_str msg)
{
    char when[40], head[512];
    rl_time_iso(h->time_us, when, sizeof when);
    /* RFC 5424 6.2: HOSTNAME at most 255 octets, APP-NAME 48, MSGID 32 */
    int hn = snprintf(head, sizeof head, "<%d>1 %s %.255s %.48s %ld %.32s - ", h->pri, when,
                      h->hostname, h->app, h->procid, h->msgid);
    if (hn < 0 || (size_t)hn >= sizeof head)
        return -1;
    size_t mark = out->len;
    if (rl_buf_printf(out, "%zu ", (size_t)hn + msg.n) != 0 ||
        rl_buf_add(out, head, (size_t)hn) != 0 || rl_buf_add_str(out, msg) != 0) {
        out->len = mark; /* all of the message or nothing */
        return -1;
    }
    return 0;
}
