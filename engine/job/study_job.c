/* A study job in a worker (study_job.h).
 *
 * 1. Which instances each PACS already holds, for the PACS whose update
 *    strategy depends on it (hl7, iocm): C-FIND at image level.
 * 2. Every file that disagrees with the target is corrected into the
 *    attempt's work directory: in place (same UIDs, the old values recorded
 *    in the file), or, when an iocm PACS holds it, as a new instance.
 * 3. Per PACS: the files its strategy sends (all of them; those it does not
 *    hold; the new instances and a rejection note for the ones it holds).
 * 4. Per PACS, what its verify setting asks: storage commitment for every
 *    instance sent (the report comes through the engine), then C-FIND: does
 *    the PACS show what the RIS says?
 * A PACS that cannot be reached or refuses an instance fails the attempt
 * (tried again); one that took everything but shows something else makes it
 * unverified, with what it shows and what to do. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "radlink/dicom.h"
#include "radlink/digest.h"
#include "radlink/log.h"
#include "radlink/pn.h"
#include "radlink/recon_job.h"
#include "radlink/route_dicom.h"
#include "study_job.h"

/* Hints in texts are cut: a job record keeps RL_JOB_TEXT_MAX bytes. */
#define LIST_MAX 5

/* ---- SOP Instance UIDs a PACS holds ---- */

typedef struct uidset {
    char **u;
    size_t n, cap;
    bool nomem;
} uidset;

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int uidset_add(void *ctx, const char *sop)
{
    uidset *s = ctx;
    if (s->n == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 64;
        char **n = realloc(s->u, cap * sizeof *n);
        if (!n) {
            s->nomem = true;
            return 1;
        }
        s->u = n;
        s->cap = cap;
    }
    if (!(s->u[s->n] = strdup(sop))) {
        s->nomem = true;
        return 1;
    }
    s->n++;
    return 0;
}

/* Sorted, for uidset_has (qsort of an empty set would pass NULL). */
static void uidset_sort(uidset *s)
{
    if (s->n)
        qsort(s->u, s->n, sizeof *s->u, cmp_str);
}

static bool uidset_has(const uidset *s, const char *sop)
{
    return s->n && bsearch(&sop, s->u, s->n, sizeof *s->u, cmp_str) != NULL;
}

static void uidset_free(uidset *s)
{
    for (size_t i = 0; i < s->n; i++)
        free(s->u[i]);
    free(s->u);
    memset(s, 0, sizeof *s);
}

/* ---- the attempt ---- */

typedef struct file_state {
    const char *in, *out; /* out: the corrected copy, NULL when none was needed */
    dicom_corrected c;
    bool bad; /* the spooled file cannot be read whole: left out, named in the result */
    /* the node's DICOM route program run on it: the copy sent (NULL: in or
     * out as they are), its UIDs as sent; or left out, the program failed */
    const char *send;
    dicom_file_info sent;
    bool refused;
} file_state;

/* What a node must show of the study, read from the first copy sent: with
 * route programs, what was sent is not the RIS's target (a coerced or
 * de-identified patient). Only what the program changed is taken from the
 * copy; the rest is checked as without programs (the RIS's values), so that
 * a value the node indexes its own way (a name's ideographic groups) is
 * not asked of it because a program set another attribute. */
typedef struct expect {
    bool set;
    bool changed[7];       /* the program changed it */
    char v[7][RL_PN_SIZE]; /* in the order of expect_kw */
} expect;
static const char *const expect_kw[7] = { "PatientID", "IssuerOfPatientID", "PatientName",
                                          "PatientBirthDate", "PatientSex", "AccessionNumber",
                                          "StudyInstanceUID" };

typedef struct run {
    const job_msg *m;
    const char *ae;
    study_link *link;
    rl_arena *a;
    rl_buf *res;
    char *work;
    dicom_change ch[RL_JOB_SETS_MAX];
    file_state *f;
    uidset held[RL_MAX_PACS]; /* per PACS, when its strategy needs it */
    bool asked[RL_MAX_PACS];
    char study_uid[RL_UID_SIZE]; /* as the files have it now */
    rl_buf problems;          /* unverified: per PACS, what and why */
    expect ex;                /* with route programs: what the node must show */
    unsigned coerced, refused, lossy; /* files a program ran on, left out, lossy */
    char refused_why[RL_ROUTE_TEXT];  /* why the first one was left out */
    rl_buf notes;             /* conversions and fallbacks, for the result */
    bool no_commit[RL_MAX_PACS]; /* its storage commitment was refused: C-FIND alone */
} run;

static dicom_peer peer_of(const job_peer *p)
{
    dicom_peer d;
    snprintf(d.ae_title, sizeof d.ae_title, "%.*s", RL_STR_FMT(p->ae_title));
    snprintf(d.host, sizeof d.host, "%.*s", RL_STR_FMT(p->host));
    d.port = p->port;
    d.tls = (dicom_tls){ .on = p->tls };
    snprintf(d.tls.ca, sizeof d.tls.ca, "%.*s", RL_STR_FMT(p->tls_ca));
    snprintf(d.tls.cert, sizeof d.tls.cert, "%.*s", RL_STR_FMT(p->tls_cert));
    snprintf(d.tls.key, sizeof d.tls.key, "%.*s", RL_STR_FMT(p->tls_key));
    d.associations = p->associations;
    return d;
}

static const char *target(const run *r, const char *keyword)
{
    for (size_t k = 0; r->ex.set && k < 7; k++)
        if (r->ex.changed[k] && strcmp(expect_kw[k], keyword) == 0)
            return r->ex.v[k];
    for (size_t i = 0; i < r->m->n_sets; i++)
        if (rl_str_eq_c(r->m->sets[i].keyword, keyword))
            return r->ch[i].value;
    return NULL;
}

/* Does an iocm PACS hold this instance (then its copy is a new instance)? */
static bool iocm_holds(void *ctx, const char *sop)
{
    run *r = ctx;
    for (size_t p = 0; p < r->m->n_pacs; p++)
        if (r->m->pacs[p].update == PACS_UPDATE_IOCM && uidset_has(&r->held[p], sop))
            return true;
    return false;
}

/* The corrected copies must be on disk before the engine renames them over
 * the spool files (a DONE or UNVERIFIED outcome), not before they are sent:
 * one syncfs of the work directory's file system once the sends are done
 * commits them all in one journal transaction (one fdatasync per copy, with
 * small files, cost a journal commit each: 4 ms). */
static int sync_copies(run *r)
{
    int fd = open(r->work, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0 || syncfs(fd) != 0) {
        rl_buf_reset(r->res);
        rl_buf_printf(r->res, "syncing the corrected copies in %s: %s", r->work, strerror(errno));
        if (fd >= 0)
            close(fd);
        return STUDY_JOB_FAILED;
    }
    close(fd);
    return 0;
}

/* Ask each PACS which instances of the study it holds. hl7 and iocm need
 * the answer. For resend it is asked on an automatic retry only (attempt
 * 2 and later): what an earlier attempt of this job stored and the job
 * leaves as it is is verified again, not sent again; a PACS that does not
 * answer (down, C-FIND refused) gets every instance. A first attempt, and
 * an administrator's retry (attempts start again), send everything: after
 * an unverified outcome the PACS may hold stale values under the same
 * UIDs, which only a new send replaces. */
static int ask_held(run *r)
{
    rl_err err;
    for (size_t p = 0; p < r->m->n_pacs; p++) {
        dicom_peer peer = peer_of(&r->m->pacs[p]);
        bool needed = r->m->pacs[p].update != PACS_UPDATE_RESEND;
        if (!needed && r->m->attempt <= 1)
            continue;
        if (dicom_find_instances(r->ae, &peer, r->study_uid, uidset_add, &r->held[p], &err) != 0) {
            if (!needed) {
                uidset_free(&r->held[p]);
                continue;
            }
            rl_buf_printf(r->res, "asking %s which instances it holds: %s", peer.ae_title,
                          err.msg);
            return STUDY_JOB_FAILED;
        }
        if (r->held[p].nomem) {
            rl_buf_add_c(r->res, "out of memory");
            return STUDY_JOB_FAILED;
        }
        uidset_sort(&r->held[p]);
        r->asked[p] = true;
    }
    return 0;
}

/* The files of a study are corrected by up to CORRECT_THREADS threads at
 * once, each taking every CORRECT_THREADS-th file: a file's correction
 * touches only its own paths and result (the options are read-only), and a
 * worker's host has cores to spare while it rewrites. A study of fewer than
 * CORRECT_PARALLEL_MIN files is corrected in the worker's own thread. */
#define CORRECT_THREADS 2
#define CORRECT_PARALLEL_MIN 16

typedef struct correct_share {
    run *r;
    const dicom_correct_opts *o;
    rl_err *errs; /* one per file */
    int *rcs;
    size_t first, step;
} correct_share;

static void *correct_some(void *arg)
{
    correct_share *c = arg;
    for (size_t i = c->first; i < c->r->m->n_files; i += c->step) {
        file_state *f = &c->r->f[i];
        c->rcs[i] = dicom_correct_file(f->in, f->out, c->r->ch, c->r->m->n_sets, c->o, &f->c,
                                       &c->errs[i]);
    }
    return NULL;
}

static int correct_all(run *r)
{
    const job_msg *m = r->m;
    char salt[sizeof "job " + RL_NUM_TEXT_MAX];
    snprintf(salt, sizeof salt, "job %llu", (unsigned long long)m->id);
    dicom_correct_opts o = { .modifying_system = "radlink", .new_uid_salt = salt,
                             .new_uids_for = iocm_holds, .ctx = r };
    rl_err *errs = m->n_files ? calloc(m->n_files, sizeof *errs) : NULL;
    int *rcs = m->n_files ? calloc(m->n_files, sizeof *rcs) : NULL;
    if (m->n_files && (!errs || !rcs)) {
        free(errs);
        free(rcs);
        rl_buf_add_c(r->res, "out of memory");
        return STUDY_JOB_FAILED;
    }
    for (size_t i = 0; i < m->n_files; i++) {
        file_state *f = &r->f[i];
        f->in = rl_arena_dup(r->a, m->files[i].path.p, m->files[i].path.n);
        size_t on = m->work_dir.n + m->files[i].sop.n + 8;
        char *out = rl_arena_alloc(r->a, on);
        if (!f->in || !out) {
            free(errs);
            free(rcs);
            rl_buf_add_c(r->res, "out of memory");
            return STUDY_JOB_FAILED;
        }
        snprintf(out, on, "%s/%.*s.dcm", r->work, RL_STR_FMT(m->files[i].sop));
        f->out = out; /* where the copy goes; kept below only when it changed */
    }
    correct_share share[CORRECT_THREADS];
    pthread_t th[CORRECT_THREADS];
    bool spawned[CORRECT_THREADS] = { false };
    size_t k = m->n_files >= CORRECT_PARALLEL_MIN ? CORRECT_THREADS : 1;
    for (size_t t = 0; t < k; t++) {
        share[t] = (correct_share){ r, &o, errs, rcs, t, k };
        if (t > 0) /* the others beside this thread */
            spawned[t] = pthread_create(&th[t], NULL, correct_some, &share[t]) == 0;
    }
    correct_some(&share[0]);
    for (size_t t = 1; t < k; t++) /* a share whose thread could not start: here */
        if (spawned[t])
            pthread_join(th[t], NULL);
        else
            correct_some(&share[t]);
    int rc = 0;
    for (size_t i = 0; i < m->n_files; i++) {
        file_state *f = &r->f[i];
        if (rcs[i] != 0) {
            rl_err why;
            if (dicom_file_check(f->in, &why) == 0) { /* the file is fine: try again */
                rl_buf_printf(r->res, "correcting: %s", errs[i].msg);
                rc = STUDY_JOB_FAILED;
                break;
            }
            /* one instance that cannot be read never holds its study back:
             * the others go, and the job says which one stayed */
            f->bad = true;
            f->out = NULL;
            memset(&f->c, 0, sizeof f->c);
            rl_buf_printf(&r->problems, "%sinstance %.*s left out: %s",
                          r->problems.len ? "; " : "", RL_STR_FMT(m->files[i].sop), why.msg);
            log_warn("worker.instance_unreadable", "job=%llu sop=%.*s error=\"%s\"",
                     (unsigned long long)m->id, RL_STR_FMT(m->files[i].sop), why.msg);
            continue;
        }
        if (!f->c.changed)
            f->out = NULL;
    }
    free(errs);
    free(rcs);
    return rc;
}

/* The new UIDs, for the engine to record. */
static int write_uid_map(run *r)
{
    rl_buf b;
    rl_buf_init(&b, 0);
    for (size_t i = 0; i < r->m->n_files; i++) {
        const dicom_corrected *c = &r->f[i].c;
        if (r->f[i].out && strcmp(c->was.sop_uid, c->now.sop_uid) != 0)
            rl_buf_printf(&b, "%s %s %s %s\n", c->was.sop_uid, c->now.sop_uid, c->was.series_uid,
                          c->now.series_uid);
    }
    int rc = 0;
    if (b.len) {
        char path[RL_WORK_PATH_MAX];
        snprintf(path, sizeof path, "%s/" STUDY_JOB_UID_MAP, r->work);
        rl_err err;
        rc = rl_write_file(path, rl_buf_view(&b), &err);
        if (rc)
            rl_buf_printf(r->res, "%s", err.msg);
    }
    rl_buf_free(&b);
    return rc;
}

/* ---- the node's DICOM route programs ---- */

static int first_value(void *ctx, rl_str v)
{
    char *out = ctx;
    snprintf(out, RL_PN_SIZE, "%.*s", RL_STR_FMT(v));
    return 1;
}

/* The attributes a node is checked on, as ds has them. */
static void expect_read(dicom_ds *ds, char v[7][RL_PN_SIZE])
{
    rl_err err;
    for (size_t k = 0; k < 7; k++) {
        v[k][0] = '\0';
        dicom_path p;
        if (dicom_dict.path_parse(expect_kw[k], &p, &err) == 0)
            dicom_ds_io.get(ds, &p, first_value, v[k]);
    }
}

/* What the node must show: the copy's own values where its program
 * changed them (the first copy sent); before: as they were. */
static void expect_from(run *r, dicom_ds *ds, char before[7][RL_PN_SIZE])
{
    expect_read(ds, r->ex.v);
    for (size_t k = 0; k < 7; k++)
        r->ex.changed[k] = strcmp(before[k], r->ex.v[k]) != 0;
    r->ex.set = true;
}

/* Run the file's program on a copy of what would be sent (the corrected
 * copy, or the spool file), into WORK/SOP.send.dcm. A program that cannot
 * be made on this instance leaves it out (it goes on the exception list);
 * anything else fails the attempt. */
static int coerce_one(run *r, size_t i, rl_buf *failed)
{
    const job_msg *m = r->m;
    file_state *f = &r->f[i];
    rl_str prog = m->progs[m->files[i].prog - 1];
    rl_err err;
    dicom_ds *ds = NULL;
    const char *from = f->out ? f->out : f->in;
    if (dicom_ds_open(from, &ds, &err) != 0) {
        rl_buf_printf(r->res, "reading %s for its DICOM route: %s", from, err.msg);
        return STUDY_JOB_FAILED;
    }
    if (m->secret.n == DICOM_DEID_SECRET_SIZE)
        dicom_ds_set_secret(ds, (const uint8_t *)m->secret.p);
    route_prog_info info;
    char before[7][RL_PN_SIZE];
    if (!r->ex.set)
        expect_read(ds, before);
    int rc = route_dicom_prog_info(prog, &info, &err);
    if (rc == 0)
        rc = route_dicom_prog_apply(prog, &dicom_ds_io, ds, NULL, &err);
    if (rc == ROUTE_E_COERCE || rc == DICOM_E_BURNED_IN || rc == DICOM_E_VALUE ||
        rc == DICOM_E_CODEC) {
        f->refused = true;
        if (r->refused++ == 0)
            snprintf(r->refused_why, sizeof r->refused_why, "%s", err.msg);
        rl_buf_printf(failed, "%.*s\t%s\n", RL_STR_FMT(m->files[i].sop), err.msg);
        /* the reason may quote a value of the patient's: debug only (log.h) */
        log_warn("worker.route_refused", "job=%llu sop=%.*s", (unsigned long long)m->id,
                 RL_STR_FMT(m->files[i].sop));
        log_debug("worker.route_refused_why", "job=%llu error=\"%s\"", (unsigned long long)m->id,
                  err.msg);
        dicom_ds_free(ds);
        return 0;
    }
    size_t on = strlen(r->work) + m->files[i].sop.n + sizeof "/.send.dcm";
    char *out = rl_arena_alloc(r->a, on);
    dicom_saved saved;
    if (rc == 0 && !out)
        rc = rl_err_set(&err, RL_E_NOMEM, -1, "out of memory");
    if (rc == 0) {
        snprintf(out, on, "%s/%.*s.send.dcm", r->work, RL_STR_FMT(m->files[i].sop));
        rc = dicom_ds_save(ds, out, info.ts, "COERCE", &saved, &err);
        if (rc == DICOM_E_CODEC) { /* this instance cannot take that syntax */
            f->refused = true;
            if (r->refused++ == 0)
                snprintf(r->refused_why, sizeof r->refused_why, "%s", err.msg);
            rl_buf_printf(failed, "%.*s\t%s\n", RL_STR_FMT(m->files[i].sop), err.msg);
            dicom_ds_free(ds);
            return 0;
        }
    }
    if (rc == 0 && !r->ex.set)
        expect_from(r, ds, before);
    dicom_ds_free(ds);
    if (rc != 0) {
        rl_buf_printf(r->res, "DICOM route of %.*s: %s", RL_STR_FMT(m->files[i].sop), err.msg);
        return STUDY_JOB_FAILED;
    }
    f->send = out;
    f->sent = saved.now;
    r->coerced++;
    r->lossy += saved.lossy;
    if (saved.note[0] && r->notes.len < RL_JOB_TEXT_MAX / 2)
        rl_buf_printf(&r->notes, "%s%s", r->notes.len ? "; " : "", saved.note);
    return 0;
}

static int coerce_all(run *r)
{
    rl_buf failed;
    rl_buf_init(&failed, 0);
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < r->m->n_files; i++)
        if (r->m->files[i].prog && !r->f[i].bad)
            rc = coerce_one(r, i, &failed);
    if (rc == 0 && failed.len) {
        char path[RL_WORK_PATH_MAX];
        snprintf(path, sizeof path, "%s/" RECON_JOB_FAILED_LIST, r->work);
        rl_err err;
        if (rl_write_file(path, rl_buf_view(&failed), &err) != 0) {
            rl_buf_printf(r->res, "%s", err.msg);
            rc = STUDY_JOB_FAILED;
        }
    }
    rl_buf_free(&failed);
    return rc;
}

/* ---- verification ---- */

/* One attribute the PACS shows against the target: appended to why when it
 * differs. */
static void compare(rl_buf *why, const char *kw, const char *shows, const char *should, bool pn)
{
    if (!should || !should[0])
        return;
    bool same = pn ? pn_agree(rl_str_c(shows), rl_str_c(should)) : strcmp(shows, should) == 0;
    if (!same)
        rl_buf_printf(why, "%s%s=%s (should be %s)", why->len ? ", " : "", kw,
                      shows[0] ? shows : "(empty)", should);
}

static const char *remedy(const job_peer *p)
{
    switch (p->update) {
    case PACS_UPDATE_HL7:
        return "it has not applied the ADT forwarded to its HL7 listener: check that listener, "
               "and what waits in radlink's queue for it (radlink queue list)";
    case PACS_UPDATE_IOCM:
        return "it does not act on IOCM rejection notes, or keeps the values it first indexed: "
               "set update=\"hl7\" for this PACS if it takes ADT, or correct the study at the PACS";
    default:
        return "it keeps instances it has (it does not overwrite them), or keeps the values it "
               "first indexed: set update=\"iocm\" or update=\"hl7\" for this PACS, or let it "
               "overwrite";
    }
}

/* Does the PACS show the study as the RIS says? "" when it does. */
static int check_find(run *r, size_t p, rl_buf *why)
{
    const job_peer *jp = &r->m->pacs[p];
    dicom_peer peer = peer_of(jp);
    const char *uid = target(r, "StudyInstanceUID");
    if (!uid)
        uid = r->study_uid;
    dicom_study_row rows[RL_VERIFY_STUDY_ROWS];
    size_t n = 0;
    rl_err err;
    /* a PACS applies an ADT when it comes: give it a few seconds */
    unsigned tries = jp->update == PACS_UPDATE_HL7 ? 5 : 1;
    for (unsigned t = 0; t < tries; t++) {
        rl_buf_reset(why);
        if (t)
            sleep(2);
        if (dicom_find_studies(r->ae, &peer, uid, rows, RL_VERIFY_STUDY_ROWS, &n, &err) != 0) {
            rl_buf_printf(why, "cannot ask it what it shows: %s%s", err.msg,
                          err.code == DICOM_E_NET ? ""
                                                  : ": let this AE query it, or set "
                                                    "verify=\"none\" for this PACS");
            return err.code == DICOM_E_NET ? STUDY_JOB_FAILED : 0;
        }
        if (!n) {
            rl_buf_printf(why, "it shows no study %s", uid);
            continue;
        }
        for (size_t i = 0; i < n; i++) {
            rl_buf row;
            rl_buf_init(&row, 0);
            compare(&row, "PatientID", rows[i].patient_id, target(r, "PatientID"), false);
            compare(&row, "IssuerOfPatientID", rows[i].issuer, target(r, "IssuerOfPatientID"),
                    false);
            compare(&row, "PatientName", rows[i].patient_name, target(r, "PatientName"), true);
            compare(&row, "PatientBirthDate", rows[i].birth_date, target(r, "PatientBirthDate"),
                    false);
            compare(&row, "PatientSex", rows[i].sex, target(r, "PatientSex"), false);
            compare(&row, "AccessionNumber", rows[i].accession, target(r, "AccessionNumber"),
                    false);
            if (row.len)
                rl_buf_printf(why, "%sit shows %.*s%s", why->len ? "; " : "", (int)row.len,
                              row.data, n > 1 ? " in one of the copies of the study it holds" : "");
            rl_buf_free(&row);
        }
        if (!why->len)
            break;
    }
    if (why->len)
        rl_buf_printf(why, ": %s", remedy(jp));
    return 0;
}

/* IOCM: the rejected instances should be gone from what the PACS shows. */
static void check_rejected(run *r, size_t p, const uidset *rejected, rl_buf *why)
{
    if (!rejected->n)
        return;
    dicom_peer peer = peer_of(&r->m->pacs[p]);
    uidset now = { 0 };
    rl_err err;
    if (dicom_find_instances(r->ae, &peer, r->study_uid, uidset_add, &now, &err) != 0) {
        rl_buf_printf(why, "%scannot ask it which instances it shows: %s", why->len ? "; " : "",
                      err.msg);
        return;
    }
    size_t still = 0;
    for (size_t i = 0; i < now.n; i++)
        still += uidset_has(rejected, now.u[i]);
    if (still)
        rl_buf_printf(why, "%sit still shows %zu of the %zu instances the rejection note "
                      "rejected: it does not act on IOCM rejection notes", why->len ? "; " : "",
                      still, rejected->n);
    uidset_free(&now);
}

/* Storage commitment for what was sent; "" in why when all committed. */
static int check_commit(run *r, size_t p, const dicom_ref *refs, size_t n, rl_buf *why)
{
    const job_peer *jp = &r->m->pacs[p];
    dicom_peer peer = peer_of(jp);
    char txn[RL_UUID_UID_SIZE];
    if (digest_uid_random(txn) != 0) {
        rl_buf_add_c(why, "no randomness for a transaction UID");
        return STUDY_JOB_FAILED;
    }
    r->link->announce(r->link, txn);
    rl_err err;
    if (dicom_commit_request(r->ae, &peer, txn, refs, n, &err) != 0) {
        /* The instances were taken: a PACS that refuses the commitment (or
         * cannot be reached for it now) is not asked again by sending them
         * again. C-FIND verifies them alone, and the job says what to
         * configure. */
        r->no_commit[p] = true;
        if (r->notes.len < RL_JOB_TEXT_MAX / 2)
            rl_buf_printf(&r->notes, "%sstorage commitment %s: %s; the PACS is asked by C-FIND "
                          "alone (for commitment, declare AE %s, this engine's DICOM listener, at "
                          "the PACS as a modality that may ask for it; or set verify=\"find\")",
                          r->notes.len ? "; " : "",
                          err.code == DICOM_E_NET ? "not reachable" : "refused", err.msg, r->ae);
        return 0;
    }
    rl_buf report;
    rl_buf_init(&report, RL_JOB_REPLY_MAX * 16u);
    unsigned timeout = jp->commit_timeout_s ? jp->commit_timeout_s : RL_COMMIT_TIMEOUT_DEFAULT_S;
    if (!r->link->await(r->link, txn, timeout, &report)) {
        rl_buf_printf(why, "no storage commitment report within %u s: the PACS sends it on an "
                      "association of its own to AE %s, so it must know that AE (this engine's "
                      "DICOM listener) as a modality; or set verify=\"find\" for this PACS",
                      timeout, r->ae);
        rl_buf_free(&report);
        return 0;
    }
    uidset ok = { 0 };
    size_t failed = 0;
    rl_buf list;
    rl_buf_init(&list, 0);
    const char *s = rl_buf_cstr(&report);
    while (*s) {
        const char *nl = strchr(s, '\n');
        size_t len = nl ? (size_t)(nl - s) : strlen(s);
        char line[RL_COMMIT_LINE];
        snprintf(line, sizeof line, "%.*s", (int)(len < sizeof line ? len : sizeof line - 1), s);
        if (!strncmp(line, "ok ", 3)) {
            uidset_add(&ok, line + 3);
        } else if (!strncmp(line, "failed ", 7)) {
            if (failed++ < LIST_MAX)
                rl_buf_printf(&list, "%s%s", list.len ? ", " : "", line + 7);
        }
        s += len + (nl ? 1 : 0);
    }
    uidset_sort(&ok);
    size_t missing = 0;
    for (size_t i = 0; i < n; i++)
        missing += !uidset_has(&ok, refs[i].sop_uid);
    if (missing)
        rl_buf_printf(why, "the PACS did not commit to %zu of the %zu instances sent%s%.*s%s",
                      missing, n, failed ? " (failure reasons: " : "", (int)list.len,
                      list.data ? list.data : "", failed ? ")" : "");
    rl_buf_free(&list);
    rl_buf_free(&report);
    uidset_free(&ok);
    return 0;
}

/* Send what this PACS takes, then verify it. STUDY_JOB_FAILED: failed (the
 * attempt is tried again); 0 with problems appended to r->problems:
 * unverified. */
/* An automatic retry whose earlier attempt stored the study: when the PACS
 * already shows what it should (the C-FIND verification), what it holds
 * under the same UIDs is that attempt's copy, corrected or not. */
static bool retry_shows_target(run *r, size_t p)
{
    const job_peer *jp = &r->m->pacs[p];
    if (r->m->attempt <= 1 || !r->asked[p] || jp->update != PACS_UPDATE_RESEND ||
        jp->verify < PACS_VERIFY_FIND)
        return false;
    rl_buf w;
    rl_buf_init(&w, RL_JOB_TEXT_MAX);
    bool shows = check_find(r, p, &w) == 0 && w.len == 0;
    rl_buf_free(&w);
    return shows;
}

static int one_pacs(run *r, size_t p, unsigned *sent_out, unsigned *kept_out)
{
    const job_msg *m = r->m;
    const job_peer *jp = &m->pacs[p];
    dicom_peer peer = peer_of(jp);
    const char **files = rl_arena_alloc(r->a, (m->n_files + 1) * sizeof *files);
    dicom_ref *refs = rl_arena_alloc(r->a, (m->n_files + 1) * sizeof *refs);
    dicom_ref *rejected = rl_arena_alloc(r->a, (m->n_files + 1) * sizeof *rejected);
    if (!files || !refs || !rejected) {
        rl_buf_add_c(r->res, "out of memory");
        return STUDY_JOB_FAILED;
    }
    size_t n = 0, nref = 0, nrej = 0;
    unsigned kept = 0;
    const char *like = NULL;
    bool shows = retry_shows_target(r, p);
    for (size_t i = 0; i < m->n_files; i++) {
        file_state *f = &r->f[i];
        if (f->bad || f->refused)
            continue;
        bool held = r->asked[p] && uidset_has(&r->held[p], f->c.was.sop_uid);
        if (held && jp->update == PACS_UPDATE_HL7)
            continue; /* the ADT updates what it holds */
        if (held && !f->send && m->attempt > 1 && (!f->out || shows)) {
            /* an automatic retry: an earlier attempt stored this instance
             * (as it is, or corrected as the PACS shows it); it is verified
             * again, not sent again */
            refs[nref++] = (dicom_ref){ f->c.now.sop_class, f->c.now.sop_uid,
                                        f->c.now.series_uid };
            kept++;
            continue;
        }
        if (held && jp->update == PACS_UPDATE_IOCM && f->out) {
            rejected[nrej++] = (dicom_ref){ f->c.was.sop_class, f->c.was.sop_uid,
                                            f->c.was.series_uid };
            like = f->in;
        }
        if (f->send) { /* the node's own copy, as its DICOM route made it */
            files[n++] = f->send;
            refs[nref++] = (dicom_ref){ f->sent.sop_class, f->sent.sop_uid, f->sent.series_uid };
            continue;
        }
        files[n++] = f->out ? f->out : f->in;
        refs[nref++] = (dicom_ref){ f->c.now.sop_class, f->c.now.sop_uid, f->c.now.series_uid };
    }
    rl_err err;
    int64_t t0 = rl_now_us();
    dicom_send_report rep;
    if (n && dicom_send_files(r->ae, &peer, files, n, &rep, &err) != 0) {
        rl_buf_printf(r->res, "sending: %s", err.msg);
        return STUDY_JOB_FAILED;
    }
    if (n && rep.fallbacks && r->notes.len < RL_JOB_TEXT_MAX / 2)
        rl_buf_printf(&r->notes, "%s%s", r->notes.len ? "; " : "", rep.note);
    uidset gone = { 0 };
    if (nrej) { /* the rejection note, once the corrected instances are there */
        char kos[RL_WORK_PATH_MAX], salt[sizeof "job  pacs " + 2 * RL_NUM_TEXT_MAX];
        snprintf(kos, sizeof kos, "%s/rejection-%zu.dcm", r->work, p);
        snprintf(salt, sizeof salt, "job %llu pacs %zu", (unsigned long long)m->id, p);
        bool safety = jp->reject == PACS_REJECT_SAFETY;
        dicom_file_info info;
        const char *path = kos;
        if (dicom_write_rejection(kos, like, safety ? "113037" : "113038",
                                  safety ? "Rejected for Patient Safety Reasons"
                                         : "Incorrect Modality Worklist Entry",
                                  rejected, nrej, salt, &info, &err) != 0 ||
            dicom_send_files(r->ae, &peer, &path, 1, NULL, &err) != 0) {
            rl_buf_printf(r->res, "rejection note: %s", err.msg);
            return STUDY_JOB_FAILED;
        }
        char *kc = rl_arena_dup(r->a, info.sop_class, strlen(info.sop_class));
        char *ku = rl_arena_dup(r->a, info.sop_uid, strlen(info.sop_uid));
        char *ks = rl_arena_dup(r->a, info.series_uid, strlen(info.series_uid));
        refs[nref++] = (dicom_ref){ kc, ku, ks };
        n++;
        for (size_t i = 0; i < nrej; i++)
            uidset_add(&gone, rejected[i].sop_uid);
        uidset_sort(&gone);
    }
    *sent_out = (unsigned)n;
    *kept_out = kept;
    rl_buf why;
    rl_buf_init(&why, RL_JOB_TEXT_MAX);
    int rc = 0;
    int64_t t1 = rl_now_us();
    if (nref && jp->verify == PACS_VERIFY_COMMIT_FIND)
        rc = check_commit(r, p, refs, nref, &why);
    int64_t t2 = rl_now_us();
    if (rc == 0 && jp->verify >= PACS_VERIFY_FIND) {
        rl_buf f;
        rl_buf_init(&f, RL_JOB_TEXT_MAX);
        rc = check_find(r, p, &f);
        if (f.len)
            rl_buf_printf(&why, "%s%.*s", why.len ? "; " : "", (int)f.len, f.data);
        rl_buf_free(&f);
        if (rc == 0 && jp->update == PACS_UPDATE_IOCM)
            check_rejected(r, p, &gone, &why);
    }
    log_debug("worker.pacs", "job=%llu pacs=%s instances=%zu send_ms=%lld commit_ms=%lld "
              "find_ms=%lld", (unsigned long long)m->id, peer.ae_title, n,
              (long long)(t1 - t0) / 1000, (long long)(t2 - t1) / 1000,
              (long long)(rl_now_us() - t2) / 1000);
    if (rc != 0) {
        rl_buf_printf(r->res, "%s: %.*s", peer.ae_title, (int)why.len, why.data ? why.data : "");
    } else if (why.len) {
        rl_buf_printf(&r->problems, "%s%s@%s:%u: %.*s", r->problems.len ? " | " : "",
                      peer.ae_title, peer.host, peer.port, (int)why.len, why.data);
    }
    rl_buf_free(&why);
    uidset_free(&gone);
    return rc;
}

int study_job_run(const job_msg *m, const char *calling_ae, study_link *link, rl_arena *arena,
                  rl_buf *result)
{
    run r = { .m = m, .ae = calling_ae, .link = link, .a = arena, .res = result };
    rl_buf_init(&r.problems, RL_JOB_TEXT_MAX);
    rl_buf_init(&r.notes, RL_JOB_TEXT_MAX);
    r.work = rl_arena_dup(arena, m->work_dir.p, m->work_dir.n);
    r.f = rl_arena_alloc(arena, (m->n_files ? m->n_files : 1) * sizeof *r.f);
    int rc = STUDY_JOB_FAILED;
    if (!r.work || !r.f) {
        rl_buf_add_c(result, "out of memory");
        goto out;
    }
    memset(r.f, 0, (m->n_files ? m->n_files : 1) * sizeof *r.f);
    if (mkdir(r.work, 0750) != 0 && errno != EEXIST) {
        rl_buf_printf(result, "work directory %s: %s", r.work, strerror(errno));
        goto out;
    }
    for (size_t i = 0; i < m->n_sets; i++)
        r.ch[i] = (dicom_change){ m->sets[i].tag,
                                  rl_arena_dup(arena, m->sets[i].value.p, m->sets[i].value.n) };
    if (m->n_files) { /* the study UID from the first file that reads */
        dicom_file_info info;
        rl_err err;
        bool found = false;
        for (size_t i = 0; i < m->n_files && !found; i++) {
            char *path = rl_arena_dup(arena, m->files[i].path.p, m->files[i].path.n);
            if (!path) {
                rl_buf_add_c(result, "out of memory");
                goto out;
            }
            found = dicom_file_info_read(path, &info, &err) == 0;
        }
        if (!found) {
            rl_buf_printf(result, "%s", err.msg);
            goto out;
        }
        snprintf(r.study_uid, sizeof r.study_uid, "%s", info.study_uid);
    }
    int64_t t0 = rl_now_us();
    if (ask_held(&r) != 0 || correct_all(&r) != 0 || write_uid_map(&r) != 0 ||
        coerce_all(&r) != 0)
        goto out;
    log_debug("worker.corrected", "job=%llu instances=%zu ms=%lld", (unsigned long long)m->id,
              m->n_files, (long long)(rl_now_us() - t0) / 1000);
    unsigned corrected = 0, renamed = 0, relabelled = 0;
    for (size_t i = 0; i < m->n_files; i++) {
        corrected += r.f[i].out != NULL;
        renamed += r.f[i].out && strcmp(r.f[i].c.was.sop_uid, r.f[i].c.now.sop_uid) != 0;
        relabelled += r.f[i].c.relabelled;
    }
    unsigned sent[RL_MAX_PACS] = { 0 }, kept[RL_MAX_PACS] = { 0 };
    for (size_t p = 0; p < m->n_pacs; p++)
        if (one_pacs(&r, p, &sent[p], &kept[p]) != 0)
            goto out;
    t0 = rl_now_us();
    if (corrected && sync_copies(&r) != 0)
        goto out;
    log_debug("worker.synced", "job=%llu ms=%lld", (unsigned long long)m->id,
              (long long)(rl_now_us() - t0) / 1000);
    /* "150 instances, 150 corrected, sent to PACS@host:104 (150), verified" */
    rl_buf_reset(result);
    if (r.problems.len) {
        rl_buf_printf(result, "sent, but %.*s", (int)r.problems.len, r.problems.data);
        if (r.notes.len)
            rl_buf_printf(result, "; %.*s", (int)r.notes.len, r.notes.data);
        rc = STUDY_JOB_UNVERIFIED;
        goto out;
    }
    rl_buf_printf(result, "%zu instance%s", m->n_files, m->n_files == 1 ? "" : "s");
    if (corrected)
        rl_buf_printf(result, ", %u corrected", corrected);
    if (renamed)
        rl_buf_printf(result, " (%u as new instances, IOCM)", renamed);
    if (relabelled)
        rl_buf_printf(result, " (%u converted to UTF-8)", relabelled);
    if (r.coerced)
        rl_buf_printf(result, ", %u by the DICOM route", r.coerced);
    if (r.refused)
        rl_buf_printf(result, ", %u left out (held, on the exception list: %s%s)", r.refused,
                      r.refused_why, r.refused == 1 ? "" : "; and others");
    for (size_t p = 0; p < m->n_pacs; p++) {
        char held[RL_NUM_TEXT_MAX + 64] = "";
        if (kept[p])
            snprintf(held, sizeof held, ", %u stored by an earlier attempt, not sent again",
                     kept[p]);
        rl_buf_printf(result, "%s %.*s@%.*s:%u (%u%s%s)", p ? "," : ", sent to",
                      RL_STR_FMT(m->pacs[p].ae_title), RL_STR_FMT(m->pacs[p].host),
                      m->pacs[p].port, sent[p], held,
                      m->pacs[p].verify == PACS_VERIFY_NONE  ? ""
                      : m->pacs[p].verify == PACS_VERIFY_FIND || r.no_commit[p]
                          ? ", verified by C-FIND"
                          : ", committed and verified");
    }
    if (!m->n_pacs)
        rl_buf_add_c(result, ", no PACS configured");
    if (r.notes.len)
        rl_buf_printf(result, "; %.*s", (int)r.notes.len, r.notes.data);
    rc = STUDY_JOB_DONE;
out:
    for (size_t p = 0; p < RL_MAX_PACS; p++)
        uidset_free(&r.held[p]);
    rl_buf_free(&r.problems);
    rl_buf_free(&r.notes);
    return rc;
}
