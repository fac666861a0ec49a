/* `radlink worker`: a separate process that takes jobs from the engine over
 * ZeroMQ (a DEALER socket; radlink/dispatch.h describes the frames).
 *
 * A study job (engine/job/study_job.c) lists the study's instance files
 * still to send, the attribute values the RIS says they must hold, and the
 * PACS with their update and verify policies. The worker never touches the
 * spool: corrected copies go to the attempt's work directory, and once the
 * engine records the attempt it moves them in itself. The job runs in a
 * thread of its own so that the main thread keeps sending heartbeats that
 * name the attempt, a long C-STORE included; the main thread also passes
 * storage commitment reports from the engine to the job. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zmq.h>

#include "radlink/job_msg.h"
#include "radlink/log.h"
#include "radlink/prefetch.h"
#include "radlink/worker.h"
#include "frames.h"
#include "study_job.h"

static volatile sig_atomic_t stop_worker;

static void on_signal(int sig)
{
    stop_worker = sig;
}

/* One attempt, run by the job thread; the main thread talks to the engine
 * for it (announcing the storage commitment transactions it waits for, and
 * handing over their reports). */
typedef struct attempt {
    study_link link;      /* first: the job sees only this */
    zmq_msg_t data;       /* the JOB frame: the message's views point into it */
    job_msg msg;
    rl_arena arena;
    const char *calling_ae;
    rl_buf result;
    int rc;
    int done_fd;          /* write end of a pipe: wakes the main thread */
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    /* under mu */
    bool ended;
    char announce[RL_JOB_ANNOUNCE_MAX][RL_UUID_UID_SIZE]; /* to tell the engine about */
    unsigned n_announce;
    char awaiting[RL_UUID_UID_SIZE]; /* the transaction whose report the job waits for */
    bool report_ready;
    rl_buf report;
} attempt;

static void wake(attempt *at)
{
    char one = 1;
    ssize_t w = write(at->done_fd, &one, 1);
    (void)w;
}

static void link_announce(study_link *l, const char *txn)
{
    attempt *at = (attempt *)l;
    pthread_mutex_lock(&at->mu);
    if (at->n_announce < RL_JOB_ANNOUNCE_MAX)
        snprintf(at->announce[at->n_announce++], sizeof at->announce[0], "%s", txn);
    snprintf(at->awaiting, sizeof at->awaiting, "%s", txn);
    at->report_ready = false;
    rl_buf_reset(&at->report);
    pthread_mutex_unlock(&at->mu);
    wake(at);
}

static bool link_await(study_link *l, const char *txn, unsigned timeout_s, rl_buf *out)
{
    attempt *at = (attempt *)l;
    struct timespec until;
    clock_gettime(CLOCK_MONOTONIC, &until);
    until.tv_sec += (time_t)timeout_s;
    pthread_mutex_lock(&at->mu);
    while (!at->report_ready &&
           pthread_cond_timedwait(&at->cv, &at->mu, &until) != ETIMEDOUT)
        ;
    bool ok = at->report_ready && strcmp(at->awaiting, txn) == 0;
    if (ok)
        rl_buf_add(out, at->report.data ? at->report.data : "", at->report.len);
    at->awaiting[0] = '\0';
    pthread_mutex_unlock(&at->mu);
    return ok;
}

static void *job_thread(void *arg)
{
    attempt *at = arg;
    if (rl_str_eq_c(at->msg.kind, "study")) {
        at->rc = study_job_run(&at->msg, at->calling_ae, &at->link, &at->arena, &at->result);
    } else if (rl_str_eq_c(at->msg.kind, "prefetch")) {
        at->rc = prefetch_job_run(&at->msg, at->calling_ae, &at->result);
    } else {
        rl_buf_printf(&at->result, "unknown job kind '%.*s'", RL_STR_FMT(at->msg.kind));
        at->rc = STUDY_JOB_FAILED;
    }
    pthread_mutex_lock(&at->mu);
    at->ended = true;
    pthread_mutex_unlock(&at->mu);
    wake(at);
    return NULL;
}

static int sendv(void *s, const char *const *fr, const size_t *ln, int n)
{
    return frames_send(s, NULL, 0, fr, ln, n);
}

static void send_ready(void *s, const char *name)
{
    const char *fr[3] = { "READY", "1", name };
    size_t ln[3] = { 5, 1, strlen(name) };
    sendv(s, fr, ln, 3);
}

static void free_attempt(attempt *at)
{
    zmq_msg_close(&at->data);
    rl_arena_free(&at->arena);
    rl_buf_free(&at->result);
    rl_buf_free(&at->report);
    pthread_mutex_destroy(&at->mu);
    pthread_cond_destroy(&at->cv);
    free(at);
}

/* A JOB frame arrived: start its thread, or refuse it at once. */
static attempt *begin(void *s, zmq_msg_t *frame, const char *calling_ae, int done_fd)
{
    attempt *at = calloc(1, sizeof *at);
    if (!at)
        return NULL;
    zmq_msg_init(&at->data);
    zmq_msg_move(&at->data, frame);
    rl_arena_init(&at->arena, 64 * 1024, RL_JOB_MSG_MAX * 2u);
    rl_buf_init(&at->result, RL_JOB_REPLY_MAX - 64);
    at->calling_ae = calling_ae;
    at->done_fd = done_fd;
    at->link = (study_link){ link_announce, link_await };
    pthread_mutex_init(&at->mu, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&at->cv, &ca);
    pthread_condattr_destroy(&ca);
    rl_buf_init(&at->report, RL_JOB_REPLY_MAX * 16u);
    rl_err err;
    rl_str bytes = { zmq_msg_data(&at->data), zmq_msg_size(&at->data) };
    int rc = job_msg_decode(bytes, &at->msg, &at->arena, &err);
    if (rc == 0 && (rc = pthread_create(&at->thread, NULL, job_thread, at)) != 0)
        rl_err_set(&err, RL_E_SYS, -1, "cannot start a thread: %s", strerror(rc));
    if (rc != 0) {
        log_error("worker.refused", "error=\"%s\"", err.msg);
        if (at->msg.id) { /* we know whose it is: say so at once */
            char jid[RL_NUM_TEXT_MAX], att[RL_NUM_TEXT_MAX];
            snprintf(jid, sizeof jid, "%llu", (unsigned long long)at->msg.id);
            snprintf(att, sizeof att, "%u", at->msg.attempt);
            const char *fr[4] = { "FAIL", jid, att, err.msg };
            size_t ln[4] = { 4, strlen(jid), strlen(att), strlen(err.msg) };
            sendv(s, fr, ln, 4);
        }
        free_attempt(at);
        return NULL;
    }
    return at;
}

/* The attempt ended: report it and free it. */
static void finish(void *s, attempt *at, unsigned *done, unsigned *failed)
{
    pthread_join(at->thread, NULL);
    char jid[RL_NUM_TEXT_MAX], att[RL_NUM_TEXT_MAX];
    snprintf(jid, sizeof jid, "%llu", (unsigned long long)at->msg.id);
    snprintf(att, sizeof att, "%u", at->msg.attempt);
    at->rc == STUDY_JOB_DONE ? (*done)++ : (*failed)++;
    const char *what = at->rc == STUDY_JOB_DONE         ? "DONE"
                       : at->rc == STUDY_JOB_UNVERIFIED ? "UNVERIFIED"
                                                        : "FAIL";
    if (at->rc == STUDY_JOB_UNVERIFIED) { /* the text quotes what the PACS shows: a name */
        log_info("worker.unverified", "job=%s attempt=%s", jid, att);
        log_debug("worker.unverified_text", "job=%s attempt=%s text=\"%.*s\"", jid, att,
                  (int)at->result.len, at->result.data ? at->result.data : "");
    } else {
        log_info(at->rc == STUDY_JOB_DONE ? "worker.done" : "worker.failed",
                 "job=%s attempt=%s result=\"%.*s\"", jid, att, (int)at->result.len,
                 at->result.data ? at->result.data : "");
    }
    const char *fr[4] = { what, jid, att, at->result.data ? at->result.data : "" };
    size_t ln[4] = { strlen(what), strlen(jid), strlen(att), at->result.len };
    sendv(s, fr, ln, 4);
    free_attempt(at);
}

/* The job thread woke us: transactions to announce, or its end. */
static bool on_wake(void *s, attempt *at)
{
    char jid[RL_NUM_TEXT_MAX], att[RL_NUM_TEXT_MAX];
    snprintf(jid, sizeof jid, "%llu", (unsigned long long)at->msg.id);
    snprintf(att, sizeof att, "%u", at->msg.attempt);
    pthread_mutex_lock(&at->mu);
    for (unsigned i = 0; i < at->n_announce; i++) {
        const char *fr[4] = { "COMMIT", jid, att, at->announce[i] };
        size_t ln[4] = { 6, strlen(jid), strlen(att), strlen(at->announce[i]) };
        sendv(s, fr, ln, 4);
    }
    at->n_announce = 0;
    bool ended = at->ended;
    pthread_mutex_unlock(&at->mu);
    return ended;
}

/* A storage commitment report the engine passed on. */
static void on_report(attempt *at, zmq_msg_t *txn, zmq_msg_t *lines)
{
    pthread_mutex_lock(&at->mu);
    if (at->awaiting[0] && zmq_msg_size(txn) == strlen(at->awaiting) &&
        memcmp(zmq_msg_data(txn), at->awaiting, zmq_msg_size(txn)) == 0) {
        rl_buf_reset(&at->report);
        rl_buf_add(&at->report, zmq_msg_data(lines), zmq_msg_size(lines));
        at->report_ready = true;
        pthread_cond_signal(&at->cv);
    }
    pthread_mutex_unlock(&at->mu);
}

int worker_run(const char *endpoint, const char *calling_ae, const worker_keys *keys)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    int pipefd[2];
    if (pipe2(pipefd, O_CLOEXEC | O_NONBLOCK) != 0) {
        fprintf(stderr, "radlink worker: pipe: %s\n", strerror(errno));
        return 1;
    }
    void *ctx = zmq_ctx_new();
    void *s = zmq_socket(ctx, ZMQ_DEALER);
    int linger = 0;
    int64_t max = RL_JOB_MSG_MAX + 64;
    zmq_setsockopt(s, ZMQ_LINGER, &linger, sizeof linger);
    zmq_setsockopt(s, ZMQ_MAXMSGSIZE, &max, sizeof max);
    /* one identity for the worker's life: after a reconnection (a network
     * blip) the engine knows it as the worker that holds its attempts */
    unsigned char rid[1 + 128 / 8] = { 'w' }; /* 'w' and 128 random bits */
    if (getrandom(rid + 1, sizeof rid - 1, 0) != (ssize_t)(sizeof rid - 1))
        snprintf((char *)rid + 1, sizeof rid - 1, "%08lx%07lx", (long)getpid(),
                 (long)(rl_mono_ms() & 0xfffffff));
    zmq_setsockopt(s, ZMQ_ROUTING_ID, rid, sizeof rid);
    if (keys && keys->server_public[0]) {
        zmq_setsockopt(s, ZMQ_CURVE_SERVERKEY, keys->server_public, 40);
        zmq_setsockopt(s, ZMQ_CURVE_PUBLICKEY, keys->public_key, 40);
        zmq_setsockopt(s, ZMQ_CURVE_SECRETKEY, keys->secret_key, 40);
    }
    if (zmq_connect(s, endpoint) != 0) {
        fprintf(stderr, "radlink worker: %s: %s\n", endpoint, zmq_strerror(zmq_errno()));
        zmq_close(s);
        zmq_ctx_term(ctx);
        close(pipefd[0]);
        close(pipefd[1]);
        return 1;
    }
    char name[RL_WORKER_NAME_SIZE], host[HOST_NAME_MAX] = "?";
    gethostname(host, sizeof host - 1);
    snprintf(name, sizeof name, "pid %ld on %s", (long)getpid(), host);
    log_info("worker.start", "pid=%ld endpoint=%s", (long)getpid(), endpoint);
    send_ready(s, name);
    int64_t last_hb = rl_mono_ms(), last_rx = rl_mono_ms(), last_warn = 0;
    unsigned done = 0, failed = 0;
    attempt *running = NULL;
    while (!stop_worker) {
        zmq_pollitem_t it[2] = { { s, 0, ZMQ_POLLIN, 0 }, { NULL, pipefd[0], ZMQ_POLLIN, 0 } };
        long wait = RL_HEARTBEAT_MS - (long)(rl_mono_ms() - last_hb);
        if (zmq_poll(it, 2, wait > 0 ? wait : 0) > 0) {
            if (it[1].revents & ZMQ_POLLIN) {
                char b[PIPE_BUF];
                while (read(pipefd[0], b, sizeof b) > 0)
                    ;
                if (running && on_wake(s, running)) {
                    finish(s, running, &done, &failed);
                    running = NULL;
                    send_ready(s, name);
                }
            }
            if (it[0].revents & ZMQ_POLLIN) {
                last_rx = rl_mono_ms();
                zmq_msg_t parts[4];
                int n = frames_recv(s, parts, 4);
                if (n >= 4 && running && zmq_msg_size(&parts[1]) == 9 &&
                    !memcmp(zmq_msg_data(&parts[1]), "COMMITTED", 9))
                    on_report(running, &parts[2], &parts[3]);
                if (n >= 3 && zmq_msg_size(&parts[1]) == 3 &&
                    !memcmp(zmq_msg_data(&parts[1]), "JOB", 3)) {
                    if (running) { /* credit 1: the engine never sends two */
                        log_warn("worker.busy", "text=\"a second job while one runs\"");
                    } else {
                        running = begin(s, &parts[2], calling_ae, pipefd[1]);
                        if (!running)
                            send_ready(s, name);
                    }
                }
                frames_close(parts, n);
            }
        }
        /* the engine heartbeats every second to the workers it took in: when
         * it is silent, introduce ourselves again (our READY may have been
         * lost, or the engine restarted), and say so now and then */
        if (rl_mono_ms() - last_rx > 5000 && (!last_warn || rl_mono_ms() - last_warn > 30000)) {
            last_warn = rl_mono_ms();
            log_warn("worker.no_engine", "endpoint=%s silent_ms=%lld text=\"no answer from the "
                     "engine: is it running, and over tcp are --server-key and this worker's key "
                     "right (the engine lists the keys it lets in)?\"", endpoint,
                     (long long)(rl_mono_ms() - last_rx));
        }
        if (rl_mono_ms() - last_hb >= RL_HEARTBEAT_MS) {
            last_hb = rl_mono_ms();
            char tok[2 * RL_NUM_TEXT_MAX]; /* ID.ATTEMPT */
            const char *fr[2] = { "HEARTBEAT", tok };
            size_t ln[2] = { 9, 0 };
            if (running)
                ln[1] = (size_t)snprintf(tok, sizeof tok, "%llu.%u",
                                         (unsigned long long)running->msg.id,
                                         running->msg.attempt);
            sendv(s, fr, ln, running ? 2 : 1);
            if (!running && rl_mono_ms() - last_rx > 3 * RL_HEARTBEAT_MS)
                send_ready(s, name);
        }
    }
    /* stopping: an attempt still running is abandoned; the engine finds its
     * lease silent and runs it again */
    log_info("worker.stop", "pid=%ld done=%u failed=%u abandoned=%d", (long)getpid(), done, failed,
             running != NULL);
    zmq_close(s);
    zmq_ctx_term(ctx);
    if (running) /* its thread is inside DCMTK: the caller ends the process without it */
        return WORKER_ABANDONED;
    close(pipefd[0]);
    close(pipefd[1]);
    return 0;
}
