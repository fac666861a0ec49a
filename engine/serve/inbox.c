/* The file drop (<inbox dir poll>): every file put into the directory is
 * read as HL7 (messages one after another, or batches), each message goes
 * through ingest exactly as a received frame does, in one write transaction
 * of the loop per file, and once that is committed the file moves to done/
 * (every message AA) or error/ (one was not, or the file is not HL7), with
 * NAME.report beside it: one line per message and the ACK it got.
 *
 * The loop wakes on inotify (a file closed after writing, or moved in) and
 * scans again every poll seconds for what inotify cannot see (a network file
 * system). A file is taken once it has not changed for a second; names that
 * start with '.' or end in .tmp or .part are being written and wait. A crash
 * between the commit and the move reads the file again at start: its
 * messages are then retransmissions (same sender, control ID and bytes) and
 * are not applied twice. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "engine.h"
#include "radlink/limits.h"
#include "radlink/log.h"

#define INBOX_STABLE_S 1 /* a file unchanged this long is complete */
#define INBOX_FILES_PER_WAKE 16

static bool is_partial(const char *name)
{
    size_t n = strlen(name);
    return name[0] == '.' || (n > 4 && !strcmp(name + n - 4, ".tmp")) ||
           (n > 5 && !strcmp(name + n - 5, ".part"));
}

static void on_notify(loop *l, int fd, unsigned events, void *ctx)
{
    (void)l, (void)events;
    engine *e = ctx;
    char buf[RL_INOTIFY_READ_MAX] __attribute__((aligned(__alignof__(struct inotify_event))));
    while (read(fd, buf, sizeof buf) > 0)
        ;
    e->inbox_due = true;
}

int inbox_start(engine *e, rl_err *err)
{
    e->inbox_fd = -1;
    if (!e->cfg->inbox_dir[0])
        return 0;
    const char *d = e->cfg->inbox_dir;
    char sub[RL_CFG_SUBPATH_MAX];
    const char *subs[] = { "", "/done", "/error" };
    for (int i = 0; i < 3; i++) {
        snprintf(sub, sizeof sub, "%s%s", d, subs[i]);
        if (mkdir(sub, 0750) != 0 && errno != EEXIST)
            return rl_err_set(err, RL_E_SYS, -1, "<inbox dir>: %s: %s", sub, strerror(errno));
    }
    e->inbox_fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
    if (e->inbox_fd >= 0 &&
        (inotify_add_watch(e->inbox_fd, d, IN_CLOSE_WRITE | IN_MOVED_TO) < 0 ||
         loop_watch(e->l, e->inbox_fd, LOOP_READ, on_notify, e) != 0)) {
        close(e->inbox_fd);
        e->inbox_fd = -1; /* the periodic scan still sees every file */
    }
    e->inbox_due = true;
    e->inbox_next_ms = rl_mono_ms();
    log_info("inbox.start", "dir=%s poll_s=%u inotify=%s", d, e->cfg->inbox_poll_s,
             e->inbox_fd >= 0 ? "yes" : "no");
    return 0;
}

void inbox_stop(engine *e)
{
    if (e->inbox_fd >= 0) {
        loop_unwatch(e->l, e->inbox_fd);
        close(e->inbox_fd);
        e->inbox_fd = -1;
    }
}

int64_t inbox_deadline_ms(const engine *e)
{
    if (!e->cfg->inbox_dir[0])
        return -1;
    return e->inbox_due ? rl_mono_ms() : e->inbox_next_ms;
}

typedef struct file_run {
    engine *e;
    store_txn *t;
    const char *name;
    rl_buf report, ack;
    unsigned n, bad;
    unsigned by_status[MSGLOG_STATUS_SLOTS], tolerated;
    int rc;
    rl_err err;
} file_run;

static int file_msg(void *ctx, rl_str raw, size_t off)
{
    file_run *f = ctx;
    char peer[RL_PEER_TEXT_MAX];
    snprintf(peer, sizeof peer, "file %.*s", (int)(sizeof peer - sizeof "file "), f->name);
    ingest_input in = { INGEST_FRAME, raw, peer, "inbox", "", rl_now_us(), false };
    ingest_result r = { .ack = &f->ack };
    f->rc = ingest_one(&f->e->ing, f->t, &in, &r, &f->err);
    if (f->rc != STORE_OK)
        return 1;
    f->n++;
    for (int k = 0; k < MSGLOG_STATUS_SLOTS; k++)
        f->by_status[k] += r.by_status[k];
    f->tolerated |= r.tolerated;
    bool ok = !strcmp(r.ack_code, "AA");
    f->bad += !ok;
    rl_buf_printf(&f->report, "message %u (byte %zu): %s, log entry %llu\n", f->n, off,
                  r.ack_code[0] ? r.ack_code : "no ACK", (unsigned long long)r.seq);
    for (size_t i = 0; i < f->ack.len; i++)
        rl_buf_add_ch(&f->report, f->ack.data[i] == '\r' ? '\n' : f->ack.data[i]);
    return 0;
}

/* Move dir/name to dir/sub/name (a name there already gets a suffix), then
 * write the report beside it. */
static void file_away(engine *e, const char *name, const char *sub, rl_str summary)
{
    const char *d = e->cfg->inbox_dir;
    char from[RL_CFG_DIR_FILE_MAX], to[RL_INBOX_MOVED_PATH_MAX], rep[RL_INBOX_REPORT_PATH_MAX];
    snprintf(from, sizeof from, "%s/%s", d, name);
    snprintf(to, sizeof to, "%s/%s/%s", d, sub, name);
    struct stat st;
    for (int i = 1; stat(to, &st) == 0 && i < 1000; i++)
        snprintf(to, sizeof to, "%s/%s/%s.%d", d, sub, name, i);
    snprintf(rep, sizeof rep, "%s.report", to);
    /* the file first: a report says the file's work is over */
    if (rename(from, to) != 0)
        log_error("inbox.move", "file=%s to=%s error=\"%s\"", name, sub, strerror(errno));
    rl_err err;
    if (rl_write_file(rep, summary, &err) != 0)
        log_error("inbox.report", "file=%s error=\"%s\"", name, err.msg);
}

/* One file in one transaction; false when the store failed (the file stays
 * and is tried again). */
static bool take_file(engine *e, const char *name)
{
    char path[RL_CFG_DIR_FILE_MAX];
    snprintf(path, sizeof path, "%s/%s", e->cfg->inbox_dir, name);
    file_run f = { .e = e, .name = name };
    rl_buf_init(&f.report, 0);
    rl_buf_init(&f.ack, 0);
    rl_buf in;
    rl_buf_init(&in, RL_MAX_FRAME_CEILING);
    bool done = true;
    if (rl_read_file(path, &in, &f.err) != 0) {
        rl_buf_printf(&f.report, "not read: %s\n", f.err.msg);
        file_away(e, name, "error", rl_buf_view(&f.report));
        log_warn("inbox.file", "file=%s outcome=unreadable", name);
        goto out;
    }
    if (store_begin(e->st, NULL, true, &f.t, &f.err) != STORE_OK) {
        log_error("inbox.store", "file=%s error=\"%s\"", name, f.err.msg);
        done = false;
        goto out;
    }
    rl_err serr;
    int src = hl7_split(rl_buf_view(&in), file_msg, &f, NULL, &serr);
    int64_t c0 = rl_now_us();
    bool committed = f.rc == STORE_OK && store_commit(f.t, &f.err) == STORE_OK;
    if (f.rc == STORE_OK)
        metrics_observe(&e->commit_h, rl_now_us() - c0);
    if (!committed) {
        if (f.rc == STORE_OK)
            f.rc = f.err.code ? f.err.code : STORE_E_IO;
        else
            store_abort(f.t);
        log_error("inbox.store", "file=%s error=\"%s\"", name, f.err.msg);
        e->commit_failures++;
        done = false;
        goto out;
    }
    e->commits++;
    for (int k = 0; k < MSGLOG_STATUS_SLOTS; k++)
        e->counts[k] += f.by_status[k];
    for (int k = 0; k < INGEST_TOL_COUNT; k++)
        e->tolerated[k] += (f.tolerated >> k) & 1u;
    if (src != HL7_OK)
        rl_buf_printf(&f.report, "%s%s\n", f.n ? "then: " : "", serr.msg);
    if (!f.n && src == HL7_OK)
        rl_buf_add_c(&f.report, "no HL7 message in the file\n");
    bool ok = src == HL7_OK && f.n && !f.bad;
    rl_buf_printf(&f.report, "%u message%s, %u not accepted\n", f.n, f.n == 1 ? "" : "s",
                  f.bad);
    file_away(e, name, ok ? "done" : "error", rl_buf_view(&f.report));
    log_info("inbox.file", "file=%s messages=%u not_accepted=%u outcome=%s", name, f.n, f.bad,
             ok ? "done" : "error");
out:
    rl_buf_free(&in);
    rl_buf_free(&f.report);
    rl_buf_free(&f.ack);
    return done;
}

static int by_name(const struct dirent **a, const struct dirent **b)
{
    return strcmp((*a)->d_name, (*b)->d_name);
}

void inbox_tick(engine *e)
{
    if (!e->cfg->inbox_dir[0] || (!e->inbox_due && rl_mono_ms() < e->inbox_next_ms))
        return;
    e->inbox_due = false;
    e->inbox_next_ms = rl_mono_ms() + (int64_t)e->cfg->inbox_poll_s * 1000;
    struct dirent **names;
    int n = scandir(e->cfg->inbox_dir, &names, NULL, by_name);
    if (n < 0) {
        log_error("inbox.scan", "error=\"%s\"", strerror(errno));
        return;
    }
    unsigned taken = 0;
    time_t now = time(NULL);
    for (int i = 0; i < n; i++) {
        const char *name = names[i]->d_name;
        char path[RL_CFG_DIR_FILE_MAX];
        snprintf(path, sizeof path, "%s/%s", e->cfg->inbox_dir, name);
        struct stat st;
        bool ready = !is_partial(name) && stat(path, &st) == 0 && S_ISREG(st.st_mode);
        if (ready && now - st.st_mtime < INBOX_STABLE_S) {
            ready = false; /* still being written, perhaps: look again shortly */
            if (e->inbox_next_ms > rl_mono_ms() + 1000 * INBOX_STABLE_S)
                e->inbox_next_ms = rl_mono_ms() + 1000 * INBOX_STABLE_S;
        }
        if (ready && taken < INBOX_FILES_PER_WAKE) {
            if (take_file(e, name))
                taken++;
            else
                taken = INBOX_FILES_PER_WAKE; /* the store failed: later */
        } else if (ready) {
            e->inbox_due = true; /* more than one wake's share: go on next time */
        }
        free(names[i]);
    }
    free(names);
    if (taken)
        forwarder_kick(e->fwd);
}
