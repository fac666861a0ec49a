/* Deciding what happens to a received instance (routes/README.md, "How an
 * instance goes through them"): the <on-receive> routes planned on the
 * instance as it came and applied only when every change they make can be
 * made, then the <dicom-route>s, whose conditions see the instance after
 * them; each route that takes it adds its sends (a node once, as the first
 * route says), each with the program made for it at load. */
#include <fnmatch.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "cond.h"
#include "dop.h"
#include "table.h"
#include "trace.h"

static const char *const dcond_names[] = { "equals", "in", "table", "matches", "present",
                                           "absent", "all", "any", "not" };

/* ---- comparing values ---- */

typedef bool (*val_test)(const void *ctx, rl_str v);

/* Does test hold for one of v's values, or one of the values of a
 * multi-valued one ("ORIGINAL\PRIMARY\AXIAL" has AXIAL)? A value cut to its
 * first bytes is tested whole only by a regex (cut_ok), and its last part
 * never. */
static bool any_value(const rt_dvals *v, val_test test, const void *ctx, bool cut_ok)
{
    for (size_t i = 0; i < v->n; i++) {
        rl_str w = rt_dvals_at(v, i);
        if ((cut_ok || !v->cut[i]) && test(ctx, w))
            return true;
        if (!memchr(w.p, '\\', w.n))
            continue;
        for (size_t s = 0; s <= w.n;) {
            const char *bs = memchr(w.p + s, '\\', w.n - s);
            size_t e = bs ? (size_t)(bs - w.p) : w.n;
            if (!bs && v->cut[i])
                break;
            rl_str part = { w.p + s, e - s };
            while (part.n && part.p[0] == ' ')
                part = (rl_str){ part.p + 1, part.n - 1 };
            while (part.n && part.p[part.n - 1] == ' ')
                part.n--;
            if (test(ctx, part))
                return true;
            s = e + 1;
        }
    }
    return false;
}

typedef struct eq_ctx {
    const char *want;
    bool icase;
} eq_ctx;

static bool test_eq(const void *ctx, rl_str v)
{
    const eq_ctx *e = ctx;
    size_t n = strlen(e->want);
    return v.n == n && (e->icase ? strncasecmp(v.p, e->want, n) == 0 : memcmp(v.p, e->want, n) == 0);
}

static bool test_table(const void *ctx, rl_str v)
{
    return rt_table_lookup(ctx, v) != NULL;
}

static bool test_regex(const void *ctx, rl_str v)
{
    return rt_regex_match(ctx, v);
}

static bool test_pattern(const void *ctx, rl_str v)
{
    char buf[RL_ROUTE_MATCH_VALUE];
    snprintf(buf, sizeof buf, "%.*s", (int)v.n, v.p);
    return fnmatch(ctx, buf, 0) == 0;
}

/* ---- conditions ---- */

static bool leaf_holds(const rt_dcond *c, const rt_dvals *v)
{
    eq_ctx e = { c->value, c->icase };
    switch (c->kind) {
    case DC_EQUALS:
        return any_value(v, test_eq, &e, false);
    case DC_IN:
        for (size_t k = 0; k < c->nvalues; k++) {
            e.want = c->values[k];
            if (any_value(v, test_eq, &e, false))
                return true;
        }
        return false;
    case DC_TABLE:
        return c->table && any_value(v, test_table, c->table, false);
    case DC_MATCHES:
        return c->has_re && any_value(v, test_regex, &c->re, true);
    default: { /* present: there with a value */
        bool present = false;
        for (size_t i = 0; i < v->n; i++)
            present |= v->len[i] > 0;
        return c->kind == DC_PRESENT ? present : !present;
    }
    }
}

static void trace_leaf(const rt_dcond *c, const rt_dvals *v, bool ok, rl_buf *trace)
{
    rl_buf_printf(trace, "%s %s ", dcond_names[c->kind], c->at.text);
    rt_dvals_trace(trace, v);
    switch (c->kind) {
    case DC_EQUALS:
        rl_buf_printf(trace, " = \"%s\"%s", c->value, c->icase ? " (any case)" : "");
        break;
    case DC_IN:
        rl_buf_add_c(trace, " in [");
        for (size_t k = 0; k < c->nvalues; k++)
            rl_buf_printf(trace, "%s%s", k ? " " : "", c->values[k]);
        rl_buf_printf(trace, "]%s", c->icase ? " (any case)" : "");
        break;
    case DC_TABLE:
        rl_buf_printf(trace, " in table '%s'", c->table ? c->table->name : "?");
        break;
    case DC_MATCHES:
        rl_buf_printf(trace, " ~ /%s/%s", c->value, c->icase ? " (any case)" : "");
        break;
    default:
        break;
    }
    rl_buf_printf(trace, ": %s\n", ok ? "yes" : "no");
}

/* Evaluate c into *out: 0, or the io's code when reading failed. */
static int cond_eval(const rt_dcond *c, rt_dacc *a, rl_buf *trace, int depth, bool *out,
                     rl_err *err)
{
    if (trace)
        rl_buf_printf(trace, "%*s", depth * 2, "");
    if (c->kind < DC_ALL) {
        rt_dvals v;
        int rc = rt_dvals_get(a, &c->at, &v, err);
        *out = rc == 0 && leaf_holds(c, &v);
        if (rc == 0 && trace)
            trace_leaf(c, &v, *out, trace);
        rt_dvals_free(&v);
        return rc;
    }
    if (trace)
        rl_buf_printf(trace, "%s\n", dcond_names[c->kind]);
    bool result = c->kind != DC_ANY;
    for (size_t i = 0; i < c->nkids; i++) {
        bool r;
        int rc = cond_eval(&c->kids[i], a, trace, depth + 1, &r, err);
        if (rc != 0)
            return rc;
        if (c->kind == DC_ALL && !r)
            result = false;
        else if (c->kind == DC_ANY && r)
            result = true;
        else if (c->kind == DC_NOT)
            result = !r;
        if (!trace && ((c->kind == DC_ALL && !result) || (c->kind == DC_ANY && result)))
            break;
    }
    if (trace)
        rl_buf_printf(trace, "%*s=> %s: %s\n", depth * 2, "", dcond_names[c->kind],
                      result ? "yes" : "no");
    *out = result;
    return 0;
}

/* ---- match ---- */

typedef struct facts {
    rt_dvals modality, sop;
    const char *calling, *called;
} facts;

static int facts_get(rt_dacc *a, const rt_dicom *D, const route_dcm_who *who, facts *f,
                     rl_err *err)
{
    f->calling = who && who->calling_ae ? who->calling_ae : "";
    f->called = who && who->called_ae ? who->called_ae : "";
    int rc = rt_dvals_get(a, &D->modality, &f->modality, err);
    int rc2 = rt_dvals_get(a, &D->sop_class, &f->sop, rc ? NULL : err);
    return rc ? rc : rc2;
}

static void facts_free(facts *f)
{
    rt_dvals_free(&f->modality);
    rt_dvals_free(&f->sop);
}

static bool sop_holds(const rt_dmatch *m, const rt_dvals *sop)
{
    for (size_t i = 0; i < m->nsop; i++)
        if (any_value(sop, test_pattern, m->sop[i], false))
            return true;
    return false;
}

static bool match_one(const rt_dmatch *m, const facts *f, rl_buf *trace)
{
    bool ok = (!m->modality || any_value(&f->modality, test_pattern, m->modality, false)) &&
              (!m->calling || fnmatch(m->calling, f->calling, 0) == 0) &&
              (!m->called || fnmatch(m->called, f->called, 0) == 0) &&
              (!m->sop_text || sop_holds(m, &f->sop));
    if (!trace)
        return ok;
    rl_buf_add_c(trace, "  match:");
    if (m->modality) {
        rl_buf_add_c(trace, " modality ");
        rt_dvals_trace(trace, &f->modality);
        rl_buf_printf(trace, " ~ %s", m->modality);
    }
    if (m->calling)
        rl_buf_printf(trace, " calling-ae \"%s\" ~ %s", f->calling, m->calling);
    if (m->called)
        rl_buf_printf(trace, " called-ae \"%s\" ~ %s", f->called, m->called);
    if (m->sop_text) {
        rl_buf_add_c(trace, " sop-class ");
        rt_dvals_trace(trace, &f->sop);
        rl_buf_printf(trace, " ~ %s", m->sop_text);
    }
    rl_buf_printf(trace, ": %s\n", ok ? "yes" : "no");
    return ok;
}

/* Does r take the instance (one <match>, every <when>)? 0, or the io's code. */
static int takes(const rt_droute *r, rt_dacc *a, const rt_dicom *D, const route_dcm_who *who,
                 rl_buf *trace, bool *taken, rl_err *err)
{
    *taken = r->nmatches == 0;
    if (*taken && trace)
        rl_buf_add_c(trace, "  match: any instance\n");
    if (r->nmatches) {
        facts f;
        int rc = facts_get(a, D, who, &f, err);
        for (size_t i = 0; rc == 0 && i < r->nmatches && !*taken; i++)
            *taken = match_one(&r->matches[i], &f, trace);
        facts_free(&f);
        if (rc != 0)
            return rc;
    }
    if (*taken && r->nwhen && trace)
        rl_buf_add_c(trace, "  when:\n");
    for (size_t i = 0; *taken && i < r->nwhen; i++) {
        bool ok;
        int rc = cond_eval(&r->when[i], a, trace, 2, &ok, err);
        if (rc != 0)
            return rc;
        if (!ok && !trace)
            *taken = false;
        else if (!ok) { /* the trace shows every condition */
            for (size_t k = i + 1; k < r->nwhen && rc == 0; k++)
                rc = cond_eval(&r->when[k], a, trace, 2, &ok, err);
            *taken = false;
            if (rc != 0)
                return rc;
        }
    }
    if (!*taken && trace)
        rl_buf_add_c(trace, "  => not taken\n");
    return 0;
}

/* ---- the decision ---- */

static void summary_add(route_dicom_decision *d, const char *a, const char *b, const char *c)
{
    size_t n = strlen(d->summary);
    snprintf(d->summary + n, sizeof d->summary - n, "%s%s%s", a, b, c);
}

static void hold(route_dicom_decision *d, bool failed, const char *why, rl_buf *trace)
{
    d->held = true;
    d->receive_failed = failed;
    if (failed) /* ds is not to be written: none of its changes count */
        d->changed = 0;
    snprintf(d->why, sizeof d->why, "%s", why);
    if (failed && trace)
        rl_buf_add_c(trace, "  => held: nothing of <on-receive> is kept, the instance is "
                            "stored as it came\n");
    if (failed) {
        d->summary[0] = '\0';
        summary_add(d, "held: ", why, "");
    }
}

/* The <on-receive> routes: every change planned and checked, then applied. */
static int on_receive(const route_set *rs, rt_dacc *a, const route_dcm_who *who,
                      route_dicom_decision *d, rl_buf *trace, rl_err *err)
{
    const rt_dicom *D = &rs->dicom;
    rt_dacc pa = *a;
    if (D->nrecv == 0)
        return 0;
    if (!(pa.plan = rt_dplan_new())) {
        hold(d, true, "out of memory", trace);
        return 0;
    }
    int rc = 0;
    for (size_t i = 0; i < D->nrecv && rc == 0 && !d->held; i++) {
        const rt_droute *r = &D->recv[i];
        bool taken;
        if (trace)
            rl_buf_printf(trace, "on-receive '%s' (%s:%d)\n", r->name, rs->source, r->line);
        if ((rc = takes(r, &pa, D, who, trace, &taken, err)) != 0 || !taken)
            continue;
        summary_add(d, d->summary[0] ? "; " : "", "on-receive ", r->name);
        if (trace)
            rl_buf_add_c(trace, "  coerce:\n");
        pa.route = r->name;
        for (size_t k = 0; k < r->nops && rc == 0 && !d->held; k++) {
            rl_err e;
            rc = rt_dop_run(&r->ops[k], &pa, trace, &e);
            if (rc == ROUTE_E_COERCE) {
                /* the route, the coercion and its line before the reason; cut to
                 * RL_ROUTE_TEXT in the decision */
                char label[RL_ROUTE_ACTION_TEXT], why[RL_ROUTE_TEXT + RL_ROUTE_ACTION_TEXT + 96];
                rt_dop_label(&r->ops[k], label, sizeof label);
                snprintf(why, sizeof why, "on-receive '%s', %s (line %d): %s", r->name, label,
                         r->ops[k].line, e.msg);
                hold(d, true, why, trace);
                rc = 0;
            } else if (rc != 0) {
                *err = e;
            }
        }
    }
    if (rc == 0 && !d->held && rt_dplan_count(pa.plan)) {
        rl_err e;
        if (rt_dplan_apply(pa.plan, a->io, a->ds, &d->changed, &e) != 0) {
            if (trace)
                rl_buf_printf(trace, "applying the changes: FAILED: %s\n", e.msg);
            hold(d, true, e.msg, trace);
        } else if (trace) {
            rl_buf_printf(trace, "on-receive: %u change%s made\n", d->changed,
                          d->changed == 1 ? "" : "s");
        }
    }
    rt_dplan_free(pa.plan);
    return rc;
}

static void add_send(route_dicom_decision *d, const rt_droute *r, const rt_dsend *s,
                     rl_buf *trace)
{
    for (size_t i = 0; i < d->nsends; i++)
        if (!strcmp(d->sends[i].to, s->to)) {
            if (trace)
                rl_buf_printf(trace, "  send %s: already sent by route '%s', as that route "
                              "says\n", s->to, d->sends[i].route);
            return;
        }
    size_t off = d->progs.len;
    if (d->nsends == RL_DICOM_SENDS_MAX || rl_buf_add(&d->progs, s->prog.p, s->prog.n) != 0) {
        if (trace) /* not reached: a send is to a node, and nodes are that many */
            rl_buf_printf(trace, "  send %s: not sent, more than %d destinations\n", s->to,
                          RL_DICOM_SENDS_MAX);
        return;
    }
    d->sends[d->nsends++] = (route_dicom_send){ s->to, r->name, s->ts, off, s->prog.n };
    summary_add(d, d->nsends > 1 && d->summary[strlen(d->summary) - 1] != '>' ? ", " : " ",
                s->to, "");
    if (!trace)
        return;
    rl_buf_printf(trace, "  send %s (transfer syntax %s)%s\n", s->to, route_dicom_ts_name(s->ts),
                  r->nops + s->nops ? ", program:" : ", no coercions");
    for (size_t i = 0; i < r->nops; i++)
        rt_dop_list(&r->ops[i], 6, trace);
    for (size_t i = 0; i < s->nops; i++)
        rt_dop_list(&s->ops[i], 6, trace);
}

static int dicom_routes(const route_set *rs, rt_dacc *a, const route_dcm_who *who,
                        route_dicom_decision *d, rl_buf *trace, rl_err *err)
{
    const rt_dicom *D = &rs->dicom;
    for (size_t i = 0; i < D->nroutes; i++) {
        const rt_droute *r = &D->routes[i];
        bool taken;
        if (trace)
            rl_buf_printf(trace, "dicom-route '%s' (%s:%d)\n", r->name, rs->source, r->line);
        int rc = takes(r, a, D, who, trace, &taken, err);
        if (rc != 0)
            return rc;
        if (!taken)
            continue;
        d->routed = true;
        summary_add(d, d->summary[0] ? "; " : "", "route ", r->name);
        summary_add(d, " ->", "", "");
        for (size_t k = 0; k < r->nsends; k++)
            add_send(d, r, &r->sends[k], trace);
        if (!r->cont) {
            if (trace)
                rl_buf_add_c(trace, "  stop\n");
            break;
        }
        if (trace)
            rl_buf_add_c(trace, "  continue\n");
    }
    if (d->routed)
        return 0;
    summary_add(d, d->summary[0] ? "; " : "", "no route: default ", D->hold ? "hold" : "all");
    if (trace)
        rl_buf_printf(trace, "no DICOM route took the instance: default %s\n",
                      D->hold ? "hold" : "all");
    if (D->hold)
        hold(d, false, "no DICOM route takes it (default=\"hold\")", trace);
    return 0;
}

static void trace_result(const route_dicom_decision *d, rl_buf *trace)
{
    if (d->held) {
        rl_buf_printf(trace, "result: held: %s\n", d->why);
        return;
    }
    if (!d->routed) {
        rl_buf_add_c(trace, "result: every <pacs> gets it as it is\n");
        return;
    }
    rl_buf_add_c(trace, "result: send to");
    for (size_t i = 0; i < d->nsends; i++)
        rl_buf_printf(trace, "%s %s (%s)", i ? "," : "", d->sends[i].to,
                      route_dicom_ts_name(d->sends[i].ts));
    rl_buf_add_ch(trace, '\n');
}

int route_dicom_receive(const route_set *rs, const route_dcm_io *io, void *ds,
                        const route_dcm_who *who, route_dicom_decision *d, rl_buf *trace,
                        rl_err *err)
{
    memset(d, 0, sizeof *d);
    rl_buf_init(&d->progs, (size_t)RL_ROUTE_DICOM_PROG_MAX * RL_DICOM_SENDS_MAX);
    rl_err_clear(err);
    const rt_dicom *D = &rs->dicom;
    if (!D->present) {
        snprintf(d->summary, sizeof d->summary, "no DICOM routes");
        if (trace)
            rl_buf_add_c(trace, "no DICOM routes: every <pacs> gets it as it is\n");
        return ROUTE_OK;
    }
    rt_dacc a = { .io = io, .ds = ds, .dict = D->dict };
    int rc = 0;
    if (trace) {
        facts f;
        rc = facts_get(&a, D, who, &f, err);
        rl_buf_add_c(trace, "instance: modality ");
        rt_dvals_trace(trace, &f.modality);
        rl_buf_add_c(trace, ", SOP class ");
        rt_dvals_trace(trace, &f.sop);
        rl_buf_printf(trace, ", calling AE \"%s\", called AE \"%s\"\n", f.calling, f.called);
        facts_free(&f);
    }
    if (rc == 0)
        rc = on_receive(rs, &a, who, d, trace, err);
    if (rc == 0 && !d->held)
        rc = dicom_routes(rs, &a, who, d, trace, err);
    if (rc != 0)
        return rc;
    if (trace)
        trace_result(d, trace);
    return ROUTE_OK;
}

void route_dicom_decision_free(route_dicom_decision *d)
{
    rl_buf_free(&d->progs);
}
