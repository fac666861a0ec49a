/* Field paths (PID-3[2].1, OBX[3]-5, MSH-9.2): parsing, formatting, lookup. */
#include <stdio.h>
#include <string.h>

#include "hl7_internal.h"
#include "radlink/limits.h"

static char upper(char c)
{
    return (c >= 'a' && c <= 'z') ? (char)(c - 32) : c;
}

/* Read a number 1..RL_MAX_PATH_INDEX at text[*i]. */
static int read_index(rl_str t, size_t *i, const char *what, unsigned *out, rl_err *err)
{
    size_t start = *i;
    unsigned long v = 0;
    while (*i < t.n && t.p[*i] >= '0' && t.p[*i] <= '9') {
        v = v * 10 + (unsigned long)(t.p[*i] - '0');
        if (v > RL_MAX_PATH_INDEX)
            return rl_err_set(err, HL7_E_PATH, (long)start,
                              "path '%.*s': %s number above %u", RL_STR_FMT(t), what,
                              RL_MAX_PATH_INDEX);
        (*i)++;
    }
    if (*i == start)
        return rl_err_set(err, HL7_E_PATH, (long)start,
                          "path '%.*s': expected a %s number at column %zu", RL_STR_FMT(t),
                          what, start + 1);
    if (v == 0)
        return rl_err_set(err, HL7_E_PATH, (long)start,
                          "path '%.*s': %s numbers start at 1", RL_STR_FMT(t), what);
    *out = (unsigned)v;
    return HL7_OK;
}

static int read_bracket(rl_str t, size_t *i, const char *what, unsigned *out, rl_err *err)
{
    (*i)++; /* '[' */
    int rc = read_index(t, i, what, out, err);
    if (rc != HL7_OK)
        return rc;
    if (*i >= t.n || t.p[*i] != ']')
        return rl_err_set(err, HL7_E_PATH, (long)*i, "path '%.*s': expected ']' at column %zu",
                          RL_STR_FMT(t), *i + 1);
    (*i)++;
    return HL7_OK;
}

int hl7_path_parse(rl_str t, hl7_path *p, rl_err *err)
{
    memset(p, 0, sizeof *p);
    p->seg_idx = 1;
    t = rl_str_trim(t);
    if (t.n < 3)
        return rl_err_set(err, HL7_E_PATH, 0,
                          "path '%.*s': expected a segment name such as PID", RL_STR_FMT(t));
    for (int k = 0; k < 3; k++) {
        char c = upper(t.p[k]);
        bool ok = (c >= 'A' && c <= 'Z') || (k > 0 && c >= '0' && c <= '9');
        if (!ok)
            return rl_err_set(err, HL7_E_PATH, k,
                              "path '%.*s': segment name must be three letters or digits",
                              RL_STR_FMT(t));
        p->seg[k] = c;
    }
    size_t i = 3;
    int rc;
    if (i < t.n && t.p[i] == '[' && (rc = read_bracket(t, &i, "segment", &p->seg_idx, err)))
        return rc;
    if (i == t.n)
        return HL7_OK;
    if (t.p[i] != '-')
        return rl_err_set(err, HL7_E_PATH, (long)i,
                          "path '%.*s': expected '-' and a field number at column %zu",
                          RL_STR_FMT(t), i + 1);
    i++;
    if ((rc = read_index(t, &i, "field", &p->field, err)))
        return rc;
    if (i < t.n && t.p[i] == '[' && (rc = read_bracket(t, &i, "repetition", &p->rep, err)))
        return rc;
    if (i < t.n && t.p[i] == '.') {
        i++;
        if ((rc = read_index(t, &i, "component", &p->comp, err)))
            return rc;
        if (i < t.n && t.p[i] == '.') {
            i++;
            if ((rc = read_index(t, &i, "subcomponent", &p->sub, err)))
                return rc;
        }
    }
    if (i != t.n)
        return rl_err_set(err, HL7_E_PATH, (long)i,
                          "path '%.*s': unexpected '%c' at column %zu", RL_STR_FMT(t), t.p[i],
                          i + 1);
    return HL7_OK;
}

size_t hl7_path_format(const hl7_path *p, char *out, size_t outn)
{
    char tmp[RL_HL7_PATH_TEXT];
    int n = snprintf(tmp, sizeof tmp, "%s", p->seg);
    if (p->seg_idx > 1)
        n += snprintf(tmp + n, sizeof tmp - (size_t)n, "[%u]", p->seg_idx);
    if (p->field) {
        n += snprintf(tmp + n, sizeof tmp - (size_t)n, "-%u", p->field);
        if (p->rep)
            n += snprintf(tmp + n, sizeof tmp - (size_t)n, "[%u]", p->rep);
        if (p->comp)
            n += snprintf(tmp + n, sizeof tmp - (size_t)n, ".%u", p->comp);
        if (p->sub)
            n += snprintf(tmp + n, sizeof tmp - (size_t)n, ".%u", p->sub);
    }
    return (size_t)snprintf(out, outn, "%s", tmp);
}

/* The field a path names, or HL7_ABSENT. */
static hl7_kind path_field(const hl7_msg *m, const hl7_path *p, rl_str *f)
{
    const rl_str *seg = hl7_seg_find(m, p->seg, p->seg_idx);
    if (!seg)
        return HL7_ABSENT;
    return hl7_field(m, *seg, p->field, f);
}

static bool is_msh_header(const hl7_path *p)
{
    return p->field <= 2 && p->field > 0 && memcmp(p->seg, "MSH", 3) == 0;
}

hl7_kind hl7_get_raw(const hl7_msg *m, const hl7_path *p, unsigned rep, rl_str *raw)
{
    rl_str v;
    hl7_kind k = path_field(m, p, &v);
    if (k == HL7_ABSENT || p->field == 0) {
        if (k != HL7_ABSENT)
            *raw = v;
        return k;
    }
    if (is_msh_header(p)) {
        /* MSH-1 and MSH-2 are the delimiters themselves: never split. */
        if ((p->rep ? p->rep : rep) > 1 || p->comp > 1 || p->sub > 1)
            return HL7_ABSENT;
        *raw = v;
        return k;
    }
    unsigned r = p->rep ? p->rep : (rep ? rep : 1);
    if ((k = hl7_piece(v, m->seps.rep, r, &v)) == HL7_ABSENT)
        return k;
    if (p->comp && (k = hl7_piece(v, m->seps.comp, p->comp, &v)) == HL7_ABSENT)
        return k;
    if (p->comp && p->sub && (k = hl7_piece(v, m->seps.sub, p->sub, &v)) == HL7_ABSENT)
        return k;
    *raw = v;
    return k;
}

unsigned hl7_rep_count(const hl7_msg *m, const hl7_path *p)
{
    rl_str v;
    if (path_field(m, p, &v) == HL7_ABSENT)
        return 0;
    if (p->field == 0 || is_msh_header(p))
        return 1;
    return hl7_piece_count(v, m->seps.rep);
}

int hl7_get_rep(hl7_msg *m, const hl7_path *p, unsigned rep, rl_str *out, rl_err *err)
{
    rl_str raw;
    hl7_kind k = hl7_get_raw(m, p, rep, &raw);
    if (k == HL7_ABSENT || k == HL7_EMPTY || k == HL7_NULL) {
        *out = (rl_str){ "", 0 };
        return k;
    }
    if (p->field == 0 || is_msh_header(p)) {
        *out = raw;
        return k;
    }
    int rc = hl7_decode(m, raw, out, err);
    return rc < 0 ? rc : (int)k;
}

int hl7_get(hl7_msg *m, const hl7_path *p, rl_str *out, rl_err *err)
{
    return hl7_get_rep(m, p, 0, out, err);
}
