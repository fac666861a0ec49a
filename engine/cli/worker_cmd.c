/* radlink worker: a job process (see engine/job/worker.c). radlink serve
 * starts and supervises its own; more can run beside it. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <zmq.h>

#include "cli.h"
#include "radlink/keyfile.h"
#include "radlink/log.h"
#include "radlink/worker.h"

static int run_worker(const cli_cmd *self, int argc, char **argv)
{
    static const struct option longs[] = {
        { "connect", required_argument, NULL, 'c' },
        { "ae-title", required_argument, NULL, 'a' },
        { "log-level", required_argument, NULL, 'l' },
        { "server-key", required_argument, NULL, 's' },
        { "key-file", required_argument, NULL, 'k' },
        { 0, 0, 0, 0 },
    };
    cli_opts o = { argc, argv, self, "c:a:l:s:k:", longs, 0, 0 };
    const char *endpoint = NULL, *ae = "RADLINK", *server_key = NULL, *key_file = NULL;
    int c, level;
    while ((c = cli_next(&o)) != -1) {
        switch (c) {
        case CLI_STOP: return o.exit_code;
        case 'c': endpoint = optarg; break;
        case 'a': ae = optarg; break;
        case 's': server_key = optarg; break;
        case 'k': key_file = optarg; break;
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
    worker_keys keys = { .server_public = "" };
    if (!server_key != !key_file)
        return cli_usage(self, "--server-key and --key-file go together (CURVE)");
    if (server_key) {
        if (strlen(server_key) != 40)
            return cli_usage(self, "--server-key: the engine's public key, 40 characters (Z85)");
        snprintf(keys.server_public, sizeof keys.server_public, "%s", server_key);
        rl_err err;
        if (keyfile_read(key_file, keys.public_key, keys.secret_key, &err) != 0)
            return cli_fail(self, CLI_BADINPUT, "%s", err.msg);
    }
    int rc = worker_run(endpoint, ae, &keys);
    if (rc == WORKER_ABANDONED) {
        fflush(NULL);
        _exit(0); /* a job thread is still inside DCMTK: no destructors under it */
    }
    return rc;
}

static int run_keygen(const cli_cmd *self, int argc, char **argv)
{
    cli_opts o = { argc, argv, self, "", NULL, 0, 0 };
    int c;
    while ((c = cli_next(&o)) != -1)
        if (c == CLI_STOP)
            return o.exit_code;
    if (argc - optind != 1)
        return cli_usage(self, "expected FILE (the key pair is written there, mode 0600)");
    char pub[41], sec[41];
    if (zmq_curve_keypair(pub, sec) != 0)
        return cli_fail(self, CLI_FAIL, "CURVE is not available in this ZeroMQ");
    const char *path = argv[optind];
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0)
        return cli_fail(self, CLI_FAIL, "%s: %s", path, strerror(errno));
    FILE *f = fdopen(fd, "w");
    fprintf(f, "# radlink CURVE key pair: keep this file secret\npublic-key %s\nsecret-key %s\n",
            pub, sec);
    fclose(f);
    printf("%s\n", pub);
    /* Z85 keys may hold < > & ": the config needs them escaped */
    fprintf(stderr, "for a worker's key, in the engine config (for the engine's own key, "
                    "<jobs key-file=\"%s\">): <worker-key public=\"", path);
    for (const char *p = pub; *p; p++)
        fputs(*p == '<' ? "&lt;" : *p == '>' ? "&gt;" : *p == '&' ? "&amp;" : *p == '"' ? "&quot;"
              : (char[]){ *p, 0 }, stderr);
    fprintf(stderr, "\"/>\n");
    return CLI_OK;
}

const cli_cmd cli_keygen_cmd = {
    .name = "keygen",
    .args = "FILE",
    .summary = "make a CURVE key pair for the job endpoint (prints the public key)",
    .run = run_keygen,
    .help = "Writes FILE (mode 0600) with the public and secret key. The engine's goes to\n"
            "<jobs key-file>; each remote worker's public key to <jobs><worker-key>; a\n"
            "worker runs with --key-file FILE --server-key ENGINE-PUBLIC-KEY.\n",
};

const cli_cmd cli_worker_cmd = {
    .name = "worker",
    .summary = "a job process: corrects headers and sends studies to the PACS",
    .run = run_worker,
    .help = "  -c, --connect ENDPOINT  the engine's job endpoint (ipc://DATA/jobs.sock)\n"
            "  -a, --ae-title AE       calling AE title towards the PACS (default RADLINK)\n"
            "  -l, --log-level LEVEL   error, warn, info (default) or debug\n"
            "  -s, --server-key KEY    the engine's public key (CURVE, for tcp endpoints)\n"
            "  -k, --key-file FILE     this worker's key pair (radlink keygen)\n"
            "A remote worker reads and writes the spool files named in its jobs: it needs\n"
            "the engine's data directory at the same path (a shared file system).\n"
            "radlink serve starts and supervises its own workers (<jobs workers=\"N\">).\n",
};
