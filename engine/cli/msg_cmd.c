/* radlink msg list|show|search: the message log, read-only, while the engine
 * runs (LMDB readers never block the writer). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <time.h>

#include "cli.h"
#include "radlink/ctl.h"
#include "radlink/cfg.h"
#include "radlink/hl7.h"
#include "radlink/ingest.h"
#include "radlink/limits.h"
#include "radlink/route.h"
#include "radlink/wl_hook.h"
#include "radlink/msglog.h"
#include "radlink/msgfind.h"
#include "radlink/store.h"

typedef struct msg_opts {
    const char *data, *config;
    const char *type;
    int status; /* -1 = any */
    long limit;
    int64_t since_us;
    bool has_since;
} msg_opts;

static void print_header(void)
{
    printf("%-8s %-19s %-9s %-3s %-17s %-20s %-21s %s\n", "SEQ", "RECEIVED", "STATUS", "ACK",
           "TYPE", "CONTROL-ID", "PEER", "ERROR");
}

static void print_row(const msglog_rec *r)
{
    char when[32];
    cli_fmt_time(r->recv_us, when, sizeof when);
    /* the error, else what was tolerated (the routing summary's warning) */
    rl_str note = r->error;
    for (size_t i = 0; !note.n && i + 9 <= r->outcome.n; i++)
        if (memcmp(r->outcome.p + i, "warning: ", 9) == 0)
            note = (rl_str){ r->outcome.p + i, r->outcome.n - i };
    printf("%-8llu %-19s %-9s %-3.*s %-17.*s %-20.*s %-21.*s %.*s\n", (unsigned long long)r->seq,
           when, msglog_status_name(r->status), RL_STR_FMT(r->ack_code), RL_STR_FMT(r->type),
           RL_STR_FMT(r->ctrl), RL_STR_FMT(r->peer), (int)(note.n > 100 ? 100 : note.n), note.p);
}

static msgfind filter_of(const msg_opts *o)
{
    return (msgfind){ .status = o->status, .type = o->type,
                      .since_us = o->has_since ? o->since_us : 0 };
}

/* Options every msg verb shares; returns the option or CLI_STOP/-1 like cli_next. */
static int msg_common(cli_opts *co, int c, msg_opts *o, const cli_cmd *self)
{
    long v;
    switch (c) {
    case 'D': o->data = optarg; return 0;
    case 'C': o->config = optarg; return 0;
    case 'y': o->type = optarg; return 0;
    case 'l':
        if (cli_number(self, "--limit", optarg, 1, 100000000, &v) != 0)
            return CLI_USAGE;
        o->limit = v;
        return 0;
    case 's':
        if ((o->status = msglog_status_parse(optarg)) < 0)
            return cli_usage(self, "--status must be accepted, error, rejected or duplicate");
        return 0;
    case 'S':
        if (cli_parse_since(optarg, &o->since_us) != 0)
            return cli_usage(self, "--since: '%s' is not a date (2026-11-23[T10:15]) or an age "
                             "(30s, 10m, 2h, 3d)", optarg);
        o->has_since = true;
        return 0;
    default:
        (void)co;
        return CLI_USAGE;
    }
}

static const struct option msg_longs[] = {
    { "data", required_argument, NULL, 'D' },   { "config", required_argument, NULL, 'C' },
    { "type", required_argument, NULL, 'y' },   { "limit", required_argument, NULL, 'l' },
    { "status", required_argument, NULL, 's' }, { "since", required_argument, NULL, 'S' },
    { 0, 0, 0, 0 },
};

#define MSG_COMMON_HELP                                                                        \
    "  --data DIR        data directory (default: from --config, else ./var)\n"                \
    "  --config FILE     take the data directory from this configuration\n"

/* The newest matches of f, printed oldest first; how many. */
static long print_newest_first(const cli_cmd *self, store_txn *t, const msgfind *f, size_t limit)
{
    uint64_t *hits = malloc(limit * sizeof *hits), resume, scanned;
    size_t n = 0;
    rl_err err;
    if (!hits)
        return cli_fail(self, CLI_FAIL, "out of memory"), 0;
    if (msgfind_page(t, f, 0, hits, limit, &n, &resume, &scanned, &err) != STORE_OK)
        cli_fail(self, CLI_FAIL, "%s", err.msg);
    for (size_t i = n; i-- > 0;) {
        msglog_rec r;
        if (msglog_get(t, hits[i], &r, &err) == STORE_OK)
            print_row(&r);
    }
    free(hits);
    return (long)n;
}

static int run_list(const cli_cmd *self, int argc, char **argv)
{
    cli_opts co = { argc, argv, self, "", msg_longs, 0, 0 };
    msg_opts o = { .status = -1, .limit = 50 };
    int c;
    while ((c = cli_next(&co)) != -1) {
        if (c == CLI_STOP)
            return co.exit_code;
        int r = msg_common(&co, c, &o, self);
        if (r)
            return r;
    }
    if (optind < argc)
        return cli_usage(self, "unexpected argument '%s'", argv[optind]);
    store *st;
    store_txn *t;
    int rc = cli_open_store(self, o.data, o.config, false, &st, &t);
    if (rc)
        return rc;
    rl_err err;
    print_header();
    /* With --since: forward from that time. Without: the newest matches,
     * printed oldest first. */
    uint64_t next, seq;
    store_next_seq(t, STORE_MSG, &next, &err);
    long shown = 0;
    msgfind f = filter_of(&o);
    if (o.has_since) {
        msglog_seek_time(t, o.since_us, &seq, &err);
        for (; seq < next && shown < o.limit; seq++) {
            msglog_rec r;
            if (msglog_get(t, seq, &r, &err) == STORE_OK && msgfind_row_matches(&f, &r)) {
                print_row(&r);
                shown++;
            }
        }
    } else {
        print_newest_first(self, t, &f, (size_t)o.limit);
    }
    store_abort(t);
    store_close(st);
    return CLI_OK;
}

static void print_text(const char *label, rl_str s)
{
    printf("%s:\n", label);
    for (size_t i = 0; i < s.n; i++) {
        unsigned char ch = (unsigned char)s.p[i];
        if (ch == '\r' || ch == '\n')
            putchar('\n');
        else if (ch < 0x20 || ch == 0x7f) /* control bytes shown, not sent to the terminal */
            printf("\\x%02X", ch);
        else
            putchar(ch);
    }
    if (s.n && s.p[s.n - 1] != '\r' && s.p[s.n - 1] != '\n')
        putchar('\n');
}

static int run_show(const cli_cmd *self, int argc, char **argv)
{
    cli_opts co = { argc, argv, self, "", msg_longs, 0, 0 };
    msg_opts o = { .status = -1 };
    int c;
    while ((c = cli_next(&co)) != -1) {
        if (c == CLI_STOP)
            return co.exit_code;
        int r = msg_common(&co, c, &o, self);
        if (r)
            return r;
    }
    uint64_t seq;
    if (argc - optind != 1 || !rl_str_to_u64(rl_str_c(argv[optind]), UINT64_MAX, &seq))
        return cli_usage(self, "expected one message number (SEQ)");
    store *st;
    store_txn *t;
    int rc = cli_open_store(self, o.data, o.config, false, &st, &t);
    if (rc)
        return rc;
    rl_err err;
    msglog_rec r;
    rc = msglog_get(t, seq, &r, &err);
    if (rc == STORE_OK) {
        char when[40];
        rl_time_iso(r.recv_us, when, sizeof when);
        printf("message %llu\n", (unsigned long long)seq);
        printf("  received     %s\n", when);
        printf("  peer         %.*s (listener %.*s)\n", RL_STR_FMT(r.peer), RL_STR_FMT(r.listener));
        printf("  status       %s (%.*s)\n", msglog_status_name(r.status), RL_STR_FMT(r.ack_code));
        printf("  type         %.*s\n", RL_STR_FMT(r.type));
        printf("  control-id   %.*s\n", RL_STR_FMT(r.ctrl));
        printf("  sender       %.*s / %.*s\n", RL_STR_FMT(r.app), RL_STR_FMT(r.fac));
        if (r.dup_of)
            printf("  duplicate-of %llu\n", (unsigned long long)r.dup_of);
        if (r.error.n)
            printf("  error        %.*s\n", RL_STR_FMT(r.error));
        if (r.outcome.n)
            printf("  routing      %.*s\n", RL_STR_FMT(r.outcome));
        print_text("raw", r.raw);
        hl7_msg m;
        hl7_msg_init(&m, &(hl7_limits){ .max_bytes = r.raw.n + 1 });
        if (hl7_parse(&m, r.raw.p, r.raw.n, &err) == HL7_OK) {
            printf("tree:\n");
            cli_hl7_tree(stdout, &m, &err);
        } else {
            printf("tree: (does not parse: %s)\n", err.msg);
        }
        hl7_msg_free(&m);
        print_text("ack", r.ack);
        rc = CLI_OK;
    } else if (rc == STORE_NOTFOUND) {
        rc = cli_fail(self, CLI_FAIL, "no message %llu", (unsigned long long)seq);
    } else {
        rc = cli_fail(self, CLI_FAIL, "%s", err.msg);
    }
    store_abort(t);
    store_close(st);
    return rc;
}

static int run_search(const cli_cmd *self, int argc, char **argv)
{
    cli_opts co = { argc, argv, self, "", msg_longs, 0, 0 };
    msg_opts o = { .status = -1, .limit = 50 };
    int c;
    while ((c = cli_next(&co)) != -1) {
        if (c == CLI_STOP)
            return co.exit_code;
        int r = msg_common(&co, c, &o, self);
        if (r)
            return r;
    }
    if (argc - optind != 1)
        return cli_usage(self, "expected one PATH=VALUE");
    msgfind f = filter_of(&o);
    rl_err err;
    if (msgfind_set_search(&f, argv[optind], &err) != 0)
        return cli_usage(self, "%s", err.msg);
    store *st;
    store_txn *t;
    int rc = cli_open_store(self, o.data, o.config, false, &st, &t);
    if (rc)
        return rc;
    print_header();
    long n = print_newest_first(self, t, &f, (size_t)o.limit);
    store_abort(t);
    store_close(st);
    return n ? CLI_OK : CLI_FAIL;
}

/* No engine: the same replay on the store, with exactly the routes the
 * last engine on this directory ran (their text is in the store) and its
 * configuration's destinations, unless told otherwise. */
static int replay_on_store(const cli_cmd *self, const char *data, const char *config,
                           const char *routes, int argc, char **argv)
{
    rl_buf out;
    rl_buf_init(&out, 0);
    bool kept = false;
    int status = cli_ingest_on_store(self, data, config, routes, false, argc, argv, &out, &kept);
    /* a replay that ran prints its trace and ACK as a result, refused or not */
    fwrite(out.data ? out.data : "", 1, out.len, status < 2 ? stdout : stderr);
    rl_buf_free(&out);
    return status;
}

/* Replay: the routes the engine runs, unless told otherwise. */
static int run_replay(const cli_cmd *self, int argc, char **argv)
{
    static const struct option longs[] = {
        { "data", required_argument, NULL, 'D' },
        { "config", required_argument, NULL, 'C' },
        { "routes", required_argument, NULL, 'r' },
        { "quiet", no_argument, NULL, 'q' },
        { "dry-run", no_argument, NULL, 'n' },
        { 0, 0, 0, 0 },
    };
    cli_opts co = { argc, argv, self, "", longs, 0, 0 };
    const char *data = NULL, *config = NULL, *routes = NULL;
    bool quiet = false, dry = false;
    int c;
    while ((c = cli_next(&co)) != -1) {
        switch (c) {
        case CLI_STOP: return co.exit_code;
        case 'D': data = optarg; break;
        case 'C': config = optarg; break;
        case 'r': routes = optarg; break;
        case 'q': quiet = true; break;
        case 'n': dry = true; break;
        }
    }
    uint64_t seq;
    if (argc - optind != 1 || !rl_str_to_u64(rl_str_c(argv[optind]), UINT64_MAX, &seq))
        return cli_usage(self, "expected one message number (SEQ)");
    /* a running engine replays it, in its own transaction, with its routes
     * (or FILE, which it loads) */
    char abs_routes[4096];
    if (routes && !rl_realpath(routes, abs_routes, sizeof abs_routes))
        return cli_fail(self, CLI_BADINPUT, "%s: %s", routes, strerror(errno));
    char *req[7] = { "msg", "replay", argv[optind] };
    int nreq = 3;
    if (quiet)
        req[nreq++] = "--quiet";
    if (dry)
        req[nreq++] = "--dry-run";
    if (routes) {
        req[nreq++] = "--routes";
        req[nreq++] = abs_routes;
    }
    bool ran;
    int lock_fd;
    int rc = cli_ctl_or_lock(self, data, config, nreq, req, CLI_CTL_STDOUT, &ran, &lock_fd);
    if (ran || rc)
        return rc;
    rc = replay_on_store(self, data, config, routes, nreq, req);
    close(lock_fd);
    return rc;
}
static const cli_cmd msg_subs[] = {
    { .name = "list", .args = "", .run = run_list,
      .summary = "list logged messages (newest last)",
      .help = "  --since WHEN      from a time: 2026-11-23, 2026-11-23T10:15, or an age: 30s,\n"
              "                    10m, 2h, 3d\n"
              "  --type PATTERN    MSH-9, e.g. ORM^O01, ADT^A0*, ORU\n"
              "  --status S        accepted, error, rejected or duplicate\n"
              "  --limit N         at most N rows (default 50)\n" MSG_COMMON_HELP },
    { .name = "show", .args = "SEQ", .run = run_show,
      .summary = "show one logged message: outcome, raw text, tree and the ACK sent",
      .help = MSG_COMMON_HELP },
    { .name = "search", .args = "PATH=VALUE", .run = run_search,
      .summary = "find logged messages whose value at PATH matches VALUE",
      .help = "VALUE may hold the wildcards * and ?; every repetition is compared, decoded.\n"
              "Searches newest first; duplicates are skipped. Exit status 1 when nothing matches.\n"
              "  --since, --type, --status, --limit (default 50) as for 'msg list'\n"
              MSG_COMMON_HELP },
    { .name = "replay", .args = "SEQ", .run = run_replay,
      .summary = "run a logged message through the routes again, as a new log entry",
      .help = "  --routes FILE     these routes (default: the routes the engine on --data runs,\n"
              "                    as it loaded them, even if the file changed since)\n"
              "  --quiet           no route trace\n"
              "  --dry-run         what the replay would do and answer; nothing is kept\n"
              MSG_COMMON_HELP
              "Its effects (forwards, worklist...) happen as for a received message; the\n"
              "engine's senders deliver the forwards. Exit status 1 if the routes refuse it.\n" },
    { 0 },
};

const cli_cmd cli_msg_cmd = {
    .name = "msg",
    .summary = "the message log: list, show, search, replay",
    .subs = msg_subs,
};
