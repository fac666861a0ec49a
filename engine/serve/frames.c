/* HL7 frames from every MLLP connection: copied into the turn's arena as
 * they come, then one input source of the turn (engine.h): each ingested in
 * the turn's transaction (routing effects nested inside ingest), counted and
 * answered once it is committed; refused with AR, so that the sender tries
 * again, when it was not. Per connection they are applied and answered in
 * arrival order. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine.h"
#include "radlink/audit.h"
#include "radlink/log.h"

void engine_on_mllp(void *ctx, mllp_event ev, const mllp_peer *peer, rl_str data, const char *why)
{
    engine *e = ctx;
    if (ev == MLLP_EV_TLS_FAILED || ev == MLLP_EV_DENIED) {
        engine_audit_alert(e, AUDIT_T_NODE_AUTH, peer->addr, "",
                           why ? why : ev == MLLP_EV_DENIED ? "not in allow-from" : "TLS failed");
        return;
    }
    if (e->nbatch == e->cap) {
        size_t cap = e->cap ? e->cap * 2 : 64;
        pending *b = realloc(e->batch, cap * sizeof *b);
        if (!b) {
            log_error("serve.nomem", "conn=%llu dropped_frame_bytes=%zu",
                      (unsigned long long)peer->conn, data.n);
            mllp_server_close(e->srv, peer->conn, false);
            return;
        }
        e->batch = b;
        e->cap = cap;
    }
    char *copy = rl_arena_alloc(&e->arena, data.n ? data.n : 1);
    if (!copy) {
        log_error("serve.nomem", "conn=%llu dropped_frame_bytes=%zu",
                  (unsigned long long)peer->conn, data.n);
        mllp_server_close(e->srv, peer->conn, false);
        return;
    }
    memcpy(copy, data.p, data.n);
    pending *p = &e->batch[e->nbatch++];
    p->conn = peer->conn;
    p->kind = ev == MLLP_EV_FRAME ? INGEST_FRAME
              : ev == MLLP_EV_OVERSIZE ? INGEST_OVERSIZE
                                       : INGEST_INCOMPLETE;
    snprintf(p->peer, sizeof p->peer, "%s", peer->addr);
    snprintf(p->listener, sizeof p->listener, "%s", peer->listener);
    snprintf(p->why, sizeof p->why, "%s", why ? why : "");
    p->raw = (rl_str){ copy, data.n };
    p->recv_us = rl_now_us();
}

static int frames_apply(engine *e, store_txn *t, turn_ctx *tc, rl_err *err)
{
    for (size_t i = tc->first; i < tc->first + tc->n; i++) {
        pending *p = &e->batch[i];
        rl_buf_init(&p->ack, 0);
        p->res = (ingest_result){ .ack = &p->ack };
    }
    for (size_t i = tc->first; i < tc->first + tc->n; i++) {
        pending *p = &e->batch[i];
        ingest_input in = { p->kind, p->raw, p->peer, p->listener, p->why, p->recv_us, false };
        int rc = ingest_one(&e->ing, t, &in, &p->res, err);
        tc->forwarded += p->res.forwarded;
        if (rc != STORE_OK)
            return rc;
    }
    return STORE_OK;
}

/* Counted by status and by listener, type and outcome (radlink status,
 * /metrics). */
static void count(engine *e, const pending *p)
{
    for (int k = 0; k < MSGLOG_STATUS_SLOTS; k++) {
        e->counts[k] += p->res.by_status[k];
        engine_count_messages(e, p->listener, p->res.type, k, p->res.by_status[k]);
    }
    for (int k = 0; k < INGEST_TOL_COUNT; k++)
        e->tolerated[k] += (p->res.tolerated >> k) & 1u;
}

/* Nothing of this turn is stored: every message refused with AR so that
 * the senders try again later; what was stored before is untouched. A full
 * map grows before the next turn (ticks.c); once a second is enough to say
 * so, a full store fails every turn. */
static void refuse(engine *e, turn_ctx *tc)
{
    int64_t now_ms = rl_mono_ms();
    if (now_ms - e->commit_fail_logged_ms >= RL_REPEATED_ERROR_LOG_MS) {
        log_error("store.commit_failed", "messages=%zu code=\"%s\" error=\"%s\" repeated=%llu",
                  tc->n, rl_strerror(tc->rc), tc->why,
                  (unsigned long long)e->commit_fail_unlogged);
        e->commit_fail_logged_ms = now_ms;
        e->commit_fail_unlogged = 0;
    } else {
        e->commit_fail_unlogged++;
    }
    char text[RL_VIEW_FAIL_MAX / 8];
    snprintf(text, sizeof text, "message not stored, try again later: %s", tc->why);
    for (size_t i = tc->first; i < tc->first + tc->n; i++) {
        pending *p = &e->batch[i];
        rl_buf_reset(&p->ack);
        if (p->kind != INGEST_INCOMPLETE)
            ingest_refusal(&e->ing, p->raw, text, &p->ack);
    }
}

static void frames_finish(engine *e, turn_ctx *tc)
{
    if (!tc->ok && tc->n)
        refuse(e, tc);
    for (size_t i = tc->first; i < tc->first + tc->n; i++) {
        pending *p = &e->batch[i];
        if (tc->ok)
            count(e, p);
        if (p->ack.len) {
            mllp_server_reply(e->srv, p->conn, rl_buf_view(&p->ack));
            metrics_observe(&e->ack_h, rl_now_us() - p->recv_us);
            bool seen = false; /* distinct connections (a turn has a few dozen at most) */
            for (size_t k = tc->first; k < i && !seen && tc->answered < RL_GATHER_CONNS_MAX; k++)
                seen = e->batch[k].conn == p->conn;
            tc->answered += !seen;
        }
        if (p->res.close_after)
            mllp_server_close(e->srv, p->conn, true);
        rl_buf_free(&p->ack);
    }
}

const input_source engine_frames = { "frames", frames_apply, frames_finish };
