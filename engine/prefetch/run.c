/* One order's prefetch (radlink/prefetch.h, prefetch_run): ask the archive,
 * choose, ask the destination, move what it lacks, verify. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "radlink/prefetch.h"

/* The instances the destination shows of a study (0: it does not hold it). */
static int held_at(const char *calling_ae, const prefetch_node *to, const char *study_uid,
                   unsigned *instances, rl_err *err)
{
    dicom_qr_study row;
    size_t n = 0, total = 0;
    *instances = 0;
    int rc = dicom_qr_find(calling_ae, &to->peer, "", "", study_uid, to->timeout_s, &row, 1, &n,
                           &total, err);
    if (rc == 0 && n)
        *instances = row.instances ? row.instances : 1;
    return rc;
}

/* Every file under dir (C-GET's output), into files; removed by clean. */
static void list_files(const char *dir, char ***files, size_t *n)
{
    *files = NULL;
    *n = 0;
    DIR *d = opendir(dir);
    struct dirent *e;
    size_t cap = 0;
    while (d && (e = readdir(d))) {
        if (e->d_name[0] == '.')
            continue;
        if (*n == cap) {
            cap = cap ? 2 * cap : 64;
            char **more = realloc(*files, cap * sizeof *more);
            if (!more)
                break;
            *files = more;
        }
        size_t len = strlen(dir) + strlen(e->d_name) + 2;
        char *p = malloc(len);
        if (!p)
            break;
        snprintf(p, len, "%s/%s", dir, e->d_name);
        (*files)[(*n)++] = p;
    }
    if (d)
        closedir(d);
}

static void clean(char **files, size_t n, const char *dir)
{
    for (size_t i = 0; i < n; i++) {
        unlink(files[i]);
        free(files[i]);
    }
    free(files);
    rmdir(dir);
}

/* C-GET the study into work_dir/UID, then C-STORE it on to the destination. */
static int get_and_send(const char *calling_ae, const prefetch_node *from,
                        const prefetch_node *to, const char *study_uid, const char *work_dir,
                        dicom_qr_result *res, rl_err *err)
{
    char dir[RL_DATA_PATH_MAX + RL_UID_SIZE + 2];
    snprintf(dir, sizeof dir, "%.*s/%s", RL_DATA_PATH_MAX - 1, work_dir, study_uid);
    if (mkdir(dir, 0700) != 0 && errno != EEXIST)
        return rl_err_set(err, RL_E_SYS, -1, "%s: %s", dir, strerror(errno));
    int rc = dicom_qr_get(calling_ae, &from->peer, study_uid, dir, from->timeout_s, res, err);
    char **files;
    size_t n;
    list_files(dir, &files, &n);
    if ((rc == 0 || rc == DICOM_E_PARTIAL) && n) {
        dicom_send_report rep;
        rl_err e2;
        int s = dicom_send_files(calling_ae, &to->peer, (const char *const *)files, n, &rep, &e2);
        if (s) {
            *err = e2;
            rc = s;
        }
    }
    clean(files, n, dir);
    return rc;
}

/* One relevant prior: moved (once more when some instances failed), then
 * verified at the destination against the archive's count. */
static int move_one(const char *calling_ae, const prefetch_node *from, const prefetch_node *to,
                    const dicom_qr_study *s, const char *work_dir, rl_buf *report,
                    unsigned *verified, rl_err *err)
{
    dicom_qr_result res;
    int rc = 0;
    for (int attempt = 0; attempt < 2; attempt++) {
        rc = from->get ? get_and_send(calling_ae, from, to, s->study_uid, work_dir, &res, err)
                       : dicom_qr_move(calling_ae, &from->peer, to->peer.ae_title, s->study_uid,
                                       from->timeout_s, &res, err);
        if (rc != DICOM_E_PARTIAL)
            break;
        rl_buf_printf(report, "      %s; tried once more\n", err->msg);
    }
    if (rc)
        return rc;
    unsigned there = 0;
    rc = held_at(calling_ae, to, s->study_uid, &there, err);
    if (rc)
        return rc;
    unsigned want = s->instances ? s->instances : res.completed;
    if (!there || there < want)
        return rl_err_set(err, DICOM_E_PARTIAL, -1, "%s: %s answered the %s, but shows %u of "
                          "its %u instances", s->study_uid, to->peer.ae_title,
                          from->get ? "C-STORE" : "C-MOVE", there, want);
    *verified = there;
    return 0;
}

int prefetch_run(const char *calling_ae, const prefetch_node *from, const prefetch_node *to,
                 const prefetch_rule *r, const prefetch_order *o, const char *work_dir,
                 bool dry_run, rl_buf *report, prefetch_outcome *out, rl_err *err)
{
    memset(out, 0, sizeof *out);
    size_t cap = from->max_answers && from->max_answers <= RL_QUERY_ANSWERS_MAX
                     ? from->max_answers
                     : RL_QUERY_ANSWERS_DEFAULT;
    dicom_qr_study *rows = calloc(cap, sizeof *rows);
    prefetch_pick *pick = calloc(cap, sizeof *pick);
    if (!rows || !pick) {
        free(rows);
        free(pick);
        return rl_err_set(err, RL_E_NOMEM, -1, "out of memory");
    }
    size_t n = 0, total = 0;
    int rc = dicom_qr_find(calling_ae, &from->peer, o->patient_id, o->issuer, NULL,
                           from->timeout_s, rows, cap, &n, &total, err);
    if (rc)
        goto out;
    out->answered = total;
    out->capped = total > n;
    prefetch_select(r, o, rows, n, pick);
    rl_buf_printf(report, "%s holds %zu stud%s of patient %s%s%s%s\n", from->peer.ae_title,
                  total, total == 1 ? "y" : "ies", o->patient_id, o->issuer[0] ? " (" : "",
                  o->issuer, o->issuer[0] ? ")" : "");
    if (out->capped)
        rl_buf_printf(report, "  only the first %zu answers are considered (of %zu: the "
                      "archive's max-answers)\n", n, total);
    int failures = 0;
    rl_err last;
    rl_err_clear(&last);
    for (size_t i = 0; i < n; i++) {
        const dicom_qr_study *s = &rows[i];
        rl_buf_printf(report, "  %-8s %-8s %-24.24s %5u  %s: %s\n",
                      s->study_date[0] ? s->study_date : "-", s->modalities[0] ? s->modalities : "-",
                      s->description[0] ? s->description : "-", s->instances,
                      pick[i].relevant ? "relevant" : "skipped", pick[i].why);
        if (!pick[i].relevant)
            continue;
        out->relevant++;
        rl_buf_printf(report, "      study %s\n", s->study_uid);
        unsigned there = 0;
        rl_err e;
        if ((rc = held_at(calling_ae, to, s->study_uid, &there, &e)) != 0) {
            *err = e;
            goto out; /* the destination cannot be asked: nothing is moved blindly */
        }
        if (there) {
            out->present++;
            rl_buf_printf(report, "      %s holds it already (%u instances): not moved\n",
                          to->peer.ae_title, there);
            continue;
        }
        if (dry_run) {
            rl_buf_printf(report, "      would be moved to %s (--dry-run)\n", to->peer.ae_title);
            continue;
        }
        unsigned verified = 0;
        if (move_one(calling_ae, from, to, s, work_dir, report, &verified, &e) != 0) {
            out->failed++;
            failures++;
            last = e;
            rl_buf_printf(report, "      not moved: %s\n", e.msg);
            continue;
        }
        out->moved++;
        out->instances += verified;
        rl_buf_printf(report, "      %s to %s: %u instances, verified\n",
                      from->get ? "fetched (C-GET) and sent" : "moved", to->peer.ae_title,
                      verified);
    }
    rl_buf_printf(report, "%zu relevant, %zu already at %s, %zu moved (%u instances)%s%s\n",
                  out->relevant, out->present, to->peer.ae_title, out->moved, out->instances,
                  out->failed ? ", failed: " : "", out->failed ? "see above" : "");
    rc = 0;
    if (failures)
        rc = rl_err_set(err, DICOM_E_PARTIAL, -1, "%zu of %zu relevant priors not moved: %s",
                        out->failed, out->relevant, last.msg);
out:
    free(rows);
    free(pick);
    return rc;
}
