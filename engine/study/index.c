/* The header index of received instances and their studies (radlink/study.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "radlink/digest.h"
#include "radlink/rec.h"
#include "radlink/study.h"
#include "radlink/wl.h"

#define INST_VERSION 3
#define STUDY_VERSION 3

const uint32_t study_field_tag[STUDY_F_COUNT] = {
    [STUDY_F_SOP_UID] = WL_TAG(0x0008, 0x0018),   [STUDY_F_SOP_CLASS] = WL_TAG(0x0008, 0x0016),
    [STUDY_F_STUDY_UID] = WL_TAG(0x0020, 0x000D), [STUDY_F_SERIES_UID] = WL_TAG(0x0020, 0x000E),
    [STUDY_F_PATIENT_ID] = WL_TAG(0x0010, 0x0020), [STUDY_F_ISSUER] = WL_TAG(0x0010, 0x0021),
    [STUDY_F_PATIENT_NAME] = WL_TAG(0x0010, 0x0010),
    [STUDY_F_BIRTH_DATE] = WL_TAG(0x0010, 0x0030), [STUDY_F_SEX] = WL_TAG(0x0010, 0x0040),
    [STUDY_F_ACCESSION] = WL_TAG(0x0008, 0x0050), [STUDY_F_RP_ID] = WL_TAG(0x0040, 0x1001),
    [STUDY_F_MODALITY] = WL_TAG(0x0008, 0x0060), [STUDY_F_STUDY_DATE] = WL_TAG(0x0008, 0x0020),
    [STUDY_F_STUDY_TIME] = WL_TAG(0x0008, 0x0030), [STUDY_F_CALLING_AE] = 0,
    [STUDY_F_PATH] = 0,
};

const char *const study_field_name[STUDY_F_COUNT] = {
    "SOPInstanceUID", "SOPClassUID", "StudyInstanceUID", "SeriesInstanceUID", "PatientID",
    "IssuerOfPatientID", "PatientName", "PatientBirthDate", "PatientSex", "AccessionNumber",
    "RequestedProcedureID", "Modality", "StudyDate", "StudyTime", "received from", "spool file",
};

int study_inst_encode(const study_inst *in, rl_buf *out)
{
    int rc = rec_put_u8(out, INST_VERSION) | rec_put_u64(out, (uint64_t)in->received_us) |
             rec_put_u32(out, in->seq) | rec_put_u32(out, in->sent_gen);
    for (int i = 0; i < STUDY_F_COUNT; i++)
        rc |= rec_put_cstr(out, in->f[i]);
    /* a legacy record stays one: every PACS not listed keeps sent_gen */
    rc |= rec_put_u8(out, (uint8_t)((in->held ? 1 : 0) | (in->legacy ? 2 : 0))) |
          rec_put_cstr(out, in->held_why) | rec_put_u8(out, in->ndest);
    for (size_t i = 0; i < in->ndest && i < RL_DICOM_SENDS_MAX; i++)
        rc |= rec_put_cstr(out, in->dest[i].ae) | rec_put_u64(out, in->dest[i].prog) |
              rec_put_u32(out, in->dest[i].sent_gen) | rec_put_u8(out, in->dest[i].flags);
    return rc;
}

static void get_cstr(rec_reader *r, char *out, size_t n)
{
    rl_str s = rec_get_str(r);
    size_t k = s.n < n - 1 ? s.n : n - 1;
    memcpy(out, s.p ? s.p : "", k);
    out[k] = '\0';
}

int study_inst_decode(rl_str recd, study_inst *in)
{
    rec_reader r;
    rec_reader_init(&r, recd.p, recd.n);
    uint8_t version = rec_get_u8(&r);
    if (version < 1 || version > INST_VERSION)
        return STORE_E_VERSION;
    in->received_us = (int64_t)rec_get_u64(&r);
    in->seq = version >= 2 ? rec_get_u32(&r) : 0;
    in->sent_gen = version >= 2 ? rec_get_u32(&r) : 0;
    for (int i = 0; i < STUDY_F_COUNT; i++)
        get_cstr(&r, in->f[i], sizeof in->f[i]);
    in->legacy = version < 3;
    in->held = false;
    in->held_why[0] = '\0';
    in->ndest = 0;
    if (version >= 3) {
        uint8_t flags = rec_get_u8(&r);
        in->held = flags & 1;
        in->legacy = flags & 2;
        get_cstr(&r, in->held_why, sizeof in->held_why);
        uint8_t n = rec_get_u8(&r);
        if (n > RL_DICOM_SENDS_MAX)
            return STORE_E_CORRUPT;
        for (uint8_t i = 0; i < n; i++) {
            study_dest *d = &in->dest[i];
            get_cstr(&r, d->ae, sizeof d->ae);
            d->prog = rec_get_u64(&r);
            d->sent_gen = rec_get_u32(&r);
            d->flags = rec_get_u8(&r);
        }
        in->ndest = n;
    }
    return rec_ok(&r) ? STORE_OK : STORE_E_CORRUPT;
}

study_dest *study_inst_dest(study_inst *in, const char *ae)
{
    for (size_t i = 0; i < in->ndest; i++)
        if (strcmp(in->dest[i].ae, ae) == 0)
            return &in->dest[i];
    return NULL;
}

bool study_inst_goes(const study_inst *in, const char *ae, bool is_pacs, uint32_t *sent_gen)
{
    for (size_t i = 0; i < in->ndest; i++)
        if (strcmp(in->dest[i].ae, ae) == 0) {
            if (sent_gen)
                *sent_gen = in->dest[i].sent_gen;
            return true;
        }
    if (in->legacy && is_pacs) {
        if (sent_gen)
            *sent_gen = in->sent_gen;
        return true;
    }
    return false;
}

static bool study_level(int f)
{
    return f != STUDY_F_SOP_UID && f != STUDY_F_SOP_CLASS && f != STUDY_F_SERIES_UID &&
           f != STUDY_F_PATH;
}

static int study_encode(const study_rec *s, rl_buf *out)
{
    int rc = rec_put_u8(out, STUDY_VERSION) | rec_put_u8(out, (uint8_t)s->state) |
             rec_put_u64(out, (uint64_t)s->first_us) | rec_put_u64(out, (uint64_t)s->updated_us) |
             rec_put_u32(out, s->instances) | rec_put_u32(out, s->gen) |
             rec_put_u32(out, s->last_seq) | rec_put_str(out, s->matched) |
             rec_put_str(out, s->note) | rec_put_str(out, s->target);
    for (int i = 0; i < STUDY_F_COUNT; i++)
        rc |= rec_put_str(out, study_level(i) ? s->f[i] : (rl_str){ "", 0 });
    rc |= rec_put_str(out, s->dests) | rec_put_u32(out, s->held) | rec_put_str(out, s->held_why);
    return rc;
}

static int study_decode(rl_str recd, study_rec *s)
{
    rec_reader r;
    rec_reader_init(&r, recd.p, recd.n);
    uint8_t version = rec_get_u8(&r);
    if (version < 1 || version > STUDY_VERSION)
        return STORE_E_VERSION;
    s->state = (recon_state)rec_get_u8(&r);
    s->first_us = (int64_t)rec_get_u64(&r);
    s->updated_us = (int64_t)rec_get_u64(&r);
    s->instances = rec_get_u32(&r);
    s->gen = version >= 2 ? rec_get_u32(&r) : 0;
    s->last_seq = version >= 2 ? rec_get_u32(&r) : 0;
    s->matched = rec_get_str(&r);
    s->note = rec_get_str(&r);
    s->target = version >= 2 ? rec_get_str(&r) : (rl_str){ "", 0 };
    for (int i = 0; i < STUDY_F_COUNT; i++)
        s->f[i] = rec_get_str(&r);
    s->dests = version >= 3 ? rec_get_str(&r) : (rl_str){ "", 0 };
    s->held = version >= 3 ? rec_get_u32(&r) : 0;
    s->held_why = version >= 3 ? rec_get_str(&r) : (rl_str){ "", 0 };
    return rec_ok(&r) ? STORE_OK : STORE_E_CORRUPT;
}

/* The index key kind + v in out (n bytes); false when it does not fit. */
static bool idx_key(char kind, rl_str v, char *out, size_t n, rl_str *k)
{
    if (v.n + 1 > n)
        return false;
    out[0] = kind;
    memcpy(out + 1, v.p, v.n);
    *k = (rl_str){ out, v.n + 1 };
    return true;
}

static int idx(store_txn *t, char kind, rl_str key, rl_str val, bool add, rl_err *err)
{
    if (!key.n || !val.n)
        return STORE_OK;
    char b[RL_ID_KEY_MAX];
    rl_str k;
    if (!idx_key(kind, key, b, sizeof b, &k))
        return STORE_OK; /* too long to index; still stored */
    int rc = add ? store_put(t, STORE_STUDY_IDX, k, val, 0, err)
                 : store_del(t, STORE_STUDY_IDX, k, val, err);
    return rc == STORE_NOTFOUND ? STORE_OK : rc;
}

int study_get_instance(store_txn *t, rl_str sop_uid, study_inst *in, rl_err *err)
{
    rl_str v;
    int rc = store_get(t, STORE_INSTANCE, sop_uid, &v, err);
    if (rc)
        return rc;
    return study_inst_decode(v, in) == STORE_OK
               ? STORE_OK
               : rl_err_set(err, STORE_E_CORRUPT, -1, "instance record does not decode");
}

int study_get(store_txn *t, rl_str study_uid, study_rec *out, rl_err *err)
{
    rl_str v;
    int rc = store_get(t, STORE_STUDY, study_uid, &v, err);
    if (rc)
        return rc;
    return study_decode(v, out) == STORE_OK
               ? STORE_OK
               : rl_err_set(err, STORE_E_CORRUPT, -1, "study record does not decode");
}

/* Copy every view of s into b (cleared first) and point s at the copies: a
 * record read in a write transaction must survive the writes that follow. */
static void study_own(study_rec *s, rl_buf *b)
{
    enum { NV = STUDY_F_COUNT + 5 };
    rl_str *v[NV];
    for (int i = 0; i < STUDY_F_COUNT; i++)
        v[i] = &s->f[i];
    v[STUDY_F_COUNT] = &s->matched;
    v[STUDY_F_COUNT + 1] = &s->note;
    v[STUDY_F_COUNT + 2] = &s->target;
    v[STUDY_F_COUNT + 3] = &s->dests;
    v[STUDY_F_COUNT + 4] = &s->held_why;
    size_t off[NV];
    rl_buf_reset(b);
    for (int i = 0; i < NV; i++) {
        off[i] = b->len;
        rl_buf_add_str(b, *v[i]);
    }
    for (int i = 0; i < NV; i++)
        v[i]->p = b->data ? b->data + off[i] : "";
}

static int put_study(store_txn *t, rl_str uid, const study_rec *s, rl_err *err)
{
    rl_buf b;
    rl_buf_init(&b, 0);
    int rc = study_encode(s, &b) ? rl_err_set(err, STORE_E_ARG, -1, "study record too large")
                                 : store_put(t, STORE_STUDY, uid, rl_buf_view(&b), 0, err);
    rl_buf_free(&b);
    return rc;
}

int study_put_instance(store_txn *t, study_inst *in, bool *existed, rl_err *err)
{
    rl_str sop = rl_str_c(in->f[STUDY_F_SOP_UID]), suid = rl_str_c(in->f[STUDY_F_STUDY_UID]);
    if (!sop.n || !suid.n)
        return rl_err_set(err, STORE_E_ARG, -1, "instance without SOP Instance or Study UID");
    study_inst *old = malloc(sizeof *old);
    if (!old)
        return rl_err_set(err, STORE_E_IO, -1, "out of memory");
    int rc = study_get_instance(t, sop, old, err);
    *existed = rc == STORE_OK;
    if (rc < 0) {
        free(old);
        return rc;
    }
    /* an instance moved to another study leaves the old one (and its count) */
    bool moved = *existed && strcmp(old->f[STUDY_F_STUDY_UID], in->f[STUDY_F_STUDY_UID]) != 0;
    bool was_held = *existed && !moved && old->held;
    rc = STORE_OK;
    if (moved) {
        rl_str ouid = rl_str_c(old->f[STUDY_F_STUDY_UID]);
        rc = idx(t, 'I', ouid, sop, false, err);
        study_rec os;
        if (rc == STORE_OK && study_get(t, ouid, &os, err) == STORE_OK) {
            rl_buf cp;
            rl_buf_init(&cp, 0);
            study_own(&os, &cp);
            if (os.instances)
                os.instances--;
            rc = put_study(t, ouid, &os, err);
            rl_buf_free(&cp);
        }
    }
    free(old);
    if (rc != STORE_OK)
        return rc;

    /* the study: created, or updated with the newest header */
    study_rec s;
    rl_buf keep;
    rl_buf_init(&keep, 0);
    int g = study_get(t, suid, &s, err);
    if (g < 0)
        return g;
    if (g == STORE_NOTFOUND) {
        memset(&s, 0, sizeof s);
        s.state = RECON_NEW;
        s.first_us = in->received_us;
        s.gen = 1; /* sent generation 0 means "never sent" */
        s.matched = s.note = s.target = s.dests = s.held_why = (rl_str){ "", 0 };
    } else {
        study_own(&s, &keep); /* LMDB views die at a write */
        /* drop the old patient/accession index entries */
        idx(t, 'P', s.f[STUDY_F_PATIENT_ID], suid, false, err);
        idx(t, 'A', s.f[STUDY_F_ACCESSION], suid, false, err);
        idx(t, 'S', (rl_str){ (const char[]){ (char)('0' + s.state) }, 1 }, suid, false, err);
    }
    for (int i = 0; i < STUDY_F_COUNT; i++)
        s.f[i] = study_level(i) ? rl_str_c(in->f[i]) : (rl_str){ "", 0 };
    if (!*existed || moved)
        s.instances++;
    s.updated_us = in->received_us;
    in->seq = ++s.last_seq;
    in->sent_gen = 0;
    in->legacy = false;
    for (size_t i = 0; i < in->ndest; i++) {
        in->dest[i].sent_gen = 0;
        in->dest[i].flags = 0;
    }
    rl_buf dests;
    rl_buf_init(&dests, 0);
    rl_buf_add_str(&dests, s.dests);
    for (size_t i = 0; i < in->ndest; i++)
        if (!study_dests_has(rl_buf_view(&dests), in->dest[i].ae)) {
            if (dests.len)
                rl_buf_add_c(&dests, "\\");
            rl_buf_add_c(&dests, in->dest[i].ae);
        }
    s.dests = rl_buf_view(&dests);
    if (was_held && s.held)
        s.held--;
    if (in->held) {
        s.held++;
        s.held_why = rl_str_c(in->held_why);
    }
    rc = put_study(t, suid, &s, err);
    rl_buf_free(&dests);
    if (rc == STORE_OK)
        rc = idx(t, 'P', s.f[STUDY_F_PATIENT_ID], suid, true, err);
    if (rc == STORE_OK)
        rc = idx(t, 'A', s.f[STUDY_F_ACCESSION], suid, true, err);
    if (rc == STORE_OK)
        rc = idx(t, 'S', (rl_str){ (const char[]){ (char)('0' + s.state) }, 1 }, suid, true, err);
    rl_buf_free(&keep);

    rl_buf b;
    rl_buf_init(&b, 0);
    if (rc == STORE_OK)
        rc = study_inst_encode(in, &b) ? rl_err_set(err, STORE_E_ARG, -1, "instance too large")
                                       : store_put(t, STORE_INSTANCE, sop, rl_buf_view(&b), 0, err);
    rl_buf_free(&b);
    if (rc == STORE_OK)
        rc = idx(t, 'I', suid, sop, true, err);
    return rc;
}

static int put_instance(store_txn *t, rl_str sop_uid, const study_inst *in, rl_err *err)
{
    rl_buf b;
    rl_buf_init(&b, 0);
    int rc = study_inst_encode(in, &b) ? rl_err_set(err, STORE_E_ARG, -1, "instance too large")
                                       : store_put(t, STORE_INSTANCE, sop_uid, rl_buf_view(&b), 0,
                                                   err);
    rl_buf_free(&b);
    return rc;
}

int study_set_sent(store_txn *t, rl_str sop_uid, const char *ae, uint32_t gen, rl_err *err)
{
    study_inst *in = malloc(sizeof *in);
    if (!in)
        return rl_err_set(err, RL_E_NOMEM, -1, "out of memory");
    int rc = study_get_instance(t, sop_uid, in, err);
    bool changed = false;
    if (rc == STORE_OK && ae && !ae[0]) { /* no node: the spool's copy */
        changed = in->sent_gen != gen;
        in->sent_gen = gen;
    } else if (rc == STORE_OK && !ae) {
        changed = in->sent_gen != gen;
        in->sent_gen = gen;
        for (size_t i = 0; i < in->ndest; i++) {
            changed |= in->dest[i].sent_gen != gen;
            in->dest[i].sent_gen = gen;
        }
    } else if (rc == STORE_OK) {
        study_dest *d = study_inst_dest(in, ae);
        if (!d && in->legacy && in->ndest < RL_DICOM_SENDS_MAX) {
            d = &in->dest[in->ndest++]; /* that PACS now has its own generation */
            memset(d, 0, sizeof *d);
            snprintf(d->ae, sizeof d->ae, "%s", ae);
        }
        if (d && d->sent_gen != gen) {
            d->sent_gen = gen;
            changed = true;
        }
    }
    if (changed)
        rc = put_instance(t, sop_uid, in, err);
    free(in);
    return rc;
}

/* The study's count of held instances moves by delta (why: the last reason). */
static int study_held(store_txn *t, rl_str study_uid, int delta, rl_str why, rl_err *err)
{
    study_rec s;
    int rc = study_get(t, study_uid, &s, err);
    if (rc)
        return rc == STORE_NOTFOUND ? STORE_OK : rc;
    rl_buf b, w;
    rl_buf_init(&b, 0);
    rl_buf_init(&w, 0);
    rl_buf_add_str(&w, why);
    study_own(&s, &b);
    if (delta < 0)
        s.held = s.held > (uint32_t)-delta ? s.held - (uint32_t)-delta : 0;
    else
        s.held += (uint32_t)delta;
    if (why.n)
        s.held_why = rl_buf_view(&w);
    if (!s.held)
        s.held_why = (rl_str){ "", 0 };
    rc = put_study(t, study_uid, &s, err);
    rl_buf_free(&b);
    rl_buf_free(&w);
    return rc;
}

int study_set_failed(store_txn *t, rl_str sop_uid, const char *ae, rl_str why, rl_err *err)
{
    study_inst *in = malloc(sizeof *in);
    if (!in)
        return rl_err_set(err, RL_E_NOMEM, -1, "out of memory");
    int rc = study_get_instance(t, sop_uid, in, err);
    if (rc == STORE_OK) {
        study_dest *d = study_inst_dest(in, ae);
        if (d)
            d->flags |= STUDY_DEST_FAILED;
        bool was = in->held;
        in->held = true;
        snprintf(in->held_why, sizeof in->held_why, "%.*s", RL_STR_FMT(why));
        rc = put_instance(t, sop_uid, in, err);
        if (rc == STORE_OK)
            rc = study_held(t, rl_str_c(in->f[STUDY_F_STUDY_UID]), was ? 0 : 1, why, err);
    }
    free(in);
    return rc;
}

typedef struct release_ctx {
    store_txn *t;
    const char *const *pacs;
    size_t n;
    unsigned released;
    int rc;
    rl_err *err;
} release_ctx;

static int release_one(void *ctx, rl_str sop)
{
    release_ctx *rx = ctx;
    study_inst *in = malloc(sizeof *in);
    if (!in) {
        rx->rc = rl_err_set(rx->err, RL_E_NOMEM, -1, "out of memory");
        return 1;
    }
    int rc = study_get_instance(rx->t, sop, in, rx->err);
    if (rc == STORE_OK && in->held) {
        /* every PACS, as it is: what has no program yet, or failed one */
        in->held = false;
        in->held_why[0] = '\0';
        for (size_t i = 0; i < rx->n; i++) {
            study_dest *d = study_inst_dest(in, rx->pacs[i]);
            if (!d && in->ndest < RL_DICOM_SENDS_MAX) {
                d = &in->dest[in->ndest++];
                memset(d, 0, sizeof *d);
                snprintf(d->ae, sizeof d->ae, "%s", rx->pacs[i]);
            }
            if (d && (d->flags & STUDY_DEST_FAILED)) {
                d->flags &= (uint8_t)~STUDY_DEST_FAILED;
                d->prog = 0;
            }
        }
        rc = put_instance(rx->t, sop, in, rx->err);
        rx->released++;
    }
    free(in);
    if (rc < 0)
        rx->rc = rc;
    return rx->rc != STORE_OK;
}

int study_release_held(store_txn *t, rl_str study_uid, const char *const *pacs, size_t n,
                       unsigned *released, rl_err *err)
{
    release_ctx rx = { t, pacs, n, 0, STORE_OK, err };
    int rc = study_index_each(t, 'I', study_uid, release_one, &rx, err);
    if (rc == STORE_OK)
        rc = rx.rc;
    *released = rx.released;
    if (rc == STORE_OK && rx.released) {
        study_rec s;
        rc = study_get(t, study_uid, &s, err);
        if (rc == STORE_OK) {
            rl_buf b, d;
            rl_buf_init(&b, 0);
            rl_buf_init(&d, 0);
            study_own(&s, &b);
            rl_buf_add_str(&d, s.dests);
            for (size_t i = 0; i < n; i++)
                if (!study_dests_has(rl_buf_view(&d), pacs[i])) {
                    if (d.len)
                        rl_buf_add_c(&d, "\\");
                    rl_buf_add_c(&d, pacs[i]);
                }
            s.dests = rl_buf_view(&d);
            s.held = s.held > rx.released ? s.held - rx.released : 0;
            if (!s.held)
                s.held_why = (rl_str){ "", 0 };
            rc = put_study(t, study_uid, &s, err);
            rl_buf_free(&b);
            rl_buf_free(&d);
        }
    }
    return rc;
}

bool study_dests_has(rl_str dests, const char *ae)
{
    size_t an = strlen(ae);
    const char *p = dests.p, *end = dests.p + dests.n;
    while (p && p < end) {
        const char *bs = memchr(p, '\\', (size_t)(end - p));
        size_t n = (size_t)((bs ? bs : end) - p);
        if (n == an && memcmp(p, ae, n) == 0)
            return true;
        p = bs ? bs + 1 : end;
    }
    return false;
}

static void prog_key(uint64_t id, unsigned char k[8])
{
    rec_be64(id, k);
}

int study_prog_put(store_txn *t, rl_str prog, uint64_t *id, rl_err *err)
{
    *id = 0;
    if (!prog.n)
        return STORE_OK;
    char hex[RL_SHA256_HEX_SIZE];
    digest_sha256_hex(prog.p, prog.n, hex);
    uint64_t v = 0;
    for (int i = 0; i < 16; i++)
        v = (v << 4) | (uint64_t)(hex[i] <= '9' ? hex[i] - '0' : hex[i] - 'a' + 10);
    if (!v)
        v = 1; /* 0 names the empty program */
    unsigned char k[8];
    prog_key(v, k);
    rl_str have;
    int rc = store_get(t, STORE_PROG, (rl_str){ (char *)k, 8 }, &have, err);
    if (rc == STORE_NOTFOUND)
        rc = store_put(t, STORE_PROG, (rl_str){ (char *)k, 8 }, prog, 0, err);
    else if (rc == STORE_OK && !rl_str_eq(have, prog))
        rc = rl_err_set(err, STORE_E_EXISTS, -1, "two programs with one id %016llx",
                        (unsigned long long)v);
    if (rc == STORE_OK)
        *id = v;
    return rc;
}

int study_prog_get(store_txn *t, uint64_t id, rl_str *prog, rl_err *err)
{
    *prog = (rl_str){ "", 0 };
    if (!id)
        return STORE_OK;
    unsigned char k[8];
    prog_key(id, k);
    return store_get(t, STORE_PROG, (rl_str){ (char *)k, 8 }, prog, err);
}

int study_set_target(store_txn *t, rl_str study_uid, rl_str target, uint32_t *gen, bool *changed,
                     rl_err *err)
{
    study_rec s;
    int rc = study_get(t, study_uid, &s, err);
    if (rc)
        return rc;
    *changed = !rl_str_eq(s.target, target);
    *gen = s.gen;
    if (!*changed)
        return STORE_OK;
    rl_buf b, tb;
    rl_buf_init(&b, 0);
    rl_buf_init(&tb, 0);
    rl_buf_add_str(&tb, target); /* target may be a view of this very record */
    study_own(&s, &b);
    s.target = rl_buf_view(&tb);
    *gen = ++s.gen;
    rc = put_study(t, study_uid, &s, err);
    rl_buf_free(&b);
    rl_buf_free(&tb);
    return rc;
}

int study_set_state(store_txn *t, rl_str study_uid, recon_state st, rl_str matched, rl_str note,
                    rl_err *err)
{
    study_rec s;
    int rc = study_get(t, study_uid, &s, err);
    if (rc)
        return rc;
    /* the record's views die at the first write: copy it whole; matched and
     * note may be views of the same record (NULL matched: keep both) */
    rl_buf b, mn;
    rl_buf_init(&b, 0);
    rl_buf_init(&mn, 0);
    if (matched.p) {
        rl_buf_add_str(&mn, matched);
        rl_buf_add_str(&mn, note);
    }
    study_own(&s, &b);
    rl_str m = matched.p ? (rl_str){ mn.data, matched.n } : s.matched;
    rl_str nt = matched.p ? (rl_str){ mn.data + matched.n, note.n } : s.note;
    char old = (char)('0' + s.state), now = (char)('0' + st);
    rc = idx(t, 'S', (rl_str){ &old, 1 }, study_uid, false, err);
    if (rc == STORE_OK && matched.p && !rl_str_eq(s.matched, m)) {
        rc = idx(t, 'M', s.matched, study_uid, false, err);
        if (rc == STORE_OK)
            rc = idx(t, 'M', m, study_uid, true, err);
    }
    s.state = st;
    s.matched = m;
    s.note = nt;
    if (rc == STORE_OK)
        rc = put_study(t, study_uid, &s, err);
    if (rc == STORE_OK)
        rc = idx(t, 'S', (rl_str){ &now, 1 }, study_uid, true, err);
    rl_buf_free(&b);
    rl_buf_free(&mn);
    return rc;
}

int study_set_field(store_txn *t, rl_str study_uid, int field, rl_str value, rl_err *err)
{
    study_rec s;
    int rc = study_get(t, study_uid, &s, err);
    if (rc || field < 0 || field >= STUDY_F_COUNT)
        return rc;
    rl_buf b;
    rl_buf_init(&b, 0);
    study_own(&s, &b);
    rl_str oldv = s.f[field]; /* a copy in b */
    s.f[field] = value;
    char kind = field == STUDY_F_PATIENT_ID ? 'P' : field == STUDY_F_ACCESSION ? 'A' : 0;
    if (kind)
        rc = idx(t, kind, oldv, study_uid, false, err);
    if (rc == STORE_OK)
        rc = put_study(t, study_uid, &s, err);
    if (rc == STORE_OK && kind)
        rc = idx(t, kind, s.f[field], study_uid, true, err);
    rl_buf_free(&b);
    return rc;
}

int study_index_each(store_txn *t, char kind, rl_str key, study_visit cb, void *ctx, rl_err *err)
{
    char b[RL_ID_KEY_MAX];
    rl_str k;
    if (!idx_key(kind, key, b, sizeof b, &k))
        return STORE_OK;
    store_cursor *c;
    int rc = store_cursor_open(t, STORE_STUDY_IDX, &c, err);
    if (rc)
        return rc;
    rl_str kk = k, v;
    rc = store_cursor_get(c, STORE_SEEK, &kk, &v);
    while (rc == STORE_OK && rl_str_eq(kk, k)) {
        if (cb(ctx, v))
            break;
        rc = store_cursor_get(c, STORE_NEXT_DUP, &kk, &v);
    }
    store_cursor_close(c);
    return rc < 0 ? rc : STORE_OK;
}

int study_each(store_txn *t, study_rec_visit cb, void *ctx, rl_err *err)
{
    store_cursor *c;
    int rc = store_cursor_open(t, STORE_STUDY, &c, err);
    if (rc)
        return rc;
    rl_str k, v;
    rc = store_cursor_get(c, STORE_FIRST, &k, &v);
    while (rc == STORE_OK) {
        study_rec s;
        if (study_decode(v, &s) != STORE_OK) {
            rc = rl_err_set(err, STORE_E_CORRUPT, -1, "study record does not decode");
            break;
        }
        if (cb(ctx, k, &s))
            break;
        rc = store_cursor_get(c, STORE_NEXT, &k, &v);
    }
    store_cursor_close(c);
    return rc < 0 ? rc : STORE_OK;
}

typedef struct reindex_ctx {
    store_txn *t;
    unsigned n;
    rl_err *err;
} reindex_ctx;

static int reindex_one(void *ctx, rl_str uid, const study_rec *s)
{
    reindex_ctx *rx = ctx;
    if (!s->matched.n)
        return 0;
    char k[WL_KEY_MAX], u[256];
    if (s->matched.n > sizeof k || uid.n > sizeof u)
        return 0;
    memcpy(k, s->matched.p, s->matched.n);
    memcpy(u, uid.p, uid.n);
    rx->n++;
    return idx(rx->t, 'M', (rl_str){ k, s->matched.n }, (rl_str){ u, uid.n }, true, rx->err) !=
           STORE_OK;
}

int study_index_upgrade(store_txn *t, unsigned *n, rl_err *err)
{
    *n = 0;
    rl_str v;
    int rc = store_get(t, STORE_META, RL_STR("study.idx"), &v, err);
    if (rc == STORE_OK && rl_str_eq_c(v, "2"))
        return STORE_OK;
    if (rc < 0)
        return rc;
    reindex_ctx rx = { t, 0, err };
    rc = study_each(t, reindex_one, &rx, err);
    *n = rx.n;
    if (rc == STORE_OK)
        rc = store_put(t, STORE_META, RL_STR("study.idx"), RL_STR("2"), 0, err);
    return rc;
}

int study_forget_instance(store_txn *t, rl_str study_uid, rl_str sop_uid, rl_err *err)
{
    int rc = store_del(t, STORE_INSTANCE, sop_uid, (rl_str){ NULL, 0 }, err);
    if (rc == STORE_OK || rc == STORE_NOTFOUND)
        rc = idx(t, 'I', study_uid, sop_uid, false, err);
    return rc == STORE_NOTFOUND ? STORE_OK : rc;
}
