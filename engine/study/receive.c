/* Received instances into the spool and the index (radlink/receive.h). */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "radlink/log.h"
#include "radlink/receive.h"
#include "radlink/route_dicom.h"

/* A UID as a file name: digits and dots kept, anything else '_'; a leading
 * dot too, so that no name is "." or ".." (the SCP refuses invalid UIDs
 * already; this keeps every path inside the spool whatever comes). */
static void safe(char *out, size_t n, const char *uid)
{
    size_t k = 0;
    for (const char *p = uid; *p && k + 1 < n; p++) {
        bool keep = (*p >= '0' && *p <= '9') || (*p == '.' && k > 0);
        out[k++] = keep ? *p : '_';
    }
    out[k] = '\0';
}

/* mkdir dir; 1 when it was created (its parent then has a new entry to
 * sync), 0 when it existed, RL_E_SYS with errno on error. */
static int make_dir(const char *dir)
{
    if (mkdir(dir, 0750) == 0)
        return 1;
    return errno == EEXIST ? 0 : RL_E_SYS;
}

struct receiver_arrival {
    const char *sop;
    struct receiver_arrival *next;
};

/* wait: a copy that replaces the indexed one is filed after any other
 * filing of the same instance (the replaced copy may have to come back) */
static void arrive(receiver *r, struct receiver_arrival *a, bool wait)
{
    pthread_mutex_lock(&r->lock);
    while (wait) {
        bool busy = false;
        for (struct receiver_arrival *o = r->arriving; o && !busy; o = o->next)
            busy = strcmp(o->sop, a->sop) == 0;
        if (!busy)
            break;
        pthread_cond_wait(&r->turn, &r->lock);
    }
    a->next = r->arriving;
    r->arriving = a;
    pthread_mutex_unlock(&r->lock);
}

static void arrived(receiver *r, struct receiver_arrival *a)
{
    pthread_mutex_lock(&r->lock);
    for (struct receiver_arrival **p = &r->arriving; *p; p = &(*p)->next)
        if (*p == a) {
            *p = a->next;
            break;
        }
    pthread_cond_broadcast(&r->turn);
    pthread_mutex_unlock(&r->lock);
}

int receiver_replace(receiver *r, const char *sop, const char *copy, const char *path)
{
    if (r)
        pthread_mutex_lock(&r->lock);
    bool arriving = false;
    for (struct receiver_arrival *a = r ? r->arriving : NULL; a && !arriving; a = a->next)
        arriving = strcmp(a->sop, sop) == 0;
    /* under the lock: an association that starts filing this instance
     * now renames its copy after this one, and its copy wins */
    int rc = arriving ? RECEIVER_ARRIVING
             : rename(copy, path) == 0 ? RECEIVER_REPLACED
                                       : RL_E_SYS;
    int e = errno;
    if (r)
        pthread_mutex_unlock(&r->lock);
    if (rc == RL_E_SYS && e == ENOENT)
        return RECEIVER_NO_COPY;
    errno = e;
    return rc;
}

/* One instance being filed by a DICOM thread: its paths, what it found
 * and what it did so far (what has to be undone when it fails). */
typedef struct filing {
    receiver *r;
    study_inst *in, *old;
    cmd *c;
    struct receiver_arrival me;
    char d1[RL_DATA_PATH_MAX + RL_SPOOL_NAME_ROOM];     /* spool/STUDY */
    char d2[RL_DATA_PATH_MAX + 2 * RL_SPOOL_NAME_ROOM]; /* .../SERIES */
    char path[RL_DATA_PATH_MAX + 3 * RL_SPOOL_NAME_ROOM]; /* .../SOP.dcm */
    char oldpath[RL_STUDY_FIELD_SIZE]; /* an earlier copy elsewhere */
    char prev[RL_INCOMING_PATH_MAX]; /* the indexed copy, kept until the new one is indexed */
    int m1, m2;      /* make_dir of d1 and d2 */
    bool counted;    /* in r->filing */
    bool arriving;   /* in r->arriving */
    bool placed;     /* the file is at path */
    bool fresh;      /* no file the index knows lies at path */
} filing;

/* The instance's place in the spool: STUDY/SERIES/SOP.dcm under it. */
static int plan_path(filing *f, rl_err *err)
{
    study_inst *in = f->in;
    char study[RL_UID_TEXT_SIZE], series[RL_UID_TEXT_SIZE], sop[RL_UID_TEXT_SIZE];
    safe(study, sizeof study, in->f[STUDY_F_STUDY_UID]);
    safe(series, sizeof series, in->f[STUDY_F_SERIES_UID][0] ? in->f[STUDY_F_SERIES_UID] : "none");
    safe(sop, sizeof sop, in->f[STUDY_F_SOP_UID]);
    snprintf(f->d1, sizeof f->d1, "%s/%s", f->r->spool, study);
    snprintf(f->d2, sizeof f->d2, "%s/%s", f->d1, series);
    snprintf(f->path, sizeof f->path, "%s/%s.dcm", f->d2, sop);
    if (strlen(f->path) >= sizeof in->f[STUDY_F_PATH])
        return rl_err_set(err, RL_E_LIMIT, -1, "spool path too long");
    snprintf(in->f[STUDY_F_PATH], sizeof in->f[STUDY_F_PATH], "%s", f->path);
    return 0;
}

/* An earlier copy of this SOP Instance: refused (1), or replaced (when it
 * lies under another study or series, its file goes once this one is in). */
static int check_earlier(filing *f, rl_err *err)
{
    store_txn *t;
    rl_err serr;
    if (store_begin(f->r->st, NULL, false, &t, &serr) != STORE_OK)
        return 0;
    if (study_get_instance(t, rl_str_c(f->in->f[STUDY_F_SOP_UID]), f->old, &serr) == STORE_OK) {
        if (f->r->refuse_duplicates) {
            store_abort(t);
            rl_err_set(err, 0, -1, "SOP Instance UID already stored (duplicates are refused)");
            return 1;
        }
        if (strcmp(f->old->f[STUDY_F_PATH], f->path) != 0)
            snprintf(f->oldpath, sizeof f->oldpath, "%s", f->old->f[STUDY_F_PATH]);
        else
            f->fresh = false; /* the rename replaces the file the index knows */
    }
    store_abort(t);
    return 0;
}

/* The copy the index describes is kept beside until the new one is
 * indexed: a refused instance (a full store) changes nothing. */
static int keep_previous(filing *f, const char *tmp, rl_err *err)
{
    if (f->fresh)
        return 0;
    snprintf(f->prev, sizeof f->prev, "%s.prev", tmp);
    unlink(f->prev);
    if (link(f->path, f->prev) == 0)
        return 0;
    int e = errno;
    f->prev[0] = '\0';
    if (e != ENOENT)
        return rl_err_set(err, RL_E_SYS, -1, "spool: %s", strerror(e));
    f->fresh = true; /* the indexed file is gone: nothing to keep */
    return 0;
}

/* The temporary file renamed into the spool. Its data and the directory
 * entries the rename (and any new directory) made are synced by the loop,
 * one syncfs for every instance of its turn, before the commit that indexes
 * them (engine/serve/turn.c). A file that replaces one the index describes
 * is synced here first: a crash before the turn's sync must not leave the
 * indexed name holding a file whose data never reached the disk. */
static int place(filing *f, const char *tmp, rl_err *err)
{
    f->m1 = make_dir(f->d1);
    f->m2 = f->m1 < 0 ? f->m1 : make_dir(f->d2);
    if ((!f->fresh && rl_sync_path(tmp, O_RDONLY) != 0) || f->m1 < 0 || f->m2 < 0)
        return rl_err_set(err, RL_E_SYS, -1, "spool: %s", strerror(errno));
    /* with duplicates refused, never replace a file another association just
     * filed under the same name */
    arrive(f->r, &f->me, !f->fresh);
    f->arriving = true;
    int rc = keep_previous(f, tmp, err);
    if (rc)
        return rc;
    unsigned how = f->r->refuse_duplicates ? RENAME_NOREPLACE : 0;
    if (renameat2(AT_FDCWD, tmp, AT_FDCWD, f->path, how) != 0) {
        if (errno == EEXIST) {
            rl_err_set(err, 0, -1, "SOP Instance UID already stored (duplicates are refused)");
            return 1;
        }
        return rl_err_set(err, RL_E_SYS, -1, "spool: %s", strerror(errno));
    }
    f->placed = true;
    return 0;
}

/* The loop indexes the instance (CMD_INSTANCE) and commits; this thread
 * waits for that. 1 when the loop found it a duplicate. */
static int index_it(filing *f, rl_err *err)
{
    cmd *c = f->c;
    c->kind = CMD_INSTANCE;
    c->u.instance.in = f->in;
    c->u.instance.refuse_duplicates = f->r->refuse_duplicates;
    atomic_fetch_sub(&f->r->filing, 1); /* from here the loop sees it in its queue */
    f->counted = false;
    int st = cmdq_call(f->r->q, &c->q);
    if (st != 0 || c->q.status != 0) /* a store error, or RL_E_ARG once the loop stopped */
        return rl_err_set(err, st < 0 ? st : RL_E_ARG, -1, "%s", c->q.text);
    if (c->duplicate) {
        rl_err_set(err, 0, -1, "%s", c->q.text);
        return 1;
    }
    if (f->oldpath[0] && strncmp(f->oldpath, f->r->spool, strlen(f->r->spool)) == 0)
        unlink(f->oldpath);
    return 0;
}

/* A file this association placed that the index does not hold goes; a copy
 * it replaced comes back. */
static void undo(filing *f, int rc)
{
    if (rc != 0 && f->placed && f->fresh)
        unlink(f->path);
    if (!f->prev[0])
        return;
    if (rc == 0 || !f->placed) {
        unlink(f->prev);
    } else if (rename(f->prev, f->path) == 0) {
        rl_sync_path(f->d2, O_RDONLY | O_DIRECTORY);
    } else {
        log_error("dicom.restore_failed", "sop=%s error=\"%s\"", f->in->f[STUDY_F_SOP_UID],
                  strerror(errno));
    }
}

/* Filing proper: 0 stored, 1 refused as a duplicate, or a negative code,
 * each with its reason in err. */
static int file_instance(filing *f, const char *tmp, rl_err *err)
{
    int rc = plan_path(f, err);
    if (rc == 0)
        rc = check_earlier(f, err);
    if (rc == 0)
        rc = place(f, tmp, err);
    if (rc == 0)
        rc = index_it(f, err);
    return rc;
}

int study_receive(void *ctx, const study_inst *in0, const char *tmp, void *cookie, char *why,
                  size_t whyn)
{
    receiver *r = ctx;
    filing *f = calloc(1, sizeof *f);
    study_inst *in = malloc(sizeof *in), *old = malloc(sizeof *old);
    cmd *c = calloc(1, sizeof *c);
    if (!f || !in || !old || !c) {
        free(f), free(in), free(old), free(c);
        if (cookie && r->decision_free)
            r->decision_free(cookie);
        snprintf(why, whyn, "out of memory");
        return -1;
    }
    c->u.instance.decision = cookie;
    *in = *in0;
    *f = (filing){ .r = r, .in = in, .old = old, .c = c, .counted = true, .fresh = true,
                   .me = { .sop = in0->f[STUDY_F_SOP_UID] } };
    atomic_fetch_add(&r->filing, 1);
    rl_err err;
    rl_err_clear(&err);
    int rc = file_instance(f, tmp, &err);
    undo(f, rc);
    if (f->arriving)
        arrived(r, &f->me);
    if (f->counted)
        atomic_fetch_sub(&r->filing, 1);
    free(in);
    free(old);
    free(c);
    free(f);
    if (cookie && r->decision_free)
        r->decision_free(cookie);
    if (rc != 0)
        snprintf(why, whyn, "%s", err.msg);
    /* the SCP's contract (radlink/dicom.h on_instance): 0, 1 or -1 */
    return rc < 0 ? -1 : rc;
}

void study_commit_report(void *ctx, const char *txn, const char *lines)
{
    receiver *r = ctx;
    cmd *c = calloc(1, sizeof *c);
    if (!c)
        return; /* the worker waits in vain and says so */
    c->kind = CMD_COMMIT_REPORT;
    snprintf(c->u.report.txn, sizeof c->u.report.txn, "%s", txn);
    char *copy = c->u.report.lines = strdup(lines);
    if (cmdq_post(r->q, &c->q) != 0)
        free(copy); /* refused (the engine stops): cmdq_post freed c */
}

void study_decision_free(void *decision)
{
    route_dicom_decision_free(decision);
    free(decision);
}

void receiver_set_routes(receiver *r, const route_set *rs)
{
    pthread_rwlock_wrlock(&r->routes_lock);
    r->routes = rs;
    pthread_rwlock_unlock(&r->routes_lock);
}

bool study_on_dataset(void *ctx, dicom_ds *ds, const char *calling_ae, const char *called_ae,
                      void **cookie)
{
    receiver *r = ctx;
    route_dicom_decision *d = calloc(1, sizeof *d);
    rl_err err;
    rl_err_clear(&err);
    route_dcm_who who = { calling_ae, called_ae };
    int rc = ROUTE_OK;
    bool decided = false;
    pthread_rwlock_rdlock(&r->routes_lock);
    if (r->routes && r->dcm_io && route_dicom_present(r->routes)) {
        decided = true;
        rc = d ? route_dicom_receive(r->routes, r->dcm_io, ds, &who, d, NULL, &err)
               : rl_err_set(&err, RL_E_NOMEM, -1, "out of memory");
    }
    pthread_rwlock_unlock(&r->routes_lock);
    if (!decided) {
        free(d);
        return true;
    }
    if (rc != ROUTE_OK) {
        /* not the instance's fault: it is kept, held, and says why */
        log_warn("dicom.routes_failed", "calling=%s", calling_ae);
        log_debug("dicom.routes_failed_why", "error=\"%s\"", err.msg);
        if (!d)
            return false; /* no memory even for a decision: every <pacs> gets it as it came */
        route_dicom_decision_free(d);
        memset(d, 0, sizeof *d);
        d->held = true;
        snprintf(d->why, sizeof d->why, "the DICOM routes could not decide: %.*s",
                 (int)sizeof d->why - 40, err.msg);
    }
    log_info("dicom.routed", "calling=%s called=%s %s", calling_ae, called_ae,
             d->held ? "held" : d->summary);
    *cookie = d;
    return rc == ROUTE_OK && !d->receive_failed;
}

/* Where the instance goes, as its DICOM routes decided (their programs kept
 * once in the store), or, when no route decided, every <pacs> as it is. */
static int route_instance(store_txn *t, study_inst *in, const route_dicom_decision *d,
                          rl_err *err)
{
    in->ndest = 0;
    in->held = d && d->held;
    snprintf(in->held_why, sizeof in->held_why, "%.*s", (int)sizeof in->held_why - 1,
             in->held ? d->why : "");
    if (in->held)
        return STORE_OK;
    if (d && d->routed) {
        for (size_t i = 0; i < d->nsends && in->ndest < RL_DICOM_SENDS_MAX; i++) {
            const route_dicom_send *s = &d->sends[i];
            study_dest *sd = &in->dest[in->ndest];
            memset(sd, 0, sizeof *sd);
            snprintf(sd->ae, sizeof sd->ae, "%s", s->to);
            int rc = study_prog_put(t, (rl_str){ d->progs.data + s->prog_off, s->prog_len },
                                    &sd->prog, err);
            if (rc)
                return rc;
            in->ndest++;
        }
        return STORE_OK;
    }
    recon_policy p;
    recon_policy_load(t, &p);
    const char *pacs[RL_MAX_PACS];
    size_t n = recon_policy_pacs(&p, pacs, RL_MAX_PACS);
    for (size_t i = 0; i < n && in->ndest < RL_DICOM_SENDS_MAX; i++) {
        study_dest *sd = &in->dest[in->ndest++];
        memset(sd, 0, sizeof *sd);
        snprintf(sd->ae, sizeof sd->ae, "%s", pacs[i]);
    }
    return STORE_OK;
}

int study_receive_apply(store_txn *t, cmd *c, int64_t now_us, recon_out *out, rl_err *err)
{
    study_inst *in = c->u.instance.in;
    bool existed = false;
    *out = (recon_out){ 0 };
    if (c->u.instance.refuse_duplicates) {
        /* two associations may send one instance at once under different
         * studies: the first indexed keeps it */
        study_inst *old = malloc(sizeof *old);
        if (!old)
            return rl_err_set(err, RL_E_NOMEM, -1, "out of memory");
        int g = study_get_instance(t, rl_str_c(in->f[STUDY_F_SOP_UID]), old, err);
        free(old);
        if (g == STORE_OK) {
            c->duplicate = true;
            snprintf(c->q.text, sizeof c->q.text,
                     "SOP Instance UID already stored (duplicates are refused)");
            return STORE_OK;
        }
        if (g != STORE_NOTFOUND)
            return g;
    }
    int rc = route_instance(t, in, c->u.instance.decision, err);
    if (rc == STORE_OK)
        rc = study_put_instance(t, in, &existed, err);
    if (rc == STORE_OK)
        rc = recon_after_store(t, in, now_us, out, err);
    if (rc != STORE_OK)
        return rc;
    /* identifiers of the patient stay out of the info log (radlink/log.h) */
    log_info("dicom.stored", "calling=%s study=%s sop=%s seq=%u%s", in->f[STUDY_F_CALLING_AE],
             in->f[STUDY_F_STUDY_UID], in->f[STUDY_F_SOP_UID], in->seq,
             existed ? " replaced=yes" : "");
    log_debug("dicom.stored_patient", "sop=%s patient=%s accession=%s", in->f[STUDY_F_SOP_UID],
              in->f[STUDY_F_PATIENT_ID], in->f[STUDY_F_ACCESSION]);
    return STORE_OK;
}
