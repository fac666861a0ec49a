/* queue list|retry|park: the outbound queues. list reads beside the engine;
 * retry and park change the store in the engine's turn (its senders act at
 * once), or on the store when no engine runs. */
#include <stdlib.h>
#include <string.h>

#include "ops_internal.h"
#include "radlink/queue.h"

/* ---- the view of a queue entry ---- */

static const view_field Q_DEST = { "dest", "DEST", 16 };
static const view_field Q_QSEQ = { "qseq", "QSEQ", 7 };
static const view_field Q_STATE = { "state", "STATE", 8 };
static const view_field Q_MSG = { "msg_seq", "MSG", 8 };
static const view_field Q_QUEUED = { "queued", "QUEUED", 19 };
static const view_field Q_ATTEMPTS = { "attempts", "ATTEMPTS", 8 };
static const view_field Q_NEXT = { "next_attempt", "NEXT-ATTEMPT", 19, 0, NULL, VIEW_DASH };
static const view_field Q_WAITS = { "waits", "WAITS", 24 };
static const view_field Q_ERROR = { "last_error", "LAST-ERROR", 0, 120 };
static const view_field *const queue_cols[] = { &Q_DEST, &Q_QSEQ, &Q_STATE, &Q_MSG, &Q_QUEUED,
                                                &Q_ATTEMPTS, &Q_NEXT, &Q_WAITS, &Q_ERROR, NULL };

static void queue_row(view *v, const queue_item *it, const char *waits)
{
    bool pending = it->state == QUEUE_PENDING;
    view_row(v);
    view_cstr(v, &Q_DEST, it->dest);
    view_u64(v, &Q_QSEQ, it->qseq);
    view_cstr(v, &Q_STATE, pending ? "pending" : "parked");
    view_u64(v, &Q_MSG, it->msg_seq);
    view_time(v, &Q_QUEUED, it->enq_us);
    view_u64(v, &Q_ATTEMPTS, it->attempts);
    view_time(v, &Q_NEXT, pending && it->attempts ? it->next_us : 0);
    view_cstr(v, &Q_WAITS, waits);
    view_str(v, &Q_ERROR, it->last_error);
    view_row_end(v);
}

/* ---- queue list ---- */

typedef struct list_ctx {
    view *v;
    int state; /* 0: any */
    uint64_t skip, limit, shown, total;
    long pending, parked;
    int64_t now_us;
    const char *unordered; /* "\n" and META queue.unordered: names, one per line */
    /* the destination being listed (items come by destination, then qseq) */
    char dest[RL_DEST_NAME_MAX];
    uint64_t ahead, parked_first;
} list_ctx;

/* Why a message waits, as its sender sees it: the next to go, in line
 * behind others, behind a parked message that nothing overtakes (an ordered
 * destination), for its next attempt, or (parked) for an administrator. */
static void waits_of(list_ctx *l, const queue_item *it, char *out, size_t n)
{
    if (strcmp(l->dest, it->dest) != 0) {
        snprintf(l->dest, sizeof l->dest, "%s", it->dest);
        l->ahead = l->parked_first = 0;
    }
    char line[RL_DEST_NAME_MAX + 3];
    snprintf(line, sizeof line, "\n%s\n", it->dest);
    bool ordered = !l->unordered || !strstr(l->unordered, line);
    if (it->state != QUEUE_PENDING) {
        size_t an = sizeof QUEUE_PARKED_BY_ADMIN - 1;
        bool by_admin = it->last_error.n >= an &&
                        !memcmp(it->last_error.p, QUEUE_PARKED_BY_ADMIN, an);
        snprintf(out, n, "queue retry (parked)");
        if (!l->parked_first && ordered && !by_admin)
            l->parked_first = it->qseq;
        return;
    }
    if (l->parked_first)
        snprintf(out, n, "behind parked %llu", (unsigned long long)l->parked_first);
    else if (l->ahead)
        snprintf(out, n, "in line, %llu ahead", (unsigned long long)l->ahead);
    else if (it->attempts && it->next_us > l->now_us)
        snprintf(out, n, "next, its next attempt");
    else
        snprintf(out, n, "next to send");
    l->ahead++;
}

static int list_one(void *ctx, const queue_item *it)
{
    list_ctx *l = ctx;
    char waits[64];
    waits_of(l, it, waits, sizeof waits);
    if (it->state == QUEUE_PENDING)
        l->pending++;
    else
        l->parked++;
    if (l->state && (int)it->state != l->state)
        return 0;
    if (l->total++ < l->skip || l->shown >= l->limit)
        return 0;
    l->shown++;
    queue_row(l->v, it, waits);
    return 0;
}

int ops_queue_list(op_call *c)
{
    const char *state = ops_str(c, "state");
    list_ctx l = { .v = c->out,
                   .state = !state ? 0 : strcmp(state, "pending") ? QUEUE_PARKED : QUEUE_PENDING,
                   .skip = ops_u64(c, "offset", 0),
                   .limit = ops_u64(c, "limit", RL_API_LIST_MAX),
                   .now_us = c->now_us };
    char *unordered = NULL;
    rl_str u;
    rl_err uerr;
    if (store_get(c->t, STORE_META, RL_STR("queue.unordered"), &u, &uerr) == STORE_OK &&
        (unordered = malloc(u.n + 2))) {
        unordered[0] = '\n';
        memcpy(unordered + 1, u.p, u.n);
        unordered[u.n + 1] = '\0';
    }
    l.unordered = unordered;
    const char *dest = ops_str(c, "dest");
    view_list(c->out, "items", queue_cols);
    rl_err err;
    int rc = queue_each(c->t, dest && dest[0] ? dest : NULL, list_one, &l, &err);
    free(unordered);
    view_list_end(c->out);
    if (rc != STORE_OK)
        return ops_store_fail(c->out, &err);
    view_json(c->out, "total", json_integer((json_int_t)l.total));
    view_printf(c->out, "(%ld pending, %ld parked%s)\n", l.pending, l.parked,
                l.shown < l.total ? "; more than --limit, not all shown" : "");
    return OP_OK;
}

/* ---- queue retry | park ---- */

/* Put a parked message back in line, now. */
static int requeue(store_txn *t, const char *dest, uint64_t qseq, int64_t now_us, rl_err *err)
{
    queue_item it;
    int rc = queue_get(t, dest, qseq, &it, err);
    if (rc != STORE_OK)
        return rc;
    /* copy what we rewrite: views die at the write */
    rl_buf payload, why;
    rl_buf_init(&payload, 0);
    rl_buf_init(&why, 0);
    rl_buf_add_str(&payload, it.payload);
    rl_buf_printf(&why, "retried by an administrator after: %.*s", RL_STR_FMT(it.last_error));
    it.payload = rl_buf_view(&payload);
    it.last_error = rl_buf_view(&why);
    it.state = QUEUE_PENDING;
    it.attempts = 0;
    it.next_us = now_us;
    rc = queue_update(t, &it, err);
    rl_buf_free(&payload);
    rl_buf_free(&why);
    return rc;
}

typedef struct parked {
    uint64_t *qseqs;
    size_t n, cap, seen;
} parked;

static int collect_parked(void *ctx, const queue_item *it)
{
    parked *p = ctx;
    p->seen++;
    if (it->state != QUEUE_PARKED)
        return 0;
    if (p->n == p->cap) {
        size_t cap = p->cap ? p->cap * 2 : 64;
        uint64_t *q = realloc(p->qseqs, cap * sizeof *q);
        if (!q)
            return 1;
        p->qseqs = q;
        p->cap = cap;
    }
    p->qseqs[p->n++] = it->qseq;
    return 0;
}

/* The queue entry a request names: OP_OK, or OP_NOTFOUND said. */
static int item_of(op_call *c, const char *dest, uint64_t qseq, queue_item *it)
{
    rl_err err;
    int rc = queue_get(c->t, dest, qseq, it, &err);
    if (rc == STORE_NOTFOUND)
        return view_fail(c->out, OP_NOTFOUND, "no message %llu in the queue of %s",
                         (unsigned long long)qseq, dest);
    return rc == STORE_OK ? OP_OK : ops_store_fail(c->out, &err);
}

/* The parked messages retry takes: every one of dest (--all), or QSEQ. */
static int retry_targets(op_call *c, const char *dest, parked *p)
{
    rl_err err;
    if (ops_flag(c, "all")) {
        int rc = queue_each(c->t, dest, collect_parked, p, &err);
        if (rc != STORE_OK)
            return ops_store_fail(c->out, &err);
        if (p->seen == 0)
            return view_fail(c->out, OP_FAIL, "nothing is queued for destination '%s' (see "
                             "'radlink queue list')", dest);
        return OP_OK;
    }
    if (!ops_has(c, "QSEQ"))
        return view_fail(c->out, OP_USAGE, "expected DEST QSEQ, or DEST --all");
    uint64_t qseq = ops_u64(c, "QSEQ", 0);
    queue_item it;
    int st = item_of(c, dest, qseq, &it);
    if (st != OP_OK)
        return st;
    if (it.state != QUEUE_PARKED)
        return view_fail(c->out, OP_FAIL, "message %llu of %s is not parked: it is waiting for "
                         "delivery already", (unsigned long long)qseq, dest);
    collect_parked(p, &it);
    return OP_OK;
}

int ops_queue_retry(op_call *c)
{
    const char *dest = ops_str(c, "DEST");
    parked p = { 0 };
    int status = retry_targets(c, dest, &p);
    rl_err err;
    int rc = STORE_OK;
    for (size_t i = 0; status == OP_OK && rc == STORE_OK && i < p.n; i++)
        rc = requeue(c->t, dest, p.qseqs[i], c->now_us, &err);
    size_t n = p.n;
    free(p.qseqs);
    if (status != OP_OK)
        return status;
    if (rc != STORE_OK)
        return ops_store_fail(c->out, &err);
    c->kick_senders = true;
    view_printf(c->out, "%zu message%s of %s back in the queue\n", n, n == 1 ? "" : "s", dest);
    return OP_OK;
}

/* An operator takes a pending message out of line (a destination that never
 * answers it), to retry later. */
int ops_queue_park(op_call *c)
{
    const char *dest = ops_str(c, "DEST");
    uint64_t qseq = ops_u64(c, "QSEQ", 0);
    rl_err err;
    queue_item it;
    int rc = item_of(c, dest, qseq, &it);
    if (rc != OP_OK)
        return rc;
    if (it.state != QUEUE_PENDING)
        return view_fail(c->out, OP_FAIL, "message %llu of %s is parked already",
                         (unsigned long long)qseq, dest);
    rl_buf payload, why;
    rl_buf_init(&payload, 0);
    rl_buf_init(&why, 0);
    rl_buf_add_str(&payload, it.payload);
    rl_buf_printf(&why, QUEUE_PARKED_BY_ADMIN "%s%.*s", it.last_error.n ? " after: " : "",
                  RL_STR_FMT(it.last_error));
    it.payload = rl_buf_view(&payload);
    it.last_error = rl_buf_view(&why);
    it.state = QUEUE_PARKED;
    rc = queue_update(c->t, &it, &err);
    rl_buf_free(&payload);
    rl_buf_free(&why);
    if (rc != STORE_OK)
        return ops_store_fail(c->out, &err);
    c->kick_senders = true;
    view_printf(c->out, "message %llu of %s parked; the next one goes ('radlink queue retry %s "
                "%llu' puts it back)\n", (unsigned long long)qseq, dest, dest,
                (unsigned long long)qseq);
    return OP_OK;
}
