/* user list|add|passwd|set|del: the console's users file (radlink/users.h).
 * The engine reads the file at every login, so a change needs no restart;
 * a user removed or demoted loses the sessions already open at their next
 * request (the HTTP listener ends them when it made the change). */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "ops_internal.h"
#include "radlink/cfg.h"
#include "radlink/users.h"

/* Changes by the HTTP listener's threads, one at a time (load, change, save). */
static pthread_mutex_t users_lock = PTHREAD_MUTEX_INITIALIZER;

/* The users file: the caller's, else <http users> of --config, else DATA/users. */
static int users_path(op_call *c, char *out, size_t n)
{
    if (c->users_path) {
        snprintf(out, n, "%s", c->users_path);
        return OP_OK;
    }
    cfg cf;
    cfg_defaults(&cf);
    if (c->config) {
        rl_buf errors;
        rl_buf_init(&errors, 0);
        int bad = cfg_load(&cf, c->config, &errors);
        if (bad)
            view_fail(c->out, OP_BADINPUT, "%s%s: configuration rejected",
                      rl_buf_cstr(&errors) ? rl_buf_cstr(&errors) : "", c->config);
        rl_buf_free(&errors);
        if (bad)
            return OP_BADINPUT;
    }
    if (cf.http.users[0] && !c->data) {
        snprintf(out, n, "%s", cf.http.users);
        return OP_OK;
    }
    const char *dir = c->data ? c->data : cf.data_dir;
    /* users may come before the engine's first start: its directory too
     * (with the mode the engine gives it) */
    if (mkdir(dir, 0700) != 0 && errno != EEXIST)
        return view_fail(c->out, OP_FAIL, "%s: %s", dir, strerror(errno));
    snprintf(out, n, "%s/users", dir);
    return OP_OK;
}

static const view_field U_NAME = { "name", "USER", 24 };
static const view_field U_ROLE = { "role", "ROLE", 0 };
static const view_field *const user_cols[] = { &U_NAME, &U_ROLE, NULL };

int ops_user_list(op_call *c)
{
    char path[RL_CFG_SUBPATH_MAX];
    int st = users_path(c, path, sizeof path);
    if (st != OP_OK)
        return st;
    users_rec *u = calloc(RL_USERS_MAX, sizeof *u);
    size_t n = 0;
    rl_err err;
    if (!u)
        return view_fail(c->out, OP_FAIL, "out of memory");
    if (users_load(path, u, RL_USERS_MAX, &n, &err) != 0) {
        free(u);
        return view_fail(c->out, OP_BADINPUT, "%s", err.msg);
    }
    view_list(c->out, "users", user_cols);
    for (size_t i = 0; i < n; i++) {
        view_row(c->out);
        view_cstr(c->out, &U_NAME, u[i].name);
        view_cstr(c->out, &U_ROLE, users_role_name(u[i].role));
        view_row_end(c->out);
    }
    view_list_end(c->out);
    free(u);
    return OP_OK;
}

/* The change one verb makes to the list u (n users, name at `at`, n when
 * absent): 0, or a failure already said. */
static int change_list(op_call *c, users_rec *u, size_t *n, size_t at, const char *path)
{
    const char *verb = c->verb->verb, *name = ops_str(c, "NAME");
    bool add = !strcmp(verb, "add"), set = !strcmp(verb, "set");
    if (add && at < *n)
        return view_fail(c->out, OP_FAIL, "user %s exists (radlink user passwd to change the "
                         "password)", name);
    if ((add || set) && at == *n && *n == RL_USERS_MAX)
        return view_fail(c->out, OP_FAIL, "the users file holds %d users at most",
                         RL_USERS_MAX);
    if (!add && !set && at == *n)
        return view_fail(c->out, OP_NOTFOUND, "no user %s in %s", name, path);
    if (!strcmp(verb, "del")) {
        memmove(&u[at], &u[at + 1], (*n - at - 1) * sizeof *u);
        (*n)--;
        return OP_OK;
    }
    if (at == *n) {
        snprintf(u[at].name, sizeof u[at].name, "%s", name);
        (*n)++;
    }
    if (ops_str(c, "role"))
        u[at].role = (users_role)users_role_parse(ops_str(c, "role"));
    rl_err err;
    if (users_hash(ops_str(c, "password"), u[at].hash, sizeof u[at].hash, &err) != 0)
        return view_fail(c->out, OP_FAIL, "%s", err.msg);
    return OP_OK;
}

static int change_file(op_call *c, const char *path)
{
    const char *name = ops_str(c, "NAME");
    users_rec *u = calloc(RL_USERS_MAX, sizeof *u);
    size_t n = 0, at = 0;
    rl_err err;
    if (!u)
        return view_fail(c->out, OP_FAIL, "out of memory");
    int st = users_load(path, u, RL_USERS_MAX, &n, &err) != 0
                 ? view_fail(c->out, OP_BADINPUT, "%s", err.msg) : OP_OK;
    while (st == OP_OK && at < n && strcmp(u[at].name, name) != 0)
        at++;
    if (st == OP_OK)
        st = change_list(c, u, &n, at, path);
    if (st == OP_OK && users_save(path, u, n, &err) != 0)
        st = view_fail(c->out, OP_FAIL, "%s", err.msg);
    free(u);
    return st;
}

int ops_user_change(op_call *c)
{
    const char *verb = c->verb->verb, *name = ops_str(c, "NAME"), *pw = ops_str(c, "password");
    if (!users_name_ok(name))
        return view_fail(c->out, OP_USAGE, "a user name is 1 to 63 of A-Z a-z 0-9 . _ -");
    bool del = !strcmp(verb, "del");
    if (!del && (!pw || strlen(pw) < RL_PASSWORD_MIN))
        return view_fail(c->out, OP_BADINPUT, "a password has at least %d characters",
                         RL_PASSWORD_MIN);
    char path[RL_CFG_SUBPATH_MAX];
    int st = users_path(c, path, sizeof path);
    if (st != OP_OK)
        return st;
    pthread_mutex_lock(&users_lock);
    st = change_file(c, path);
    pthread_mutex_unlock(&users_lock);
    if (st != OP_OK)
        return st;
    if (c->on_user_changed)
        c->on_user_changed(c->hook_ctx, name);
    view_printf(c->out, "user %s %s\n", name,
                !strcmp(verb, "add")      ? "added"
                : del                     ? "removed"
                : !strcmp(verb, "passwd") ? "has a new password"
                                          : "saved");
    return OP_OK;
}
