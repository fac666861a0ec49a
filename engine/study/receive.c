/* A received instance into the spool and the index: the temporary file is
 * synced, moved to DATA/spool/STUDY/SERIES/SOP.dcm, the directory synced,
 * and the header indexed in a short write transaction of its own; only then
 * does the SCP answer success. */
#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
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
    int rc = fsync(fd);
    close(fd);
    return rc;
}

static int mkdir_synced(const char *dir, const char *parent)
{
    if (mkdir(dir, 0750) == 0)
        return sync_path(parent, O_RDONLY | O_DIRECTORY);
    return errno == EEXIST ? 0 : -1;
}

int study_receive(void *ctx, const study_inst *in0, const char *tmp, char *why, size_t whyn)
{
    receiver *r = ctx;
    study_inst in = *in0;
    char study[128], series[128], sop[128], d1[1200], d2[1400], path[1600];
    safe(study, sizeof study, in.f[STUDY_F_STUDY_UID]);
    safe(series, sizeof series, in.f[STUDY_F_SERIES_UID][0] ? in.f[STUDY_F_SERIES_UID] : "none");
    safe(sop, sizeof sop, in.f[STUDY_F_SOP_UID]);
    snprintf(d1, sizeof d1, "%s/%s", r->spool, study);
    snprintf(d2, sizeof d2, "%s/%s", d1, series);
    snprintf(path, sizeof path, "%s/%s.dcm", d2, sop);
    if (strlen(path) >= sizeof in.f[STUDY_F_PATH]) {
        snprintf(why, whyn, "spool path too long");
        return -1;
    }
    snprintf(in.f[STUDY_F_PATH], sizeof in.f[STUDY_F_PATH], "%s", path);

    rl_err err;
    store_txn *t;
    if (r->refuse_duplicates && store_begin(r->st, NULL, false, &t, &err) == STORE_OK) {
        study_inst *old = malloc(sizeof *old);
        int g = old ? study_get_instance(t, rl_str_c(in.f[STUDY_F_SOP_UID]), old, &err) : -1;
        free(old);
        store_abort(t);
        if (g == STORE_OK) {
            snprintf(why, whyn, "SOP Instance UID already stored (duplicates are refused)");
            return 1;
        }
    }
    if (sync_path(tmp, O_RDONLY) != 0 || mkdir_synced(d1, r->spool) != 0 ||
        mkdir_synced(d2, d1) != 0 || rename(tmp, path) != 0 ||
        sync_path(d2, O_RDONLY | O_DIRECTORY) != 0) {
        snprintf(why, whyn, "spool: %s", strerror(errno));
        return -1;
    }
    /* the file of an earlier copy under another study: removed once this one is in */
    char oldpath[sizeof in.f[0]] = "";
    if (store_begin(r->st, NULL, false, &t, &err) == STORE_OK) {
        study_inst *old = malloc(sizeof *old);
        if (old && study_get_instance(t, rl_str_c(in.f[STUDY_F_SOP_UID]), old, &err) == STORE_OK &&
            strcmp(old->f[STUDY_F_PATH], path) != 0)
            snprintf(oldpath, sizeof oldpath, "%s", old->f[STUDY_F_PATH]);
        free(old);
        store_abort(t);
    }
    bool existed = false;
    int rc = store_begin(r->st, NULL, true, &t, &err);
    if (rc == STORE_OK) {
        rc = study_put_instance(t, &in, &existed, &err);
        if (rc == STORE_OK && r->after_store)
            rc = r->after_store(r->after_ctx, t, &in, &err);
        rc = rc == STORE_OK ? store_commit(t, &err) : (store_abort(t), rc);
    }
    if (rc != STORE_OK) {
        snprintf(why, whyn, "index: %s", err.msg);
        log_error("dicom.index_failed", "sop=%s error=\"%s\"", in.f[STUDY_F_SOP_UID], err.msg);
        return -1;
    }
    if (oldpath[0] && strncmp(oldpath, r->spool, strlen(r->spool)) == 0)
        unlink(oldpath);
    log_info("dicom.stored", "calling=%s study=%s sop=%s patient=%s accession=%s%s",
             in.f[STUDY_F_CALLING_AE], in.f[STUDY_F_STUDY_UID], in.f[STUDY_F_SOP_UID],
             in.f[STUDY_F_PATIENT_ID], in.f[STUDY_F_ACCESSION], existed ? " replaced=yes" : "");
    return 0;
}
