/* The message log's indexes (STORE_MSG_IDX): what an administrator looks a
 * message up by, written in the transaction that logs the message and
 * removed with it.
 *
 * Each entry is a key, one kind byte and a value, with the sequence numbers
 * of the messages that carry it (be64, several per key, ascending):
 *   'I' patient ID NUL its authority: every PID-3 repetition (ID, and
 *       PID-3.4.1) and MRG-1 (the ID a merge retires)
 *   'A' an order's number as the worklist reads them: OBR-18, ORC-2.1,
 *       ORC-3.1, OBR-2.1, OBR-3.1 of every order group, IPC-1.1
 *   'U' a Study Instance UID: ZDS-1.1, IPC-3
 *   'N' the patient's name, family^given, folded (msgidx_fold): every PID-5
 *       repetition
 *   'C' MSH-10    'T' MSH-9's first two components    'S' MSH-3 NUL MSH-4
 * Values are decoded (escapes, character set) and cut at
 * MSGIDX_VALUE_MAX bytes. 'C', 'T' and 'S' come from the log record itself
 * and are written for every message; the others come from its parsed text
 * and are not written for a retransmission (it carries its original's
 * bytes) nor for a message that does not parse.
 *
 * The same database holds the audit trail's 'E' entries (radlink/audit.h).
 * META "msg.idx" is "2" once every message and audit event is indexed ("1":
 * the messages); a store written before the indexes existed gets them built
 * at the engine's start (msgidx_build), in steps that a restart resumes. */
#ifndef RADLINK_MSGIDX_H
#define RADLINK_MSGIDX_H

#include <stdbool.h>
#include <stdint.h>

#include "radlink/hl7.h"
#include "radlink/msglog.h"
#include "radlink/store.h"

#define MSGIDX_VALUE_MAX 200    /* bytes of one value in a key */
#define MSGIDX_KEY_MAX (2 * MSGIDX_VALUE_MAX + 2)
#define MSGIDX_KEYS_MAX 64      /* keys of one message (more are not indexed) */
#define MSGIDX_BUILD_STEP 20000 /* messages indexed per transaction of a build */
#define MSGIDX_PROGRESS_MS 2000 /* a build says how far it is this often */

typedef struct msgidx_keys {
    rl_buf b;   /* u16 length + key bytes, one after another */
    unsigned n;
} msgidx_keys;

void msgidx_keys_init(msgidx_keys *k);
void msgidx_keys_free(msgidx_keys *k);
void msgidx_keys_reset(msgidx_keys *k);
/* Add a key (kind and the value's parts joined by NUL; b may be empty: a
 * one-part value). Keys already there, and empty values, are not added. */
void msgidx_keys_add(msgidx_keys *k, char kind, rl_str a, rl_str b);
/* The next key after *pos (start at 0); false after the last. */
bool msgidx_keys_next(const msgidx_keys *k, size_t *pos, rl_str *key);

/* The keys a parsed message's text gives ('I', 'A', 'U', 'N'). */
void msgidx_collect(hl7_msg *m, msgidx_keys *k);
/* The keys of a logged message: unless it is a retransmission or a batch,
 * its text's (parsed with scratch), then its record's ('C', 'T', 'S'). */
void msgidx_of_record(const msglog_rec *r, hl7_msg *scratch, msgidx_keys *k);
/* Add the record's own keys ('C', 'T', 'S') to k. */
void msgidx_header(const msglog_rec *r, msgidx_keys *k);

/* The duplicate check: the newest message with control ID ctrl from the
 * sender app/fac (as ingest names it: "listener L" and the peer's address
 * when MSH-3 and MSH-4 are empty) that was accepted or answered AE,
 * received at since_us or later: STORE_OK with *seq and *recv_us,
 * STORE_NOTFOUND, STORE_E_ARG when a field is longer than
 * RL_DEDUP_FIELD_MAX, or an error. Read from the 'C' index and the log. */
int msgidx_dedup_find(store_txn *t, rl_str app, rl_str fac, rl_str ctrl, int64_t since_us,
                      uint64_t *seq, int64_t *recv_us, rl_err *err);

/* Write or remove the entries of message seq. */
int msgidx_put(store_txn *t, uint64_t seq, const msgidx_keys *k, rl_err *err);
int msgidx_del(store_txn *t, uint64_t seq, const msgidx_keys *k, rl_err *err);

/* A name as the index keeps it: ASCII letters upper case, Latin letters
 * with accents as their base letter (Ü -> U, ß -> SS, Ø -> O), spaces at
 * either end gone; other bytes as they are. Returns the length written
 * (out holds n - 1 bytes at most, NUL-terminated). */
size_t msgidx_fold(rl_str in, char *out, size_t n);

/* Whether every message and audit event is indexed (META msg.idx). */
bool msgidx_ready(store_txn *t);

/* Index the messages logged and the audit events recorded before the
 * indexes existed, MSGIDX_BUILD_STEP a transaction; progress (may be NULL) is told after each step. Nothing
 * to do (returns at once) when msgidx_ready. reindex: drop every entry and
 * build again. */
typedef void (*msgidx_progress_fn)(void *ctx, uint64_t done, uint64_t total);
int msgidx_build(store *s, bool reindex, msgidx_progress_fn progress, void *ctx,
                 uint64_t *built, rl_err *err);

/* Compare the indexes with the log (radlink check): every entry a message
 * should have is there, and there are no others. problem is told each
 * fault in words; *entries gets the number of entries checked. */
typedef void (*msgidx_problem_fn)(void *ctx, const char *text);
int msgidx_verify(store_txn *t, msgidx_problem_fn problem, void *ctx, uint64_t *entries,
                  rl_err *err);

#endif
