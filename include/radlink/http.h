/* The HTTP listener (adapters/http, on GNU libmicrohttpd): a thread per
 * connection reads requests, plain or over TLS, and hands each to one
 * handler. The
 * adapter owns sockets, TLS and HTTP framing; what a request means is the
 * handler's (engine/web). TLS is the network layer's, with the MLLP
 * listeners' settings (radlink/net.h net_tls_opts): TLS 1.2 or later,
 * optional client certificates signed by a CA.
 *
 * Threads: the handler runs in the connections' threads, several at once; it must
 * be thread-safe. http_start and http_stop from one thread. */
#ifndef RADLINK_HTTP_H
#define RADLINK_HTTP_H

#include <stdbool.h>
#include <stddef.h>

#include "radlink/err.h"
#include "radlink/net.h"
#include "radlink/util.h"

/* One request. Every pointer is valid during the handler's call only. */
typedef struct http_req {
    const char *method; /* "GET", "POST", ... */
    const char *path;   /* URL-decoded, without the query */
    char peer[64];      /* "ip:port" of the client */
    bool tls;
    rl_str body;        /* the whole body (at most RL_HTTP_BODY_MAX bytes) */
    void *conn;         /* private to the adapter */
} http_req;

/* A request header's value, or NULL. */
const char *http_header(const http_req *r, const char *name);
/* A query string argument, decoded, or NULL. */
const char *http_query(const http_req *r, const char *name);
/* A cookie of the request into out; its length, or -1 (absent or too long). */
int http_cookie(const http_req *r, const char *name, char *out, size_t n);

/* The answer a handler fills: status, content type, extra header lines
 * ("Name: value\r\n" each, in headers) and the body. The adapter sends it
 * with a Content-Length after the handler returns. */
typedef struct http_resp {
    int status;
    const char *content_type;
    rl_buf headers;
    rl_buf body;
} http_resp;

typedef void (*http_handler)(void *ctx, const http_req *req, http_resp *resp);

typedef struct http_opts {
    const char *bind;          /* an IPv4 address, or an IPv6 one */
    unsigned port;
    const net_tls_opts *tls;   /* NULL: plain HTTP */
    unsigned max_connections;  /* at once (a thread each); more wait or are refused */
    unsigned request_timeout_ms;
    size_t body_max;           /* larger bodies are answered 413, unread */
    /* Connections wait, costing no thread, until their first request's
     * headers (over TLS: their ClientHello) are in: at most max_connections
     * of them, the oldest closed for a new one; over half full they get
     * stress_timeout_ms instead of request_timeout_ms (radlink/net.h, the
     * gate). allow: allow-from (NULL: every address); denied(ctx, ip): a
     * connection it refused, once per address a minute. */
    unsigned stress_timeout_ms;
    const cidr_list *allow;
    void (*denied)(void *ctx, const char *ip);
    void *denied_ctx;
} http_opts;

typedef struct http_server http_server;

/* Listen and serve; h(ctx, ...) answers every request. Returns 0, or
 * HTTP_E_START with the reason (the address in use, a TLS file) in err. */
int http_start(const http_opts *o, http_handler h, void *ctx, http_server **out, rl_err *err);
/* The gate's counts (waiting, evicted, denied, ...). */
void http_gate_stats(http_server *s, net_gate_stats *st);
/* Stop listening, finish the requests being served, free. NULL is fine. */
void http_stop(http_server *s);
/* The port the listener bound (the one the system picked for port 0). */
unsigned http_port(const http_server *s);

#endif
