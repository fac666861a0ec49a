/* `radlink worker`: a separate process that takes jobs from the engine over
 * ZeroMQ (a DEALER socket; see engine/job/dispatch.c for the frames).
 *
 * A study job lists the study's instance files, the header changes that
 * make them agree with the RIS, and the PACS to send them to. Each file is
 * corrected into FILE.corrected beside the original; the corrected (or
 * unchanged) files go to every PACS with C-STORE; only once every PACS took
 * them does the corrected file replace the original. Anything that fails
 * answers FAIL with the reason: the engine retries with backoff. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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

typedef struct study_job {
    dicom_change ch[16];
    size_t nch;
    char **files;
    size_t nfiles;
    dicom_peer pacs[DISPATCH_MAX_PACS];
    size_t npacs;
} study_job;

/* Split the payload (it is ours to modify) into the job's parts. */
static int parse(char *payload, study_job *j)
{
    memset(j, 0, sizeof *j);
    size_t cap = 0;
    for (char *line = payload, *next; line && *line; line = next) {
        next = strchr(line, '\n');
        if (next)
            *next++ = '\0';
        char *f[6] = { line };
        int n = 1;
        for (char *p = line; *p && n < 6; p++)
            if (*p == '\t') {
                *p = '\0';
                f[n++] = p + 1;
            }
        if (!strcmp(f[0], "set") && n >= 5 && j->nch < 16) {
            /* set TAG KEYWORD OLD NEW */
            j->ch[j->nch].tag = (uint32_t)strtoul(f[1], NULL, 16);
            j->ch[j->nch++].value = f[4];
        } else if (!strcmp(f[0], "file") && n >= 2) {
            if (j->nfiles == cap) {
                cap = cap ? cap * 2 : 16;
                char **nf = realloc(j->files, cap * sizeof *nf);
                if (!nf)
                    return -1;
                j->files = nf;
            }
            j->files[j->nfiles++] = f[1];
        } else if (!strcmp(f[0], "pacs") && n >= 4 && j->npacs < DISPATCH_MAX_PACS) {
            dicom_peer *p = &j->pacs[j->npacs++];
            snprintf(p->ae_title, sizeof p->ae_title, "%s", f[1]);
            snprintf(p->host, sizeof p->host, "%s", f[2]);
            p->port = (unsigned)atoi(f[3]);
        }
    }
    return 0;
}

static int run_study(char *payload, const char *calling_ae, rl_buf *result)
{
    study_job j;
    if (parse(payload, &j) != 0) {
        rl_buf_add_c(result, "out of memory");
        return -1;
    }
    rl_err err;
    int rc = 0;
    char **send = calloc(j.nfiles ? j.nfiles : 1, sizeof *send);
    for (size_t i = 0; send && i < j.nfiles && rc == 0; i++) {
        if (!j.nch) {
            send[i] = strdup(j.files[i]);
            continue;
        }
        size_t n = strlen(j.files[i]) + 16;
        send[i] = malloc(n);
        snprintf(send[i], n, "%s.corrected", j.files[i]);
        if (dicom_correct_file(j.files[i], send[i], j.ch, j.nch, &err) != 0) {
            rl_buf_printf(result, "correcting: %s", err.msg);
            rc = -1;
        }
    }
    for (size_t p = 0; rc == 0 && p < j.npacs; p++) {
        if (dicom_send_files(calling_ae, &j.pacs[p], (const char *const *)send, j.nfiles,
                             &err) != 0) {
            rl_buf_printf(result, "sending: %s", err.msg);
            rc = -1;
        }
    }
    /* every PACS has the corrected files: they replace the originals */
    for (size_t i = 0; rc == 0 && j.nch && i < j.nfiles; i++) {
        if (!j.npacs) { /* nobody confirmed: keep the original beside it */
            size_t n = strlen(j.files[i]) + 8;
            char *orig = malloc(n);
            snprintf(orig, n, "%s.orig", j.files[i]);
            rename(j.files[i], orig);
            free(orig);
        }
        if (rename(send[i], j.files[i]) != 0) {
            rl_buf_printf(result, "replacing %s failed", j.files[i]);
            rc = -1;
        }
    }
    if (rc == 0) {
        rl_buf_printf(result, "%zu instance%s", j.nfiles, j.nfiles == 1 ? "" : "s");
        if (j.nch)
            rl_buf_printf(result, " corrected (%zu attribute%s)", j.nch, j.nch == 1 ? "" : "s");
        for (size_t p = 0; p < j.npacs; p++)
            rl_buf_printf(result, "%s sent to %s@%s:%u", p ? "," : "", j.pacs[p].ae_title,
                          j.pacs[p].host, j.pacs[p].port);
        if (!j.npacs)
            rl_buf_add_c(result, ", no PACS configured");
    }
    for (size_t i = 0; send && i < j.nfiles; i++) {
        if (rc != 0 && j.nch && send[i])
            unlink(send[i]); /* a failed attempt leaves nothing behind */
        free(send[i]);
    }
    free(send);
    free(j.files);
    return rc;
}

static int sendv(void *s, const char *const *fr, const size_t *ln, int n)
{
    return frames_send(s, NULL, 0, fr, ln, n);
}

int keyfile_read(const char *path, char pub[41], char sec[41], rl_err *err)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return rl_err_set(err, -1, -1, "%s: cannot read", path);
    char line[200];
    pub[0] = sec[0] = '\0';
    while (fgets(line, sizeof line, f)) {
        char k[32], v[64];
        if (sscanf(line, "%31s %63s", k, v) != 2 || strlen(v) != 40)
            continue;
        if (!strcmp(k, "public-key"))
            memcpy(pub, v, 41);
        else if (!strcmp(k, "secret-key"))
            memcpy(sec, v, 41);
    }
    fclose(f);
    if (!pub[0] || !sec[0])
        return rl_err_set(err, -1, -1, "%s: no public-key and secret-key lines (radlink keygen "
                          "writes them)", path);
    return 0;
}

int worker_run(const char *endpoint, const char *calling_ae, const worker_keys *keys)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    void *ctx = zmq_ctx_new();
    void *s = zmq_socket(ctx, ZMQ_DEALER);
    int linger = 0;
    zmq_setsockopt(s, ZMQ_LINGER, &linger, sizeof linger);
    if (keys && keys->server_public[0]) {
        zmq_setsockopt(s, ZMQ_CURVE_SERVERKEY, keys->server_public, 40);
        zmq_setsockopt(s, ZMQ_CURVE_PUBLICKEY, keys->public_key, 40);
        zmq_setsockopt(s, ZMQ_CURVE_SECRETKEY, keys->secret_key, 40);
    }
    if (zmq_connect(s, endpoint) != 0) {
        fprintf(stderr, "radlink worker: %s: %s\n", endpoint, zmq_strerror(zmq_errno()));
        zmq_close(s);
        zmq_ctx_term(ctx);
        return 1;
    }
    log_info("worker.start", "pid=%ld endpoint=%s", (long)getpid(), endpoint);
    const char *ready[2] = { "READY", "1" };
    size_t readyn[2] = { 5, 1 };
    sendv(s, ready, readyn, 2);
    int64_t last_hb = rl_mono_ms(), last_rx = rl_mono_ms(), last_warn = 0;
    unsigned done = 0, failed = 0;
    while (!stop_worker) {
        zmq_pollitem_t it = { s, 0, ZMQ_POLLIN, 0 };
        if (zmq_poll(&it, 1, 500) > 0 && (it.revents & ZMQ_POLLIN)) {
            last_rx = rl_mono_ms();
            zmq_msg_t parts[4];
            int n = frames_recv(s, parts, 4);
            if (n >= 4 && zmq_msg_size(&parts[1]) == 3 &&
                !memcmp(zmq_msg_data(&parts[1]), "JOB", 3)) {
                char jid[32];
                snprintf(jid, sizeof jid, "%.*s", (int)zmq_msg_size(&parts[2]),
                         (char *)zmq_msg_data(&parts[2]));
                size_t pn = zmq_msg_size(&parts[3]);
                char *payload = malloc(pn + 1);
                rl_buf result;
                rl_buf_init(&result, 0);
                int rc = -1;
                if (payload) {
                    memcpy(payload, zmq_msg_data(&parts[3]), pn);
                    payload[pn] = '\0';
                    rc = run_study(payload, calling_ae, &result);
                }
                free(payload);
                rc == 0 ? done++ : failed++;
                log_info(rc == 0 ? "worker.done" : "worker.failed", "job=%s result=\"%.*s\"",
                         jid, (int)result.len, result.data ? result.data : "");
                const char *fr[3] = { rc == 0 ? "DONE" : "FAIL", jid,
                                      result.data ? result.data : "" };
                size_t ln[3] = { 4, strlen(jid), result.len };
                sendv(s, fr, ln, 3);
                sendv(s, ready, readyn, 2);
                rl_buf_free(&result);
            }
            frames_close(parts, n);
        }
        /* the engine heartbeats every second to the workers it took in */
        if (rl_mono_ms() - last_rx > 5000 && rl_mono_ms() - last_warn > 30000) {
            last_warn = rl_mono_ms();
            log_warn("worker.no_engine", "endpoint=%s silent_ms=%lld text=\"no answer from the "
                     "engine: is it running, and over tcp are --server-key and this worker's key "
                     "right (the engine lists the keys it lets in)?\"", endpoint,
                     (long long)(rl_mono_ms() - last_rx));
        }
        if (rl_mono_ms() - last_hb >= 1000) {
            last_hb = rl_mono_ms();
            const char *hb[1] = { "HEARTBEAT" };
            size_t hbn[1] = { 9 };
            sendv(s, hb, hbn, 1);
        }
    }
    log_info("worker.stop", "pid=%ld done=%u failed=%u", (long)getpid(), done, failed);
    zmq_close(s);
    zmq_ctx_term(ctx);
    return 0;
}
