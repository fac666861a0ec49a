/* The console's page, script and style, embedded in the binary at build
 * time (engine/web/console/): nothing is fetched from elsewhere, so it works
 * on a hospital network without the internet. They hold no data: the script
 * asks the API, which asks for a session. A strict Content-Security-Policy
 * lets the page run its own script only. */
#include <string.h>

#include "web.h"

extern const char radlink_console_html[], radlink_console_js[], radlink_console_css[];
extern const unsigned long radlink_console_html_len, radlink_console_js_len,
    radlink_console_css_len;

bool web_console(web_call *c)
{
    const char *p = c->req->path;
    bool get = !strcmp(c->req->method, "GET") || !strcmp(c->req->method, "HEAD");
    const char *body, *type;
    unsigned long n;
    if (!strcmp(p, "/favicon.ico")) { /* browsers ask; there is none */
        c->resp->status = 204;
        return true;
    }
    if (!strcmp(p, "/") || !strcmp(p, "/console") || !strcmp(p, "/console/")) {
        body = radlink_console_html, n = radlink_console_html_len;
        type = "text/html; charset=utf-8";
    } else if (!strcmp(p, "/console/app.js")) {
        body = radlink_console_js, n = radlink_console_js_len;
        type = "text/javascript; charset=utf-8";
    } else if (!strcmp(p, "/console/app.css")) {
        body = radlink_console_css, n = radlink_console_css_len;
        type = "text/css; charset=utf-8";
    } else {
        return false;
    }
    if (!get) {
        web_text(c, 405, "%s takes GET\n", p);
        return true;
    }
    c->resp->status = 200;
    c->resp->content_type = type;
    rl_buf_add(&c->resp->body, body, n);
    rl_buf_add_c(&c->resp->headers,
                 "Content-Security-Policy: default-src 'none'; script-src 'self'; "
                 "style-src 'self'; img-src 'self'; connect-src 'self'; form-action 'self'; "
                 "frame-ancestors 'none'; base-uri 'none'\r\n");
    return true;
}
