/* `radlink worker`: a separate process that takes jobs from the engine over
 * ZeroMQ (a DEALER socket; radlink/dispatch.h describes the frames).
 *
 * A study job lists the study's instance files still to send, the attribute
 * values the RIS says they must hold, and the PACS. Each file that disagrees
 * is corrected into the attempt's own work directory (synced); the corrected
 * copies, and the files that needed nothing, go to every PACS with C-STORE.
 * The worker never touches the spool: once the engine records the attempt as
 * done it moves the copies in itself. The job runs in a thread of its own so
 * that the main thread keeps sending heartbeats that name the attempt, a long
 * C-STORE included. */
#include <errno.h>
#include <fcntl.h>
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

#include "radlink/dispatch.h"
#include "radlink/log.h"
#include "frames.h"

static volatile sig_atomic_t stop_worker;

static void on_signal(int sig)
{
    stop_worker = sig;
}

/* One attempt, run by the job thread. */
typedef struct attempt {
    zmq_msg_t data;       /* the JOB frame: the message's views point into it */
    job_msg msg;
    rl_arena arena;
    const char *calling_ae;
    rl_buf result;
    int rc;
    int done_fd;          /* write end of a pipe: written when the attempt ended */
    pthread_t thread;
} attempt;

static char *cstr(rl_arena *a, rl_str s)
{
    return rl_arena_dup(a, s.p ? s.p : "", s.n);
}

static int sync_file(const char *path)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    int rc = fdatasync(fd);
    close(fd);
    return rc;
}

static int run_study(attempt *at)
{
    job_msg *m = &at->msg;
    rl_buf *res = &at->result;
    rl_err err;
    char *work = cstr(&at->arena, m->work_dir);
    if (!work || (mkdir(work, 0750) != 0 && errno != EEXIST)) {
        rl_buf_printf(res, "work directory %.*s: %s", RL_STR_FMT(m->work_dir), strerror(errno));
        return -1;
    }
    dicom_change ch[RL_JOB_SETS_MAX];
    for (size_t i = 0; i < m->n_sets; i++)
        ch[i] = (dicom_change){ m->sets[i].tag, cstr(&at->arena, m->sets[i].value) };
    const char **send = rl_arena_alloc(&at->arena, (m->n_files ? m->n_files : 1) * sizeof *send);
    if (!send) {
        rl_buf_add_c(res, "out of memory");
        return -1;
    }
    unsigned corrected = 0;
    for (size_t i = 0; i < m->n_files; i++) {
        char *in = cstr(&at->arena, m->files[i].path);
        char *out = rl_arena_alloc(&at->arena, m->work_dir.n + m->files[i].sop.n + 8);
        if (!in || !out) {
            rl_buf_add_c(res, "out of memory");
            return -1;
        }
        snprintf(out, m->work_dir.n + m->files[i].sop.n + 8, "%s/%.*s.dcm", work,
                 RL_STR_FMT(m->files[i].sop));
        unsigned changed = 0;
        if (dicom_correct_file(in, out, ch, m->n_sets, &changed, &err) != 0) {
            rl_buf_printf(res, "correcting: %s", err.msg);
            return -1;
        }
        if (changed && sync_file(out) != 0) {
            rl_buf_printf(res, "%s: %s", out, strerror(errno));
            return -1;
        }
        send[i] = changed ? out : in;
        corrected += changed != 0;
    }
    for (size_t p = 0; p < m->n_pacs; p++) {
        dicom_peer peer;
        snprintf(peer.ae_title, sizeof peer.ae_title, "%.*s", RL_STR_FMT(m->pacs[p].ae_title));
        snprintf(peer.host, sizeof peer.host, "%.*s", RL_STR_FMT(m->pacs[p].host));
        peer.port = m->pacs[p].port;
        if (dicom_send_files(at->calling_ae, &peer, send, m->n_files, &err) != 0) {
            rl_buf_printf(res, "sending: %s", err.msg);
            return -1;
        }
    }
    /* "150 instances, 150 corrected, sent to PACS@host:104" */
    rl_buf_printf(res, "%zu instance%s", m->n_files, m->n_files == 1 ? "" : "s");
    if (corrected)
        rl_buf_printf(res, ", %u corrected,", corrected);
    for (size_t p = 0; p < m->n_pacs; p++)
        rl_buf_printf(res, "%s %.*s@%.*s:%u", p ? "," : " sent to",
                      RL_STR_FMT(m->pacs[p].ae_title), RL_STR_FMT(m->pacs[p].host),
                      m->pacs[p].port);
    if (!m->n_pacs)
        rl_buf_add_c(res, corrected ? " no PACS configured" : ", no PACS configured");
    return 0;
}

static void *job_thread(void *arg)
{
    attempt *at = arg;
    at->rc = rl_str_eq_c(at->msg.kind, "study") ? run_study(at)
                                                 : (rl_buf_printf(&at->result, "unknown job kind "
                                                                  "'%.*s'", RL_STR_FMT(at->msg.kind)),
                                                    -1);
    char one = 1;
    ssize_t w = write(at->done_fd, &one, 1);
    (void)w;
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

/* Parse "key VALUE" lines without sscanf: the two words of a line. */
static bool words(char *line, char **k, char **v)
{
    char *p = line;
    while (*p == ' ' || *p == '\t')
        p++;
    *k = p;
    while (*p && *p != ' ' && *p != '\t' && *p != '\n')
        p++;
    if (!*p || *p == '\n')
        return false;
    *p++ = '\0';
    while (*p == ' ' || *p == '\t')
        p++;
    *v = p;
    while (*p && *p != ' ' && *p != '\t' && *p != '\n' && *p != '\r')
        p++;
    *p = '\0';
    return **v != '\0';
}

int keyfile_read(const char *path, char pub[41], char sec[41], rl_err *err)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return rl_err_set(err, JOB_E_KEYS, -1, "%s: cannot read: %s", path, strerror(errno));
    char line[200];
    pub[0] = sec[0] = '\0';
    while (fgets(line, sizeof line, f)) {
        char *k, *v;
        if (!words(line, &k, &v) || strlen(v) != 40)
            continue;
        if (!strcmp(k, "public-key"))
            memcpy(pub, v, 41);
        else if (!strcmp(k, "secret-key"))
            memcpy(sec, v, 41);
    }
    fclose(f);
    if (!pub[0] || !sec[0])
        return rl_err_set(err, JOB_E_KEYS, -1, "%s: no public-key and secret-key lines (radlink "
                          "keygen writes them)", path);
    return 0;
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
    rl_err err;
    rl_str bytes = { zmq_msg_data(&at->data), zmq_msg_size(&at->data) };
    int rc = job_msg_decode(bytes, &at->msg, &at->arena, &err);
    if (rc == 0 && (rc = pthread_create(&at->thread, NULL, job_thread, at)) != 0)
        rl_err_set(&err, RL_E_SYS, -1, "cannot start a thread: %s", strerror(rc));
    if (rc != 0) {
        log_error("worker.refused", "error=\"%s\"", err.msg);
        if (at->msg.id) { /* we know whose it is: say so at once */
            char jid[32], att[16];
            snprintf(jid, sizeof jid, "%llu", (unsigned long long)at->msg.id);
            snprintf(att, sizeof att, "%u", at->msg.attempt);
            const char *fr[4] = { "FAIL", jid, att, err.msg };
            size_t ln[4] = { 4, strlen(jid), strlen(att), strlen(err.msg) };
            sendv(s, fr, ln, 4);
        }
        zmq_msg_close(&at->data);
        rl_arena_free(&at->arena);
        rl_buf_free(&at->result);
        free(at);
        return NULL;
    }
    return at;
}

/* The attempt ended: report it and free it. */
static void finish(void *s, attempt *at, unsigned *done, unsigned *failed)
{
    pthread_join(at->thread, NULL);
    char jid[32], att[16];
    snprintf(jid, sizeof jid, "%llu", (unsigned long long)at->msg.id);
    snprintf(att, sizeof att, "%u", at->msg.attempt);
    at->rc == 0 ? (*done)++ : (*failed)++;
    log_info(at->rc == 0 ? "worker.done" : "worker.failed", "job=%s attempt=%s result=\"%.*s\"",
             jid, att, (int)at->result.len, at->result.data ? at->result.data : "");
    const char *fr[4] = { at->rc == 0 ? "DONE" : "FAIL", jid, att,
                          at->result.data ? at->result.data : "" };
    size_t ln[4] = { 4, strlen(jid), strlen(att), at->result.len };
    sendv(s, fr, ln, 4);
    zmq_msg_close(&at->data);
    rl_arena_free(&at->arena);
    rl_buf_free(&at->result);
    free(at);
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
    unsigned char rid[17] = { 'w' };
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
    char name[128], host[64] = "?";
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
                char b[16];
                while (read(pipefd[0], b, sizeof b) > 0)
                    ;
                if (running) {
                    finish(s, running, &done, &failed);
                    running = NULL;
                    send_ready(s, name);
                }
            }
            if (it[0].revents & ZMQ_POLLIN) {
                last_rx = rl_mono_ms();
                zmq_msg_t parts[3];
                int n = frames_recv(s, parts, 3);
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
            char tok[48];
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
