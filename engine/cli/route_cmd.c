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

typedef struct test_ctx {
    const route_set *rs;
    unsigned n;
    int worst;
} test_ctx;

static void print_segments(rl_str text, const char *indent)
{
    size_t start = 0;
    for (size_t i = 0; i <= text.n; i++) {
        if (i == text.n || text.p[i] == '\r' || text.p[i] == '\n') {
            if (i > start)
                printf("%s%.*s\n", indent, (int)(i - start), text.p + start);
            start = i + 1;
        }
    }
}

static int test_one(void *ctx, rl_str raw, size_t offset)
{
    test_ctx *tc = ctx;
    tc->n++;
    printf("%s=== message %u (byte %zu)\n", tc->n > 1 ? "\n" : "", tc->n, offset);
    hl7_msg m;
    hl7_msg_init(&m, NULL);
    rl_err err;
    rl_buf trace, out, ack;
    rl_buf_init(&trace, 0);
    rl_buf_init(&out, 0);
    rl_buf_init(&ack, 0);
    if (hl7_parse(&m, raw.p, raw.n, &err) != HL7_OK) {
        printf("does not parse: %s\nACK: AR (the engine rejects it before routing)\n", err.msg);
        tc->worst = CLI_FAIL;
        goto done;
    }
    rl_str msh0 = m.segs[0];
    route_env env = { .dry_run = true, .now_us = rl_now_us() };
    for (int k = 0; k < ROUTE_HOOK_COUNT; k++)
        env.hooks[k] = engine_hook((route_hook_kind)k);
    route_result res;
    route_eval(tc->rs, &m, &env, &res, &trace);
    fwrite(trace.data ? trace.data : "", 1, trace.len, stdout);
    hl7_serialize(&m, &out);
    rl_str orig = raw;
    while (orig.n && (orig.p[orig.n - 1] == '\r' || orig.p[orig.n - 1] == '\n'))
        orig.n--;
    rl_str now = rl_buf_view(&out);
    while (now.n && (now.p[now.n - 1] == '\r' || now.p[now.n - 1] == '\n'))
        now.n--;
    if (!rl_str_eq(orig, now)) {
        printf("message after transforms:\n");
        print_segments(now, "  ");
    }
    m.segs[0] = msh0; /* the ACK mirrors the MSH received */
    hl7_ack_err more[ROUTE_PROBLEMS];
    size_t n_more = res.accept ? 0 : route_ack_errs(&res, more, ROUTE_PROBLEMS);
    hl7_ack_info info = { .code = res.code, .err_code = res.accept ? 0 : res.errcode,
                          .err_text = res.accept ? NULL : res.text,
                          .err_at = res.has_at ? &res.at : NULL, .control_id = "RL0",
                          .now_us = env.now_us, .more = more, .n_more = n_more };
    hl7_ack_build(&m, &info, &ack);
    printf("ACK that would be sent:\n");
    print_segments(rl_buf_view(&ack), "  ");
    if (!res.accept)
        tc->worst = CLI_FAIL;
done:
    rl_buf_free(&trace);
    rl_buf_free(&out);
    rl_buf_free(&ack);
    hl7_msg_free(&m);
    return 0;
}

static int run_test(const cli_cmd *self, int argc, char **argv)
{
    ropts o = { 0 };
    int rc = parse(self, argc, argv, &o, 2);
    if (rc)
        return rc < 0 ? CLI_OK : rc;
    route_set *rs;
    if ((rc = cli_load_routes(self, argv[optind], o.config, &rs, false)) != CLI_OK)
        return rc;
    rl_buf in;
    rl_err err;
    rl_buf_init(&in, 0);
    const char *mf = argv[optind + 1];
    if (rl_read_file(mf, &in, &err) != 0) {
        route_free(rs);
        rl_buf_free(&in);
        return cli_fail(self, CLI_BADINPUT, "%s", err.msg);
    }
    test_ctx tc = { rs, 0, CLI_OK };
    hl7_split_info info;
    if (hl7_split(rl_buf_view(&in), test_one, &tc, &info, &err) < 0 || tc.n == 0)
        rc = cli_fail(self, CLI_BADINPUT, "%s: %s", mf, tc.n ? err.msg : "no HL7 message found");
    else
        rc = tc.worst;
    route_free(rs);
    rl_buf_free(&in);
    return rc;
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
              "MSG.hl7 may hold several messages or a batch ('-' reads stdin). Nothing is\n"
              "stored or sent. Exit 0 when every message would be accepted, 1 otherwise.\n" },
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
