/* radlink serve: the engine process. Signal handlers only set flags; the loop
 * acts on them. */
#include "radlink/serve.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "radlink/log.h"
#include "radlink/version.h"

static volatile sig_atomic_t stop_signal;

static void on_stop(int sig)
{
    stop_signal = sig;
}

int serve_run(const cfg *c)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_stop;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);

    printf("radlink %s\n", RADLINK_VERSION);
    cfg_print(c, stdout);
    fflush(stdout);
    log_info("serve.start", "version=%s config=%s data=%s", RADLINK_VERSION, c->source,
             c->data_dir);

    sigset_t block, old;
    sigemptyset(&block);
    sigaddset(&block, SIGINT);
    sigaddset(&block, SIGTERM);
    sigprocmask(SIG_BLOCK, &block, &old);
    while (!stop_signal)
        sigsuspend(&old);
    sigprocmask(SIG_SETMASK, &old, NULL);
    log_info("serve.stop", "signal=%s", stop_signal == SIGINT ? "SIGINT" : "SIGTERM");
    return 0;
}
