/* radlink user add|del|passwd|list: the console's users file (radlink/users.h).
 * The engine reads the file at every login, so a change needs no restart;
 * a user removed or demoted loses the sessions already open at their next
 * request. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#include "cli.h"
#include "radlink/cfg.h"
#include "radlink/limits.h"
#include "radlink/users.h"

typedef struct uopts {
    const char *data, *config, *role;
    bool password_stdin;
} uopts;

static const struct option longs[] = {
    { "data", required_argument, NULL, 'D' },  { "config", required_argument, NULL, 'C' },
    { "role", required_argument, NULL, 'r' },  { "password-stdin", no_argument, NULL, 'p' },
    { 0, 0, 0, 0 },
};

static int parse(const cli_cmd *self, int argc, char **argv, uopts *o)
{
    cli_opts co = { argc, argv, self, "", longs, 0, 0 };
    int c;
    while ((c = cli_next(&co)) != -1) {
        switch (c) {
        case CLI_STOP: return co.exit_code ? co.exit_code : -1;
        case 'D': o->data = optarg; break;
        case 'C': o->config = optarg; break;
        case 'r': o->role = optarg; break;
        case 'p': o->password_stdin = true; break;
        }
    }
    return 0;
}

/* The users file: <http users> of --config, else DATA/users. */
static int users_path(const cli_cmd *self, const uopts *o, char *out, size_t n)
{
    cfg cf;
    cfg_defaults(&cf);
    if (o->config) {
        rl_buf errors;
        rl_buf_init(&errors, 0);
        int bad = cfg_load(&cf, o->config, &errors);
        if (bad)
            fprintf(stderr, "%s", rl_buf_cstr(&errors));
        rl_buf_free(&errors);
        if (bad)
            return cli_fail(self, CLI_BADINPUT, "%s: configuration rejected", o->config);
    }
    if (cf.http.users[0] && !o->data) {
        snprintf(out, n, "%s", cf.http.users);
        return 0;
    }
    char dir[CFG_PATH];
    int rc = cli_data_dir(self, o->data, o->config, dir, sizeof dir);
    if (rc)
        return rc;
    /* users may come before the engine's first start: its directory too
     * (with the mode the engine gives it) */
    if (mkdir(dir, 0700) != 0 && errno != EEXIST)
        return cli_fail(self, CLI_FAIL, "%s: %s", dir, strerror(errno));
    snprintf(out, n, "%s/users", dir);
    return 0;
}

/* A password from stdin: asked twice without echo on a terminal, else one line. */
static int read_password(const cli_cmd *self, bool from_stdin, char *out, size_t n)
{
    bool tty = !from_stdin && isatty(0);
    struct termios old, quiet;
    for (int round = 0; round < (tty ? 2 : 1); round++) {
        char buf[256];
        if (tty) {
            fprintf(stderr, round ? "again: " : "password: ");
            tcgetattr(0, &old);
            quiet = old;
            quiet.c_lflag &= ~(tcflag_t)ECHO;
            tcsetattr(0, TCSAFLUSH, &quiet);
        }
        char *got = fgets(buf, sizeof buf, stdin);
        if (tty) {
            tcsetattr(0, TCSAFLUSH, &old);
            fputc('\n', stderr);
        }
        if (!got)
            return cli_fail(self, CLI_BADINPUT, "no password given on stdin");
        buf[strcspn(buf, "\r\n")] = '\0';
        if (round == 0)
            snprintf(out, n, "%s", buf);
        else if (strcmp(out, buf) != 0)
            return cli_fail(self, CLI_BADINPUT, "the two passwords differ");
    }
    if (strlen(out) < RL_PASSWORD_MIN)
        return cli_fail(self, CLI_BADINPUT, "a password has at least %d characters",
                        RL_PASSWORD_MIN);
    return 0;
}

/* Every user of the file: a calloc'd array the caller frees, or NULL after
 * saying why (*rc the exit code). */
static users_rec *load_all(const cli_cmd *self, const char *path, size_t *n, int *rc)
{
    users_rec *u = calloc(RL_USERS_MAX, sizeof *u);
    rl_err err;
    if (!u) {
        *rc = cli_fail(self, CLI_FAIL, "out of memory");
        return NULL;
    }
    if (users_load(path, u, RL_USERS_MAX, n, &err) != 0) {
        free(u);
        *rc = cli_fail(self, CLI_BADINPUT, "%s", err.msg);
        return NULL;
    }
    return u;
}

static int change(const cli_cmd *self, int argc, char **argv, char verb)
{
    uopts o = { 0 };
    int rc = parse(self, argc, argv, &o);
    if (rc)
        return rc < 0 ? CLI_OK : rc;
    if (argc - optind != 1)
        return cli_usage(self, "expected one user NAME");
    const char *name = argv[optind];
    if (!users_name_ok(name))
        return cli_usage(self, "a user name is 1 to 63 of A-Z a-z 0-9 . _ -");
    int role = -1;
    if (verb == 'a' && (role = users_role_parse(o.role)) < 0)
        return cli_usage(self, "--role must be viewer, operator or admin");
    char path[CFG_PATH + 16];
    if ((rc = users_path(self, &o, path, sizeof path)) != 0)
        return rc;
    size_t n = 0, at;
    rl_err err;
    users_rec *u = load_all(self, path, &n, &rc);
    if (!u)
        return rc;
    for (at = 0; at < n && strcmp(u[at].name, name) != 0; at++)
        ;
    if (verb == 'a' && at < n)
        rc = cli_fail(self, CLI_FAIL, "user %s exists (radlink user passwd to change the "
                      "password)", name);
    else if (verb != 'a' && at == n)
        rc = cli_fail(self, CLI_FAIL, "no user %s in %s", name, path);
    else if (verb == 'a' && n == RL_USERS_MAX)
        rc = cli_fail(self, CLI_FAIL, "%d users already", RL_USERS_MAX);
    char pw[256];
    if (!rc && verb != 'd' && (rc = read_password(self, o.password_stdin, pw, sizeof pw)) == 0) {
        if (verb == 'a') {
            snprintf(u[n].name, sizeof u[n].name, "%s", name);
            u[n].role = (users_role)role;
            at = n++;
        }
        if (users_hash(pw, u[at].hash, sizeof u[at].hash, &err) != 0)
            rc = cli_fail(self, CLI_FAIL, "%s", err.msg);
    }
    memset(pw, 0, sizeof pw);
    if (!rc && verb == 'd')
        memmove(&u[at], &u[at + 1], (--n - at) * sizeof *u);
    if (!rc && users_save(path, u, n, &err) != 0)
        rc = cli_fail(self, CLI_FAIL, "%s", err.msg);
    if (!rc)
        printf("user %s %s\n", name,
               verb == 'a' ? "added" : verb == 'd' ? "removed" : "has a new password");
    free(u);
    return rc;
}

static int run_add(const cli_cmd *self, int argc, char **argv) { return change(self, argc, argv, 'a'); }
static int run_del(const cli_cmd *self, int argc, char **argv) { return change(self, argc, argv, 'd'); }
static int run_passwd(const cli_cmd *self, int argc, char **argv) { return change(self, argc, argv, 'p'); }

static int run_list(const cli_cmd *self, int argc, char **argv)
{
    uopts o = { 0 };
    int rc = parse(self, argc, argv, &o);
    if (rc)
        return rc < 0 ? CLI_OK : rc;
    char path[CFG_PATH + 16];
    if ((rc = users_path(self, &o, path, sizeof path)) != 0)
        return rc;
    size_t n = 0;
    users_rec *u = load_all(self, path, &n, &rc);
    if (!u)
        return rc;
    printf("%-24s %s\n", "USER", "ROLE");
    for (size_t i = 0; i < n; i++)
        printf("%-24s %s\n", u[i].name, users_role_name(u[i].role));
    free(u);
    return CLI_OK;
}

#define USER_HELP                                                                              \
    "  --data DIR        data directory: the users file is DIR/users\n"                       \
    "  --config FILE     the configuration whose <http users> names the file\n"

static const cli_cmd user_subs[] = {
    { .name = "add", .args = "NAME", .run = run_add,
      .summary = "add a console user; the password is read from the terminal or stdin",
      .help = "  --role ROLE       viewer (reads), operator (retries, parks, links, replays) or\n"
              "                    admin (also reloads routes)\n"
              "  --password-stdin  read the password as one line from stdin\n" USER_HELP },
    { .name = "passwd", .args = "NAME", .run = run_passwd,
      .summary = "set a console user's password",
      .help = "  --password-stdin  read the password as one line from stdin\n" USER_HELP },
    { .name = "del", .args = "NAME", .run = run_del, .summary = "remove a console user",
      .help = USER_HELP },
    { .name = "list", .args = "", .run = run_list, .summary = "list the console's users",
      .help = USER_HELP },
    { 0 },
};

const cli_cmd cli_user_cmd = {
    .name = "user",
    .summary = "the web console's users: add, passwd, del, list",
    .subs = user_subs,
};
