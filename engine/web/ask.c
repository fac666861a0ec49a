/* The HTTP listener's threads ask the engine's loop over its control socket,
 * as the CLI does: the verbs that change the store and the questions only
 * the loop can answer. */
#include "web.h"

#include "radlink/ctlsock.h"
#include "radlink/limits.h"

int web_ctl(web *w, int argc, char **argv, int *status, rl_buf *out)
{
    rl_err err;
    int rc = ctlsock_call(w->ctl_path, argc, argv, RL_HTTP_REQUEST_TIMEOUT_MS, status, out, &err);
    if (rc != 0) {
        rl_buf_reset(out);
        rl_buf_printf(out, "the engine did not answer: %s\n", err.msg);
        return -1;
    }
    return 0;
}

