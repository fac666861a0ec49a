/* radlink worker: a job process (see engine/job/worker.c). radlink serve
 * starts and supervises its own; more can run beside it. */
#include <string.h>

#include "cli.h"
#include "radlink/dispatch.h"
#include "radlink/log.h"

static int run_worker(const cli_cmd *self, int argc, char **argv)
{
    static const struct option longs[] = {
        { "connect", required_argument, NULL, 'c' },
        { "ae-title", required_argument, NULL, 'a' },
        { "log-level", required_argument, NULL, 'l' },
        { 0, 0, 0, 0 },
    };
    cli_opts o = { argc, argv, self, "c:a:l:", longs, 0, 0 };
    const char *endpoint = NULL, *ae = "RADLINK";
    int c, level;
    while ((c = cli_next(&o)) != -1) {
        switch (c) {
        case CLI_STOP: return o.exit_code;
        case 'c': endpoint = optarg; break;
        case 'a': ae = optarg; break;
        case 'l':
            if ((level = log_level_parse(optarg)) < 0)
                return cli_usage(self, "--log-level must be error, warn, info or debug");
            log_set_level((log_level)level);
            break;
        }
    }
    if (!endpoint)
        return cli_usage(self, "--connect ENDPOINT is required (e.g. ipc://var/jobs.sock)");
    if (strlen(ae) == 0 || strlen(ae) > 16)
        return cli_usage(self, "--ae-title: 1 to 16 characters");
    return worker_run(endpoint, ae);
}

const cli_cmd cli_worker_cmd = {
    .name = "worker",
    .summary = "a job process: corrects headers and sends studies to the PACS",
    .run = run_worker,
    .help = "  -c, --connect ENDPOINT  the engine's job endpoint (ipc://DATA/jobs.sock)\n"
            "  -a, --ae-title AE       calling AE title towards the PACS (default RADLINK)\n"
            "  -l, --log-level LEVEL   error, warn, info (default) or debug\n"
            "radlink serve starts and supervises its own workers (<jobs workers=\"N\">).\n",
};
