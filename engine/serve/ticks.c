/* What the loop does between two turns besides the turn itself: the map's
 * growth, retention passes, stale readers' slots, systemd's watchdog, the
 * parts' timeouts and due work, a reload. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "engine.h"
#include "radlink/limits.h"
#include "radlink/log.h"
#include <systemd/sd-daemon.h>

#include "radlink/ops.h"
#include "radlink/retention.h"


/* Between turns: timeouts and due work of the parts, a reload. */
/* The map grows itself before it is full (and at once after a turn found
 * it full), doubling up to <store max-map-size-mb>: between two turns, when
 * no write transaction is open. */
static void grow_tick(engine *e)
{
    int64_t now = rl_mono_ms();
    if (now < e->grow_check_ms)
        return;
    e->grow_check_ms = now + RL_STORE_GROW_CHECK_MS;
    uint64_t ceiling = e->cfg->max_map_size_mb << 20, min_free = (uint64_t)RL_STORE_GROW_MIN_FREE_MB
                                                                << 20;
    bool full = e->store_full;
    e->store_full = false;
    store_txn *t;
    store_usage u = { 0 };
    rl_err err;
    if (store_begin(e->st, NULL, false, &t, &err) != STORE_OK)
        return;
    int got = store_usage_get(t, &u, &err);
    store_abort(t);
    if (got != 0)
        return;
    uint64_t used = u.used_bytes - u.reusable_bytes, room = u.map_bytes - used;
    if (!full && (u.map_bytes >= ceiling || (room >= u.map_bytes / 10 && room >= min_free)))
        return;
    /* doubling until a tenth of the map and RL_STORE_GROW_MIN_FREE_MB are
     * free (a small map configured grows at the first look) */
    uint64_t was = u.map_bytes, grown = u.map_bytes;
    int rc;
    while ((rc = store_grow(e->st, ceiling, &was, &grown, &err)) == STORE_OK) {
        room = grown - used;
        if (room >= grown / 10 && room >= min_free)
            break;
    }
    if (grown > u.map_bytes) {
        e->map_grown++;
        log_warn("store.grown", "map_mb=%llu was_mb=%llu ceiling_mb=%llu",
                 (unsigned long long)(grown >> 20), (unsigned long long)(u.map_bytes >> 20),
                 (unsigned long long)e->cfg->max_map_size_mb);
    } else if (rc != STORE_OK) {
        log_error("store.full", "map_mb=%llu error=\"%s\"", (unsigned long long)(grown >> 20),
                  err.msg);
    }
}

/* The spool files of the instances a committed pass removed, and their
 * series' and study's directories once empty; how many files went. */
static unsigned long unlink_spool(rl_buf *paths)
{
    unsigned long files = 0;
    for (size_t i = 0; i < paths->len;) {
        const char *p = (const char *)paths->data + i;
        i += strlen(p) + 1;
        files += unlink(p) == 0;
        char dir[RL_SPOOL_DIR_MAX];
        snprintf(dir, sizeof dir, "%s", p);
        for (int up = 0; up < 2; up++) {
            char *slash = strrchr(dir, '/');
            if (!slash)
                break;
            *slash = '\0';
            if (rmdir(dir) != 0)
                break;
        }
    }
    return files;
}

int engine_retention_pass(engine *e, retention_result *r, rl_err *err)
{
    store_txn *t = NULL;
    rl_buf paths;
    rl_buf_init(&paths, 0);
    *r = (retention_result){ 0 };
    int rc = store_begin(e->st, NULL, true, &t, err);
    if (rc == STORE_OK) {
        rc = retention_pass(t, e->cfg, rl_now_us(), RL_RETENTION_BATCH, &paths, r, err);
        rc = rc == STORE_OK ? store_commit(t, err) : (store_abort(t), rc);
    }
    if (rc != STORE_OK) {
        log_error("retention.failed", "error=\"%s\"", err->msg);
        rl_buf_free(&paths);
        return rc;
    }
    unsigned long files = unlink_spool(&paths);
    rl_buf_free(&paths);
    unsigned long n[RL_RETENTION_KINDS] = { r->messages, r->worklist, r->jobs,
                                            r->studies,  r->instances, r->audit };
    for (int i = 0; i < RL_RETENTION_KINDS; i++)
        e->retained[i] += n[i];
    if (r->messages || r->worklist || r->jobs || r->studies || r->audit)
        log_info("retention.removed", "messages=%lu worklist=%lu jobs=%lu studies=%lu "
                 "instances=%lu files=%lu audit=%lu more=%s", r->messages, r->worklist, r->jobs,
                 r->studies, r->instances, files, r->audit, r->more ? "yes" : "no");
    return STORE_OK;
}

int engine_retention_run(engine *e, rl_buf *out)
{
    if (!retention_on(&e->cfg->retention)) {
        rl_buf_add_c(out, "retention is not configured: nothing is removed (<retention> in the "
                          "configuration)\n");
        return OP_FAIL;
    }
    retention_result r, sum = { 0 };
    rl_err err;
    unsigned passes = 0;
    do {
        if (engine_retention_pass(e, &r, &err) != STORE_OK) {
            rl_buf_printf(out, "retention failed after %u pass%s: %s\n", passes,
                          passes == 1 ? "" : "es", err.msg);
            return OP_FAIL;
        }
        passes++;
        sum.messages += r.messages, sum.worklist += r.worklist, sum.jobs += r.jobs;
        sum.studies += r.studies, sum.instances += r.instances, sum.audit += r.audit;
    } while (r.more && passes < RL_RETENTION_RUN_PASSES);
    rl_buf_printf(out, "retention removed messages %lu, worklist %lu, jobs %lu, studies %lu, "
                  "instances %lu, audit %lu in %u pass%s\n", sum.messages, sum.worklist, sum.jobs,
                  sum.studies, sum.instances, sum.audit, passes, passes == 1 ? "" : "es");
    return OP_OK;
}

/* Retention, between two turns: one batch in its own transaction; the spool
 * files of the instances it removed go once it is committed. */
static void retention_tick(engine *e)
{
    const cfg_retention *rc_cfg = &e->cfg->retention;
    int64_t now = rl_mono_ms();
    if (!retention_on(rc_cfg) || now < e->retention_next_ms)
        return;
    retention_result r;
    rl_err err;
    int rc = engine_retention_pass(e, &r, &err);
    e->retention_next_ms = now + (rc == STORE_OK && r.more ? RL_RETENTION_AGAIN_MS
                                                            : (int64_t)rc_cfg->every_s * 1000);
}

void engine_after_turn(engine *e)
{
    mllp_server_tick(e->srv);
    ctlsock_tick(e->ctl);
    int64_t now = rl_mono_ms(), d = dispatch_deadline_ms(e->jobs);
    if (d >= 0 && now >= d)
        dispatch_tick(e->jobs);
    workers_tick(e->wk);
    inbox_tick(e);
    if (rl_mono_ms() >= e->reader_check_ms) {
        int cleared = 0;
        rl_err err;
        e->reader_check_ms = rl_mono_ms() + RL_READER_CHECK_S * 1000;
        if (store_reader_check(e->st, &cleared, &err) != STORE_OK)
            log_error("store.readers", "error=\"%s\"", err.msg);
        else if (cleared) {
            e->readers_cleared += (uint64_t)cleared;
            log_warn("store.readers", "stale=%d text=\"reader slots of processes that died "
                     "mid-read cleared\"", cleared);
        }
    }
    if (e->watchdog_ms && rl_mono_ms() >= e->watchdog_next_ms) {
        sd_notify(0, "WATCHDOG=1"); /* the loop turns: the engine lives */
        e->watchdog_next_ms = rl_mono_ms() + e->watchdog_ms;
    }
    grow_tick(e);
    retention_tick(e);
    engine_reload_tick(e); /* between two turns: no message sees two sets */
}
