/* radlink mpps list|show: the Modality Performed Procedure Steps modalities
 * reported, read beside the running engine. */
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "radlink/mpps.h"
#include "radlink/store.h"

static const struct option mpps_longs[] = {
    { "data", required_argument, NULL, 'D' },
    { "config", required_argument, NULL, 'C' },
    { "unmatched", no_argument, NULL, 'u' },
    { 0, 0, 0, 0 },
};

typedef struct mopts {
    const char *data, *config;
    bool unmatched;
} mopts;

static int parse(const cli_cmd *self, int argc, char **argv, mopts *o, int nargs)
{
    cli_opts co = { argc, argv, self, "", mpps_longs, 0, 0 };
    int c;
    while ((c = cli_next(&co)) != -1) {
        if (c == CLI_STOP)
            return co.exit_code ? co.exit_code : -1;
        if (c == 'D')
            o->data = optarg;
        else if (c == 'C')
            o->config = optarg;
        else if (c == 'u')
            o->unmatched = true;
    }
    if (argc - optind != nargs)
        return cli_usage(self, "expected %s", nargs ? self->args : "no arguments");
    return 0;
}

/* The worklist steps of a record: "accession/procedure/step" each. */
static void print_steps(rl_str keys, const char *sep)
{
    bool first = true;
    for (size_t i = 0, start = 0; i < keys.n; i++) {
        if (keys.p[i] != '\n')
            continue;
        printf("%s", first ? "" : sep);
        for (size_t k = start; k < i; k++)
            putchar(keys.p[k] ? keys.p[k] : '/');
        start = i + 1;
        first = false;
    }
    if (first)
        printf("-");
}

static int run_list(const cli_cmd *self, int argc, char **argv)
{
    mopts o = { 0 };
    int rc = parse(self, argc, argv, &o, 0);
    if (rc)
        return rc < 0 ? CLI_OK : rc;
    store *st;
    store_txn *t;
    if ((rc = cli_open_store(self, o.data, o.config, false, &st, &t)) != 0)
        return rc;
    store_cursor *cur;
    rl_err err;
    unsigned n = 0;
    if (store_cursor_open(t, STORE_MPPS, &cur, &err) != STORE_OK) {
        store_abort(t);
        store_close(st);
        return cli_fail(self, CLI_FAIL, "%s", err.msg);
    }
    printf("%-44s %-12s %-8s %-9s %-16s %-6s %-15s %s\n", "SOP-INSTANCE-UID", "STATE", "MOD",
           "STATION", "UPDATED", "SERIES", "PPS-ID", "STEPS (accession/procedure/step)");
    rl_str k, v;
    for (int r = store_cursor_get(cur, STORE_FIRST, &k, &v); r == STORE_OK;
         r = store_cursor_get(cur, STORE_NEXT, &k, &v)) {
        mpps_rec m;
        dicom_mpps_info info;
        if (mpps_decode(v, &m) != STORE_OK || dicom_mpps_info_read(m.dataset, &info, &err) != 0)
            continue;
        if (o.unmatched && !(m.flags & MPPS_UNMATCHED))
            continue;
        char when[32];
        cli_fmt_time(m.updated_us, when, sizeof when);
        printf("%-44.*s %-12s %-8s %-9s %-16.16s %-6u %-15s ", RL_STR_FMT(k),
               mpps_state_name(m.state), info.modality, info.station_ae, when, info.series,
               info.pps_id);
        if (m.flags & MPPS_UNMATCHED)
            printf("not on the worklist: ");
        print_steps(m.steps, " ");
        printf("\n");
        n++;
    }
    store_cursor_close(cur);
    store_abort(t);
    store_close(st);
    printf("(%u step%s%s)\n", n, n == 1 ? "" : "s", o.unmatched ? " on the exception list" : "");
    return CLI_OK;
}

static int run_show(const cli_cmd *self, int argc, char **argv)
{
    mopts o = { 0 };
    int rc = parse(self, argc, argv, &o, 1);
    if (rc)
        return rc < 0 ? CLI_OK : rc;
    store *st;
    store_txn *t;
    if ((rc = cli_open_store(self, o.data, o.config, false, &st, &t)) != 0)
        return rc;
    mpps_rec m;
    rl_err err;
    rc = mpps_get(t, rl_str_c(argv[optind]), &m, &err);
    if (rc == STORE_OK) {
        char c[32], u[32];
        cli_fmt_time(m.created_us, c, sizeof c);
        cli_fmt_time(m.updated_us, u, sizeof u);
        printf("performed procedure step %s\n  state        %s\n  reported by  %.*s\n"
               "  created      %s\n  updated      %s\n  steps        ",
               argv[optind], mpps_state_name(m.state), RL_STR_FMT(m.calling_ae), c, u);
        print_steps(m.steps, ", ");
        if (m.flags & MPPS_UNMATCHED)
            printf(" (a step it names is not on the worklist: on the exception list)");
        printf("\ndata set:\n");
        rl_buf out;
        rl_buf_init(&out, 0);
        if (dicom_mpps_dump(m.dataset, &out, &err) == 0)
            fwrite(out.data, 1, out.len, stdout);
        rl_buf_free(&out);
    }
    store_abort(t);
    store_close(st);
    if (rc == STORE_NOTFOUND)
        return cli_fail(self, CLI_FAIL, "no performed procedure step %s", argv[optind]);
    return rc == STORE_OK ? CLI_OK : cli_fail(self, CLI_FAIL, "%s", err.msg);
}

#define MPPS_HELP                                                                              \
    "  --data DIR        data directory (default: from --config, else ./var)\n"                \
    "  --config FILE     take the data directory from this configuration\n"

static const cli_cmd mpps_subs[] = {
    { .name = "list", .args = "", .run = run_list,
      .summary = "the performed procedure steps modalities reported, and the worklist steps "
                 "they performed",
      .help = "  --unmatched       only the exception list: steps naming nothing on the "
              "worklist\n" MPPS_HELP },
    { .name = "show", .args = "SOP-INSTANCE-UID", .run = run_show,
      .summary = "one performed procedure step: its state, worklist steps and data set",
      .help = MPPS_HELP },
    { 0 },
};

const cli_cmd cli_mpps_cmd = {
    .name = "mpps",
    .summary = "Modality Performed Procedure Steps: list, show",
    .subs = mpps_subs,
};
