/* A linked report becomes an instance of its study (radlink/report.h,
 * report_file): its DICOM SR (or Encapsulated PDF) written into the spool
 * beside the study's images, durable, and indexed with the destinations
 * the study's instances go to, so that the study's jobs send and verify it
 * like an image, each destination by its own job. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "radlink/dicom.h"
#include "radlink/digest.h"
#include "radlink/hl7.h"
#include "radlink/log.h"
#include "radlink/msglog.h"
#include "radlink/recon.h"
#include "radlink/report.h"
#include "radlink/route_dicom.h"
#include "radlink/store.h"
#include "radlink/study.h"

#define SR_CLASS "1.2.840.10008.5.1.4.1.1.88.11"  /* Basic Text SR Storage */
#define ESR_CLASS "1.2.840.10008.5.1.4.1.1.88.22" /* Enhanced SR Storage */
#define PDF_CLASS "1.2.840.10008.5.1.4.1.1.104.1" /* Encapsulated PDF Storage */
#define KOS_CLASS "1.2.840.10008.5.1.4.1.1.88.59" /* Key Object Selection Document */
#define EVIDENCE_MAX 4096

static void cpy(char *out, size_t n, rl_str v)
{
    snprintf(out, n, "%.*s", (int)(v.n < n ? v.n : n - 1), v.p);
}

/* The study's instances, for the Current Requested Procedure Evidence. */
typedef struct evidence {
    store_txn *t;
    dicom_report_ref *v;
    size_t n;
    study_inst *in; /* room to read each one into */
} evidence;

static int take_instance(void *ctx, rl_str sop)
{
    evidence *e = ctx;
    study_inst *in = e->in;
    rl_err err;
    if (e->n == EVIDENCE_MAX)
        return 1;
    /* the images: not the study's earlier reports */
    if (study_get_instance(e->t, sop, in, &err) == STORE_OK &&
        strcmp(in->f[STUDY_F_CALLING_AE], "(report)") != 0) {
        dicom_report_ref *r = &e->v[e->n++];
        cpy(r->sop_class, sizeof r->sop_class, rl_str_c(in->f[STUDY_F_SOP_CLASS]));
        cpy(r->sop_uid, sizeof r->sop_uid, rl_str_c(in->f[STUDY_F_SOP_UID]));
        cpy(r->series_uid, sizeof r->series_uid, rl_str_c(in->f[STUDY_F_SERIES_UID]));
        cpy(r->study_uid, sizeof r->study_uid, rl_str_c(in->f[STUDY_F_STUDY_UID]));
    }
    return 0;
}

/* What the object says of its study, as radlink holds the study. */
static void study_of(const study_rec *s, dicom_report_study *d)
{
    cpy(d->study_uid, sizeof d->study_uid, s->f[STUDY_F_STUDY_UID]);
    cpy(d->study_date, sizeof d->study_date, s->f[STUDY_F_STUDY_DATE]);
    cpy(d->study_time, sizeof d->study_time, s->f[STUDY_F_STUDY_TIME]);
    cpy(d->accession, sizeof d->accession, s->f[STUDY_F_ACCESSION]);
    cpy(d->patient_id, sizeof d->patient_id, s->f[STUDY_F_PATIENT_ID]);
    cpy(d->issuer, sizeof d->issuer, s->f[STUDY_F_ISSUER]);
    cpy(d->patient_name, sizeof d->patient_name, s->f[STUDY_F_PATIENT_NAME]);
    cpy(d->birth_date, sizeof d->birth_date, s->f[STUDY_F_BIRTH_DATE]);
    cpy(d->sex, sizeof d->sex, s->f[STUDY_F_SEX]);
    cpy(d->requested_procedure, sizeof d->requested_procedure, s->f[STUDY_F_RP_ID]);
}

/* mkdir that may exist. */
static int dir(const char *path, rl_err *err)
{
    if (mkdir(path, 0700) != 0 && errno != EEXIST)
        return rl_err_set(err, RL_E_SYS, -1, "%s: %s", path, strerror(errno));
    return 0;
}

/* The object at spool/STUDY/SERIES/SOP.dcm, synced with its directories. */
static int write_object(const report *r, dicom_report_kind k, const dicom_report_study *d,
                        const char *spool, char *path, size_t pathn, rl_err *err)
{
    char study_dir[RL_DATA_PATH_MAX + RL_UID_SIZE + 2];
    char series_dir[sizeof study_dir + RL_UID_SIZE + 2];
    char tmp[sizeof series_dir + RL_UID_SIZE + 16];
    snprintf(study_dir, sizeof study_dir, "%.*s/%s", RL_DATA_PATH_MAX - 1, spool, d->study_uid);
    snprintf(series_dir, sizeof series_dir, "%s/%s", study_dir, d->series_uid);
    snprintf(tmp, sizeof tmp, "%s/%s.dcm.part", series_dir, d->sop_uid);
    if (strlen(tmp) - sizeof ".part" + 1 >= pathn)
        return rl_err_set(err, RL_E_LIMIT, -1, "%s: the spool path is too long", tmp);
    cpy(path, pathn, (rl_str){ tmp, strlen(tmp) - (sizeof ".part" - 1) });
    int rc = dir(study_dir, err);
    if (rc == 0)
        rc = dir(series_dir, err);
    if (rc == 0)
        rc = dicom_report_write(r, k, d, tmp, err);
    if (rc == 0 && (rl_sync_path(tmp, O_RDONLY) != 0 || rename(tmp, path) != 0 ||
                    rl_sync_path(series_dir, O_RDONLY | O_DIRECTORY) != 0 ||
                    rl_sync_path(study_dir, O_RDONLY | O_DIRECTORY) != 0))
        rc = rl_err_set(err, RL_E_SYS, -1, "%s: %s", path, strerror(errno));
    if (rc)
        unlink(tmp);
    return rc;
}

/* One object a report makes: an SR, a PDF or a rejection note. */
typedef struct object {
    const char *sop_class, *modality, *series_uid, *sop_uid;
} object;

/* The instance record: the study's fields, the object's own, and the
 * destinations the study's instances go to (every <pacs> when none). */
static void instance_of(store_txn *t, const study_rec *s, const object *o, const char *path,
                        int64_t now_us, study_inst *in)
{
    memset(in, 0, sizeof *in);
    for (int i = 0; i < STUDY_F_COUNT; i++)
        cpy(in->f[i], sizeof in->f[i], s->f[i]);
    cpy(in->f[STUDY_F_SOP_UID], sizeof in->f[0], rl_str_c(o->sop_uid));
    cpy(in->f[STUDY_F_SOP_CLASS], sizeof in->f[0], rl_str_c(o->sop_class));
    cpy(in->f[STUDY_F_SERIES_UID], sizeof in->f[0], rl_str_c(o->series_uid));
    cpy(in->f[STUDY_F_MODALITY], sizeof in->f[0], rl_str_c(o->modality));
    cpy(in->f[STUDY_F_CALLING_AE], sizeof in->f[0], RL_STR("(report)"));
    cpy(in->f[STUDY_F_PATH], sizeof in->f[0], rl_str_c(path));
    in->received_us = now_us;
    for (const char *p = s->dests.p, *end = p ? p + s->dests.n : NULL; p && p < end &&
                                                                      in->ndest < RL_DICOM_SENDS_MAX;) {
        const char *bs = memchr(p, '\\', (size_t)(end - p));
        size_t n = (size_t)((bs ? bs : end) - p);
        if (n)
            cpy(in->dest[in->ndest++].ae, RL_AE_TITLE_SIZE, (rl_str){ p, n });
        p = bs ? bs + 1 : end;
    }
    if (!in->ndest) {
        recon_policy pol;
        recon_policy_load(t, &pol);
        const char *pacs[RL_MAX_PACS];
        size_t n = recon_policy_pacs(&pol, pacs, RL_MAX_PACS);
        for (size_t i = 0; i < n && in->ndest < RL_DICOM_SENDS_MAX; i++)
            cpy(in->dest[in->ndest++].ae, RL_AE_TITLE_SIZE, rl_str_c(pacs[i]));
    }
}

/* The latest report of the study before message seq, of the same
 * accession: the one this one amends (a correction, or a second final). */
typedef struct before {
    uint64_t seq, found;
    rl_str accession;
} before;

static int latest_before(void *ctx, const report_rec *r)
{
    before *b = ctx;
    if (r->seq < b->seq && r->seq > b->found && rl_str_eq(r->accession, b->accession))
        b->found = r->seq;
    return 0;
}

/* The names of report seq's objects in a study: the same names always, so
 * that a retry rewrites the same objects. */
static void uid_of(const char *what, const char *study_uid, uint64_t seq, char out[RL_UID_SIZE])
{
    char name[RL_UID_SIZE + 64];
    if (seq)
        snprintf(name, sizeof name, "%s:%s:%llu", what, study_uid, (unsigned long long)seq);
    else
        snprintf(name, sizeof name, "%s-series:%s", what, study_uid);
    digest_uid_from_name(name, out);
}

void report_object_uids(const char *study_uid, uint64_t seq, char sr[RL_UID_SIZE],
                        char pdf[RL_UID_SIZE], char kos[RL_UID_SIZE])
{
    uid_of("report", study_uid, seq, sr);
    uid_of("report-pdf", study_uid, seq, pdf);
    /* dicom_write_rejection's name for its salt "report-SEQ" */
    char name[RL_UID_SIZE + 64];
    snprintf(name, sizeof name, "kos:%s:report-%llu", study_uid, (unsigned long long)seq);
    digest_uid_from_name(name, kos);
}

/* Which objects a report makes: an SR when it has text (unless a PDF
 * replaces it), a PDF when it carries one. */
static bool makes_sr(bool texts, bool pdf, uint8_t opts)
{
    return texts && !(pdf && (opts & REPORT_OPT_PDF_ONLY));
}

/* The previous report's objects: its SR as this SR's predecessor, and
 * every object of it for a rejection note. */
typedef struct prior {
    uint64_t seq;
    dicom_ref refs[2];
    char sop[2][RL_UID_SIZE], series[2][RL_UID_SIZE];
    size_t n;
} prior;

static int predecessor(store_txn *t, uint64_t seq, const report *r, dicom_report_study *d,
                       prior *pr, rl_err *err)
{
    before b = { seq, 0, rl_str_c(r->accession) };
    int rc = report_each_of_study(t, rl_str_c(d->study_uid), latest_before, &b, err);
    memset(pr, 0, sizeof *pr);
    if (rc != STORE_OK || !b.found)
        return rc;
    report_rec prev;
    if ((rc = report_get(t, b.found, &prev, err)) != STORE_OK)
        return rc;
    pr->seq = b.found;
    char kos[RL_UID_SIZE];
    if (makes_sr(prev.ntexts > 0, prev.pdf, prev.opts)) {
        dicom_report_ref *p = &d->predecessor;
        snprintf(p->sop_class, sizeof p->sop_class, "%s",
                 prev.opts & REPORT_OPT_ENHANCED ? ESR_CLASS : SR_CLASS);
        cpy(p->study_uid, sizeof p->study_uid, rl_str_c(d->study_uid));
        report_object_uids(d->study_uid, b.found, p->sop_uid, pr->sop[1], kos);
        uid_of("report", d->study_uid, 0, p->series_uid);
        pr->refs[pr->n++] = (dicom_ref){ p->sop_class, p->sop_uid, p->series_uid };
    }
    if (prev.pdf) {
        char sr[RL_UID_SIZE];
        report_object_uids(d->study_uid, b.found, sr, pr->sop[1], kos);
        uid_of("report-pdf", d->study_uid, 0, pr->series[1]);
        pr->refs[pr->n++] = (dicom_ref){ PDF_CLASS, pr->sop[1], pr->series[1] };
    }
    return STORE_OK;
}

/* The report of message seq read again from the log. */
static int read_report(store_txn *t, uint64_t seq, hl7_msg *m, rl_arena *a, report *r,
                       rl_err *err)
{
    msglog_rec mr = MSGLOG_REC_INIT;
    int rc = msglog_get(t, seq, &mr, err);
    /* the record's view lives until the next write: the message keeps a copy */
    char *raw = rc ? NULL : rl_arena_alloc(a, mr.raw.n ? mr.raw.n : 1);
    if (raw)
        memcpy(raw, mr.raw.p, mr.raw.n);
    size_t n = mr.raw.n;
    msglog_rec_free(&mr);
    if (rc)
        return rc;
    if (!raw)
        return rl_err_set(err, RL_E_NOMEM, -1, "out of memory");
    rc = hl7_parse(m, raw, n, err);
    return rc ? rc : report_from_hl7(m, a, r, err);
}

/* The seqs of the reports just linked. */
typedef struct linked {
    uint64_t *seq;
    uint8_t *opts;
    size_t n, cap;
    bool oom;
} linked;

static int take_linked(void *ctx, const report_rec *r)
{
    linked *l = ctx;
    if (l->n == l->cap) {
        size_t cap = l->cap ? 2 * l->cap : 8;
        uint64_t *more = realloc(l->seq, cap * sizeof *more);
        if (more)
            l->seq = more;
        uint8_t *mopts = more ? realloc(l->opts, cap) : NULL;
        if (!mopts) {
            l->oom = true;
            return 1;
        }
        l->opts = mopts;
        l->cap = cap;
    }
    l->opts[l->n] = r->opts;
    l->seq[l->n++] = r->seq;
    return 0;
}

int report_file_arrived(store_txn *t, const report_ctx *cx, rl_str study_uid, rl_str accession,
                        int64_t now_us, unsigned *n, rl_err *err)
{
    linked l = { 0 };
    int rc = report_study_arrived(t, study_uid, accession, take_linked, &l, n, err);
    if (rc == STORE_OK && l.oom)
        rc = rl_err_set(err, RL_E_NOMEM, -1, "out of memory");
    /* each in a nested transaction: a report that cannot be filed (its
     * message gone to retention, a text the SR cannot hold) is said and
     * left linked, and never costs the instance that arrived */
    for (size_t i = 0; rc == STORE_OK && i < l.n; i++) {
        store_txn *nt;
        if ((rc = store_begin(NULL, t, true, &nt, err)) != STORE_OK)
            break;
        rl_err why;
        rl_err_clear(&why);
        if (report_file(nt, cx, cx->routes ? *cx->routes : NULL, l.seq[i], NULL, l.opts[i],
                        study_uid, now_us, &why) == 0) {
            rc = store_commit(nt, err);
            continue;
        }
        store_abort(nt);
        log_warn("report.file_failed", "report=%llu study=%.*s", (unsigned long long)l.seq[i],
                 (int)study_uid.n, study_uid.p);
        log_debug("report.file_failed_why", "report=%llu error=\"%s\"",
                  (unsigned long long)l.seq[i], why.msg);
    }
    free(l.seq);
    free(l.opts);
    return rc;
}

/* Where an object goes: the <dicom-routes>' decision on it (their
 * programs kept once in the store; held when they hold it), or, when no
 * route takes it, where the study's instances go (instance_of). The
 * routes' <on-receive> coercions, if any, are written into the file. */
static int route_object(store_txn *t, const report_ctx *cx, const route_set *rs,
                        const char *path, study_inst *in, rl_err *err)
{
    if (!rs || !cx->io || !route_dicom_present(rs))
        return 0;
    dicom_ds *ds;
    if (dicom_ds_open(path, &ds, err) != 0)
        return -1;
    route_dcm_who who = { cx->ae ? cx->ae : "RADLINK", cx->ae ? cx->ae : "RADLINK" };
    route_dicom_decision d;
    int rc = route_dicom_receive(rs, cx->io, ds, &who, &d, NULL, err);
    if (rc == ROUTE_OK && d.changed && !d.receive_failed) {
        dicom_saved saved;
        char tmp[RL_DATA_PATH_MAX + 3 * RL_UID_SIZE + 16];
        snprintf(tmp, sizeof tmp, "%s.part", path);
        rc = dicom_ds_save(ds, tmp, ROUTE_TS_KEEP, "COERCE", &saved, err);
        if (rc == 0 && (rl_sync_path(tmp, O_RDONLY) != 0 || rename(tmp, path) != 0))
            rc = rl_err_set(err, RL_E_SYS, -1, "%s: %s", path, strerror(errno));
        if (rc)
            unlink(tmp);
    }
    if (rc == ROUTE_OK && d.held) {
        in->held = true;
        in->ndest = 0;
        snprintf(in->held_why, sizeof in->held_why, "%.*s", (int)sizeof in->held_why - 1, d.why);
    } else if (rc == ROUTE_OK && d.routed) {
        in->ndest = 0;
        for (size_t i = 0; rc == 0 && i < d.nsends && in->ndest < RL_DICOM_SENDS_MAX; i++) {
            study_dest *sd = &in->dest[in->ndest++];
            memset(sd, 0, sizeof *sd);
            snprintf(sd->ae, sizeof sd->ae, "%s", d.sends[i].to);
            rc = study_prog_put(t, (rl_str){ d.progs.data + d.sends[i].prog_off,
                                             d.sends[i].prog_len }, &sd->prog, err);
        }
    }
    route_dicom_decision_free(&d);
    dicom_ds_free(ds);
    return rc;
}

/* One object of the report: written, routed, indexed as an instance of
 * the study, reconciled like one. */
static int file_object(store_txn *t, const report_ctx *cx, const route_set *rs, const report *r,
                       dicom_report_kind k, const study_rec *s, dicom_report_study *d,
                       int64_t now_us, study_inst *in, rl_err *err)
{
    char path[RL_DATA_PATH_MAX + 3 * RL_UID_SIZE + 8];
    int rc = write_object(r, k, d, cx->spool, path, sizeof path, err);
    if (rc == 0) {
        object o = { k == DICOM_REPORT_PDF ? PDF_CLASS : r->nnums ? ESR_CLASS : SR_CLASS,
                     k == DICOM_REPORT_SR ? "SR" : "DOC", d->series_uid, d->sop_uid };
        instance_of(t, s, &o, path, now_us, in);
        rc = route_object(t, cx, rs, path, in, err);
    }
    if (rc == 0) {
        bool existed;
        rc = study_put_instance(t, in, &existed, err);
    }
    if (rc == 0) {
        recon_out out;
        rc = recon_after_store(t, in, now_us, &out, err);
    }
    return rc;
}

/* update="iocm": the amended report's objects rejected by a Key Object
 * Selection (113001, "Rejected for Quality Reasons"), an instance of the
 * study like the report, written beside the object like (its patient and
 * study). */
static int file_rejection(store_txn *t, const report_ctx *cx, const route_set *rs, uint64_t seq,
                          const prior *pr, const study_rec *s, const char *like, int64_t now_us,
                          study_inst *in, rl_err *err)
{
    const char *spool = cx->spool;
    char salt[sizeof "report-" + RL_NUM_TEXT_MAX];
    snprintf(salt, sizeof salt, "report-%llu", (unsigned long long)seq);
    char tmp[RL_DATA_PATH_MAX + RL_UID_SIZE + 48], path[RL_DATA_PATH_MAX + 3 * RL_UID_SIZE + 8];
    char series_dir[RL_DATA_PATH_MAX + 2 * RL_UID_SIZE + 4];
    cpy(tmp, sizeof tmp, rl_str_c(spool));
    snprintf(tmp + strlen(tmp), sizeof tmp - strlen(tmp), "/%.*s/%s.kos.part",
             (int)s->f[STUDY_F_STUDY_UID].n, s->f[STUDY_F_STUDY_UID].p, salt);
    dicom_file_info kos;
    int rc = dicom_write_rejection(tmp, like, "113001", "Rejected for Quality Reasons", pr->refs,
                                   pr->n, salt, &kos, err);
    if (rc == 0) {
        snprintf(series_dir, sizeof series_dir, "%.*s/%.*s/%s", RL_DATA_PATH_MAX - 1, spool,
                 (int)s->f[STUDY_F_STUDY_UID].n, s->f[STUDY_F_STUDY_UID].p, kos.series_uid);
        snprintf(path, sizeof path, "%s/%s.dcm", series_dir, kos.sop_uid);
        rc = dir(series_dir, err);
    }
    if (rc == 0 && (rl_sync_path(tmp, O_RDONLY) != 0 || rename(tmp, path) != 0 ||
                    rl_sync_path(series_dir, O_RDONLY | O_DIRECTORY) != 0))
        rc = rl_err_set(err, RL_E_SYS, -1, "%s: %s", path, strerror(errno));
    if (rc) {
        unlink(tmp);
        return rc;
    }
    object o = { KOS_CLASS, "KO", kos.series_uid, kos.sop_uid };
    instance_of(t, s, &o, path, now_us, in);
    rc = route_object(t, cx, rs, path, in, err);
    bool existed;
    if (rc == 0)
        rc = study_put_instance(t, in, &existed, err);
    if (rc == 0) {
        recon_out out;
        rc = recon_after_store(t, in, now_us, &out, err);
    }
    return rc;
}

int report_file(store_txn *t, const report_ctx *cx, const route_set *rs, uint64_t seq,
                const report *given, uint8_t opts, rl_str study_uid, int64_t now_us, rl_err *err)
{
    hl7_msg m;
    hl7_msg_init(&m, NULL);
    rl_arena a;
    rl_arena_init(&a, 1 << 16, 0);
    report *r = calloc(1, sizeof *r);
    study_rec *s = calloc(1, sizeof *s);
    dicom_report_study *d = calloc(1, sizeof *d);
    study_inst *in = calloc(1, sizeof *in);
    prior *pr = calloc(1, sizeof *pr);
    /* in: read into for each evidence instance, then the objects' own record */
    evidence ev = { t, calloc(EVIDENCE_MAX, sizeof *ev.v), 0, in };
    int rc = !(r && s && d && in && pr && ev.v) ? rl_err_set(err, RL_E_NOMEM, -1, "out of memory")
             : given                            ? (*r = *given, 0)
                                                : read_report(t, seq, &m, &a, r, err);
    if (rc == 0)
        rc = study_get(t, study_uid, s, err);
    if (rc == 0)
        rc = study_index_each(t, 'I', study_uid, take_instance, &ev, err);
    if (rc == 0) {
        study_of(s, d);
        d->evidence = ev.v;
        d->nevidence = ev.n;
        d->series_number = 999;
        d->instance_number = (unsigned)(seq % 100000);
        rc = predecessor(t, seq, r, d, pr, err);
    }
    bool sr = makes_sr(r && r->ntexts, r && r->pdf.n, opts);
    char kos[RL_UID_SIZE], like[RL_DATA_PATH_MAX + 3 * RL_UID_SIZE + 8] = "";
    if (rc == 0 && sr) {
        report_object_uids(d->study_uid, seq, d->sop_uid, kos, kos);
        uid_of("report", d->study_uid, 0, d->series_uid);
        rc = file_object(t, cx, rs, r, DICOM_REPORT_SR, s, d, now_us, in, err);
        cpy(like, sizeof like, rl_str_c(in->f[STUDY_F_PATH]));
    }
    if (rc == 0 && r->pdf.n) {
        char sr_uid[RL_UID_SIZE];
        report_object_uids(d->study_uid, seq, sr_uid, d->sop_uid, kos);
        uid_of("report-pdf", d->study_uid, 0, d->series_uid);
        d->series_number = 998;
        rc = file_object(t, cx, rs, r, DICOM_REPORT_PDF, s, d, now_us, in, err);
        if (!like[0])
            cpy(like, sizeof like, rl_str_c(in->f[STUDY_F_PATH]));
    }
    if (rc == 0 && (opts & REPORT_OPT_IOCM) && pr->n)
        rc = file_rejection(t, cx, rs, seq, pr, s, like, now_us, in, err);
    free(ev.v);
    free(pr);
    free(in);
    free(d);
    free(s);
    free(r);
    rl_arena_free(&a);
    hl7_msg_free(&m);
    return rc;
}
