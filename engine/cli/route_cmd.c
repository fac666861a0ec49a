/* radlink routes check|test|reload: the interface analyst's tools. check and
 * test never touch a store; reload asks the running engine to load its route
 * file again and reports what it said. */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "radlink/cfg.h"
#include "radlink/route.h"
#include "radlink/store.h"
#include "radlink/wl_hook.h"

static const struct option route_longs[] = {
    { "config", required_argument, NULL, 'C' },
    { "data", required_argument, NULL, 'D' },
    { 0, 0, 0, 0 },
};

int cli_load_routes(const cli_cmd *self, const char *file, const char *config, route_set **rs,
                    bool quiet)
{
    cfg c;
    cfg_defaults(&c);
    rl_buf errors;
    rl_buf_init(&errors, 0);
    if (config && cfg_load(&c, config, &errors) != 0) {
        fprintf(stderr, "%s", rl_buf_cstr(&errors));
        rl_buf_free(&errors);
        return cli_fail(self, CLI_BADINPUT, "%s: configuration rejected", config);
    }
    route_load_opts o = { .extra_dests = c.dests, .n_extra_dests = c.n_dests };
    if (!file && c.routes_file[0])
        file = c.routes_file;
    int rc = file ? route_load(file, &o, rs, &errors) : route_load_default(&o, rs, &errors);
    if (rc != ROUTE_OK) {
        fprintf(stderr, "%s", rl_buf_cstr(&errors));
        rl_buf_free(&errors);
        return quiet ? CLI_BADINPUT
                     : cli_fail(self, CLI_BADINPUT, "%s: not loaded (errors above)",
                                file ? file : "built-in routes");
    }
    rl_buf_free(&errors);
    return CLI_OK;
}

/* Options shared by the routes verbs: --config, --data. */
typedef struct ropts {
    const char *config, *data;
} ropts;

static int parse(const cli_cmd *self, int argc, char **argv, ropts *o, int nargs)
{
    cli_opts co = { argc, argv, self, "", route_longs, 0, 0 };
    int c;
    while ((c = cli_next(&co)) != -1) {
        if (c == CLI_STOP)
            return co.exit_code ? co.exit_code : -1;
        if (c == 'C')
            o->config = optarg;
        else if (c == 'D')
            o->data = optarg;
    }
    if (argc - optind != nargs)
        return cli_usage(self, "expected %s", self->args && self->args[0] ? self->args
                                                                          : "no arguments");
    return 0;
}

static int run_check(const cli_cmd *self, int argc, char **argv)
{
    ropts o = { 0 };
    int rc = parse(self, argc, argv, &o, 1);
    if (rc)
        return rc < 0 ? CLI_OK : rc;
    route_set *rs;
    if ((rc = cli_load_routes(self, argv[optind], o.config, &rs, true)) != CLI_OK) {
        fprintf(stderr, "%s: not valid\n", argv[optind]);
        return rc;
    }
    printf("%s: ok\n  sha256        %s\n  routes        %zu%s", argv[optind], route_sha256(rs),
           route_count(rs), route_count(rs) ? ":" : "");
    for (size_t i = 0; i < route_count(rs); i++)
        printf("%s %s", i ? "," : "", route_name(rs, i));
    size_t nd;
    const route_dest *d = route_dests(rs, &nd);
    printf("\n  destinations  %zu%s", nd, nd ? ":" : "");
    for (size_t i = 0; i < nd; i++)
        printf("%s %s (%s:%u%s)", i ? "," : "", d[i].name, d[i].host, d[i].port,
               d[i].tls ? " tls" : "");
    printf("\n  tables        %zu%s", route_table_count(rs), route_table_count(rs) ? ":" : "");
    for (size_t i = 0; i < route_table_count(rs); i++) {
        size_t n;
        const char *name = route_table_info(rs, i, &n);
        printf("%s %s (%zu entries)", i ? "," : "", name, n);
    }
    size_t nwl;
    bool ihe;
    route_wl_attrs(rs, &nwl, &ihe);
    printf("\n  worklist      %s defaults, %zu attribute%s mapped in the file\n",
           ihe ? "IHE" : "no", nwl, nwl == 1 ? "" : "s");
    for (int k = 0; k < ROUTE_HOOK_COUNT; k++) {
        int line = route_hook_line(rs, (route_hook_kind)k);
        if (line && !engine_hook((route_hook_kind)k))
            printf("warning: %s:%d: <%s/> is not available in this engine: every message that "
                   "reaches it gets AE\n", argv[optind], line, route_hook_name((route_hook_kind)k));
    }
    route_free(rs);
    return CLI_OK;
}

static int run_test(const cli_cmd *self, int argc, char **argv)
{
    ropts o = { 0 };
    int rc = parse(self, argc, argv, &o, 2);
    if (rc)
        return rc < 0 ? CLI_OK : rc;
    /* the file loads (its errors listed) before anything is decided */
    route_set *rs;
    if ((rc = cli_load_routes(self, argv[optind], o.config, &rs, false)) != CLI_OK)
        return rc;
    route_free(rs);
    return cli_decide_file(self, o.data, o.config, argv[optind], argv[optind + 1], true, false);
}

static int run_reload(const cli_cmd *self, int argc, char **argv)
{
    ropts o = { 0 };
    int rc = parse(self, argc, argv, &o, 0);
    if (rc)
        return rc < 0 ? CLI_OK : rc;
    char *req[] = { "routes", "reload", NULL };
    bool ran;
    rc = cli_ctl_engine(self, o.data, o.config, 2, req, &ran, 0);
    if (!ran && rc == CLI_OK) {
        char dir[CFG_PATH];
        if ((rc = cli_data_dir(self, o.data, o.config, dir, sizeof dir)) != 0)
            return rc;
        return cli_fail(self, CLI_FAIL, "no engine runs on data directory %s (the route file is "
                        "loaded when it starts)", dir);
    }
    return rc;
}

static const cli_cmd route_subs[] = {
    { .name = "check", .args = "FILE", .run = run_check,
      .summary = "validate a route file and summarise it (exit 0), or list its errors (exit 3)",
      .help = "  --config FILE   offer this configuration's <destinations> to the routes\n" },
    { .name = "test", .args = "FILE MSG.hl7", .run = run_test,
      .summary = "dry-run messages through a route file and print the trace and the ACK",
      .help = "  --config FILE   offer this configuration's <destinations> to the routes\n"
              "  --data DIR      decide against this data directory's store (default: from\n"
              "                  --config, else ./var; an empty store when there is none)\n"
              "Each message goes through what a received one goes through (header checks,\n"
              "retransmissions, these routes, worklist and patient actions against the\n"
              "store), by the running engine when there is one; nothing is kept or sent.\n"
              "MSG.hl7 may hold several messages or a batch ('-' reads stdin). Exit 0 when\n"
              "every message would be accepted, 1 otherwise.\n" },
    { .name = "reload", .args = "", .run = run_reload,
      .summary = "make the running engine load its route file again (as SIGHUP does)",
      .help = "  --data DIR      the engine's data directory (default: from --config, else ./var)\n"
              "  --config FILE   take the data directory from this configuration\n"
              "Asks the engine over its control socket and prints its answer. A file with\n"
              "errors is not taken: the running routes stay, the errors are printed and the\n"
              "exit status is 1.\n" },
    { 0 },
};

const cli_cmd cli_routes_cmd = {
    .name = "routes",
    .summary = "route files: check, test (dry run with a trace), reload",
    .subs = route_subs,
};
