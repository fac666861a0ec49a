/* radlink serve: load the configuration, apply flags, run the engine. */
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "radlink/cfg.h"
#include "radlink/job.h"
#include "radlink/log.h"
#include "radlink/serve.h"

static int run_serve(const cli_cmd *self, int argc, char **argv)
{
    static const struct option longs[] = {
        { "config", required_argument, NULL, 'c' },
        { "data", required_argument, NULL, 'd' },
        { "mllp", required_argument, NULL, 'm' },
        { "bind", required_argument, NULL, 'b' },
        { "log-level", required_argument, NULL, 'l' },
        { "routes", required_argument, NULL, 'r' },
        { "dicom", required_argument, NULL, 'i' },
        { "ae-title", required_argument, NULL, 'a' },
        { "pacs", required_argument, NULL, 'p' },
        { "workers", required_argument, NULL, 'w' },
        { "user", required_argument, NULL, 'u' },
        { "http", required_argument, NULL, 'H' },
        { "standby", no_argument, NULL, 'S' },
        { 0, 0, 0, 0 },
    };
    cli_opts o = { argc, argv, self, "c:d:m:b:l:r:i:a:p:w:u:H:", longs, 0, 0 };
    const char *user = NULL;
    bool standby = false;
    const char *config = NULL, *data = NULL, *bind = NULL, *routes = NULL;
    long mllp = 0, dicom = -1, workers = -1, http = -1;
    const char *pacs = NULL;
    const char *ae = NULL;
    int level = -1, c;
    while ((c = cli_next(&o)) != -1) {
        switch (c) {
        case CLI_STOP: return o.exit_code;
        case 'c': config = optarg; break;
        case 'd': data = optarg; break;
        case 'b': bind = optarg; break;
        case 'r': routes = optarg; break;
        case 'a': ae = optarg; break;
        case 'p': pacs = optarg; break;
        case 'u': user = optarg; break;
        case 'S': standby = true; break;
        case 'w':
            if (cli_number(self, "--workers", optarg, 0, 64, &workers) != 0)
                return CLI_USAGE;
            break;
        case 'i':
            if (cli_number(self, "--dicom", optarg, 0, 65535, &dicom) != 0)
                return CLI_USAGE;
            break;
        case 'H':
            if (cli_number(self, "--http", optarg, 0, 65535, &http) != 0)
                return CLI_USAGE;
            break;
        case 'm':
            if (cli_number(self, "--mllp", optarg, 1, 65535, &mllp) != 0)
                return CLI_USAGE;
            break;
        case 'l':
            if ((level = log_level_parse(optarg)) < 0)
                return cli_usage(self, "--log-level must be error, warn, info or debug");
            break;
        }
    }
    if (optind < argc)
        return cli_usage(self, "unexpected argument '%s'", argv[optind]);

    cfg cf;
    cfg_defaults(&cf);
    if (config) {
        rl_buf errors;
        rl_buf_init(&errors, 0);
        if (cfg_load(&cf, config, &errors) != 0) {
            fprintf(stderr, "%s", rl_buf_cstr(&errors));
            rl_buf_free(&errors);
            return cli_fail(self, CLI_BADINPUT, "%s: configuration rejected", config);
        }
        rl_buf_free(&errors);
    }
    if (data) {
        if (strlen(data) >= sizeof cf.data_dir)
            return cli_usage(self, "--data: path too long");
        snprintf(cf.data_dir, sizeof cf.data_dir, "%s", data);
    }
    if (routes) {
        if (strlen(routes) >= sizeof cf.routes_file)
            return cli_usage(self, "--routes: path too long");
        snprintf(cf.routes_file, sizeof cf.routes_file, "%s", routes);
    }
    if (dicom >= 0)
        cf.dicom_port = (unsigned)dicom;
    if (http >= 0)
        cf.http.l.port = (unsigned)http;
    if (workers >= 0)
        cf.workers = (unsigned)workers;
    if (pacs) { /* AE@HOST:PORT, the default PACS */
        const char *at = strchr(pacs, '@'), *colon = strrchr(pacs, ':');
        long port = 0;
        if (!at || !colon || colon < at || at == pacs || at - pacs > 16 || colon == at + 1 ||
            (size_t)(colon - at - 1) >= sizeof cf.pacs[0].host ||
            cli_number(self, "--pacs port", colon + 1, 1, 65535, &port) != 0)
            return cli_usage(self, "--pacs must be AETITLE@HOST:PORT");
        snprintf(cf.pacs[0].ae, sizeof cf.pacs[0].ae, "%.*s", (int)(at - pacs), pacs);
        snprintf(cf.pacs[0].host, sizeof cf.pacs[0].host, "%.*s", (int)(colon - at - 1), at + 1);
        cf.pacs[0].port = (unsigned)port;
        if (cf.n_pacs == 0) { /* the defaults of a <pacs> element */
            cf.n_pacs = 1;
            cf.pacs[0].verify = PACS_VERIFY_COMMIT_FIND;
            cf.pacs[0].commit_timeout_s = RL_COMMIT_TIMEOUT_DEFAULT_S;
        }
    }
    if (ae) {
        size_t n = strlen(ae);
        if (n == 0 || n > 16 || strchr(ae, '\\') || ae[strspn(ae, " ")] == '\0')
            return cli_usage(self, "--ae-title: 1 to 16 characters, not only spaces, no '\\'");
        snprintf(cf.dicom_ae, sizeof cf.dicom_ae, "%s", ae);
    }
    if (mllp)
        cf.mllp[0].port = (unsigned)mllp;
    if (bind)
        snprintf(cf.mllp[0].bind, sizeof cf.mllp[0].bind, "%s", bind);
    if (level >= 0)
        cf.log_level = level;
    if (user) {
        if (!*user || strlen(user) >= sizeof cf.run_user)
            return cli_usage(self, "--user: a user name");
        snprintf(cf.run_user, sizeof cf.run_user, "%s", user);
    }
    cf.standby = standby;
    log_set_level((log_level)cf.log_level);
    return serve_run(&cf);
}

const cli_cmd cli_serve_cmd = {
    .name = "serve",
    .summary = "run the engine (MLLP listener, routing, worklist, DICOM)",
    .run = run_serve,
    .help = "  -c, --config FILE      XML configuration (default: the embedded default)\n"
            "  -d, --data DIR         data directory (default ./var)\n"
            "  -m, --mllp PORT        MLLP port of the first listener (default 2575)\n"
            "  -b, --bind ADDR        address of the first listener (default 127.0.0.1)\n"
            "  -i, --dicom PORT       DICOM port of the Modality Worklist SCP (default 11112;\n"
            "                         0: no DICOM listener)\n"
            "  -H, --http PORT        port of the HTTP listener: metrics, health, API, console\n"
            "                         (default 8080 on 127.0.0.1; 0: none)\n"
            "  -a, --ae-title AE      the SCP's AE title (default RADLINK)\n"
            "  -p, --pacs AE@HOST:PORT  the PACS studies are sent to (first of <dicom><pacs>)\n"
            "  -w, --workers N        local worker processes (default 2)\n"
            "  -r, --routes FILE      route file (default: the config's, else the built-in\n"
            "                         routes/default.xml)\n"
            "  -l, --log-level LEVEL  error, warn, info (default) or debug\n"
            "  -u, --user NAME        started as root: run as NAME from the start, keeping\n"
            "                         only the right to bind ports below 1024 until the\n"
            "                         listeners are bound (the data directory and TLS keys\n"
            "                         must belong to NAME)\n"
            "      --standby          when another engine serves this data directory, wait\n"
            "                         for it to end (its lock), then take over its place\n"
            "Flags override the configuration file. SIGINT or SIGTERM stops the engine\n"
            "cleanly; SIGHUP reloads the routes.\n",
};
