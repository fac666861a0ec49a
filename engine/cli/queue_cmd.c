/* radlink queue list|retry|park: the outbound queues. list reads while the
 * engine runs; retry and park go through the running engine (its senders act
 * at once), or change the store when none runs. */
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "radlink/cfg.h"
#include "radlink/queue.h"
#include "radlink/store.h"

static const struct option queue_longs[] = {
    { "data", required_argument, NULL, 'D' },  { "config", required_argument, NULL, 'C' },
    { "dest", required_argument, NULL, 'd' },  { "state", required_argument, NULL, 's' },
    { "all", no_argument, NULL, 'a' },         { "limit", required_argument, NULL, 'l' },
    { 0, 0, 0, 0 },
};

typedef struct qopts {
    const char *data, *config, *dest;
    int state; /* 0 = any */
    bool all;
    long limit;
} qopts;

static int parse(const cli_cmd *self, int argc, char **argv, qopts *o)
{
    cli_opts co = { argc, argv, self, "", queue_longs, 0, 0 };
    int c;
    while ((c = cli_next(&co)) != -1) {
        switch (c) {
        case CLI_STOP: return co.exit_code ? co.exit_code : -1;
        case 'D': o->data = optarg; break;
        case 'C': o->config = optarg; break;
        case 'd': o->dest = optarg; break;
        case 'a': o->all = true; break;
        case 'l':
            if (cli_number(self, "--limit", optarg, 1, 100000000, &o->limit) != 0)
                return CLI_USAGE;
            break;
        case 's':
            if (strcmp(optarg, "pending") == 0)
                o->state = QUEUE_PENDING;
            else if (strcmp(optarg, "parked") == 0)
                o->state = QUEUE_PARKED;
            else
                return cli_usage(self, "--state must be pending or parked");
            break;
        }
    }
    return 0;
}

typedef struct list_ctx {
    const qopts *o;
    long shown, pending, parked;
} list_ctx;

static int print_item(void *ctx, const queue_item *it)
{
    list_ctx *lc = ctx;
    if (it->state == QUEUE_PENDING)
        lc->pending++;
    else
        lc->parked++;
    if (lc->o->state && (int)it->state != lc->o->state)
        return 0;
    if (lc->shown >= lc->o->limit)
        return 0;
    lc->shown++;
    char enq[32], next[32] = "-";
    cli_fmt_time(it->enq_us, enq, sizeof enq);
    if (it->state == QUEUE_PENDING && it->attempts)
        cli_fmt_time(it->next_us, next, sizeof next);
    printf("%-16s %-7llu %-8s %-8llu %-19s %-8u %-19s %.*s\n", it->dest,
           (unsigned long long)it->qseq, it->state == QUEUE_PENDING ? "pending" : "parked",
           (unsigned long long)it->msg_seq, enq, it->attempts, next,
           (int)(it->last_error.n > 120 ? 120 : it->last_error.n), it->last_error.p);
    return 0;
}

static int run_list(const cli_cmd *self, int argc, char **argv)
{
    qopts o = { .limit = 1000 };
    int rc = parse(self, argc, argv, &o);
    if (rc)
        return rc < 0 ? CLI_OK : rc;
    if (optind < argc)
        return cli_usage(self, "unexpected argument '%s'", argv[optind]);
    store *st;
    store_txn *t;
    if ((rc = cli_open_store(self, o.data, o.config, false, &st, &t)) != 0)
        return rc;
    printf("%-16s %-7s %-8s %-8s %-19s %-8s %-19s %s\n", "DEST", "QSEQ", "STATE", "MSG",
           "QUEUED", "ATTEMPTS", "NEXT-ATTEMPT", "LAST-ERROR");
    list_ctx lc = { &o, 0, 0, 0 };
    rl_err err;
    rc = queue_each(t, o.dest, print_item, &lc, &err);
    store_abort(t);
    store_close(st);
    if (rc != STORE_OK)
        return cli_fail(self, CLI_FAIL, "%s", err.msg);
    printf("(%ld pending, %ld parked%s)\n", lc.pending, lc.parked,
           lc.shown < (o.state == QUEUE_PARKED ? lc.parked : o.state ? lc.pending
                                                                     : lc.pending + lc.parked)
               ? "; more than --limit, not all shown"
               : "");
    return CLI_OK;
}

static int run_retry(const cli_cmd *self, int argc, char **argv)
{
    qopts o = { .limit = 1000 };
    int rc = parse(self, argc, argv, &o);
    if (rc)
        return rc < 0 ? CLI_OK : rc;
    uint64_t qseq = 0;
    if (argc - optind != (o.all ? 1 : 2))
        return cli_usage(self, "expected DEST QSEQ, or DEST --all");
    if (!o.all && !rl_str_to_u64(rl_str_c(argv[optind + 1]), UINT64_MAX, &qseq))
        return cli_usage(self, "'%s' is not a queue number (QSEQ in 'radlink queue list')",
                         argv[optind + 1]);
    char *req[] = { "queue", "retry", argv[optind], o.all ? "--all" : argv[optind + 1], NULL };
    return cli_ctl(self, o.data, o.config, 4, req);
}

/* An operator takes a pending message out of line (a destination that never
 * answers it), to retry later. */
static int run_park(const cli_cmd *self, int argc, char **argv)
{
    qopts o = { .limit = 1000 };
    int rc = parse(self, argc, argv, &o);
    if (rc)
        return rc < 0 ? CLI_OK : rc;
    uint64_t qseq;
    if (argc - optind != 2 || !rl_str_to_u64(rl_str_c(argv[optind + 1]), UINT64_MAX, &qseq))
        return cli_usage(self, "expected DEST QSEQ");
    char *req[] = { "queue", "park", argv[optind], argv[optind + 1], NULL };
    return cli_ctl(self, o.data, o.config, 4, req);
}

#define QUEUE_HELP                                                                             \
    "  --data DIR       data directory (default: from --config, else ./var)\n"                 \
    "  --config FILE    take the data directory from this configuration\n"

static const cli_cmd queue_subs[] = {
    { .name = "list", .args = "", .run = run_list,
      .summary = "list queued messages (pending delivery, or parked after AE/AR)",
      .help = QUEUE_HELP "  --dest NAME      one destination only\n"
                         "  --state STATE    pending or parked\n"
                         "  --limit N        show at most N (default 1000)\n" },
    { .name = "retry", .args = "DEST QSEQ|--all", .run = run_retry,
      .summary = "put a parked message (or every parked one of DEST) back in line",
      .help = QUEUE_HELP "  --all            every parked message of DEST\n"
                         "A retried message keeps its place (its QSEQ): it is delivered before\n"
                         "the messages queued after it that are still waiting.\n" },
    { .name = "park", .args = "DEST QSEQ", .run = run_park,
      .summary = "take a pending message out of line (a destination that never answers it)",
      .help = QUEUE_HELP "The sender goes on with the next message; 'radlink queue retry' puts\n"
                         "this one back.\n" },
    { 0 },
};

const cli_cmd cli_queue_cmd = {
    .name = "queue",
    .summary = "outbound queues: list, retry, park",
    .subs = queue_subs,
};
