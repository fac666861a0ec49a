/* Outbound forwarding: one sender thread per destination delivers that
 * destination's durable queue (radlink/queue.h) in order over MLLP and waits
 * for each downstream ACK.
 *
 *   AA / CA            delivered: removed from the queue
 *   AE / AR / CE / CR  parked with the downstream's text; the sender goes on
 *                      with the next message (`radlink queue retry` puts it back)
 *   no answer, refused connection, timeout, garbage
 *                      retried with backoff (1 s doubling up to the
 *                      destination's max-retry-delay); the queue waits
 *
 * A destination of kind ROUTE_DEST_MPPS (a PACS given the modalities' MPPS)
 * is delivered with DICOM instead: each queued N-CREATE or N-SET over its own
 * association; success or a warning status removes it (0111 on an N-CREATE
 * too: an earlier try got through), a failure status parks it with the
 * status and the PACS's comment, an unreachable PACS or a refused
 * association is retried with backoff.
 *
 * A sender only reads the store. It reports each answer to the engine's loop
 * as a CMD_DELIVERY (radlink/cmd.h), which the loop applies in its
 * transaction, and waits for that commit before it reads its queue again.
 * Its network I/O is cancellable: a reload that changes or drops its
 * destination, or shutdown, cancels it at once and never waits for an
 * exchange in flight (that message stays queued and goes again with the same
 * MSH-10: delivery is at least once). A changed destination gets its new
 * sender when the old one has ended (CMD_SENDER_EXIT), so two never send
 * the same queue. A sender with nothing due sleeps until it is kicked.
 *
 * Threads: every function here is for the loop's thread. */
#ifndef RADLINK_FORWARD_H
#define RADLINK_FORWARD_H

#include "radlink/cmd.h"
#include "radlink/route.h"
#include "radlink/store.h"

typedef struct forwarder forwarder;

forwarder *forwarder_new(store *st, cmdq *q);
/* Make the senders those of dests: start new ones, cancel changed ones (their
 * replacement starts once they ended), cancel the ones no longer named (their
 * queued messages stay in the store). Never blocks. */
void forwarder_set(forwarder *f, const route_dest *dests, size_t n);
/* Something changed in the queues (new messages, a retry, a park): every
 * sender looks at its queue again. */
void forwarder_kick(forwarder *f);
/* Apply a CMD_DELIVERY in t (the sender's outcome). An operator's park made
 * meanwhile stays; a message an operator removed is no error. */
int forwarder_apply(store_txn *t, const cmd *c, rl_err *err);
/* A CMD_SENDER_EXIT: join that sender, free it, start its replacement. */
void forwarder_exited(forwarder *f, void *sender);
/* Shutdown: cancel every sender. forwarder_stopped says when all ended. */
void forwarder_stop(forwarder *f);
bool forwarder_stopped(const forwarder *f);
/* One line per sender (destination, state) for `radlink status`. */
void forwarder_status(const forwarder *f, rl_buf *out);
/* Join the senders (waiting up to RL_SENDER_EXIT_WAIT_MS for the ones still
 * ending) and free everything. A sender still inside a call that cannot be
 * cancelled (a DNS lookup) is left to process exit; the count of those is
 * returned: while it is not 0, the store and the command queue they use
 * must stay open. */
unsigned forwarder_free(forwarder *f);

#endif
