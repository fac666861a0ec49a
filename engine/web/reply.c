/* Answers every page of the HTTP listener shares: text, JSON, and JSON
 * errors ({"error": "..."} with a 4xx or 5xx status). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "web.h"

void web_text(web_call *c, int status, const char *fmt, ...)
{
    va_list ap;
    c->resp->status = status;
    c->resp->content_type = "text/plain; charset=utf-8";
    rl_buf_reset(&c->resp->body);
    va_start(ap, fmt);
    rl_buf_vprintf(&c->resp->body, fmt, ap);
    va_end(ap);
}

void web_json(web_call *c, int status, json_t *j)
{
    char *text = j ? json_dumps(j, JSON_COMPACT | JSON_ENSURE_ASCII | JSON_REAL_PRECISION(9)) : NULL;
    json_decref(j);
    if (!text) {
        web_text(c, 500, "out of memory\n");
        return;
    }
    c->resp->status = status;
    c->resp->content_type = "application/json";
    rl_buf_reset(&c->resp->body);
    rl_buf_add_c(&c->resp->body, text);
    rl_buf_add_ch(&c->resp->body, '\n');
    free(text);
}

void web_error(web_call *c, int status, const char *fmt, ...)
{
    char text[RL_VIEW_FAIL_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    web_json(c, status, json_pack("{s:s}", "error", text));
}
