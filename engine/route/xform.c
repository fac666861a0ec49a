/* Transforms applied to a message before its route's actions: set, copy, map
 * through a table, delete, change case, reformat dates and person names.
 * Values are read decoded and written escaped in the message's own delimiters
 * and character set. A path without repetition or component addresses the
 * whole field. */
#include <locale.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <wctype.h>

#include "table.h"
#include "trace.h"
#include "xform.h"

const char *rt_xform_name(rt_tkind k)
{
    static const char *names[] = { "set", "copy", "map", "delete", "case", "date", "name" };
    return names[k];
}

/* Current text at a path for traces: decoded for a component, raw for a field. */
static void trace_at(rl_buf *trace, hl7_msg *m, const hl7_path *p)
{
    rl_str v;
    int k;
    if (p->comp || p->field == 0) {
        rl_err err;
        k = hl7_get(m, p, &v, &err);
        if (k < 0)
            k = (int)hl7_get_raw(m, p, 0, &v);
    } else {
        const rl_str *seg = hl7_seg_find(m, p->seg, p->seg_idx);
        k = seg ? (int)hl7_field(m, *seg, p->field, &v) : HL7_ABSENT;
        if (k != HL7_ABSENT && p->rep)
            k = (int)hl7_piece(v, m->seps.rep, p->rep, &v);
    }
    rt_trace_value(trace, v, k);
}

/* Raw text a path addresses: the whole field when it names no repetition or
 * component, else that value. */
static hl7_kind raw_at(hl7_msg *m, const hl7_path *p, rl_str *raw)
{
    if (p->rep || p->comp || p->field == 0)
        return hl7_get_raw(m, p, 0, raw);
    const rl_str *seg = hl7_seg_find(m, p->seg, p->seg_idx);
    if (!seg)
        return HL7_ABSENT;
    return hl7_field(m, *seg, p->field, raw);
}

/* ---- case ---- */

static locale_t utf8_locale;
static pthread_once_t utf8_once = PTHREAD_ONCE_INIT;

static void make_locale(void)
{
    utf8_locale = newlocale(LC_CTYPE_MASK, "C.UTF-8", (locale_t)0);
}

/* Change the case of UTF-8 text into out; bytes that are not valid UTF-8 are
 * copied as they are. */
static void utf8_case(rl_str in, int mode, rl_buf *out)
{
    pthread_once(&utf8_once, make_locale);
    bool word_start = true;
    for (size_t i = 0; i < in.n;) {
        unsigned char c = (unsigned char)in.p[i];
        size_t len = c < 0x80 ? 1 : (c & 0xE0) == 0xC0 ? 2 : (c & 0xF0) == 0xE0 ? 3 : (c & 0xF8) == 0xF0 ? 4 : 0;
        if (len == 0 || i + len > in.n || !hl7_utf8_valid(in.p + i, len, NULL)) {
            rl_buf_add_ch(out, in.p[i++]);
            continue;
        }
        wint_t w = len == 1 ? c : len == 2 ? (c & 0x1Fu) : len == 3 ? (c & 0x0Fu) : (c & 0x07u);
        for (size_t k = 1; k < len; k++)
            w = (w << 6) | ((unsigned char)in.p[i + k] & 0x3Fu);
        bool upper = mode == 0 || (mode == 2 && word_start);
        wint_t x = utf8_locale ? (upper ? towupper_l(w, utf8_locale) : towlower_l(w, utf8_locale))
                               : w;
        word_start = !(utf8_locale ? iswalpha_l(w, utf8_locale) : (w < 128 && ((w | 32) - 'a') < 26)) &&
                     w != '\'';
        char enc[RL_UTF8_CHAR_MAX];
        size_t n = x < 0x80 ? 1 : x < 0x800 ? 2 : x < 0x10000 ? 3 : 4;
        if (n == 1)
            enc[0] = (char)x;
        else if (n == 2) {
            enc[0] = (char)(0xC0 | (x >> 6));
            enc[1] = (char)(0x80 | (x & 0x3F));
        } else if (n == 3) {
            enc[0] = (char)(0xE0 | (x >> 12));
            enc[1] = (char)(0x80 | ((x >> 6) & 0x3F));
            enc[2] = (char)(0x80 | (x & 0x3F));
        } else {
            enc[0] = (char)(0xF0 | (x >> 18));
            enc[1] = (char)(0x80 | ((x >> 12) & 0x3F));
            enc[2] = (char)(0x80 | ((x >> 6) & 0x3F));
            enc[3] = (char)(0x80 | (x & 0x3F));
        }
        rl_buf_add(out, enc, n);
        i += len;
    }
}

/* Rebuild raw with every leaf value (subcomponent) changed in case. level says
 * where raw sits: 0 field, 1 repetition, 2 component, 3 subcomponent. */
static int case_leaves(hl7_msg *m, rl_str raw, int level, int mode, rl_buf *out, rl_err *err)
{
    if (level < 3) {
        char sep = level == 0 ? m->seps.rep : level == 1 ? m->seps.comp : m->seps.sub;
        unsigned n = hl7_piece_count(raw, sep);
        for (unsigned i = 1; i <= n; i++) {
            rl_str part;
            hl7_piece(raw, sep, i, &part);
            if (i > 1)
                rl_buf_add_ch(out, sep);
            int rc = case_leaves(m, part, level + 1, mode, out, err);
            if (rc != 0)
                return rc;
        }
        return 0;
    }
    if (hl7_classify(raw) != HL7_VALUE)
        return rl_buf_add_str(out, raw) == 0 ? 0
                                              : rl_err_set(err, HL7_E_LIMIT, -1, "value too large");
    rl_str text;
    int rc = hl7_decode(m, raw, &text, err);
    if (rc != HL7_OK)
        return rc;
    rl_buf changed;
    rl_buf_init(&changed, 0);
    utf8_case(text, mode, &changed);
    rc = hl7_encode(m, rl_buf_view(&changed), out, err);
    rl_buf_free(&changed);
    return rc;
}

/* ---- dates ---- */

typedef struct dparts {
    int v[6]; /* year month day hour minute second */
    bool have[6];
} dparts;

static const struct { const char *tok; int part; int width; } dtoks[] = {
    { "yyyy", 0, 4 }, { "MM", 1, 2 }, { "dd", 2, 2 }, { "HH", 3, 2 }, { "mm", 4, 2 }, { "ss", 5, 2 },
};

static int match_tok(const char *f)
{
    for (int i = 0; i < 6; i++)
        if (strncmp(f, dtoks[i].tok, strlen(dtoks[i].tok)) == 0)
            return i;
    return -1;
}

bool rt_datefmt_valid(const char *fmt)
{
    for (const char *f = fmt; *f;) {
        int t = match_tok(f);
        if (t >= 0) {
            f += strlen(dtoks[t].tok);
        } else if ((*f >= 'a' && *f <= 'z') || (*f >= 'A' && *f <= 'Z')) {
            return false;
        } else {
            f++;
        }
    }
    return true;
}

/* Parse v by fmt. A value may stop at a token boundary (HL7 precision); the
 * rest of it may only be a fraction or a time zone. need_year: a value
 * without a year is no date (HL7); else a time of day (DICOM TM) is one. */
static bool date_parse(rl_str v, const char *fmt, bool need_year, dparts *d)
{
    memset(d, 0, sizeof *d);
    d->v[1] = d->v[2] = 1;
    size_t i = 0;
    bool any = false;
    for (const char *f = fmt; *f;) {
        if (i == v.n) /* stopped early: at least a year (or a first part) */
            return need_year ? d->have[0] : any;
        int t = match_tok(f);
        if (t < 0) {
            if (v.p[i] != *f)
                return false;
            i++;
            f++;
            continue;
        }
        int w = dtoks[t].width, x = 0;
        if (v.n - i < (size_t)w)
            return false;
        for (int k = 0; k < w; k++) {
            char c = v.p[i + k];
            if (c < '0' || c > '9')
                return false;
            x = x * 10 + (c - '0');
        }
        d->v[dtoks[t].part] = x;
        d->have[dtoks[t].part] = true;
        any = true;
        i += (size_t)w;
        f += strlen(dtoks[t].tok);
    }
    if (i < v.n && v.p[i] != '.' && v.p[i] != '+' && v.p[i] != '-')
        return false;
    return (need_year ? d->have[0] : any) && d->v[1] >= 1 && d->v[1] <= 12 && d->v[2] >= 1 &&
           d->v[2] <= 31 && d->v[3] <= 23 && d->v[4] <= 59 && d->v[5] <= 60;
}

static void date_format(const dparts *d, const char *fmt, rl_buf *out)
{
    for (const char *f = fmt; *f;) {
        int t = match_tok(f);
        if (t < 0) {
            rl_buf_add_ch(out, *f++);
            continue;
        }
        rl_buf_printf(out, "%0*d", dtoks[t].width, d->v[dtoks[t].part]);
        f += strlen(dtoks[t].tok);
    }
}

bool rt_date_reformat(rl_str v, const char *from, const char *fmt, rl_buf *out)
{
    dparts d;
    if (!date_parse(v, from, false, &d))
        return false;
    for (const char *f = fmt; *f;) { /* a year cannot be made up */
        int t = match_tok(f);
        if (t == 0 && !d.have[0])
            return false;
        f += t >= 0 ? strlen(dtoks[t].tok) : 1;
    }
    date_format(&d, fmt, out);
    return true;
}

/* ---- names ---- */

static const char *const name_parts[RT_NAME_PARTS] = { "family", "given", "middle",
                                                        "suffix", "prefix", "degree" };

int rt_namefmt_check(const char *fmt, rl_err *err)
{
    for (const char *f = strchr(fmt, '{'); f; f = strchr(f + 1, '{')) {
        const char *e = strchr(f, '}');
        size_t n = e ? (size_t)(e - f - 1) : strlen(f + 1);
        bool ok = false;
        for (int i = 0; e && i < RT_NAME_PARTS; i++)
            ok |= strlen(name_parts[i]) == n && strncmp(f + 1, name_parts[i], n) == 0;
        if (!ok)
            return rl_err_set(err, ROUTE_E_LOAD, -1, "unknown part '{%.*s%s'",
                              (int)(n > 40 ? 40 : n), f + 1, e ? "}" : "");
    }
    return 0;
}

/* Format an XPN value: its components decoded, in the order of
 * name_parts (XPN: family, given, middle, suffix, prefix, degree). */
static int name_format(hl7_msg *m, rl_str xpn, const char *fmt, rl_buf *out, rl_err *err)
{
    rl_str parts[RT_NAME_PARTS];
    for (int i = 0; i < RT_NAME_PARTS; i++) {
        rl_str raw = { "", 0 };
        hl7_piece(xpn, m->seps.comp, (unsigned)i + 1, &raw);
        if (i == 0) /* family name: FN.1 surname */
            hl7_piece(raw, m->seps.sub, 1, &raw);
        parts[i] = (rl_str){ "", 0 };
        int rc = hl7_classify(raw) == HL7_VALUE ? hl7_decode(m, raw, &parts[i], err) : HL7_OK;
        if (rc != HL7_OK)
            return rc;
    }
    rt_name_build(parts, fmt, out);
    return 0;
}

void rt_name_build(const rl_str parts[RT_NAME_PARTS], const char *fmt, rl_buf *out)
{
    rl_buf tmp;
    rl_buf_init(&tmp, 0);
    for (const char *f = fmt; *f;) {
        const char *e = *f == '{' ? strchr(f, '}') : NULL;
        if (!e) {
            rl_buf_add_ch(&tmp, *f++);
            continue;
        }
        for (int i = 0; i < RT_NAME_PARTS; i++)
            if (strlen(name_parts[i]) == (size_t)(e - f - 1) && !strncmp(f + 1, name_parts[i], (size_t)(e - f - 1)))
                rl_buf_add_str(&tmp, parts[i]);
        f = e + 1;
    }
    /* collapse spaces; drop separators with nothing after them */
    const char *p = tmp.data ? tmp.data : "";
    size_t n = tmp.len, start = out->len;
    for (size_t i = 0; i < n; i++) {
        char c = p[i];
        if (c == ' ' && (out->len == start || out->data[out->len - 1] == ' '))
            continue;
        if ((c == ',' || c == ';') && (out->len == start))
            continue;
        if ((c == ',' || c == ';') && out->data[out->len - 1] == ' ' && out->len - 1 > start &&
            (out->data[out->len - 2] == ',' || out->data[out->len - 2] == ';'))
            continue;
        rl_buf_add_ch(out, c);
    }
    while (out->len > start && (out->data[out->len - 1] == ' ' || out->data[out->len - 1] == ',' ||
                                out->data[out->len - 1] == ';'))
        out->len--;
    rl_buf_free(&tmp);
}

/* ---- apply ---- */

static int set_text(hl7_msg *m, const hl7_path *p, rl_str text, rl_err *err)
{
    return hl7_set(m, p, text, err) == HL7_OK ? 0 : err->code;
}

/* err from e, after "PATH: " when prefix is given. */
static int failed(rl_err *err, const rl_err *e, const char *prefix)
{
    int code = e->code ? e->code : ROUTE_E_ACTION;
    if (prefix)
        return rl_err_set(err, code, -1, "%s: %s", prefix, e->msg);
    return rl_err_set(err, code, -1, "%s", e->msg);
}

int rt_xform_apply(const route_set *rs, const rt_xform *x, hl7_msg *m, rl_buf *trace,
                   rl_err *err)
{
    const hl7_path *target = x->has_to ? &x->to : &x->path;
    rl_err e;
    rl_str v;
    int rc = 0;
    rl_err_clear(err);
    if (trace) {
        rl_buf_printf(trace, "      %s %s%s%s: ", rt_xform_name(x->kind), x->ptext,
                      x->has_to ? " -> " : "", x->has_to ? x->totext : "");
        trace_at(trace, m, target);
    }
    rl_buf tmp;
    rl_buf_init(&tmp, 0);
    switch (x->kind) {
    case T_SET:
        rc = set_text(m, target, rl_str_c(x->value), err);
        break;
    case T_COPY: {
        hl7_kind k = raw_at(m, &x->path, &v);
        if (k == HL7_ABSENT)
            v = (rl_str){ "", 0 };
        if (hl7_set_raw(m, &x->to, v, &e) != HL7_OK)
            rc = failed(err, &e, NULL);
        break;
    }
    case T_MAP: {
        int k = hl7_get(m, &x->path, &v, &e);
        if (k < 0) {
            rc = failed(err, &e, x->ptext);
            break;
        }
        const char *to = route_table_get(rs, x->table, v);
        if (!to)
            to = x->deflt;
        if (!to) {
            if (trace)
                rl_buf_printf(trace, " (no entry in table '%s', unchanged)",
                              rs->tables[x->table].name);
            break;
        }
        rc = set_text(m, target, rl_str_c(to), err);
        break;
    }
    case T_DELETE:
        if (x->path.field) {
            if (hl7_set_raw(m, &x->path, (rl_str){ "", 0 }, &e) != HL7_OK)
                rc = failed(err, &e, NULL);
        } else {
            hl7_path p = x->path;
            int d;
            do {
                d = hl7_seg_delete(m, &p, &e);
            } while (d == HL7_OK && x->all_segments && hl7_seg_find(m, p.seg, 1));
            if (d != HL7_OK)
                rc = failed(err, &e, NULL);
        }
        break;
    case T_CASE: {
        if (raw_at(m, &x->path, &v) == HL7_ABSENT)
            break;
        int level = x->path.sub ? 3 : x->path.comp ? 2 : x->path.rep ? 1 : 0;
        if (case_leaves(m, v, level, x->casemode, &tmp, &e) != 0)
            rc = failed(err, &e, x->ptext);
        else if (hl7_set_raw(m, &x->path, rl_buf_view(&tmp), &e) != HL7_OK)
            rc = failed(err, &e, NULL);
        break;
    }
    case T_DATE: {
        int k = hl7_get(m, &x->path, &v, &e);
        dparts d;
        if (k != HL7_VALUE || !date_parse(rl_str_trim(v), x->from_fmt, true, &d)) {
            if (trace)
                rl_buf_printf(trace, " (not a date in the format %s, unchanged)", x->from_fmt);
            break;
        }
        date_format(&d, x->fmt, &tmp);
        rc = set_text(m, target, rl_buf_view(&tmp), err);
        break;
    }
    case T_NAME: {
        hl7_path p = x->path;
        p.comp = p.sub = 0;
        if (hl7_get_raw(m, &p, 0, &v) == HL7_ABSENT)
            break;
        if (name_format(m, v, x->fmt, &tmp, &e) != 0) {
            rc = failed(err, &e, x->ptext);
            break;
        }
        rc = set_text(m, target, rl_buf_view(&tmp), err);
        break;
    }
    }
    rl_buf_free(&tmp);
    if (trace) {
        if (rc == 0) {
            rl_buf_printf(trace, " -> ");
            trace_at(trace, m, target);
        } else {
            rl_buf_printf(trace, " FAILED: %s", err->msg);
        }
        rl_buf_add_ch(trace, '\n');
    }
    return rc;
}
