/* The engine's turn: every input that arrived since the last one is applied
 * in ONE write transaction, which is committed (fsync) before anything is
 * answered: group commit for everything. The inputs come from the sources
 * below, walked in order (frames first: per connection, messages are applied
 * and answered in arrival order); each source applies its inputs inside the
 * transaction and finishes them once the commit succeeded or failed. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "engine.h"
#include "radlink/audit.h"

static int jobs_apply(engine *e, store_txn *t, turn_ctx *tc, rl_err *err)
{
    return tc->rest ? dispatch_apply(e->jobs, t, tc->now_us, err) : STORE_OK;
}

static void jobs_finish(engine *e, turn_ctx *tc)
{
    if (tc->rest)
        dispatch_after_commit(e->jobs, tc->ok);
}

/* Job outcomes reported by the workers (engine/job/dispatch.c). */
static const input_source engine_jobs = { "jobs", jobs_apply, jobs_finish };

/* The turn's input sources, in the order they are applied. */
static const input_source *const sources[] = {
    &engine_frames, &engine_commands, &engine_requests, &engine_jobs,
};
#define NSOURCES (sizeof sources / sizeof *sources)

/* The instances filed this turn, their data and their directory entries,
 * made durable with one syncfs of the spool's filesystem before the commit
 * that indexes them: no success response names a file a crash could lose,
 * and the associations' files share one flush instead of two each. */
static int sync_spool(engine *e, const turn_ctx *tc, rl_err *err)
{
    if (!tc->filed)
        return STORE_OK;
    int fd = open(e->spool, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    int rc = fd < 0 ? -1 : syncfs(fd);
    int why = errno;
    if (fd >= 0)
        close(fd);
    if (rc != 0)
        return rl_err_set(err, RL_E_SYS, -1, "spool: %s", strerror(why));
    return STORE_OK;
}

/* Frames [first, first + n), and when `rest` every other input of the turn,
 * in one transaction. */
static void commit_range(engine *e, size_t first, size_t n, bool rest)
{
    turn_ctx tc = { .first = first, .n = n, .rest = rest, .now_us = rl_now_us() };
    rl_err err;
    rl_err_clear(&err);
    store_txn *t = NULL;
    int rc = store_begin(e->st, NULL, true, &t, &err);
    for (size_t i = 0; rc == STORE_OK && i < NSOURCES; i++)
        rc = sources[i]->apply(e, t, &tc, &err);
    if (rc == STORE_OK)
        rc = sync_spool(e, &tc, &err);
    if (t && rc == STORE_OK) {
        int64_t c0 = rl_now_us();
        rc = store_commit(t, &err);
        metrics_observe(&e->commit_h, rl_now_us() - c0);
    } else if (t) {
        store_abort(t);
    }
    tc.ok = rc == STORE_OK;
    tc.rc = rc;
    tc.why = err.msg;
    e->turns++;
    if (tc.ok) {
        e->commits++;
    } else {
        e->commit_failures++;
        e->store_full |= rc == STORE_E_FULL;
    }
    for (size_t i = 0; i < NSOURCES; i++)
        sources[i]->finish(e, &tc);
    if (tc.ok && (tc.forwarded || tc.kick))
        forwarder_kick(e->fwd);
    if (tc.ok)
        audit_ship_wake(e->ship);
    if (rest || n)
        e->answered_last = tc.answered;
}

void engine_turn(engine *e)
{
    bool rest = e->cmds || e->nreqs || dispatch_pending(e->jobs, rl_now_us());
    if (!e->nbatch && !rest)
        return;
    /* Group commit: the whole turn in one transaction. Without it (a setting
     * for measuring what group commit buys) every message commits on its own. */
    if (e->cfg->group_commit) {
        commit_range(e, 0, e->nbatch, true);
    } else {
        for (size_t i = 0; i < e->nbatch; i++)
            commit_range(e, i, 1, false);
        if (rest)
            commit_range(e, 0, 0, true);
    }
    e->nbatch = 0;
    rl_arena_reset(&e->arena);
}
