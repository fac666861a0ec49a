/* Outbound FIFO queues; record format in radlink/queue.h. */
#include "radlink/queue.h"

#include <stdio.h>
#include <string.h>

#include "radlink/limits.h"
#include "radlink/rec.h"

#define QUEUE_VERSION 1

static size_t make_key(const char *dest, uint64_t qseq, unsigned char *key)
{
    size_t n = strlen(dest);
    memcpy(key, dest, n);
    key[n] = '\0';
    rec_be64(qseq, key + n + 1);
    return n + 1 + RL_BE64_BYTES;
}

static int encode(const queue_item *it, rl_buf *b)
{
    return rec_put_u8(b, QUEUE_VERSION) | rec_put_u8(b, (uint8_t)it->state) |
           rec_put_u64(b, (uint64_t)it->enq_us) | rec_put_u64(b, it->msg_seq) |
           rec_put_u32(b, it->attempts) | rec_put_u64(b, (uint64_t)it->next_us) |
           rec_put_str(b, it->last_error) | rec_put_str(b, it->payload);
}

static int decode(rl_str key, rl_str val, queue_item *it)
{
    const char *nul = memchr(key.p, '\0', key.n);
    if (!nul || key.n - (size_t)(nul - key.p) != 1 + RL_BE64_BYTES ||
        (size_t)(nul - key.p) >= sizeof it->dest)
        return STORE_E_CORRUPT;
    snprintf(it->dest, sizeof it->dest, "%.*s", (int)(nul - key.p), key.p);
    it->qseq = rec_get_be64(nul + 1);
    rec_reader r;
    rec_reader_init(&r, val.p, val.n);
    if (rec_get_u8(&r) != QUEUE_VERSION)
        return STORE_E_VERSION;
    it->state = (queue_state)rec_get_u8(&r);
    it->enq_us = (int64_t)rec_get_u64(&r);
    it->msg_seq = rec_get_u64(&r);
    it->attempts = rec_get_u32(&r);
    it->next_us = (int64_t)rec_get_u64(&r);
    it->last_error = rec_get_str(&r);
    it->payload = rec_get_str(&r);
    return rec_ok(&r) ? STORE_OK : STORE_E_CORRUPT;
}

static int put(store_txn *t, const queue_item *it, rl_err *err)
{
    unsigned char key[RL_QUEUE_KEY_MAX];
    size_t kn = make_key(it->dest, it->qseq, key);
    rl_buf b;
    rl_buf_init(&b, 0);
    int rc = encode(it, &b) ? rl_err_set(err, STORE_E_ARG, -1, "queue record too large")
                            : store_put(t, STORE_QUEUE, (rl_str){ (char *)key, kn },
                                        rl_buf_view(&b), 0, err);
    rl_buf_free(&b);
    return rc;
}

int queue_push(store_txn *t, const char *dest, uint64_t msg_seq, rl_str payload, int64_t now_us,
               uint64_t *qseq, rl_err *err)
{
    if (strlen(dest) >= RL_DEST_NAME_MAX)
        return rl_err_set(err, STORE_E_ARG, -1, "destination name too long");
    /* Next sequence: a counter in the meta database, so that a number is
     * never given twice, even after a queue has emptied. */
    uint64_t next = 1;
    rl_str v;
    int rc = store_get(t, STORE_META, RL_STR("queue.next"), &v, err);
    if (rc < 0)
        return rc;
    if (rc == STORE_OK && v.n == RL_BE64_BYTES)
        next = rec_get_be64(v.p);
    unsigned char nb[RL_BE64_BYTES];
    rec_be64(next + 1, nb);
    if ((rc = store_put(t, STORE_META, RL_STR("queue.next"), (rl_str){ (char *)nb, sizeof nb },
                        0, err)) != STORE_OK)
        return rc;
    queue_item it = { .qseq = next, .state = QUEUE_PENDING, .enq_us = now_us,
                      .msg_seq = msg_seq, .next_us = now_us, .last_error = { "", 0 },
                      .payload = payload };
    snprintf(it.dest, sizeof it.dest, "%s", dest);
    if (qseq)
        *qseq = next;
    return put(t, &it, err);
}

typedef struct head_ctx {
    queue_item *out;
    bool found, ordered;
    uint64_t parked_first;
} head_ctx;

static int first_pending(void *ctx, const queue_item *it)
{
    head_ctx *h = ctx;
    if (it->state != QUEUE_PENDING) {
        size_t an = sizeof QUEUE_PARKED_BY_ADMIN - 1;
        if (!h->ordered || (it->last_error.n >= an &&
                            !memcmp(it->last_error.p, QUEUE_PARKED_BY_ADMIN, an)))
            return 0; /* an administrator took it out of line: the next goes */
        h->parked_first = it->qseq; /* nothing overtakes it */
        return 1;
    }
    *h->out = *it;
    h->found = true;
    return 1;
}

int queue_head(store_txn *t, const char *dest, bool ordered, queue_item *out,
               uint64_t *parked_first, rl_err *err)
{
    head_ctx h = { out, false, ordered, 0 };
    int rc = queue_each(t, dest, first_pending, &h, err);
    if (parked_first)
        *parked_first = h.parked_first;
    if (rc < 0)
        return rc;
    return h.found ? STORE_OK : STORE_NOTFOUND;
}

int queue_get(store_txn *t, const char *dest, uint64_t qseq, queue_item *out, rl_err *err)
{
    unsigned char key[RL_QUEUE_KEY_MAX];
    size_t kn = make_key(dest, qseq, key);
    rl_str v, k = { (char *)key, kn };
    int rc = store_get(t, STORE_QUEUE, k, &v, err);
    if (rc)
        return rc;
    return decode(k, v, out) == STORE_OK
               ? STORE_OK
               : rl_err_set(err, STORE_E_CORRUPT, -1, "queue %s item %llu does not decode", dest,
                            (unsigned long long)qseq);
}

int queue_update(store_txn *t, const queue_item *it, rl_err *err)
{
    return put(t, it, err);
}

int queue_remove(store_txn *t, const char *dest, uint64_t qseq, rl_err *err)
{
    unsigned char key[RL_QUEUE_KEY_MAX];
    size_t kn = make_key(dest, qseq, key);
    return store_del(t, STORE_QUEUE, (rl_str){ (char *)key, kn }, (rl_str){ NULL, 0 }, err);
}

typedef struct gauges_ctx {
    queue_gauge *g;
    size_t max, *n;
} gauges_ctx;

static int gauge_one(void *ctx, const queue_item *it)
{
    gauges_ctx *x = ctx;
    queue_gauge *d = NULL;
    for (size_t i = *x->n; i-- > 0 && !d;) /* items come by destination: the last first */
        if (strcmp(x->g[i].name, it->dest) == 0)
            d = &x->g[i];
    if (!d) {
        if (*x->n == x->max)
            return 0;
        d = &x->g[(*x->n)++];
        memset(d, 0, sizeof *d);
        snprintf(d->name, sizeof d->name, "%s", it->dest);
    }
    if (it->state == QUEUE_PARKED) {
        d->parked++;
    } else {
        if (!d->pending || it->enq_us < d->oldest_us)
            d->oldest_us = it->enq_us;
        d->pending++;
    }
    return 0;
}

int queue_gauges(store_txn *t, queue_gauge *g, size_t max, size_t *n, rl_err *err)
{
    gauges_ctx x = { g, max, n };
    return queue_each(t, NULL, gauge_one, &x, err);
}

int queue_each(store_txn *t, const char *dest, queue_visit cb, void *ctx, rl_err *err)
{
    store_cursor *c;
    int rc = store_cursor_open(t, STORE_QUEUE, &c, err);
    if (rc)
        return rc;
    unsigned char key[RL_QUEUE_KEY_MAX];
    rl_str k = { (char *)key, dest ? make_key(dest, 0, key) : 0 }, v;
    size_t dn = dest ? strlen(dest) : 0;
    rc = dest ? store_cursor_get(c, STORE_SEEK, &k, &v) : store_cursor_get(c, STORE_FIRST, &k, &v);
    while (rc == STORE_OK) {
        if (dest && !(k.n == dn + 1 + RL_BE64_BYTES && memcmp(k.p, dest, dn) == 0 &&
                      k.p[dn] == '\0'))
            break;
        queue_item it;
        if (decode(k, v, &it) != STORE_OK) {
            rc = rl_err_set(err, STORE_E_CORRUPT, -1, "queue item does not decode");
            break;
        }
        if (cb(ctx, &it) != 0)
            break;
        rc = store_cursor_get(c, STORE_NEXT, &k, &v);
    }
    store_cursor_close(c);
    return rc < 0 ? rc : STORE_OK;
}
