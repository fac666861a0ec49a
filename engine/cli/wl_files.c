/* radlink wl export|import: the Modality Worklist as files. export writes one
 * .wl DICOM file per entry, the format DCMTK's wlmscpfs serves; import reads
 * such files (and DICOM dumps) back as entries, for a site moving from
 * wlmscpfs or Orthanc's worklist folder. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tools.h"
#include "radlink/cfg.h"
#include "radlink/ctlsock.h"
#include "radlink/dicom.h"
#include "radlink/limits.h"
#include "radlink/store.h"
#include "radlink/wl.h"

typedef struct export_ctx {
    const char *dir;
    long n;
    int rc;
    rl_err err;
} export_ctx;

static void safe_part(char *out, size_t *k, size_t n, rl_str v)
{
    for (size_t i = 0; i < v.n && *k + 1 < n; i++) {
        char c = v.p[i];
        out[(*k)++] = (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') ||
                              (c >= 'a' && c <= 'z') || c == '-' || c == '.'
                          ? c
                          : '_';
    }
}

static int export_one(void *ctx, rl_str k, const wl_entry *e)
{
    (void)k;
    export_ctx *x = ctx;
    char name[RL_WL_EXPORT_NAME_MAX];
    size_t n = 0;
    safe_part(name, &n, sizeof name, wl_top(e, WL_ACCESSION));
    name[n++] = '_';
    safe_part(name, &n, sizeof name - 1, wl_top(e, WL_RP_ID));
    name[n++] = '_';
    safe_part(name, &n, sizeof name - 4, wl_sps(e, WL_SPS_ID));
    name[n] = '\0';
    char path[RL_WL_EXPORT_PATH_MAX];
    snprintf(path, sizeof path, "%s/%s.wl", x->dir, name);
    if (dicom_write_wl(e, path, &x->err) != 0) {
        x->rc = -1;
        return 1;
    }
    x->n++;
    return 0;
}

int cli_run_wl_export(op_call *self)
{
    const char *dir = ops_str(self, "DIR");
    int rc;
    char part[CFG_PATH];
    snprintf(part, sizeof part, "%s", dir);
    for (char *p = part + 1;; p++) { /* mkdir -p */
        char ch = *p;
        if (ch != '/' && ch != '\0')
            continue;
        *p = '\0';
        if (mkdir(part, 0750) != 0 && errno != EEXIST)
            return cli_fail(self, CLI_FAIL, "%s: %s", part, strerror(errno));
        *p = ch;
        if (!ch)
            break;
    }
    /* the directory mirrors the worklist: entries no longer on it go */
    DIR *dh = opendir(dir);
    for (struct dirent *de = dh ? readdir(dh) : NULL; de; de = readdir(dh)) {
        size_t n = strlen(de->d_name);
        if (n > 3 && strcmp(de->d_name + n - 3, ".wl") == 0) {
            char old[RL_CFG_DIR_FILE_MAX];
            snprintf(old, sizeof old, "%s/%s", dir, de->d_name);
            if (unlink(old) != 0) {
                closedir(dh);
                return cli_fail(self, CLI_FAIL, "%s: %s", old, strerror(errno));
            }
        }
    }
    if (dh)
        closedir(dh);
    store *st;
    store_txn *t;
    rl_err err;
    store_opts so = { .readonly = true };
    if (store_open(self->data, &so, &st, &err) != STORE_OK)
        return cli_fail(self, CLI_FAIL, "%s", err.msg);
    if (store_begin(st, NULL, false, &t, &err) != STORE_OK) {
        store_close(st);
        return cli_fail(self, CLI_FAIL, "%s", err.msg);
    }
    export_ctx x = { dir, 0, 0, { 0, 0, "" } };
    rc = wl_scan(t, 0, (rl_str){ "", 0 }, (rl_str){ NULL, 0 }, export_one, &x, &err);
    store_abort(t);
    store_close(st);
    if (rc != STORE_OK)
        return cli_fail(self, CLI_FAIL, "%s", err.msg);
    if (x.rc)
        return cli_fail(self, CLI_FAIL, "%s", x.err.msg);
    /* wlmscpfs takes a read lock on DIR/lockfile before each query */
    char lock[RL_CFG_SUBPATH_MAX];
    snprintf(lock, sizeof lock, "%s/lockfile", dir);
    FILE *lf = fopen(lock, "a");
    if (lf)
        fclose(lf);
    printf("%ld worklist entr%s written to %s\n", x.n, x.n == 1 ? "y" : "ies", dir);
    return CLI_OK;
}

/* ---- import ---- */

typedef struct import_ctx {
    op_call *self;
    char *argv[CTLSOCK_MAX_ARGS];
    int argc, first;        /* argv[first..argc) are entries */
    size_t bytes;
    unsigned files, entries, not_taken;
    int status;
    wl_entry *ents;
    rl_arena arena;
    rl_buf rec, warn;
} import_ctx;

static void flush(import_ctx *x)
{
    if (x->argc == x->first)
        return;
    int rc = cli_write(x->self, x->argc, x->argv, CLI_CTL_STDOUT);
    if (rc > x->status)
        x->status = rc;
    for (int i = x->first; i < x->argc; i++)
        free(x->argv[i]);
    x->argc = x->first;
    x->bytes = 0;
}

static void offer(import_ctx *x, const wl_entry *e, const char *path)
{
    rl_buf_reset(&x->rec);
    if (wl_encode(e, &x->rec) != 0 || x->rec.len * 2 + 64 > RL_CTL_REQUEST_MAX / 2) {
        printf("%s: not taken: the entry is larger than a request to the engine may be\n", path);
        x->not_taken++;
        return;
    }
    if (x->argc == CTLSOCK_MAX_ARGS || x->bytes + x->rec.len * 2 + 64 > RL_CTL_REQUEST_MAX - 512)
        flush(x);
    char *h = cli_hex(rl_buf_view(&x->rec));
    if (!h) {
        printf("%s: not taken: out of memory\n", path);
        x->not_taken++;
        return;
    }
    x->argv[x->argc++] = h;
    x->bytes += x->rec.len * 2 + 8;
    x->entries++;
}

static void import_file(import_ctx *x, const char *path)
{
    x->files++;
    rl_arena_reset(&x->arena);
    dicom_wl_file f = { .entries = x->ents, .max = RL_WL_FILE_STEPS };
    rl_err err;
    if (dicom_read_wl(path, &f, &x->arena, &err) != 0) {
        printf("%s: not taken: %s\n", path, err.msg);
        x->not_taken++;
        return;
    }
    if (f.warnings[0])
        printf("%s: warning: %s\n", path, f.warnings);
    for (size_t k = 0; k < f.n; k++) {
        char step[RL_WL_STEP_TEXT_MAX] = "";
        rl_err perr;
        if (f.n > 1)
            snprintf(step, sizeof step, " (step %zu of %zu)", k + 1, f.n);
        rl_buf_reset(&x->warn);
        if (wl_import_prepare(&x->ents[k], &x->arena, &x->warn, &perr) != 0) {
            printf("%s%s: not taken: %s\n", path, step, perr.msg);
            x->not_taken++;
            continue;
        }
        if (x->warn.len)
            printf("%s%s: warning: %.*s\n", path, step, (int)x->warn.len, x->warn.data);
        x->ents[k].source = rl_str_c(path);
        offer(x, &x->ents[k], path);
    }
}

static int by_name(const struct dirent **a, const struct dirent **b)
{
    return strcmp((*a)->d_name, (*b)->d_name);
}

/* Every file under dir, in name order (wlmscpfs keeps one directory per AE
 * title under its root: those are read too). */
static void import_dir(import_ctx *x, const char *dir, int depth)
{
    struct dirent **names;
    int n = scandir(dir, &names, NULL, by_name);
    if (n < 0) {
        printf("%s: not read: %s\n", dir, strerror(errno));
        x->not_taken++;
        return;
    }
    for (int i = 0; i < n; i++) {
        const char *name = names[i]->d_name;
        char path[RL_CFG_DIR_FILE_MAX];
        snprintf(path, sizeof path, "%s/%s", dir, name);
        struct stat sb;
        /* hidden files, and the lock file wlmscpfs keeps beside its files */
        if (name[0] == '.' || !strcmp(name, "lockfile") || stat(path, &sb) != 0) {
            free(names[i]);
            continue;
        }
        if (S_ISDIR(sb.st_mode) && depth < 4)
            import_dir(x, path, depth + 1);
        else if (S_ISREG(sb.st_mode))
            import_file(x, path);
        free(names[i]);
    }
    free(names);
}

int cli_run_wl_import(op_call *self)
{
    char dir[CFG_PATH];
    struct stat sb;
    bool dry = ops_flag(self, "dry-run");
    const char *what = ops_str(self, "DIR|FILE");
    if (!rl_realpath(what, dir, sizeof dir) || stat(dir, &sb) != 0)
        return cli_fail(self, CLI_FAIL, "%s: %s", what, strerror(errno));
    /* a site may bring its worklist before the engine's first start */
    if (mkdir(self->data, 0700) != 0 && errno != EEXIST)
        return cli_fail(self, CLI_FAIL, "%s: %s", self->data, strerror(errno));
    import_ctx *x = calloc(1, sizeof *x);
    wl_entry *ents = calloc(RL_WL_FILE_STEPS, sizeof *ents);
    if (!x || !ents) {
        free(x), free(ents);
        return cli_fail(self, CLI_FAIL, "out of memory");
    }
    x->self = self;
    x->ents = ents;
    x->argv[x->argc++] = "wl";
    x->argv[x->argc++] = "put";
    if (ops_flag(self, "replace"))
        x->argv[x->argc++] = "--replace";
    if (dry)
        x->argv[x->argc++] = "--dry-run";
    x->argv[x->argc++] = "--";
    x->first = x->argc;
    rl_arena_init(&x->arena, RL_WL_IMPORT_ARENA, 0);
    rl_buf_init(&x->rec, 0);
    rl_buf_init(&x->warn, RL_WL_IMPORT_WARN_MAX);
    if (S_ISDIR(sb.st_mode))
        import_dir(x, dir, 0);
    else
        import_file(x, dir);
    flush(x);
    printf("%u file%s read: %u entr%s offered to the worklist%s, %u not taken\n", x->files,
           x->files == 1 ? "" : "s", x->entries, x->entries == 1 ? "y" : "ies",
           dry ? " (a dry run: nothing written)" : "", x->not_taken);
    int rc = x->not_taken && x->status == 0 ? CLI_FAIL : x->status;
    rl_arena_free(&x->arena);
    rl_buf_free(&x->rec);
    rl_buf_free(&x->warn);
    free(ents);
    free(x);
    return rc;
}
