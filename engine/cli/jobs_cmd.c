/* radlink jobs list|show|retry: the job records, beside the running engine. */
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "radlink/cfg.h"
#include "radlink/job.h"
#include "radlink/store.h"

static const struct option jobs_longs[] = {
    { "data", required_argument, NULL, 'D' }, { "config", required_argument, NULL, 'C' },
    { "state", required_argument, NULL, 's' }, { "dead", no_argument, NULL, 'd' },
    { 0, 0, 0, 0 },
};

typedef struct jopts {
    const char *data, *config;
    int state; /* 0 = any */
    bool dead;
} jopts;

static int parse(const cli_cmd *self, int argc, char **argv, jopts *o)
{
    cli_opts co = { argc, argv, self, "", jobs_longs, 0, 0 };
    int c;
    while ((c = cli_next(&co)) != -1) {
        switch (c) {
        case CLI_STOP: return co.exit_code ? co.exit_code : -1;
        case 'D': o->data = optarg; break;
        case 'C': o->config = optarg; break;
        case 'd': o->dead = true; break;
        case 's':
            o->state = (int)job_state_parse(optarg);
            if (!o->state)
                return cli_usage(self, "--state must be pending, running, failed, done, dead or "
                                       "unverified");
            break;
        }
    }
    return 0;
}

typedef struct lctx {
    int state;
    unsigned n;
} lctx;

static int row(void *ctx, const job *j)
{
    lctx *l = ctx;
    if (l->state && (int)j->state != l->state)
        return 0;
    l->n++;
    char upd[32];
    cli_fmt_time(j->updated_us, upd, sizeof upd);
    rl_str note = j->state == JOB_DONE ? j->result : j->last_error;
    if (j->state == JOB_RUNNING)
        note = j->worker;
    printf("%-6llu %-8s %-6.*s %-8u %-19s %-40.*s %.*s\n", (unsigned long long)j->id,
           job_state_name(j->state), RL_STR_FMT(j->kind), j->attempts, upd,
           RL_STR_FMT(j->subject), (int)(note.n > 100 ? 100 : note.n), note.p);
    return 0;
}

static int run_list(const cli_cmd *self, int argc, char **argv)
{
    jopts o = { 0 };
    int rc = parse(self, argc, argv, &o);
    if (rc)
        return rc < 0 ? CLI_OK : rc;
    if (optind < argc)
        return cli_usage(self, "unexpected argument '%s'", argv[optind]);
    store *st;
    store_txn *t;
    if ((rc = cli_open_store(self, o.data, o.config, false, &st, &t)) != 0)
        return rc;
    printf("%-6s %-8s %-6s %-8s %-19s %-40s %s\n", "ID", "STATE", "KIND", "ATTEMPTS", "UPDATED",
           "STUDY", "RESULT / LAST ERROR");
    lctx l = { o.state, 0 };
    rl_err err;
    rc = job_each(t, 1, row, &l, &err);
    store_abort(t);
    store_close(st);
    if (rc != STORE_OK)
        return cli_fail(self, CLI_FAIL, "%s", err.msg);
    printf("(%u job%s)\n", l.n, l.n == 1 ? "" : "s");
    return CLI_OK;
}

static int run_show(const cli_cmd *self, int argc, char **argv)
{
    jopts o = { 0 };
    int rc = parse(self, argc, argv, &o);
    if (rc)
        return rc < 0 ? CLI_OK : rc;
    uint64_t id;
    if (argc - optind != 1 || !rl_str_to_u64(rl_str_c(argv[optind]), UINT64_MAX, &id))
        return cli_usage(self, "expected one job ID");
    store *st;
    store_txn *t;
    if ((rc = cli_open_store(self, o.data, o.config, false, &st, &t)) != 0)
        return rc;
    job j;
    rl_err err;
    rc = job_get(t, id, &j, &err);
    if (rc == STORE_OK) {
        char c[32], u[32], nx[32];
        cli_fmt_time(j.created_us, c, sizeof c);
        cli_fmt_time(j.updated_us, u, sizeof u);
        cli_fmt_time(j.due_us, nx, sizeof nx);
        printf("job %llu\n  kind        %.*s\n  study       %.*s\n  state       %s\n"
               "  attempts    %u\n  created     %s\n  updated     %s\n",
               (unsigned long long)id, RL_STR_FMT(j.kind), RL_STR_FMT(j.subject),
               job_state_name(j.state), j.attempts, c, u);
        if (j.state == JOB_PENDING || j.state == JOB_FAILED)
            printf("  not before  %s\n", nx);
        if (j.worker.n)
            printf("  %-11s %.*s\n", j.state == JOB_RUNNING ? "running on" : "last run on",
                   RL_STR_FMT(j.worker));
        if (j.result.n)
            printf("  result      %.*s\n", RL_STR_FMT(j.result));
        if (j.last_error.n)
            printf("  %-11s %.*s\n", j.state == JOB_UNVERIFIED ? "unverified" : "last error",
                   RL_STR_FMT(j.last_error));
    }
    store_abort(t);
    store_close(st);
    if (rc == STORE_NOTFOUND)
        return cli_fail(self, CLI_FAIL, "no job %llu", (unsigned long long)id);
    return rc == STORE_OK ? CLI_OK : cli_fail(self, CLI_FAIL, "%s", err.msg);
}

static int run_retry(const cli_cmd *self, int argc, char **argv)
{
    jopts o = { 0 };
    int rc = parse(self, argc, argv, &o);
    if (rc)
        return rc < 0 ? CLI_OK : rc;
    uint64_t id;
    if (o.dead ? argc != optind
               : (argc - optind != 1 || !rl_str_to_u64(rl_str_c(argv[optind]), UINT64_MAX, &id)))
        return cli_usage(self, "expected a job ID, or --dead");
    char *req[] = { "jobs", "retry", o.dead ? "--dead" : argv[optind], NULL };
    return cli_ctl(self, o.data, o.config, 3, req);
}

#define JOBS_HELP                                                                              \
    "  --data DIR        data directory (default: from --config, else ./var)\n"                \
    "  --config FILE     take the data directory from this configuration\n"

static const cli_cmd jobs_subs[] = {
    { .name = "list", .args = "", .run = run_list, .summary = "every job, oldest first",
      .help = "  --state S         pending, running, failed, done, dead or unverified\n" JOBS_HELP },
    { .name = "show", .args = "ID", .run = run_show, .summary = "one job", .help = JOBS_HELP },
    { .name = "retry", .args = "ID|--dead", .run = run_retry,
      .summary = "put a dead, unverified (or failed) job back in line, now",
      .help = "  --dead            every dead job\n" JOBS_HELP },
    { 0 },
};

const cli_cmd cli_jobs_cmd = {
    .name = "jobs",
    .summary = "correction and forwarding jobs: list, show, retry",
    .subs = jobs_subs,
};
