/* Reconciliation of received studies against the worklist (radlink/recon.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "radlink/job.h"
#include "radlink/log.h"
#include "radlink/recon.h"

typedef struct found {
    bool any;
    char key[WL_KEY_MAX];
    size_t keyn;
    wl_entry *e;
    const char *rp_want; /* prefer the entry with this requested procedure ID */
} found;

static int take(void *ctx, rl_str key, const wl_entry *e)
{
    found *f = ctx;
    rl_str rp = wl_top(e, WL_RP_ID);
    bool preferred = f->rp_want && f->rp_want[0] && rp.n == strlen(f->rp_want) &&
                     memcmp(rp.p, f->rp_want, rp.n) == 0;
    if (f->any && !preferred)
        return 0;
    f->any = true;
    f->keyn = key.n < sizeof f->key ? key.n : sizeof f->key;
    memcpy(f->key, key.p, f->keyn);
    *f->e = *e; /* views stay valid: same read of the same transaction */
    return preferred;
}

/* Names compare without trailing empty components and padding. */
static rl_str norm_pn(rl_str v)
{
    while (v.n && (v.p[v.n - 1] == '^' || v.p[v.n - 1] == ' '))
        v.n--;
    return v;
}

static void compare(rl_buf *note, unsigned *n, const char *kw, rl_str image, rl_str ris)
{
    if (rl_str_eq(image, ris) || !ris.n)
        return; /* the RIS has nothing to say: nothing to correct */
    rl_buf_printf(note, "%s\t%.*s\t%.*s\n", kw, (int)image.n, image.p, (int)ris.n, ris.p);
    (*n)++;
}

int recon_study(store_txn *t, rl_str study_uid, const rl_str *link_key, recon_out *out,
                rl_err *err)
{
    memset(out, 0, sizeof *out);
    study_rec s;
    int rc = study_get(t, study_uid, &s, err);
    if (rc)
        return rc;
    /* copy the study's fields: views end at our writes */
    char fv[STUDY_F_COUNT][256];
    for (int i = 0; i < STUDY_F_COUNT; i++)
        snprintf(fv[i], sizeof fv[i], "%.*s", (int)(s.f[i].n < 255 ? s.f[i].n : 255), s.f[i].p);
    wl_entry *e = malloc(sizeof *e);
    wl_query *q = calloc(1, sizeof *q);
    if (!e || !q) {
        free(e);
        free(q);
        return rl_err_set(err, STORE_E_IO, -1, "out of memory");
    }
    found f = { .e = e, .rp_want = fv[STUDY_F_RP_ID] };
    if (link_key) {
        rc = wl_get(t, *link_key, e, err);
        if (rc == STORE_OK) {
            f.any = true;
            f.keyn = link_key->n < sizeof f.key ? link_key->n : sizeof f.key;
            memcpy(f.key, link_key->p, f.keyn);
            snprintf(out->how, sizeof out->how, "link");
        }
    } else {
        struct {
            const char *how;
            int field;
        } by[] = { { "accession", STUDY_F_ACCESSION }, { "study UID", STUDY_F_STUDY_UID } };
        for (size_t i = 0; i < 2 && !f.any && rc == STORE_OK; i++) {
            if (!fv[by[i].field][0])
                continue;
            q->n = 0;
            wl_query_add(q, 0, i == 0 ? WL_ACCESSION : WL_STUDY_UID, i == 0 ? "SH" : "UI",
                    rl_str_c(fv[by[i].field]));
            rc = wl_find(t, q, take, &f, NULL, err);
            if (f.any)
                snprintf(out->how, sizeof out->how, "%s", by[i].how);
        }
        if (!f.any && rc == STORE_OK && fv[STUDY_F_PATIENT_ID][0] && fv[STUDY_F_STUDY_DATE][0]) {
            q->n = 0;
            wl_query_add(q, 0, WL_PATIENT_ID, "LO", rl_str_c(fv[STUDY_F_PATIENT_ID]));
            wl_query_add(q, WL_SPS_SEQ, WL_SPS_DATE, "DA", rl_str_c(fv[STUDY_F_STUDY_DATE]));
            if (fv[STUDY_F_MODALITY][0])
                wl_query_add(q, WL_SPS_SEQ, WL_MODALITY, "CS", rl_str_c(fv[STUDY_F_MODALITY]));
            rc = wl_find(t, q, take, &f, NULL, err);
            if (f.any)
                snprintf(out->how, sizeof out->how, "patient+date+modality");
        }
    }
    if (rc < 0 || (link_key && rc != STORE_OK)) {
        free(e);
        free(q);
        return rc;
    }
    rl_buf note;
    rl_buf_init(&note, 0);
    if (f.any) {
        compare(&note, &out->discrepancies, "PatientID", rl_str_c(fv[STUDY_F_PATIENT_ID]),
                wl_top(e, WL_PATIENT_ID));
        compare(&note, &out->discrepancies, "IssuerOfPatientID", rl_str_c(fv[STUDY_F_ISSUER]),
                wl_top(e, WL_TAG(0x0010, 0x0021)));
        compare(&note, &out->discrepancies, "PatientName",
                norm_pn(rl_str_c(fv[STUDY_F_PATIENT_NAME])), norm_pn(wl_top(e, WL_PATIENT_NAME)));
        compare(&note, &out->discrepancies, "PatientBirthDate", rl_str_c(fv[STUDY_F_BIRTH_DATE]),
                wl_top(e, WL_TAG(0x0010, 0x0030)));
        compare(&note, &out->discrepancies, "PatientSex", rl_str_c(fv[STUDY_F_SEX]),
                wl_top(e, WL_TAG(0x0010, 0x0040)));
        compare(&note, &out->discrepancies, "AccessionNumber", rl_str_c(fv[STUDY_F_ACCESSION]),
                wl_top(e, WL_ACCESSION));
        compare(&note, &out->discrepancies, "RequestedProcedureID", rl_str_c(fv[STUDY_F_RP_ID]),
                wl_top(e, WL_RP_ID));
        /* the study UID only when the order fixed it (not one radlink made) */
        rl_str ouid = wl_top(e, WL_STUDY_UID);
        if (!(ouid.n > 5 && memcmp(ouid.p, "2.25.", 5) == 0))
            compare(&note, &out->discrepancies, "StudyInstanceUID", study_uid, ouid);
        out->state = out->discrepancies ? RECON_CORRECTING : RECON_MATCHED;
    } else {
        out->state = RECON_UNMATCHED;
        snprintf(out->how, sizeof out->how, "none");
    }
    rc = study_set_state(t, study_uid, out->state, (rl_str){ f.key, f.any ? f.keyn : 0 },
                         rl_buf_view(&note), err);
    rl_buf_free(&note);
    free(e);
    free(q);
    return rc;
}

int recon_schedule(store_txn *t, rl_str study_uid, const recon_out *out, rl_err *err)
{
    bool send = false;
    if (out->state == RECON_MATCHED) { /* nothing to correct: only to forward */
        rl_str v;
        send = store_get(t, STORE_META, RL_STR("engine.pacs"), &v, err) == STORE_OK && v.n &&
               !(v.n == 1 && v.p[0] == '0');
    }
    if (out->state != RECON_CORRECTING && !send)
        return STORE_OK;
    uint64_t id;
    bool created;
    int rc = job_submit(t, "study", study_uid, rl_now_us(), &id, &created, err);
    if (rc == STORE_OK && created)
        log_info("jobs.submit", "job=%llu study=%.*s reason=%s", (unsigned long long)id,
                 RL_STR_FMT(study_uid), out->state == RECON_CORRECTING ? "correct" : "forward");
    return rc;
}

int recon_after_store(void *ctx, store_txn *t, const study_inst *in, rl_err *err)
{
    (void)ctx;
    recon_out out;
    rl_str uid = rl_str_c(in->f[STUDY_F_STUDY_UID]);
    /* an administrator's link stays: reconcile against the linked order */
    study_rec s;
    int rc = study_get(t, uid, &s, err);
    if (rc)
        return rc;
    char key[WL_KEY_MAX];
    size_t kn = s.matched.n < sizeof key ? s.matched.n : sizeof key;
    memcpy(key, s.matched.p, kn);
    rl_str lk = { key, kn };
    bool linked = kn && s.state != RECON_NEW;
    rc = recon_study(t, uid, linked ? &lk : NULL, &out, err);
    if (rc == STORE_NOTFOUND && linked) /* the linked order left the worklist */
        rc = recon_study(t, uid, NULL, &out, err);
    if (rc == STORE_OK)
        rc = recon_schedule(t, uid, &out, err);
    if (rc == STORE_OK && (out.state == RECON_UNMATCHED || out.discrepancies))
        log_warn("recon.study", "study=%s state=%s by=%s discrepancies=%u", in->f[STUDY_F_STUDY_UID],
                 recon_state_name(out.state), out.how, out.discrepancies);
    return rc;
}

typedef struct uids {
    char (*u)[128];
    size_t n, cap;
} uids;

static int take_uid(void *ctx, rl_str v)
{
    uids *x = ctx;
    if (x->n == x->cap) {
        size_t cap = x->cap ? x->cap * 2 : 8;
        void *nu = realloc(x->u, cap * sizeof *x->u);
        if (!nu)
            return 1;
        x->u = nu;
        x->cap = cap;
    }
    snprintf(x->u[x->n++], sizeof x->u[0], "%.*s", (int)(v.n < 127 ? v.n : 127), v.p);
    return 0;
}

int recon_new_order(store_txn *t, rl_str accession, rl_str patient_id, unsigned *matched,
                    rl_err *err)
{
    uids x = { 0 };
    int rc = STORE_OK;
    if (accession.n)
        rc = study_index_each(t, 'A', accession, take_uid, &x, err);
    if (rc == STORE_OK && patient_id.n)
        rc = study_index_each(t, 'P', patient_id, take_uid, &x, err);
    for (size_t i = 0; rc == STORE_OK && i < x.n; i++) {
        study_rec s;
        rl_str uid = rl_str_c(x.u[i]);
        if (study_get(t, uid, &s, err) != STORE_OK || s.state != RECON_UNMATCHED)
            continue;
        recon_out out;
        rc = recon_study(t, uid, NULL, &out, err);
        if (rc == STORE_OK && out.state != RECON_UNMATCHED) {
            (*matched)++;
            log_info("recon.study", "study=%s state=%s by=%s discrepancies=%u after=order",
                     x.u[i], recon_state_name(out.state), out.how, out.discrepancies);
            rc = recon_schedule(t, uid, &out, err);
        }
    }
    free(x.u);
    return rc;
}
