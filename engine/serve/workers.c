/* The engine's local worker processes: started at start, reaped when SIGCHLD
 * says one died (the loop reads it from its signalfd), started again with
 * backoff (1 s doubling to RL_WORKER_RESTART_MAX_MS; one that ran that long
 * is forgiven). A worker dies with the engine (PR_SET_PDEATHSIG) and holds
 * none of its descriptors. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "engine.h"
#include "radlink/limits.h"
#include "radlink/log.h"

typedef struct slot {
    pid_t pid;
    int64_t started_ms, restart_ms;
    int backoff_ms;
    unsigned restarts;
} slot;

struct workers {
    unsigned n;
    char endpoint[RL_JOBS_ENDPOINT_MAX];
    char ae[RL_AE_TITLE_SIZE];
    slot s[RL_LOCAL_WORKERS_MAX];
};

extern char **environ;

workers *workers_new(unsigned n, const char *endpoint, const char *ae_title)
{
    workers *w = calloc(1, sizeof *w);
    if (!w)
        return NULL;
    w->n = n < RL_LOCAL_WORKERS_MAX ? n : RL_LOCAL_WORKERS_MAX;
    snprintf(w->endpoint, sizeof w->endpoint, "%s", endpoint);
    snprintf(w->ae, sizeof w->ae, "%s", ae_title);
    for (unsigned i = 0; i < w->n; i++)
        w->s[i].backoff_ms = 1000;
    return w;
}

static void spawn(workers *w, unsigned i)
{
    /* the engine's log level (serve --log-level, <log level>) */
    char *argv[] = { "radlink", "worker", "--connect", w->endpoint, "--ae-title", w->ae,
                     "--log-level", (char *)log_level_name(log_get_level()), NULL };
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid == 0) {
        /* Only async-signal-safe calls until exec. The engine blocks the
         * signals it reads from its signalfd; the worker gets them back. */
        sigset_t none;
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);
        close_range(3, ~0U, 0);
        prctl(PR_SET_PDEATHSIG, SIGTERM);
        if (getppid() != parent)
            _exit(0);
        execve("/proc/self/exe", argv, environ);
        _exit(127);
    }
    slot *s = &w->s[i];
    if (pid < 0) {
        log_error("jobs.worker_spawn", "error=\"%s\"", strerror(errno));
        s->pid = 0;
        s->restart_ms = rl_mono_ms() + s->backoff_ms;
        return;
    }
    s->pid = pid;
    s->started_ms = rl_mono_ms();
    s->restart_ms = 0;
    log_info("jobs.worker_started", "slot=%u pid=%ld", i, (long)pid);
}

void workers_start(workers *w)
{
    for (unsigned i = 0; w && i < w->n; i++)
        spawn(w, i);
}

void workers_reap(workers *w, void (*ended)(void *ctx, long pid), void *ctx)
{
    int status;
    pid_t pid;
    while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
        for (unsigned i = 0; w && i < w->n; i++) {
            slot *s = &w->s[i];
            if (s->pid != pid)
                continue;
            if (rl_mono_ms() - s->started_ms >= RL_WORKER_RESTART_MAX_MS)
                s->backoff_ms = 1000; /* it ran long enough: forgiven */
            s->pid = 0;
            s->restart_ms = rl_mono_ms() + s->backoff_ms;
            log_warn("jobs.worker_died", "slot=%u pid=%ld %s=%d restart_in_ms=%d", i, (long)pid,
                     WIFSIGNALED(status) ? "signal" : "exit",
                     WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status),
                     s->backoff_ms);
            s->backoff_ms = s->backoff_ms < RL_WORKER_RESTART_MAX_MS / 2 ? s->backoff_ms * 2
                                                                         : RL_WORKER_RESTART_MAX_MS;
            if (ended)
                ended(ctx, (long)pid);
        }
    }
}

void workers_tick(workers *w)
{
    int64_t now = rl_mono_ms();
    for (unsigned i = 0; w && i < w->n; i++)
        if (!w->s[i].pid && w->s[i].restart_ms && now >= w->s[i].restart_ms) {
            w->s[i].restarts++;
            spawn(w, i);
        }
}

int64_t workers_deadline_ms(const workers *w)
{
    int64_t d = -1;
    for (unsigned i = 0; w && i < w->n; i++)
        if (!w->s[i].pid && w->s[i].restart_ms && (d < 0 || w->s[i].restart_ms < d))
            d = w->s[i].restart_ms;
    return d;
}

unsigned workers_alive(const workers *w)
{
    unsigned n = 0;
    for (unsigned i = 0; w && i < w->n; i++)
        n += w->s[i].pid > 0;
    return n;
}

void workers_status(const workers *w, rl_buf *out)
{
    for (unsigned i = 0; w && i < w->n; i++) {
        if (w->s[i].pid)
            rl_buf_printf(out, "local worker %u pid %ld, restarted %u times\n", i,
                          (long)w->s[i].pid, w->s[i].restarts);
        else
            rl_buf_printf(out, "local worker %u not running, restarts in %lld ms\n", i,
                          (long long)(w->s[i].restart_ms - rl_mono_ms()));
    }
}

void workers_free(workers *w)
{
    if (!w)
        return;
    for (unsigned i = 0; i < w->n; i++)
        if (w->s[i].pid > 0)
            kill(w->s[i].pid, SIGTERM);
    int64_t deadline = rl_mono_ms() + 5000;
    for (unsigned i = 0; i < w->n; i++) {
        while (w->s[i].pid > 0) {
            int st;
            pid_t r = waitpid(w->s[i].pid, &st, WNOHANG);
            if (r == w->s[i].pid || r < 0) {
                w->s[i].pid = 0;
            } else if (rl_mono_ms() > deadline) {
                kill(w->s[i].pid, SIGKILL);
                waitpid(w->s[i].pid, &st, 0);
                w->s[i].pid = 0;
            } else {
                usleep(20000); /* shutdown only: the loop serves nothing any more */
            }
        }
    }
    free(w);
}
