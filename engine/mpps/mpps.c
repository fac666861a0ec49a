/* Modality Performed Procedure Steps (radlink/mpps.h). */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "radlink/audit.h"
#include "radlink/log.h"
#include "radlink/mpps.h"
#include "radlink/queue.h"
#include "radlink/rec.h"
#include "radlink/receive.h"
#include "radlink/wl.h"

const char *mpps_state_name(int state)
{
    return state == MPPS_IN_PROGRESS ? "IN PROGRESS" : state == MPPS_COMPLETED ? "COMPLETED"
           : state == MPPS_DISCONTINUED ? "DISCONTINUED" : "?";
}

static int state_of(const char *status)
{
    return !strcmp(status, "IN PROGRESS") ? MPPS_IN_PROGRESS
           : !strcmp(status, "COMPLETED") ? MPPS_COMPLETED
           : !strcmp(status, "DISCONTINUED") ? MPPS_DISCONTINUED : 0;
}

int mpps_decode(rl_str val, mpps_rec *r)
{
    rec_reader rd;
    rec_reader_init(&rd, val.p, val.n);
    memset(r, 0, sizeof *r);
    if (rec_get_u8(&rd) != 1)
        return STORE_E_CORRUPT;
    r->state = rec_get_u8(&rd);
    r->flags = rec_get_u8(&rd);
    r->created_us = (int64_t)rec_get_u64(&rd);
    r->updated_us = (int64_t)rec_get_u64(&rd);
    r->calling_ae = rec_get_str(&rd);
    r->steps = rec_get_str(&rd);
    r->dataset = rec_get_str(&rd);
    return rec_ok(&rd) ? STORE_OK : STORE_E_CORRUPT;
}

int mpps_get(store_txn *t, rl_str uid, mpps_rec *r, rl_err *err)
{
    rl_str v;
    int rc = store_get(t, STORE_MPPS, uid, &v, err);
    if (rc != STORE_OK)
        return rc;
    if (mpps_decode(v, r) != STORE_OK)
        return rl_err_set(err, STORE_E_CORRUPT, -1, "MPPS record does not decode");
    return STORE_OK;
}

/* Each step's accession -> uid (STORE_MPPS_IDX); an entry there already stays. */
static int index_steps(store_txn *t, rl_str uid, rl_str steps, rl_err *err)
{
    int rc = STORE_OK;
    for (size_t i = 0, start = 0; rc == STORE_OK && i < steps.n; i++) {
        if (steps.p[i] != '\n')
            continue;
        size_t an = 0;
        while (start + an < i && steps.p[start + an])
            an++;
        if (an && an < 512 && uid.n && uid.n < 512)
            rc = store_put(t, STORE_MPPS_IDX, (rl_str){ steps.p + start, an }, uid, 0, err);
        start = i + 1;
    }
    return rc;
}

int mpps_each_of_accession(store_txn *t, rl_str accession, mpps_visit cb, void *ctx, rl_err *err)
{
    store_cursor *c;
    int rc = store_cursor_open(t, STORE_MPPS_IDX, &c, err);
    if (rc)
        return rc;
    rl_str k = accession, v;
    for (int got = store_cursor_get(c, STORE_SET, &k, &v); got == STORE_OK;
         got = store_cursor_get(c, STORE_NEXT_DUP, &k, &v))
        if (cb(ctx, v) != 0)
            break;
    store_cursor_close(c);
    return STORE_OK;
}

int mpps_index_upgrade(store_txn *t, unsigned *n, rl_err *err)
{
    *n = 0;
    rl_str v;
    int rc = store_get(t, STORE_META, RL_STR("mpps.idx"), &v, err);
    if (rc == STORE_OK)
        return STORE_OK;
    if (rc < 0)
        return rc;
    /* the pairs first: the cursor's views end at a write */
    rl_buf pairs;
    rl_buf_init(&pairs, 0);
    store_cursor *c;
    if ((rc = store_cursor_open(t, STORE_MPPS, &c, err)) != STORE_OK)
        return rc;
    rl_str k;
    for (int got = store_cursor_get(c, STORE_FIRST, &k, &v); got == STORE_OK;
         got = store_cursor_get(c, STORE_NEXT, &k, &v)) {
        mpps_rec r;
        if (mpps_decode(v, &r) != STORE_OK || k.n > 0xFFFF || r.steps.n > 0xFFFFFF)
            continue;
        rec_put_str(&pairs, k);
        rec_put_str(&pairs, r.steps);
    }
    store_cursor_close(c);
    rec_reader rd;
    rec_reader_init(&rd, pairs.len ? pairs.data : "", pairs.len);
    while (rc == STORE_OK && pairs.len && rec_ok(&rd) && rd.p < rd.end) {
        rl_str uid = rec_get_str(&rd), steps = rec_get_str(&rd);
        rc = index_steps(t, uid, steps, err);
        (*n)++;
    }
    rl_buf_free(&pairs);
    return rc == STORE_OK ? store_put(t, STORE_META, RL_STR("mpps.idx"), RL_STR("1"), 0, err) : rc;
}

static int put(store_txn *t, rl_str uid, const mpps_rec *r, rl_err *err)
{
    rl_buf b;
    rl_buf_init(&b, 0);
    int e = rec_put_u8(&b, 1) | rec_put_u8(&b, r->state) | rec_put_u8(&b, r->flags) |
            rec_put_u64(&b, (uint64_t)r->created_us) | rec_put_u64(&b, (uint64_t)r->updated_us) |
            rec_put_str(&b, r->calling_ae) | rec_put_str(&b, r->steps) |
            rec_put_str(&b, r->dataset);
    int rc = e ? rl_err_set(err, RL_E_NOMEM, -1, "out of memory")
               : store_put(t, STORE_MPPS, uid, rl_buf_view(&b), 0, err);
    rl_buf_free(&b);
    return rc == STORE_OK ? index_steps(t, uid, r->steps, err) : rc;
}

void mpps_receive(void *ctx, dicom_mpps_req *req)
{
    cmd *c = calloc(1, sizeof *c);
    if (!c) {
        req->status = 0x0110;
        snprintf(req->why, sizeof req->why, "out of memory");
        return;
    }
    c->kind = CMD_MPPS;
    c->u.mpps.req = req;
    receiver *rcv = ctx;
    if (cmdq_call(rcv->q, &c->q) != 0 && !req->status) { /* not committed */
        req->status = 0x0110;
        snprintf(req->why, sizeof req->why, "not stored: %.180s", c->q.text);
    }
    free(c);
}

/* ---- the worklist steps an MPPS performs ---- */

typedef struct step_find {
    const dicom_mpps_step *s;
    rl_buf *keys;
    unsigned found;
} step_find;

static int take_step(void *ctx, rl_str key, const wl_entry *e)
{
    step_find *f = ctx;
    rl_str rp = wl_top(e, WL_RP_ID), sps = wl_sps(e, WL_SPS_ID);
    if (f->s->rp_id[0] && !rl_str_eq(rp, rl_str_c(f->s->rp_id)))
        return 0;
    if (f->s->sps_id[0] && !rl_str_eq(sps, rl_str_c(f->s->sps_id)))
        return 0;
    if (f->s->accession[0] && !rl_str_eq(wl_top(e, WL_ACCESSION), rl_str_c(f->s->accession)))
        return 0;
    rl_buf_add_str(f->keys, key);
    rl_buf_add_ch(f->keys, '\n');
    f->found++;
    return 0;
}

/* Worklist keys of the steps info names, into keys; false when some step
 * names nothing on the worklist (an unscheduled or unknown step). */
static bool find_steps(store_txn *t, const dicom_mpps_info *info, rl_buf *keys, rl_err *err,
                       int *rc)
{
    bool all = info->nsteps > 0;
    for (size_t i = 0; i < info->nsteps && *rc == STORE_OK; i++) {
        const dicom_mpps_step *s = &info->steps[i];
        step_find f = { s, keys, 0 };
        /* by accession, else by the study the order fixed */
        if (s->accession[0])
            *rc = wl_scan(t, 'A', rl_str_c(s->accession), rl_str_c(s->accession), take_step, &f,
                          err);
        else if (s->sps_id[0] || s->rp_id[0])
            *rc = wl_scan(t, 'U', rl_str_c(s->study_uid), rl_str_c(s->study_uid), take_step, &f,
                          err);
        all &= f.found > 0;
    }
    return all;
}

/* ---- the status message to the order filler ---- */

/* A DICOM PN (family^given^middle^prefix^suffix) as an HL7 XPN
 * (family^given^middle^suffix^prefix). */
static void xpn_of(const char *pn, char *out, size_t n)
{
    char part[RL_PN_COMPONENTS][RL_PN_COMPONENT] = { "" };
    int k = 0;
    size_t j = 0;
    for (const char *p = pn; *p && *p != '='; p++) {
        if (*p == '^') {
            part[k][j] = '\0';
            if (++k == RL_PN_COMPONENTS)
                break;
            j = 0;
        } else if (j + 1 < sizeof part[0]) {
            part[k][j++] = *p;
        }
    }
    if (k < RL_PN_COMPONENTS)
        part[k][j] = '\0';
    snprintf(out, n, "%s^%s^%s^%s^%s", part[0], part[1], part[2], part[4], part[3]);
}

static rl_str entry_value(const wl_entry *e, const char *keyword)
{
    const wl_model_attr *m = wl_model_find(keyword);
    const rl_str *v = m ? wl_get_attr(e, m->tags, m->depth) : NULL;
    return v ? *v : (rl_str){ "", 0 };
}

static rl_str mpps_value(const dicom_mpps_info *info, const char *keyword)
{
    static const struct { const char *kw; size_t off; } map[] = {
        { "PerformedProcedureStepStatus", offsetof(dicom_mpps_info, status) },
        { "PerformedProcedureStepID", offsetof(dicom_mpps_info, pps_id) },
        { "PerformedStationAETitle", offsetof(dicom_mpps_info, station_ae) },
        { "PerformedProcedureStepStartDate", offsetof(dicom_mpps_info, start_date) },
        { "PerformedProcedureStepStartTime", offsetof(dicom_mpps_info, start_time) },
        { "PerformedProcedureStepEndDate", offsetof(dicom_mpps_info, end_date) },
        { "PerformedProcedureStepEndTime", offsetof(dicom_mpps_info, end_time) },
        { "PerformedProcedureStepDescription", offsetof(dicom_mpps_info, description) },
    };
    for (size_t i = 0; i < sizeof map / sizeof *map; i++)
        if (!strcmp(keyword, map[i].kw))
            return rl_str_c((const char *)info + map[i].off);
    return (rl_str){ "", 0 };
}

/* v at path in m (nothing when v is empty): HL7_OK, or the HL7 code of the
 * edit that failed. */
static int set(hl7_msg *m, const char *path, rl_str v)
{
    hl7_path p;
    rl_err err;
    if (!v.n || hl7_path_parse(rl_str_c(path), &p, &err) != HL7_OK)
        return HL7_OK;
    return hl7_set(m, &p, v, &err);
}

/* One ORM^O01 (or OMG^O19) for the order of entry e, queued for the order
 * filler: ORC-1 SC, ORC-5 the status, the order's numbers, OBR-7 the
 * performed start, the study UID in an OBX; then the route file's fields. */
static int send_status(store_txn *t, const route_mpps_status *ms, const route_dest *d,
                       const wl_entry *e, const dicom_mpps_info *info, int state,
                       int64_t now_us, uint64_t n, rl_err *err)
{
    char when[RL_HL7_TS_TEXT_MAX], ctrl[sizeof "RLMPPS" + RL_NUM_TEXT_MAX];
    char start[RL_HL7_TS_TEXT_MAX], end[RL_HL7_TS_TEXT_MAX];
    char xpn[RL_PN_COMPONENTS * RL_PN_COMPONENT]; /* the components and their '^' */
    rl_time_hl7(now_us, when, sizeof when);
    snprintf(ctrl, sizeof ctrl, "RLMPPS%llu", (unsigned long long)n);
    snprintf(start, sizeof start, "%s%.6s", info->start_date, info->start_time);
    snprintf(end, sizeof end, "%s%.6s", info->end_date, info->end_time);
    char text[RL_MPPS_STATUS_HEAD];
    snprintf(text, sizeof text,
             "MSH|^~\\&|RADLINK|RADLINK|||%s||%s|%s|P|2.5.1||||||UNICODE UTF-8\r"
             "PID|1\rORC|SC\rOBR|1\rOBX|1|ST|110180^Study Instance UID^DCM\r",
             when, ms->omg ? "OMG^O19^OMG_O19" : "ORM^O01^ORM_O01", ctrl);
    hl7_msg m;
    hl7_msg_init(&m, NULL);
    int e2 = hl7_parse(&m, text, strlen(text), err); /* non-zero once a step failed */
    rl_str pn = wl_top(e, WL_PATIENT_NAME);
    char pnc[RL_MPPS_PN_MAX + 1];
    snprintf(pnc, sizeof pnc, "%.*s", (int)(pn.n > RL_MPPS_PN_MAX ? RL_MPPS_PN_MAX : pn.n), pn.p);
    xpn_of(pnc, xpn, sizeof xpn);
    rl_str code = rl_str_c(ms->code[state - 1]);
    e2 |= set(&m, "MSH-5", rl_str_c(d->name));
    e2 |= set(&m, "PID-3.1", wl_top(e, WL_PATIENT_ID));
    e2 |= set(&m, "PID-3.4", entry_value(e, "IssuerOfPatientID"));
    e2 |= set(&m, "PID-5", (rl_str){ "", 0 });
    e2 |= set(&m, "ORC-2", entry_value(e, "PlacerOrderNumberImagingServiceRequest"));
    e2 |= set(&m, "ORC-3", entry_value(e, "FillerOrderNumberImagingServiceRequest"));
    e2 |= set(&m, "ORC-5", code);
    e2 |= set(&m, "OBR-2", entry_value(e, "PlacerOrderNumberImagingServiceRequest"));
    e2 |= set(&m, "OBR-3", entry_value(e, "FillerOrderNumberImagingServiceRequest"));
    e2 |= set(&m, "OBR-4.1", entry_value(e, "RequestedProcedureCodeSequence/CodeValue"));
    e2 |= set(&m, "OBR-4.2", entry_value(e, "RequestedProcedureDescription"));
    e2 |= set(&m, "OBR-4.3",
              entry_value(e, "RequestedProcedureCodeSequence/CodingSchemeDesignator"));
    e2 |= set(&m, "OBR-7", rl_str_c(start));
    if (state != MPPS_IN_PROGRESS)
        e2 |= set(&m, "OBR-8", rl_str_c(end));
    e2 |= set(&m, "OBR-18", wl_top(e, WL_ACCESSION));
    e2 |= set(&m, "OBR-19", wl_top(e, WL_RP_ID));
    e2 |= set(&m, "OBR-20", wl_sps(e, WL_SPS_ID));
    e2 |= set(&m, "OBR-21", rl_str_c(info->station_ae));
    e2 |= set(&m, "OBR-24", rl_str_c(info->modality));
    e2 |= set(&m, "OBX-5", wl_top(e, WL_STUDY_UID));
    e2 |= set(&m, "OBX-11", RL_STR("F"));
    /* the name by components, so that '^' stays a separator */
    static const char *const pnpath[5] = { "PID-5.1", "PID-5.2", "PID-5.3", "PID-5.4", "PID-5.5" };
    const char *p = xpn;
    for (int i = 0; i < 5; i++) {
        const char *q = strchr(p, '^');
        size_t k = q ? (size_t)(q - p) : strlen(p);
        e2 |= set(&m, pnpath[i], (rl_str){ p, k });
        p = q ? q + 1 : p + k;
    }
    for (size_t i = 0; i < ms->nfields; i++) {
        const route_mpps_field *f = &ms->fields[i];
        rl_str v = f->value ? rl_str_c(f->value)
                   : !strncmp(f->keyword, "Performed", 9) ? mpps_value(info, f->keyword)
                                                          : entry_value(e, f->keyword);
        char path[RL_HL7_PATH_TEXT];
        hl7_path_format(&f->path, path, sizeof path);
        e2 |= v.n ? set(&m, path, v) : 0;
    }
    rl_buf out;
    rl_buf_init(&out, 0);
    int rc = e2 || hl7_serialize(&m, &out) != HL7_OK
                 ? rl_err_set(err, RL_E_ARG, -1, "the MPPS status message cannot be built")
                 : queue_push(t, d->name, 0, rl_buf_view(&out), now_us, NULL, err);
    rl_buf_free(&out);
    hl7_msg_free(&m);
    return rc;
}

/* A state change reaches every step in keys: its SPS status is set and,
 * when the route file says where, a status message is queued for its order.
 * One read of each entry serves both. */
static int steps_changed(store_txn *t, const route_set *rs, rl_str keys,
                         const dicom_mpps_info *info, int state, int64_t now_us,
                         unsigned *queued, rl_err *err)
{
    static const char *const wl_status[4] = { "", "STARTED", "COMPLETED", "DISCONTINUED" };
    const route_mpps_status *ms = rs ? route_mpps(rs) : NULL;
    const route_dest *d = NULL;
    if (ms && ms->present && ms->dest >= 0) {
        size_t nd = 0;
        d = &route_dests(rs, &nd)[ms->dest];
    }
    wl_entry *e = malloc(sizeof *e);
    if (!e)
        return rl_err_set(err, RL_E_NOMEM, -1, "out of memory");
    rl_arena a;
    rl_arena_init(&a, 4096, 0);
    int rc = STORE_OK;
    for (size_t i = 0, start = 0; i < keys.n && rc == STORE_OK; i++) {
        if (keys.p[i] != '\n')
            continue;
        rl_str key = { keys.p + start, i - start };
        start = i + 1;
        int g = wl_get(t, key, e, err);
        if (g == STORE_NOTFOUND)
            continue; /* cancelled since */
        if (g != STORE_OK || wl_entry_own(e, &a) != 0) {
            rc = g != STORE_OK ? g : rl_err_set(err, RL_E_NOMEM, -1, "out of memory");
            break;
        }
        uint32_t st[2] = { WL_SPS_SEQ, WL_SPS_STATUS };
        wl_set_attr(e, st, 2, rl_str_c(wl_status[state]));
        rc = wl_put(t, e, err);
        if (rc == STORE_OK && d) {
            /* control IDs: the time and the step's place, unique per change */
            uint64_t n = (uint64_t)now_us * 10 + *queued % 10;
            rc = send_status(t, ms, d, e, info, state, now_us, n, err);
            *queued += rc == STORE_OK;
        }
    }
    rl_arena_free(&a);
    free(e);
    return rc;
}

/* A worklist step whose SPS status is not yet COMPLETED: its key into keys. */
typedef struct open_steps {
    rl_buf *keys;
    unsigned n;
} open_steps;

static int take_open(void *ctx, rl_str key, const wl_entry *e)
{
    open_steps *o = ctx;
    uint32_t st[2] = { WL_SPS_SEQ, WL_SPS_STATUS };
    const rl_str *v = wl_get_attr(e, st, 2);
    if (v && rl_str_eq_c(*v, "COMPLETED"))
        return 0;
    rl_buf_add_str(o->keys, key);
    rl_buf_add_ch(o->keys, '\n');
    o->n++;
    return 0;
}

int mpps_complete_order(store_txn *t, const route_set *rs, rl_str accession, int64_t now_us,
                        unsigned *completed, unsigned *queued, rl_err *err)
{
    rl_buf keys;
    rl_buf_init(&keys, 0);
    open_steps o = { &keys, 0 };
    *completed = 0;
    int rc = wl_scan(t, 'A', accession, accession, take_open, &o, err);
    dicom_mpps_info *info = rc == STORE_OK && o.n ? calloc(1, sizeof *info) : NULL;
    if (rc == STORE_OK && o.n && !info)
        rc = rl_err_set(err, RL_E_NOMEM, -1, "out of memory");
    if (info) {
        /* the status message's OBR-7/8: the report's time */
        char ts[RL_HL7_TS_TEXT_MAX];
        rl_time_hl7(now_us, ts, sizeof ts);
        snprintf(info->end_date, sizeof info->end_date, "%.8s", ts);
        snprintf(info->end_time, sizeof info->end_time, "%.6s", ts + 8);
        rc = steps_changed(t, rs, rl_buf_view(&keys), info, MPPS_COMPLETED, now_us, queued, err);
        *completed = rc == STORE_OK ? o.n : 0;
    }
    free(info);
    rl_buf_free(&keys);
    return rc;
}

static void refuse(dicom_mpps_req *r, uint16_t status, const char *why)
{
    r->status = status;
    snprintf(r->why, sizeof r->why, "%s", why);
}

int mpps_forward_decode(rl_str payload, bool *create, rl_str *sop_uid, rl_str *dataset)
{
    rec_reader rd;
    rec_reader_init(&rd, payload.p, payload.n);
    uint8_t op = rec_get_u8(&rd);
    *sop_uid = rec_get_str(&rd);
    *dataset = rec_get_str(&rd);
    *create = op == 'C';
    return rec_ok(&rd) && rd.p == rd.end && (op == 'C' || op == 'S') ? 0 : STORE_E_CORRUPT;
}

/* The request as it came, for each PACS it is forwarded to. */
static int forward(store_txn *t, const dicom_mpps_req *r, const route_dest *pacs, size_t n,
                   int64_t now_us, unsigned *queued, rl_err *err)
{
    if (!n)
        return STORE_OK;
    rl_buf b;
    rl_buf_init(&b, 0);
    int rc = rec_put_u8(&b, r->create ? 'C' : 'S') | rec_put_str(&b, rl_str_c(r->sop_uid)) |
             rec_put_str(&b, r->dataset) ? rl_err_set(err, RL_E_NOMEM, -1, "out of memory")
                                         : STORE_OK;
    for (size_t i = 0; i < n && rc == STORE_OK; i++) {
        rc = queue_push(t, pacs[i].name, 0, rl_buf_view(&b), now_us, NULL, err);
        *queued += rc == STORE_OK;
    }
    rl_buf_free(&b);
    return rc;
}

int mpps_apply(store_txn *t, dicom_mpps_req *r, const route_set *rs, const route_dest *pacs,
               size_t n_pacs, int64_t now_us, unsigned *queued, rl_err *err)
{
    rl_str uid = rl_str_c(r->sop_uid);
    mpps_rec old, now;
    int g = mpps_get(t, uid, &old, err);
    if (g < 0)
        return g;
    r->status = 0;
    if (r->create && g == STORE_OK) {
        refuse(r, 0x0111, "this Performed Procedure Step exists already");
        return STORE_OK;
    }
    if (!r->create && g == STORE_NOTFOUND) {
        refuse(r, 0x0112, "no such Performed Procedure Step");
        return STORE_OK;
    }
    if (!r->create && old.state != MPPS_IN_PROGRESS) {
        char why[sizeof r->why];
        snprintf(why, sizeof why, "the step is %s: it may no longer be updated",
                 mpps_state_name(old.state));
        refuse(r, 0x0110, why);
        return STORE_OK;
    }
    rl_buf merged, keys;
    rl_buf_init(&merged, 0);
    rl_buf_init(&keys, 0);
    dicom_mpps_info *info = calloc(1, sizeof *info);
    int rc = info ? STORE_OK : rl_err_set(err, RL_E_NOMEM, -1, "out of memory");
    rl_str ds = r->dataset;
    if (rc == STORE_OK && !r->create) {
        /* copy the stored views first: the record is rewritten below */
        rl_buf_add_str(&keys, old.steps);
        if (dicom_mpps_merge(old.dataset, r->dataset, &merged, err) != 0)
            rc = STORE_E_CORRUPT;
        ds = rl_buf_view(&merged);
    }
    if (rc == STORE_OK && dicom_mpps_info_read(ds, info, err) != 0)
        rc = STORE_E_CORRUPT;
    int state = rc == STORE_OK ? state_of(info->status) : 0;
    if (rc == STORE_OK && state != MPPS_IN_PROGRESS && (!info->end_date[0] || !info->end_time[0])) {
        refuse(r, 0x0110, "a step is COMPLETED or DISCONTINUED with its end date and time "
                          "(PerformedProcedureStepEndDate, EndTime)");
        goto out;
    }
    now = (mpps_rec){ .state = (uint8_t)state, .created_us = now_us, .updated_us = now_us,
                      .calling_ae = rl_str_c(r->calling_ae), .dataset = ds };
    if (rc == STORE_OK && r->create) {
        if (!find_steps(t, info, &keys, err, &rc) && rc == STORE_OK)
            now.flags |= MPPS_UNMATCHED;
    } else if (rc == STORE_OK) {
        now.flags = old.flags;
        now.created_us = old.created_us;
        now.calling_ae = (rl_str){ r->calling_ae, strlen(r->calling_ae) };
    }
    now.steps = rl_buf_view(&keys);
    bool changed = r->create || state != old.state;
    if (rc == STORE_OK)
        rc = put(t, uid, &now, err);
    if (rc == STORE_OK && changed)
        rc = steps_changed(t, rs, now.steps, info, state, now_us, queued, err);
    if (rc == STORE_OK)
        rc = forward(t, r, pacs, n_pacs, now_us, queued, err);
    if (rc == STORE_OK) { /* Procedure Record (PS3.15 A.5.3.13) */
        audit_event ev = { .kind = AUDIT_PROCEDURE, .action = r->create ? 'C' : 'U',
                           .time_us = now_us, .patient_id = info->patient_id,
                           .patient_name = info->patient_name, .mpps_uid = r->sop_uid,
                           .study_uid = info->nsteps ? info->steps[0].study_uid : NULL,
                           .accession = info->nsteps ? info->steps[0].accession : NULL };
        char addr[RL_PEER_TEXT_MAX];
        audit_received_from(&ev, r->calling_ae, r->peer, addr, sizeof addr);
        rc = audit_record(t, &ev, err);
    }
    if (rc == STORE_OK)
        log_info("dicom.mpps", "calling=%s sop=%s op=%s state=%s steps=%zu%s", r->calling_ae,
                 r->sop_uid, r->create ? "create" : "set", mpps_state_name(state),
                 info->nsteps, now.flags & MPPS_UNMATCHED ? " unmatched=yes" : "");
out:
    free(info);
    rl_buf_free(&merged);
    rl_buf_free(&keys);
    return rc;
}
