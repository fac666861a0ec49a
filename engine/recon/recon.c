/* Reconciliation of received studies against the worklist (radlink/recon.h).
 * The target and note texts kept in the study record are written and read
 * here only. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "radlink/job.h"
#include "radlink/limits.h"
#include "radlink/log.h"
#include "radlink/pn.h"
#include "radlink/rec.h"
#include "radlink/recon.h"
#include "radlink/recon_job.h"
#include "uids.h"

const char *recon_state_name(recon_state s)
{
    static const char *n[] = { "new",       "matched",    "unmatched", "correcting",
                               "corrected", "unverified", "forwarded" };
    return (unsigned)s < sizeof n / sizeof *n ? n[s] : "?";
}

/* ---- policy ---- */

/* META recon.policy, version 2 (radlink/rec.h): u8 2, u32 PACS, u32 stable,
 * u32 unmatched forward, then per PACS u8 update, str HL7 destination.
 * Version 1 was the text "PACS STABLE". */
#define POLICY_VERSION 3 /* 3: each node's AE title, and whether it takes routes only */

int recon_policy_save(store_txn *t, const recon_policy *p, rl_err *err)
{
    rl_buf b;
    rl_buf_init(&b, 4096);
    int rc = rec_put_u8(&b, POLICY_VERSION) | rec_put_u32(&b, p->n_pacs) |
             rec_put_u32(&b, p->study_stable_s) | rec_put_u32(&b, p->unmatched_forward_s);
    for (unsigned i = 0; i < p->n_pacs && i < RL_MAX_PACS; i++)
        rc |= rec_put_u8(&b, (uint8_t)p->pacs[i].update) |
              rec_put_str(&b, rl_str_c(p->pacs[i].hl7_dest)) |
              rec_put_str(&b, rl_str_c(p->pacs[i].ae)) | rec_put_u8(&b, p->pacs[i].node ? 1 : 0);
    rc = rc ? rl_err_set(err, RL_E_NOMEM, -1, "out of memory")
            : store_put(t, STORE_META, RL_STR("recon.policy"), rl_buf_view(&b), 0, err);
    rl_buf_free(&b);
    return rc;
}

void recon_policy_load(store_txn *t, recon_policy *p)
{
    memset(p, 0, sizeof *p);
    p->study_stable_s = RL_STUDY_STABLE_DEFAULT_S;
    rl_str v;
    rl_err err;
    if (store_get(t, STORE_META, RL_STR("recon.policy"), &v, &err) != STORE_OK || !v.n)
        return;
    if (v.p[0] != 2 && v.p[0] != POLICY_VERSION) { /* version 1 */
        const char *sp = memchr(v.p, ' ', v.n);
        uint64_t a, b;
        if (sp && rl_str_to_u64((rl_str){ v.p, (size_t)(sp - v.p) }, RL_MAX_PACS, &a) &&
            rl_str_to_u64((rl_str){ sp + 1, v.n - (size_t)(sp + 1 - v.p) }, 86400, &b)) {
            p->n_pacs = (unsigned)a;
            p->study_stable_s = (unsigned)b;
        }
        return;
    }
    rec_reader r;
    rec_reader_init(&r, v.p, v.n);
    uint8_t version = rec_get_u8(&r);
    recon_policy x = { .n_pacs = rec_get_u32(&r), .study_stable_s = rec_get_u32(&r),
                       .unmatched_forward_s = rec_get_u32(&r) };
    for (unsigned i = 0; i < x.n_pacs && i < RL_MAX_PACS; i++) {
        x.pacs[i].update = rec_get_u8(&r);
        rl_str d = rec_get_str(&r);
        snprintf(x.pacs[i].hl7_dest, sizeof x.pacs[i].hl7_dest, "%.*s", RL_STR_FMT(d));
        if (version >= 3) {
            rl_str ae = rec_get_str(&r);
            snprintf(x.pacs[i].ae, sizeof x.pacs[i].ae, "%.*s", RL_STR_FMT(ae));
            x.pacs[i].node = rec_get_u8(&r) != 0;
        }
    }
    if (rec_ok(&r) && x.n_pacs <= RL_MAX_PACS)
        *p = x;
}

size_t recon_policy_pacs(const recon_policy *p, const char **ae, size_t max)
{
    size_t n = 0;
    for (unsigned i = 0; i < p->n_pacs && i < RL_MAX_PACS && n < max; i++)
        if (!p->pacs[i].node && p->pacs[i].ae[0])
            ae[n++] = p->pacs[i].ae;
    return n;
}

/* ---- the texts ---- */

/* Split a "a TAB b [TAB c]" line. */
static int fields(rl_str line, rl_str *f, int max)
{
    int n = 0;
    const char *p = line.p, *end = line.p + line.n;
    while (n < max) {
        const char *tab = n + 1 < max ? memchr(p, '\t', (size_t)(end - p)) : NULL;
        f[n++] = (rl_str){ p, (size_t)((tab ? tab : end) - p) };
        if (!tab)
            break;
        p = tab + 1;
    }
    return n;
}

static int each_line(rl_str text, int want, int (*cb)(void *, rl_str *), void *ctx)
{
    const char *p = text.p, *end = text.p + text.n;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        rl_str f[3];
        if (fields((rl_str){ p, (size_t)((nl ? nl : end) - p) }, f, want) == want && cb(ctx, f))
            return 1;
        p = nl ? nl + 1 : end;
    }
    return 0;
}

typedef struct note_ctx {
    recon_note_visit cb;
    void *ctx;
} note_ctx;

static int note_line(void *ctx, rl_str *f)
{
    note_ctx *c = ctx;
    return c->cb(c->ctx, f[0], f[1], f[2]);
}

int recon_note_each(rl_str note, recon_note_visit cb, void *ctx)
{
    note_ctx c = { cb, ctx };
    return each_line(note, 3, note_line, &c);
}

/* ---- reconciling ---- */

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


/* One attribute of the target, and the discrepancy when the images differ. */
typedef struct texts {
    rl_buf target, note;
    unsigned discrepancies;
} texts;

static void want(texts *x, const char *kw, rl_str image, rl_str ris, bool pn)
{
    if (!ris.n)
        return; /* the RIS has nothing to say: nothing to enforce */
    rl_buf_printf(&x->target, "%s\t%.*s\n", kw, RL_STR_FMT(ris));
    /* names: the alphabetic group ignoring case; the ideographic and
     * phonetic groups of the images stay unless the RIS sent its own */
    if (pn ? pn_agree(image, ris) : rl_str_eq(image, ris))
        return;
    rl_buf_printf(&x->note, "%s\t%.*s\t%.*s\n", kw, RL_STR_FMT(image), RL_STR_FMT(ris));
    x->discrepancies++;
}

/* Store target and note, and the state the discrepancies give. */
static int settle(store_txn *t, rl_str uid, texts *x, recon_state state, rl_str matched,
                  recon_out *out, rl_err *err)
{
    out->discrepancies = x->discrepancies;
    out->state = state;
    int rc = study_set_target(t, uid, rl_buf_view(&x->target), &out->gen, &out->target_changed,
                              err);
    if (rc == STORE_OK)
        rc = study_set_state(t, uid, state, matched, rl_buf_view(&x->note), err);
    return rc;
}

/* The patient+date+modality fallback: every order it finds, less those a
 * study with another Study Instance UID matched already. One left is the
 * match; none or several put the study on the exception list, the orders in
 * its note ("Candidate TAB accession TAB what", "Claimed TAB accession TAB
 * the study that has it"). */
typedef struct cands {
    store_txn *t;
    rl_str self;
    char key[WL_KEY_MAX];
    size_t keyn;
    unsigned n;
    rl_buf *note; /* the study's note: kept only when nothing matched */
    int rc;
    rl_err *err;
} cands;

typedef struct claim {
    rl_str self;
    char by[RL_UID_TEXT_SIZE];
} claim;

static int claimed_by_other(void *ctx, rl_str uid)
{
    claim *c = ctx;
    if (rl_str_eq(uid, c->self))
        return 0;
    snprintf(c->by, sizeof c->by, "%.*s", (int)(uid.n < sizeof c->by - 1 ? uid.n : sizeof c->by - 1),
             uid.p);
    return 1;
}

static int candidate(void *ctx, rl_str key, const wl_entry *e)
{
    cands *c = ctx;
    claim cl = { .self = c->self };
    c->rc = study_index_each(c->t, 'M', key, claimed_by_other, &cl, c->err);
    if (c->rc != STORE_OK)
        return 1;
    rl_str acc = wl_top(e, WL_ACCESSION);
    if (cl.by[0]) {
        rl_buf_printf(c->note, "Claimed\t%.*s\tmatched by study %s\n", RL_STR_FMT(acc), cl.by);
        return 0;
    }
    if (c->n < RL_RECON_CANDIDATES_MAX) {
        rl_str desc = wl_sps(e, WL_TAG(0x0040, 0x0007)), mod = wl_sps(e, WL_MODALITY),
               when = wl_sps(e, WL_SPS_TIME), step = wl_sps(e, WL_SPS_ID);
        rl_buf_printf(c->note, "Candidate\t%.*s\tstep %.*s, %.*s %.*s at %.*s\n",
                      RL_STR_FMT(acc), RL_STR_FMT(step), RL_STR_FMT(mod), RL_STR_FMT(desc),
                      RL_STR_FMT(when));
    }
    if (c->n++ == 0) {
        c->keyn = key.n < sizeof c->key ? key.n : sizeof c->key;
        memcpy(c->key, key.p, c->keyn);
    }
    return 0;
}

int recon_study(store_txn *t, rl_str study_uid, const rl_str *link_key, recon_out *out,
                rl_err *err)
{
    memset(out, 0, sizeof *out);
    study_rec s;
    int rc = study_get(t, study_uid, &s, err);
    if (rc)
        return rc;
    out->was = s.state;
    /* copy the study's fields: views end at our writes */
    char fv[STUDY_F_COUNT][256];
    for (int i = 0; i < STUDY_F_COUNT; i++)
        snprintf(fv[i], sizeof fv[i], "%.*s", (int)(s.f[i].n < 255 ? s.f[i].n : 255), s.f[i].p);
    wl_entry *e = malloc(sizeof *e);
    wl_query *q = calloc(1, sizeof *q);
    if (!e || !q) {
        free(e);
        free(q);
        return rl_err_set(err, RL_E_NOMEM, -1, "out of memory");
    }
    found f = { .e = e, .rp_want = fv[STUDY_F_RP_ID] };
    texts x;
    rl_buf_init(&x.target, 0);
    rl_buf_init(&x.note, 0);
    x.discrepancies = 0;
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
            cands c = { .t = t, .self = study_uid, .note = &x.note, .err = err };
            rc = wl_find(t, q, candidate, &c, NULL, err);
            if (rc == STORE_OK)
                rc = c.rc;
            if (rc == STORE_OK && c.n == 1) {
                rl_str k = { c.key, c.keyn };
                rc = wl_get(t, k, e, err);
                if (rc == STORE_OK) {
                    rl_buf_reset(&x.note);
                    f.any = true;
                    f.keyn = c.keyn;
                    memcpy(f.key, c.key, c.keyn);
                    snprintf(out->how, sizeof out->how, "patient+date+modality");
                }
            } else if (rc == STORE_OK) {
                snprintf(out->how, sizeof out->how, "%s", c.n > 1 ? "ambiguous"
                                                          : x.note.len ? "claimed" : "none");
                out->candidates = c.n;
            }
        }
    }
    if (rc < 0 || (link_key && rc != STORE_OK)) {
        rl_buf_free(&x.target);
        rl_buf_free(&x.note);
        free(e);
        free(q);
        return rc;
    }
    if (f.any) {
        want(&x, "PatientID", rl_str_c(fv[STUDY_F_PATIENT_ID]), wl_top(e, WL_PATIENT_ID), false);
        want(&x, "IssuerOfPatientID", rl_str_c(fv[STUDY_F_ISSUER]),
             wl_top(e, WL_TAG(0x0010, 0x0021)), false);
        want(&x, "PatientName", rl_str_c(fv[STUDY_F_PATIENT_NAME]), wl_top(e, WL_PATIENT_NAME),
             true);
        want(&x, "PatientBirthDate", rl_str_c(fv[STUDY_F_BIRTH_DATE]),
             wl_top(e, WL_TAG(0x0010, 0x0030)), false);
        want(&x, "PatientSex", rl_str_c(fv[STUDY_F_SEX]), wl_top(e, WL_TAG(0x0010, 0x0040)),
             false);
        want(&x, "AccessionNumber", rl_str_c(fv[STUDY_F_ACCESSION]), wl_top(e, WL_ACCESSION),
             false);
        want(&x, "RequestedProcedureID", rl_str_c(fv[STUDY_F_RP_ID]), wl_top(e, WL_RP_ID), false);
        /* the study UID only when the order fixed it (not one radlink made) */
        rl_str ouid = wl_top(e, WL_STUDY_UID);
        if (!(ouid.n > 5 && memcmp(ouid.p, "2.25.", 5) == 0))
            want(&x, "StudyInstanceUID", study_uid, ouid, false);
    } else if (!out->how[0]) {
        snprintf(out->how, sizeof out->how, "none");
    }
    rc = settle(t, study_uid, &x,
                !f.any ? RECON_UNMATCHED : x.discrepancies ? RECON_CORRECTING : RECON_MATCHED,
                (rl_str){ f.key, f.any ? f.keyn : 0 }, out, err);
    rl_buf_free(&x.target);
    rl_buf_free(&x.note);
    free(e);
    free(q);
    return rc;
}

int recon_move(store_txn *t, rl_str study_uid, const recon_identity *who, recon_out *out,
               rl_err *err)
{
    memset(out, 0, sizeof *out);
    snprintf(out->how, sizeof out->how, "merge");
    study_rec s;
    int rc = study_get(t, study_uid, &s, err);
    if (rc)
        return rc;
    texts x;
    rl_buf_init(&x.target, 0);
    rl_buf_init(&x.note, 0);
    x.discrepancies = 0;
    rl_buf keep;
    rl_buf_init(&keep, 0);
    /* copy the fields compared: settle writes the record */
    size_t off[5];
    const int fld[5] = { STUDY_F_PATIENT_ID, STUDY_F_ISSUER, STUDY_F_PATIENT_NAME,
                         STUDY_F_BIRTH_DATE, STUDY_F_SEX };
    for (int i = 0; i < 5; i++) {
        off[i] = keep.len;
        rl_buf_add_str(&keep, s.f[fld[i]]);
    }
    rl_str img[5];
    for (int i = 0; i < 5; i++)
        img[i] = (rl_str){ keep.data ? keep.data + off[i] : "",
                           (i < 4 ? off[i + 1] : keep.len) - off[i] };
    recon_state state = s.state;
    char matched[WL_KEY_MAX];
    size_t mn = s.matched.n < sizeof matched ? s.matched.n : sizeof matched;
    memcpy(matched, s.matched.p, mn);
    want(&x, "PatientID", img[0], rl_str_c(who->id), false);
    want(&x, "IssuerOfPatientID", img[1], rl_str_c(who->issuer), false);
    want(&x, "PatientName", img[2], rl_str_c(who->name), true);
    want(&x, "PatientBirthDate", img[3], rl_str_c(who->birth), false);
    want(&x, "PatientSex", img[4], rl_str_c(who->sex), false);
    rc = settle(t, study_uid, &x, x.discrepancies ? RECON_CORRECTING : state,
                (rl_str){ matched, mn }, out, err);
    rl_buf_free(&keep);
    rl_buf_free(&x.target);
    rl_buf_free(&x.note);
    return rc;
}

/* Where a study's instances still have to go with generation gen: the
 * nodes (by AE title) some instance has not reached at gen, and whether an
 * instance with no destination at all still has to be corrected in the
 * spool. Held instances wait on the exception list, and a node whose
 * program failed on an instance does not get it until it is released. */
typedef struct unsent_ctx {
    store_txn *t;
    uint32_t gen;
    recon_policy policy;
    const char *pacs[RL_MAX_PACS]; /* the policy's <pacs>: where legacy instances go */
    size_t npacs;
    char ae[RL_DICOM_SENDS_MAX][RL_AE_TITLE_SIZE];
    size_t n;
    bool spool;
} unsent_ctx;

static void unsent_add(unsent_ctx *u, const char *ae)
{
    for (size_t i = 0; i < u->n; i++)
        if (strcmp(u->ae[i], ae) == 0)
            return;
    if (u->n < RL_DICOM_SENDS_MAX)
        snprintf(u->ae[u->n++], sizeof u->ae[0], "%s", ae);
}

static void unsent_inst(unsent_ctx *u, const study_inst *in)
{
    if (in->held)
        return;
    for (size_t i = 0; i < in->ndest; i++)
        if (!(in->dest[i].flags & STUDY_DEST_FAILED) && in->dest[i].sent_gen != u->gen)
            unsent_add(u, in->dest[i].ae);
    for (size_t i = 0; in->legacy && i < u->npacs; i++) {
        uint32_t g;
        if (study_inst_goes(in, u->pacs[i], true, &g) && g != u->gen)
            unsent_add(u, u->pacs[i]);
    }
    if (!in->ndest && !(in->legacy && u->npacs) && in->sent_gen != u->gen)
        u->spool = true;
}

static int unsent(void *ctx, rl_str sop)
{
    unsent_ctx *u = ctx;
    study_inst *in = malloc(sizeof *in);
    rl_err err;
    if (in && study_get_instance(u->t, sop, in, &err) == STORE_OK)
        unsent_inst(u, in);
    free(in);
    return 0;
}

/* A search for where a study's instances still have to go (free it), under
 * the policy now; NULL when out of memory (err says so). */
static unsent_ctx *unsent_new(store_txn *t, const study_rec *s, rl_err *err)
{
    unsent_ctx *u = calloc(1, sizeof *u);
    if (!u) {
        rl_err_set(err, RL_E_NOMEM, -1, "out of memory");
        return NULL;
    }
    u->t = t;
    u->gen = s->gen;
    recon_policy_load(t, &u->policy);
    u->npacs = recon_policy_pacs(&u->policy, u->pacs, RL_MAX_PACS);
    return u;
}

/* Where every instance of the study still has to go: *out (free it, set
 * whenever the study exists), the study in s. */
static int unsent_of(store_txn *t, rl_str study_uid, study_rec *s, unsent_ctx **out, rl_err *err)
{
    *out = NULL;
    int rc = study_get(t, study_uid, s, err);
    if (rc)
        return rc;
    if (!(*out = unsent_new(t, s, err)))
        return RL_E_NOMEM;
    return study_index_each(t, 'I', study_uid, unsent, *out, err);
}

int recon_unsent(store_txn *t, rl_str study_uid, bool *any, rl_err *err)
{
    *any = false;
    study_rec s;
    unsent_ctx *u;
    int rc = unsent_of(t, study_uid, &s, &u, err);
    if (!u)
        return rc;
    *any = u->n || u->spool;
    free(u);
    return rc;
}

int recon_job_subject(rl_str study_uid, const char *ae, char *out, size_t n)
{
    int k = snprintf(out, n, "%.*s@%s", RL_STR_FMT(study_uid), ae ? ae : "");
    return k > 0 && (size_t)k < n ? 0 : -1;
}

bool recon_job_split(rl_str subject, rl_str *study_uid, rl_str *ae)
{
    const char *at = memchr(subject.p, '@', subject.n);
    if (!at) {
        *study_uid = subject;
        *ae = (rl_str){ "", 0 };
        return false;
    }
    *study_uid = (rl_str){ subject.p, (size_t)(at - subject.p) };
    *ae = (rl_str){ at + 1, subject.n - (size_t)(at + 1 - subject.p) };
    return true;
}

/* One job of the study for the node ae ("": the spool's copies only). */
static int want_one(store_txn *t, rl_str uid, const char *ae, const recon_out *out,
                    int64_t not_before, int64_t now_us, uint64_t *idp, rl_err *err)
{
    char subject[RL_JOB_SUBJECT_MAX + 1];
    if (recon_job_subject(uid, ae, subject, sizeof subject) != 0)
        return rl_err_set(err, STORE_E_ARG, -1, "study UID too long for a job");
    uint64_t id = 0;
    bool created;
    int rc = job_want(t, "study", rl_str_c(subject), not_before, now_us, &id, &created, err);
    /* a job held for the unmatched policy runs as soon as the study is
     * stable once an order claims it, or at the time a new policy says */
    if (rc == STORE_OK && !created)
        rc = job_due_by(t, id, not_before, now_us, err);
    if (rc == STORE_OK && created)
        log_info("jobs.submit", "job=%llu study=%.*s to=%s reason=%s", (unsigned long long)id,
                 RL_STR_FMT(uid), ae[0] ? ae : "(spool)",
                 out->state == RECON_CORRECTING  ? "correct"
                 : out->state == RECON_UNMATCHED ? "unmatched"
                                                 : "forward");
    if (idp)
        *idp = id;
    return rc;
}

static int schedule(store_txn *t, rl_str uid, const recon_out *out, int64_t now_us,
                    const study_inst *arrived, rl_err *err)
{
    if (out->state == RECON_NEW)
        return STORE_OK;
    recon_policy p;
    recon_policy_load(t, &p);
    bool unmatched = out->state == RECON_UNMATCHED;
    /* nothing the RIS vouches for: held, or sent as it is once old enough
     * (<recon unmatched forward-after>) */
    if (unmatched && (!p.n_pacs || !p.unmatched_forward_s))
        return STORE_OK;
    if (!p.n_pacs && out->state != RECON_CORRECTING)
        return STORE_OK; /* nowhere to send, nothing to correct */
    study_rec s;
    int rc = study_get(t, uid, &s, err);
    if (rc)
        return rc;
    int64_t not_before = s.updated_us + (int64_t)p.study_stable_s * 1000000;
    if (unmatched && s.first_us + (int64_t)p.unmatched_forward_s * 1000000 > not_before)
        not_before = s.first_us + (int64_t)p.unmatched_forward_s * 1000000;
    if (not_before < now_us)
        not_before = now_us;
    unsent_ctx *u = unsent_new(t, &s, err);
    if (!u)
        return RL_E_NOMEM;
    if (arrived) /* a new instance: its own destinations (the others have jobs already) */
        unsent_inst(u, arrived);
    else         /* an order or patient changed: wherever something is left to do */
        rc = study_index_each(t, 'I', uid, unsent, u, err);
    for (size_t i = 0; rc == STORE_OK && i < u->n; i++)
        rc = want_one(t, uid, u->ae[i], out, not_before, now_us, NULL, err);
    if (rc == STORE_OK && u->spool && out->state == RECON_CORRECTING)
        rc = want_one(t, uid, "", out, not_before, now_us, NULL, err);
    free(u);
    return rc;
}

int recon_send_now(store_txn *t, rl_str study_uid, int64_t now_us, recon_sent *sent,
                   rl_err *err)
{
    memset(sent, 0, sizeof *sent);
    study_rec s;
    unsent_ctx *u;
    int rc = unsent_of(t, study_uid, &s, &u, err);
    if (!u)
        return rc;
    recon_out out = { .state = s.state };
    for (size_t i = 0; rc == STORE_OK && i < u->n && sent->n < RL_DICOM_SENDS_MAX; i++) {
        rc = want_one(t, study_uid, u->ae[i], &out, now_us, now_us, &sent->id[sent->n], err);
        snprintf(sent->ae[sent->n++], sizeof sent->ae[0], "%s", u->ae[i]);
    }
    free(u);
    return rc;
}

int recon_schedule(store_txn *t, rl_str study_uid, const recon_out *out, int64_t now_us,
                   rl_err *err)
{
    return schedule(t, study_uid, out, now_us, NULL, err);
}

int recon_after_store(store_txn *t, const study_inst *in, int64_t now_us, recon_out *out,
                      rl_err *err)
{
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
    rc = recon_study(t, uid, linked ? &lk : NULL, out, err);
    if (rc == STORE_NOTFOUND && linked) /* the linked order left the worklist */
        rc = recon_study(t, uid, NULL, out, err);
    if (rc == STORE_OK)
        rc = schedule(t, uid, out, now_us, in, err);
    return rc;
}

int recon_new_order(store_txn *t, rl_str accession, rl_str patient_id, unsigned *matched,
                    rl_err *err)
{
    uid_list x = { 0 };
    int rc = STORE_OK;
    if (accession.n)
        rc = study_index_each(t, 'A', accession, uid_list_take, &x, err);
    if (rc == STORE_OK && patient_id.n)
        rc = study_index_each(t, 'P', patient_id, uid_list_take, &x, err);
    for (size_t i = 0; rc == STORE_OK && i < x.n; i++) {
        study_rec s;
        rl_str uid = rl_str_c(x.u[i]);
        if (study_get(t, uid, &s, err) != STORE_OK ||
            (s.state != RECON_UNMATCHED && s.state != RECON_FORWARDED))
            continue;
        recon_out out;
        rc = recon_study(t, uid, NULL, &out, err);
        if (rc == STORE_OK && out.state != RECON_UNMATCHED) {
            (*matched)++;
            log_info("recon.study", "study=%s state=%s by=%s discrepancies=%u after=order",
                     x.u[i], recon_state_name(out.state), out.how, out.discrepancies);
            rc = recon_schedule(t, uid, &out, rl_now_us(), err);
        }
    }
    uid_list_free(&x);
    return rc;
}

int recon_schedule_unmatched(store_txn *t, int64_t now_us, unsigned *n, rl_err *err)
{
    *n = 0;
    recon_policy p;
    recon_policy_load(t, &p);
    if (!p.n_pacs || !p.unmatched_forward_s)
        return STORE_OK;
    uid_list x = { 0 };
    char st = (char)('0' + RECON_UNMATCHED);
    int rc = study_index_each(t, 'S', (rl_str){ &st, 1 }, uid_list_take, &x, err);
    if (rc == STORE_OK && x.nomem)
        rc = rl_err_set(err, RL_E_NOMEM, -1, "out of memory");
    recon_out out = { .state = RECON_UNMATCHED };
    for (size_t i = 0; rc == STORE_OK && i < x.n; i++) {
        rc = schedule(t, rl_str_c(x.u[i]), &out, now_us, NULL, err);
        (*n)++;
    }
    uid_list_free(&x);
    return rc;
}
