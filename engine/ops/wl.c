/* wl list|show, and the engine's side of `wl import` (wl put): the Modality
 * Worklist, read beside the engine; entries from worklist files written in
 * its turn. */
#include <stdlib.h>
#include <string.h>

#include "ops_internal.h"
#include "radlink/recon.h"
#include "radlink/wl.h"

/* ---- the view of a worklist entry: a row ---- */

static const view_field W_ACC = { "accession", "ACCESSION", 16 };
static const view_field W_RP = { "procedure", "PROCEDURE", 10 };
static const view_field W_SPS = { "step", "STEP", 10 };
static const view_field W_DATE = { "date", "DATE", 8 };
static const view_field W_TIME = { "time", "TIME", 6 };
static const view_field W_MOD = { "modality", "MOD", 4 };
static const view_field W_AE = { "station", "STATION-AE", 16 };
static const view_field W_PID = { "patient_id", "PATIENT-ID", 12, 0, NULL, VIEW_PHI };
static const view_field W_STATUS = { "status", "STATUS", 10 };
static const view_field W_NAME = { "patient_name", "PATIENT", 0, 0, NULL, VIEW_PHI };
static const view_field *const wl_cols[] = { &W_ACC, &W_RP, &W_SPS, &W_DATE, &W_TIME, &W_MOD,
                                             &W_AE, &W_PID, &W_STATUS, &W_NAME, NULL };

static void wl_row(view *v, const wl_entry *e)
{
    view_row(v);
    view_str(v, &W_ACC, wl_top(e, WL_ACCESSION));
    view_str(v, &W_RP, wl_top(e, WL_RP_ID));
    view_str(v, &W_SPS, wl_sps(e, WL_SPS_ID));
    view_str(v, &W_DATE, wl_sps(e, WL_SPS_DATE));
    view_str(v, &W_TIME, wl_sps(e, WL_SPS_TIME));
    view_str(v, &W_MOD, wl_sps(e, WL_MODALITY));
    view_str(v, &W_AE, wl_sps(e, WL_STATION_AE));
    view_str(v, &W_PID, wl_top(e, WL_PATIENT_ID));
    view_str(v, &W_STATUS, wl_sps(e, WL_SPS_STATUS));
    view_str(v, &W_NAME, wl_top(e, WL_PATIENT_NAME));
    view_row_end(v);
}

/* ---- wl list ---- */

typedef struct list_ctx {
    view *v;
    uint64_t shown, limit;
} list_ctx;

static int list_one(void *ctx, rl_str k, const wl_entry *e)
{
    (void)k;
    list_ctx *l = ctx;
    if (l->shown++ >= l->limit)
        return 1;
    wl_row(l->v, e);
    return 0;
}

static void key(wl_query *q, uint32_t seq, uint32_t tag, const char *vr, const char *value)
{
    if (value && value[0])
        wl_query_add(q, seq, tag, vr, rl_str_c(value));
}

int ops_wl_list(op_call *c)
{
    wl_query *q = calloc(1, sizeof *q);
    if (!q)
        return view_fail(c->out, OP_FAIL, "out of memory");
    key(q, WL_SPS_SEQ, WL_SPS_DATE, "DA", ops_str(c, "date"));
    key(q, WL_SPS_SEQ, WL_STATION_AE, "AE", ops_str(c, "ae"));
    key(q, WL_SPS_SEQ, WL_MODALITY, "CS", ops_str(c, "modality"));
    key(q, 0, WL_PATIENT_ID, "LO", ops_str(c, "patient"));
    for (size_t i = 0; i < q->n; i++) {
        rl_err kerr;
        if (!wl_key_valid(&q->k[i], &kerr)) {
            free(q);
            return view_fail(c->out, OP_USAGE, "%s%s", view_is_json(c->out) ? "" : "--date: ",
                             kerr.msg);
        }
    }
    list_ctx l = { .v = c->out, .limit = ops_u64(c, "limit", view_is_json(c->out)
                                                                 ? 2 * RL_API_LIST_DEFAULT
                                                                 : RL_API_LIST_MAX) };
    view_list(c->out, "entries", wl_cols);
    rl_err err;
    int rc = wl_find(c->t, q, list_one, &l, NULL, &err);
    free(q);
    view_list_end(c->out);
    if (rc != STORE_OK)
        return ops_store_fail(c->out, &err);
    bool more = l.shown > l.limit;
    view_json(c->out, "more", json_boolean(more));
    view_printf(c->out, "(%llu entr%s%s)\n", (unsigned long long)(more ? l.limit : l.shown),
                l.shown == 1 ? "y" : "ies", more ? "; more than --limit" : "");
    return OP_OK;
}

/* ---- wl show ---- */

static void attribute(view *v, const wl_attr *a)
{
    const wl_model_attr *m = wl_model_by_path(a->path, a->depth);
    char tag[RL_OP_NAME_MAX];
    int w = 0;
    for (uint8_t d = 0; d < a->depth && w < (int)sizeof tag; d++)
        w += snprintf(tag + w, sizeof tag - (size_t)w, "%s(%04X,%04X)", d ? ">" : "",
                      a->path[d] >> 16, a->path[d] & 0xffff);
    const char *kw = m ? m->keyword : "?";
    view_printf(v, "  %-36s %-48s %.*s\n", tag, kw, RL_STR_FMT(a->value));
    view_obj(v, NULL);
    view_json(v, "tag", json_string(tag));
    view_json(v, "keyword", json_string(kw));
    view_json(v, "value", view_jstr(a->value));
    view_obj_end(v);
}

typedef struct show_ctx {
    view *v;
    unsigned n;
} show_ctx;

static int show_one(void *ctx, rl_str k, const wl_entry *e)
{
    (void)k;
    show_ctx *sc = ctx;
    view *v = sc->v;
    char cr[RL_TIME_TEXT_MAX], up[RL_TIME_TEXT_MAX];
    view_fmt_time(e->created_us, cr, sizeof cr);
    view_fmt_time(e->updated_us, up, sizeof up);
    view_printf(v, "%sentry %.*s / %.*s / %.*s\n", sc->n++ ? "\n" : "",
                RL_STR_FMT(wl_top(e, WL_ACCESSION)), RL_STR_FMT(wl_top(e, WL_RP_ID)),
                RL_STR_FMT(wl_sps(e, WL_SPS_ID)));
    if (e->msg_seq)
        view_printf(v, "  created %s, updated %s by message %llu (radlink msg show %llu)\n", cr,
                    up, (unsigned long long)e->msg_seq, (unsigned long long)e->msg_seq);
    else
        view_printf(v, "  created %s, imported %s from %.*s\n", cr, up, RL_STR_FMT(e->source));
    view_obj(v, NULL);
    view_json(v, "created", view_jtime(e->created_us));
    view_json(v, "updated", view_jtime(e->updated_us));
    view_json(v, "message", e->msg_seq ? json_integer((json_int_t)e->msg_seq) : json_null());
    view_json(v, "source", view_jstr(e->source));
    view_arr(v, "attributes");
    for (size_t i = 0; i < e->n; i++)
        attribute(v, &e->a[i]);
    view_arr_end(v);
    view_obj_end(v);
    return 0;
}

int ops_wl_show(op_call *c)
{
    const char *acc = ops_str(c, "ACCESSION");
    wl_query *q = calloc(1, sizeof *q);
    if (!q)
        return view_fail(c->out, OP_FAIL, "out of memory");
    wl_query_add(q, 0, WL_ACCESSION, "SH", rl_str_c(acc));
    view_json(c->out, "accession", json_string(acc));
    view_arr(c->out, "entries");
    show_ctx sc = { c->out, 0 };
    rl_err err;
    int rc = wl_find(c->t, q, show_one, &sc, NULL, &err);
    view_arr_end(c->out);
    free(q);
    if (rc != STORE_OK)
        return ops_store_fail(c->out, &err);
    if (!sc.n)
        return view_fail(c->out, OP_NOTFOUND, "no worklist entry with accession number %s", acc);
    return OP_OK;
}

/* ---- wl put: entries read from worklist files by `radlink wl import` ---- */

static int unhex(const char *h, rl_buf *out)
{
    size_t n = strlen(h);
    if (n % 2)
        return -1;
    for (size_t i = 0; i < n; i += 2) {
        int v = 0;
        for (int k = 0; k < 2; k++) {
            char c = h[i + (size_t)k];
            int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
            if (d < 0)
                return -1;
            v = v << 4 | d;
        }
        if (rl_buf_add_ch(out, (char)v) != 0)
            return -1;
    }
    return 0;
}

int ops_unhex(const char *hex, rl_buf *out)
{
    return unhex(hex, out);
}

/* The entry's words up to "not taken" or what was done. */
static void put_head(view *v, const wl_entry *e)
{
    rl_str acc = wl_top(e, WL_ACCESSION), rp = wl_top(e, WL_RP_ID), sps = wl_sps(e, WL_SPS_ID);
    view_printf(v, "%.*s: accession %.*s procedure %.*s step %.*s ", RL_STR_FMT(e->source),
                RL_STR_FMT(acc), RL_STR_FMT(rp), RL_STR_FMT(sps));
}

static int put_write(op_call *c, wl_entry *e, const wl_entry *old, bool existed, bool dry,
                     bool *taken, rl_err *err)
{
    e->created_us = existed ? old->created_us : c->now_us;
    e->updated_us = c->now_us;
    e->msg_seq = 0;
    unsigned found = 0;
    int rc = dry ? STORE_OK : wl_put(c->t, e, err);
    if (rc == STORE_OK && !dry) /* images may have come before the entry */
        rc = recon_new_order(c->t, wl_top(e, WL_ACCESSION), wl_top(e, WL_PATIENT_ID), &found,
                             err);
    if (rc != STORE_OK)
        return rc;
    view_printf(c->out, "%s%s (%zu attributes)", dry ? "would be " : "",
                existed ? "replaced" : "written", e->n);
    if (found)
        view_printf(c->out, "; %u stud%s received before it now matched", found,
                    found == 1 ? "y" : "ies");
    view_printf(c->out, "\n");
    *taken = true;
    return STORE_OK;
}

static int put_one(op_call *c, rl_str rec, bool replace, bool dry, bool *taken)
{
    *taken = false;
    wl_entry *e = malloc(sizeof *e), *old = malloc(sizeof *old);
    int status = OP_OK;
    rl_err err;
    if (!e || !old || wl_decode(rec, e) != STORE_OK || !e->source.n) {
        view_printf(c->out, e && old ? "a worklist entry that does not decode\n"
                                     : "out of memory\n");
        free(e), free(old);
        return OP_USAGE;
    }
    char kb[WL_KEY_MAX];
    rl_str k = { kb, wl_key_of(e, kb, sizeof kb) };
    put_head(c->out, e);
    int rc = wl_get(c->t, k, old, &err);
    if (rc == STORE_OK && !replace) {
        view_printf(c->out, "not taken: on the worklist already (");
        if (old->msg_seq)
            view_printf(c->out, "from message %llu", (unsigned long long)old->msg_seq);
        else
            view_printf(c->out, "imported from %.*s", RL_STR_FMT(old->source));
        view_printf(c->out, "); --replace writes over it\n");
        status = OP_FAIL;
    } else if (rc == STORE_OK || rc == STORE_NOTFOUND) {
        rc = put_write(c, e, old, rc == STORE_OK, dry, taken, &err);
    }
    if (rc != STORE_OK && rc != STORE_NOTFOUND && status == OP_OK) {
        view_printf(c->out, "not taken: %s\n", err.msg);
        status = OP_FAIL;
    }
    free(e), free(old);
    return status;
}

int ops_wl_put(op_call *c)
{
    bool replace = ops_flag(c, "replace"), dry = ops_flag(c, "dry-run");
    int status = OP_OK;
    rl_buf rec;
    rl_buf_init(&rec, RL_CTL_REQUEST_MAX);
    unsigned taken = 0;
    for (int i = 0; i < c->vals.nrest; i++) {
        rl_buf_reset(&rec);
        bool ok = false;
        int s = unhex(c->vals.rest[i], &rec) != 0 ? OP_USAGE
                : put_one(c, rl_buf_view(&rec), replace, dry, &ok);
        if (s == OP_USAGE) {
            rl_buf_free(&rec);
            c->dry = true;
            return view_fail(c->out, OP_USAGE, "wl put: argument %d is not an encoded worklist "
                             "entry", i + 1);
        }
        taken += ok;
        if (s > status)
            status = s;
    }
    rl_buf_free(&rec);
    /* the entries taken are kept even when others were not */
    c->keep = taken > 0 && !dry;
    c->dry = dry || !taken;
    return status;
}
