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

static int sync_path(const char *path, int flags)
{
    int fd = open(path, flags | O_CLOEXEC);
    if (fd < 0)
        return -1;
    int rc = (flags & O_DIRECTORY) ? fsync(fd) : fdatasync(fd);
    close(fd);
    return rc;
}

/* mkdir dir; 1 when it was created (its parent then has a new entry to
 * sync), 0 when it existed, -1 on error. */
static int make_dir(const char *dir)
{
    if (mkdir(dir, 0750) == 0)
        return 1;
    return errno == EEXIST ? 0 : -1;
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
    int rc = arriving ? RECEIVER_ARRIVING : rename(copy, path) == 0 ? RECEIVER_REPLACED : -1;
    int e = errno;
    if (r)
        pthread_mutex_unlock(&r->lock);
    if (rc == -1 && e == ENOENT)
        return RECEIVER_NO_COPY;
    errno = e;
    return rc;
}

int study_receive(void *ctx, const study_inst *in0, const char *tmp, char *why, size_t whyn)
{
    receiver *r = ctx;
    study_inst *in = malloc(sizeof *in), *old = malloc(sizeof *old);
    cmd *c = calloc(1, sizeof *c);
    if (!in || !old || !c) {
        free(in), free(old), free(c);
        snprintf(why, whyn, "out of memory");
        return -1;
    }
    atomic_fetch_add(&r->filing, 1);
    bool counted = true, placed = false, fresh = true;
    struct receiver_arrival me = { .sop = in0->f[STUDY_F_SOP_UID] };
    bool arriving = false;
    *in = *in0;
    char study[128], series[128], sop[128], d1[1300], d2[1500], path[1700];
    safe(study, sizeof study, in->f[STUDY_F_STUDY_UID]);
    safe(series, sizeof series, in->f[STUDY_F_SERIES_UID][0] ? in->f[STUDY_F_SERIES_UID] : "none");
    safe(sop, sizeof sop, in->f[STUDY_F_SOP_UID]);
    snprintf(d1, sizeof d1, "%s/%s", r->spool, study);
    snprintf(d2, sizeof d2, "%s/%s", d1, series);
    snprintf(path, sizeof path, "%s/%s.dcm", d2, sop);
    int rc = -1;
    if (strlen(path) >= sizeof in->f[STUDY_F_PATH]) {
        snprintf(why, whyn, "spool path too long");
        goto out;
    }
    snprintf(in->f[STUDY_F_PATH], sizeof in->f[STUDY_F_PATH], "%s", path);

    /* an earlier copy of this SOP Instance: refused, or replaced (when it
     * lies under another study or series, its file goes once this one is in) */
    rl_err err;
    store_txn *t;
    char oldpath[sizeof in->f[0]] = "", prev[800] = "";
    if (store_begin(r->st, NULL, false, &t, &err) == STORE_OK) {
        if (study_get_instance(t, rl_str_c(in->f[STUDY_F_SOP_UID]), old, &err) == STORE_OK) {
            if (r->refuse_duplicates) {
                store_abort(t);
                snprintf(why, whyn, "SOP Instance UID already stored (duplicates are refused)");
                rc = 1;
                goto out;
            }
            if (strcmp(old->f[STUDY_F_PATH], path) != 0)
                snprintf(oldpath, sizeof oldpath, "%s", old->f[STUDY_F_PATH]);
            else
                fresh = false; /* the rename replaces the file the index knows */
        }
        store_abort(t);
    }
    int m1 = make_dir(d1), m2 = m1 < 0 ? -1 : make_dir(d2);
    if (sync_path(tmp, O_RDONLY) != 0 || m1 < 0 || m2 < 0) {
        snprintf(why, whyn, "spool: %s", strerror(errno));
        goto out;
    }
    /* with duplicates refused, never replace a file another association just
     * filed under the same name */
    arrive(r, &me, !fresh);
    arriving = true;
    /* the copy the index describes is kept beside until the new one is
     * indexed: a refused instance (a full store) changes nothing */
    if (!fresh) {
        snprintf(prev, sizeof prev, "%s.prev", tmp);
        unlink(prev);
        if (link(path, prev) != 0) {
            if (errno != ENOENT) {
                snprintf(why, whyn, "spool: %s", strerror(errno));
                prev[0] = '\0';
                goto out;
            }
            prev[0] = '\0'; /* the indexed file is gone: nothing to keep */
            fresh = true;
        }
    }
    if (renameat2(AT_FDCWD, tmp, AT_FDCWD, path, r->refuse_duplicates ? RENAME_NOREPLACE : 0) != 0) {
        if (errno == EEXIST) {
            snprintf(why, whyn, "SOP Instance UID already stored (duplicates are refused)");
            rc = 1;
        } else {
            snprintf(why, whyn, "spool: %s", strerror(errno));
        }
        goto out;
    }
    placed = true;
    /* the new directory entries, synced here: the associations' syncs run in
     * parallel with each other and with the loop's commit */
    if (sync_path(d2, O_RDONLY | O_DIRECTORY) != 0 ||
        (m2 > 0 && sync_path(d1, O_RDONLY | O_DIRECTORY) != 0) ||
        (m1 > 0 && sync_path(r->spool, O_RDONLY | O_DIRECTORY) != 0)) {
        snprintf(why, whyn, "spool: %s", strerror(errno));
        goto out;
    }
    c->kind = CMD_INSTANCE;
    c->u.instance.in = in;
    c->u.instance.refuse_duplicates = r->refuse_duplicates;
    atomic_fetch_sub(&r->filing, 1); /* from here the loop sees it in its queue */
    counted = false;
    if (cmdq_call(r->q, c) != 0) {
        snprintf(why, whyn, "%s", c->text);
        goto out;
    }
    if (c->status != 0) {
        snprintf(why, whyn, "%s", c->text);
        goto out;
    }
    if (c->duplicate) {
        snprintf(why, whyn, "%s", c->text);
        rc = 1;
        goto out;
    }
    if (oldpath[0] && strncmp(oldpath, r->spool, strlen(r->spool)) == 0)
        unlink(oldpath);
    rc = 0;
out:
    /* a file this association placed that the index does not hold goes; a
     * copy it replaced comes back */
    if (rc != 0 && placed && fresh)
        unlink(path);
    if (prev[0]) {
        if (rc != 0 && placed) {
            if (rename(prev, path) == 0)
                sync_path(d2, O_RDONLY | O_DIRECTORY);
            else
                log_error("dicom.restore_failed", "sop=%s error=\"%s\"", in->f[STUDY_F_SOP_UID],
                          strerror(errno));
        } else {
            unlink(prev);
        }
    }
    if (arriving)
        arrived(r, &me);
    if (counted)
        atomic_fetch_sub(&r->filing, 1);
    free(in);
    free(old);
    free(c);
    return rc;
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
    if (cmdq_post(r->q, c) != 0)
        free(copy); /* refused (the engine stops): cmdq_post freed c */
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
            snprintf(c->text, sizeof c->text,
                     "SOP Instance UID already stored (duplicates are refused)");
            return STORE_OK;
        }
        if (g != STORE_NOTFOUND)
            return g;
    }
    int rc = study_put_instance(t, in, &existed, err);
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
