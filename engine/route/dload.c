/* Loading <dicom-routes> (routes/README.md, "DICOM routes"): the checks the
 * schema cannot make. Attributes are resolved by the caller's DICOM
 * dictionary, constants checked against the attribute they are written to,
 * SOP classes resolved to UIDs, nodes checked against the engine's, regexes
 * compiled as HL7 routes compile them, and each <send>'s program made once
 * here, so a send that could not be encoded is an error with its line. */
#include <stdio.h>
#include <string.h>

#include "cond.h"
#include "dload.h"
#include "dop.h"
#include "dprog.h"
#include "table.h"
#include "xform.h"

static const route_dicom_dict *dict(const rt_loader *L)
{
    return L->o->dicom_dict;
}

/* Parse attribute attr of n as a DICOM attribute; false (and an error) when
 * it is absent or the dictionary does not know it. */
static bool dpath(rt_loader *L, const xmlNode *n, const char *attr, rt_dpath *out)
{
    const char *v = xdoc_attr(n, attr);
    memset(out, 0, sizeof *out);
    out->text = "?";
    if (!v)
        return false;
    rl_err err;
    rl_err_clear(&err);
    if (dict(L)->path_parse(v, &out->p, &err) != 0 || out->p.n < 1 ||
        out->p.n > DICOM_PATH_DEPTH) {
        rt_lerr(L, n, "%s '%s': %s", attr, v,
                err.msg[0] ? err.msg : "not an attribute the DICOM dictionary knows");
        return false;
    }
    out->text = rt_ldup(L, v);
    return true;
}

static bool is_sq(const rt_dpath *p)
{
    return strcmp(p->p.vr, "SQ") == 0;
}

static bool check_value(rt_loader *L, const xmlNode *n, const rt_dpath *p, const char *v,
                        const char *what)
{
    rl_err err;
    rl_err_clear(&err);
    if (dict(L)->value_check(&p->p, v, &err) == 0)
        return true;
    rt_lerr(L, n, "%s '%s' for %s: %s", what, v, p->text, err.msg);
    return false;
}

/* Every value of table t may be written to p (a map writes any of them). */
static void check_table(rt_loader *L, const xmlNode *n, const rt_table *t, const rt_dpath *p)
{
    size_t bad = 0, first = 0;
    rl_err why;
    for (size_t i = 0; i < t->n; i++) {
        rl_err err;
        rl_err_clear(&err);
        if (dict(L)->value_check(&p->p, t->vals[i], &err) != 0 && !bad++) {
            first = i;
            why = err;
        }
    }
    if (bad)
        rt_lerr(L, n, "table '%s': %zu value%s cannot be written to %s; the first, for key "
                "'%s': '%s': %s", t->name, bad, bad == 1 ? "" : "s", p->text, t->keys[first],
                t->vals[first], why.msg);
    if (t->deflt)
        check_value(L, n, p, t->deflt, "the table's default");
}

static const rt_table *table_attr(rt_loader *L, const xmlNode *n)
{
    const char *t = xdoc_attr(n, "table");
    int i = t ? route_table_find(L->rs, t) : -1;
    if (t && i < 0)
        rt_lerr(L, n, "unknown table '%s'", t);
    return i < 0 ? NULL : &L->rs->tables[i];
}

/* ---- coercions ---- */

static void load_deid(rt_loader *L, const xmlNode *n, rt_dop *op)
{
    op->kind = DOP_DEID;
    const char *profile = xdoc_attr(n, "profile");
    if (strcmp(profile, "basic") != 0)
        rt_lerr(L, n, "profile '%s': only \"basic\" is known (PS3.15 Annex E, the Basic "
                "Application Level Confidentiality Profile)", profile);
    const char *opts = xdoc_attr(n, "options");
    for (const char *p = opts ? opts : ""; *p;) {
        p += strspn(p, " \t\r\n");
        size_t k = strcspn(p, " \t\r\n");
        if (!k)
            break;
        unsigned i = 0;
        while (i < RT_DEID_OPTIONS && (strlen(rt_deid_option_name(i)) != k ||
                                       strncmp(rt_deid_option_name(i), p, k) != 0))
            i++;
        if (i == RT_DEID_OPTIONS)
            rt_lerr(L, n, "unknown option '%.*s' (retain-longitudinal-dates, "
                    "retain-patient-characteristics, retain-device-identity, "
                    "retain-institution-identity, retain-uids, clean-descriptions)", (int)k, p);
        else
            op->deid.options |= 1u << i;
        p += k;
    }
    rl_buf keep;
    rl_buf_init(&keep, 0);
    for (xmlNode *c = xdoc_first(n); c; c = xdoc_next(c)) {
        const char *cr = xdoc_attr(c, "creator");
        bool ok = cr[0] && strlen(cr) <= 64; /* a Private Creator is an LO */
        for (const char *p = cr; *p && ok; p++)
            ok = *p != '\\' && (unsigned char)*p >= 0x20;
        if (!ok)
            rt_lerr(L, c, "creator '%s': not a private creator (1 to 64 characters, no "
                    "backslash or control character)", cr);
        rl_buf_printf(&keep, "%s%s", keep.len ? "\n" : "", cr);
    }
    op->deid.keep_private = rt_ldup(L, keep.len ? rl_buf_cstr(&keep) : "");
    rl_buf_free(&keep);
}

/* <set keyword value|from [table [default]]>, <copy from to>, <remove keyword>. */
static void load_set(rt_loader *L, const xmlNode *n, rt_dop *op)
{
    if (xdoc_is(n, "copy")) {
        op->kind = DOP_COPY;
        dpath(L, n, "from", &op->src);
        dpath(L, n, "to", &op->target);
        return;
    }
    if (xdoc_is(n, "remove")) {
        op->kind = DOP_REMOVE;
        dpath(L, n, "keyword", &op->target);
        op->src = op->target;
        return;
    }
    const char *value = xdoc_attr(n, "value"), *from = xdoc_attr(n, "from");
    const char *table = xdoc_attr(n, "table"), *deflt = xdoc_attr(n, "default");
    bool target = dpath(L, n, "keyword", &op->target);
    op->src = op->target;
    if (!value == !from)
        rt_lerr(L, n, "give value=\"...\" or from=\"KEYWORD\" (one of them)");
    else if (table && !from)
        rt_lerr(L, n, "table=\"%s\" looks up the value of another attribute: give "
                "from=\"KEYWORD\", not value", table);
    if (deflt && !table)
        rt_lerr(L, n, "default=\"...\" goes with table=\"...\"");
    op->kind = value ? DOP_SET : table ? DOP_SET_TABLE : DOP_SET_FROM;
    if (from)
        dpath(L, n, "from", &op->src);
    if (value) {
        op->value = rt_ldup(L, value);
        if (target && !is_sq(&op->target))
            check_value(L, n, &op->target, value, "value");
    }
    if (table) {
        op->table = table_attr(L, n);
        op->value = rt_ldup(L, deflt);
        if (target && deflt && !is_sq(&op->target))
            check_value(L, n, &op->target, deflt, "default");
        if (target && op->table && !is_sq(&op->target))
            check_table(L, n, op->table, &op->target);
    }
}

/* <map keyword table [to] [default]>, <date keyword [from] format [to]>,
 * <name keyword format [to]>: they read keyword and write to (or it). */
static void load_reformat(rt_loader *L, const xmlNode *n, rt_dop *op)
{
    bool ok = dpath(L, n, "keyword", &op->src);
    op->target = op->src;
    if (xdoc_attr(n, "to"))
        ok = dpath(L, n, "to", &op->target) && ok;
    if (xdoc_is(n, "map")) {
        op->kind = DOP_MAP;
        op->table = table_attr(L, n);
        op->value = rt_ldup(L, xdoc_attr(n, "default"));
        if (ok && op->value && !is_sq(&op->target))
            check_value(L, n, &op->target, op->value, "default");
        if (ok && op->table && !is_sq(&op->target))
            check_table(L, n, op->table, &op->target);
    } else if (xdoc_is(n, "date")) {
        op->kind = DOP_DATE;
        const char *vr = op->src.p.vr, *from = xdoc_attr(n, "from");
        op->from_fmt = rt_ldup(L, from ? from : !strcmp(vr, "DA") ? "yyyyMMdd"
                                            : !strcmp(vr, "TM") ? "HHmmss" : "yyyyMMddHHmmss");
        op->fmt = rt_ldup(L, xdoc_attr(n, "format"));
        if (!rt_datefmt_valid(op->from_fmt))
            rt_lerr(L, n, "from: '%s' is not a date format (use yyyy MM dd HH mm ss)",
                    op->from_fmt);
        if (!rt_datefmt_valid(op->fmt))
            rt_lerr(L, n, "format: '%s' is not a date format (use yyyy MM dd HH mm ss)", op->fmt);
    } else {
        op->kind = DOP_NAME;
        op->fmt = rt_ldup(L, xdoc_attr(n, "format"));
        rl_err err;
        if (rt_namefmt_check(op->fmt, &err) != 0 || strstr(op->fmt, "{degree}"))
            rt_lerr(L, n, "format: %s (use {family} {given} {middle} {prefix} {suffix})",
                    strstr(op->fmt, "{degree}") ? "a DICOM person name has no {degree}"
                                                : err.msg);
    }
}

static void load_dop(rt_loader *L, const xmlNode *n, rt_dop *op)
{
    op->line = (int)xmlGetLineNo(n);
    if (xdoc_is(n, "deidentify")) {
        load_deid(L, n, op);
        return;
    }
    if (xdoc_is(n, "set") || xdoc_is(n, "copy") || xdoc_is(n, "remove"))
        load_set(L, n, op);
    else
        load_reformat(L, n, op);
    const rt_dpath *sq = op->kind != DOP_REMOVE && is_sq(&op->target) ? &op->target
                         : op->kind != DOP_SET && op->kind != DOP_REMOVE && is_sq(&op->src)
                             ? &op->src
                             : NULL;
    if (sq)
        rt_lerr(L, n, "%s is a sequence: name an attribute in it (%s/Keyword)", sq->text,
                sq->text);
}

/* ---- conditions ---- */

static const char *const tests[] = { "equals", "in", "table", "matches", "present", "absent" };
#define NTESTS (sizeof tests / sizeof tests[0])

static void load_dcond(rt_loader *L, const xmlNode *n, rt_dcond *c);

static void load_kids(rt_loader *L, const xmlNode *n, rt_dcond *c)
{
    c->kids = rt_lalloc(L, rt_lcount(n, NULL) * sizeof *c->kids);
    for (xmlNode *k = xdoc_first(n); k; k = xdoc_next(k))
        load_dcond(L, k, &c->kids[c->nkids++]);
}

static void load_in(rt_loader *L, const xmlNode *n, rt_dcond *c, const char *text)
{
    char *copy = rl_arena_dup(&L->rs->arena, text, strlen(text));
    size_t words = 0;
    for (const char *p = text; *p;) {
        p += strspn(p, " \t\r\n");
        words += *p != '\0';
        p += strcspn(p, " \t\r\n");
    }
    c->values = rt_lalloc(L, words * sizeof *c->values);
    for (char *p = copy; p && *p;) {
        p += strspn(p, " \t\r\n");
        if (!*p)
            break;
        c->values[c->nvalues++] = p;
        p += strcspn(p, " \t\r\n");
        if (*p)
            *p++ = '\0';
    }
    if (!c->nvalues)
        rt_lerr(L, n, "in: no values (a space-separated list)");
}

/* <when keyword="K" TEST="..."/>: exactly one test. */
static void load_test(rt_loader *L, const xmlNode *n, rt_dcond *c)
{
    size_t k = 0, which = 0, second = 0;
    for (size_t i = 0; i < NTESTS; i++) {
        if (!xdoc_attr(n, tests[i]))
            continue;
        if (k == 0)
            which = i;
        else if (k == 1)
            second = i;
        k++;
    }
    if (xdoc_first(n))
        rt_lerr(L, n, "a <when keyword=...> holds no <any>, <all> or <not> (put them in a "
                "<when> without keyword)");
    if (k != 1) {
        if (k == 0)
            rt_lerr(L, n, "give one test: equals, in, table, matches, present=\"true\" or "
                    "absent=\"true\"");
        else
            rt_lerr(L, n, "give one test, not %s and %s", tests[which], tests[second]);
        return;
    }
    c->kind = (rt_dckind)(DC_EQUALS + which);
    bool ok = dpath(L, n, "keyword", &c->at);
    const char *v = xdoc_attr(n, tests[which]);
    if (c->icase && c->kind != DC_EQUALS && c->kind != DC_IN && c->kind != DC_MATCHES)
        rt_lerr(L, n, "ignore-case goes with equals, in and matches (a table says "
                "ignore-case itself)");
    if (ok && is_sq(&c->at) && c->kind != DC_PRESENT && c->kind != DC_ABSENT)
        rt_lerr(L, n, "%s is a sequence: it has no value to compare (test it with present or "
                "absent, or name an attribute in it: %s/Keyword)", c->at.text, c->at.text);
    c->value = rt_ldup(L, v);
    rl_err err;
    switch (c->kind) {
    case DC_IN:
        load_in(L, n, c, v);
        break;
    case DC_TABLE:
        c->table = table_attr(L, n);
        break;
    case DC_MATCHES:
        if (rt_regex_compile(v, c->icase, &c->re, &err) != 0)
            rt_lerr(L, n, "%s", err.msg);
        else
            c->has_re = true;
        break;
    default:
        break;
    }
}

static void load_dcond(rt_loader *L, const xmlNode *n, rt_dcond *c)
{
    c->line = (int)xmlGetLineNo(n);
    c->icase = rt_lbool(n, "ignore-case");
    if (!xdoc_is(n, "when")) { /* <any>, <all>, <not> of <when>s */
        c->kind = xdoc_is(n, "any") ? DC_ANY : xdoc_is(n, "not") ? DC_NOT : DC_ALL;
        load_kids(L, n, c);
        return;
    }
    if (xdoc_attr(n, "keyword")) {
        load_test(L, n, c);
        return;
    }
    for (size_t i = 0; i < NTESTS; i++)
        if (xdoc_attr(n, tests[i])) {
            rt_lerr(L, n, "%s=\"...\" tests an attribute: give keyword=\"...\" too", tests[i]);
            return;
        }
    if (xdoc_attr(n, "ignore-case"))
        rt_lerr(L, n, "ignore-case goes with a test (equals, in, matches)");
    size_t kids = rt_lcount(n, NULL);
    if (kids == 0)
        rt_lerr(L, n, "give keyword=\"...\" and a test, or <any>, <all> or <not> inside");
    else if (kids == 1) /* <when><any>...</any></when> is that <any> */
        load_dcond(L, xdoc_first(n), c);
    else {
        c->kind = DC_ALL;
        load_kids(L, n, c);
    }
}

/* ---- match, send, route ---- */

static bool has_wildcard(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (s[i] == '*' || s[i] == '?' || s[i] == '[')
            return true;
    return false;
}

/* sop-class: UIDs, keywords or names, separated by spaces; a UID pattern
 * (with wildcards) is kept as it is; a name with spaces only alone. */
static void load_sop(rt_loader *L, const xmlNode *n, rt_dmatch *m, const char *text)
{
    char uid[RL_UID_SIZE];
    rl_err err;
    rl_err_clear(&err);
    size_t words = 0;
    for (const char *p = text; *p;) {
        p += strspn(p, " \t\r\n");
        words += *p != '\0';
        p += strcspn(p, " \t\r\n");
    }
    m->sop_text = rt_ldup(L, text);
    m->sop = rt_lalloc(L, (words ? words : 1) * sizeof *m->sop);
    if (words > 1 && dict(L)->sop_class(text, uid, sizeof uid, &err) == 0) {
        m->sop[m->nsop++] = rt_ldup(L, uid);
        return;
    }
    for (const char *p = text; *p;) {
        p += strspn(p, " \t\r\n");
        size_t k = strcspn(p, " \t\r\n");
        if (!k)
            break;
        char word[RL_ROUTE_LOAD_ERROR];
        snprintf(word, sizeof word, "%.*s", (int)k, p);
        p += k;
        rl_err_clear(&err);
        if (has_wildcard(word, strlen(word)))
            m->sop[m->nsop++] = rt_ldup(L, word);
        else if (dict(L)->sop_class(word, uid, sizeof uid, &err) == 0)
            m->sop[m->nsop++] = rt_ldup(L, uid);
        else
            rt_lerr(L, n, "sop-class '%s': %s", word,
                    err.msg[0] ? err.msg : "not a SOP class the DICOM dictionary knows");
    }
    if (!words)
        rt_lerr(L, n, "sop-class is empty");
}

static void load_dmatch(rt_loader *L, const xmlNode *n, rt_dmatch *m)
{
    m->line = (int)xmlGetLineNo(n);
    m->modality = rt_ldup(L, xdoc_attr(n, "modality"));
    m->calling = rt_ldup(L, xdoc_attr(n, "calling-ae"));
    m->called = rt_ldup(L, xdoc_attr(n, "called-ae"));
    if (xdoc_attr(n, "sop-class"))
        load_sop(L, n, m, xdoc_attr(n, "sop-class"));
}

static void load_send(rt_loader *L, const xmlNode *n, const rt_droute *r, rt_dsend *s)
{
    s->line = (int)xmlGetLineNo(n);
    s->to = rt_ldup(L, xdoc_attr(n, "to"));
    const char *ts = xdoc_attr(n, "transfer-syntax");
    for (int i = 0; ts && i < ROUTE_TS_COUNT; i++)
        if (!strcmp(ts, route_dicom_ts_name((route_ts)i)))
            s->ts = (route_ts)i;
    if (!rt_lnode(L, s->to))
        rt_lerr(L, n, "unknown DICOM node '%s' (a <pacs> or <node> of the engine config)", s->to);
    for (size_t i = 0; i < r->nsends; i++)
        if (!strcmp(r->sends[i].to, s->to))
            rt_lerr(L, n, "route '%s' sends to '%s' twice (first at line %d)", r->name, s->to,
                    r->sends[i].line);
    s->ops = rt_lalloc(L, rt_lcount(n, NULL) * sizeof *s->ops);
    int deid = 0;
    for (xmlNode *c = xdoc_first(n); c; c = xdoc_next(c)) {
        rt_dop *op = &s->ops[s->nops++];
        load_dop(L, c, op);
        if (op->kind == DOP_DEID && deid)
            rt_lerr(L, c, "<deidentify> is given twice in this <send> (first at line %d)", deid);
        else if (op->kind == DOP_DEID)
            deid = op->line;
    }
}

static void load_droute(rt_loader *L, const xmlNode *n, rt_droute *r)
{
    int bad = L->bad;
    r->name = rt_ldup(L, xdoc_attr(n, "name"));
    r->line = (int)xmlGetLineNo(n);
    r->cont = rt_lbool(n, "continue");
    size_t all = rt_lcount(n, NULL);
    r->matches = rt_lalloc(L, rt_lcount(n, "match") * sizeof *r->matches);
    r->when = rt_lalloc(L, rt_lcount(n, "when") * sizeof *r->when);
    r->sends = rt_lalloc(L, rt_lcount(n, "send") * sizeof *r->sends);
    r->ops = rt_lalloc(L, all * sizeof *r->ops);
    for (xmlNode *c = xdoc_first(n); c; c = xdoc_next(c)) {
        if (xdoc_is(c, "match"))
            load_dmatch(L, c, &r->matches[r->nmatches++]);
        else if (xdoc_is(c, "when"))
            load_dcond(L, c, &r->when[r->nwhen++]);
        else if (xdoc_is(c, "send")) {
            load_send(L, c, r, &r->sends[r->nsends]);
            r->nsends++;
        } else
            load_dop(L, c, &r->ops[r->nops++]);
    }
    if (L->bad != bad) /* a program is made only of what loaded */
        return;
    size_t i = 0;
    for (xmlNode *c = xdoc_first(n); c; c = xdoc_next(c)) {
        if (!xdoc_is(c, "send"))
            continue;
        rt_dsend *s = &r->sends[i++];
        rl_buf b;
        rl_err err;
        rl_buf_init(&b, 0);
        if (rt_dprog_encode(r, s, &b, &err) != 0)
            rt_lerr(L, c, "%s", err.msg);
        else
            s->prog = (rl_str){ rl_arena_dup(&L->rs->arena, b.data, b.len), b.len };
        if (!s->prog.p)
            s->prog.n = 0;
        rl_buf_free(&b);
    }
}

/* ---- <dicom-routes> ---- */

static const xmlNode *find_dicom(const xmlNode *root)
{
    for (xmlNode *n = xdoc_first(root); n; n = xdoc_next(n))
        if (xdoc_is(n, "dicom-routes"))
            return n;
    return NULL;
}

size_t rt_dicom_count_tables(const xmlNode *root)
{
    const xmlNode *dr = find_dicom(root);
    return dr ? rt_lcount(dr, "table") : 0;
}

void rt_dicom_load_tables(rt_loader *L, const xmlNode *root)
{
    const xmlNode *dr = find_dicom(root);
    for (xmlNode *n = dr ? xdoc_first(dr) : NULL; n; n = xdoc_next(n))
        if (xdoc_is(n, "table"))
            rt_load_table(L, n);
}

/* The attributes <match> reads, named by tag. */
static void load_fixed(rt_loader *L, const xmlNode *dr, rt_dpath *p, const char *tag,
                       const char *name)
{
    rl_err err;
    rl_err_clear(&err);
    memset(p, 0, sizeof *p);
    p->text = name;
    if (dict(L)->path_parse(tag, &p->p, &err) != 0)
        rt_lerr(L, dr, "the DICOM dictionary does not know %s %s: %s", name, tag, err.msg);
}

static void load_routes(rt_loader *L, const xmlNode *dr)
{
    rt_dicom *D = &L->rs->dicom;
    D->recv = rt_lalloc(L, rt_lcount(dr, "on-receive") * sizeof *D->recv);
    D->routes = rt_lalloc(L, rt_lcount(dr, "dicom-route") * sizeof *D->routes);
    for (xmlNode *n = xdoc_first(dr); n; n = xdoc_next(n)) {
        bool recv = xdoc_is(n, "on-receive");
        if (!recv && !xdoc_is(n, "dicom-route"))
            continue;
        const char *name = xdoc_attr(n, "name");
        for (int k = 0; k < 2; k++) {
            const rt_droute *rs = k ? D->routes : D->recv;
            for (size_t i = 0, m = k ? D->nroutes : D->nrecv; i < m; i++)
                if (!strcmp(rs[i].name, name))
                    rt_lerr(L, n, "route name '%s' is used twice (first at line %d)", name,
                            rs[i].line);
        }
        if (recv)
            load_droute(L, n, &D->recv[D->nrecv++]);
        else
            load_droute(L, n, &D->routes[D->nroutes++]);
    }
}

void rt_dicom_load(rt_loader *L, const xmlNode *dr)
{
    rt_dicom *D = &L->rs->dicom;
    D->present = true;
    const char *def = xdoc_attr(dr, "default");
    D->hold = def && !strcmp(def, "hold");
    const route_dicom_dict *d = L->o ? L->o->dicom_dict : NULL;
    if (!d || !d->path_parse || !d->value_check || !d->sop_class) {
        rt_lerr(L, dr, "DICOM routes need the DICOM data dictionary, which was not given to "
                "the route loader: this program cannot load them");
        return;
    }
    if (L->o->n_dicom_nodes > RL_DICOM_NODES_MAX) {
        rt_lerr(L, dr, "%zu DICOM nodes in the engine config, more than %d",
                L->o->n_dicom_nodes, RL_DICOM_NODES_MAX);
        return;
    }
    D->dict = d;
    load_fixed(L, dr, &D->modality, "(0008,0060)", "Modality");
    load_fixed(L, dr, &D->sop_class, "(0008,0016)", "SOPClassUID");
    load_routes(L, dr);
}

static void free_dconds(rt_dcond *c, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (c[i].has_re)
            regfree(&c[i].re);
        free_dconds(c[i].kids, c[i].nkids);
    }
}

void rt_dicom_free(route_set *rs)
{
    for (size_t i = 0; i < rs->dicom.nrecv; i++)
        free_dconds(rs->dicom.recv[i].when, rs->dicom.recv[i].nwhen);
    for (size_t i = 0; i < rs->dicom.nroutes; i++)
        free_dconds(rs->dicom.routes[i].when, rs->dicom.routes[i].nwhen);
}

bool route_dicom_present(const route_set *rs)
{
    return rs->dicom.present;
}

void route_dicom_counts(const route_set *rs, size_t *on_receive, size_t *routes, bool *hold)
{
    *on_receive = rs->dicom.nrecv;
    *routes = rs->dicom.nroutes;
    *hold = rs->dicom.hold;
}
