/* Backup, restore and check (radlink/backup.h). */
#include "radlink/backup.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <dirent.h>
#include <stdarg.h>

#include "radlink/digest.h"
#include "radlink/job.h"
#include "radlink/limits.h"
#include "radlink/msgidx.h"
#include "radlink/msglog.h"
#include "radlink/queue.h"
#include "radlink/store.h"
#include "radlink/recon_job.h"
#include "radlink/study.h"
#include "radlink/version.h"
#include "radlink/wl.h"

/* snprintf for paths: -1 when it did not fit (then the path is cut, and
 * what opens it fails, saying which). */
static int pathf(char *out, size_t n, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static int pathf(char *out, size_t n, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int w = vsnprintf(out, n, fmt, ap);
    va_end(ap);
    return w < 0 || (size_t)w >= n ? -1 : 0;
}

/* Every file written under dir on disk: one syncfs for the whole copy
 * rather than an fsync a file. */
static int sync_tree(const char *dir, rl_err *err)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    int rc = fd >= 0 ? syncfs(fd) : -1;
    int e = errno;
    if (fd >= 0)
        close(fd);
    if (rc != 0)
        return rl_err_set(err, RL_E_SYS, -1, "%s: sync: %s", dir, strerror(e));
    return 0;
}

/* A file of the backup or the restored store, owner-only as the store is
 * (a backup holds every patient's data): for writing. */
static FILE *fopen_private(const char *path)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;
    if (fd >= 0 && !f)
        close(fd);
    return f;
}

/* mkdir -p of the directories above path's last part. */
static int mkdir_parents(const char *path, unsigned mode)
{
    char p[RL_BACKUP_PATH_MAX];
    snprintf(p, sizeof p, "%s", path);
    for (char *s = strchr(p + 1, '/'); s; s = strchr(s + 1, '/')) {
        *s = '\0';
        if (mkdir(p, mode) != 0 && errno != EEXIST)
            return -1;
        *s = '/';
    }
    return 0;
}

static bool dir_is_empty(const char *path)
{
    DIR *d = opendir(path);
    if (!d)
        return false;
    struct dirent *e;
    bool empty = true;
    while (empty && (e = readdir(d)))
        empty = !strcmp(e->d_name, ".") || !strcmp(e->d_name, "..");
    closedir(d);
    return empty;
}

typedef struct counts {
    uint64_t n[STORE_DB_COUNT];
} counts;

static const struct { store_db db; const char *name; } counted[] = {
    { STORE_MSG, "messages" },     { STORE_INSTANCE, "instances" }, { STORE_STUDY, "studies" },
    { STORE_WL, "worklist" },      { STORE_QUEUE, "queued" },       { STORE_JOB, "jobs" },
    { STORE_PATIENT, "patients" }, { STORE_MPPS, "mpps" },          { STORE_AUDIT, "audit" },
};

static void count_all(store_txn *t, counts *c)
{
    rl_err err;
    memset(c, 0, sizeof *c);
    for (size_t i = 0; i < sizeof counted / sizeof *counted; i++)
        store_entries(t, counted[i].db, &c->n[counted[i].db], &err);
}

static void print_counts(rl_buf *out, const counts *c, const char *sep)
{
    for (size_t i = 0; i < sizeof counted / sizeof *counted; i++)
        rl_buf_printf(out, "%s%s %llu", i ? sep : "", counted[i].name,
                      (unsigned long long)c->n[counted[i].db]);
}

/* ---- backup ---- */

typedef struct copier {
    const char *spool;  /* the source's absolute spool directory, with no trailing slash */
    const char *dest;
    FILE *sums;
    uint64_t files, bytes, missing, outside;
    unsigned others; /* files beside the spool's (the console's users file) */
    rl_buf *out;
    int failed;         /* errno of a write that failed */
    char failed_path[RL_BACKUP_PATH_MAX];
} copier;

/* Copy src to dest/rel, its checksum to the manifest. */
static int copy_one(copier *k, const char *src, const char *rel, unsigned mode)
{
    char dst[RL_BACKUP_PATH_MAX], hex[RL_SHA256_HEX_SIZE];
    uint64_t size;
    pathf(dst, sizeof dst, "%s/%s", k->dest, rel);
    if (mkdir_parents(dst, 0700) != 0 || digest_copy_file(src, dst, mode, false, hex, &size) != 0) {
        int e = errno;
        if (e == ENOENT && access(src, F_OK) != 0)
            return 1; /* gone from the source */
        k->failed = e ? e : EIO;
        snprintf(k->failed_path, sizeof k->failed_path, "%s", dst);
        return -1;
    }
    fprintf(k->sums, "%s  %s\n", hex, rel);
    if (strncmp(rel, "spool/", 6) == 0) { /* the users file is not a spool file */
        k->files++;
        k->bytes += size;
    } else {
        k->others++;
    }
    return 0;
}

static int copy_instances(store_txn *t, copier *k, rl_err *err)
{
    store_cursor *c;
    int rc = store_cursor_open(t, STORE_INSTANCE, &c, err);
    if (rc != STORE_OK)
        return rc;
    study_inst *in = malloc(sizeof *in);
    size_t plen = strlen(k->spool);
    rl_str key, val;
    for (int r = store_cursor_get(c, STORE_FIRST, &key, &val); in && r == STORE_OK;
         r = store_cursor_get(c, STORE_NEXT, &key, &val)) {
        if (study_inst_decode(val, in) != 0)
            continue; /* `radlink check` names it */
        const char *path = in->f[STUDY_F_PATH];
        if (strncmp(path, k->spool, plen) != 0 || path[plen] != '/') {
            k->outside++;
            rl_buf_printf(k->out, "not copied (outside the spool): %s\n", path);
            continue;
        }
        char rel[RL_BACKUP_PATH_MAX];
        pathf(rel, sizeof rel, "spool%s", path + plen);
        int got = copy_one(k, path, rel, 0600);
        if (got < 0)
            break;
        if (got > 0) {
            k->missing++;
            rl_buf_printf(k->out, "missing from the spool: %s (instance %.*s)\n", path,
                          RL_STR_FMT(key));
        }
    }
    store_cursor_close(c);
    free(in);
    if (!in)
        return rl_err_set(err, RL_E_NOMEM, -1, "out of memory");
    return k->failed ? rl_err_set(err, RL_E_SYS, -1, "%s: %s", k->failed_path,
                                  strerror(k->failed))
                     : 0;
}

int backup_make(const char *data_dir, const char *dest, bool force, rl_buf *out, rl_err *err)
{
    int64_t t0 = rl_mono_ms();
    umask(077); /* what LMDB and the copies create (its lock file too): owner-only */
    char data_abs[RL_BACKUP_PATH_MAX], store_dir[RL_BACKUP_PATH_MAX], path[RL_BACKUP_PATH_MAX];
    if (!rl_realpath(data_dir, data_abs, sizeof data_abs))
        return rl_err_set(err, RL_E_SYS, -1, "%s: %s", data_dir, strerror(errno));
    if (mkdir_parents(dest, 0700) != 0) /* backups/today: backups made too */
        return rl_err_set(err, RL_E_SYS, -1, "%s: %s", dest, strerror(errno));
    if (mkdir(dest, 0700) != 0 && !(errno == EEXIST && dir_is_empty(dest)))
        return rl_err_set(err, RL_E_ARG, -1, "%s: %s", dest,
                          errno == EEXIST ? "exists and is not empty: back up into a new "
                                            "directory" : strerror(errno));
    /* a directory made beforehand that others may enter would show them
     * every patient's data */
    struct stat sb;
    if (!force && stat(dest, &sb) == 0 && (sb.st_mode & 077))
        return rl_err_set(err, RL_E_ARG, -1, "%s: other users may read it (mode %04o), and a "
                          "backup holds every patient's data: chmod 700 it, back up into a new "
                          "directory (made owner-only), or give --force", dest,
                          (unsigned)(sb.st_mode & 07777));
    pathf(store_dir, sizeof store_dir, "%s/store", dest);
    if (mkdir(store_dir, 0700) != 0)
        return rl_err_set(err, RL_E_SYS, -1, "%s: %s", store_dir, strerror(errno));
    store *st;
    if (store_open(data_dir, &(store_opts){ .readonly = true }, &st, err) != STORE_OK)
        return -1;
    int rc = store_copy(st, store_dir, err);
    store_close(st);
    if (rc != STORE_OK)
        return -1;
    pathf(path, sizeof path, "%s/data.mdb", store_dir); /* LMDB made it by the umask */
    if (chmod(path, 0600) != 0)
        return rl_err_set(err, RL_E_SYS, -1, "%s: %s", path, strerror(errno));
    int64_t t_store = rl_mono_ms() - t0;
    /* what the copy holds, and the files it names */
    if (store_open(dest, &(store_opts){ .readonly = true }, &st, err) != STORE_OK)
        return -1;
    store_txn *t;
    if (store_begin(st, NULL, false, &t, err) != STORE_OK) {
        store_close(st);
        return -1;
    }
    counts c;
    count_all(t, &c);
    pathf(path, sizeof path, "%s/MANIFEST.sha256", dest);
    char spool[RL_BACKUP_PATH_MAX];
    pathf(spool, sizeof spool, "%s/spool", data_abs);
    copier k = { .spool = spool, .dest = dest, .sums = fopen_private(path), .out = out };
    if (!k.sums) {
        store_abort(t);
        store_close(st);
        return rl_err_set(err, RL_E_SYS, -1, "%s: %s", path, strerror(errno));
    }
    char src[RL_BACKUP_PATH_MAX];
    pathf(src, sizeof src, "%s/store/data.mdb", dest);
    /* the store's copy is in place: its checksum only */
    char hex[RL_SHA256_HEX_SIZE];
    uint64_t store_bytes = 0;
    rc = digest_copy_file(src, NULL, 0, false, hex, &store_bytes);
    if (rc != 0)
        rl_err_set(err, RL_E_SYS, -1, "%s: %s", src, strerror(errno));
    else
        fprintf(k.sums, "%s  store/data.mdb\n", hex);
    if (rc == 0)
        rc = copy_instances(t, &k, err);
    store_abort(t);
    store_close(st);
    pathf(src, sizeof src, "%s/users", data_abs);
    if (rc == 0 && access(src, F_OK) == 0 && copy_one(&k, src, "users", 0600) < 0)
        rc = rl_err_set(err, RL_E_SYS, -1, "%s: %s", k.failed_path, strerror(k.failed));
    if (fflush(k.sums) != 0)
        rc = rl_err_set(err, RL_E_SYS, -1, "%s: %s", path, strerror(errno));
    fclose(k.sums);
    if (rc == 0 && sync_tree(dest, err) != 0)
        rc = -1;
    if (rc != 0)
        return -1;
    char when[RL_TIME_TEXT_MAX];
    rl_time_iso(rl_now_us(), when, sizeof when);
    pathf(path, sizeof path, "%s/MANIFEST", dest);
    FILE *m = fopen_private(path);
    if (!m)
        return rl_err_set(err, RL_E_SYS, -1, "%s: %s", path, strerror(errno));
    rl_buf text;
    rl_buf_init(&text, 0);
    rl_buf_printf(&text, "radlink backup 1\nradlink %s\ncreated %s\nsource %s\nspool %s\n",
                  RADLINK_VERSION, when, data_abs, spool);
    print_counts(&text, &c, "\n");
    rl_buf_printf(&text, "\nstore-bytes %llu\nspool-files %llu\nspool-bytes %llu\n"
                  "spool-missing %llu\n", (unsigned long long)store_bytes,
                  (unsigned long long)k.files, (unsigned long long)k.bytes,
                  (unsigned long long)k.missing);
    bool ok = fwrite(text.data, 1, text.len, m) == text.len && fflush(m) == 0 &&
              fsync(fileno(m)) == 0;
    fclose(m);
    rl_buf_free(&text);
    if (!ok)
        return rl_err_set(err, RL_E_SYS, -1, "%s: %s", path, strerror(errno));
    rl_buf_printf(out, "backed up %s into %s in %.1f s (the store's snapshot: %.1f s)\n",
                  data_abs, dest, (double)(rl_mono_ms() - t0) / 1000.0, (double)t_store / 1000.0);
    rl_buf_add_c(out, "  ");
    print_counts(out, &c, ", ");
    rl_buf_printf(out, "\n  store %llu bytes; spool %llu files, %llu bytes%s%s\n",
                  (unsigned long long)store_bytes, (unsigned long long)k.files,
                  (unsigned long long)k.bytes, k.others ? "; the console's users file" : "",
                  k.missing ? "; some files were missing" : "");
    return 0;
}

/* ---- the manifest ---- */

typedef struct manifest {
    char spool[RL_BACKUP_PATH_MAX];
    bool ok;
} manifest;

static int read_manifest(const char *dir, manifest *m, rl_err *err)
{
    char path[RL_BACKUP_PATH_MAX], line[RL_BACKUP_MANIFEST_LINE_MAX];
    pathf(path, sizeof path, "%s/MANIFEST", dir);
    FILE *f = fopen(path, "r");
    if (!f)
        return rl_err_set(err, RL_E_SYS, -1, "%s: %s (not a radlink backup)", path,
                          strerror(errno));
    memset(m, 0, sizeof *m);
    bool first = true;
    while (fgets(line, sizeof line, f)) {
        line[strcspn(line, "\n")] = '\0';
        if (first && strcmp(line, "radlink backup 1") != 0) {
            fclose(f);
            return rl_err_set(err, RL_E_ARG, -1, "%s:1: not a radlink backup (version 1)",
                              path);
        }
        first = false;
        if (!strncmp(line, "spool ", 6))
            pathf(m->spool, sizeof m->spool, "%s", line + 6);
    }
    fclose(f);
    if (!m->spool[0])
        return rl_err_set(err, RL_E_ARG, -1, "%s: no spool line", path);
    m->ok = true;
    return 0;
}

/* Every line of DIR/MANIFEST.sha256 checked; each file that differs or is
 * missing named in out. Returns how many do not hold, or -1. */
static long verify_sums(const char *dir, rl_buf *out, unsigned long max_lines, rl_err *err)
{
    char path[RL_BACKUP_PATH_MAX], line[RL_BACKUP_SUMS_LINE_MAX];
    pathf(path, sizeof path, "%s/MANIFEST.sha256", dir);
    FILE *f = fopen(path, "r");
    if (!f)
        return rl_err_set(err, RL_E_SYS, -1, "%s: %s", path, strerror(errno)), -1;
    long bad = 0;
    unsigned long lineno = 0;
    while (fgets(line, sizeof line, f)) {
        lineno++;
        line[strcspn(line, "\n")] = '\0';
        if (strlen(line) < 67 || line[64] != ' ' || line[65] != ' ' || strstr(line, "..")) {
            if ((unsigned long)bad++ < max_lines)
                rl_buf_printf(out, "%s:%lu: not a checksum line\n", path, lineno);
            continue;
        }
        char file[RL_BACKUP_PATH_MAX], hex[RL_SHA256_HEX_SIZE];
        uint64_t size;
        pathf(file, sizeof file, "%s/%s", dir, line + 66);
        if (digest_copy_file(file, NULL, 0, false, hex, &size) != 0) {
            if ((unsigned long)bad++ < max_lines)
                rl_buf_printf(out, "%s: %s\n", line + 66, strerror(errno));
        } else if (memcmp(hex, line, 64) != 0) {
            if ((unsigned long)bad++ < max_lines)
                rl_buf_printf(out, "%s: checksum differs from the manifest\n", line + 66);
        }
    }
    fclose(f);
    return bad;
}

/* ---- restore ---- */

static int copy_tree_file(const char *src, const char *dst, unsigned mode, rl_err *err)
{
    char hex[RL_SHA256_HEX_SIZE];
    uint64_t size;
    if (mkdir_parents(dst, 0700) != 0 || digest_copy_file(src, dst, mode, false, hex, &size) != 0)
        return rl_err_set(err, RL_E_SYS, -1, "%s: %s", dst, strerror(errno));
    return 0;
}

/* The restored instances' spool paths: from the backup's spool to ours. */
static int repoint(const char *data_abs, const char *old_spool, uint64_t *n, rl_err *err)
{
    store *st;
    *n = 0;
    if (store_open(data_abs, &(store_opts){ 0 }, &st, err) != STORE_OK)
        return -1;
    store_txn *t;
    if (store_begin(st, NULL, true, &t, err) != STORE_OK) {
        store_close(st);
        return -1;
    }
    char spool[RL_BACKUP_PATH_MAX];
    pathf(spool, sizeof spool, "%s/spool", data_abs);
    size_t olen = strlen(old_spool);
    store_cursor *c;
    int rc = store_cursor_open(t, STORE_INSTANCE, &c, err);
    study_inst *in = malloc(sizeof *in);
    rl_buf keys, recs;
    rl_buf_init(&keys, 0);
    rl_buf_init(&recs, 0);
    rl_str key, val;
    /* gather first: no write under an open cursor */
    for (int r = rc == STORE_OK && in ? store_cursor_get(c, STORE_FIRST, &key, &val) : -1;
         r == STORE_OK; r = store_cursor_get(c, STORE_NEXT, &key, &val)) {
        if (study_inst_decode(val, in) != 0 || strncmp(in->f[STUDY_F_PATH], old_spool, olen) ||
            strcmp(spool, old_spool) == 0)
            continue;
        char moved[sizeof in->f[0]];
        int w = snprintf(moved, sizeof moved, "%s%s", spool, in->f[STUDY_F_PATH] + olen);
        if (w < 0 || (size_t)w >= sizeof moved)
            continue; /* `radlink check` names it */
        snprintf(in->f[STUDY_F_PATH], sizeof in->f[STUDY_F_PATH], "%s", moved);
        rl_buf rec;
        rl_buf_init(&rec, 0);
        study_inst_encode(in, &rec);
        uint32_t kn = (uint32_t)key.n, rn = (uint32_t)rec.len;
        rl_buf_add(&keys, &kn, sizeof kn);
        rl_buf_add(&keys, key.p, key.n);
        rl_buf_add(&recs, &rn, sizeof rn);
        rl_buf_add(&recs, rec.data, rec.len);
        rl_buf_free(&rec);
    }
    if (rc == STORE_OK)
        store_cursor_close(c);
    size_t ki = 0, ri = 0;
    while (rc == STORE_OK && ki < keys.len) {
        uint32_t kn, rn;
        memcpy(&kn, keys.data + ki, sizeof kn);
        memcpy(&rn, recs.data + ri, sizeof rn);
        rc = store_put(t, STORE_INSTANCE, (rl_str){ (char *)keys.data + ki + 4, kn },
                       (rl_str){ (char *)recs.data + ri + 4, rn }, 0, err);
        ki += 4 + kn;
        ri += 4 + rn;
        (*n)++;
    }
    rl_buf_free(&keys);
    rl_buf_free(&recs);
    free(in);
    rc = rc == STORE_OK ? store_commit(t, err) : (store_abort(t), rc);
    store_close(st);
    return rc == STORE_OK ? 0 : -1;
}

int backup_restore(const char *src, const char *data_dir, rl_buf *out, rl_err *err)
{
    umask(077); /* the restored store and spool: owner-only, as the engine makes them */
    int64_t t0 = rl_mono_ms();
    manifest m;
    if (read_manifest(src, &m, err) != 0)
        return -1;
    long bad = verify_sums(src, out, 100, err);
    if (bad < 0)
        return -1;
    if (bad > 0)
        return rl_err_set(err, RL_E_ARG, -1, "%s: %ld file%s of the backup do%s not match its "
                          "manifest: nothing restored", src, bad, bad == 1 ? "" : "s",
                          bad == 1 ? "es" : ""), -1;
    char path[RL_BACKUP_PATH_MAX], data_abs[RL_BACKUP_PATH_MAX];
    pathf(path, sizeof path, "%s/store/data.mdb", data_dir);
    if (access(path, F_OK) == 0)
        return rl_err_set(err, RL_E_ARG, -1, "%s holds a store already: restore into a new "
                          "or empty directory", data_dir), -1;
    if (mkdir(data_dir, 0700) != 0 && errno != EEXIST)
        return rl_err_set(err, RL_E_SYS, -1, "%s: %s", data_dir, strerror(errno)), -1;
    if (!rl_realpath(data_dir, data_abs, sizeof data_abs))
        return rl_err_set(err, RL_E_SYS, -1, "%s: %s", data_dir, strerror(errno)), -1;
    /* every file the manifest names, in place */
    char sums[RL_BACKUP_PATH_MAX], line[RL_BACKUP_SUMS_LINE_MAX];
    pathf(sums, sizeof sums, "%s/MANIFEST.sha256", src);
    FILE *f = fopen(sums, "r");
    if (!f)
        return rl_err_set(err, RL_E_SYS, -1, "%s: %s", sums, strerror(errno)), -1;
    unsigned long files = 0;
    int rc = 0;
    while (rc == 0 && fgets(line, sizeof line, f)) {
        line[strcspn(line, "\n")] = '\0';
        const char *rel = line + 66;
        char from[RL_BACKUP_PATH_MAX], to[RL_BACKUP_PATH_MAX];
        pathf(from, sizeof from, "%s/%s", src, rel);
        pathf(to, sizeof to, "%s/%s", data_abs, rel);
        rc = copy_tree_file(from, to, 0600, err);
        files++;
    }
    fclose(f);
    if (rc != 0 || sync_tree(data_abs, err) != 0)
        return -1;
    uint64_t moved;
    if (repoint(data_abs, m.spool, &moved, err) != 0)
        return -1;
    rl_buf_printf(out, "restored %s into %s in %.1f s: %lu files, %llu instances pointed at "
                  "%s/spool\n", src, data_abs, (double)(rl_mono_ms() - t0) / 1000.0, files,
                  (unsigned long long)moved, data_abs);
    return 0;
}

/* ---- check ---- */

typedef struct checker {
    store_txn *t;
    rl_buf *out;
    unsigned long problems;
} checker;

static void problem(checker *k, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void problem(checker *k, const char *fmt, ...)
{
    if (k->problems++ >= RL_CHECK_LINES)
        return;
    va_list ap;
    va_start(ap, fmt);
    rl_buf_vprintf(k->out, fmt, ap);
    va_end(ap);
    rl_buf_add_ch(k->out, '\n');
}

static void index_problem(void *ctx, const char *text)
{
    problem(ctx, "%s", text);
}

static bool message_exists(store_txn *t, uint64_t seq)
{
    msglog_rec r = MSGLOG_REC_INIT;
    rl_err err;
    bool there = msglog_get(t, seq, &r, &err) == STORE_OK;
    msglog_rec_free(&r);
    return there;
}

static int check_queue(void *ctx, const queue_item *it)
{
    checker *k = ctx;
    if (it->msg_seq && !message_exists(k->t, it->msg_seq))
        problem(k, "queue %s %llu: message %llu is not in the log", it->dest,
                (unsigned long long)it->qseq, (unsigned long long)it->msg_seq);
    return 0;
}

static int check_job(void *ctx, const job *j)
{
    checker *k = ctx;
    study_rec s;
    rl_err err;
    rl_str uid, node;
    recon_job_split(j->subject, &uid, &node);
    if (uid.n && study_get(k->t, uid, &s, &err) != STORE_OK)
        problem(k, "job %llu: study %.*s is not in the index", (unsigned long long)j->id,
                RL_STR_FMT(uid));
    return 0;
}

static int check_wl(void *ctx, rl_str key, const wl_entry *e)
{
    (void)key;
    checker *k = ctx;
    /* the message that last wrote an entry may have gone with retention (an
     * order outlives its message); a number the log never gave is wrong */
    uint64_t next = 0;
    rl_err err;
    if (e->msg_seq && store_next_seq(k->t, STORE_MSG, &next, &err) == STORE_OK &&
        e->msg_seq >= next)
        problem(k, "worklist entry %.*s: message %llu was never in the log",
                RL_STR_FMT(wl_top(e, WL_ACCESSION)), (unsigned long long)e->msg_seq);
    return 0;
}

typedef struct study_check {
    checker *k;
    rl_str uid;
} study_check;

static int check_member(void *ctx, rl_str sop)
{
    study_check *sc = ctx;
    rl_str v;
    rl_err err;
    if (store_get(sc->k->t, STORE_INSTANCE, sop, &v, &err) != STORE_OK)
        problem(sc->k, "study %.*s: instance %.*s is in its index but not stored",
                RL_STR_FMT(sc->uid), RL_STR_FMT(sop));
    return 0;
}

static int check_study(void *ctx, rl_str uid, const study_rec *s)
{
    (void)s;
    study_check sc = { ctx, uid };
    rl_err err;
    study_index_each(sc.k->t, 'I', uid, check_member, &sc, &err);
    return 0;
}

int backup_check(const char *data_dir, rl_buf *out, unsigned long *problems, rl_err *err)
{
    store *st;
    *problems = 0;
    if (store_open(data_dir, &(store_opts){ .readonly = true }, &st, err) != STORE_OK)
        return -1;
    store_txn *t;
    if (store_begin(st, NULL, false, &t, err) != STORE_OK) {
        store_close(st);
        return -1;
    }
    checker k = { .t = t, .out = out };
    counts c;
    count_all(t, &c);
    /* a backup directory: its instances' files are in its own spool */
    manifest m;
    rl_err merr;
    char own_spool[RL_BACKUP_PATH_MAX];
    bool backup = read_manifest(data_dir, &m, &merr) == 0;
    size_t mlen = backup ? strlen(m.spool) : 0;
    pathf(own_spool, sizeof own_spool, "%s/spool", data_dir);
    /* every instance has its file */
    store_cursor *cur;
    study_inst *in = malloc(sizeof *in);
    uint64_t files = 0, bytes = 0;
    if (in && store_cursor_open(t, STORE_INSTANCE, &cur, err) == STORE_OK) {
        rl_str key, val;
        for (int r = store_cursor_get(cur, STORE_FIRST, &key, &val); r == STORE_OK;
             r = store_cursor_get(cur, STORE_NEXT, &key, &val)) {
            struct stat sb;
            char moved[RL_BACKUP_PATH_MAX];
            bool decoded = study_inst_decode(val, in) == 0;
            if (decoded && backup && !strncmp(in->f[STUDY_F_PATH], m.spool, mlen) &&
                pathf(moved, sizeof moved, "%s%s", own_spool, in->f[STUDY_F_PATH] + mlen) == 0)
                snprintf(in->f[STUDY_F_PATH], sizeof in->f[STUDY_F_PATH], "%.*s",
                         (int)(sizeof in->f[STUDY_F_PATH] - 1), moved);
            if (!decoded)
                problem(&k, "instance %.*s: its record does not decode", RL_STR_FMT(key));
            else if (stat(in->f[STUDY_F_PATH], &sb) != 0)
                problem(&k, "instance %.*s: %s: %s", RL_STR_FMT(key), in->f[STUDY_F_PATH],
                        strerror(errno));
            else if (!S_ISREG(sb.st_mode) || sb.st_size == 0)
                problem(&k, "instance %.*s: %s: not a file, or empty", RL_STR_FMT(key),
                        in->f[STUDY_F_PATH]);
            else
                files++, bytes += (uint64_t)sb.st_size;
        }
        store_cursor_close(cur);
    }
    free(in);
    study_each(t, check_study, &k, err);
    queue_each(t, NULL, check_queue, &k, err);
    job_each(t, 1, check_job, &k, err);
    wl_scan(t, 0, (rl_str){ "", 0 }, (rl_str){ NULL, 0 }, check_wl, &k, err);
    uint64_t idx_entries = 0;
    msgidx_verify(t, index_problem, &k, &idx_entries, err);
    store_abort(t);
    store_close(st);
    /* a backup directory: its checksums too */
    char sums[RL_BACKUP_PATH_MAX];
    pathf(sums, sizeof sums, "%s/MANIFEST.sha256", data_dir);
    long bad = 0;
    if (access(sums, F_OK) == 0) {
        unsigned long left = k.problems < RL_CHECK_LINES ? RL_CHECK_LINES - k.problems : 0;
        bad = verify_sums(data_dir, out, left, err);
        if (bad < 0)
            return -1;
        k.problems += (unsigned long)bad;
    }
    if (k.problems > RL_CHECK_LINES)
        rl_buf_printf(out, "(and %lu more)\n", k.problems - RL_CHECK_LINES);
    rl_buf_printf(out, "%s: ", data_dir);
    print_counts(out, &c, ", ");
    rl_buf_printf(out, ", %llu message index entries, spool %llu files, %llu bytes%s: %lu "
                  "problem%s\n", (unsigned long long)idx_entries,
                  (unsigned long long)files, (unsigned long long)bytes,
                  access(sums, F_OK) == 0 ? ", checksums checked" : "", k.problems,
                  k.problems == 1 ? "" : "s");
    *problems = k.problems;
    return 0;
}
