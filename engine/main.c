/* radlink: one binary, many verbs. This file only starts the command line
 * (engine/cli); the verbs are declared in engine/ops/table.c and
 * engine/cli/tools.c. */
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "radlink/alert.h"
#include "radlink/log.h"

int main(int argc, char **argv)
{
    alert_global_init(); /* libcurl's set-up, before any thread uses OpenSSL */
    if (argc >= 2 && strcmp(argv[1], "--version") == 0)
        argv[1] = (char *)"version";
    /* the tools print their results; only the engine and workers log info */
    if (argc < 2 || (strcmp(argv[1], "serve") != 0 && strcmp(argv[1], "worker") != 0))
        log_set_level(LOG_WARN);
    /* A reader whose output is closed (`radlink msg list | head -1`) gets
     * EPIPE and ends its transaction normally: killed by SIGPIPE it would
     * leave its LMDB reader slot behind, pinning an old snapshot. */
    signal(SIGPIPE, SIG_IGN);
    int rc = cli_main(argc - 1, argv + 1);
    if ((fflush(stdout) != 0 || ferror(stdout)) && rc == CLI_OK)
        rc = CLI_FAIL; /* the output did not all reach its reader */
    return rc;
}
