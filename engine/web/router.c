/* The JSON API (/api/...): the routes come from the verb table
 * (radlink/ops.h). A request is matched against each verb's HTTP bindings,
 * its user checked for the verb's role, its path, query or JSON body turned
 * into the verb's arguments, and then:
 *   - a read runs here, in a read transaction of the engine's store (never
 *     blocking its writer), its view rendered as JSON;
 *   - a change goes to the engine's loop over the control socket as the
 *     same request the CLI sends, recorded in the audit trail with the user
 *     who asked, and answered {"done", "status", "output"};
 *   - a user verb changes the users file here, recorded the same way.
 * Lists carry no patient data (the views leave it out): only a detail
 * answer, to a logged-in user, does. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "web.h"
#include "radlink/view.h"

/* ---- matching ---- */

typedef struct params {
    char buf[RL_WEB_PATH_MAX];
    const char *name[RL_WEB_PARAMS_MAX], *value[RL_WEB_PARAMS_MAX];
    int n;
} params;

/* path against pattern: {NAME} matches one path segment. */
static bool match(const char *pattern, const char *path, params *p)
{
    size_t k = 0;
    p->n = 0;
    while (*pattern && *path) {
        if (*pattern == '{') {
            const char *close = strchr(pattern, '}');
            size_t n = strcspn(path, "/"), len = close ? (size_t)(close - pattern - 1) : 0;
            if (!close || !n || p->n == RL_WEB_PARAMS_MAX || k + n + len + 2 > sizeof p->buf)
                return false;
            p->name[p->n] = memcpy(p->buf + k, pattern + 1, len);
            p->buf[k + len] = '\0';
            k += len + 1;
            p->value[p->n++] = memcpy(p->buf + k, path, n);
            p->buf[k + n] = '\0';
            k += n + 1;
            path += n;
            pattern = close + 1;
            continue;
        }
        if (*pattern++ != *path++)
            return false;
    }
    return !*pattern && !*path;
}

/* The verb and binding a request names: literal paths first (so that
 * /api/recon/unmatched is not a study). *known says whether the path is
 * the API's under another method. */
static const op_verb *route(web_call *c, const op_http **bind, params *p, bool *known)
{
    bool get = !strcmp(c->req->method, "GET") || !strcmp(c->req->method, "HEAD");
    *known = false;
    for (int literal = 1; literal >= 0; literal--)
        for (const op_verb *v = ops_verbs; v->noun; v++)
            for (size_t i = 0; v->role && i < sizeof v->http / sizeof *v->http; i++) {
                const op_http *h = &v->http[i];
                if (!h->pattern || (strchr(h->pattern, '{') == NULL) != literal ||
                    !match(h->pattern, c->req->path, p))
                    continue;
                *known = true;
                if (!strcmp(h->method, c->req->method) || (get && !strcmp(h->method, "GET"))) {
                    *bind = h;
                    return v;
                }
            }
    return NULL;
}

/* ---- arguments ---- */

typedef struct args {
    json_t *body;
    char numbers[RL_OP_ARGS_MAX][RL_NUM_TEXT_MAX];
} args;

static const op_arg *arg_by_key(const op_verb *v, const char *key)
{
    char k[RL_OP_NAME_MAX];
    for (size_t i = 0; ops_arg(v, i); i++) {
        const op_arg *a = ops_arg(v, i);
        ops_arg_key(a, k, sizeof k);
        if (!strcmp(k, key) && !(a->flags & OPA_LOCAL))
            return a;
    }
    return NULL;
}

/* One JSON member as an argument's text; false (a 400 written) when its type
 * is not the argument's. */
static bool member(web_call *c, const op_verb *v, const op_arg *a, const char *key, json_t *j,
                   char *num, op_vals *vals)
{
    char why[RL_VIEW_FAIL_MAX];
    const char *text = NULL;
    if (a->type == OPT_FLAG && json_is_boolean(j))
        text = json_is_true(j) ? "1" : NULL;
    else if (a->type == OPT_U64 && json_is_integer(j) && json_integer_value(j) >= 0)
        snprintf(num, RL_NUM_TEXT_MAX, "%lld", (long long)json_integer_value(j)), text = num;
    else if (a->type != OPT_FLAG && json_is_string(j))
        text = json_string_value(j);
    else {
        web_error(c, 400, "%s: expected %s", key, a->type == OPT_FLAG ? "true or false"
                                                  : a->type == OPT_U64 ? "a number" : "a string");
        return false;
    }
    if (text && ops_set(v, a->name, text, true, vals, why, sizeof why) != OP_OK) {
        web_error(c, 400, "%s", why);
        return false;
    }
    return true;
}

static bool from_body(web_call *c, const op_verb *v, args *x, op_vals *vals)
{
    json_error_t e;
    x->body = c->req->body.n ? json_loadb(c->req->body.p, c->req->body.n, 0, &e) : json_object();
    if (!x->body) {
        web_error(c, 400, "the body is not JSON: line %d, column %d: %s", e.line, e.column,
                  e.text);
        return false;
    }
    if (!json_is_object(x->body)) {
        web_error(c, 400, "the body must be a JSON object");
        return false;
    }
    const char *key;
    json_t *j;
    size_t n = 0;
    json_object_foreach(x->body, key, j) {
        const op_arg *a = arg_by_key(v, key);
        if (!a) {
            web_error(c, 400, "'%.64s' is not a member this request takes", key);
            return false;
        }
        if (!member(c, v, a, key, j, x->numbers[n++ % RL_OP_ARGS_MAX], vals))
            return false;
    }
    return true;
}

static bool from_query(web_call *c, const op_verb *v, op_vals *vals)
{
    char key[RL_OP_NAME_MAX], why[RL_VIEW_FAIL_MAX];
    for (size_t i = 0; ops_arg(v, i); i++) {
        const op_arg *a = ops_arg(v, i);
        if (a->flags & (OPA_LOCAL | OPA_POS) || a->type == OPT_SECRET)
            continue;
        ops_arg_key(a, key, sizeof key);
        const char *text = http_query(c->req, key);
        if (!text || !text[0] || (a->type == OPT_FLAG && strcmp(text, "true") && strcmp(text, "1")))
            continue;
        if (ops_set(v, a->name, text, true, vals, why, sizeof why) != OP_OK) {
            web_error(c, 400, "%s", why);
            return false;
        }
    }
    return true;
}

/* The request's arguments: the path's, the binding's fixed ones, then the
 * query's (GET) or the body's; every required one present. */
static bool arguments(web_call *c, const op_verb *v, const op_http *h, const params *p, args *x,
                      op_vals *vals)
{
    char why[RL_VIEW_FAIL_MAX];
    memset(vals, 0, sizeof *vals);
    for (int i = 0; i < p->n; i++)
        if (ops_set(v, p->name[i], p->value[i], true, vals, why, sizeof why) != OP_OK) {
            web_error(c, 400, "%s", why);
            return false;
        }
    if (h->fixed && ops_set(v, h->fixed + 2, "1", true, vals, why, sizeof why) != OP_OK) {
        web_error(c, 500, "%s", why);
        return false;
    }
    bool get = !strcmp(h->method, "GET");
    if (!(get ? from_query(c, v, vals) : from_body(c, v, x, vals)))
        return false;
    for (size_t i = 0; ops_arg(v, i); i++) {
        const op_arg *a = ops_arg(v, i);
        if ((a->flags & OPA_REQUIRED) && !vals->v[i].set) {
            char key[RL_OP_NAME_MAX];
            ops_arg_key(a, key, sizeof key);
            web_error(c, 400, "%s is needed", key);
            return false;
        }
    }
    return true;
}

/* ---- running ---- */

static int ask(void *ctx, int argc, char **argv, int *status, rl_buf *out)
{
    return web_ctl(ctx, argc, argv, status, out);
}

static void user_changed(void *ctx, const char *name)
{
    web_end_sessions(ctx, name);
}

/* A change, through the engine's loop: {"done", "status", "output"}. */
static void change(web_call *c, op_call *oc)
{
    char *argv[RL_CTL_MAX_ARGS], what[RL_VIEW_FAIL_MAX / 4];
    rl_buf words, out;
    rl_buf_init(&words, RL_CTL_REQUEST_MAX);
    rl_buf_init(&out, RL_CTL_REPLY_MAX);
    int argc = ops_argv(oc->verb, &oc->vals, argv, &words), status = OP_FAIL, rc = -1;
    size_t k = 0;
    for (int i = 0; i < argc && k < sizeof what - 1; i++)
        k += (size_t)snprintf(what + k, sizeof what - k, "%s%s", i ? " " : "", argv[i]);
    if (argc >= 0)
        rc = web_ctl(c->w, argc, argv, &status, &out);
    else
        rl_buf_add_c(&out, "the request is larger than the engine takes\n");
    web_audit_action(c, what, rc == 0 ? status : OP_FAIL, rl_buf_cstr(&out));
    int http = rc != 0 ? 503 : ops_http_status(oc->verb, status);
    web_json(c, http, json_pack("{s:b, s:i, s:o}", "done", rc == 0 && status == OP_OK, "status",
                                ops_exit_code(status), "output", view_jstr(rl_buf_view(&out))));
    rl_buf_free(&words);
    rl_buf_free(&out);
}

/* A read (or a user verb) here: its view as JSON, or {"error"}. */
static void here(web_call *c, op_call *oc)
{
    store_txn *t = NULL;
    rl_err err;
    if ((oc->verb->flags & OP_READS) && store_begin(c->w->st, NULL, false, &t, &err) != STORE_OK) {
        web_error(c, 503, "the store cannot be read: %s", err.msg);
        return;
    }
    oc->t = t;
    oc->out = view_new(VIEW_JSON);
    int status = oc->out ? ops_run(oc) : view_fail(oc->out, OP_FAIL, "out of memory");
    if (t)
        store_abort(t);
    if (oc->verb->flags & OP_AUDITED) {
        char what[RL_OP_NAME_MAX * 2];
        snprintf(what, sizeof what, "%s %s", oc->path, ops_str(oc, "NAME") ? ops_str(oc, "NAME")
                                                                          : "");
        web_audit_action(c, what, status, status ? view_failure(oc->out) : "done");
    }
    /* a check that found something refused is an answer (OP_RESULT) */
    bool answer = status == OP_FAIL && (oc->verb->flags & OP_RESULT) && !view_failure(oc->out)[0];
    if (status != OP_OK && !answer)
        web_error(c, ops_http_status(oc->verb, status), "%s", view_failure(oc->out));
    else if (oc->verb->flags & OP_AUDITED) /* a change made here */
        web_json(c, 200, json_pack("{s:b, s:i, s:o}", "done", 1, "status", 0, "output",
                                   view_jstr(view_text(oc->out))));
    else
        web_json(c, 200, view_take_json(oc->out));
    view_free(oc->out);
}

static void run(web_call *c, const op_verb *v, const op_http *h, const params *p)
{
    args *x = calloc(1, sizeof *x);
    char path[RL_OP_NAME_MAX];
    ops_name(v, path, sizeof path);
    op_call oc = { .verb = v, .path = path, .now_us = rl_now_us(), .data = c->w->cfg->data_dir,
                   .cfg = c->w->cfg,
                   .users_path = c->w->users_path, .user = c->user, .role = c->role, .ask = ask,
                   .ask_ctx = c->w, .on_user_changed = user_changed, .hook_ctx = c->w };
    if (!x)
        web_error(c, 503, "out of memory");
    else if (arguments(c, v, h, p, x, &oc.vals))
        (v->flags & (OP_WRITES | OP_ENGINE)) ? change(c, &oc) : here(c, &oc);
    if (x)
        json_decref(x->body);
    free(x);
}

bool web_api(web_call *c)
{
    const char *path = c->req->path, *method = c->req->method;
    if (strncmp(path, "/api/", 5) != 0 && strcmp(path, "/api") != 0)
        return false;
    bool get = !strcmp(method, "GET") || !strcmp(method, "HEAD");
    if (!strcmp(path, "/api/login") || !strcmp(path, "/api/logout")) {
        bool in = !strcmp(path, "/api/login");
        if (strcmp(method, "POST"))
            web_error(c, 405, "log %s with POST", in ? "in" : "out");
        else if (in)
            web_login(c);
        else
            web_logout(c);
        return true;
    }
    if (!strcmp(path, "/api/session") && get) {
        web_session_info(c);
        return true;
    }
    if (!strcmp(path, "/api/status") && get) {
        if (web_auth(c, USERS_VIEWER, false) == 0)
            web_overview(c);
        return true;
    }
    params *p = calloc(1, sizeof *p);
    const op_http *h = NULL;
    bool known = false;
    const op_verb *v = p ? route(c, &h, p, &known) : NULL;
    if (v && web_auth(c, v->role, strcmp(h->method, "GET") != 0) == 0)
        run(c, v, h, p);
    else if (!v && known)
        web_error(c, 405, "%s is not taken by %s", method, path);
    else if (!v)
        web_error(c, p ? 404 : 503, p ? "no such API: %s" : "out of memory%.0s", path);
    free(p);
    return true;
}
