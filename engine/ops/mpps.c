/* mpps list|show: the Modality Performed Procedure Steps modalities reported
 * (PS3.4 F.7), read beside the engine. */
#include <stdlib.h>
#include <string.h>

#include "ops_internal.h"
#include "radlink/dicom.h"
#include "radlink/mpps.h"

/* ---- the view of a performed procedure step ---- */

static const view_field P_UID = { "sop_uid", "SOP-INSTANCE-UID", 44 };
static const view_field P_STATE = { "state", "STATE", 12 };
static const view_field P_MOD = { "modality", "MOD", 8 };
static const view_field P_STATION = { "station", "STATION", 9 };
static const view_field P_UPDATED = { "updated", "UPDATED", 16, 16 };
static const view_field P_SERIES = { "series", "SERIES", 6 };
static const view_field P_PPS = { "pps_id", "PPS-ID", 15 };
static const view_field P_STEPS = { NULL, "STEPS (accession/procedure/step)", 0 };
static const view_field P_UNMATCHED = { "unmatched" };
static const view_field *const mpps_cols[] = { &P_UID, &P_STATE, &P_MOD, &P_STATION, &P_UPDATED,
                                               &P_SERIES, &P_PPS, &P_STEPS, NULL };

/* The worklist steps of a record, "accession/procedure/step" each: text
 * joined by sep into out, JSON an array "steps". */
static void steps(view *v, rl_str keys, const char *sep, rl_buf *out)
{
    view_arr(v, "steps");
    for (size_t i = 0, start = 0; i < keys.n; i++) {
        if (keys.p[i] != '\n')
            continue;
        if (out->len)
            rl_buf_add_c(out, sep);
        size_t from = out->len;
        for (size_t k = start; k < i; k++)
            rl_buf_add_ch(out, keys.p[k] ? keys.p[k] : '/');
        view_json(v, NULL, json_stringn(out->data + from, out->len - from));
        start = i + 1;
    }
    view_arr_end(v);
    if (!out->len)
        rl_buf_add_c(out, "-");
}

static void mpps_row(view *v, rl_str uid, const mpps_rec *m, const dicom_mpps_info *info)
{
    view_row(v);
    view_str(v, &P_UID, uid);
    view_cstr(v, &P_STATE, mpps_state_name(m->state));
    view_cstr(v, &P_MOD, info->modality);
    view_cstr(v, &P_STATION, info->station_ae);
    view_time(v, &P_UPDATED, m->updated_us);
    view_u64(v, &P_SERIES, info->series);
    view_cstr(v, &P_PPS, info->pps_id);
    rl_buf s;
    rl_buf_init(&s, 0);
    if (m->flags & MPPS_UNMATCHED)
        rl_buf_add_c(&s, "not on the worklist: ");
    rl_buf tail;
    rl_buf_init(&tail, 0);
    steps(v, m->steps, " ", &tail);
    rl_buf_add_str(&s, rl_buf_view(&tail));
    view_str(v, &P_STEPS, rl_buf_view(&s));
    view_bool(v, &P_UNMATCHED, m->flags & MPPS_UNMATCHED);
    rl_buf_free(&tail);
    rl_buf_free(&s);
    view_row_end(v);
}

int ops_mpps_list(op_call *c)
{
    bool unmatched = ops_flag(c, "unmatched");
    store_cursor *cur;
    rl_err err;
    if (store_cursor_open(c->t, STORE_MPPS, &cur, &err) != STORE_OK)
        return ops_store_fail(c->out, &err);
    view_list(c->out, "steps", mpps_cols);
    unsigned n = 0;
    rl_str k, val;
    for (int r = store_cursor_get(cur, STORE_FIRST, &k, &val); r == STORE_OK;
         r = store_cursor_get(cur, STORE_NEXT, &k, &val)) {
        mpps_rec m;
        dicom_mpps_info info;
        if (mpps_decode(val, &m) != STORE_OK || dicom_mpps_info_read(m.dataset, &info, &err) != 0)
            continue;
        if (unmatched && !(m.flags & MPPS_UNMATCHED))
            continue;
        mpps_row(c->out, k, &m, &info);
        n++;
    }
    store_cursor_close(cur);
    view_list_end(c->out);
    view_printf(c->out, "(%u step%s%s)\n", n, n == 1 ? "" : "s",
                unmatched ? " on the exception list" : "");
    return OP_OK;
}

int ops_mpps_show(op_call *c)
{
    const char *uid = ops_str(c, "SOP-INSTANCE-UID");
    mpps_rec m;
    rl_err err;
    int rc = mpps_get(c->t, rl_str_c(uid), &m, &err);
    if (rc == STORE_NOTFOUND)
        return view_fail(c->out, OP_NOTFOUND, "no performed procedure step %s", uid);
    if (rc != STORE_OK)
        return ops_store_fail(c->out, &err);
    view *v = c->out;
    char cr[RL_TIME_TEXT_MAX], up[RL_TIME_TEXT_MAX];
    view_fmt_time(m.created_us, cr, sizeof cr);
    view_fmt_time(m.updated_us, up, sizeof up);
    view_printf(v, "performed procedure step %s\n  state        %s\n  reported by  %.*s\n"
                "  created      %s\n  updated      %s\n  steps        ", uid,
                mpps_state_name(m.state), RL_STR_FMT(m.calling_ae), cr, up);
    view_json(v, "sop_uid", json_string(uid));
    view_json(v, "state", json_string(mpps_state_name(m.state)));
    view_json(v, "reported_by", view_jstr(m.calling_ae));
    view_json(v, "created", view_jtime(m.created_us));
    view_json(v, "updated", view_jtime(m.updated_us));
    view_json(v, "unmatched", json_boolean(m.flags & MPPS_UNMATCHED));
    rl_buf s;
    rl_buf_init(&s, 0);
    steps(v, m.steps, ", ", &s);
    view_add(v, rl_buf_view(&s));
    rl_buf_free(&s);
    if (m.flags & MPPS_UNMATCHED)
        view_printf(v, " (a step it names is not on the worklist: on the exception list)");
    view_printf(v, "\ndata set:\n");
    rl_buf out;
    rl_buf_init(&out, 0);
    if (dicom_mpps_dump(m.dataset, &out, &err) == 0) {
        view_add(v, rl_buf_view(&out));
        view_json(v, "dataset", view_jstr(rl_buf_view(&out)));
    }
    rl_buf_free(&out);
    return OP_OK;
}
