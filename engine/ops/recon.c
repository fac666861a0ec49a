/* recon list|show|link|forward: received studies against the RIS. list and
 * show read beside the engine; link (an administrator's manual match) and
 * forward (a study no order claims, sent as it is) are applied in its turn. */
#include <stdlib.h>
#include <string.h>

#include "ops_internal.h"
#include "radlink/job.h"
#include "radlink/recon.h"
#include "radlink/report.h"
#include "radlink/recon_job.h"
#include "radlink/study.h"
#include "radlink/wl.h"

/* ---- the view of a study: a row ---- */

static const view_field R_UID = { "study_uid", "STUDY-UID", 40 };
static const view_field R_STATE = { "state", "STATE", 10 };
static const view_field R_PID = { NULL, "PATIENT-ID", 12, 0, NULL, VIEW_PHI };
static const view_field R_ACC = { "accession", "ACCESSION", 16 };
static const view_field R_DATE = { "study_date", "DATE", 8 };
static const view_field R_MOD = { "modality", "MOD", 4 };
static const view_field R_INST = { "instances", "INST", 5, 0, NULL, VIEW_RIGHT };
static const view_field R_DIS = { NULL, "DIS", 3, 0, NULL, VIEW_RIGHT };
static const view_field R_CND = { NULL, "CND", 3, 0, NULL, VIEW_RIGHT };
static const view_field R_AGE = { NULL, "AGE", 0 };
static const view_field R_NAME = { NULL, "PATIENT", 0, 0, NULL, VIEW_PHI };
static const view_field R_NOTES = { "notes" };
static const view_field R_FIRST = { "first" };
static const view_field R_UPDATED = { "updated" };
static const view_field R_AGE_S = { "age_s" };
static const view_field *const study_cols[] = { &R_UID, &R_STATE, &R_PID, &R_ACC, &R_DATE, &R_MOD,
                                                &R_INST, &R_DIS, &R_NAME, NULL };
static const view_field *const unmatched_cols[] = { &R_UID, &R_STATE, &R_PID, &R_ACC, &R_DATE,
                                                    &R_MOD, &R_INST, &R_CND, &R_AGE, &R_NAME,
                                                    NULL };

static int count_all(void *ctx, rl_str a, rl_str b, rl_str d)
{
    (void)a, (void)b, (void)d;
    (*(unsigned *)ctx)++;
    return 0;
}

static int count_candidate(void *ctx, rl_str kind, rl_str accession, rl_str what)
{
    (void)accession, (void)what;
    if (rl_str_eq_c(kind, "Candidate"))
        (*(unsigned *)ctx)++;
    return 0;
}

typedef struct list_ctx {
    view *v;
    bool unmatched;
    int state; /* -1: any */
    uint64_t skip, limit, shown, total;
    int64_t now_us;
} list_ctx;

static void study_row(list_ctx *l, rl_str uid, const study_rec *s)
{
    view *v = l->v;
    unsigned dis = 0, notes = 0;
    if (s->state == RECON_CORRECTING || s->state == RECON_CORRECTED)
        recon_note_each(s->note, count_all, &dis);
    else if (s->state == RECON_UNMATCHED)
        recon_note_each(s->note, count_candidate, &dis);
    recon_note_each(s->note, count_all, &notes);
    char age[RL_NUM_TEXT_MAX];
    ops_age(l->now_us - s->first_us, age, sizeof age);
    view_row(v);
    view_str(v, &R_UID, uid);
    /* instances its DICOM routes hold wait on the exception list too */
    view_cstr(v, &R_STATE, s->held ? "held" : recon_state_name(s->state));
    view_str(v, &R_PID, s->f[STUDY_F_PATIENT_ID]);
    view_str(v, &R_ACC, s->f[STUDY_F_ACCESSION]);
    view_str(v, &R_DATE, s->f[STUDY_F_STUDY_DATE]);
    view_str(v, &R_MOD, s->f[STUDY_F_MODALITY]);
    view_u64(v, &R_INST, s->instances);
    view_u64(v, l->unmatched ? &R_CND : &R_DIS, dis);
    if (l->unmatched)
        view_cstr(v, &R_AGE, age);
    view_str(v, &R_NAME, s->f[STUDY_F_PATIENT_NAME]);
    view_u64(v, &R_NOTES, notes);
    view_time(v, &R_FIRST, s->first_us);
    view_time(v, &R_UPDATED, s->updated_us);
    view_real(v, &R_AGE_S, (double)(l->now_us - s->first_us) / 1e6);
    view_row_end(v);
}

static int list_one(void *ctx, rl_str uid, const study_rec *s)
{
    list_ctx *l = ctx;
    bool listed = l->state < 0 || (int)s->state == l->state || (l->unmatched && s->held);
    if (!listed)
        return 0;
    if (l->total++ < l->skip || l->shown >= l->limit)
        return 0;
    l->shown++;
    study_row(l, uid, s);
    return 0;
}

/* ---- reports ---- */

static const view_field P_SEQ = { "message", "MSG", 6, 0, NULL, VIEW_RIGHT };
static const view_field P_ACC = { "accession", "ACCESSION", 16 };
static const view_field P_STATUS = { "status", "STATUS", 11 };
static const view_field P_STATE = { "state", "STATE", 7 };
static const view_field P_OBJECTS = { "objects", "OBJECTS", 12 };
static const view_field P_STUDY = { "study_uid", "STUDY", 40 };
static const view_field P_RECEIVED = { "received", "RECEIVED", 19 };
static const view_field *const report_cols[] = { &P_SEQ, &P_ACC, &P_STATUS, &P_STATE,
                                                 &P_OBJECTS, &P_STUDY, &P_RECEIVED, NULL };

typedef struct report_list {
    store_txn *t;
    view *v;
} report_list;

/* A linked report's objects in its study, and whether every destination
 * has been sent each: "SR+PDF sent", "SR filed"... */
static void objects_of(store_txn *t, const report_rec *r, char *out, size_t n)
{
    char uid[3][RL_UID_SIZE], study[RL_UID_SIZE];
    static const char *const name[3] = { "SR", "PDF", "KOS" };
    snprintf(study, sizeof study, "%.*s", (int)r->study_uid.n, r->study_uid.p);
    report_object_uids(study, r->seq, uid[0], uid[1], uid[2]);
    study_inst *in = malloc(sizeof *in);
    size_t k = 0;
    bool all_sent = true, any = false;
    out[0] = '\0';
    for (int i = 0; in && i < 3; i++) {
        rl_err err;
        if (study_get_instance(t, rl_str_c(uid[i]), in, &err) != STORE_OK)
            continue;
        k += (size_t)snprintf(out + k, k < n ? n - k : 0, "%s%s", any ? "+" : "", name[i]);
        any = true;
        for (unsigned d = 0; d < in->ndest; d++)
            all_sent &= in->dest[d].sent_gen > 0;
        all_sent &= in->ndest > 0;
    }
    free(in);
    if (any && k < n)
        snprintf(out + k, n - k, " %s", all_sent ? "sent" : "filed");
}

static int report_row(void *ctx, const report_rec *r)
{
    report_list *l = ctx;
    view *v = l->v;
    char objects[48] = "";
    if (r->state == REPORT_LINKED)
        objects_of(l->t, r, objects, sizeof objects);
    view_row(v);
    view_u64(v, &P_SEQ, r->seq);
    view_str(v, &P_ACC, r->accession);
    view_cstr(v, &P_STATUS, r->status == 'P' ? "preliminary" : r->status == 'C' ? "corrected"
                                                                                : "final");
    view_cstr(v, &P_STATE, report_state_name(r->state));
    view_cstr(v, &P_OBJECTS, objects[0] ? objects : "-");
    view_str(v, &P_STUDY, r->study_uid.n ? r->study_uid : RL_STR("-"));
    view_time(v, &P_RECEIVED, r->received_us);
    view_row_end(v);
    return 0;
}

void ops_study_reports(op_call *c, rl_str study_uid)
{
    rl_err err;
    view_printf(c->out, "reports:\n");
    view_list(c->out, "reports", report_cols);
    report_list rl = { c->t, c->out };
    report_each_of_study(c->t, study_uid, report_row, &rl, &err);
    view_list_end(c->out);
}

static int list_reports(op_call *c)
{
    view_list(c->out, "reports", report_cols);
    rl_err err;
    report_list l = { c->t, c->out };
    int rc = report_each_waiting(c->t, NULL, report_row, &l, &err);
    view_list_end(c->out);
    return rc == STORE_OK ? OP_OK : ops_store_fail(c->out, &err);
}

int ops_recon_list(op_call *c)
{
    if (ops_flag(c, "reports"))
        return list_reports(c);
    const char *state = ops_str(c, "state");
    list_ctx l = { .v = c->out, .unmatched = ops_flag(c, "unmatched"), .state = -1,
                   .skip = ops_u64(c, "offset", 0),
                   .limit = ops_u64(c, "limit", view_is_json(c->out) ? 2 * RL_API_LIST_DEFAULT
                                                                     : UINT64_MAX),
                   .now_us = rl_now_us() };
    for (int s = RECON_NEW; state && s <= RECON_FORWARDED; s++)
        if (!strcmp(state, recon_state_name((recon_state)s)))
            l.state = s;
    if (l.unmatched)
        l.state = RECON_UNMATCHED;
    /* DIS: discrepancies; on the exception list, the orders found (CND) and
     * how long the study has waited (AGE) */
    view_list(c->out, "studies", l.unmatched ? unmatched_cols : study_cols);
    rl_err err;
    int rc = study_each(c->t, list_one, &l, &err);
    view_list_end(c->out);
    if (rc != STORE_OK)
        return ops_store_fail(c->out, &err);
    view_json(c->out, "total", json_integer((json_int_t)l.total));
    view_printf(c->out, "(%llu stud%s%s)\n", (unsigned long long)l.shown,
                l.shown == 1 ? "y" : "ies", l.unmatched ? " without an order" : "");
    return OP_OK;
}

/* ---- recon show ---- */

static int candidate(void *ctx, rl_str kind, rl_str accession, rl_str what)
{
    view *v = ctx;
    bool taken = rl_str_eq_c(kind, "Claimed");
    if (!taken && !rl_str_eq_c(kind, "Candidate"))
        return 0;
    view_printf(v, "  %-16.*s %s: %.*s\n", RL_STR_FMT(accession), taken ? "taken" : "candidate",
                RL_STR_FMT(what));
    view_obj(v, NULL);
    view_json(v, "accession", view_jstr(accession));
    view_json(v, "what", view_jstr(what));
    view_json(v, "taken", json_boolean(taken));
    view_obj_end(v);
    return 0;
}

static int discrepancy(void *ctx, rl_str kw, rl_str image, rl_str ris)
{
    view *v = ctx;
    if (rl_str_eq_c(kw, "Claimed") || rl_str_eq_c(kw, "Candidate"))
        return 0;
    view_printf(v, "  %-22.*s '%.*s' -> '%.*s'\n", RL_STR_FMT(kw), RL_STR_FMT(image),
                RL_STR_FMT(ris));
    view_obj(v, NULL);
    view_json(v, "attribute", view_jstr(kw));
    view_json(v, "in_images", view_jstr(image));
    view_json(v, "from_ris", view_jstr(ris));
    view_obj_end(v);
    return 0;
}

typedef struct change_ctx {
    view *v;
    bool head;
} change_ctx;

static int change(void *ctx, uint64_t job_id, rl_str line)
{
    change_ctx *cc = ctx;
    const char *p = line.p, *end = line.p + line.n, *f[4] = { p, NULL, NULL, NULL };
    int nf = 1;
    for (const char *q = p; q < end && nf < 4; q++)
        if (*q == '\t')
            f[nf++] = q + 1;
    if (nf != 4)
        return 0;
    rl_str attr = { f[0], (size_t)(f[1] - f[0] - 1) }, old = { f[1], (size_t)(f[2] - f[1] - 1) },
           now = { f[2], (size_t)(f[3] - f[2] - 1) }, why = { f[3], (size_t)(end - f[3]) };
    if (!cc->head)
        view_printf(cc->v, "changes made (attribute: old -> new, job, reason):\n");
    cc->head = true;
    view_printf(cc->v, "  %-22.*s '%.*s' -> '%.*s', job %llu, %.*s\n", RL_STR_FMT(attr),
                RL_STR_FMT(old), RL_STR_FMT(now), (unsigned long long)job_id, RL_STR_FMT(why));
    view_obj(cc->v, NULL);
    view_json(cc->v, "attribute", view_jstr(attr));
    view_json(cc->v, "old", view_jstr(old));
    view_json(cc->v, "new", view_jstr(now));
    view_json(cc->v, "job", json_integer((json_int_t)job_id));
    view_json(cc->v, "reason", view_jstr(why));
    view_obj_end(cc->v);
    return 0;
}

typedef struct inst_ctx {
    store_txn *t;
    view *v;
    size_t n;
} inst_ctx;

static int instance(void *ctx, rl_str sop)
{
    inst_ctx *x = ctx;
    if (view_is_json(x->v) && x->n >= RL_API_LIST_MAX)
        return 1;
    study_inst *in = malloc(sizeof *in);
    rl_err err;
    if (in && study_get_instance(x->t, sop, in, &err) == STORE_OK) {
        x->n++;
        view_printf(x->v, "  %-44s %-6s %-10s %s\n", in->f[STUDY_F_SOP_UID],
                    in->f[STUDY_F_MODALITY], in->f[STUDY_F_CALLING_AE], in->f[STUDY_F_PATH]);
        view_obj(x->v, NULL);
        view_json(x->v, "sop_uid", json_string(in->f[STUDY_F_SOP_UID]));
        view_json(x->v, "modality", json_string(in->f[STUDY_F_MODALITY]));
        view_json(x->v, "series_uid", json_string(in->f[STUDY_F_SERIES_UID]));
        view_json(x->v, "received", view_jtime(in->received_us));
        view_obj_end(x->v);
    }
    free(in);
    return 0;
}

/* The order a study matched: text line and JSON {accession, procedure, step}. */
static void order_of(view *v, rl_str uid, const study_rec *s)
{
    rl_str k = s->matched;
    const char *z1 = k.n ? memchr(k.p, '\0', k.n) : NULL;
    const char *z2 = z1 ? memchr(z1 + 1, '\0', k.n - (size_t)(z1 + 1 - k.p)) : NULL;
    if (z1 && z2) {
        rl_str acc = { k.p, (size_t)(z1 - k.p) }, rp = { z1 + 1, (size_t)(z2 - z1 - 1) },
               sps = { z2 + 1, k.n - (size_t)(z2 + 1 - k.p) };
        view_printf(v, "  order        accession %.*s, procedure %.*s, step %.*s\n",
                    RL_STR_FMT(acc), RL_STR_FMT(rp), RL_STR_FMT(sps));
        view_obj(v, "order");
        view_json(v, "accession", view_jstr(acc));
        view_json(v, "procedure", view_jstr(rp));
        view_json(v, "step", view_jstr(sps));
        view_obj_end(v);
        return;
    }
    view_json(v, "order", json_null());
    if (k.n || (s->state != RECON_UNMATCHED && s->state != RECON_FORWARDED))
        return;
    view_printf(v, "  order        none found: link one with 'radlink recon link %.*s "
                "ACCESSION'%s\n", RL_STR_FMT(uid), s->state == RECON_UNMATCHED
                ? ", or send it as it is with 'radlink recon forward'" : "");
}

/* Where its instances go (their DICOM routes' destinations, or every
 * PACS), and those its routes hold. */
static void destinations(view *v, rl_str uid, const study_rec *s)
{
    view_arr(v, "destinations");
    for (const char *p = s->dests.p, *end = p ? p + s->dests.n : NULL; p && p < end;) {
        const char *bs = memchr(p, '\\', (size_t)(end - p));
        rl_str ae = { p, (size_t)((bs ? bs : end) - p) };
        if (ae.n)
            view_json(v, NULL, view_jstr(ae));
        p = bs ? bs + 1 : end;
    }
    view_arr_end(v);
    if (s->dests.n)
        view_printf(v, "  goes to      %.*s\n", RL_STR_FMT(s->dests));
    view_json(v, "held", json_integer(s->held));
    view_json(v, "held_why", view_jstr(s->held_why));
    if (s->held)
        view_printf(v, "  held         %u instance%s: %.*s (send them with 'radlink recon "
                    "forward %.*s')\n", s->held, s->held == 1 ? "" : "s",
                    RL_STR_FMT(s->held_why), RL_STR_FMT(uid));
}

static void study_detail(op_call *c, rl_str uid, const study_rec *s)
{
    view *v = c->out;
    view_printf(v, "study %.*s\n  state        %s\n", RL_STR_FMT(uid), recon_state_name(s->state));
    view_json(v, "study_uid", view_jstr(uid));
    view_json(v, "state", json_string(recon_state_name(s->state)));
    view_json(v, "instances", json_integer(s->instances));
    view_json(v, "first", view_jtime(s->first_us));
    view_json(v, "updated", view_jtime(s->updated_us));
    view_obj(v, "fields");
    for (int i = 0; i < STUDY_F_COUNT; i++)
        if (s->f[i].n) {
            view_printf(v, "  %-20s %.*s\n", study_field_name[i], RL_STR_FMT(s->f[i]));
            view_json(v, study_field_name[i], view_jstr(s->f[i]));
        }
    view_obj_end(v);
    view_printf(v, "  instances    %u\n", s->instances);
    destinations(v, uid, s);
    order_of(v, uid, s);
    bool unmatched = !s->matched.n && (s->state == RECON_UNMATCHED || s->state == RECON_FORWARDED);
    if (unmatched && s->note.n)
        view_printf(v, "orders of this patient, day and modality:\n");
    view_arr(v, "candidates");
    if (unmatched || view_is_json(v))
        recon_note_each(s->note, candidate, v);
    view_arr_end(v);
    bool correcting = s->state == RECON_CORRECTING || s->state == RECON_CORRECTED;
    if (s->note.n && correcting)
        view_printf(v, "discrepancies (attribute: in the images -> from the RIS):\n");
    view_arr(v, "discrepancies");
    if (correcting || view_is_json(v))
        recon_note_each(s->note, discrepancy, v);
    view_arr_end(v);
}

int ops_recon_show(op_call *c)
{
    const char *text = ops_str(c, "STUDY-UID");
    rl_str uid = rl_str_c(text);
    study_rec s;
    rl_err err;
    int rc = study_get(c->t, uid, &s, &err);
    if (rc == STORE_NOTFOUND)
        return view_fail(c->out, OP_NOTFOUND, "no study %s", text);
    if (rc != STORE_OK)
        return ops_store_fail(c->out, &err);
    study_detail(c, uid, &s);
    change_ctx cc = { c->out, false };
    view_arr(c->out, "changes");
    recon_changes_each(c->t, uid, change, &cc, &err);
    view_arr_end(c->out);
    view_printf(c->out, "instances:\n");
    inst_ctx x = { c->t, c->out, 0 };
    view_arr(c->out, "instance_list");
    study_index_each(c->t, 'I', uid, instance, &x, &err);
    view_arr_end(c->out);
    ops_study_reports(c, uid);
    return OP_OK;
}

/* ---- recon link ---- */

typedef struct first_key {
    char key[WL_KEY_MAX];
    size_t n;
    char modality[RL_CS_SIZE]; /* the order's (its first step's) */
} first_key;

static int first(void *ctx, rl_str key, const wl_entry *e)
{
    first_key *f = ctx;
    f->n = key.n < sizeof f->key ? key.n : sizeof f->key;
    memcpy(f->key, key.p, f->n);
    rl_str m = wl_sps(e, WL_MODALITY);
    snprintf(f->modality, sizeof f->modality, "%.*s",
             (int)(m.n < sizeof f->modality ? m.n : sizeof f->modality - 1), m.p);
    return 1;
}

/* The modalities of a study's instances, "MR\\PR" style, and whether one of
 * its image modalities is want. Presentation states, key objects, reports,
 * registrations and documents go with any modality's images. */
typedef struct mods {
    store_txn *t;
    const char *want;
    char list[RL_RECON_MODALITIES_MAX];
    bool agree, images;
} mods;

static bool derived(const char *m)
{
    static const char *const d[] = { "PR", "KO", "SR", "REG", "DOC", "FID", "SEG", "" };
    for (size_t i = 0; i < sizeof d / sizeof *d; i++)
        if (strcmp(m, d[i]) == 0)
            return true;
    return false;
}

static bool in_list(const char *list, const char *m)
{
    size_t n = strlen(m);
    for (const char *p = list; *p;) {
        const char *e = strchr(p, '\\');
        size_t l = e ? (size_t)(e - p) : strlen(p);
        if (l == n && memcmp(p, m, n) == 0)
            return true;
        if (!e)
            break;
        p = e + 1;
    }
    return false;
}

static int one_modality(void *ctx, rl_str sop)
{
    mods *ms = ctx;
    study_inst *in = malloc(sizeof *in);
    rl_err err;
    if (in && study_get_instance(ms->t, sop, in, &err) == STORE_OK) {
        const char *m = in->f[STUDY_F_MODALITY];
        if (!derived(m)) {
            ms->images = true;
            ms->agree |= strcmp(m, ms->want) == 0;
        }
        size_t n = strlen(m), l = strlen(ms->list);
        if (n && !in_list(ms->list, m) && l + n + 2 < sizeof ms->list)
            snprintf(ms->list + l, sizeof ms->list - l, "%s%s", l ? "\\" : "", m);
    }
    free(in);
    return 0;
}

/* Another study that matched the order (the administrator is told). */
typedef struct claim_ctx {
    const char *self;
    char other[RL_RECON_OTHER_MAX];
} claim_ctx;

static int note_claimed(void *ctx, rl_str uid)
{
    claim_ctx *c = ctx;
    if (rl_str_eq_c(uid, c->self))
        return 0;
    snprintf(c->other, sizeof c->other, "%.*s",
             (int)(uid.n < sizeof c->other ? uid.n : sizeof c->other - 1), uid.p);
    return 1;
}

/* The order and the study a link names, and whether they may be linked. */
static int link_check(op_call *c, const char *study, const char *accession, first_key *fk)
{
    rl_err err;
    wl_query *q = calloc(1, sizeof *q);
    if (!q)
        return view_fail(c->out, OP_FAIL, "out of memory");
    wl_query_add(q, 0, WL_ACCESSION, "SH", rl_str_c(accession));
    int rc = wl_find(c->t, q, first, fk, NULL, &err);
    free(q);
    study_rec s;
    if (rc == STORE_OK && (rc = study_get(c->t, rl_str_c(study), &s, &err)) == STORE_NOTFOUND)
        return view_fail(c->out, OP_NOTFOUND, "no study %s", study);
    if (rc == STORE_OK && !fk->n)
        return view_fail(c->out, OP_NOTFOUND, "no worklist entry with accession number %s",
                         accession);
    /* an RT dose is not the MR the order asked for: an administrator says so
     * explicitly (--force) or links another order */
    mods ms = { .t = c->t, .want = fk->modality };
    if (rc == STORE_OK)
        rc = study_index_each(c->t, 'I', rl_str_c(study), one_modality, &ms, &err);
    if (rc != STORE_OK)
        return ops_store_fail(c->out, &err);
    if (fk->modality[0] && ms.images && !ms.agree && !ops_flag(c, "force"))
        return view_fail(c->out, OP_FAIL, "study %s holds %s images, the order %s is for %s: not "
                         "linked (--force links it anyway)", study, ms.list, accession,
                         fk->modality);
    return OP_OK;
}

int ops_recon_link(op_call *c)
{
    const char *study = ops_str(c, "STUDY-UID"), *accession = ops_str(c, "ACCESSION");
    first_key fk = { .n = 0 };
    int status = link_check(c, study, accession, &fk);
    if (status != OP_OK)
        return status;
    claim_ctx cl = { .self = study };
    rl_str k = { fk.key, fk.n };
    rl_err err;
    recon_out ro;
    int rc = study_index_each(c->t, 'M', k, note_claimed, &cl, &err);
    if (rc == STORE_OK)
        rc = recon_study(c->t, rl_str_c(study), &k, &ro, &err);
    if (rc == STORE_OK)
        rc = recon_schedule(c->t, rl_str_c(study), &ro, c->now_us, &err);
    if (rc != STORE_OK)
        return ops_store_fail(c->out, &err);
    view_printf(c->out, "study %s linked to accession %s: %s, %u discrepanc%s\n", study, accession,
                recon_state_name(ro.state), ro.discrepancies,
                ro.discrepancies == 1 ? "y" : "ies");
    if (cl.other[0])
        view_printf(c->out, "note: study %s matched this order too\n", cl.other);
    return OP_OK;
}

/* ---- recon forward ---- */

int ops_recon_forward(op_call *c)
{
    const char *study = ops_str(c, "STUDY-UID");
    rl_err err;
    study_rec s;
    int rc = study_get(c->t, rl_str_c(study), &s, &err);
    if (rc == STORE_NOTFOUND)
        return view_fail(c->out, OP_NOTFOUND, "no study %s", study);
    if (rc != STORE_OK)
        return ops_store_fail(c->out, &err);
    unsigned held = s.held;
    if (!held && s.state != RECON_UNMATCHED && s.state != RECON_FORWARDED)
        return view_fail(c->out, OP_FAIL, "study %s is %s: its jobs send it as the RIS says "
                         "(radlink jobs list); recon forward is for studies no order claims "
                         "and instances held on the exception list",
                         study, recon_state_name(s.state));
    recon_policy p;
    recon_policy_load(c->t, &p);
    const char *pacs[RL_MAX_PACS];
    size_t npacs = recon_policy_pacs(&p, pacs, RL_MAX_PACS);
    if (!npacs)
        return view_fail(c->out, OP_FAIL, "no PACS to forward to: configure <dicom><pacs>");
    /* instances held (no DICOM route took them, or a route's coercion
     * failed on them) go to every PACS as they are */
    unsigned released = 0;
    if (held)
        rc = study_release_held(c->t, rl_str_c(study), pacs, npacs, &released, &err);
    recon_sent sent;
    if (rc == STORE_OK)
        rc = recon_send_now(c->t, rl_str_c(study), c->now_us, &sent, &err);
    if (rc != STORE_OK)
        return ops_store_fail(c->out, &err);
    if (released)
        view_printf(c->out, "study %s: %u held instance%s released to every PACS\n", study,
                    released, released == 1 ? "" : "s");
    bool orderless = s.state == RECON_UNMATCHED || s.state == RECON_FORWARDED;
    for (size_t i = 0; i < sent.n; i++)
        view_printf(c->out, "study %s: job %llu sends it as it is%s, to %s\n", study,
                    (unsigned long long)sent.id[i], orderless ? ", without an order" : "",
                    sent.ae[i]);
    if (!sent.n)
        view_printf(c->out, "study %s: nothing left to send\n", study);
    return OP_OK;
}
