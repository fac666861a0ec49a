/* The control socket: a small non-blocking unix-socket server on the
 * engine's loop, and the blocking client the CLI uses (radlink/ctlsock.h). */
#include "radlink/ctlsock.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "radlink/limits.h"
#include "radlink/log.h"
#include "radlink/net.h"
#include "radlink/rec.h"

int ctlsock_path(const char *data_dir, const char *name, char *out, size_t n, rl_err *err)
{
    char abs[RL_ABS_PATH_MAX];
    if (!rl_realpath(data_dir, abs, sizeof abs))
        return rl_err_set(err, RL_E_SYS, -1, "%s: %s", data_dir, strerror(errno));
    struct sockaddr_un sa;
    if (strlen(abs) + 1 + strlen(name) < sizeof sa.sun_path) {
        snprintf(out, n, "%s/%s", abs, name);
        return 0;
    }
    /* a deep data directory: a short path named after it (FNV-1a), in a
     * directory only the data directory's owner can enter, under $TMPDIR
     * when that is short enough (the engine, its workers and the CLI see the
     * same), else the system's temporary directory */
    struct stat ds;
    if (stat(abs, &ds) != 0)
        return rl_err_set(err, RL_E_SYS, -1, "%s: %s", abs, strerror(errno));
    const char *tmp = getenv("TMPDIR");
    if (!tmp || tmp[0] != '/' || strlen(tmp) > RL_CTL_TMP_DIR_MAX / 2)
        tmp = P_tmpdir;
    char dir[RL_CTL_TMP_DIR_MAX];
    snprintf(dir, sizeof dir, "%s/radlink-%u", tmp, (unsigned)ds.st_uid);
    if (mkdir(dir, 0700) == 0) {
        if (geteuid() == 0 && ds.st_uid != 0 && chown(dir, ds.st_uid, ds.st_gid) != 0)
            return rl_err_set(err, RL_E_SYS, -1, "%s: %s", dir, strerror(errno));
    } else if (errno != EEXIST) {
        return rl_err_set(err, RL_E_SYS, -1, "%s: %s", dir, strerror(errno));
    }
    struct stat ps;
    if (lstat(dir, &ps) != 0 || !S_ISDIR(ps.st_mode) || ps.st_uid != ds.st_uid ||
        (ps.st_mode & 077))
        return rl_err_set(err, RL_E_SYS, -1, "%s: not a private directory of uid %u (the data "
                          "directory's path is too long for a socket; a shorter one avoids "
                          "this)", dir, (unsigned)ds.st_uid);
    uint64_t h = 1469598103934665603ull;
    for (const char *p = abs; *p; p++)
        h = (h ^ (unsigned char)*p) * 1099511628211ull;
    snprintf(out, n, "%s/%016llx-%s", dir, (unsigned long long)h, name);
    return 0;
}

/* ---- server ---- */

typedef enum conn_state { C_FREE = 0, C_READING, C_WAITING, C_WRITING } conn_state;

typedef struct conn {
    conn_state state;
    int fd;
    uint64_t id;
    int64_t deadline_ms;
    rl_buf in, out;
    size_t sent;
    char *argv[CTLSOCK_MAX_ARGS + 1];
    char *args; /* the argument strings, NUL-terminated, one block */
} conn;

struct ctlsock_server {
    loop *l;
    int fd;
    char path[RL_CTL_LISTEN_PATH_MAX];
    ctlsock_on_request cb;
    ctlsock_on_refused on_refused;
    void *ctx;
    conn c[RL_CTL_CONNECTIONS_MAX];
    uint64_t next_id;
};

static void conn_close(ctlsock_server *s, conn *c)
{
    if (c->state == C_FREE)
        return;
    loop_unwatch(s->l, c->fd);
    close(c->fd);
    rl_buf_free(&c->in);
    rl_buf_free(&c->out);
    free(c->args);
    memset(c, 0, sizeof *c);
}

static conn *conn_of(ctlsock_server *s, uint64_t id)
{
    for (size_t i = 0; i < RL_CTL_CONNECTIONS_MAX; i++)
        if (s->c[i].state != C_FREE && s->c[i].id == id)
            return &s->c[i];
    return NULL;
}

static void on_conn(loop *l, int fd, unsigned ev, void *ctx);

static uint32_t be32(const char *p)
{
    const unsigned char *u = (const unsigned char *)p;
    return (uint32_t)u[0] << 24 | (uint32_t)u[1] << 16 | (uint32_t)u[2] << 8 | u[3];
}

static void start_write(ctlsock_server *s, conn *c, int status, rl_str output)
{
    rl_buf_reset(&c->out);
    if (output.n > RL_CTL_OUTPUT_MAX)
        output.n = RL_CTL_OUTPUT_MAX;
    rec_put_u32(&c->out, (uint32_t)(8 + output.n));
    rec_put_u32(&c->out, (uint32_t)status);
    rec_put_str(&c->out, output);
    c->sent = 0;
    c->state = C_WRITING;
    c->deadline_ms = rl_mono_ms() + RL_CTL_READ_TIMEOUT_MS; /* a client that does not read */
    loop_watch(s->l, c->fd, LOOP_WRITE, on_conn, s);
}

/* A complete request in c->in: split it into argv, or answer why not. */
static void on_request(ctlsock_server *s, conn *c)
{
    rec_reader r;
    rec_reader_init(&r, c->in.data + 4, c->in.len - 4);
    uint32_t argc = rec_get_u32(&r);
    if (!rec_ok(&r) || argc == 0 || argc > CTLSOCK_MAX_ARGS) {
        start_write(s, c, 2, RL_STR("the request does not decode\n"));
        return;
    }
    c->args = malloc(c->in.len);
    if (!c->args) {
        start_write(s, c, 1, RL_STR("the engine is out of memory\n"));
        return;
    }
    size_t off = 0;
    for (uint32_t i = 0; i < argc; i++) {
        rl_str a = rec_get_str(&r);
        if (!rec_ok(&r) || memchr(a.p, '\0', a.n)) {
            start_write(s, c, 2, RL_STR("the request does not decode\n"));
            return;
        }
        memcpy(c->args + off, a.p, a.n);
        c->args[off + a.n] = '\0';
        c->argv[i] = c->args + off;
        off += a.n + 1;
    }
    c->argv[argc] = NULL;
    c->state = C_WAITING;
    loop_watch(s->l, c->fd, LOOP_READ, on_conn, s); /* to notice a client that leaves */
    s->cb(s->ctx, c->id, (int)argc, c->argv);
}

static void on_conn(loop *l, int fd, unsigned ev, void *ctx)
{
    (void)l;
    ctlsock_server *s = ctx;
    conn *c = NULL;
    for (size_t i = 0; i < RL_CTL_CONNECTIONS_MAX && !c; i++)
        if (s->c[i].state != C_FREE && s->c[i].fd == fd)
            c = &s->c[i];
    if (!c)
        return;
    if (c->state == C_WRITING) { /* writable, or hung up: send says which */
        while (c->sent < c->out.len) {
            ssize_t w = send(fd, c->out.data + c->sent, c->out.len - c->sent, MSG_NOSIGNAL);
            if (w < 0 && (errno == EAGAIN || errno == EINTR))
                return;
            if (w <= 0)
                break;
            c->sent += (size_t)w;
        }
        conn_close(s, c);
        return;
    }
    if (!(ev & LOOP_READ))
        return;
    if (c->state == C_WAITING) { /* the client should be quiet: EOF means it left */
        char b[RL_CTL_DRAIN_CHUNK];
        ssize_t n = recv(fd, b, sizeof b, 0);
        if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
            /* the answer has nowhere to go; the request is still applied */
            loop_unwatch(s->l, fd);
        }
        return;
    }
    for (;;) {
        size_t want = c->in.len < 4 ? 4 - c->in.len : 4 + be32(c->in.data) - c->in.len;
        if (want == 0)
            break;
        char b[RL_CTL_READ_CHUNK];
        ssize_t n = recv(fd, b, want < sizeof b ? want : sizeof b, 0);
        if (n < 0 && (errno == EAGAIN || errno == EINTR))
            return;
        if (n <= 0) {
            conn_close(s, c);
            return;
        }
        if (rl_buf_add(&c->in, b, (size_t)n) != 0) {
            start_write(s, c, 2, RL_STR("the request is too large\n"));
            return;
        }
        if (c->in.len == 4) {
            uint32_t len = be32(c->in.data);
            if (len < 4 || len > RL_CTL_REQUEST_MAX) {
                start_write(s, c, 2, RL_STR("the request is too large\n"));
                return;
            }
        }
    }
    on_request(s, c);
}

void ctlsock_set_on_refused(ctlsock_server *s, ctlsock_on_refused cb) { s->on_refused = cb; }

static void on_accept(loop *l, int fd, unsigned ev, void *ctx)
{
    (void)l;
    (void)ev;
    ctlsock_server *s = ctx;
    for (;;) {
        int cfd = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (cfd < 0)
            return;
        struct ucred cr;
        socklen_t cl = sizeof cr;
        bool allowed = getsockopt(cfd, SOL_SOCKET, SO_PEERCRED, &cr, &cl) == 0 &&
                       (cr.uid == 0 || cr.uid == geteuid());
        conn *c = NULL;
        for (size_t i = 0; i < RL_CTL_CONNECTIONS_MAX && !c; i++)
            if (s->c[i].state == C_FREE)
                c = &s->c[i];
        if (!c) {
            log_warn("ctl.refused", "reason=\"%d control connections open\"",
                     RL_CTL_CONNECTIONS_MAX);
            close(cfd);
            continue;
        }
        c->fd = cfd;
        c->id = ++s->next_id;
        c->deadline_ms = rl_mono_ms() + RL_CTL_READ_TIMEOUT_MS;
        rl_buf_init(&c->in, RL_CTL_REQUEST_MAX + sizeof(uint32_t)); /* and its length */
        rl_buf_init(&c->out, RL_CTL_REPLY_MAX);
        c->state = C_READING;
        if (!allowed) {
            log_warn("ctl.refused", "uid=%ld pid=%ld reason=\"only root and the engine's user "
                     "(uid %ld) may change the engine's state\"", (long)cr.uid, (long)cr.pid,
                     (long)geteuid());
            char why[RL_CTL_REFUSED_TEXT_MAX];
            int n = snprintf(why, sizeof why, "not allowed: uid %ld may not control this engine "
                             "(root and uid %ld may)\n", (long)cr.uid, (long)geteuid());
            start_write(s, c, 1, (rl_str){ why, (size_t)n });
            if (s->on_refused)
                s->on_refused(s->ctx, (long)cr.uid, (long)cr.pid);
            continue;
        }
        if (loop_watch(s->l, cfd, LOOP_READ, on_conn, s) != 0)
            conn_close(s, c);
    }
}

int ctlsock_listen(loop *l, const char *path, ctlsock_on_request cb, void *ctx,
                   ctlsock_server **out, rl_err *err)
{
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    if (strlen(path) >= sizeof sa.sun_path)
        return rl_err_set(err, RL_E_ARG, -1, "%s: too long for a unix socket", path);
    ctlsock_server *s = calloc(1, sizeof *s);
    if (!s)
        return rl_err_set(err, RL_E_NOMEM, -1, "out of memory");
    snprintf(s->path, sizeof s->path, "%s", path);
    memcpy(sa.sun_path, path, strlen(path) + 1);
    s->l = l;
    s->cb = cb;
    s->ctx = ctx;
    s->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    /* the engine holds the data directory's lock: a socket file left here is
     * a dead engine's */
    unlink(path);
    mode_t old = umask(077);
    int rc = s->fd < 0 || bind(s->fd, (struct sockaddr *)&sa, sizeof sa) != 0 ||
             listen(s->fd, 16) != 0 || chmod(path, 0600) != 0;
    umask(old);
    if (rc || loop_watch(l, s->fd, LOOP_READ, on_accept, s) != 0) {
        rl_err_set(err, RL_E_SYS, -1, "control socket %s: %s", path, strerror(errno));
        if (s->fd >= 0)
            close(s->fd);
        free(s);
        return RL_E_SYS;
    }
    *out = s;
    return 0;
}

void ctlsock_reply(ctlsock_server *s, uint64_t id, int status, rl_str output)
{
    conn *c = conn_of(s, id);
    if (c && c->state == C_WAITING)
        start_write(s, c, status, output);
}

int64_t ctlsock_deadline_ms(const ctlsock_server *s)
{
    int64_t d = -1;
    for (size_t i = 0; s && i < RL_CTL_CONNECTIONS_MAX; i++)
        if ((s->c[i].state == C_READING || s->c[i].state == C_WRITING) &&
            (d < 0 || s->c[i].deadline_ms < d))
            d = s->c[i].deadline_ms;
    return d;
}

void ctlsock_tick(ctlsock_server *s)
{
    int64_t now = rl_mono_ms();
    for (size_t i = 0; s && i < RL_CTL_CONNECTIONS_MAX; i++)
        if ((s->c[i].state == C_READING || s->c[i].state == C_WRITING) &&
            now >= s->c[i].deadline_ms)
            conn_close(s, &s->c[i]);
}

void ctlsock_free(ctlsock_server *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < RL_CTL_CONNECTIONS_MAX; i++)
        conn_close(s, &s->c[i]);
    loop_unwatch(s->l, s->fd);
    close(s->fd);
    unlink(s->path);
    free(s);
}

/* ---- client ---- */

int ctlsock_call(const char *path, int argc, char *const *argv, int timeout_ms, int *status,
                 rl_buf *out, rl_err *err)
{
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    if (strlen(path) >= sizeof sa.sun_path)
        return rl_err_set(err, RL_E_ARG, -1, "%s: too long for a unix socket", path);
    memcpy(sa.sun_path, path, strlen(path) + 1);
    if (argc < 1 || argc > CTLSOCK_MAX_ARGS)
        return rl_err_set(err, RL_E_ARG, -1, "%d arguments", argc);
    rl_buf req;
    rl_buf_init(&req, RL_CTL_REQUEST_MAX);
    int rc = rec_put_u32(&req, 0) | rec_put_u32(&req, (uint32_t)argc);
    for (int i = 0; i < argc; i++)
        rc |= rec_put_cstr(&req, argv[i]);
    if (rc) {
        rl_buf_free(&req);
        return rl_err_set(err, RL_E_LIMIT, -1, "the request passes %u bytes",
                          (unsigned)RL_CTL_REQUEST_MAX);
    }
    uint32_t len = (uint32_t)(req.len - 4);
    unsigned char *lp = (unsigned char *)req.data;
    lp[0] = (unsigned char)(len >> 24), lp[1] = (unsigned char)(len >> 16);
    lp[2] = (unsigned char)(len >> 8), lp[3] = (unsigned char)len;
    int64_t deadline = rl_mono_ms() + timeout_ms;
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
        int e = errno;
        if (fd >= 0)
            close(fd);
        rl_buf_free(&req);
        if (e == ENOENT || e == ECONNREFUSED)
            return rl_err_set(err, CTL_E_NOENGINE, -1, "no engine answers on %s", path);
        if (e == EACCES || e == EPERM)
            return rl_err_set(err, CTL_E_DENIED, -1, "%s: %s: only root and the engine's user "
                              "may control the engine", path, strerror(e));
        return rl_err_set(err, CTL_E_IO, -1, "%s: %s", path, strerror(e));
    }
    size_t sent = 0;
    while (sent < req.len) {
        ssize_t w = send(fd, req.data + sent, req.len - sent, MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            break;
        sent += (size_t)w;
    }
    rl_buf_free(&req);
    rl_buf in;
    rl_buf_init(&in, RL_CTL_REPLY_MAX + sizeof(uint32_t)); /* and its length */
    rc = 0;
    for (;;) {
        int r = net_wait_fd(fd, false, deadline, -1);
        if (r == NET_E_TIMEOUT) {
            rc = rl_err_set(err, CTL_E_TIMEOUT, -1, "the engine did not answer within %d s",
                            timeout_ms / 1000);
            break;
        }
        char b[RL_IO_CHUNK];
        ssize_t n = r != 0 ? -1 : recv(fd, b, sizeof b, 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        if (rl_buf_add(&in, b, (size_t)n) != 0) {
            rc = rl_err_set(err, CTL_E_PROTO, -1, "the engine's answer is too large");
            break;
        }
    }
    close(fd);
    if (rc == 0) {
        rec_reader rr;
        rec_reader_init(&rr, in.data, in.len);
        uint32_t blen = rec_get_u32(&rr);
        uint32_t st = rec_get_u32(&rr);
        rl_str text = rec_get_str(&rr);
        if (!rec_ok(&rr) || blen != in.len - 4)
            rc = rl_err_set(err, in.len ? CTL_E_PROTO : CTL_E_IO, -1,
                            in.len ? "the engine's answer does not decode"
                                   : "the engine closed the connection without an answer");
        else {
            *status = (int)st;
            rl_buf_add_str(out, text);
        }
    }
    rl_buf_free(&in);
    return rc;
}
