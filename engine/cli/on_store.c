/* Requests that route messages (msg replay, hl7 decide) when no engine runs:
 * the same ctl_apply the engine's loop runs, on the store, with the routes
 * the engine last ran and its hooks. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <dirent.h>
#include <sys/stat.h>

#include "cli.h"
#include "radlink/cfg.h"
#include "radlink/hl7.h"
#include "radlink/ctl.h"
#include "radlink/ingest.h"
#include "radlink/limits.h"
#include "radlink/store.h"
#include "radlink/wl_hook.h"

/* rm -r of a directory this process made (a store: two levels at most). */
static void remove_tree(const char *dir)
{
    DIR *d = opendir(dir);
    for (struct dirent *e = d ? readdir(d) : NULL; e; e = readdir(d)) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
            continue;
        char p[CFG_PATH + 300];
        snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
        struct stat st;
        if (lstat(p, &st) == 0 && S_ISDIR(st.st_mode))
            remove_tree(p);
        else
            unlink(p);
    }
    if (d)
        closedir(d);
    rmdir(dir);
}

/* The routes the engine last loaded (its META), else routes / the config's. */
static int load_engine_routes(const cli_cmd *self, store *st, const char *config,
                              const char *routes, route_set **rs)
{
    char eng_config[CFG_PATH] = "", eng_routes[CFG_PATH] = "";
    rl_buf text;
    rl_buf_init(&text, 0);
    store_txn *t;
    rl_err err;
    if (!routes && store_begin(st, NULL, false, &t, &err) == STORE_OK) {
        rl_str v;
        cli_meta(t, "engine.config", eng_config, sizeof eng_config);
        cli_meta(t, "routes.file", eng_routes, sizeof eng_routes);
        if (store_get(t, STORE_META, RL_STR("routes.text"), &v, &err) == STORE_OK)
            rl_buf_add_str(&text, v);
        store_abort(t);
        if (!config && eng_config[0] == '/')
            config = eng_config; /* for its <destinations> */
    }
    if (!text.len) {
        rl_buf_free(&text);
        return cli_load_routes(self, routes, config, rs, true);
    }
    cfg ec;
    cfg_defaults(&ec);
    rl_buf errors;
    rl_buf_init(&errors, 0);
    int rc = CLI_OK;
    if (config && cfg_load(&ec, config, &errors) != 0) {
        fprintf(stderr, "%s", rl_buf_cstr(&errors));
        rc = cli_fail(self, CLI_BADINPUT, "%s: configuration rejected", config);
    } else {
        route_load_opts lo = { .extra_dests = ec.dests, .n_extra_dests = ec.n_dests };
        if (route_load_mem(eng_routes[0] ? eng_routes : "engine routes", text.data, text.len,
                           &lo, rs, &errors) != ROUTE_OK) {
            fprintf(stderr, "%s", rl_buf_cstr(&errors));
            rc = CLI_BADINPUT;
        }
    }
    rl_buf_free(&errors);
    rl_buf_free(&text);
    return rc;
}

int cli_ingest_on_store(const cli_cmd *self, const char *data, const char *config,
                        const char *routes, bool temp_ok, int argc, char **argv, rl_buf *out,
                        bool *kept)
{
    *kept = false;
    int rc;
    char dir[CFG_PATH], tmp[CFG_PATH] = "", path[CFG_PATH + 16];
    if ((rc = cli_data_dir(self, data, config, dir, sizeof dir)) != 0)
        return rc;
    snprintf(path, sizeof path, "%s/store", dir);
    struct stat sb;
    if (temp_ok && stat(path, &sb) != 0) {
        /* no store here: decided against an empty one, made for the run */
        const char *td = getenv("TMPDIR");
        snprintf(tmp, sizeof tmp, "%s/radlink-dry.XXXXXX", td && td[0] ? td : "/tmp");
        if (!mkdtemp(tmp))
            return cli_fail(self, CLI_FAIL, "%s: %s", tmp, strerror(errno));
        snprintf(dir, sizeof dir, "%s", tmp);
        fprintf(stderr, "(no store in %s: decided against an empty one)\n", path);
    }
    store *st;
    rl_err err;
    store_opts so = { .readonly = false, .map_size = tmp[0] ? 64u << 20 : 0 };
    if (store_open(dir, &so, &st, &err) != STORE_OK) {
        if (tmp[0])
            remove_tree(tmp);
        return cli_fail(self, CLI_FAIL, "%s", err.msg);
    }
    route_set *rs = NULL;
    if ((rc = load_engine_routes(self, st, config, routes, &rs)) != CLI_OK) {
        store_close(st);
        if (tmp[0])
            remove_tree(tmp);
        return rc;
    }
    ingest g;
    ingest_cfg ic = { .dedup_window_us = RL_DEDUP_WINDOW_DEFAULT_S * 1000000ll,
                      .max_frame = RL_MAX_FRAME_CEILING };
    ingest_init(&g, &ic);
    for (int k = 0; k < ROUTE_HOOK_COUNT; k++)
        g.hooks[k] = engine_hook((route_hook_kind)k);
    int status = CLI_FAIL;
    store_txn *t;
    if (store_begin(st, NULL, true, &t, &err) == STORE_OK) {
        ctl_env env = { .ing = &g, .routes = rs, .now_us = rl_now_us() };
        status = ctl_apply(&env, t, argc, argv, out);
        if (env.keep && store_commit(t, &err) != STORE_OK) {
            status = CLI_FAIL;
            rl_buf_printf(out, "not stored: %s\n", err.msg);
        } else if (env.keep) {
            *kept = true;
        } else {
            store_abort(t);
        }
    } else {
        rl_buf_printf(out, "%s\n", err.msg);
    }
    ingest_free(&g);
    route_free(rs);
    store_close(st);
    if (tmp[0])
        remove_tree(tmp);
    return status;
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

int cli_route_request(const cli_cmd *self, const char *data, const char *config,
                      const char *routes, int argc, char **argv)
{
    char dir[CFG_PATH];
    int rc = cli_data_dir(self, data, config, dir, sizeof dir);
    if (rc)
        return rc;
    struct stat sb;
    int lock_fd = -1;
    if (stat(dir, &sb) == 0) { /* the running engine decides, else the store here */
        bool ran;
        rc = cli_ctl_or_lock(self, data, config, argc, argv, CLI_CTL_STDOUT, &ran, &lock_fd);
        if (ran || rc)
            return rc;
    }
    rl_buf out;
    rl_buf_init(&out, 0);
    bool kept;
    int status = cli_ingest_on_store(self, data, config, routes, true, argc, argv, &out, &kept);
    if (lock_fd >= 0)
        close(lock_fd);
    fwrite(out.data ? out.data : "", 1, out.len, status < 2 ? stdout : stderr);
    rl_buf_free(&out);
    return status;
}

typedef struct decide_ctx {
    const cli_cmd *self;
    const char *data, *config, *routes;
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
        d->worst = cli_fail(d->self, CLI_FAIL, "out of memory");
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
    int rc = cli_route_request(d->self, d->data, d->config, d->routes, argc, argv);
    fflush(stdout);
    free(hex);
    if (rc > d->worst)
        d->worst = rc;
    return rc >= CLI_USAGE ? 1 : 0;
}

int cli_decide_file(const cli_cmd *self, const char *data, const char *config,
                    const char *routes, const char *file, bool trace, bool raw)
{
    char abs[CFG_PATH];
    if (routes && !rl_realpath(routes, abs, sizeof abs))
        return cli_fail(self, CLI_BADINPUT, "%s: %s", routes, strerror(errno));
    rl_buf in;
    rl_err err;
    rl_buf_init(&in, RL_MAX_FRAME_CEILING);
    if (rl_read_file(file, &in, &err) != 0) {
        rl_buf_free(&in);
        return cli_fail(self, CLI_BADINPUT, "%s", err.msg);
    }
    decide_ctx d = { self, data, config, routes ? abs : NULL, trace, raw, 0, CLI_OK };
    hl7_split_info info;
    int rc;
    if (hl7_split(rl_buf_view(&in), decide_one, &d, &info, &err) < 0 || d.n == 0)
        rc = cli_fail(self, CLI_BADINPUT, "%s: %s", strcmp(file, "-") ? file : "stdin",
                      d.n ? err.msg : "no HL7 message found");
    else
        rc = d.worst;
    rl_buf_free(&in);
    return rc;
}
