/* The message log: every HL7 message received, accepted or not, with its
 * raw bytes, receive time, peer, MSH-3/4/9/10, outcome and the ACK that was
 * sent; plus the duplicate index (MSH-3 + MSH-4 + MSH-10).
 *
 * Record format, STORE_MSG value (all integers big-endian):
 *   u8  version (2; 1 in stores written before compression, read as they are)
 *   u8  status (msglog_status)
 *   u64 receive time, microseconds since the epoch
 *   u64 seq of the original when status is DUPLICATE, else 0
 *   the text: in version 1 as it is, in version 2 one Zstandard frame of it
 *   (radlink/reczip.h):
 *     str peer, str listener, str MSH-3, str MSH-4, str MSH-9, str MSH-10
 *     str ACK code ("AA", "AE", "AR"), str error text, str routing outcome
 *     str ACK bytes, str raw message bytes
 * where str is a u32 length followed by that many bytes. */
#ifndef RADLINK_MSGLOG_H
#define RADLINK_MSGLOG_H

#include "radlink/store.h"

typedef enum msglog_status {
    MSG_ACCEPTED = 1,  /* AA: stored and applied */
    MSG_ERROR = 2,     /* AE: parsed but could not be processed */
    MSG_REJECTED = 3,  /* AR: malformed, unsupported, refused, conflicting control ID */
    MSG_DUPLICATE = 4, /* a retransmission: answered with the original ACK, not applied */
} msglog_status;
/* Slots of an array indexed by msglog_status (slot 0 unused). */
#define MSGLOG_STATUS_SLOTS (MSG_DUPLICATE + 1)

const char *msglog_status_name(msglog_status s);
int msglog_status_parse(const char *name); /* -1 when unknown */

typedef struct msglog_rec {
    uint64_t seq;
    msglog_status status;
    int64_t recv_us;
    uint64_t dup_of;
    rl_str peer, listener, app, fac, type, ctrl;
    rl_str ack_code, error, outcome, ack, raw;
    /* what a compressed record decodes into (the views above point into it),
     * kept for the next record read into the same msglog_rec */
    rl_buf text;
} msglog_rec;

/* Start every msglog_rec read into as MSGLOG_REC_INIT, and free it when done. */
#define MSGLOG_REC_INIT { 0 }
void msglog_rec_free(msglog_rec *r);

/* Append r (r->seq is assigned). */
int msglog_append(store_txn *t, msglog_rec *r, rl_err *err);
/* Read one record into r; its views are valid until r is read into again or
 * freed, the next write in the same transaction, or the transaction's end
 * (radlink/store.h). */
int msglog_get(store_txn *t, uint64_t seq, msglog_rec *r, rl_err *err);
int msglog_decode(store_txn *t, rl_str val, msglog_rec *r, rl_err *err);
/* Only a record's status, receive time and original (no text, nothing to
 * free): STORE_OK, STORE_E_CORRUPT or STORE_E_VERSION. */
int msglog_head(rl_str val, msglog_rec *r);

/* First seq whose receive time is >= since_us (binary search: sequence numbers
 * grow with receive time). Returns the next free seq when none is. */

int msglog_seek_time(store_txn *t, int64_t since_us, uint64_t *seq, rl_err *err);

#endif
