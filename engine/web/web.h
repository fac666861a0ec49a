/* What the HTTP listener's threads share (engine/web): the engine's
 * configuration and store (read transactions only), and the control socket
 * through which they ask the loop (the CLI's path). Private to engine/web. */
#ifndef RADLINK_WEB_H
#define RADLINK_WEB_H

#include "radlink/cfg.h"
#include "radlink/http.h"
#include "radlink/store.h"

typedef struct web {
    const cfg *cfg;
    store *st;
    char ctl_path[700];
    char users_path[1100];
    int ready; /* read and written with __atomic builtins */
} web;

/* A request as the handlers see it: the listener's request and its answer. */
typedef struct web_call {
    web *w;
    const http_req *req;
    http_resp *resp;
} web_call;

/* A plain-text answer with status (web.c). */
void web_text(web_call *c, int status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Ask the engine's loop over the control socket (the CLI's path): status
 * is the CLI exit code, out its words. Returns 0, or -1 when the engine did
 * not answer (out says why). */
int web_ctl(web *w, int argc, char **argv, int *status, rl_buf *out);

/* /metrics (metrics.c). */
void web_metrics(web_call *c);

#endif
