/* radlink serve: the engine process. Its loop thread owns every write
 * transaction of the store and wakes only on events: MLLP sockets, the
 * command queue (DICOM and sender threads), the ZeroMQ sockets of the job
 * dispatcher, the control socket, a signalfd, and the earliest deadline of
 * its parts (timeouts, retries, heartbeats, due jobs). Each wake ends with one
 * turn (turn.c). Signals are read from the signalfd; no handler runs. */
#include "radlink/serve.h"

#include <errno.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <systemd/sd-daemon.h>
#include <unistd.h>

#include "engine.h"
#include "radlink/alert.h"
#include "radlink/limits.h"
#include "radlink/log.h"
#include "radlink/retention.h"
#include "radlink/version.h"

static void earliest(int64_t *dl, int64_t t)
{
    if (t >= 0 && (*dl < 0 || t < *dl))
        *dl = t;
}

/* Milliseconds until the first deadline of any part, or -1: nothing is due
 * until an event comes. */
static int next_timeout(engine *e)
{
    int64_t dl = -1;
    earliest(&dl, mllp_server_deadline_ms(e->srv));
    earliest(&dl, ctlsock_deadline_ms(e->ctl));
    earliest(&dl, dispatch_deadline_ms(e->jobs));
    earliest(&dl, workers_deadline_ms(e->wk));
    earliest(&dl, inbox_deadline_ms(e));
    earliest(&dl, e->reader_check_ms);
    if (retention_on(&e->cfg->retention))
        earliest(&dl, e->retention_next_ms);
    if (e->watchdog_ms)
        earliest(&dl, e->watchdog_next_ms);
    if (dl < 0)
        return -1;
    int64_t left = dl - rl_mono_ms();
    return left <= 0 ? 0 : left > RL_LOOP_WAIT_MAX_MS ? RL_LOOP_WAIT_MAX_MS : (int)left;
}

/* Inputs of the turn: distinct connections with a frame, instances posted. */
static void counts(const engine *e, size_t *conns, unsigned *instances)
{
    *conns = 0;
    for (size_t i = 0; i < e->nbatch && i < RL_GATHER_CONNS_MAX; i++) {
        bool seen = false;
        for (size_t k = 0; k < i && !seen; k++)
            seen = e->batch[k].conn == e->batch[i].conn;
        *conns += !seen;
    }
    *instances = 0;
    for (const cmd *c = e->cmds; c; c = cmd_next(c))
        *instances += c->kind == CMD_INSTANCE;
}

/* Group commit waits a moment for what is surely coming: connections
 * answered in the last turn usually send their next message within tens of
 * microseconds, and an association that received an instance posts it once
 * its file and directory are synced. Waiting for them (at most
 * RL_GATHER_MAX_US, or RL_GATHER_FILING_MAX_US while instances are being
 * filed) puts them in this turn's commit instead of making them pay for the
 * next one. A lone client never waits: it is in the turn already. */
static void gather(engine *e)
{
    size_t conns;
    unsigned inst;
    counts(e, &conns, &inst);
    if (!conns && !inst)
        return;
    int64_t start = rl_mono_us();
    for (;;) {
        unsigned filing = atomic_load(&e->recv.filing);
        int64_t limit = filing ? RL_GATHER_FILING_MAX_US : RL_GATHER_MAX_US;
        int64_t left = start + limit - rl_mono_us();
        if (!(conns < e->answered_last || filing) || left <= 0 || loop_run_us(e->l, left) < 0)
            break;
        counts(e, &conns, &inst);
    }
}

int serve_run(const cfg *c)
{
    /* Signals are read from a signalfd by the loop: block them before any
     * thread exists, so that every thread (DCMTK's, ZeroMQ's, senders)
     * inherits the mask and none of them takes one. */
    sigset_t mask;
    sigemptyset(&mask);
    sigaddset(&mask, SIGINT);
    sigaddset(&mask, SIGTERM);
    sigaddset(&mask, SIGHUP);
    sigaddset(&mask, SIGCHLD);
    pthread_sigmask(SIG_BLOCK, &mask, NULL);
    signal(SIGPIPE, SIG_IGN);
    /* Patient data at rest: everything the engine, its DICOM threads and
     * its workers create (directories, store, spool files, sockets, job
     * files) is the engine user's alone. */
    umask(077);

    printf("radlink %s\n", RADLINK_VERSION);
    cfg_print(c, stdout);
    fflush(stdout);

    engine e = { .cfg = c, .lock_fd = -1, .inbox_fd = -1, .started_us = rl_now_us() };
    e.sig_fd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
    rl_err err;
    rl_err_clear(&err);
    if (c->run_user[0] && engine_become_user(&e, c, &err) != 0) {
        log_error("serve.start_failed", "code=\"%s\" error=\"%s\"", rl_strerror(err.code), err.msg);
        fprintf(stderr, "radlink serve: %s\n", err.msg);
        return 1;
    }
    if (e.sig_fd < 0 || engine_start(&e, &err) != 0) {
        if (e.stop_signal && c->standby) { /* told to stop before it took over */
            log_info("serve.stop", "text=\"stopped while standing by\"");
            engine_stop(&e);
            return 0;
        }
        if (e.sig_fd < 0)
            rl_err_set(&err, RL_E_SYS, -1, "signalfd: %s", strerror(errno));
        log_error("serve.start_failed", "code=\"%s\" error=\"%s\"", rl_strerror(err.code), err.msg);
        fprintf(stderr, "radlink serve: %s\n", err.msg);
        engine_stop(&e);
        return 1;
    }
    log_info("serve.start", "version=%s config=%s data=%s%s", RADLINK_VERSION, c->source,
             c->data_dir, e.takeover_us ? " standby=took-over" : "");
    if (e.takeover_us)
        log_warn("serve.took_over", "ms=%lld text=\"serving: lock to listeners up\"",
                 (long long)((rl_now_us() - e.takeover_us) / 1000));
    engine_audit_app(&e, true);
    engine_web_ready(&e, true);
    /* systemd (Type=notify): ready now that the listeners are up; the
     * watchdog, when the unit asks for one, is fed from the loop */
    uint64_t wd_us = 0;
    if (sd_watchdog_enabled(0, &wd_us) > 0 && wd_us)
        e.watchdog_ms = (int64_t)(wd_us / 2000);
    sd_notifyf(0, "READY=1\nSTATUS=serving %s\nMAINPID=%ld", c->data_dir, (long)getpid());

    while (!e.stop_signal) {
        if (loop_run_once(e.l, next_timeout(&e)) < 0) {
            log_error("serve.loop", "error=\"%s\"", strerror(errno));
            break;
        }
        if (e.cfg->group_commit)
            gather(&e);
        engine_turn(&e);
        engine_after_turn(&e);
    }

    /* Clean shutdown: accept nothing new, answer what was read and what the
     * DICOM threads still bring, write it out. */
    log_info("serve.stopping", "signal=%s", e.stop_signal == SIGINT ? "SIGINT" : "SIGTERM");
    sd_notify(0, "STOPPING=1");
    engine_web_ready(&e, false);
    mllp_server_stop_listening(e.srv);
    dicom_scp_stop_accepting(e.dicom);
    forwarder_stop(e.fwd);
    engine_turn(&e);
    int64_t deadline = rl_mono_ms() + RL_SHUTDOWN_FLUSH_MS;
    while ((mllp_server_pending(e.srv) || !dicom_scp_stopped(e.dicom) ||
            !forwarder_stopped(e.fwd) || e.cmds) &&
           rl_mono_ms() < deadline) {
        loop_run_once(e.l, 50);
        engine_turn(&e); /* frames and instances that came while flushing are answered too */
        mllp_server_tick(e.srv);
    }
    engine_reload_stop(&e);
    mllp_stats ms;
    mllp_server_stats(e.srv, &ms);
    log_info("serve.stop", "accepted=%llu errors=%llu rejected=%llu duplicates=%llu "
             "turns=%llu commits=%llu instances=%llu connections=%llu junk_bytes=%llu",
             (unsigned long long)e.counts[MSG_ACCEPTED],
             (unsigned long long)e.counts[MSG_ERROR],
             (unsigned long long)e.counts[MSG_REJECTED],
             (unsigned long long)e.counts[MSG_DUPLICATE], (unsigned long long)e.turns,
             (unsigned long long)e.commits, (unsigned long long)e.instances,
             (unsigned long long)ms.accepted, (unsigned long long)ms.junk_bytes);
    /* the alert runner's last book reaches the store: the loop answers its
     * questions and takes its command until it has ended */
    alert_runner_request_stop(e.alerts);
    for (int64_t until = rl_mono_ms() + RL_SHUTDOWN_FLUSH_MS;
         !alert_runner_done(e.alerts) && rl_mono_ms() < until;) {
        loop_run_once(e.l, 50);
        engine_turn(&e);
    }
    engine_audit_app(&e, false);
    audit_ship_wake(e.ship);
    /* what the collector took is recorded before the engine goes */
    audit_ship_stop(e.ship);
    e.ship = NULL;
    loop_run_once(e.l, 0);
    engine_turn(&e);
    engine_stop(&e);
    return 0;
}
