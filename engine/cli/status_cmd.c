/* radlink status: what the engine on a data directory is doing, read from the
 * store: whether it runs, its active route file (checksum, load time, last
 * reload), the message log and the outbound queues. */
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "radlink/cfg.h"
#include "radlink/queue.h"
#include "radlink/store.h"

/* A time the engine wrote as text (us since the epoch); "-" when none. */
static void fmt_us(const char *us_text, char *out, size_t n)
{
    long long us = strtoll(us_text, NULL, 10);
    if (us <= 0)
        snprintf(out, n, "-");
    else
        cli_fmt_time(us, out, n);
}

typedef struct dest_sum {
    char name[64];
    long pending, parked;
    int64_t oldest_us;
    char last_error[200];
} dest_sum;

typedef struct sum_ctx {
    dest_sum d[64];
    size_t n;
} sum_ctx;

static int summarise(void *ctx, const queue_item *it)
{
    sum_ctx *s = ctx;
    dest_sum *d = s->n ? &s->d[s->n - 1] : NULL;
    if (!d || strcmp(d->name, it->dest) != 0) {
        if (s->n == sizeof s->d / sizeof *s->d)
            return 1;
        d = &s->d[s->n++];
        memset(d, 0, sizeof *d);
        snprintf(d->name, sizeof d->name, "%s", it->dest);
    }
    if (it->state == QUEUE_PARKED) {
        d->parked++;
        return 0;
    }
    if (d->pending++ == 0) {
        d->oldest_us = it->enq_us;
        snprintf(d->last_error, sizeof d->last_error, "%.*s",
                 (int)(it->last_error.n > 199 ? 199 : it->last_error.n), it->last_error.p);
    }
    return 0;
}

static int run_status(const cli_cmd *self, int argc, char **argv)
{
    static const struct option longs[] = {
        { "data", required_argument, NULL, 'D' },
        { "config", required_argument, NULL, 'C' },
        { 0, 0, 0, 0 },
    };
    cli_opts co = { argc, argv, self, "", longs, 0, 0 };
    const char *data = NULL, *config = NULL;
    int c;
    while ((c = cli_next(&co)) != -1) {
        if (c == CLI_STOP)
            return co.exit_code;
        if (c == 'D')
            data = optarg;
        else if (c == 'C')
            config = optarg;
    }
    if (optind < argc)
        return cli_usage(self, "unexpected argument '%s'", argv[optind]);
    char dir[CFG_PATH];
    int rc = cli_data_dir(self, data, config, dir, sizeof dir);
    if (rc)
        return rc;
    store *st;
    store_txn *t;
    rl_err err;
    store_opts so = { .readonly = true };
    if (store_open(dir, &so, &st, &err) != STORE_OK) {
        long pid = cli_engine_pid(dir);
        printf("data          %s\nengine        %s\n", dir,
               pid > 0 ? "running (its store cannot be read)" : "not running, and never ran here");
        return cli_fail(self, CLI_FAIL, "%s", err.msg);
    }
    if (store_begin(st, NULL, false, &t, &err) != STORE_OK) {
        store_close(st);
        return cli_fail(self, CLI_FAIL, "%s", err.msg);
    }
    long pid = cli_engine_pid(dir);
    char v[4096], when[32];
    printf("data          %s\n", dir);
    if (pid > 0)
        printf("engine        running, pid %ld\n", pid);
    else
        printf("engine        not running\n");
    if (cli_meta(t, "engine.started_us", v, sizeof v) == 0) {
        fmt_us(v, when, sizeof when);
        printf("%-13s %s\n", pid > 0 ? "started" : "last started", when);
    }
    if (cli_meta(t, "engine.config", v, sizeof v) == 0)
        printf("config        %s\n", v);
    if (cli_meta(t, "routes.file", v, sizeof v) == 0) {
        printf("routes        %s\n", v);
        cli_meta(t, "routes.sha256", v, sizeof v);
        printf("  sha256      %s\n", v);
        cli_meta(t, "routes.count", v, sizeof v);
        printf("  routes      %s\n", v);
        cli_meta(t, "routes.loaded_us", v, sizeof v);
        fmt_us(v, when, sizeof when);
        printf("  loaded      %s\n", when);
        cli_meta(t, "routes.reload", v, sizeof v);
        if (strncmp(v, "failed ", 7) == 0) {
            fmt_us(v + 7, when, sizeof when);
            const char *colon = strchr(v, ':');
            const char *first = colon ? colon + 2 : v;
            unsigned more = 0;
            for (const char *p = first; (p = strchr(p, '\n')); p++)
                more++;
            printf("  last reload FAILED at %s, the routes above stay: %.*s%s\n", when,
                   (int)strcspn(first, "\n"), first,
                   more ? " (and more: radlink routes check FILE)" : "");
        } else if (strncmp(v, "ok ", 3) == 0 && v[3] >= '0' && v[3] <= '9') {
            fmt_us(v + 3, when, sizeof when);
            printf("  last reload ok at %s\n", when);
        }
    }
    uint64_t next = 1;
    if (store_next_seq(t, STORE_MSG, &next, &err) == STORE_OK)
        printf("messages      %llu in the log\n", (unsigned long long)(next - 1));
    sum_ctx s = { .n = 0 };
    if (queue_each(t, NULL, summarise, &s, &err) != STORE_OK)
        printf("queues        unreadable: %s\n", err.msg);
    else if (s.n == 0)
        printf("queues        empty\n");
    for (size_t i = 0; i < s.n; i++) {
        char oldest[32] = "-";
        if (s.d[i].pending)
            cli_fmt_time(s.d[i].oldest_us, oldest, sizeof oldest);
        printf("queue         %s: %ld pending (oldest %s), %ld parked%s%s\n", s.d[i].name,
               s.d[i].pending, oldest, s.d[i].parked, s.d[i].last_error[0] ? "; last error: " : "",
               s.d[i].last_error);
    }
    store_abort(t);
    store_close(st);
    if (pid > 0) { /* what only the running engine knows: workers, senders, counters */
        fflush(stdout);
        char *req[] = { "status", NULL };
        bool ran;
        printf("live (from the engine):\n");
        fflush(stdout);
        rc = cli_ctl_engine(self, data, config, 1, req, &ran, 0);
        if (rc != CLI_OK)
            return rc;
    }
    return CLI_OK;
}

const cli_cmd cli_status_cmd = {
    .name = "status",
    .summary = "engine state: running or not, active routes (checksum, load time), queues, "
               "workers and senders",
    .run = run_status,
    .help = "  --data DIR       data directory (default: from --config, else ./var)\n"
            "  --config FILE    take the data directory from this configuration\n",
};
