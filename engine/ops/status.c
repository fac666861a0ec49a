/* status, routes show|reload, and the questions only the running engine
 * answers: what the engine on a data directory is doing, read from the store
 * (whether it runs, its active route file, the message log and the queues)
 * and asked of the engine itself (workers, senders, counters). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "ops_internal.h"
#include "radlink/job.h"
#include "radlink/queue.h"
#include "radlink/report.h"
#include "radlink/study.h"

long ops_engine_pid(const char *data_dir)
{
    char path[RL_SERVE_LOCK_PATH_MAX];
    snprintf(path, sizeof path, "%s/serve.lock", data_dir);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) /* never ran here; or we may not look: then we cannot tell */
        return errno == ENOENT ? 0 : -2;
    long pid = 0;
    if (flock(fd, LOCK_SH | LOCK_NB) != 0) { /* held: an engine runs */
        char buf[RL_NUM_TEXT_MAX];
        ssize_t k = pread(fd, buf, sizeof buf - 1, 0);
        buf[k > 0 ? k : 0] = '\0';
        pid = strtol(buf, NULL, 10);
        if (pid <= 0)
            pid = -1;
    }
    close(fd);
    return pid;
}

void ops_engine_config(const char *data_dir, char *out, size_t n)
{
    store *st;
    store_txn *t;
    rl_err err;
    store_opts so = { .readonly = true };
    out[0] = '\0';
    if (!data_dir || store_open(data_dir, &so, &st, &err) != STORE_OK)
        return;
    if (store_begin(st, NULL, false, &t, &err) == STORE_OK) {
        ops_meta(t, "engine.config", out, n);
        store_abort(t);
    }
    store_close(st);
    if (out[0] != '/')
        out[0] = '\0';
}

/* A time the engine wrote as text (us since the epoch); "-" when none. */
static void fmt_us(const char *us_text, char *out, size_t n)
{
    long long us = strtoll(us_text, NULL, 10);
    if (us <= 0)
        snprintf(out, n, "-");
    else
        view_fmt_time(us, out, n);
}

typedef struct dest_sum {
    char name[sizeof ((queue_item *)0)->dest];
    long pending, parked;
    int64_t oldest_us;
    char last_error[RL_OP_NAME_MAX * 3];
} dest_sum;

typedef struct sum_ctx {
    dest_sum d[RL_STATUS_DESTS_MAX];
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
                 (int)(it->last_error.n < sizeof d->last_error ? it->last_error.n
                                                               : sizeof d->last_error - 1),
                 it->last_error.p);
    }
    return 0;
}

/* The route file's lines: file, checksum, count, load time, last reload. */
static void routes_lines(view *v, store_txn *t)
{
    char val[RL_CFG_PATH_MAX * 4], when[RL_TIME_TEXT_MAX];
    if (ops_meta(t, "routes.file", val, sizeof val) != 0)
        return;
    view_printf(v, "routes        %s\n", val);
    ops_meta(t, "routes.sha256", val, sizeof val);
    view_printf(v, "  sha256      %s\n", val);
    ops_meta(t, "routes.count", val, sizeof val);
    view_printf(v, "  routes      %s\n", val);
    ops_meta(t, "routes.loaded_us", val, sizeof val);
    fmt_us(val, when, sizeof when);
    view_printf(v, "  loaded      %s\n", when);
    ops_meta(t, "routes.reload", val, sizeof val);
    if (strncmp(val, "failed ", 7) == 0) {
        fmt_us(val + 7, when, sizeof when);
        const char *colon = strchr(val, ':');
        const char *first = colon ? colon + 2 : val;
        unsigned more = 0;
        for (const char *p = first; (p = strchr(p, '\n')); p++)
            more++;
        view_printf(v, "  last reload FAILED at %s, the routes above stay: %.*s%s\n", when,
                    (int)strcspn(first, "\n"), first,
                    more ? " (and more: radlink routes check FILE)" : "");
    } else if (strncmp(val, "ok ", 3) == 0 && val[3] >= '0' && val[3] <= '9') {
        fmt_us(val + 3, when, sizeof when);
        view_printf(v, "  last reload ok at %s\n", when);
    }
}

static void queue_lines(view *v, store_txn *t)
{
    rl_err err;
    uint64_t next = 1, kept = 0, bytes = 0;
    /* what the log holds, and the pages it takes (what <retention
     * messages-max-mb> bounds); the numbers given so far */
    if (store_next_seq(t, STORE_MSG, &next, &err) == STORE_OK &&
        store_entries(t, STORE_MSG, &kept, &err) == STORE_OK &&
        store_db_bytes(t, STORE_MSG, &bytes, &err) == STORE_OK)
        view_printf(v, "messages      %llu in the log (%llu bytes), %llu received\n",
                    (unsigned long long)kept, (unsigned long long)bytes,
                    (unsigned long long)(next - 1));
    sum_ctx *s = calloc(1, sizeof *s);
    if (!s || queue_each(t, NULL, summarise, s, &err) != STORE_OK)
        view_printf(v, "queues        unreadable: %s\n", s ? err.msg : "out of memory");
    else if (s->n == 0)
        view_printf(v, "queues        empty\n");
    for (size_t i = 0; s && i < s->n; i++) {
        char oldest[RL_TIME_TEXT_MAX] = "-";
        if (s->d[i].pending)
            view_fmt_time(s->d[i].oldest_us, oldest, sizeof oldest);
        view_printf(v, "queue         %s: %ld pending (oldest %s), %ld parked%s%s\n", s->d[i].name,
                    s->d[i].pending, oldest, s->d[i].parked,
                    s->d[i].last_error[0] ? "; last error: " : "", s->d[i].last_error);
    }
    free(s);
}

/* What waits for a person in the store, as the console's overview counts
 * it: jobs dead and unverified, studies unmatched, messages parked, reports
 * waiting for their study or held. */
typedef struct attention {
    unsigned long dead, unverified, unmatched, reports;
} attention;

static int count_job(void *ctx, const job *j)
{
    attention *a = ctx;
    a->dead += j->state == JOB_DEAD;
    a->unverified += j->state == JOB_UNVERIFIED;
    return 0;
}

static int count_study(void *ctx, rl_str uid, const study_rec *s)
{
    (void)uid;
    ((attention *)ctx)->unmatched += s->state == RECON_UNMATCHED;
    return 0;
}

static int count_report(void *ctx, const report_rec *r)
{
    (void)r;
    ((attention *)ctx)->reports++;
    return 0;
}

static void attention_lines(view *v, store_txn *t)
{
    attention a = { 0 };
    rl_err err;
    queue_gauge g[RL_STATUS_DESTS_MAX];
    size_t n = 0;
    unsigned long parked = 0;
    if (job_each(t, 0, count_job, &a, &err) != STORE_OK ||
        study_each(t, count_study, &a, &err) != STORE_OK ||
        report_each_waiting(t, NULL, count_report, &a, &err) != STORE_OK ||
        queue_gauges(t, g, RL_STATUS_DESTS_MAX, &n, &err) != STORE_OK) {
        view_printf(v, "waiting       unreadable: %s\n", err.msg);
        return;
    }
    for (size_t i = 0; i < n; i++)
        parked += g[i].parked;
    view_printf(v, "waiting       jobs dead %lu, unverified %lu; studies unmatched %lu; "
                "messages parked %lu; reports waiting %lu\n", a.dead, a.unverified,
                a.unmatched, parked, a.reports);
}

int ops_status(op_call *c)
{
    view *v = c->out;
    store *st;
    store_txn *t;
    rl_err err;
    store_opts so = { .readonly = true };
    long pid = ops_engine_pid(c->data);
    if (store_open(c->data, &so, &st, &err) != STORE_OK) {
        view_printf(v, "data          %s\nengine        %s\n", c->data,
                    pid > 0 ? "running (its store cannot be read)"
                            : "not running, and never ran here");
        return ops_store_fail(v, &err);
    }
    if (store_begin(st, NULL, false, &t, &err) != STORE_OK) {
        store_close(st);
        return ops_store_fail(v, &err);
    }
    char val[RL_CFG_PATH_MAX * 4], when[RL_TIME_TEXT_MAX];
    view_printf(v, "data          %s\n", c->data);
    if (pid > 0)
        view_printf(v, "engine        running, pid %ld\n", pid);
    else
        view_printf(v, "engine        not running\n");
    if (ops_meta(t, "engine.started_us", val, sizeof val) == 0) {
        fmt_us(val, when, sizeof when);
        view_printf(v, "%-13s %s\n", pid > 0 ? "started" : "last started", when);
    }
    if (ops_meta(t, "engine.config", val, sizeof val) == 0)
        view_printf(v, "config        %s\n", val);
    routes_lines(v, t);
    queue_lines(v, t);
    attention_lines(v, t);
    store_abort(t);
    store_close(st);
    if (pid <= 0)
        return OP_OK;
    /* what only the running engine knows: workers, senders, counters */
    view_printf(v, "live (from the engine):\n");
    return ops_engine_question(c);
}

/* ---- routes show ---- */

int ops_routes_show(op_call *c)
{
    static const char *const keys[] = { "file", "sha256", "count", "loaded_us", "reload" };
    for (size_t i = 0; i < sizeof keys / sizeof *keys; i++) {
        char key[RL_OP_NAME_MAX];
        snprintf(key, sizeof key, "routes.%s", keys[i]);
        view_json(c->out, keys[i], ops_meta_json(c->t, key));
    }
    if (!view_is_json(c->out))
        routes_lines(c->out, c->t);
    return OP_OK;
}

/* ---- the engine's own answers ---- */

/* Ask the engine the request c names (its canonical words) and add what it
 * said; its status is the answer's. */
int ops_engine_question(op_call *c)
{
    char *argv[RL_CTL_MAX_ARGS];
    rl_buf words, out;
    rl_buf_init(&words, RL_CTL_REQUEST_MAX);
    rl_buf_init(&out, RL_CTL_REPLY_MAX);
    int argc = ops_argv(c->verb, &c->vals, argv, &words);
    int status = OP_FAIL;
    int rc = argc < 0 ? -1 : ops_ask(c, argc, argv, &status, &out);
    if (rc != 0) {
        status = view_fail(c->out, OP_UNAVAILABLE, "%.*s", (int)out.len, out.data ? out.data : "");
    } else if (status == OP_OK) {
        view_add(c->out, rl_buf_view(&out));
    } else {
        /* the engine's words are the failure's (they end with a newline) */
        while (out.len && out.data[out.len - 1] == '\n')
            out.len--;
        view_fail(c->out, status, "%.*s", (int)out.len, out.data ? out.data : "");
    }
    rl_buf_free(&words);
    rl_buf_free(&out);
    return status;
}

/* routes reload with no engine to ask (the CLI asks the engine first). */
int ops_routes_reload(op_call *c)
{
    return view_fail(c->out, OP_FAIL, "no engine runs on data directory %s (the route file is "
                     "loaded when it starts)", c->data);
}

/* An engine question with no engine to ask. */
int ops_no_engine(op_call *c)
{
    return view_fail(c->out, OP_UNAVAILABLE, "no engine runs on data directory %s", c->data);
}
