/* radlink backup DEST | restore SRC | check: a consistent copy of a data
 * directory while its engine runs, that copy back into a new directory, and
 * a check of a store and its spool (radlink/backup.h). */
#include <stdio.h>
#include <unistd.h>

#include "cli.h"
#include "radlink/backup.h"
#include "radlink/cfg.h"

static const struct option longs[] = {
    { "data", required_argument, NULL, 'D' },
    { "config", required_argument, NULL, 'C' },
    { 0, 0, 0, 0 },
};

/* Options, and the data directory; nargs positional arguments expected. */
static int parse(const cli_cmd *self, int argc, char **argv, int nargs, char *dir, size_t n,
                 bool *has_data)
{
    cli_opts co = { argc, argv, self, "", longs, 0, 0 };
    const char *data = NULL, *config = NULL;
    int c;
    while ((c = cli_next(&co)) != -1) {
        switch (c) {
        case CLI_STOP: return co.exit_code ? co.exit_code : -1;
        case 'D': data = optarg; break;
        case 'C': config = optarg; break;
        }
    }
    if (argc - optind != nargs)
        return cli_usage(self, "expected %s", nargs ? self->args : "no arguments");
    if (has_data)
        *has_data = data || config;
    return cli_data_dir(self, data, config, dir, n);
}

static int report(const cli_cmd *self, int rc, rl_buf *out, const rl_err *err)
{
    fwrite(out->data ? out->data : "", 1, out->len, rc == 0 ? stdout : stderr);
    rl_buf_free(out);
    return rc == 0 ? CLI_OK : cli_fail(self, CLI_FAIL, "%s", err->msg);
}

static int run_backup(const cli_cmd *self, int argc, char **argv)
{
    char dir[CFG_PATH];
    int rc = parse(self, argc, argv, 1, dir, sizeof dir, NULL);
    if (rc)
        return rc < 0 ? CLI_OK : rc;
    rl_buf out;
    rl_buf_init(&out, 0);
    rl_err err;
    rc = backup_make(dir, argv[optind], &out, &err);
    return report(self, rc, &out, &err);
}

static int run_restore(const cli_cmd *self, int argc, char **argv)
{
    char dir[CFG_PATH];
    bool has_data;
    int rc = parse(self, argc, argv, 1, dir, sizeof dir, &has_data);
    if (rc)
        return rc < 0 ? CLI_OK : rc;
    if (!has_data)
        return cli_usage(self, "say where to restore: --data DIR (a new or empty directory)");
    if (cli_engine_pid(dir) > 0)
        return cli_fail(self, CLI_FAIL, "an engine runs on %s: restore into a new directory",
                        dir);
    rl_buf out;
    rl_buf_init(&out, 0);
    rl_err err;
    rc = backup_restore(argv[optind], dir, &out, &err);
    return report(self, rc, &out, &err);
}

static int run_check(const cli_cmd *self, int argc, char **argv)
{
    char dir[CFG_PATH];
    int rc = parse(self, argc, argv, 0, dir, sizeof dir, NULL);
    if (rc)
        return rc < 0 ? CLI_OK : rc;
    rl_buf out;
    rl_buf_init(&out, 0);
    rl_err err;
    unsigned long problems = 0;
    if (backup_check(dir, &out, &problems, &err) != 0)
        return report(self, -1, &out, &err);
    fwrite(out.data ? out.data : "", 1, out.len, stdout);
    rl_buf_free(&out);
    return problems ? CLI_FAIL : CLI_OK;
}

#define DATA_HELP                                                                              \
    "  --data DIR        data directory (default: from --config, else ./var)\n"                \
    "  --config FILE     take the data directory from this configuration\n"

const cli_cmd cli_backup_cmd = {
    .name = "backup", .args = "DEST", .run = run_backup,
    .summary = "copy the store and its spool into DEST while the engine runs",
    .help = DATA_HELP
    "DEST must be new or empty. The store is LMDB's compacted copy of one read\n"
    "transaction; the spool files its instances name follow; MANIFEST holds the\n"
    "counts and MANIFEST.sha256 every file's checksum (sha256sum -c reads it).\n",
};

const cli_cmd cli_restore_cmd = {
    .name = "restore", .args = "SRC", .run = run_restore,
    .summary = "restore a backup into a new data directory (--data DIR)",
    .help = DATA_HELP
    "Every checksum of SRC is checked first: if one does not hold, nothing is\n"
    "written. DIR must hold no store. The instances are pointed at DIR's spool.\n",
};

const cli_cmd cli_check_cmd = {
    .name = "check", .args = "", .run = run_check,
    .summary = "verify a store and its spool (or a backup directory)",
    .help = DATA_HELP
    "Every indexed instance has its file; the study index, the queues, the jobs\n"
    "and the worklist refer to what exists; a backup's checksums hold. Exit\n"
    "status 1 when something does not, each named (the first 100).\n",
};
