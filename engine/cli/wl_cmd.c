/* radlink wl list|show|export|import: the Modality Worklist, read while the
 * engine runs. export writes one .wl DICOM file per entry, the format DCMTK's
 * wlmscpfs serves; import reads such files (and DICOM dumps) back as entries,
 * for a site moving from wlmscpfs or Orthanc's worklist folder. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "radlink/cfg.h"
#include "radlink/ctlsock.h"
#include "radlink/dicom.h"
#include "radlink/store.h"
#include "radlink/wl.h"

static const struct option wl_longs[] = {
    { "data", required_argument, NULL, 'D' },     { "config", required_argument, NULL, 'C' },
    { "date", required_argument, NULL, 'd' },     { "ae", required_argument, NULL, 'a' },
    { "modality", required_argument, NULL, 'm' }, { "patient", required_argument, NULL, 'p' },
    { "limit", required_argument, NULL, 'l' },    { "replace", no_argument, NULL, 'r' },
    { "dry-run", no_argument, NULL, 'n' },        { 0, 0, 0, 0 },
};

typedef struct wopts {
    const char *data, *config, *date, *ae, *modality, *patient;
    long limit;
    bool replace, dry_run;
} wopts;

static int parse(const cli_cmd *self, int argc, char **argv, wopts *o)
{
    cli_opts co = { argc, argv, self, "", wl_longs, 0, 0 };
    int c;
    while ((c = cli_next(&co)) != -1) {
        switch (c) {
        case CLI_STOP: return co.exit_code ? co.exit_code : -1;
        case 'D': o->data = optarg; break;
        case 'C': o->config = optarg; break;
        case 'd': o->date = optarg; break;
        case 'a': o->ae = optarg; break;
        case 'm': o->modality = optarg; break;
        case 'p': o->patient = optarg; break;
        case 'r': o->replace = true; break;
        case 'n': o->dry_run = true; break;
        case 'l':
            if (cli_number(self, "--limit", optarg, 1, 100000000, &o->limit) != 0)
                return CLI_USAGE;
            break;
        }
    }
    return 0;
}

static void key(wl_query *q, uint32_t seq, uint32_t tag, const char *vr, const char *value)
{
    if (value)
        wl_query_add(q, seq, tag, vr, rl_str_c(value));
}

typedef struct list_ctx {
    long shown, limit;
} list_ctx;

static int print_row(void *ctx, rl_str k, const wl_entry *e)
{
    (void)k;
    list_ctx *lc = ctx;
    if (lc->shown++ >= lc->limit)
        return 1;
    rl_str acc = wl_top(e, WL_ACCESSION), rp = wl_top(e, WL_RP_ID), sps = wl_sps(e, WL_SPS_ID),
           d = wl_sps(e, WL_SPS_DATE), t = wl_sps(e, WL_SPS_TIME), m = wl_sps(e, WL_MODALITY),
           ae = wl_sps(e, WL_STATION_AE), pid = wl_top(e, WL_PATIENT_ID),
           name = wl_top(e, WL_PATIENT_NAME), st = wl_sps(e, WL_SPS_STATUS);
    printf("%-16.*s %-10.*s %-10.*s %-8.*s %-6.*s %-4.*s %-16.*s %-12.*s %-10.*s %.*s\n",
           RL_STR_FMT(acc), RL_STR_FMT(rp), RL_STR_FMT(sps), RL_STR_FMT(d), RL_STR_FMT(t),
           RL_STR_FMT(m), RL_STR_FMT(ae), RL_STR_FMT(pid), RL_STR_FMT(st), RL_STR_FMT(name));
    return 0;
}

static int run_list(const cli_cmd *self, int argc, char **argv)
{
    wopts o = { .limit = 1000 };
    int rc = parse(self, argc, argv, &o);
    if (rc)
        return rc < 0 ? CLI_OK : rc;
    if (optind < argc)
        return cli_usage(self, "unexpected argument '%s'", argv[optind]);
    wl_query *q = calloc(1, sizeof *q);
    if (!q)
        return cli_fail(self, CLI_FAIL, "out of memory");
    key(q, WL_SPS_SEQ, WL_SPS_DATE, "DA", o.date);
    key(q, WL_SPS_SEQ, WL_STATION_AE, "AE", o.ae);
    key(q, WL_SPS_SEQ, WL_MODALITY, "CS", o.modality);
    key(q, 0, WL_PATIENT_ID, "LO", o.patient);
    for (size_t i = 0; i < q->n; i++) {
        rl_err kerr;
        if (!wl_key_valid(&q->k[i], &kerr)) {
            free(q);
            return cli_usage(self, "--date: %s", kerr.msg);
        }
    }
    store *st;
    store_txn *t;
    if ((rc = cli_open_store(self, o.data, o.config, false, &st, &t)) != 0) {
        free(q);
        return rc;
    }
    printf("%-16s %-10s %-10s %-8s %-6s %-4s %-16s %-12s %-10s %s\n", "ACCESSION", "PROCEDURE",
           "STEP", "DATE", "TIME", "MOD", "STATION-AE", "PATIENT-ID", "STATUS", "PATIENT");
    list_ctx lc = { 0, o.limit };
    rl_err err;
    rc = wl_find(t, q, print_row, &lc, NULL, &err);
    store_abort(t);
    store_close(st);
    free(q);
    if (rc != STORE_OK)
        return cli_fail(self, CLI_FAIL, "%s", err.msg);
    printf("(%ld entr%s%s)\n", lc.shown > lc.limit ? lc.limit : lc.shown,
           lc.shown == 1 ? "y" : "ies", lc.shown > lc.limit ? "; more than --limit" : "");
    return CLI_OK;
}

static int show_one(void *ctx, rl_str k, const wl_entry *e)
{
    (void)k;
    int *n = ctx;
    char c[32], u[32];
    cli_fmt_time(e->created_us, c, sizeof c);
    cli_fmt_time(e->updated_us, u, sizeof u);
    printf("%sentry %.*s / %.*s / %.*s\n", (*n)++ ? "\n" : "", RL_STR_FMT(wl_top(e, WL_ACCESSION)),
           RL_STR_FMT(wl_top(e, WL_RP_ID)), RL_STR_FMT(wl_sps(e, WL_SPS_ID)));
    if (e->msg_seq)
        printf("  created %s, updated %s by message %llu (radlink msg show %llu)\n", c, u,
               (unsigned long long)e->msg_seq, (unsigned long long)e->msg_seq);
    else
        printf("  created %s, imported %s from %.*s\n", c, u, RL_STR_FMT(e->source));
    for (size_t i = 0; i < e->n; i++) {
        const wl_attr *a = &e->a[i];
        const wl_model_attr *m = wl_model_by_path(a->path, a->depth);
        char tag[40];
        int w = 0;
        for (uint8_t d = 0; d < a->depth; d++)
            w += snprintf(tag + w, sizeof tag - (size_t)w, "%s(%04X,%04X)", d ? ">" : "",
                          a->path[d] >> 16, a->path[d] & 0xffff);
        printf("  %-36s %-48s %.*s\n", tag, m ? m->keyword : "?", RL_STR_FMT(a->value));
    }
    return 0;
}

static int run_show(const cli_cmd *self, int argc, char **argv)
{
    wopts o = { .limit = 1000 };
    int rc = parse(self, argc, argv, &o);
    if (rc)
        return rc < 0 ? CLI_OK : rc;
    if (argc - optind != 1)
        return cli_usage(self, "expected one ACCESSION");
    wl_query *q = calloc(1, sizeof *q);
    if (!q)
        return cli_fail(self, CLI_FAIL, "out of memory");
    key(q, 0, WL_ACCESSION, "SH", argv[optind]);
    store *st;
    store_txn *t;
    if ((rc = cli_open_store(self, o.data, o.config, false, &st, &t)) != 0) {
        free(q);
        return rc;
    }
    int n = 0;
    rl_err err;
    rc = wl_find(t, q, show_one, &n, NULL, &err);
    store_abort(t);
    store_close(st);
    free(q);
    if (rc != STORE_OK)
        return cli_fail(self, CLI_FAIL, "%s", err.msg);
    if (!n)
        return cli_fail(self, CLI_FAIL, "no worklist entry with accession number %s",
                        argv[optind]);
    return CLI_OK;
}

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
    char name[200];
    size_t n = 0;
    safe_part(name, &n, sizeof name, wl_top(e, WL_ACCESSION));
    name[n++] = '_';
    safe_part(name, &n, sizeof name - 1, wl_top(e, WL_RP_ID));
    name[n++] = '_';
    safe_part(name, &n, sizeof name - 4, wl_sps(e, WL_SPS_ID));
    name[n] = '\0';
    char path[CFG_PATH + 220];
    snprintf(path, sizeof path, "%s/%s.wl", x->dir, name);
    if (dicom_write_wl(e, path, &x->err) != 0) {
        x->rc = -1;
        return 1;
    }
    x->n++;
    return 0;
}

static int run_export(const cli_cmd *self, int argc, char **argv)
{
    wopts o = { .limit = 1000 };
    int rc = parse(self, argc, argv, &o);
    if (rc)
        return rc < 0 ? CLI_OK : rc;
    if (argc - optind != 1)
        return cli_usage(self, "expected one DIR");
    const char *dir = argv[optind];
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
            char old[CFG_PATH + 300];
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
    if ((rc = cli_open_store(self, o.data, o.config, false, &st, &t)) != 0)
        return rc;
    export_ctx x = { dir, 0, 0, { 0, 0, "" } };
    rl_err err;
    rc = wl_scan(t, 0, (rl_str){ "", 0 }, (rl_str){ NULL, 0 }, export_one, &x, &err);
    store_abort(t);
    store_close(st);
    if (rc != STORE_OK)
        return cli_fail(self, CLI_FAIL, "%s", err.msg);
    if (x.rc)
        return cli_fail(self, CLI_FAIL, "%s", x.err.msg);
    /* wlmscpfs takes a read lock on DIR/lockfile before each query */
    char lock[CFG_PATH + 16];
    snprintf(lock, sizeof lock, "%s/lockfile", dir);
    FILE *lf = fopen(lock, "a");
    if (lf)
        fclose(lf);
    printf("%ld worklist entr%s written to %s\n", x.n, x.n == 1 ? "y" : "ies", dir);
    return CLI_OK;
}

/* ---- import ---- */

typedef struct import_ctx {
    const cli_cmd *self;
    const wopts *o;
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
    int rc = cli_ctl_flags(x->self, x->o->data, x->o->config, x->argc, x->argv, CLI_CTL_STDOUT);
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
        char step[64] = "";
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
        char path[CFG_PATH + 300];
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

static int run_import(const cli_cmd *self, int argc, char **argv)
{
    wopts o = { .limit = 1000 };
    int rc = parse(self, argc, argv, &o);
    if (rc)
        return rc < 0 ? CLI_OK : rc;
    if (argc - optind != 1)
        return cli_usage(self, "expected one DIR");
    char dir[CFG_PATH], data[CFG_PATH];
    struct stat sb;
    if (!rl_realpath(argv[optind], dir, sizeof dir) || stat(dir, &sb) != 0)
        return cli_fail(self, CLI_FAIL, "%s: %s", argv[optind], strerror(errno));
    /* a site may bring its worklist before the engine's first start */
    if ((rc = cli_data_dir(self, o.data, o.config, data, sizeof data)) != 0)
        return rc;
    if (mkdir(data, 0700) != 0 && errno != EEXIST)
        return cli_fail(self, CLI_FAIL, "%s: %s", data, strerror(errno));
    import_ctx *x = calloc(1, sizeof *x);
    wl_entry *ents = calloc(RL_WL_FILE_STEPS, sizeof *ents);
    if (!x || !ents) {
        free(x), free(ents);
        return cli_fail(self, CLI_FAIL, "out of memory");
    }
    x->self = self;
    x->o = &o;
    x->ents = ents;
    x->argv[x->argc++] = "wl";
    x->argv[x->argc++] = "put";
    if (o.replace)
        x->argv[x->argc++] = "--replace";
    if (o.dry_run)
        x->argv[x->argc++] = "--dry-run";
    x->first = x->argc;
    rl_arena_init(&x->arena, 16384, 0);
    rl_buf_init(&x->rec, 0);
    rl_buf_init(&x->warn, 4096);
    if (S_ISDIR(sb.st_mode))
        import_dir(x, dir, 0);
    else
        import_file(x, dir);
    flush(x);
    printf("%u file%s read: %u entr%s offered to the worklist%s, %u not taken\n", x->files,
           x->files == 1 ? "" : "s", x->entries, x->entries == 1 ? "y" : "ies",
           o.dry_run ? " (a dry run: nothing written)" : "", x->not_taken);
    rc = x->not_taken && x->status == 0 ? CLI_FAIL : x->status;
    rl_arena_free(&x->arena);
    rl_buf_free(&x->rec);
    rl_buf_free(&x->warn);
    free(ents);
    free(x);
    return rc;
}

#define WL_HELP                                                                                \
    "  --data DIR        data directory (default: from --config, else ./var)\n"                \
    "  --config FILE     take the data directory from this configuration\n"

static const cli_cmd wl_subs[] = {
    { .name = "list", .args = "", .run = run_list,
      .summary = "list worklist entries (by start date and time within an index)",
      .help = "  --date D          start date: 20261124, or a range 20261101-20261130, 20261124-\n"
              "  --ae AE           scheduled station AE title\n"
              "  --modality M      modality (CT, MR...)\n"
              "  --patient ID      patient ID\n"
              "  --limit N         at most N rows (default 1000)\n"
              "Values may use the DICOM wildcards * and ?.\n" WL_HELP },
    { .name = "show", .args = "ACCESSION", .run = run_show,
      .summary = "every attribute of the entries of one accession number",
      .help = WL_HELP },
    { .name = "export", .args = "DIR", .run = run_export,
      .summary = "write each entry as a .wl DICOM file (what DCMTK's wlmscpfs reads); .wl files "
                 "of entries no longer on the worklist are removed",
      .help = WL_HELP "wlmscpfs looks for the files in a directory named after its AE title:\n"
                      "export to DIR/AETITLE and run 'wlmscpfs -dfp DIR PORT'.\n" },
    { .name = "import", .args = "DIR|FILE", .run = run_import,
      .summary = "take worklist files as entries: .wl DICOM files (a wlmscpfs or Orthanc "
                 "worklist folder) and DICOM dumps; each file not taken is named with the reason",
      .help = "  --replace         an entry with the same accession, procedure and step IDs\n"
              "                    is written over (default: the file is not taken)\n"
              "  --dry-run         read and check every file, write nothing\n" WL_HELP
              "Subdirectories are read too (wlmscpfs keeps one per AE title). An entry\n"
              "needs a patient ID and name, a modality and a start date; procedure and\n"
              "step IDs missing from a file are derived from its accession number. Through\n"
              "the running engine when there is one, else on the store.\n" },
    { 0 },
};

const cli_cmd cli_wl_cmd = {
    .name = "wl",
    .summary = "the Modality Worklist: list, show, export, import",
    .subs = wl_subs,
};
