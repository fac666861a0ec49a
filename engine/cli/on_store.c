/* Requests that route messages (msg replay, hl7 decide) when no engine runs:
 * the same handler the engine's loop runs, on the store, with the routes the
 * engine last ran and its hooks. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <dirent.h>
#include <sys/stat.h>

#include "cli_store.h"
#include "radlink/cfg.h"
#include "radlink/limits.h"
#include "radlink/view.h"
#include "radlink/wl_hook.h"

/* A request applied here, in a write transaction of the store. */
int cli_apply(const op_call *outer, store *st, cli_routing *r, int argc, char **argv,
              rl_buf *out, bool *kept)
{
    *kept = false;
    int used;
    const op_verb *v = ops_find(ops_verbs, argc, argv, &used);
    char why[RL_VIEW_FAIL_MAX];
    op_call c = { .verb = v, .path = outer->path, .now_us = rl_now_us(), .data = outer->data,
                  .config = outer->config, .user = "" };
    if (!v || ops_parse(v, argc - used, argv + used, &c.vals, why, sizeof why) != OP_OK) {
        rl_buf_printf(out, "%s\n", v ? why : "not a request radlink takes");
        return OP_USAGE;
    }
    if (r) {
        c.ing = &r->ing;
        c.routes = r->rs;
    }
    rl_err err;
    store_txn *t;
    if (store_begin(st, NULL, true, &t, &err) != STORE_OK) {
        rl_buf_printf(out, "%s\n", err.msg);
        return OP_FAIL;
    }
    c.t = t;
    c.out = view_new(VIEW_TEXT);
    int status = c.out ? ops_run(&c) : OP_FAIL;
    if (c.out) {
        rl_buf_add_str(out, view_text(c.out));
        if (view_failure(c.out)[0])
            rl_buf_printf(out, "%s\n", view_failure(c.out));
    }
    view_free(c.out);
    if (c.keep && store_commit(t, &err) != STORE_OK) {
        status = OP_FAIL;
        rl_buf_printf(out, "not stored: %s\n", err.msg);
    } else if (c.keep) {
        *kept = true;
    } else {
        store_abort(t);
    }
    return status;
}

/* rm -r of a directory this process made (a store: two levels at most). */
static void remove_tree(const char *dir)
{
    DIR *d = opendir(dir);
    for (struct dirent *e = d ? readdir(d) : NULL; e; e = readdir(d)) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
            continue;
        char p[RL_CFG_PATH_MAX + NAME_MAX + 2];
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

int cli_load_routes(op_call *c, const char *file, route_set **rs, bool quiet)
{
    cfg cf;
    cfg_defaults(&cf);
    rl_buf errors;
    rl_buf_init(&errors, 0);
    if (c->config && cfg_load(&cf, c->config, &errors) != 0) {
        fprintf(stderr, "%s", rl_buf_cstr(&errors));
        rl_buf_free(&errors);
        return cli_fail(c, CLI_BADINPUT, "%s: configuration rejected", c->config);
    }
    route_load_opts o;
    const char *nodes[RL_MAX_PACS];
    cfg_route_opts(&cf, &o, nodes, &dicom_dict);
    if (!file && cf.routes_file[0])
        file = cf.routes_file;
    int rc = file ? route_load(file, &o, rs, &errors) : route_load_default(&o, rs, &errors);
    if (rc != ROUTE_OK) {
        fprintf(stderr, "%s", rl_buf_cstr(&errors));
        rl_buf_free(&errors);
        return quiet ? CLI_BADINPUT
                     : cli_fail(c, CLI_BADINPUT, "%s: not loaded (errors above)",
                                file ? file : "built-in routes");
    }
    rl_buf_free(&errors);
    return CLI_OK;
}

/* The routes the engine last loaded (its META), else routes / the config's. */
static int load_engine_routes(op_call *c, store *st, const char *routes, route_set **rs)
{
    char eng_config[RL_CFG_PATH_MAX] = "", eng_routes[RL_CFG_PATH_MAX] = "";
    rl_buf text;
    rl_buf_init(&text, 0);
    store_txn *t;
    rl_err err;
    const char *config = c->config;
    if (!routes && store_begin(st, NULL, false, &t, &err) == STORE_OK) {
        rl_str v;
        ops_meta(t, "engine.config", eng_config, sizeof eng_config);
        ops_meta(t, "routes.file", eng_routes, sizeof eng_routes);
        if (store_get(t, STORE_META, RL_STR("routes.text"), &v, &err) == STORE_OK)
            rl_buf_add_str(&text, v);
        store_abort(t);
        if (!config && eng_config[0] == '/')
            config = eng_config; /* for its <destinations> */
    }
    if (!text.len) {
        rl_buf_free(&text);
        return cli_load_routes(c, routes, rs, true);
    }
    cfg ec;
    cfg_defaults(&ec);
    rl_buf errors;
    rl_buf_init(&errors, 0);
    int rc = CLI_OK;
    if (config && cfg_load(&ec, config, &errors) != 0) {
        fprintf(stderr, "%s", rl_buf_cstr(&errors));
        rc = cli_fail(c, CLI_BADINPUT, "%s: configuration rejected", config);
    } else {
        route_load_opts lo;
        const char *nodes[RL_MAX_PACS];
        cfg_route_opts(&ec, &lo, nodes, &dicom_dict);
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

/* An empty store for a dry run where the data directory has none. */
static int temp_store(op_call *c, char *dir, size_t n)
{
    const char *td = getenv("TMPDIR");
    snprintf(dir, n, "%s/radlink-dry.XXXXXX", td && td[0] ? td : "/tmp");
    if (!mkdtemp(dir))
        return cli_fail(c, CLI_FAIL, "%s: %s", dir, strerror(errno));
    return 0;
}

int cli_on_store(op_call *c, const char *routes, bool temp_ok, int argc, char **argv,
                 rl_buf *out, bool *kept)
{
    *kept = false;
    char tmp[RL_CFG_PATH_MAX] = "", path[RL_CFG_SUBPATH_MAX];
    const char *dir = c->data;
    snprintf(path, sizeof path, "%s/store", dir);
    struct stat sb;
    if (temp_ok && stat(path, &sb) != 0) {
        /* no store here: decided against an empty one, made for the run */
        if (temp_store(c, tmp, sizeof tmp) != 0)
            return OP_FAIL;
        dir = tmp;
        fprintf(stderr, "(no store in %s: decided against an empty one)\n", path);
    }
    store *st;
    rl_err err;
    store_opts so = { .readonly = false, .map_size = tmp[0] ? RL_DRY_STORE_MAP_MB << 20 : 0 };
    int status = OP_FAIL;
    cli_routing r = { .rs = NULL };
    if (store_open(dir, &so, &st, &err) != STORE_OK) {
        cli_fail(c, CLI_FAIL, "%s", err.msg);
    } else if ((status = load_engine_routes(c, st, routes, &r.rs)) != CLI_OK) {
        store_close(st);
    } else {
        ingest_cfg ic = { .dedup_window_us = RL_DEDUP_WINDOW_DEFAULT_S * 1000000ll,
                          .max_frame = RL_MAX_FRAME_CEILING };
        ingest_init(&r.ing, &ic);
        for (int k = 0; k < ROUTE_HOOK_COUNT; k++)
            r.ing.hooks[k] = engine_hook((route_hook_kind)k);
        status = cli_apply(c, st, &r, argc, argv, out, kept);
        ingest_free(&r.ing);
        route_free(r.rs);
        store_close(st);
    }
    if (tmp[0])
        remove_tree(tmp);
    return status;
}
