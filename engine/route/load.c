/* Loading a route file: schema validation by libxml2 (routes/routes.xsd, built
 * into the binary), then compilation with the checks a schema cannot make:
 * field paths, regexes, date and name formats, table and destination names,
 * duplicate names. Every error is collected as "file:line: message". */
#include <libgen.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "radlink/digest.h"
#include "radlink/limits.h"
#include "radlink/prefetch.h"
#include "radlink/wl.h"
#include "radlink/xdoc.h"
#include "cond.h"
#include "dload.h"
#include "lutil.h"
#include "route_internal.h"
#include "table.h"
#include "xform.h"

extern const char radlink_routes_xsd[];
extern const unsigned long radlink_routes_xsd_len;

/* Parse a path attribute; false (and an error) when it does not parse. */
static bool path_attr(rt_loader *L, const xmlNode *n, const char *attr, hl7_path *p,
                      const char **text)
{
    const char *v = xdoc_attr(n, attr);
    rl_err err;
    if (!v)
        return false;
    if (hl7_path_parse(rl_str_c(v), p, &err) != HL7_OK) {
        rt_lerr(L, n, "%s: %s", attr, err.msg);
        return false;
    }
    if (text) {
        char canon[RL_HL7_PATH_TEXT];
        hl7_path_format(p, canon, sizeof canon);
        *text = rt_ldup(L, canon);
    }
    return true;
}

/* ---- destinations and tables ---- */

static int find_dest(const route_set *rs, const char *name)
{
    for (size_t i = 0; i < rs->ndests; i++)
        if (strcmp(rs->dests[i].name, name) == 0)
            return (int)i;
    return -1;
}

static void copy_field(rt_loader *L, const xmlNode *n, const char *attr, char *dst, size_t dstn)
{
    const char *v = xdoc_attr(n, attr);
    if (!v)
        return;
    if (strlen(v) >= dstn)
        rt_lerr(L, n, "%s: longer than %zu characters", attr, dstn - 1);
    else
        snprintf(dst, dstn, "%s", v);
}

/* A file path, relative to the directory of the file that names it. */
static void copy_path(rt_loader *L, const xmlNode *n, const char *attr, char *dst, size_t dstn)
{
    const char *v = xdoc_attr(n, attr);
    if (!v)
        return;
    bool rel = v[0] != '/' && L->dir[0] && strcmp(L->dir, ".") != 0;
    if (strlen(v) + (rel ? strlen(L->dir) + 1 : 0) >= dstn)
        rt_lerr(L, n, "%s: path longer than %zu characters", attr, dstn - 1);
    else
        snprintf(dst, dstn, "%s%s%s", rel ? L->dir : "", rel ? "/" : "", v);
}

/* A destination's time in seconds (up to a day), def when absent; past a
 * day is an error, not the default. */
static unsigned dest_seconds(rt_loader *L, const xmlNode *n, const char *attr, unsigned def)
{
    const char *t = xdoc_attr(n, attr);
    uint64_t v;
    if (!t)
        return def;
    if (!rl_str_to_u64(rl_str_c(t), RL_DEST_SECONDS_MAX, &v)) {
        rt_lerr(L, n, "%s=\"%s\": seconds from 0 to %u are expected", attr, t,
                RL_DEST_SECONDS_MAX);
        return def;
    }
    return (unsigned)v;
}

static void load_dest(rt_loader *L, const xmlNode *n, route_dest *d)
{
    copy_field(L, n, "name", d->name, sizeof d->name);
    copy_field(L, n, "host", d->host, sizeof d->host);
    if (!d->host[strspn(d->host, " ")])
        rt_lerr(L, n, "destination '%s': host is empty", d->name);
    uint64_t v;
    d->port = rl_str_to_u64(rl_str_c(xdoc_attr(n, "port")), 65535, &v) ? (unsigned)v : 0;
    d->ack_timeout_s = dest_seconds(L, n, "ack-timeout", 30);
    d->max_retry_delay_s = dest_seconds(L, n, "max-retry-delay", 60);
    const char *ae = xdoc_attr(n, "on-ae"), *ar = xdoc_attr(n, "on-ar"), *r = xdoc_attr(n, "retries");
    d->on_ae = ae && !strcmp(ae, "park") ? ROUTE_AE_PARK : ROUTE_AE_RETRY;
    d->on_ar = ar && !strcmp(ar, "retry") ? ROUTE_AR_RETRY : ROUTE_AR_PARK;
    d->retries = RL_DEST_RETRIES_DEFAULT;
    if (r && (!rl_str_to_u64(rl_str_c(r), RL_DEST_RETRIES_MAX, &v) || !v))
        rt_lerr(L, n, "retries=\"%s\": 1 to %d sends are expected", r, RL_DEST_RETRIES_MAX);
    else if (r)
        d->retries = (unsigned)v;
    const char *ord = xdoc_attr(n, "ordered");
    d->unordered = ord && (!strcmp(ord, "false") || !strcmp(ord, "0"));
    for (xmlNode *c = xdoc_first(n); c; c = xdoc_next(c)) {
        if (!xdoc_is(c, "tls"))
            continue;
        d->tls = true;
        copy_path(L, c, "ca", d->ca, sizeof d->ca);
        copy_path(L, c, "cert", d->cert, sizeof d->cert);
        copy_path(L, c, "key", d->key, sizeof d->key);
        copy_field(L, c, "server-name", d->server_name, sizeof d->server_name);
        if (!d->cert[0] != !d->key[0])
            rt_lerr(L, c, "cert and key go together");
    }
}

/* ---- conditions ---- */

static rt_ckind cond_kind(const xmlNode *n)
{
    static const struct { const char *name; rt_ckind k; } kinds[] = {
        { "equals", C_EQUALS }, { "in", C_IN },         { "matches", C_MATCHES },
        { "exists", C_EXISTS }, { "empty", C_EMPTY },   { "null", C_NULL },
        { "before", C_BEFORE }, { "after", C_AFTER },   { "all", C_ALL },
        { "any", C_ANY },       { "not", C_NOT },
    };
    for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++)
        if (xdoc_is(n, kinds[i].name))
            return kinds[i].k;
    return C_ALL;
}

static void load_cond(rt_loader *L, const xmlNode *n, rt_cond *c);

static void load_conds(rt_loader *L, const xmlNode *parent, rt_cond **out, size_t *nout)
{
    size_t k = rt_lcount(parent, NULL);
    rt_cond *cs = rt_lalloc(L, k * sizeof *cs);
    size_t i = 0;
    for (xmlNode *n = xdoc_first(parent); n; n = xdoc_next(n))
        load_cond(L, n, &cs[i++]);
    *out = cs;
    *nout = i;
}

/* "NW XO CA" or <value> children. */
static void load_values(rt_loader *L, const xmlNode *n, rt_cond *c)
{
    const char *attr = xdoc_attr(n, "values");
    size_t k = rt_lcount(n, "value");
    char *copy = attr ? rl_arena_dup(&L->rs->arena, attr, strlen(attr)) : NULL;
    size_t words = 0;
    for (char *p = copy; p && *p;) {
        while (*p == ' ' || *p == '\t' || *p == '\n')
            p++;
        if (!*p)
            break;
        words++;
        while (*p && *p != ' ' && *p != '\t' && *p != '\n')
            p++;
    }
    c->values = rt_lalloc(L, (k + words) * sizeof *c->values);
    for (char *p = copy; p && *p;) {
        while (*p == ' ' || *p == '\t' || *p == '\n')
            *p++ = '\0';
        if (!*p)
            break;
        c->values[c->nvalues++] = p;
        while (*p && *p != ' ' && *p != '\t' && *p != '\n')
            p++;
    }
    for (xmlNode *v = xdoc_first(n); v; v = xdoc_next(v))
        if (xdoc_is(v, "value"))
            c->values[c->nvalues++] = rt_ldup(L, xdoc_text(v));
    if (c->nvalues == 0)
        rt_lerr(L, n, "%s: no values (give values=\"A B\" or <value> elements)", c->ptext);
}

static void load_cond(rt_loader *L, const xmlNode *n, rt_cond *c)
{
    c->kind = cond_kind(n);
    c->line = (int)xmlGetLineNo(n);
    c->icase = rt_lbool(n, "ignore-case");
    if (c->kind == C_ALL || c->kind == C_ANY || c->kind == C_NOT) {
        load_conds(L, n, &c->kids, &c->nkids);
        return;
    }
    path_attr(L, n, "path", &c->path, &c->ptext);
    if (!c->ptext)
        c->ptext = "?";
    else if (c->path.field == 0 && c->kind != C_EXISTS && c->kind != C_EMPTY)
        rt_lerr(L, n, "path: %s names a segment, not a field (e.g. %s-3); only <exists> and "
             "<empty> test whole segments", c->ptext, c->ptext);
    switch (c->kind) {
    case C_EQUALS:
        c->value = rt_ldup(L, xdoc_attr(n, "value"));
        break;
    case C_IN:
        load_values(L, n, c);
        break;
    case C_MATCHES: {
        const char *re = xdoc_attr(n, "regex");
        rl_err err;
        if (rt_regex_compile(re, c->icase, &c->re, &err) != 0)
            rt_lerr(L, n, "%s", err.msg);
        else
            c->has_re = true;
        c->value = rt_ldup(L, re);
        break;
    }
    case C_BEFORE:
    case C_AFTER:
        c->value = rt_ldup(L, xdoc_attr(n, "value"));
        if (!rt_date_parse(c->value, &c->date))
            rt_lerr(L, n, "value '%s' is not a date (YYYYMMDD[HHMM[SS]], now or today, with an "
                 "optional offset such as today-7d)", c->value);
        break;
    default:
        break;
    }
}

/* ---- transforms ---- */

static void load_xform(rt_loader *L, const xmlNode *n, rt_xform *x)
{
    static const struct { const char *name; rt_tkind k; } kinds[] = {
        { "set", T_SET },       { "copy", T_COPY }, { "map", T_MAP },   { "delete", T_DELETE },
        { "case", T_CASE },     { "date", T_DATE }, { "name", T_NAME },
    };
    for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++)
        if (xdoc_is(n, kinds[i].name))
            x->kind = kinds[i].k;
    x->line = (int)xmlGetLineNo(n);
    x->table = -1;
    if (x->kind == T_COPY) {
        path_attr(L, n, "from", &x->path, &x->ptext);
        x->has_to = path_attr(L, n, "to", &x->to, &x->totext);
    } else {
        path_attr(L, n, "path", &x->path, &x->ptext);
        x->has_to = x->kind != T_CASE && path_attr(L, n, "to", &x->to, &x->totext);
    }
    if (!x->ptext)
        x->ptext = "?";
    const hl7_path *target = x->has_to ? &x->to : &x->path;
    bool needs_field = x->kind != T_DELETE;
    if (needs_field && x->ptext[0] != '?' && (x->path.field == 0 || target->field == 0))
        rt_lerr(L, n, "a field path is needed (e.g. PID-5), not a segment name");
    if (!strncmp(x->ptext, "MSH", 3) && target->field && target->field <= 2 &&
        (x->kind != T_COPY || x->has_to))
        rt_lerr(L, n, "MSH-1 and MSH-2 are the delimiters and cannot be changed");
    switch (x->kind) {
    case T_SET:
        x->value = rt_ldup(L, xdoc_attr(n, "value"));
        break;
    case T_MAP: {
        const char *t = xdoc_attr(n, "table");
        x->table = route_table_find(L->rs, t);
        if (x->table < 0)
            rt_lerr(L, n, "unknown table '%s'", t);
        x->deflt = rt_ldup(L, xdoc_attr(n, "default"));
        break;
    }
    case T_DELETE: {
        const char *raw = xdoc_attr(n, "path");
        x->all_segments = x->path.field == 0 && raw && !strchr(raw, '[');
        if (x->path.field == 0 && !strncmp(x->ptext, "MSH", 3))
            rt_lerr(L, n, "MSH cannot be deleted");
        break;
    }
    case T_CASE: {
        const char *to = xdoc_attr(n, "to");
        x->casemode = strcmp(to, "upper") == 0 ? 0 : strcmp(to, "lower") == 0 ? 1 : 2;
        break;
    }
    case T_DATE:
        x->from_fmt = rt_ldup(L, xdoc_attr(n, "from") ? xdoc_attr(n, "from") : "yyyyMMddHHmmss");
        x->fmt = rt_ldup(L, xdoc_attr(n, "format"));
        if (!rt_datefmt_valid(x->from_fmt))
            rt_lerr(L, n, "from: '%s' is not a date format (use yyyy MM dd HH mm ss)", x->from_fmt);
        if (!rt_datefmt_valid(x->fmt))
            rt_lerr(L, n, "format: '%s' is not a date format (use yyyy MM dd HH mm ss)", x->fmt);
        break;
    case T_NAME: {
        x->fmt = rt_ldup(L, xdoc_attr(n, "format"));
        rl_err err;
        if (rt_namefmt_check(x->fmt, &err) != 0)
            rt_lerr(L, n, "format: %s (use {family} {given} {middle} {suffix} {prefix} {degree})",
                 err.msg);
        break;
    }
    default:
        break;
    }
}

/* ---- actions ---- */

static bool is_action(const xmlNode *n)
{
    static const char *names[] = { "forward", "reject", "accept", "log",
                                   "worklist", "patient", "reconcile", "report", "prefetch" };
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (xdoc_is(n, names[i]))
            return true;
    return false;
}

/* A DICOM node the engine config names (or any, when the loader has none
 * to check against). */
static void check_node(rt_loader *L, const xmlNode *n, const char *attr, const char *ae)
{
    if (L->o && L->o->dicom_nodes && !rt_lnode(L, ae))
        rt_lerr(L, n, "%s: unknown DICOM node '%s' (a <pacs> or <node> of the engine config)",
                attr, ae);
}

static void load_prefetch(rt_loader *L, const xmlNode *n, route_prefetch_opts *p)
{
    p->line = (int)xmlGetLineNo(n);
    p->from = rt_ldup(L, xdoc_attr(n, "from"));
    p->to = rt_ldup(L, xdoc_attr(n, "to"));
    check_node(L, n, "from", p->from);
    check_node(L, n, "to", p->to);
    if (!strcmp(p->from, p->to))
        rt_lerr(L, n, "from and to are the same node '%s'", p->from);
    prefetch_rule r;
    prefetch_rule_default(&r);
    uint64_t max;
    const char *mx = xdoc_attr(n, "max");
    p->max = mx && rl_str_to_u64(rl_str_c(mx), RL_PREFETCH_MAX, &max) && max ? (unsigned)max
                                                                             : r.max;
    if (mx && (!rl_str_to_u64(rl_str_c(mx), RL_PREFETCH_MAX, &max) || !max))
        rt_lerr(L, n, "max '%s': 1 to %d", mx, RL_PREFETCH_MAX);
    const char *w = xdoc_attr(n, "within");
    p->within_s = r.within_s;
    if (w && !strcmp(w, "any"))
        p->within_s = 0;
    else if (w && prefetch_parse_age(w, &p->within_s) != 0)
        rt_lerr(L, n, "within '%s': an age such as 5y, 18m, 30d, or any", w);
    const char *lead = xdoc_attr(n, "lead");
    if (lead && prefetch_parse_age(lead, &p->lead_s) != 0)
        rt_lerr(L, n, "lead '%s': a time such as 12h or 2d", lead);
    rl_err err;
    if (prefetch_parse_modality(xdoc_attr(n, "modality"), &r, &err) != 0)
        rt_lerr(L, n, "%s", err.msg);
    p->modality = (int)r.modality;
    p->modalities = r.modality == PREFETCH_MOD_LIST ? rt_ldup(L, r.modalities) : NULL;
    const char *bp = xdoc_attr(n, "body-part");
    p->same_body_part = !bp || !strcmp(bp, "same");
    p->body_table = -1;
    const char *t = xdoc_attr(n, "body-part-table");
    if (t && (p->body_table = route_table_find(L->rs, t)) < 0)
        rt_lerr(L, n, "body-part-table: no table '%s' in this file", t);
}

static void load_action(rt_loader *L, const xmlNode *n, rt_action *a)
{
    a->line = (int)xmlGetLineNo(n);
    a->dest = -1;
    if (xdoc_is(n, "forward")) {
        a->kind = A_FORWARD;
        a->dest_name = rt_ldup(L, xdoc_attr(n, "to"));
        a->dest = find_dest(L->rs, a->dest_name);
        if (a->dest < 0 && !rt_lbool(n, "optional"))
            rt_lerr(L, n, "unknown destination '%s' (define it with <destination> here or in the "
                 "engine config, or mark the forward optional=\"true\")", a->dest_name);
    } else if (xdoc_is(n, "reject")) {
        a->kind = A_REJECT;
        const char *code = xdoc_attr(n, "code");
        snprintf(a->code, sizeof a->code, "%s", code ? code : "AE");
        a->text = rt_ldup(L, xdoc_attr(n, "text"));
        uint64_t ec;
        const char *e = xdoc_attr(n, "error-code");
        a->errcode = e && rl_str_to_u64(rl_str_c(e), 999, &ec) ? (int)ec : HL7_ERR_INTERNAL;
    } else if (xdoc_is(n, "accept")) {
        a->kind = A_ACCEPT;
    } else if (xdoc_is(n, "log")) {
        a->kind = A_LOG;
        a->text = rt_ldup(L, xdoc_attr(n, "text"));
        const char *lv = xdoc_attr(n, "level");
        a->level = !lv || !strcmp(lv, "info") ? 2 : !strcmp(lv, "warn") ? 1 : !strcmp(lv, "error") ? 0 : 3;
    } else {
        a->kind = A_HOOK;
        a->hook = xdoc_is(n, "worklist")  ? ROUTE_HOOK_WORKLIST
                  : xdoc_is(n, "patient") ? ROUTE_HOOK_PATIENT
                  : xdoc_is(n, "report")  ? ROUTE_HOOK_REPORT
                  : xdoc_is(n, "prefetch") ? ROUTE_HOOK_PREFETCH
                                          : ROUTE_HOOK_RECONCILE;
        if (a->hook == ROUTE_HOOK_PREFETCH)
            load_prefetch(L, n, &a->prefetch);
        if (a->hook == ROUTE_HOOK_REPORT) {
            const char *um = xdoc_attr(n, "unmatched"), *pdf = xdoc_attr(n, "pdf"),
                       *up = xdoc_attr(n, "update");
            a->report = (route_report_opts){
                .optional = rt_lbool(n, "optional"),
                .unmatched = um && !strcmp(um, "refuse") ? ROUTE_REPORT_REFUSE : ROUTE_REPORT_HOLD,
                .pdf_only = pdf && !strcmp(pdf, "instead"),
                .iocm = up && !strcmp(up, "iocm"),
                .complete_step = rt_lbool(n, "complete-step"),
            };
        }
    }
}

/* ---- routes ---- */

static void load_route(rt_loader *L, const xmlNode *n, rt_route *r)
{
    r->name = rt_ldup(L, xdoc_attr(n, "name"));
    r->line = (int)xmlGetLineNo(n);
    r->cont = rt_lbool(n, "continue");
    r->matches = rt_lalloc(L, rt_lcount(n, "match") * sizeof *r->matches);
    size_t nacts = 0;
    for (xmlNode *c = xdoc_first(n); c; c = xdoc_next(c))
        nacts += is_action(c);
    r->acts = rt_lalloc(L, nacts * sizeof *r->acts);
    for (xmlNode *c = xdoc_first(n); c; c = xdoc_next(c)) {
        if (xdoc_is(c, "match")) {
            rt_match *m = &r->matches[r->nmatches++];
            m->line = (int)xmlGetLineNo(c);
            m->type = rt_ldup(L, xdoc_attr(c, "type"));
            m->version = rt_ldup(L, xdoc_attr(c, "version"));
            m->app = rt_ldup(L, xdoc_attr(c, "application"));
            m->fac = rt_ldup(L, xdoc_attr(c, "facility"));
        } else if (xdoc_is(c, "when")) {
            load_conds(L, c, &r->when, &r->nwhen);
        } else if (xdoc_is(c, "transform")) {
            r->xf = rt_lalloc(L, rt_lcount(c, NULL) * sizeof *r->xf);
            for (xmlNode *t = xdoc_first(c); t; t = xdoc_next(t))
                load_xform(L, t, &r->xf[r->nxf++]);
        } else if (is_action(c)) {
            if (r->nacts && (r->acts[r->nacts - 1].kind == A_REJECT ||
                             r->acts[r->nacts - 1].kind == A_ACCEPT))
                rt_lerr(L, c, "route '%s': this action never runs, <%s> before it ends the route",
                     r->name, r->acts[r->nacts - 1].kind == A_REJECT ? "reject" : "accept");
            load_action(L, c, &r->acts[r->nacts++]);
        }
    }
}

static void load_wl(rt_loader *L, const xmlNode *n)
{
    const char *d = xdoc_attr(n, "defaults");
    L->rs->wl_ihe = !d || strcmp(d, "ihe") == 0;
    L->rs->wl = rt_lalloc(L, rt_lcount(n, "attribute") * sizeof *L->rs->wl);
    L->rs->stations = rt_lalloc(L, rt_lcount(n, "station") * sizeof *L->rs->stations);
    for (xmlNode *c = xdoc_first(n); c; c = xdoc_next(c)) {
        if (xdoc_is(c, "station")) {
            route_wl_station *st = &L->rs->stations[L->rs->nstations++];
            st->line = (int)xmlGetLineNo(c);
            st->table = -1;
            const char *by = xdoc_attr(c, "by");
            if (!by || !strcmp(by, "modality"))
                st->by = ROUTE_STATION_MODALITY;
            else if (!strcmp(by, "procedure"))
                st->by = ROUTE_STATION_PROCEDURE;
            else if (path_attr(L, c, "by", &st->path, NULL))
                st->by = ROUTE_STATION_PATH;
            const char *t = xdoc_attr(c, "table");
            if (t && (st->table = route_table_find(L->rs, t)) < 0)
                rt_lerr(L, c, "unknown table '%s'", t);
            st->deflt = rt_ldup(L, xdoc_attr(c, "default"));
            if (!t && !st->deflt)
                rt_lerr(L, c, "<station>: give a table, a default, or both");
            continue;
        }
        route_wl_attr *a = &L->rs->wl[L->rs->nwl++];
        a->line = (int)xmlGetLineNo(c);
        a->table = -1;
        copy_field(L, c, "keyword", a->keyword, sizeof a->keyword);
        a->has_path = path_attr(L, c, "path", &a->path, NULL);
        a->has_fallback = path_attr(L, c, "fallback", &a->fallback, NULL);
        a->value = rt_ldup(L, xdoc_attr(c, "value"));
        a->deflt = rt_ldup(L, xdoc_attr(c, "default"));
        a->required = rt_lbool(c, "required");
        const char *tl = xdoc_attr(c, "too-long");
        a->too_long = !tl ? ROUTE_LONG_DEFAULT : !strcmp(tl, "cut") ? ROUTE_LONG_CUT
                      : !strcmp(tl, "refuse") ? ROUTE_LONG_REFUSE : ROUTE_LONG_OMIT;
        const char *t = xdoc_attr(c, "table");
        if (t && (a->table = route_table_find(L->rs, t)) < 0)
            rt_lerr(L, c, "unknown table '%s'", t);
        if (!a->has_path && !a->value && xdoc_attr(c, "path") == NULL)
            rt_lerr(L, c, "%s: give a path or a value", a->keyword);
        rl_err err;
        if (!wl_model_find(a->keyword))
            rt_lerr(L, c, "keyword '%s' is not a Modality Worklist attribute radlink knows (e.g. "
                 "PatientID, Modality, ScheduledStationAETitle, "
                 "RequestedProcedureCodeSequence/CodeValue; see routes/README.md)", a->keyword);
        else if (L->o && L->o->check_wl_keyword &&
                 L->o->check_wl_keyword(a->keyword, &err))
            rt_lerr(L, c, "%s", err.msg);
    }
}

static void load_patient_id(rt_loader *L, const xmlNode *n)
{
    route_patient_id *p = &L->rs->patient;
    if (p->authority || p->types)
        rt_lerr(L, n, "<patient-id> is given twice");
    p->authority = xdoc_attr(n, "authority") ? rt_ldup(L, xdoc_attr(n, "authority")) : NULL;
    p->types = xdoc_attr(n, "type") ? rt_ldup(L, xdoc_attr(n, "type")) : NULL;
    const char *u = xdoc_attr(n, "unknown-prior");
    p->refuse_unknown_prior = u && !strcmp(u, "refuse");
}

static void load_mpps(rt_loader *L, const xmlNode *n)
{
    route_mpps_status *m = &L->rs->mpps;
    if (m->present)
        rt_lerr(L, n, "<mpps-status> is given twice");
    m->present = true;
    m->dest_name = rt_ldup(L, xdoc_attr(n, "to"));
    m->dest = find_dest(L->rs, m->dest_name);
    if (m->dest < 0 && !rt_lbool(n, "optional"))
        rt_lerr(L, n, "<mpps-status>: unknown destination '%s' (define it with <destination> here "
             "or in the engine config, or mark it optional=\"true\")", m->dest_name);
    const char *msg = xdoc_attr(n, "message");
    m->omg = msg && !strcmp(msg, "OMG^O19");
    static const char *const attr[3] = { "in-progress", "completed", "discontinued" };
    static const char *const def[3] = { "IP", "CM", "DC" };
    for (int i = 0; i < 3; i++)
        m->code[i] = xdoc_attr(n, attr[i]) ? rt_ldup(L, xdoc_attr(n, attr[i])) : def[i];
    route_mpps_field *f = rt_lalloc(L, rt_lcount(n, "field") * sizeof *f);
    m->fields = f;
    for (xmlNode *c = xdoc_first(n); c; c = xdoc_next(c)) {
        route_mpps_field *x = &f[m->nfields];
        if (!path_attr(L, c, "path", &x->path, NULL))
            continue;
        x->keyword = rt_ldup(L, xdoc_attr(c, "keyword"));
        x->value = rt_ldup(L, xdoc_attr(c, "value"));
        if (!x->keyword == !x->value)
            rt_lerr(L, c, "<field>: give a keyword or a value");
        else if (x->keyword && !wl_model_find(x->keyword) && strncmp(x->keyword, "Performed", 9))
            rt_lerr(L, c, "<field>: '%s' is neither a worklist attribute nor a Performed... "
                 "attribute of the MPPS", x->keyword);
        m->nfields++;
    }
}

static void compile(rt_loader *L, const xmlNode *root)
{
    route_set *rs = L->rs;
    rs->wl_ihe = true;
    const char *def = xdoc_attr(root, "default");
    rs->default_accept = !def || strcmp(def, "accept") == 0;
    const char *dc = xdoc_attr(root, "default-code");
    snprintf(rs->default_code, sizeof rs->default_code, "%s", dc ? dc : "AR");
    rs->default_text = rt_ldup(L, xdoc_attr(root, "default-text") ? xdoc_attr(root, "default-text")
                                                              : "no route takes this message");

    size_t nextra = L->o ? L->o->n_extra_dests : 0;
    rs->dests = rt_lalloc(L, (rt_lcount(root, "destination") + nextra) * sizeof *rs->dests);
    for (size_t i = 0; i < nextra; i++)
        rs->dests[rs->ndests++] = L->o->extra_dests[i];
    rs->tables = rt_lalloc(L, (rt_lcount(root, "table") + rt_dicom_count_tables(root)) *
                                  sizeof *rs->tables);
    rs->routes = rt_lalloc(L, rt_lcount(root, "route") * sizeof *rs->routes);
    bool dtables = false; /* <dicom-routes>' tables, after the file's own */
    for (xmlNode *n = xdoc_first(root); n; n = xdoc_next(n)) {
        if (!dtables && !xdoc_is(n, "destination") && !xdoc_is(n, "table")) {
            rt_dicom_load_tables(L, root);
            dtables = true;
        }
        if (xdoc_is(n, "destination")) {
            route_dest d;
            memset(&d, 0, sizeof d);
            load_dest(L, n, &d);
            if (find_dest(rs, d.name) >= 0)
                rt_lerr(L, n, "destination '%s' is defined twice (here%s)", d.name,
                     nextra ? " or in the engine config" : "");
            else
                rs->dests[rs->ndests++] = d;
        } else if (xdoc_is(n, "table")) {
            rt_load_table(L, n);
        } else if (xdoc_is(n, "worklist-mapping")) {
            load_wl(L, n);
        } else if (xdoc_is(n, "mpps-status")) {
            load_mpps(L, n);
        } else if (xdoc_is(n, "patient-id")) {
            load_patient_id(L, n);
        } else if (xdoc_is(n, "dicom-routes")) {
            rt_dicom_load(L, n);
        } else if (xdoc_is(n, "route")) {
            const char *name = xdoc_attr(n, "name");
            for (size_t i = 0; i < rs->nroutes; i++)
                if (strcmp(rs->routes[i].name, name) == 0)
                    rt_lerr(L, n, "route name '%s' is used twice (first at line %d)", name,
                         rs->routes[i].line);
            load_route(L, n, &rs->routes[rs->nroutes++]);
        }
    }
}

static void free_conds(rt_cond *c, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (c[i].has_re)
            regfree(&c[i].re);
        free_conds(c[i].kids, c[i].nkids);
    }
}

void *route_cache_get(const route_set *rs, route_cache_slot slot)
{
    return atomic_load(&((route_set *)rs)->cache[slot]);
}

void *route_cache_put(const route_set *rs, route_cache_slot slot, void *p, void (*free_fn)(void *))
{
    route_set *w = (route_set *)rs; /* the cache is not part of what the set means */
    void *none = NULL;
    if (atomic_compare_exchange_strong(&w->cache[slot], &none, p)) {
        w->cache_free[slot] = free_fn;
        return p;
    }
    free_fn(p);
    return none;
}

void route_free(route_set *rs)
{
    if (!rs)
        return;
    for (int i = 0; i < ROUTE_CACHE_SLOTS; i++) {
        void *p = atomic_load(&rs->cache[i]);
        if (p && rs->cache_free[i])
            rs->cache_free[i](p);
    }
    for (size_t i = 0; i < rs->nroutes; i++)
        free_conds(rs->routes[i].when, rs->routes[i].nwhen);
    rt_dicom_free(rs);
    rl_arena_free(&rs->arena);
    free(rs);
}

int route_load_mem(const char *name, const char *text, size_t len, const route_load_opts *o,
                   route_set **out, rl_buf *errors)
{
    xmlDocPtr doc = xdoc_load_mem(name, text, len, radlink_routes_xsd, radlink_routes_xsd_len,
                                  errors);
    if (!doc)
        return ROUTE_E_LOAD;
    route_set *rs = calloc(1, sizeof *rs);
    if (!rs) {
        xmlFreeDoc(doc);
        rl_buf_printf(errors, "%s: out of memory\n", name);
        return ROUTE_E_LOAD;
    }
    rl_arena_init(&rs->arena, 16384, 0);
    snprintf(rs->source, sizeof rs->source, "%s", name);
    digest_sha256_hex(text, len, rs->sha256);
    char *copy = rl_arena_dup(&rs->arena, text, len);
    rs->text = (rl_str){ copy ? copy : "", copy ? len : 0 };
    rt_loader L = { .rs = rs, .file = name, .errors = errors, .o = o };
    char tmp[RL_CFG_PATH_MAX];
    snprintf(tmp, sizeof tmp, "%s", name);
    snprintf(L.dir, sizeof L.dir, "%s", dirname(tmp));
    compile(&L, xmlDocGetRootElement(doc));
    xmlFreeDoc(doc);
    if (L.bad) {
        route_free(rs);
        return ROUTE_E_LOAD;
    }
    *out = rs;
    return ROUTE_OK;
}

int route_dest_from_xml(const void *node, const char *file, route_dest *d, rl_buf *errors)
{
    rt_loader L = { .file = file, .errors = errors };
    char tmp[RL_CFG_PATH_MAX];
    snprintf(tmp, sizeof tmp, "%s", file);
    snprintf(L.dir, sizeof L.dir, "%s", dirname(tmp));
    memset(d, 0, sizeof *d);
    load_dest(&L, node, d);
    return L.bad ? ROUTE_E_LOAD : ROUTE_OK;
}

extern const char radlink_default_routes[];
extern const unsigned long radlink_default_routes_len;

int route_load_default(const route_load_opts *o, route_set **out, rl_buf *errors)
{
    return route_load_mem("default routes (built in)", radlink_default_routes,
                          radlink_default_routes_len, o, out, errors);
}

int route_load(const char *path, const route_load_opts *o, route_set **out, rl_buf *errors)
{
    rl_buf b;
    if (xdoc_read(path, &b, errors) != 0)
        return ROUTE_E_LOAD;
    int rc = route_load_mem(path, b.data ? b.data : "", b.len, o, out, errors);
    rl_buf_free(&b);
    return rc;
}

const char *route_source(const route_set *rs)
{
    return rs->source;
}

rl_str route_text(const route_set *rs)
{
    return rs->text;
}

const char *route_sha256(const route_set *rs)
{
    return rs->sha256;
}

size_t route_count(const route_set *rs)
{
    return rs->nroutes;
}

int route_hook_line(const route_set *rs, route_hook_kind k)
{
    for (size_t i = 0; i < rs->nroutes; i++)
        for (size_t a = 0; a < rs->routes[i].nacts; a++)
            if (rs->routes[i].acts[a].kind == A_HOOK && rs->routes[i].acts[a].hook == k)
                return rs->routes[i].acts[a].line;
    return 0;
}

const route_prefetch_opts *route_prefetch_find(const route_set *rs, const char *from,
                                               const char *to)
{
    for (size_t i = 0; i < rs->nroutes; i++)
        for (size_t j = 0; j < rs->routes[i].nacts; j++) {
            const rt_action *a = &rs->routes[i].acts[j];
            if (a->kind == A_HOOK && a->hook == ROUTE_HOOK_PREFETCH &&
                !strcmp(a->prefetch.from, from) && !strcmp(a->prefetch.to, to))
                return &a->prefetch;
        }
    return NULL;
}

const char *route_hook_name(route_hook_kind k)
{
    static const char *const names[ROUTE_HOOK_COUNT] = { "worklist", "patient", "reconcile",
                                                         "report", "prefetch" };
    return (unsigned)k < ROUTE_HOOK_COUNT ? names[k] : "?";
}

const char *route_name(const route_set *rs, size_t i)
{
    return i < rs->nroutes ? rs->routes[i].name : NULL;
}

size_t route_table_count(const route_set *rs)
{
    return rs->ntables;
}

const char *route_table_info(const route_set *rs, size_t i, size_t *entries)
{
    if (i >= rs->ntables)
        return NULL;
    *entries = rs->tables[i].n;
    return rs->tables[i].name;
}

const route_dest *route_dests(const route_set *rs, size_t *n)
{
    *n = rs->ndests;
    return rs->dests;
}

const route_patient_id *route_patient(const route_set *rs)
{
    return &rs->patient;
}

const route_mpps_status *route_mpps(const route_set *rs)
{
    return &rs->mpps;
}

const route_wl_station *route_wl_stations(const route_set *rs, size_t *n)
{
    *n = rs->nstations;
    return rs->stations;
}

const route_wl_attr *route_wl_attrs(const route_set *rs, size_t *n, bool *ihe_defaults)
{
    *n = rs->nwl;
    if (ihe_defaults)
        *ihe_defaults = rs->wl_ihe;
    return rs->wl;
}
