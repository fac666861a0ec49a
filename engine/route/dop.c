/* DICOM route coercions: set, copy, remove, map, date, name, deidentify, run
 * on an instance through the caller's route_dcm_io. A coercion that reads
 * another attribute reads its first value; an absent one leaves the target
 * as it is. With a plan, writes are kept pending (and checked against the
 * dictionary) and later reads see them, so the <on-receive> routes change
 * nothing until all of them can be made. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dop.h"
#include "table.h"
#include "trace.h"
#include "xform.h"

typedef struct plan_entry {
    dicom_path p;
    bool remove;
    size_t off, len; /* the value, in vals */
    const rt_dop *op;
    const char *route;
} plan_entry;

struct rt_dplan {
    plan_entry *e;
    size_t n, cap;
    rl_buf vals;
};

static const char *const deid_names[] = {
    "retain-longitudinal-dates", "retain-patient-characteristics", "retain-device-identity",
    "retain-institution-identity", "retain-uids", "clean-descriptions",
};

const char *rt_deid_option_name(unsigned i)
{
    return i < RT_DEID_OPTIONS ? deid_names[i] : NULL;
}

const char *rt_dop_name(rt_dkind k)
{
    static const char *const names[DOP_KINDS] = { "set", "set", "set", "copy", "remove",
                                                  "map", "date", "name", "deidentify" };
    return (unsigned)k < DOP_KINDS ? names[k] : "?";
}

/* ---- values ---- */

/* Spaces around a value are DICOM's padding (PS3.5 6.2), a UID's is NUL. */
static rl_str dtrim(rl_str v)
{
    while (v.n && (v.p[v.n - 1] == ' ' || v.p[v.n - 1] == '\0'))
        v.n--;
    while (v.n && v.p[0] == ' ') {
        v.p++;
        v.n--;
    }
    return v;
}

static bool path_eq(const dicom_path *a, const dicom_path *b)
{
    return a->n == b->n && memcmp(a->tag, b->tag, a->n * sizeof a->tag[0]) == 0;
}

/* a is b, or a sequence on b's way. */
static bool path_within(const dicom_path *a, const dicom_path *b)
{
    return a->n <= b->n && memcmp(a->tag, b->tag, a->n * sizeof a->tag[0]) == 0;
}

/* io->get, seeing the plan's pending changes: the latest that touches p. */
static int acc_get(rt_dacc *a, const dicom_path *p, route_dcm_value_fn cb, void *ctx)
{
    for (size_t i = a->plan ? a->plan->n : 0; i-- > 0;) {
        const plan_entry *e = &a->plan->e[i];
        if (e->remove && path_within(&e->p, p))
            return 0;
        if (!e->remove && path_eq(&e->p, p)) {
            cb(ctx, (rl_str){ a->plan->vals.data + e->off, e->len });
            return 1;
        }
    }
    return a->io->get(a->ds, p, cb, ctx);
}

static int collect(void *ctx, rl_str value)
{
    rt_dvals *v = ctx;
    if (v->n == RL_ROUTE_DICOM_VALUES)
        return 1;
    value = dtrim(value);
    size_t k = value.n < RL_ROUTE_MATCH_VALUE - 1 ? value.n : RL_ROUTE_MATCH_VALUE - 1;
    size_t off = v->buf.len;
    if (rl_buf_add(&v->buf, value.p, k) != 0 || rl_buf_add_ch(&v->buf, '\0') != 0)
        return 1;
    v->off[v->n] = off;
    v->len[v->n] = k;
    v->cut[v->n++] = k < value.n;
    return 0;
}

int rt_dvals_get(rt_dacc *a, const rt_dpath *p, rt_dvals *v, rl_err *err)
{
    v->n = 0;
    rl_buf_init(&v->buf, 0);
    int rc = acc_get(a, &p->p, collect, v);
    if (!v->buf.data)
        rl_buf_add_ch(&v->buf, '\0'); /* views into it are never NULL-based */
    if (rc < 0)
        return rl_err_set(err, rc, -1, "reading %s: %s", p->text, rl_strerror(rc));
    return 0;
}

void rt_dvals_free(rt_dvals *v)
{
    rl_buf_free(&v->buf);
}

void rt_dvals_trace(rl_buf *trace, const rt_dvals *v)
{
    if (v->n == 0) {
        rt_trace_value(trace, (rl_str){ "", 0 }, HL7_ABSENT);
        return;
    }
    if (v->n > 1)
        rl_buf_add_ch(trace, '[');
    for (size_t i = 0; i < v->n; i++) {
        if (i)
            rl_buf_add_c(trace, ", ");
        rt_trace_value(trace, rt_dvals_at(v, i), HL7_VALUE);
    }
    if (v->n > 1)
        rl_buf_add_ch(trace, ']');
}

static void trace_at(rt_dacc *a, const rt_dpath *p, rl_buf *trace)
{
    rt_dvals v;
    rl_err e;
    if (rt_dvals_get(a, p, &v, &e) != 0)
        rl_buf_printf(trace, "(%s)", e.msg);
    else
        rt_dvals_trace(trace, &v);
    rt_dvals_free(&v);
}

/* The first value found at p, padding after it removed, into out. */
typedef struct first {
    rl_buf *out;
    bool got, too_long;
} first;

static int take_first(void *ctx, rl_str value)
{
    first *f = ctx;
    while (value.n && (value.p[value.n - 1] == ' ' || value.p[value.n - 1] == '\0'))
        value.n--;
    f->got = true;
    f->too_long = rl_buf_add_str(f->out, value) != 0;
    return 1;
}

static int first_value(rt_dacc *a, const rt_dpath *p, rl_buf *out, bool *found, rl_err *err)
{
    first f = { out, false, false };
    int rc = acc_get(a, &p->p, take_first, &f);
    if (rc < 0)
        return rl_err_set(err, rc, -1, "reading %s: %s", p->text, rl_strerror(rc));
    if (f.too_long)
        return rl_err_set(err, ROUTE_E_COERCE, -1, "%s: the value is longer than %u bytes",
                          p->text, RL_ROUTE_DICOM_VALUE_MAX);
    *found = f.got;
    return 0;
}

/* ---- writes ---- */

/* An io failure as the coercion's: its own words, else its code's. */
static int io_failed(int rc, rl_err *err)
{
    if (!err->msg[0])
        return rl_err_set(err, ROUTE_E_COERCE, -1, "%s", rl_strerror(rc));
    err->code = ROUTE_E_COERCE;
    return ROUTE_E_COERCE;
}

static int plan_add(rt_dacc *a, const rt_dop *op, const dicom_path *p, bool remove, rl_str v,
                    rl_err *err)
{
    rt_dplan *pl = a->plan;
    if (pl->n == pl->cap) {
        size_t cap = pl->cap ? pl->cap * 2 : 16;
        plan_entry *e = realloc(pl->e, cap * sizeof *e);
        if (!e)
            return rl_err_set(err, ROUTE_E_COERCE, -1, "out of memory");
        pl->e = e;
        pl->cap = cap;
    }
    size_t off = pl->vals.len;
    if (rl_buf_add_str(&pl->vals, v) != 0 || rl_buf_add_ch(&pl->vals, '\0') != 0)
        return rl_err_set(err, ROUTE_E_COERCE, -1, "out of memory");
    pl->e[pl->n++] = (plan_entry){ *p, remove, off, v.n, op, a->route };
    return 0;
}

static int acc_set(rt_dacc *a, const rt_dop *op, rl_str v, rl_err *err)
{
    const dicom_path *p = &op->target.p;
    if (!a->plan) {
        int rc = a->io->set(a->ds, p, v, err);
        return rc ? io_failed(rc, err) : 0;
    }
    if (a->dict && a->dict->value_check) {
        char *text = malloc(v.n + 1);
        if (!text)
            return rl_err_set(err, ROUTE_E_COERCE, -1, "out of memory");
        memcpy(text, v.p, v.n);
        text[v.n] = '\0';
        int rc = a->dict->value_check(p, text, err);
        free(text);
        if (rc)
            return io_failed(rc, err);
    }
    return plan_add(a, op, p, false, v, err);
}

static int acc_remove(rt_dacc *a, const rt_dop *op, rl_err *err)
{
    if (!a->plan) {
        int rc = a->io->remove(a->ds, &op->target.p, err);
        return rc ? io_failed(rc, err) : 0;
    }
    return plan_add(a, op, &op->target.p, true, (rl_str){ "", 0 }, err);
}

/* ---- the coercions ---- */

/* A DICOM PN's first component group (PS3.5 6.2.1): family^given^middle^
 * prefix^suffix, as the name format's parts. */
static void pn_parts(rl_str pn, rl_str parts[RT_NAME_PARTS])
{
    static const int order[RL_PN_COMPONENTS] = { RT_NAME_FAMILY, RT_NAME_GIVEN, RT_NAME_MIDDLE,
                                                 RT_NAME_PREFIX, RT_NAME_SUFFIX };
    for (int i = 0; i < RT_NAME_PARTS; i++)
        parts[i] = (rl_str){ "", 0 };
    const char *eq = memchr(pn.p, '=', pn.n);
    size_t end = eq ? (size_t)(eq - pn.p) : pn.n, start = 0;
    for (int c = 0; c < RL_PN_COMPONENTS && start <= end; c++) {
        const char *hat = memchr(pn.p + start, '^', end - start);
        size_t stop = hat ? (size_t)(hat - pn.p) : end;
        parts[order[c]] = dtrim((rl_str){ pn.p + start, stop - start });
        if (!hat)
            break;
        start = stop + 1;
    }
}

/* The coercions that read their source first; note says why nothing was
 * written. */
static int run_read(const rt_dop *op, rt_dacc *a, char *note, size_t notesz, rl_err *err)
{
    rl_buf in, out;
    rl_buf_init(&in, RL_ROUTE_DICOM_VALUE_MAX);
    rl_buf_init(&out, 0);
    bool found = false;
    int rc = first_value(a, &op->src, &in, &found, err);
    if (rc != 0 || !found) {
        if (rc == 0)
            snprintf(note, notesz, "%s absent, unchanged", op->src.text);
        goto done;
    }
    rl_str v = rl_buf_view(&in);
    if (!v.p)
        v = (rl_str){ "", 0 };
    switch (op->kind) {
    case DOP_SET_TABLE:
    case DOP_MAP: {
        const char *to = rt_table_lookup(op->table, dtrim(v));
        if (!to)
            to = op->value ? op->value : op->table->deflt;
        if (!to)
            snprintf(note, notesz, "no entry in table '%s', unchanged", op->table->name);
        else
            rc = acc_set(a, op, rl_str_c(to), err);
        break;
    }
    case DOP_DATE:
        if (!rt_date_reformat(dtrim(v), op->from_fmt, op->fmt, &out))
            snprintf(note, notesz, "not a date in the format %s, unchanged", op->from_fmt);
        else
            rc = acc_set(a, op, out.data ? rl_buf_view(&out) : (rl_str){ "", 0 }, err);
        break;
    case DOP_NAME: {
        rl_str parts[RT_NAME_PARTS];
        pn_parts(v, parts);
        rt_name_build(parts, op->fmt, &out);
        rc = acc_set(a, op, out.data ? rl_buf_view(&out) : (rl_str){ "", 0 }, err);
        break;
    }
    default: /* SET_FROM, COPY */
        rc = acc_set(a, op, v, err);
        break;
    }
done:
    rl_buf_free(&in);
    rl_buf_free(&out);
    return rc;
}

int rt_dop_run(const rt_dop *op, rt_dacc *a, rl_buf *trace, rl_err *err)
{
    rl_err_clear(err);
    char note[RL_ROUTE_ACTION_TEXT] = "";
    if (trace) {
        char label[RL_ROUTE_ACTION_TEXT];
        rt_dop_label(op, label, sizeof label);
        rl_buf_printf(trace, "      %s: ", label);
        if (op->kind != DOP_DEID)
            trace_at(a, &op->target, trace);
    }
    int rc = 0;
    switch (op->kind) {
    case DOP_SET:
        rc = acc_set(a, op, rl_str_c(op->value), err);
        break;
    case DOP_REMOVE:
        rc = acc_remove(a, op, err);
        break;
    case DOP_DEID:
        if (a->plan) {
            rc = rl_err_set(err, ROUTE_E_COERCE, -1, "not done on receipt");
        } else if ((rc = a->io->deidentify(a->ds, &op->deid, err)) != 0) {
            rc = rc == DICOM_E_BURNED_IN ? rc : io_failed(rc, err);
            err->code = rc;
        }
        if (rc == 0)
            snprintf(note, sizeof note, "done");
        break;
    default:
        rc = run_read(op, a, note, sizeof note, err);
        break;
    }
    if (trace) {
        if (rc != 0) {
            rl_buf_printf(trace, "%sFAILED: %s", op->kind == DOP_DEID ? "" : " ", err->msg);
        } else if (note[0]) {
            rl_buf_printf(trace, "%s%s%s", op->kind == DOP_DEID ? "" : " (", note,
                          op->kind == DOP_DEID ? "" : ")");
        } else {
            rl_buf_add_c(trace, " -> ");
            trace_at(a, &op->target, trace);
        }
        rl_buf_add_ch(trace, '\n');
    }
    return rc;
}

void rt_dop_label(const rt_dop *op, char *out, size_t n)
{
    const char *t = op->target.text, *s = op->src.text;
    bool to = op->kind >= DOP_MAP && op->kind <= DOP_NAME && !path_eq(&op->src.p, &op->target.p);
    switch (op->kind) {
    case DOP_SET:
    case DOP_REMOVE:
        snprintf(out, n, "%s %s", rt_dop_name(op->kind), t);
        break;
    case DOP_SET_FROM:
        snprintf(out, n, "set %s from %s", t, s);
        break;
    case DOP_SET_TABLE:
        snprintf(out, n, "set %s from %s (table '%s')", t, s, op->table->name);
        break;
    case DOP_COPY:
        snprintf(out, n, "copy %s -> %s", s, t);
        break;
    case DOP_MAP:
        snprintf(out, n, "map %s%s%s (table '%s')", s, to ? " -> " : "", to ? t : "",
                 op->table->name);
        break;
    case DOP_DATE:
    case DOP_NAME:
        snprintf(out, n, "%s %s%s%s", rt_dop_name(op->kind), s, to ? " -> " : "", to ? t : "");
        break;
    default:
        snprintf(out, n, "deidentify basic");
        break;
    }
}

void rt_dop_list(const rt_dop *op, int indent, rl_buf *trace)
{
    char label[RL_ROUTE_ACTION_TEXT];
    rt_dop_label(op, label, sizeof label);
    rl_buf_printf(trace, "%*s%s", indent, "", label);
    if (op->kind == DOP_SET) {
        rl_buf_add_c(trace, " = ");
        rt_trace_value(trace, rl_str_c(op->value), HL7_VALUE);
    } else if (op->kind == DOP_DATE) {
        rl_buf_printf(trace, " %s -> %s", op->from_fmt, op->fmt);
    } else if (op->kind == DOP_NAME) {
        rl_buf_printf(trace, " as \"%s\"", op->fmt);
    } else if (op->kind == DOP_DEID) {
        for (unsigned i = 0; i < RT_DEID_OPTIONS; i++)
            if (op->deid.options & (1u << i))
                rl_buf_printf(trace, " %s", deid_names[i]);
        const char *k = op->deid.keep_private;
        for (const char *e; k && *k; k = *e ? e + 1 : e) {
            e = strchr(k, '\n');
            e = e ? e : k + strlen(k);
            rl_buf_printf(trace, ", keeping private '%.*s'", (int)(e - k), k);
        }
    }
    rl_buf_printf(trace, " (line %d)\n", op->line);
}

/* ---- plans ---- */

rt_dplan *rt_dplan_new(void)
{
    rt_dplan *pl = calloc(1, sizeof *pl);
    if (pl)
        rl_buf_init(&pl->vals, 0);
    return pl;
}

void rt_dplan_free(rt_dplan *pl)
{
    if (!pl)
        return;
    free(pl->e);
    rl_buf_free(&pl->vals);
    free(pl);
}

size_t rt_dplan_count(const rt_dplan *pl)
{
    return pl->n;
}

int rt_dplan_apply(const rt_dplan *pl, const route_dcm_io *io, void *ds, unsigned *applied,
                   rl_err *err)
{
    *applied = 0;
    for (size_t i = 0; i < pl->n; i++) {
        const plan_entry *e = &pl->e[i];
        rl_err why;
        rl_err_clear(&why);
        int rc = e->remove ? io->remove(ds, &e->p, &why)
                           : io->set(ds, &e->p, (rl_str){ pl->vals.data + e->off, e->len }, &why);
        if (rc != 0) {
            char label[RL_ROUTE_ACTION_TEXT];
            rt_dop_label(e->op, label, sizeof label);
            return rl_err_set(err, ROUTE_E_COERCE, -1, "on-receive '%s', %s (line %d): %s",
                              e->route, label, e->op->line,
                              why.msg[0] ? why.msg : rl_strerror(rc));
        }
        (*applied)++;
    }
    return 0;
}
