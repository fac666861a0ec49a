/* Outbound forwarding: one sender thread per destination delivers that
 * destination's durable queue (radlink/queue.h) in order over MLLP, waits for
 * each downstream ACK, and only then removes the message from the queue.
 *
 *   AA / CA            delivered: removed from the queue
 *   AE / AR / CE / CR  parked with the downstream's text; the sender goes on
 *                      with the next message (`radlink queue retry` puts it back)
 *   no answer, refused connection, timeout, garbage
 *                      retried with backoff (1 s doubling up to the
 *                      destination's max-retry-delay); the queue waits
 *
 * Delivery is at least once: a crash between the downstream ACK and the
 * removal sends that message again, with the same MSH-10. */
#ifndef RADLINK_FORWARD_H
#define RADLINK_FORWARD_H

#include "radlink/route.h"
#include "radlink/store.h"

typedef struct forwarder forwarder;

forwarder *forwarder_new(store *st);
/* Make the running senders those of dests: start new ones, restart changed
 * ones, stop the ones no longer named (their queued messages stay in the
 * store). Called at start and after every route reload. */
void forwarder_set(forwarder *f, const route_dest *dests, size_t n);
/* New messages were committed to some queue: wake the senders. */
void forwarder_kick(forwarder *f);
/* Stop every sender (a delivery in progress is finished or abandoned after
 * its timeout) and free. */
void forwarder_free(forwarder *f);

#endif
