/* DICOM route programs: one <send>'s coercions as self-contained bytes
 * (format in radlink/route_dicom.h), made when the route file is loaded,
 * kept by the engine with each instance it was decided for, and run by a
 * worker that may have no route set at all. The decoder trusts nothing: it
 * reads what the store kept, so every count, index and length is checked,
 * and the whole program is decoded before the first coercion runs. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "radlink/rec.h"
#include "dop.h"
#include "dprog.h"
#include "table.h"
#include "xform.h"

#define PROG_MAGIC 0x524C4450u /* "RLDP" */
#define PROG_VERSION 1
#define TABLE_ICASE 1u
#define TABLE_DEFAULT 2u

/* FNV-1a: a flipped byte of a kept program is caught before it runs. */
static uint32_t fnv1a(const void *data, size_t n)
{
    const unsigned char *p = data;
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < n; i++)
        h = (h ^ p[i]) * 16777619u;
    return h;
}

static bool reads_src(rt_dkind k)
{
    return k == DOP_SET_FROM || k == DOP_SET_TABLE || k == DOP_COPY || k == DOP_MAP ||
           k == DOP_DATE || k == DOP_NAME;
}

/* ---- encoding ---- */

static int put_path(rl_buf *b, const rt_dpath *p)
{
    int bad = rec_put_cstr(b, p->text) | rec_put_u8(b, p->p.n);
    for (unsigned i = 0; i < p->p.n && i < DICOM_PATH_DEPTH; i++)
        bad |= rec_put_u32(b, p->p.tag[i]);
    bad |= rec_put_str(b, (rl_str){ p->p.vr, strnlen(p->p.vr, 2) });
    return bad | rec_put_u32(b, p->p.max_chars);
}

/* The index of t among the program's tables, added when new. */
static uint32_t table_index(const rt_table **tabs, size_t *n, const rt_table *t)
{
    for (size_t i = 0; i < *n; i++)
        if (tabs[i] == t)
            return (uint32_t)i;
    tabs[*n] = t;
    return (uint32_t)(*n)++;
}

static int put_op(rl_buf *b, const rt_dop *op, const rt_table **tabs, size_t *ntabs)
{
    int bad = rec_put_u8(b, (uint8_t)op->kind) | rec_put_u32(b, (uint32_t)op->line);
    if (op->kind == DOP_DEID)
        return bad | rec_put_u32(b, op->deid.options) | rec_put_cstr(b, op->deid.keep_private);
    bad |= put_path(b, &op->target);
    if (reads_src(op->kind))
        bad |= put_path(b, &op->src);
    switch (op->kind) {
    case DOP_SET:
        bad |= rec_put_cstr(b, op->value);
        break;
    case DOP_SET_TABLE:
    case DOP_MAP:
        bad |= rec_put_u32(b, table_index(tabs, ntabs, op->table)) |
               rec_put_u8(b, op->value != NULL) | rec_put_cstr(b, op->value);
        break;
    case DOP_DATE:
        bad |= rec_put_cstr(b, op->from_fmt) | rec_put_cstr(b, op->fmt);
        break;
    case DOP_NAME:
        bad |= rec_put_cstr(b, op->fmt);
        break;
    default:
        break;
    }
    return bad;
}

static int put_table(rl_buf *b, const rt_table *t)
{
    int bad = rec_put_cstr(b, t->name) |
              rec_put_u8(b, (uint8_t)((t->icase ? TABLE_ICASE : 0) |
                                      (t->deflt ? TABLE_DEFAULT : 0))) |
              rec_put_cstr(b, t->deflt) | rec_put_u32(b, (uint32_t)t->n);
    for (size_t i = 0; i < t->n && !bad; i++)
        bad |= rec_put_cstr(b, t->keys[i]) | rec_put_cstr(b, t->vals[i]);
    return bad;
}

int rt_dprog_encode(const rt_droute *r, const rt_dsend *s, rl_buf *out, rl_err *err)
{
    size_t nops = r->nops + s->nops;
    if (nops > RL_ROUTE_DICOM_PROG_OPS)
        return rl_err_set(err, ROUTE_E_LOAD, -1, "%zu coercions for one <send>, more than %u",
                          nops, RL_ROUTE_DICOM_PROG_OPS);
    rl_buf ops;
    rl_buf_init(&ops, RL_ROUTE_DICOM_PROG_MAX);
    const rt_table *tabs[RL_ROUTE_DICOM_PROG_OPS];
    size_t ntabs = 0;
    int bad = rec_put_u32(&ops, (uint32_t)nops);
    for (size_t i = 0; i < nops && !bad; i++)
        bad |= put_op(&ops, i < r->nops ? &r->ops[i] : &s->ops[i - r->nops], tabs, &ntabs);
    rl_buf_reset(out);
    out->limit = RL_ROUTE_DICOM_PROG_MAX;
    bad |= rec_put_u32(out, PROG_MAGIC) | rec_put_u8(out, PROG_VERSION) |
           rec_put_cstr(out, r->name) | rec_put_cstr(out, s->to) | rec_put_u8(out, (uint8_t)s->ts) |
           rec_put_u32(out, (uint32_t)ntabs);
    for (size_t i = 0; i < ntabs && !bad; i++)
        bad |= put_table(out, tabs[i]);
    bad |= rl_buf_add(out, ops.data, ops.len);
    rl_buf_free(&ops);
    if (!bad)
        bad = rec_put_u32(out, fnv1a(out->data, out->len));
    if (bad)
        return rl_err_set(err, ROUTE_E_LOAD, -1, "its program, tables inlined, would be longer "
                          "than %u bytes (a smaller table, or fewer coercions)",
                          RL_ROUTE_DICOM_PROG_MAX);
    return 0;
}

/* ---- decoding ---- */

typedef struct dec {
    rec_reader r;
    rt_dprog *p;
    rl_err *err;
    int bad; /* set once; the first reason stays */
} dec;

static void dbad(dec *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void dbad(dec *d, const char *fmt, ...)
{
    if (d->bad++)
        return;
    char msg[RL_ERR_MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    rl_err_set(d->err, ROUTE_E_PROG, -1, "DICOM route program: %s", msg);
}

/* A string of at most max bytes (at least min) with no NUL in it, copied
 * into the program's arena; "" after a failure. */
static const char *get_cstr(dec *d, size_t min, size_t max, const char *what)
{
    rl_str s = rec_get_str(&d->r);
    if (!rec_ok(&d->r)) {
        dbad(d, "truncated (in %s)", what);
        return "";
    }
    if (s.n < min || s.n > max || memchr(s.p, '\0', s.n)) {
        dbad(d, "%s: %zu bytes (%zu to %zu without NUL expected)", what, s.n, min, max);
        return "";
    }
    char *c = rl_arena_dup(&d->p->arena, s.p, s.n);
    if (!c)
        dbad(d, "out of memory");
    return c ? c : "";
}

static void get_path(dec *d, rt_dpath *p)
{
    p->text = get_cstr(d, 1, DICOM_PATH_TEXT_MAX, "an attribute's name");
    p->p.n = rec_get_u8(&d->r);
    if (p->p.n < 1 || p->p.n > DICOM_PATH_DEPTH) {
        dbad(d, "%s: a path of %u tags", p->text, p->p.n);
        return;
    }
    for (unsigned i = 0; i < p->p.n; i++)
        p->p.tag[i] = rec_get_u32(&d->r);
    const char *vr = get_cstr(d, 0, 2, "a VR");
    memcpy(p->p.vr, vr, strlen(vr) + 1);
    p->p.max_chars = rec_get_u32(&d->r);
}

static void get_table(dec *d, rt_table *t)
{
    t->name = get_cstr(d, 1, RL_ROUTE_NAME_SIZE - 1, "a table's name");
    uint8_t flags = rec_get_u8(&d->r);
    if (flags & ~(TABLE_ICASE | TABLE_DEFAULT))
        dbad(d, "table '%s': flags %#x", t->name, flags);
    t->icase = flags & TABLE_ICASE;
    const char *deflt = get_cstr(d, 0, RL_ROUTE_DICOM_PROG_MAX, "a table's default");
    t->deflt = flags & TABLE_DEFAULT ? deflt : NULL;
    uint32_t n = rec_get_u32(&d->r);
    if (d->bad || !rec_ok(&d->r) || n > (size_t)(d->r.end - d->r.p) / 8) {
        dbad(d, "table '%s': %u entries in %zu bytes", t->name, n, (size_t)(d->r.end - d->r.p));
        return;
    }
    t->keys = rl_arena_alloc(&d->p->arena, (n ? n : 1) * sizeof *t->keys);
    t->vals = rl_arena_alloc(&d->p->arena, (n ? n : 1) * sizeof *t->vals);
    if (!t->keys || !t->vals) {
        dbad(d, "out of memory");
        return;
    }
    for (t->n = 0; t->n < n && !d->bad; t->n++) {
        t->keys[t->n] = get_cstr(d, 0, RL_ROUTE_DICOM_PROG_MAX, "a table's key");
        t->vals[t->n] = get_cstr(d, 0, RL_ROUTE_DICOM_PROG_MAX, "a table's value");
    }
    rl_err e;
    if (!d->bad && rt_table_build(&d->p->arena, t, &e) != 0)
        dbad(d, "table '%s': %s", t->name, e.msg);
}

static void get_op(dec *d, rt_dop *op)
{
    uint8_t kind = rec_get_u8(&d->r);
    op->line = (int)rec_get_u32(&d->r);
    if (kind >= DOP_KINDS || op->line < 0) {
        dbad(d, "a coercion of kind %u at line %d", kind, op->line);
        return;
    }
    op->kind = (rt_dkind)kind;
    if (op->kind == DOP_DEID) {
        op->deid.options = rec_get_u32(&d->r);
        op->deid.keep_private = get_cstr(d, 0, RL_ROUTE_DICOM_PROG_MAX, "keep-private");
        if (op->deid.options >> RT_DEID_OPTIONS)
            dbad(d, "deidentify options %#x", op->deid.options);
        return;
    }
    get_path(d, &op->target);
    op->src = op->target;
    if (reads_src(op->kind))
        get_path(d, &op->src);
    rl_err e;
    switch (op->kind) {
    case DOP_SET:
        op->value = get_cstr(d, 0, RL_ROUTE_DICOM_PROG_MAX, "a value");
        break;
    case DOP_SET_TABLE:
    case DOP_MAP: {
        uint32_t t = rec_get_u32(&d->r);
        uint8_t has = rec_get_u8(&d->r);
        const char *deflt = get_cstr(d, 0, RL_ROUTE_DICOM_PROG_MAX, "a default");
        op->value = has ? deflt : NULL;
        if (t >= d->p->ntables || has > 1)
            dbad(d, "line %d: table %u of %zu", op->line, t, d->p->ntables);
        else
            op->table = &d->p->tables[t];
        break;
    }
    case DOP_DATE:
        op->from_fmt = get_cstr(d, 1, RL_ROUTE_DICOM_PROG_MAX, "a date format");
        op->fmt = get_cstr(d, 0, RL_ROUTE_DICOM_PROG_MAX, "a date format");
        if (!rt_datefmt_valid(op->from_fmt) || !rt_datefmt_valid(op->fmt))
            dbad(d, "line %d: a date format that is none", op->line);
        break;
    case DOP_NAME:
        op->fmt = get_cstr(d, 0, RL_ROUTE_DICOM_PROG_MAX, "a name format");
        if (rt_namefmt_check(op->fmt, &e) != 0)
            dbad(d, "line %d: %s", op->line, e.msg);
        break;
    default:
        break;
    }
}

static void get_body(dec *d)
{
    rt_dprog *p = d->p;
    p->route = get_cstr(d, 1, RL_ROUTE_NAME_SIZE - 1, "the route's name");
    p->to = get_cstr(d, 1, RL_AE_TITLE_SIZE - 1, "the node's AE title");
    uint8_t ts = rec_get_u8(&d->r);
    if (ts >= ROUTE_TS_COUNT)
        dbad(d, "transfer syntax %u", ts);
    p->ts = (route_ts)ts;
    uint32_t nt = rec_get_u32(&d->r);
    if (d->bad || !rec_ok(&d->r) || nt > RL_ROUTE_DICOM_PROG_OPS) {
        dbad(d, "%u tables", nt);
        return;
    }
    p->tables = rl_arena_alloc(&p->arena, (nt ? nt : 1) * sizeof *p->tables);
    if (p->tables)
        memset(p->tables, 0, (nt ? nt : 1) * sizeof *p->tables);
    for (p->ntables = 0; p->tables && p->ntables < nt && !d->bad; p->ntables++)
        get_table(d, &p->tables[p->ntables]);
    uint32_t no = rec_get_u32(&d->r);
    if (d->bad || !rec_ok(&d->r) || no > RL_ROUTE_DICOM_PROG_OPS) {
        dbad(d, "%u coercions", no);
        return;
    }
    p->ops = rl_arena_alloc(&p->arena, (no ? no : 1) * sizeof *p->ops);
    if (p->ops)
        memset(p->ops, 0, (no ? no : 1) * sizeof *p->ops);
    for (p->nops = 0; p->ops && p->nops < no && !d->bad; p->nops++)
        get_op(d, &p->ops[p->nops]);
    if (!p->tables || !p->ops)
        dbad(d, "out of memory");
}

int rt_dprog_decode(rl_str b, rt_dprog *p, rl_err *err)
{
    memset(p, 0, sizeof *p);
    rl_arena_init(&p->arena, 4096, 0);
    dec d = { .p = p, .err = err };
    rl_err_clear(err);
    if (b.n < 4 + 1 + 4 || b.n > RL_ROUTE_DICOM_PROG_MAX) {
        dbad(&d, "%zu bytes", b.n);
        return ROUTE_E_PROG;
    }
    rec_reader_init(&d.r, b.p, b.n - 4);
    uint32_t magic = rec_get_u32(&d.r);
    uint8_t version = rec_get_u8(&d.r);
    rec_reader sum;
    rec_reader_init(&sum, b.p + b.n - 4, 4);
    if (magic != PROG_MAGIC)
        dbad(&d, "not one (it starts with %#x)", magic);
    else if (version != PROG_VERSION)
        dbad(&d, "format version %u (this radlink reads %d)", version, PROG_VERSION);
    else if (rec_get_u32(&sum) != fnv1a(b.p, b.n - 4))
        dbad(&d, "corrupt or truncated (its checksum does not match)");
    else
        get_body(&d);
    if (!d.bad && (!rec_ok(&d.r) || d.r.p != d.r.end))
        dbad(&d, "%s", rec_ok(&d.r) ? "bytes after its end" : "truncated");
    return d.bad ? ROUTE_E_PROG : 0;
}

void rt_dprog_free(rt_dprog *p)
{
    rl_arena_free(&p->arena);
}

/* ---- running ---- */

int route_dicom_prog_apply(rl_str prog, const route_dcm_io *io, void *ds, rl_buf *trace,
                           rl_err *err)
{
    rt_dprog p;
    int rc = rt_dprog_decode(prog, &p, err);
    if (rc != 0) {
        rt_dprog_free(&p);
        return rc;
    }
    if (trace)
        rl_buf_printf(trace, "send %s (route '%s', transfer syntax %s)\n%s", p.to, p.route,
                      route_dicom_ts_name(p.ts), p.nops ? "  coerce:\n" : "  no coercions\n");
    rt_dacc a = { .io = io, .ds = ds, .route = p.route };
    for (size_t i = 0; i < p.nops && rc == 0; i++) {
        rl_err e;
        if ((rc = rt_dop_run(&p.ops[i], &a, trace, &e)) != 0) {
            char label[RL_ROUTE_ACTION_TEXT];
            rt_dop_label(&p.ops[i], label, sizeof label);
            rl_err_set(err, rc, -1, "route '%s' to %s, %s (line %d): %s", p.route, p.to, label,
                       p.ops[i].line, e.msg);
        }
    }
    rt_dprog_free(&p);
    return rc;
}

int route_dicom_prog_info(rl_str prog, route_prog_info *out, rl_err *err)
{
    rt_dprog p;
    memset(out, 0, sizeof *out);
    int rc = rt_dprog_decode(prog, &p, err);
    if (rc == 0) {
        out->ts = p.ts;
        out->ops = (unsigned)p.nops;
        for (size_t i = 0; i < p.nops; i++)
            out->deidentify |= p.ops[i].kind == DOP_DEID;
        snprintf(out->route, sizeof out->route, "%s", p.route);
        snprintf(out->to, sizeof out->to, "%s", p.to);
    }
    rt_dprog_free(&p);
    return rc;
}
