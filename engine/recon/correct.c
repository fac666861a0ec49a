/* Study jobs (radlink/recon_job.h): what one attempt covers, and what its
 * success changes. The worker corrects copies in the attempt's own work
 * directory and sends them; only the loop, here, moves the copies of the
 * attempt that holds the job into the spool, so a superseded attempt never
 * touches the spool. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "radlink/log.h"
#include "radlink/rec.h"
#include "radlink/receive.h"
#include "radlink/recon_job.h"
#include "radlink/study.h"
#include "radlink/wl.h"
#include "uids.h"

void recon_work_dir(const char *work_root, uint64_t job_id, uint32_t attempt, char *out, size_t n)
{
    snprintf(out, n, "%s/%llu-%u", work_root, (unsigned long long)job_id, attempt);
}

/* ---- starting an attempt ---- */

typedef struct files_ctx {
    store_txn *t;
    uint32_t gen;
    const char *ae;      /* the node the job sends to; "": the spool's copies only */
    bool pacs;           /* it is a <pacs>: legacy instances go there too */
    job_msg *msg;
    uint64_t prog_ids[RL_JOB_PROGS_MAX];
    rl_arena *a;
    size_t cap;
    int rc;
    rl_err *err;
} files_ctx;

/* The program's index + 1 in the message (stored once per job). */
static uint32_t add_prog(files_ctx *fc, uint64_t id)
{
    if (!id)
        return 0;
    job_msg *m = fc->msg;
    for (size_t i = 0; i < m->n_progs; i++)
        if (fc->prog_ids[i] == id)
            return (uint32_t)i + 1;
    if (m->n_progs == RL_JOB_PROGS_MAX) {
        fc->rc = rl_err_set(fc->err, JOB_E_PAYLOAD, -1, "more than %d DICOM route programs for "
                            "one study and node", RL_JOB_PROGS_MAX);
        return 0;
    }
    rl_str p;
    int rc = study_prog_get(fc->t, id, &p, fc->err);
    if (rc) {
        fc->rc = rc == STORE_NOTFOUND
                     ? rl_err_set(fc->err, STORE_E_CORRUPT, -1, "DICOM route program %016llx "
                                  "is not in the store", (unsigned long long)id)
                     : rc;
        return 0;
    }
    const char *copy = rl_arena_dup(fc->a, p.p, p.n);
    if (!copy) {
        fc->rc = rl_err_set(fc->err, RL_E_NOMEM, -1, "out of memory");
        return 0;
    }
    fc->prog_ids[m->n_progs] = id;
    m->progs[m->n_progs++] = (rl_str){ copy, p.n };
    return (uint32_t)m->n_progs;
}

/* Does the attempt take this instance: it goes to the node, is not there
 * at the study's generation yet, is not held, and its program did not fail
 * on it? Its program in *prog. */
static bool takes(const files_ctx *fc, study_inst *in, uint64_t *prog)
{
    *prog = 0;
    if (in->held)
        return false;
    if (!fc->ae[0]) /* no node: the spool's copy */
        return in->sent_gen != fc->gen;
    uint32_t g;
    if (!study_inst_goes(in, fc->ae, fc->pacs, &g) || g == fc->gen)
        return false;
    study_dest *d = study_inst_dest(in, fc->ae);
    if (d && (d->flags & STUDY_DEST_FAILED))
        return false;
    *prog = d ? d->prog : 0;
    return true;
}

static int add_file(void *ctx, rl_str sop)
{
    files_ctx *fc = ctx;
    study_inst *in = malloc(sizeof *in);
    if (!in) {
        fc->rc = rl_err_set(fc->err, RL_E_NOMEM, -1, "out of memory");
        return 1;
    }
    int rc = study_get_instance(fc->t, sop, in, fc->err);
    uint64_t prog;
    if (rc == STORE_OK && takes(fc, in, &prog)) {
        job_msg *m = fc->msg;
        if (m->n_files == fc->cap) {
            size_t cap = fc->cap ? fc->cap * 2 : 64;
            job_file *nf = rl_arena_alloc(fc->a, cap * sizeof *nf);
            if (!nf) {
                free(in);
                fc->rc = rl_err_set(fc->err, RL_E_NOMEM, -1, "out of memory");
                return 1;
            }
            if (m->n_files)
                memcpy(nf, m->files, m->n_files * sizeof *nf);
            m->files = nf;
            fc->cap = cap;
        }
        const char *s = rl_arena_dup(fc->a, in->f[STUDY_F_SOP_UID], strlen(in->f[STUDY_F_SOP_UID]));
        const char *p = rl_arena_dup(fc->a, in->f[STUDY_F_PATH], strlen(in->f[STUDY_F_PATH]));
        uint32_t pi = add_prog(fc, prog);
        if ((!s || !p) && fc->rc == STORE_OK)
            fc->rc = rl_err_set(fc->err, RL_E_NOMEM, -1, "out of memory");
        if (fc->rc == STORE_OK)
            m->files[m->n_files++] = (job_file){ rl_str_c(s), rl_str_c(p), pi };
    } else if (rc < 0) {
        fc->rc = rc;
    }
    free(in);
    return fc->rc != STORE_OK;
}

typedef struct sets_ctx {
    job_msg *msg;
    rl_arena *a;
} sets_ctx;

static int add_set(void *ctx, rl_str *f)
{
    sets_ctx *sc = ctx;
    char kw[RL_WL_KEYWORD_SIZE];
    snprintf(kw, sizeof kw, "%.*s", (int)(f[0].n < sizeof kw - 1 ? f[0].n : sizeof kw - 1), f[0].p);
    const wl_model_attr *m = wl_model_find(kw);
    uint32_t tag = m && m->depth == 1 ? m->tags[0] : strcmp(kw, "StudyInstanceUID") == 0 ? 0x0020000Du : 0;
    if (!tag || sc->msg->n_sets == RL_JOB_SETS_MAX)
        return 0;
    const char *k = rl_arena_dup(sc->a, f[0].p, f[0].n), *v = rl_arena_dup(sc->a, f[1].p, f[1].n);
    if (k && v)
        sc->msg->sets[sc->msg->n_sets++] = (job_set){ tag, { k, f[0].n }, { v, f[1].n } };
    return 0;
}

/* The target's lines ("Keyword TAB value"), as recon.c writes them. */
static void target_each(rl_str target, sets_ctx *sc)
{
    const char *p = target.p, *end = target.p + target.n;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        rl_str line = { p, (size_t)((nl ? nl : end) - p) };
        const char *tab = memchr(line.p, '\t', line.n);
        if (tab) {
            rl_str f[2] = { { line.p, (size_t)(tab - line.p) },
                            { tab + 1, line.n - (size_t)(tab + 1 - line.p) } };
            add_set(sc, f);
        }
        p = nl ? nl + 1 : end;
    }
}

/* A job from before destinations (its subject names no node): its work
 * goes to one job per destination, and it is done. */
static int supersede(store_txn *t, uint64_t job_id, const char *worker, rl_str uid,
                     int64_t now_us, rl_err *err)
{
    job done;
    int rc = job_start(t, job_id, worker, 0, 0, now_us, &done, err);
    if (rc == STORE_OK)
        rc = job_done(t, job_id, done.attempts,
                      RL_STR("handed to one job per destination of the study"), now_us, NULL,
                      err);
    recon_out out = { .state = RECON_CORRECTING };
    if (rc == STORE_OK)
        rc = recon_schedule(t, uid, &out, now_us, err);
    return rc;
}

int recon_job_start(store_txn *t, uint64_t job_id, const char *worker, const job_peer *pacs,
                    size_t n_pacs, const char *work_root, int64_t now_us, job_msg *msg,
                    rl_arena *a, bool *started, rl_err *err)
{
    *started = false;
    memset(msg, 0, sizeof *msg);
    job j;
    int rc = job_get(t, job_id, &j, err);
    if (rc)
        return rc;
    const char *subject = rl_arena_dup(a, j.subject.p, j.subject.n);
    if (!subject)
        return rl_err_set(err, RL_E_NOMEM, -1, "out of memory");
    rl_str uid, aes;
    bool per_node = recon_job_split(rl_str_c(subject), &uid, &aes);
    char ae[RL_AE_TITLE_SIZE];
    snprintf(ae, sizeof ae, "%.*s", RL_STR_FMT(aes));
    study_rec s;
    rc = study_get(t, uid, &s, err);
    if (rc == STORE_NOTFOUND) { /* the study is gone: nothing to do */
        job done;
        rc = job_start(t, job_id, worker, 0, 0, now_us, &done, err);
        if (rc == STORE_OK)
            rc = job_done(t, job_id, done.attempts, RL_STR("the study is no longer stored"),
                          now_us, NULL, err);
        return rc;
    }
    if (rc)
        return rc;
    if (!per_node)
        return supersede(t, job_id, worker, uid, now_us, err);
    const job_peer *node = NULL;
    for (size_t i = 0; ae[0] && i < n_pacs && !node; i++)
        if (rl_str_eq_c(pacs[i].ae_title, ae))
            node = &pacs[i];
    if (ae[0] && !node)
        return rl_err_set(err, JOB_E_STATE, -1, "no DICOM node '%s' in the configuration: add "
                          "it back as a <pacs> or <node>, then retry the job", ae);
    uint32_t gen = s.gen, upto = s.last_seq;
    msg->kind = RL_STR("study");
    msg->subject = rl_str_c(subject);
    sets_ctx sc = { msg, a };
    target_each(s.target, &sc);
    if (node)
        msg->pacs[msg->n_pacs++] = *node;
    files_ctx *fc = calloc(1, sizeof *fc);
    if (!fc)
        return rl_err_set(err, RL_E_NOMEM, -1, "out of memory");
    *fc = (files_ctx){ .t = t, .gen = gen, .ae = ae, .pacs = node && !node->node, .msg = msg,
                       .a = a, .rc = STORE_OK, .err = err };
    rc = study_index_each(t, 'I', uid, add_file, fc, err);
    if (rc == STORE_OK)
        rc = fc->rc;
    free(fc);
    if (rc)
        return rc;
    job run;
    rc = job_start(t, job_id, worker, gen, upto, now_us, &run, err);
    if (rc)
        return rc;
    msg->id = job_id;
    msg->attempt = run.attempts;
    if (!msg->n_files) {
        char why[sizeof "nothing to send: every instance is at  as the RIS says" +
                 RL_AE_TITLE_SIZE];
        if (node)
            snprintf(why, sizeof why, "nothing to send: every instance is at %s as the RIS says",
                     ae);
        else
            snprintf(why, sizeof why, "nothing to correct");
        return job_done(t, job_id, run.attempts, rl_str_c(why), now_us, NULL, err);
    }
    char wd[RL_WORK_PATH_MAX];
    recon_work_dir(work_root, job_id, run.attempts, wd, sizeof wd);
    const char *w = rl_arena_dup(a, wd, strlen(wd));
    if (!w)
        return rl_err_set(err, RL_E_NOMEM, -1, "out of memory");
    msg->work_dir = rl_str_c(w);
    *started = true;
    return STORE_OK;
}

/* ---- a successful attempt ---- */

/* Directories to sync once the renames are done (distinct, few per study). */
typedef struct dirs {
    char d[RL_SYNC_DIRS][RL_SPOOL_DIR_MAX];
    size_t n;
} dirs;

static void dirs_add(dirs *ds, const char *path)
{
    const char *slash = strrchr(path, '/');
    if (!slash)
        return;
    size_t n = (size_t)(slash - path);
    if (n >= sizeof ds->d[0])
        return;
    for (size_t i = 0; i < ds->n; i++)
        if (strlen(ds->d[i]) == n && memcmp(ds->d[i], path, n) == 0)
            return;
    if (ds->n == RL_SYNC_DIRS) { /* many series: sync what we have so far, keep going */
        for (size_t i = 0; i < ds->n; i++) {
            int fd = open(ds->d[i], O_RDONLY | O_DIRECTORY | O_CLOEXEC);
            if (fd >= 0) {
                fsync(fd);
                close(fd);
            }
        }
        ds->n = 0;
    }
    memcpy(ds->d[ds->n], path, n);
    ds->d[ds->n++][n] = '\0';
}

typedef struct mark_ctx {
    store_txn *t;
    uint32_t gen, upto;
    const char *ae; /* the node the attempt sent to; "": the spool's copies only */
    bool verified; /* else nothing is marked sent */
    const char *work_dir;
    receiver *recv;
    dirs *ds;
    unsigned moved, marked;
    rl_err *err;
} mark_ctx;

static int mark(mark_ctx *mc, const char *sop)
{
    study_inst *in = malloc(sizeof *in);
    if (!in)
        return rl_err_set(mc->err, RL_E_NOMEM, -1, "out of memory");
    int rc = study_get_instance(mc->t, rl_str_c(sop), in, mc->err);
    if (rc == STORE_NOTFOUND) {
        free(in);
        return STORE_OK;
    }
    /* what this attempt covered: the instances it could send to its node */
    bool covered = !mc->ae[0] ? !in->ndest : study_inst_goes(in, mc->ae, true, NULL);
    if (rc == STORE_OK && in->seq <= mc->upto && covered) {
        /* a corrected copy replaces the spool file; an instance that needed
         * no change was sent as it is and has none */
        char work[RL_WORK_PATH_MAX + RL_SPOOL_NAME_ROOM]; /* WORK/SOP.dcm */
        snprintf(work, sizeof work, "%s/%s.dcm", mc->work_dir, sop);
        int moved = receiver_replace(mc->recv, sop, work, in->f[STUDY_F_PATH]);
        if (moved == RECEIVER_REPLACED) {
            mc->moved++;
            dirs_add(mc->ds, in->f[STUDY_F_PATH]);
        } else if (moved < 0) {
            rc = rl_err_set(mc->err, RL_E_SYS, -1, "moving the corrected copy into the spool: "
                            "%s: %s", in->f[STUDY_F_PATH], strerror(errno));
        }
        /* a new copy arriving right now is not the one this attempt sent:
         * it stays unsent, for the study's next job */
        study_dest *d = mc->ae[0] ? study_inst_dest(in, mc->ae) : NULL;
        bool failed = d && (d->flags & STUDY_DEST_FAILED);
        if (rc == STORE_OK && mc->verified && moved != RECEIVER_ARRIVING && !failed &&
            !in->held) {
            rc = study_set_sent(mc->t, rl_str_c(sop), mc->ae, mc->gen, mc->err);
            mc->marked++;
        }
    }
    free(in);
    return rc;
}

static int put_change(store_txn *t, rl_str uid, uint64_t job_id, unsigned *n, rl_str line,
                      rl_err *err)
{
    unsigned char key[RL_ID_KEY_MAX];
    size_t kn = uid.n < 250 ? uid.n : 250;
    memcpy(key, uid.p, kn);
    key[kn++] = 0;
    rec_be64(job_id, key + kn);
    kn += 8;
    key[kn++] = (unsigned char)(*n >> 8);
    key[kn++] = (unsigned char)*n;
    (*n)++;
    return store_put(t, STORE_CHANGE, (rl_str){ (char *)key, kn }, line, 0, err);
}

/* The new UIDs an IOCM attempt gave (study_job.h: "OLD NEW OLD-SERIES
 * NEW-SERIES" lines in its work directory), as changes. */
static int record_new_uids(store_txn *t, rl_str uid, uint64_t job_id, const char *work_dir,
                           unsigned *n, rl_err *err)
{
    char path[RL_WORK_PATH_MAX + sizeof "/uids.map"];
    snprintf(path, sizeof path, "%s/uids.map", work_dir);
    rl_buf map;
    rl_buf_init(&map, RL_JOB_MSG_MAX);
    rl_err rerr;
    int rc = STORE_OK;
    if (rl_read_file(path, &map, &rerr) != 0) {
        rl_buf_free(&map);
        return STORE_OK; /* none */
    }
    const char *p = rl_buf_cstr(&map);
    while (rc == STORE_OK && *p) {
        const char *nl = strchr(p, '\n');
        size_t len = nl ? (size_t)(nl - p) : strlen(p);
        char a[RL_UID_SIZE], b[RL_UID_SIZE], c[RL_UID_SIZE], d[RL_UID_SIZE];
        const char *q = p;
        char *fld[4] = { a, b, c, d };
        int k = 0;
        while (k < 4 && q < p + len) {
            const char *sp = memchr(q, ' ', (size_t)(p + len - q));
            size_t fl = (size_t)((sp ? sp : p + len) - q);
            snprintf(fld[k++], 65, "%.*s", (int)(fl < 64 ? fl : 64), q);
            q = sp ? sp + 1 : p + len;
        }
        if (k == 4) {
            rl_buf v;
            rl_buf_init(&v, 0);
            rl_buf_printf(&v, "SOPInstanceUID\t%s\t%s\tIOCM: a new instance replaces the one the "
                          "PACS held (series %s -> %s)", a, b, c, d);
            rc = put_change(t, uid, job_id, n, rl_buf_view(&v), err);
            rl_buf_free(&v);
        }
        p += len + (nl ? 1 : 0);
    }
    rl_buf_free(&map);
    return rc;
}

/* Record each attribute the study's index disagreed with the target on, and
 * make the index hold the target. */
static int record_changes(store_txn *t, rl_str uid, uint64_t job_id, rl_str target, unsigned *np,
                          rl_err *err)
{
    study_rec s;
    int rc = study_get(t, uid, &s, err);
    if (rc)
        return rc;
    rl_buf old;
    rl_buf_init(&old, 0);
    size_t off[STUDY_F_COUNT];
    for (int i = 0; i < STUDY_F_COUNT; i++) {
        off[i] = old.len;
        rl_buf_add_str(&old, s.f[i]);
    }
    size_t end[STUDY_F_COUNT];
    for (int i = 0; i < STUDY_F_COUNT; i++)
        end[i] = i + 1 < STUDY_F_COUNT ? off[i + 1] : old.len;
    unsigned n = *np;
    const char *p = target.p, *stop = target.p + target.n;
    while (rc == STORE_OK && p < stop) {
        const char *nl = memchr(p, '\n', (size_t)(stop - p));
        rl_str line = { p, (size_t)((nl ? nl : stop) - p) };
        p = nl ? nl + 1 : stop;
        const char *tab = memchr(line.p, '\t', line.n);
        if (!tab)
            continue;
        rl_str kw = { line.p, (size_t)(tab - line.p) };
        rl_str val = { tab + 1, line.n - (size_t)(tab + 1 - line.p) };
        int fi = -1;
        for (int i = 0; i < STUDY_F_COUNT && fi < 0; i++)
            if (rl_str_eq_c(kw, study_field_name[i]))
                fi = i;
        if (fi < 0)
            continue;
        rl_str was = { old.data ? old.data + off[fi] : "", end[fi] - off[fi] };
        if (rl_str_eq(was, val))
            continue;
        rl_buf v;
        rl_buf_init(&v, 0);
        rl_buf_printf(&v, "%.*s\t%.*s\t%.*s\tdisagreed with the RIS (order or patient record)",
                      RL_STR_FMT(kw), RL_STR_FMT(was), RL_STR_FMT(val));
        rc = put_change(t, uid, job_id, &n, rl_buf_view(&v), err);
        rl_buf_free(&v);
        /* the index holds the corrected values; it keeps the study under the
         * UID it was received with */
        if (rc == STORE_OK && fi != STUDY_F_STUDY_UID)
            rc = study_set_field(t, uid, fi, val, err);
    }
    rl_buf_free(&old);
    *np = n;
    return rc;
}

/* The instances the node's program could not be applied to (the worker's
 * RECON_JOB_FAILED_LIST: "SOP TAB why" lines): held, with the node named. */
static int record_failed(store_txn *t, const char *work_dir, const char *ae, rl_err *err)
{
    char path[RL_WORK_PATH_MAX + sizeof "/" RECON_JOB_FAILED_LIST];
    snprintf(path, sizeof path, "%s/" RECON_JOB_FAILED_LIST, work_dir);
    rl_buf list;
    rl_buf_init(&list, RL_JOB_MSG_MAX);
    rl_err rerr;
    if (rl_read_file(path, &list, &rerr) != 0) {
        rl_buf_free(&list);
        return STORE_OK; /* none */
    }
    int rc = STORE_OK;
    const char *p = rl_buf_cstr(&list);
    while (rc == STORE_OK && *p) {
        const char *nl = strchr(p, '\n');
        size_t len = nl ? (size_t)(nl - p) : strlen(p);
        const char *tab = memchr(p, '\t', len);
        if (tab) {
            char why[RL_STUDY_HELD_WHY_SIZE];
            snprintf(why, sizeof why, "%s: %.*s", ae, (int)(len - (size_t)(tab + 1 - p)), tab + 1);
            rc = study_set_failed(t, (rl_str){ p, (size_t)(tab - p) }, ae, rl_str_c(why), err);
            if (rc == STORE_NOTFOUND)
                rc = STORE_OK;
        }
        p += len + (nl ? 1 : 0);
    }
    rl_buf_free(&list);
    return rc;
}

int recon_job_done(store_txn *t, uint64_t job_id, uint32_t attempt, bool verified, rl_str result,
                   const char *work_root, struct receiver *recv, int64_t now_us,
                   unsigned *changes, rl_err *err)
{
    if (changes)
        *changes = 0;
    job j;
    int rc = job_get(t, job_id, &j, err);
    if (rc)
        return rc;
    if (j.state != JOB_RUNNING || j.attempts != attempt)
        return rl_err_set(err, JOB_E_STALE, -1, "job %llu attempt %u: the job is %s, attempt %u",
                          (unsigned long long)job_id, attempt, job_state_name(j.state),
                          j.attempts);
    char uid[RL_JOB_SUBJECT_MAX + 1], ae[RL_AE_TITLE_SIZE];
    rl_str us, as;
    recon_job_split(j.subject, &us, &as);
    snprintf(uid, sizeof uid, "%.*s", RL_STR_FMT(us));
    snprintf(ae, sizeof ae, "%.*s", RL_STR_FMT(as));
    char wd[RL_WORK_PATH_MAX];
    recon_work_dir(work_root, job_id, attempt, wd, sizeof wd);
    /* instances the node's program failed on wait on the exception list */
    rc = record_failed(t, wd, ae, err);
    if (rc)
        return rc;
    dirs *ds = calloc(1, sizeof *ds);
    if (!ds)
        return rl_err_set(err, RL_E_NOMEM, -1, "out of memory");
    mark_ctx mc = { .t = t, .gen = j.gen, .upto = j.upto, .ae = ae, .verified = verified,
                    .work_dir = wd, .recv = recv, .ds = ds, .err = err };
    uint32_t gen = j.gen;
    uid_list sops = { 0 }; /* collected first: marking writes */
    rc = study_index_each(t, 'I', rl_str_c(uid), uid_list_take, &sops, err);
    if (rc == STORE_OK && sops.nomem)
        rc = rl_err_set(err, RL_E_NOMEM, -1, "out of memory");
    for (size_t i = 0; rc == STORE_OK && i < sops.n; i++)
        rc = mark(&mc, sops.u[i]);
    for (size_t i = 0; i < ds->n; i++) { /* the renames survive a power cut */
        int fd = open(ds->d[i], O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd >= 0) {
            if (fsync(fd) != 0 && rc == STORE_OK)
                rc = rl_err_set(err, RL_E_SYS, -1, "%s: %s", ds->d[i], strerror(errno));
            close(fd);
        }
    }
    free(ds);
    study_rec s;
    if (rc == STORE_OK)
        rc = study_get(t, rl_str_c(uid), &s, err);
    rl_buf target;
    rl_buf_init(&target, 0);
    if (rc == STORE_OK) {
        rl_buf_add_str(&target, s.target);
        /* (mc.moved is 0 when this outcome is recorded again after a
         * failed commit: its copies are in place already) */
        unsigned n = 0;
        if (gen == s.gen)
            rc = record_changes(t, rl_str_c(uid), job_id, rl_buf_view(&target), &n, err);
        if (rc == STORE_OK)
            rc = record_new_uids(t, rl_str_c(uid), job_id, wd, &n, err);
        if (changes)
            *changes = n;
    }
    if (rc == STORE_OK) {
        /* corrected once nothing is left to send with the current target,
         * to any node */
        bool left = false;
        rc = recon_unsent(t, rl_str_c(uid), &left, err);
        if (rc == STORE_OK && (rc = study_get(t, rl_str_c(uid), &s, err)) == STORE_OK) {
            if (!verified)
                rc = study_set_state(t, rl_str_c(uid), RECON_UNVERIFIED, (rl_str){ NULL, 0 },
                                     (rl_str){ NULL, 0 }, err);
            else if (!left && (s.state == RECON_CORRECTING || s.state == RECON_UNVERIFIED))
                rc = study_set_state(t, rl_str_c(uid), RECON_CORRECTED, (rl_str){ NULL, 0 },
                                     (rl_str){ NULL, 0 }, err);
            else if (!left && s.state == RECON_UNMATCHED) /* <recon unmatched>, recon forward */
                rc = study_set_state(t, rl_str_c(uid), RECON_FORWARDED, (rl_str){ NULL, 0 },
                                     (rl_str){ NULL, 0 }, err);
        }
    }
    rl_buf_free(&target);
    uid_list_free(&sops);
    if (rc == STORE_OK)
        rc = verified ? job_done(t, job_id, attempt, result, now_us, NULL, err)
                      : job_unverified(t, job_id, attempt, result, now_us, NULL, err);
    return rc;
}

int recon_changes_each(store_txn *t, rl_str study_uid, recon_change_visit cb, void *ctx,
                       rl_err *err)
{
    store_cursor *c;
    int rc = store_cursor_open(t, STORE_CHANGE, &c, err);
    if (rc)
        return rc;
    char pre[RL_ID_KEY_MAX];
    size_t pn = study_uid.n < 290 ? study_uid.n : 290;
    memcpy(pre, study_uid.p, pn);
    pre[pn++] = '\0';
    rl_str k = { pre, pn }, v;
    rc = store_cursor_get(c, STORE_SEEK, &k, &v);
    while (rc == STORE_OK && k.n >= pn + 8 && memcmp(k.p, pre, pn) == 0) {
        if (cb(ctx, rec_get_be64(k.p + pn), v))
            break;
        rc = store_cursor_get(c, STORE_NEXT, &k, &v);
    }
    store_cursor_close(c);
    return rc < 0 ? rc : STORE_OK;
}

void recon_work_remove(const char *work_root, uint64_t job_id, uint32_t attempt)
{
    char wd[RL_WORK_PATH_MAX];
    recon_work_dir(work_root, job_id, attempt, wd, sizeof wd);
    DIR *d = opendir(wd);
    if (!d)
        return;
    int dfd = dirfd(d);
    for (struct dirent *e; (e = readdir(d));)
        if (e->d_name[0] != '.')
            unlinkat(dfd, e->d_name, 0);
    closedir(d);
    rmdir(wd);
}

void recon_work_clear(const char *work_root)
{
    DIR *d = opendir(work_root);
    if (!d)
        return;
    for (struct dirent *e; (e = readdir(d));) {
        uint64_t jid, attempt;
        const char *dash = strchr(e->d_name, '-');
        if (!dash || !rl_str_to_u64((rl_str){ e->d_name, (size_t)(dash - e->d_name) },
                                    UINT64_MAX, &jid) ||
            !rl_str_to_u64(rl_str_c(dash + 1), UINT32_MAX, &attempt))
            continue;
        recon_work_remove(work_root, jid, (uint32_t)attempt);
    }
    closedir(d);
}
