/* Lookup tables: entries from the route file or a CSV file, hashed once at
 * load (open addressing, FNV-1a) so a lookup costs one hash and a compare. */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "table.h"

static uint32_t hash(rl_str s, bool icase)
{
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < s.n; i++) {
        unsigned char c = (unsigned char)s.p[i];
        h = (h ^ (icase ? (unsigned char)tolower(c) : c)) * 16777619u;
    }
    return h;
}

static bool key_eq(const char *k, rl_str s, bool icase)
{
    size_t n = strlen(k);
    if (n != s.n)
        return false;
    return icase ? strncasecmp(k, s.p, n) == 0 : memcmp(k, s.p, n) == 0;
}

int rt_table_build(rl_arena *a, rt_table *t, rl_err *err)
{
    t->nslots = 8;
    while (t->nslots < t->n * 2)
        t->nslots *= 2;
    t->slots = rl_arena_alloc(a, t->nslots * sizeof *t->slots);
    if (!t->slots)
        return rl_err_set(err, ROUTE_E_LOAD, -1, "out of memory");
    memset(t->slots, 0, t->nslots * sizeof *t->slots);
    for (size_t i = 0; i < t->n; i++) {
        rl_str k = rl_str_c(t->keys[i]);
        size_t s = hash(k, t->icase) & (t->nslots - 1);
        while (t->slots[s]) {
            if (key_eq(t->keys[t->slots[s] - 1], k, t->icase))
                return rl_err_set(err, ROUTE_E_LOAD, -1, "key '%s' appears twice", t->keys[i]);
            s = (s + 1) & (t->nslots - 1);
        }
        t->slots[s] = (uint32_t)i + 1;
    }
    return 0;
}

const char *rt_table_lookup(const rt_table *t, rl_str key)
{
    if (!t->nslots)
        return NULL;
    size_t s = hash(key, t->icase) & (t->nslots - 1);
    while (t->slots[s]) {
        if (key_eq(t->keys[t->slots[s] - 1], key, t->icase))
            return t->vals[t->slots[s] - 1];
        s = (s + 1) & (t->nslots - 1);
    }
    return NULL;
}

/* One CSV field (RFC 4180: quotes, doubled quotes inside) from *p. */
static char *csv_field(char **p, bool *eol)
{
    char *s = *p, *out = s, *r = s;
    if (*r == '"') {
        r++;
        for (;;) {
            if (*r == '\0')
                break;
            if (*r == '"' && r[1] == '"') {
                *out++ = '"';
                r += 2;
            } else if (*r == '"') {
                r++;
                break;
            } else {
                *out++ = *r++;
            }
        }
    } else {
        while (*r && *r != ',' && *r != '\n' && *r != '\r')
            *out++ = *r++;
    }
    while (*r && *r != ',' && *r != '\n' && *r != '\r')
        r++; /* junk after a closing quote is ignored */
    char term = *r;
    *eol = term != ',';
    if (term == ',')
        r++;
    else if (term == '\r')
        r += r[1] == '\n' ? 2 : 1;
    else if (term == '\n')
        r++;
    *out = '\0'; /* out <= the terminator, which was read above */
    *p = r;
    return s;
}

int rt_table_load_csv(route_set *rs, rt_table *t, const char *path, bool header, rl_err *err)
{
    rl_buf b;
    rl_err rerr;
    rl_buf_init(&b, RL_ROUTE_TABLE_FILE_MAX);
    if (rl_read_file(path, &b, &rerr) != 0) {
        rl_buf_free(&b);
        return rl_err_set(err, ROUTE_E_LOAD, -1, "cannot read %s", rerr.msg);
    }
    char *text = rl_arena_dup(&rs->arena, b.data ? b.data : "", b.len);
    rl_buf_free(&b);
    size_t lines = 1;
    for (char *c = text; *c; c++)
        lines += *c == '\n';
    t->keys = rl_arena_alloc(&rs->arena, lines * sizeof *t->keys);
    t->vals = rl_arena_alloc(&rs->arena, lines * sizeof *t->vals);
    if (!text || !t->keys || !t->vals)
        return rl_err_set(err, ROUTE_E_LOAD, -1, "out of memory");
    char *p = text;
    size_t line = 1;
    bool skip = header;
    for (; *p; line++) {
        if (*p == '\n' || *p == '\r') { /* blank line */
            p += p[0] == '\r' && p[1] == '\n' ? 2 : 1;
            continue;
        }
        bool eol;
        char *k = csv_field(&p, &eol);
        if (eol)
            return rl_err_set(err, ROUTE_E_LOAD, -1, "%s:%zu: expected key,value (two columns)",
                              path, line);
        char *v = csv_field(&p, &eol);
        while (!eol) /* extra columns are allowed and ignored */
            csv_field(&p, &eol);
        if (skip) {
            skip = false;
            continue;
        }
        t->keys[t->n] = k;
        t->vals[t->n++] = v;
    }
    return 0;
}

const char *route_table_get(const route_set *rs, int table, rl_str key)
{
    if (table < 0 || (size_t)table >= rs->ntables)
        return NULL;
    const char *v = rt_table_lookup(&rs->tables[table], key);
    return v ? v : rs->tables[table].deflt;
}

int route_table_find(const route_set *rs, const char *name)
{
    for (size_t i = 0; i < rs->ntables; i++)
        if (strcmp(rs->tables[i].name, name) == 0)
            return (int)i;
    return -1;
}
