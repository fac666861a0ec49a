/* What the loaders of a route file share: errors collected as
 * "file:line: <element>: message", strings and arrays from the set's arena,
 * and the file's tables, which HL7 routes and DICOM routes both name. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "lutil.h"
#include "table.h"

void rt_lerr(rt_loader *L, const xmlNode *n, const char *fmt, ...)
{
    char msg[RL_ROUTE_LOAD_ERROR];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    xdoc_error(L->errors, L->file, n, "<%s>: %s", (const char *)n->name, msg);
    L->bad++;
}

const char *rt_ldup(rt_loader *L, const char *s)
{
    return s ? rl_arena_dup(&L->rs->arena, s, strlen(s)) : NULL;
}

void *rt_lalloc(rt_loader *L, size_t n)
{
    void *p = rl_arena_alloc(&L->rs->arena, n ? n : 1);
    if (p)
        memset(p, 0, n ? n : 1);
    return p;
}

size_t rt_lcount(const xmlNode *n, const char *name)
{
    size_t k = 0;
    for (xmlNode *c = xdoc_first(n); c; c = xdoc_next(c))
        k += !name || xdoc_is(c, name);
    return k;
}

bool rt_lnode(const rt_loader *L, const char *ae)
{
    for (size_t k = 0; L->o && ae && k < L->o->n_dicom_nodes; k++)
        if (!strcmp(L->o->dicom_nodes[k], ae))
            return true;
    return false;
}

bool rt_lbool(const xmlNode *n, const char *name)
{
    const char *v = xdoc_attr(n, name);
    return v && (strcmp(v, "true") == 0 || strcmp(v, "1") == 0);
}

static void load_table(rt_loader *L, const xmlNode *n, rt_table *t)
{
    t->name = rt_ldup(L, xdoc_attr(n, "name"));
    t->line = (int)xmlGetLineNo(n);
    t->deflt = rt_ldup(L, xdoc_attr(n, "default"));
    t->icase = rt_lbool(n, "ignore-case");
    size_t k = rt_lcount(n, "entry");
    const char *file = xdoc_attr(n, "file");
    if (file && k) {
        rt_lerr(L, n, "table '%s': give entries or a file, not both", t->name);
        return;
    }
    if (file) {
        char path[RL_ROUTE_FILE_PATH];
        rl_err err;
        if (file[0] == '/')
            snprintf(path, sizeof path, "%s", file);
        else
            snprintf(path, sizeof path, "%s/%s", L->dir, file);
        if (rt_table_load_csv(L->rs, t, path, rt_lbool(n, "header"), &err) != 0) {
            rt_lerr(L, n, "table '%s': %s", t->name, err.msg);
            return;
        }
    } else {
        t->keys = rt_lalloc(L, k * sizeof *t->keys);
        t->vals = rt_lalloc(L, k * sizeof *t->vals);
        for (xmlNode *e = xdoc_first(n); e; e = xdoc_next(e)) {
            if (!xdoc_is(e, "entry"))
                continue;
            t->keys[t->n] = rt_ldup(L, xdoc_attr(e, "key"));
            t->vals[t->n++] = rt_ldup(L, xdoc_attr(e, "value"));
        }
    }
    rl_err err;
    if (rt_table_build(&L->rs->arena, t, &err) != 0)
        rt_lerr(L, n, "table '%s': %s", t->name, err.msg);
}

void rt_load_table(rt_loader *L, const xmlNode *n)
{
    route_set *rs = L->rs;
    const char *name = xdoc_attr(n, "name");
    int first = route_table_find(rs, name);
    if (first >= 0) {
        rt_lerr(L, n, "table '%s' is defined twice (first at line %d)", name,
                rs->tables[first].line);
        return;
    }
    load_table(L, n, &rs->tables[rs->ntables]);
    rs->ntables++;
}
