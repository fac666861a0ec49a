/* radlink: one binary, many verbs. This file only dispatches; each verb lives
 * in engine/cli/. */
#include <stdio.h>
#include <signal.h>
#include <string.h>

#include "cli/cli.h"
#include "radlink/log.h"

static void usage(const cli_cmd *verbs, FILE *out)
{
    fprintf(out, "usage: radlink VERB [OPTIONS] [ARGS]\n\n"
                 "radlink links a RIS/EHR (HL7 v2 over MLLP) with modalities and a PACS (DICOM).\n\n"
                 "Verbs:\n");
    for (const cli_cmd *c = verbs; c->name; c++)
        fprintf(out, "  %-8s %s\n", c->name, c->summary);
    fprintf(out, "\nRun 'radlink VERB --help' for a verb's options and sub-verbs.\n");
}

int main(int argc, char **argv)
{
    /* Automatic storage: the verbs are defined in other files. */
    const cli_cmd verbs[] = {
        cli_serve_cmd,
        cli_send_cmd,
        cli_msg_cmd,
        cli_routes_cmd,
        cli_queue_cmd,
        cli_status_cmd,
        cli_wl_cmd,
        cli_recon_cmd,
        cli_mpps_cmd,
        cli_audit_cmd,
        cli_user_cmd,
        cli_jobs_cmd,
        cli_backup_cmd,
        cli_restore_cmd,
        cli_check_cmd,
        cli_worker_cmd,
        cli_keygen_cmd,
        cli_hl7_cmd,
        cli_version_cmd,
        { 0 },
    };
    if (argc < 2) {
        usage(verbs, stderr);
        return CLI_USAGE;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
        strcmp(argv[1], "help") == 0) {
        usage(verbs, stdout);
        return CLI_OK;
    }
    if (strcmp(argv[1], "--version") == 0)
        argv[1] = (char *)"version";
    /* the tools print their results; only the engine and workers log info */
    if (strcmp(argv[1], "serve") != 0 && strcmp(argv[1], "worker") != 0)
        log_set_level(LOG_WARN);
    /* A reader whose output is closed (`radlink msg list | head -1`) gets
     * EPIPE and ends its transaction normally: killed by SIGPIPE it would
     * leave its LMDB reader slot behind, pinning an old snapshot. */
    signal(SIGPIPE, SIG_IGN);
    int rc = cli_dispatch(verbs, "", argc - 1, argv + 1);
    if (rc == -1) {
        fprintf(stderr, "radlink: %s '%s' (see 'radlink --help')\n",
                argv[1][0] == '-' ? "unknown option" : "unknown verb", argv[1]);
        return CLI_USAGE;
    }
    if ((fflush(stdout) != 0 || ferror(stdout)) && rc == CLI_OK)
        rc = CLI_FAIL; /* the output did not all reach its reader */
    return rc;
}
