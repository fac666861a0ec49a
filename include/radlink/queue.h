/* Durable outbound queues, one FIFO per destination, in LMDB (STORE_QUEUE).
 * A message is queued in the same transaction as the inbound message that
 * caused it, so the inbound ACK means the forward will happen.
 *
 * Key: destination name, NUL, be64 queue sequence (from one counter for all
 * destinations, META "queue.next": a number is never given twice). Value (big-endian):
 *   u8 version (1), u8 state, u64 enqueue time (us), u64 source message seq,
 *   u32 attempts, u64 next attempt time (us), str last error, str payload. */
#ifndef RADLINK_QUEUE_H
#define RADLINK_QUEUE_H

#include "radlink/limits.h"
#include "radlink/store.h"

typedef enum queue_state {
    QUEUE_PENDING = 1, /* waiting to be delivered (possibly backing off) */
    QUEUE_PARKED = 2,  /* the destination answered AE/AR: kept until retried */
} queue_state;

typedef struct queue_item {
    char dest[RL_DEST_NAME_MAX];
    uint64_t qseq;
    queue_state state;
    int64_t enq_us;
    uint64_t msg_seq;
    uint32_t attempts;
    int64_t next_us;
    rl_str last_error; /* views: valid until the next write in the transaction, or its end */
    rl_str payload;
} queue_item;

int queue_push(store_txn *t, const char *dest, uint64_t msg_seq, rl_str payload, int64_t now_us,
               uint64_t *qseq, rl_err *err);
/* The first PENDING item of dest (parked items are skipped). */
/* How a message an administrator parked (radlink queue park) starts its
 * text: it was taken out of line on purpose, and does not hold the queue. */
#define QUEUE_PARKED_BY_ADMIN "parked by an administrator"
/* The next message to send to dest: the first pending one; ordered, the
 * first message at all, so that one the destination's answer parked stops
 * the queue (STORE_NOTFOUND and *parked_first its qseq; else 0). */
int queue_head(store_txn *t, const char *dest, bool ordered, queue_item *out,
               uint64_t *parked_first, rl_err *err);
int queue_get(store_txn *t, const char *dest, uint64_t qseq, queue_item *out, rl_err *err);
/* Rewrite state, attempts, next attempt and last error of an item. */
int queue_update(store_txn *t, const queue_item *it, rl_err *err);
int queue_remove(store_txn *t, const char *dest, uint64_t qseq, rl_err *err);
/* Visit every item (of dest, or of all destinations when dest is NULL) in
 * order; stop when cb returns non-zero. */
typedef int (*queue_visit)(void *ctx, const queue_item *it);
int queue_each(store_txn *t, const char *dest, queue_visit cb, void *ctx, rl_err *err);

/* A destination's queue in figures: what /metrics, the console and the
 * alert rules read. */
typedef struct queue_gauge {
    char name[RL_DEST_NAME_MAX];
    unsigned long pending, parked;
    int64_t oldest_us; /* the oldest pending message's arrival (0: none) */
} queue_gauge;
/* Count every destination's queue into g[0..*n) (at most max; destinations
 * past it are left out). Those already in g (named beforehand, at 0) keep
 * their place. */
int queue_gauges(store_txn *t, queue_gauge *g, size_t max, size_t *n, rl_err *err);

#endif
