/* Verb dispatch, help and option handling shared by every radlink command. */
#include "cli.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/file.h>
#include <time.h>
#include <unistd.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "radlink/cfg.h"
#include "radlink/ctl.h"
#include "radlink/ctlsock.h"
#include "radlink/store.h"

static char path_buf[8][64];
static int path_used;

static const char *join_path(const char *prefix, const char *name)
{
    char *p = path_buf[path_used++ % 8];
    snprintf(p, sizeof path_buf[0], "%s%s%s", prefix ? prefix : "", prefix && *prefix ? " " : "",
             name);
    return p;
}

void cli_print_help(const cli_cmd *cmd, FILE *out)
{
    if (cmd->subs) {
        fprintf(out, "usage: radlink %s VERB [OPTIONS]\n\n%s\n\nVerbs:\n", cmd->path, cmd->summary);
        for (const cli_cmd *s = cmd->subs; s->name; s++)
            fprintf(out, "  %-8s %-22s %s\n", s->name, s->args ? s->args : "", s->summary);
        fprintf(out, "\nRun 'radlink %s VERB --help' for a verb's options.\n", cmd->path);
        return;
    }
    fprintf(out, "usage: radlink %s [OPTIONS]%s%s\n\n%s\n", cmd->path, cmd->args ? " " : "",
            cmd->args ? cmd->args : "", cmd->summary);
    if (cmd->help)
        fprintf(out, "\n%s", cmd->help);
    fprintf(out, "\n  -h, --help   show this help\n");
}

int cli_usage(const cli_cmd *cmd, const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "radlink %s: ", cmd->path);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, " (see 'radlink %s --help')\n", cmd->path);
    return CLI_USAGE;
}

int cli_fail(const cli_cmd *cmd, int code, const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "radlink %s: ", cmd->path);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    return code;
}

int cli_next(cli_opts *o)
{
    static const struct option none[] = { { 0, 0, 0, 0 } };
    if (!o->started) {
        o->started = 1;
        optind = 1;
        opterr = 0;
    }
    /* Build "h" + shortopts, and the long options + --help. */
    char shorts[64];
    snprintf(shorts, sizeof shorts, ":h%s", o->shortopts ? o->shortopts : "");
    struct option longs[48];
    int n = 0;
    for (const struct option *l = o->longopts ? o->longopts : none; l->name && n < 46; l++)
        longs[n++] = *l;
    longs[n++] = (struct option){ "help", no_argument, NULL, 'h' };
    longs[n] = (struct option){ 0, 0, 0, 0 };
    int prev = optind;
    int c = getopt_long(o->argc, o->argv, shorts, longs, NULL);
    if (c == 'h') {
        cli_print_help(o->cmd, stdout);
        o->exit_code = CLI_OK;
        return CLI_STOP;
    }
    if (c == '?' || c == ':') {
        const char *arg = prev < o->argc ? o->argv[prev] : "?";
        char shown[3] = { '-', (char)optopt, 0 };
        if (optopt && arg[0] == '-' && arg[1] != '-')
            arg = shown;
        o->exit_code = cli_usage(o->cmd, c == '?' ? "unknown option '%s'" : "option '%s' needs a value", arg);
        return CLI_STOP;
    }
    return c;
}

int cli_number(const cli_cmd *cmd, const char *opt, const char *text, long min, long max,
               long *out)
{
    char *end;
    errno = 0;
    long v = strtol(text, &end, 10);
    if (errno || end == text || *end || v < min || v > max) {
        cli_usage(cmd, "%s: '%s' is not a number from %ld to %ld", opt, text, min, max);
        return -1;
    }
    *out = v;
    return 0;
}

int cli_dispatch(const cli_cmd *cmds, const char *prefix, int argc, char **argv)
{
    for (const cli_cmd *c = cmds; c->name; c++) {
        if (strcmp(c->name, argv[0]) != 0)
            continue;
        cli_cmd self = *c;
        self.path = join_path(prefix, c->name);
        if (c->subs) {
            if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
                strcmp(argv[1], "help") == 0) {
                cli_print_help(&self, argc < 2 ? stderr : stdout);
                return argc < 2 ? CLI_USAGE : CLI_OK;
            }
            if (argv[1][0] == '-')
                return cli_usage(&self, "unknown option '%s'", argv[1]);
            int rc = cli_dispatch(c->subs, self.path, argc - 1, argv + 1);
            if (rc == -1)
                return cli_usage(&self, "unknown verb '%s'", argv[1]);
            return rc;
        }
        return c->run(&self, argc, argv);
    }
    return -1;
}

int cli_data_dir(const cli_cmd *cmd, const char *data, const char *config, char *out, size_t n)
{
    cfg c;
    cfg_defaults(&c);
    if (config) {
        rl_buf errors;
        rl_buf_init(&errors, 0);
        int rc = cfg_load(&c, config, &errors);
        if (rc != 0)
            fprintf(stderr, "%s", rl_buf_cstr(&errors));
        rl_buf_free(&errors);
        if (rc != 0)
            return cli_fail(cmd, CLI_BADINPUT, "%s: configuration rejected", config);
    }
    snprintf(out, n, "%s", data ? data : c.data_dir);
    return 0;
}

int cli_meta(store_txn *t, const char *key, char *out, size_t n)
{
    rl_str v;
    rl_err err;
    out[0] = '\0';
    if (store_get(t, STORE_META, rl_str_c(key), &v, &err) != STORE_OK)
        return 1;
    snprintf(out, n, "%.*s", (int)(v.n < n ? v.n : n - 1), v.p);
    return 0;
}

long cli_engine_pid(const char *data_dir)
{
    char path[CFG_PATH + 32];
    snprintf(path, sizeof path, "%s/serve.lock", data_dir);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) /* never ran here; or we may not look: then we cannot tell */
        return errno == ENOENT ? 0 : -2;
    long pid = 0;
    if (flock(fd, LOCK_SH | LOCK_NB) != 0) { /* held: an engine runs */
        char buf[32];
        ssize_t k = pread(fd, buf, sizeof buf - 1, 0);
        buf[k > 0 ? k : 0] = '\0';
        pid = strtol(buf, NULL, 10);
        if (pid <= 0)
            pid = -1;
    }
    close(fd);
    return pid;
}

int cli_open_store(const cli_cmd *cmd, const char *data, const char *config, bool write,
                   store **st, store_txn **t)
{
    char dir[CFG_PATH];
    int rc = cli_data_dir(cmd, data, config, dir, sizeof dir);
    if (rc)
        return rc;
    rl_err err;
    store_opts so = { .readonly = !write };
    if (store_open(dir, &so, st, &err) != STORE_OK)
        return cli_fail(cmd, CLI_FAIL, "%s", err.msg);
    if (store_begin(*st, NULL, write, t, &err) != STORE_OK) {
        store_close(*st);
        return cli_fail(cmd, CLI_FAIL, "%s", err.msg);
    }
    return 0;
}

void cli_fmt_time(int64_t us, char *out, size_t n)
{
    time_t t = (time_t)(us / 1000000);
    struct tm tm;
    localtime_r(&t, &tm);
    strftime(out, n, "%Y-%m-%d %H:%M:%S", &tm);
}

/* ---- verbs that change the store: through the engine, or directly ---- */

static int print_reply(int status, rl_buf *out, unsigned flags)
{
    if (out->len && !((flags & CLI_CTL_QUIET_OK) && status == 0))
        fwrite(out->data, 1, out->len, status == 0 || (flags & CLI_CTL_STDOUT) ? stdout : stderr);
    return status;
}

int cli_ctl_engine(const cli_cmd *cmd, const char *data, const char *config, int argc,
                   char **argv, bool *ran, unsigned flags)
{
    *ran = false;
    char dir[CFG_PATH], sock[700];
    int rc = cli_data_dir(cmd, data, config, dir, sizeof dir);
    if (rc)
        return rc;
    long pid = cli_engine_pid(dir);
    if (pid == 0)
        return CLI_OK;
    if (pid == -2) {
        *ran = true;
        return cli_fail(cmd, CLI_FAIL, "%s/serve.lock: %s: only root and the engine's user may "
                        "control the engine on %s", dir, strerror(EACCES), dir);
    }
    rl_err err;
    if (ctlsock_path(dir, "control.sock", sock, sizeof sock, &err) != 0) {
        *ran = true;
        return cli_fail(cmd, CLI_FAIL, "%s", err.msg);
    }
    rl_buf out;
    rl_buf_init(&out, 0);
    int status = CLI_FAIL;
    /* the lock may be held a moment by another command changing the store
     * directly, or by an engine still starting: ask again for a while */
    for (int i = 0; i < 40; i++) {
        rc = ctlsock_call(sock, argc, argv, 60000, &status, &out, &err);
        if (rc != CTL_E_NOENGINE)
            break;
        usleep(50 * 1000);
        if ((pid = cli_engine_pid(dir)) == 0) {
            rl_buf_free(&out);
            return CLI_OK;
        }
    }
    *ran = true;
    if (rc == CTL_E_NOENGINE)
        rc = cli_fail(cmd, CLI_FAIL, "the engine (pid %ld) holds %s but does not answer on its "
                      "control socket %s", pid, dir, sock);
    else if (rc != 0)
        rc = cli_fail(cmd, CLI_FAIL, "%s", err.msg);
    else
        rc = print_reply(status, &out, flags);
    rl_buf_free(&out);
    return rc;
}

int cli_ctl_or_lock(const cli_cmd *cmd, const char *data, const char *config, int argc,
                    char **argv, unsigned flags, bool *ran, int *lock_fd)
{
    *lock_fd = -1;
    char dir[CFG_PATH], lock[CFG_PATH + 32];
    int rc = cli_data_dir(cmd, data, config, dir, sizeof dir);
    if (rc)
        return rc;
    snprintf(lock, sizeof lock, "%s/serve.lock", dir);
    for (int i = 0; i < 100; i++) {
        rc = cli_ctl_engine(cmd, data, config, argc, argv, ran, flags);
        if (*ran || rc)
            return rc;
        int fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0640);
        if (fd < 0)
            return cli_fail(cmd, CLI_FAIL, "%s: %s", lock, strerror(errno));
        if (flock(fd, LOCK_EX | LOCK_NB) == 0) {
            *lock_fd = fd;
            return CLI_OK;
        }
        close(fd); /* an engine starting, or another command: ask again */
        usleep(50 * 1000);
    }
    *ran = true;
    return cli_fail(cmd, CLI_FAIL, "%s: held, and no engine answers", lock);
}

int cli_ctl(const cli_cmd *cmd, const char *data, const char *config, int argc, char **argv)
{
    return cli_ctl_flags(cmd, data, config, argc, argv, 0);
}

int cli_ctl_flags(const cli_cmd *cmd, const char *data, const char *config, int argc,
                  char **argv, unsigned flags)
{
    bool ran;
    int lfd = -1;
    int rc = cli_ctl_or_lock(cmd, data, config, argc, argv, flags, &ran, &lfd);
    if (ran || rc)
        return rc;
    /* no engine: the same change, on the store */
    store *st;
    store_txn *t;
    if ((rc = cli_open_store(cmd, data, config, true, &st, &t)) != 0) {
        if (lfd >= 0)
            close(lfd);
        return rc;
    }
    ctl_env env = { .now_us = rl_now_us() };
    rl_buf out;
    rl_buf_init(&out, 0);
    int status = ctl_apply(&env, t, argc, argv, &out);
    rl_err err;
    if (env.keep && store_commit(t, &err) != STORE_OK) {
        status = CLI_FAIL;
        rl_buf_printf(&out, "not stored: %s\n", err.msg);
    } else if (!env.keep) {
        store_abort(t);
    }
    store_close(st);
    if (lfd >= 0)
        close(lfd);
    rc = print_reply(status, &out, flags);
    rl_buf_free(&out);
    return rc;
}

/* "2026-11-23", "2026-11-23T10:15[:30]" (local time), or "30s", "10m", "2h", "3d" ago. */
int cli_parse_since(const char *text, int64_t *us)
{
    size_t n = strlen(text);
    char unit = n ? text[n - 1] : 0;
    uint64_t v;
    if (n >= 2 && strchr("smhd", unit) && rl_str_to_u64((rl_str){ text, n - 1 }, 1u << 30, &v)) {
        int64_t mult = unit == 's' ? 1 : unit == 'm' ? 60 : unit == 'h' ? 3600 : 86400;
        *us = rl_now_us() - (int64_t)v * mult * 1000000;
        return 0;
    }
    static const char *formats[] = { "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M",
                                     "%Y-%m-%d %H:%M", "%Y-%m-%d" };
    for (size_t i = 0; i < sizeof formats / sizeof formats[0]; i++) {
        struct tm tm;
        memset(&tm, 0, sizeof tm);
        const char *end = strptime(text, formats[i], &tm);
        if (end && *end == '\0') {
            tm.tm_isdst = -1;
            time_t t = mktime(&tm);
            if (t == (time_t)-1)
                return -1;
            *us = (int64_t)t * 1000000;
            return 0;
        }
    }
    return -1;
}
