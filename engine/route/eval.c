/* Evaluating a route set for one message: routes in order, each one's match
 * and conditions, then its transforms (in place) and actions. A route ends
 * evaluation unless it says continue="true"; a message no route takes gets
 * the file's default. With a trace buffer every decision is written down. */
#include <fnmatch.h>
#include <stdio.h>
#include <string.h>

#include "radlink/log.h"
#include "radlink/queue.h"
#include "cond.h"
#include "route_internal.h"
#include "xform.h"

typedef struct facts {
    char type1[RL_ROUTE_TYPE_PART], type2[2 * RL_ROUTE_TYPE_PART];
    char type3[2 * RL_ROUTE_TYPE_PART + RL_ROUTE_STRUCTURE + 8]; /* code^event^structure */
    char version[RL_ROUTE_TYPE_PART];
    char app[RL_ROUTE_NAMESPACE], fac[RL_ROUTE_NAMESPACE];
    char ctrl[RL_ROUTE_CONTROL_ID];
} facts;

static void piece_str(hl7_msg *m, unsigned field, unsigned comp, char *out, size_t n)
{
    rl_str v = { "", 0 };
    if (m->nsegs && hl7_field(m, m->segs[0], field, &v) >= HL7_EMPTY && comp) {
        rl_str piece;
        v = hl7_piece(v, m->seps.comp, comp, &piece) == HL7_ABSENT ? (rl_str){ "", 0 } : piece;
    }
    size_t k = v.n < n ? v.n : n - 1;
    memcpy(out, v.p, k);
    out[k] = '\0';
}

static void get_facts(hl7_msg *m, facts *f)
{
    char t[RL_ROUTE_TYPE_PART], e[RL_ROUTE_TYPE_PART], s[RL_ROUTE_STRUCTURE];
    piece_str(m, 9, 1, t, sizeof t);
    memcpy(f->type1, t, sizeof t);
    piece_str(m, 9, 2, e, sizeof e);
    piece_str(m, 9, 3, s, sizeof s);
    snprintf(f->type2, sizeof f->type2, "%s%s%s", t, e[0] ? "^" : "", e);
    snprintf(f->type3, sizeof f->type3, "%s%s%s", f->type2, s[0] ? "^" : "", s);
    piece_str(m, 12, 1, f->version, sizeof f->version);
    piece_str(m, 3, 1, f->app, sizeof f->app);
    piece_str(m, 4, 1, f->fac, sizeof f->fac);
    piece_str(m, 10, 0, f->ctrl, sizeof f->ctrl);
}

static bool pat(const char *pattern, const char *value)
{
    return !pattern || fnmatch(pattern, value, 0) == 0;
}

static bool type_matches(const char *pattern, const facts *f)
{
    if (!pattern)
        return true;
    int carets = 0;
    for (const char *p = pattern; *p; p++)
        carets += *p == '^';
    return fnmatch(pattern, carets >= 2 ? f->type3 : carets == 1 ? f->type2 : f->type1, 0) == 0;
}

static bool route_matches(const rt_route *r, const facts *f, rl_buf *trace)
{
    if (r->nmatches == 0) {
        if (trace)
            rl_buf_add_c(trace, "  match: any message\n");
        return true;
    }
    for (size_t i = 0; i < r->nmatches; i++) {
        const rt_match *m = &r->matches[i];
        bool ok = type_matches(m->type, f) && pat(m->version, f->version) && pat(m->app, f->app) &&
                  pat(m->fac, f->fac);
        if (trace) {
            rl_buf_add_c(trace, "  match:");
            if (m->type)
                rl_buf_printf(trace, " type %s ~ %s", f->type3, m->type);
            if (m->version)
                rl_buf_printf(trace, " version %s ~ %s", f->version, m->version);
            if (m->app)
                rl_buf_printf(trace, " application %s ~ %s", f->app, m->app);
            if (m->fac)
                rl_buf_printf(trace, " facility %s ~ %s", f->fac, m->fac);
            rl_buf_printf(trace, ": %s\n", ok ? "yes" : "no");
        }
        if (ok)
            return true;
    }
    return false;
}

int route_failv(route_env *env, int errcode, const hl7_path *at, const char *prefix,
                const char *fmt, va_list ap)
{
    char msg[RL_ROUTE_ACTION_TEXT];
    vsnprintf(msg, sizeof msg, fmt, ap);
    if (env->fail_text[0]) { /* a further problem */
        if (env->n_more < ROUTE_PROBLEMS) {
            route_problem *p = &env->more[env->n_more++];
            snprintf(p->text, sizeof p->text, "%.40s: %.190s", prefix, msg);
            p->errcode = errcode;
            p->has_at = at != NULL;
            if (at)
                p->at = *at;
        }
        return ROUTE_E_ACTION;
    }
    snprintf(env->fail_text, sizeof env->fail_text, "%s: %s", prefix, msg);
    env->fail_errcode = errcode;
    env->has_fail_at = at != NULL;
    if (at)
        env->fail_at = *at;
    return ROUTE_E_ACTION;
}

void route_warn(route_env *env, const char *fmt, ...)
{
    size_t n = strlen(env->warnings);
    if (n + 3 >= sizeof env->warnings)
        return;
    if (n) {
        memcpy(env->warnings + n, "; ", 3);
        n += 2;
    }
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(env->warnings + n, sizeof env->warnings - n, fmt, ap);
    va_end(ap);
}

size_t route_ack_errs(const route_result *res, hl7_ack_err *out, size_t max)
{
    size_t n = 0;
    for (size_t i = 0; i < res->n_more && n < max; i++, n++)
        out[n] = (hl7_ack_err){ res->more[i].errcode, res->more[i].text,
                                res->more[i].has_at ? &res->more[i].at : NULL };
    return n;
}

int route_forward(route_env *env, const route_dest *d, hl7_msg *m)
{
    rl_buf out;
    rl_buf_init(&out, 0);
    int rc = hl7_serialize(m, &out);
    if (rc == HL7_OK && !env->dry_run) {
        rc = queue_push(env->txn, d->name, env->msg_seq, rl_buf_view(&out), env->now_us, NULL,
                        &env->store_err);
        if (rc == STORE_OK)
            env->forwarded++;
    }
    rl_buf_free(&out);
    return rc == STORE_OK ? ROUTE_OK : ROUTE_E_STORE;
}

/* Append the strings a, b and c (any may be "") to the one-line summary. */
static void add_summary(route_result *res, const char *a, const char *b, const char *c)
{
    size_t n = strlen(res->summary);
    const char *parts[3] = { a, b, c };
    for (int i = 0; i < 3; i++) {
        size_t k = strlen(parts[i]);
        if (k > sizeof res->summary - 1 - n)
            k = sizeof res->summary - 1 - n;
        memcpy(res->summary + n, parts[i], k);
        n += k;
    }
    res->summary[n] = '\0';
}

static void reject(route_result *res, const char *code, int errcode, const char *text)
{
    res->accept = false;
    snprintf(res->code, sizeof res->code, "%s", code);
    res->errcode = errcode;
    size_t k = strlen(text);
    if (k >= sizeof res->text)
        k = sizeof res->text - 1;
    memcpy(res->text, text, k);
    res->text[k] = '\0';
}


/* Run one route's actions; returns 1 when evaluation must stop here. */
static int run_actions(const route_set *rs, const rt_route *r, const facts *f, hl7_msg *m,
                       route_env *env, route_result *res, rl_buf *trace, int *rc)
{
    for (size_t i = 0; i < r->nacts; i++) {
        const rt_action *a = &r->acts[i];
        switch (a->kind) {
        case A_FORWARD:
            if (a->dest < 0) {
                if (trace)
                    rl_buf_printf(trace, "    forward %s: not defined, skipped (optional)\n",
                                  a->dest_name);
                break;
            }
            if ((*rc = route_forward(env, &rs->dests[a->dest], m)) != ROUTE_OK)
                return 1;
            add_summary(res, ", forward ", a->dest_name, "");
            if (trace)
                rl_buf_printf(trace, "    forward %s (%s:%u): %s\n", a->dest_name,
                              rs->dests[a->dest].host, rs->dests[a->dest].port,
                              env->dry_run ? "would be queued" : "queued");
            break;
        case A_REJECT:
            reject(res, a->code, a->errcode, a->text);
            add_summary(res, ", reject ", a->code, "");
            if (trace)
                rl_buf_printf(trace, "    reject %s \"%s\"\n", a->code, a->text);
            return 1;
        case A_ACCEPT:
            add_summary(res, ", accept", "", "");
            if (trace)
                rl_buf_add_c(trace, "    accept\n");
            return 1;
        case A_LOG:
            if (!env->dry_run)
                log_write((log_level)a->level, "route.log", "route=%s seq=%llu type=%s ctrl=%s text=\"%s\"",
                          r->name, (unsigned long long)env->msg_seq, f->type3, f->ctrl, a->text);
            if (trace)
                rl_buf_printf(trace, "    log \"%s\"\n", a->text);
            break;
        case A_HOOK: {
            route_hook_fn fn = env->hooks[a->hook];
            if (trace)
                rl_buf_printf(trace, "    %s:%s", route_hook_name(a->hook), fn ? "\n" : "");
            if (!fn) {
                char text[RL_ROUTE_TEXT];
                snprintf(text, sizeof text, "action '%s' is not available in this engine",
                         route_hook_name(a->hook));
                if (trace)
                    rl_buf_printf(trace, " %s\n", text);
                reject(res, "AE", HL7_ERR_INTERNAL, text);
                return 1;
            }
            env->fail_text[0] = '\0';
            env->has_fail_at = false;
            env->fail_errcode = HL7_ERR_INTERNAL;
            env->n_more = 0;
            env->warnings[0] = '\0';
            env->report = &a->report;
            env->prefetch = &a->prefetch;
            int h = fn(env, m, trace);
            env->report = NULL;
            env->prefetch = NULL;
            if (h == ROUTE_E_STORE) {
                *rc = ROUTE_E_STORE;
                return 1;
            }
            if (h != ROUTE_OK) {
                reject(res, "AE", env->fail_errcode, env->fail_text);
                if (env->has_fail_at) {
                    res->at = env->fail_at;
                    res->has_at = true;
                }
                memcpy(res->more, env->more, env->n_more * sizeof *env->more);
                res->n_more = env->n_more;
                if (trace) {
                    rl_buf_printf(trace, "      failed: %s\n", env->fail_text);
                    for (size_t k = 0; k < env->n_more; k++)
                        rl_buf_printf(trace, "      failed: %s\n", env->more[k].text);
                }
                return 1;
            }
            add_summary(res, ", ", route_hook_name(a->hook), "");
            if (env->warnings[0]) {
                add_summary(res, " (warning: ", env->warnings, ")");
                if (trace)
                    rl_buf_printf(trace, "      warning: %s\n", env->warnings);
            }
            break;
        }
        }
    }
    return 0;
}

int route_eval(const route_set *rs, hl7_msg *m, route_env *env, route_result *res, rl_buf *trace)
{
    memset(res, 0, sizeof *res);
    res->accept = true;
    snprintf(res->code, sizeof res->code, "AA");
    env->rs = rs;
    facts f;
    get_facts(m, &f);
    if (trace)
        rl_buf_printf(trace, "message %s, control ID %s, from %s/%s, version %s\n", f.type3, f.ctrl,
                      f.app, f.fac, f.version);
    bool taken = false;
    int rc = ROUTE_OK;
    for (size_t i = 0; i < rs->nroutes; i++) {
        const rt_route *r = &rs->routes[i];
        if (trace)
            rl_buf_printf(trace, "route '%s' (%s:%d)\n", r->name, rs->source, r->line);
        if (!route_matches(r, &f, trace))
            continue;
        bool ok = true;
        if (r->nwhen && trace)
            rl_buf_add_c(trace, "  when:\n");
        for (size_t k = 0; k < r->nwhen; k++) {
            if (!rt_cond_eval(&r->when[k], m, env->now_us, trace, 2)) {
                ok = false;
                if (!trace)
                    break;
            }
        }
        if (!ok) {
            if (trace)
                rl_buf_add_c(trace, "  => not taken\n");
            continue;
        }
        taken = true;
        add_summary(res, res->summary[0] ? "; " : "", "route ", r->name);
        if (r->nxf && trace)
            rl_buf_add_c(trace, "  transform:\n");
        for (size_t k = 0; k < r->nxf; k++) {
            rl_err err;
            if (rt_xform_apply(rs, &r->xf[k], m, trace, &err) != 0) {
                char text[RL_ROUTE_TEXT + 96]; /* the route and the transform before */
                snprintf(text, sizeof text, "route '%s', %s %s: %s", r->name,
                         rt_xform_name(r->xf[k].kind), r->xf[k].ptext, err.msg);
                reject(res, "AE", HL7_ERR_INTERNAL, text);
                goto done;
            }
        }
        if (r->nacts && trace)
            rl_buf_add_c(trace, "  actions:\n");
        if (run_actions(rs, r, &f, m, env, res, trace, &rc))
            goto done;
        if (!r->cont) {
            if (trace)
                rl_buf_add_c(trace, "  stop\n");
            goto done;
        }
        if (trace)
            rl_buf_add_c(trace, "  continue\n");
    }
    if (!taken) {
        if (rs->default_accept) {
            add_summary(res, "no route: default accept", "", "");
        } else {
            reject(res, rs->default_code, HL7_ERR_UNSUPPORTED_TYPE, rs->default_text);
            add_summary(res, "no route: default reject ", rs->default_code, "");
        }
        if (trace)
            rl_buf_printf(trace, "no route took the message: default %s\n",
                          rs->default_accept ? "accept" : "reject");
    }
done:
    if (trace && rc == ROUTE_OK)
        rl_buf_printf(trace, "result: %s%s%s\n", res->code, res->accept ? "" : " ",
                      res->accept ? "" : res->text);
    return rc;
}
