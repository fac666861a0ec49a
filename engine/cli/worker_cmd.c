/* radlink worker: a job process (see engine/job/worker.c). radlink serve
 * starts and supervises its own; more can run beside it. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <zmq.h>

#include "tools.h"
#include "radlink/keyfile.h"
#include "radlink/limits.h"
#include "radlink/log.h"
#include "radlink/worker.h"

int cli_run_worker(op_call *self)
{
    const char *endpoint = ops_str(self, "connect"), *server_key = ops_str(self, "server-key");
    const char *key_file = ops_str(self, "key-file"), *level = ops_str(self, "log-level");
    const char *ae = ops_str(self, "ae-title") ? ops_str(self, "ae-title") : "RADLINK";
    if (level)
        log_set_level((log_level)log_level_parse(level));
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

int cli_run_keygen(op_call *self)
{
    char pub[RL_CURVE_KEY_SIZE], sec[RL_CURVE_KEY_SIZE];
    if (zmq_curve_keypair(pub, sec) != 0)
        return cli_fail(self, CLI_FAIL, "CURVE is not available in this ZeroMQ");
    const char *path = ops_str(self, "FILE");
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

