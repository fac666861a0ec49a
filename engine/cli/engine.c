/* The command line and the engine on a data directory: a request that changes
 * the store goes to the running engine over its control socket; with none
 * running it is applied here, under the data directory's lock, by the same
 * handler (radlink/ops.h), with the routes the engine last ran. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "cli_store.h"
#include "radlink/ctlsock.h"
#include "radlink/hl7.h"
#include "radlink/view.h"

/* The engine's words: stdout when done (or always, CLI_CTL_STDOUT), stderr
 * when refused; the exit code. */
static int print_reply(int status, rl_str out, unsigned flags)
{
    if (out.n && !((flags & CLI_CTL_QUIET_OK) && status == 0))
        fwrite(out.p, 1, out.n, status == 0 || (flags & CLI_CTL_STDOUT) ? stdout : stderr);
    return ops_exit_code(status);
}

/* Ask the engine on dir: 0 with its status and words, 1 when none runs,
 * or an exit code after saying why it cannot be asked. */
static int ask(const op_call *c, const char *dir, int argc, char **argv, int *status, rl_buf *out)
{
    char sock[RL_CFG_PATH_MAX];
    long pid = ops_engine_pid(dir);
    if (pid == 0)
        return 1;
    if (pid == -2)
        return cli_fail(c, CLI_FAIL, "%s/serve.lock: %s: only root and the engine's user may "
                        "control the engine on %s", dir, strerror(EACCES), dir);
    rl_err err;
    if (ctlsock_path(dir, "control.sock", sock, sizeof sock, &err) != 0)
        return cli_fail(c, CLI_FAIL, "%s", err.msg);
    /* the lock may be held a moment by another command changing the store
     * directly, or by an engine still starting: ask again for a while */
    int rc = CTL_E_NOENGINE;
    for (int i = 0; i < RL_CLI_ASK_TRIES && rc == CTL_E_NOENGINE; i++) {
        rc = ctlsock_call(sock, argc, argv, RL_CLI_REQUEST_TIMEOUT_MS, status, out, &err);
        if (rc != CTL_E_NOENGINE)
            break;
        usleep(RL_CLI_ASK_PAUSE_MS * 1000);
        if ((pid = ops_engine_pid(dir)) == 0)
            return 1;
    }
    if (rc == CTL_E_NOENGINE)
        return cli_fail(c, CLI_FAIL, "the engine (pid %ld) holds %s but does not answer on its "
                        "control socket %s", pid, dir, sock);
    if (rc != 0)
        return cli_fail(c, CLI_FAIL, "%s", err.msg);
    return 0;
}

int cli_ctl_engine(op_call *c, int argc, char **argv, bool *ran, unsigned flags)
{
    rl_buf out;
    rl_buf_init(&out, 0);
    int status = CLI_FAIL;
    int rc = ask(c, c->data, argc, argv, &status, &out);
    *ran = rc != 1;
    if (rc == 0)
        rc = print_reply(status, rl_buf_view(&out), flags);
    else if (rc == 1)
        rc = CLI_OK;
    rl_buf_free(&out);
    return rc;
}

int cli_ask(void *ctx, int argc, char **argv, int *status, rl_buf *out)
{
    op_call quiet = { .path = argv[0] };
    int rc = ask(&quiet, ctx, argc, argv, status, out);
    if (rc == 1)
        rl_buf_printf(out, "no engine runs on %s", (const char *)ctx);
    return rc == 0 ? 0 : -1;
}

/* The engine's answer, or with none running the data directory's lock taken
 * (*lock_fd, closed by the caller) so that no engine starts while this
 * command changes the store itself (a starting engine waits RL_LOCK_WAIT_MS
 * for it). */
static int engine_or_lock(op_call *c, int argc, char **argv, unsigned flags, bool *ran,
                          int *lock_fd)
{
    *lock_fd = -1;
    char lock[RL_SERVE_LOCK_PATH_MAX];
    snprintf(lock, sizeof lock, "%s/serve.lock", c->data);
    for (int i = 0; i < RL_CLI_LOCK_TRIES; i++) {
        int rc = cli_ctl_engine(c, argc, argv, ran, flags);
        if (*ran || rc)
            return rc;
        int fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0640);
        if (fd < 0)
            return cli_fail(c, CLI_FAIL, "%s: %s", lock, strerror(errno));
        if (flock(fd, LOCK_EX | LOCK_NB) == 0) {
            *lock_fd = fd;
            return CLI_OK;
        }
        close(fd); /* an engine starting, or another command: ask again */
        usleep(RL_CLI_ASK_PAUSE_MS * 1000);
    }
    *ran = true;
    return cli_fail(c, CLI_FAIL, "%s: held, and no engine answers", lock);
}

int cli_write(op_call *c, int argc, char **argv, unsigned flags)
{
    bool ran;
    int lfd = -1;
    int rc = engine_or_lock(c, argc, argv, flags, &ran, &lfd);
    if (ran || rc)
        return rc;
    /* no engine: the same change, on the store */
    store *st;
    rl_err err;
    store_opts so = { .readonly = false };
    if (store_open(c->data, &so, &st, &err) != STORE_OK) {
        close(lfd);
        return cli_fail(c, CLI_FAIL, "%s", err.msg);
    }
    rl_buf out;
    rl_buf_init(&out, 0);
    bool kept;
    int status = cli_apply(c, st, NULL, argc, argv, &out, &kept);
    store_close(st);
    close(lfd);
    rc = print_reply(status, rl_buf_view(&out), flags);
    rl_buf_free(&out);
    return rc;
}

int cli_route_request(op_call *c, const char *routes, bool temp_ok, int argc, char **argv)
{
    struct stat sb;
    int lock_fd = -1;
    if (stat(c->data, &sb) == 0) { /* the running engine decides, else the store here */
        bool ran;
        int rc = engine_or_lock(c, argc, argv, CLI_CTL_STDOUT, &ran, &lock_fd);
        if (ran || rc)
            return rc;
    }
    rl_buf out;
    rl_buf_init(&out, 0);
    bool kept;
    int status = cli_on_store(c, routes, temp_ok, argc, argv, &out, &kept);
    if (lock_fd >= 0)
        close(lock_fd);
    /* a request that ran prints its trace and ACK as a result, refused or not */
    fwrite(out.data ? out.data : "", 1, out.len, status < OP_USAGE ? stdout : stderr);
    rl_buf_free(&out);
    return ops_exit_code(status);
}

char *cli_hex(rl_str b)
{
    static const char digits[] = "0123456789abcdef";
    char *h = malloc(b.n * 2 + 1);
    if (!h)
        return NULL;
    for (size_t i = 0; i < b.n; i++) {
        h[2 * i] = digits[(unsigned char)b.p[i] >> 4];
        h[2 * i + 1] = digits[(unsigned char)b.p[i] & 15];
    }
    h[b.n * 2] = '\0';
    return h;
}

/* ---- a file of messages through `hl7 decide` ---- */

typedef struct decide_ctx {
    op_call *c;
    const char *routes;
    bool trace, raw;
    unsigned n;
    int worst;
} decide_ctx;

static int decide_one(void *vctx, rl_str raw, size_t offset)
{
    decide_ctx *d = vctx;
    d->n++;
    char *hex = cli_hex(raw);
    if (!hex) {
        d->worst = cli_fail(d->c, CLI_FAIL, "out of memory");
        return 1;
    }
    char *argv[8] = { "hl7", "decide" };
    int argc = 2;
    if (d->trace)
        argv[argc++] = "--trace";
    if (d->raw)
        argv[argc++] = "--raw";
    if (d->routes) {
        argv[argc++] = "--routes";
        argv[argc++] = (char *)d->routes;
    }
    argv[argc++] = hex;
    if (d->trace)
        printf("%s=== message %u (byte %zu)\n", d->n > 1 ? "\n" : "", d->n, offset);
    fflush(stdout);
    int rc = cli_route_request(d->c, d->routes, true, argc, argv);
    fflush(stdout);
    free(hex);
    if (rc > d->worst)
        d->worst = rc;
    return rc >= CLI_USAGE ? 1 : 0;
}

int cli_decide_file(op_call *c, const char *routes, const char *file, bool trace, bool raw)
{
    char abs[RL_CFG_PATH_MAX];
    if (routes && !rl_realpath(routes, abs, sizeof abs))
        return cli_fail(c, CLI_BADINPUT, "%s: %s", routes, strerror(errno));
    rl_buf in;
    rl_err err;
    rl_buf_init(&in, RL_MAX_FRAME_CEILING);
    if (rl_read_file(file, &in, &err) != 0) {
        rl_buf_free(&in);
        return cli_fail(c, CLI_BADINPUT, "%s", err.msg);
    }
    decide_ctx d = { c, routes ? abs : NULL, trace, raw, 0, CLI_OK };
    hl7_split_info info;
    int rc;
    if (hl7_split(rl_buf_view(&in), decide_one, &d, &info, &err) < 0 || d.n == 0)
        rc = cli_fail(c, CLI_BADINPUT, "%s: %s", strcmp(file, "-") ? file : "stdin",
                      d.n ? err.msg : "no HL7 message found");
    else
        rc = d.worst;
    rl_buf_free(&in);
    return rc;
}
