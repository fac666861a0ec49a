/* The HTTP listener's side of the engine: which path is what, and the
 * answers every page shares. /healthz, /readyz and /metrics are open (a load
 * balancer, a cluster manager and Prometheus hold no account; no patient
 * data is in them); the API needs a session (auth.c), and the console's
 * page and assets hold no data (they ask the API). */
#include "web.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../serve/engine.h"
#include "radlink/ctlsock.h"
#include "radlink/limits.h"
#include "radlink/log.h"

static void healthz(web_call *c)
{
    web_text(c, 200, "ok\n");
}

/* Ready: the engine serves (listeners up, routes loaded), its loop answers
 * and its store reads. 503 otherwise, with what is wrong. */
static void readyz(web_call *c)
{
    if (!__atomic_load_n(&c->w->ready, __ATOMIC_ACQUIRE)) {
        web_text(c, 503, "not ready: the engine is starting or stopping\n");
        return;
    }
    char *req[] = { "health" };
    int status = 1;
    rl_buf out;
    rl_buf_init(&out, RL_CTL_REPLY_MAX);
    int rc = web_ctl(c->w, 1, req, &status, &out);
    c->resp->status = rc == 0 && status == 0 ? 200 : 503;
    c->resp->content_type = "text/plain; charset=utf-8";
    rl_buf_printf(&c->resp->body, "%s\n", c->resp->status == 200 ? "ready" : "not ready");
    rl_buf_add_str(&c->resp->body, rl_buf_view(&out));
    rl_buf_free(&out);
}

static void on_request(void *ctx, const http_req *req, http_resp *resp)
{
    web_call c = { .w = ctx, .req = req, .resp = resp };
    /* no page of the engine is cached, framed, sniffed or referred */
    rl_buf_add_c(&resp->headers, "Cache-Control: no-store\r\n"
                                 "X-Content-Type-Options: nosniff\r\n"
                                 "X-Frame-Options: DENY\r\n"
                                 "Referrer-Policy: no-referrer\r\n");
    bool get = strcmp(req->method, "GET") == 0 || strcmp(req->method, "HEAD") == 0;
    if (strcmp(req->path, "/healthz") == 0 && get)
        healthz(&c);
    else if (strcmp(req->path, "/readyz") == 0 && get)
        readyz(&c);
    else if (strcmp(req->path, "/metrics") == 0 && get)
        web_metrics(&c);
    else if (!web_api(&c) && !web_console(&c))
        web_text(&c, 404, "no such page: %s\n", req->path);
}

/* A connection allow-from refused (the gate's thread, once per address a
 * minute): a security alert in the audit trail. */
static void denied(void *ctx, const char *ip)
{
    engine_audit_alert(ctx, AUDIT_T_NODE_AUTH, ip, "",
                       "HTTP connection from an address not in allow-from");
}

int engine_web_start(engine *e, rl_err *err)
{
    const cfg *cf = e->cfg;
    if (!cf->http.l.port)
        return 0;
    web *w = calloc(1, sizeof *w);
    if (!w)
        return rl_err_set(err, RL_E_NOMEM, -1, "out of memory");
    w->cfg = cf;
    w->st = e->st;
    w->q = e->q;
    web_auth_init(w);
    if (ctlsock_path(cf->data_dir, "control.sock", w->ctl_path, sizeof w->ctl_path, err) != 0) {
        free(w);
        return err->code;
    }
    if (cf->http.users[0])
        snprintf(w->users_path, sizeof w->users_path, "%s", cf->http.users);
    else
        snprintf(w->users_path, sizeof w->users_path, "%s/users", e->data_abs);
    const cfg_listener *l = &cf->http.l;
    net_tls_opts tls = { .cert = l->cert, .key = l->key, .ca = l->ca[0] ? l->ca : NULL,
                         .verify_peer = l->verify_client };
    cidr_list allow;
    char why[160];
    if (cidr_parse(cf->http.allow_from, &allow, why, sizeof why) != 0)
        return rl_err_set(err, HTTP_E_START, -1, "http allow-from: %s", why);
    http_opts o = { .bind = l->bind,
                    .port = l->port == RL_PORT_AUTO ? 0 : l->port,
                    .tls = l->tls ? &tls : NULL,
                    .max_connections = cf->http.max_connections,
                    .request_timeout_ms = RL_HTTP_REQUEST_TIMEOUT_MS,
                    .body_max = RL_HTTP_BODY_MAX,
                    .stress_timeout_ms = cf->http.stress_timeout_s * 1000u,
                    .allow = &allow, .denied = denied, .denied_ctx = e };
    e->web = w;
    if (http_start(&o, on_request, w, &e->http, err) != 0) {
        engine_web_stop(e);
        return err->code;
    }
    e->http_port = http_port(e->http);
    web_sampler_start(w);
    log_info("http.listen", "address=%s:%u tls=%s users=%s", l->bind, e->http_port,
             l->tls ? "yes" : "no", w->users_path);
    return 0;
}

void engine_web_ready(engine *e, bool ready)
{
    if (e->web)
        __atomic_store_n(&e->web->ready, ready ? 1 : 0, __ATOMIC_RELEASE);
}

void engine_web_stop(engine *e)
{
    http_stop(e->http); /* its threads are done: nothing uses w after this */
    e->http = NULL;
    if (e->web)
        web_sampler_stop(e->web);
    free(e->web);
    e->web = NULL;
}
