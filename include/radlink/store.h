/* The durable store: one LMDB environment under DATA/store with named
 * databases. This header is the only face of LMDB; domain modules (message
 * log, worklist, jobs, queues) build keys and values with radlink/rec.h and
 * use the typed get/put/cursor calls below.
 *
 * Threads: a store is shared by all threads of a process. A transaction
 * belongs to the thread that began it. One write transaction at a time per
 * environment (LMDB serializes writers, across processes too); in `radlink
 * serve` only the loop's thread writes. Read transactions never block and see
 * a consistent snapshot.
 *
 * Lifetimes (lmdb.h on mdb_get: "The memory pointed to by the returned values
 * is owned by the database. [...] Values returned from the database are valid
 * only until a subsequent update operation, or the end of the transaction."):
 * every view returned by store_get or a cursor is valid until the next
 * store_put or store_del in the same transaction (a nested one included), or
 * until the transaction ends, whichever comes first. Copy what must outlive a
 * write. A store, transaction and cursor are freed by store_close,
 * store_commit/store_abort and store_cursor_close. */
#ifndef RADLINK_STORE_H
#define RADLINK_STORE_H

#include <stdbool.h>
#include <stdint.h>

#include "radlink/err.h"
#include "radlink/util.h"

enum store_status {
    STORE_OK = 0,
    STORE_NOTFOUND = 1,  /* not an error: the key is absent */
};

/* The named databases. Index databases keep several values per key, sorted. */
typedef enum store_db {
    STORE_META = 0, /* "schema" -> u32 version, and other engine facts */
    STORE_MSG,      /* be64 seq -> message record (see radlink/msglog.h) */
    STORE_DEDUP,    /* no longer written: the duplicate check reads the message index
                       (msgidx_dedup_find); an older store's entries are emptied at start */
    STORE_QUEUE,    /* destination NUL be64 seq -> outbound item (see radlink/queue.h) */
    STORE_WL,       /* worklist entry key -> entry record (see radlink/wl.h) */
    STORE_WL_IDX,   /* kind + index key -> entry keys (several, sorted) */
    STORE_INSTANCE, /* SOP Instance UID -> instance record (see radlink/study.h) */
    STORE_STUDY,    /* Study Instance UID -> study record */
    STORE_STUDY_IDX,/* kind + key -> UIDs (several, sorted) */
    STORE_PATIENT,  /* issuer NUL patient ID -> patient record (see radlink/patient.h) */
    STORE_JOB,      /* be64 id -> job record (see radlink/job.h) */
    STORE_JOB_IDX,  /* 'S' subject -> be64 ids of its unfinished jobs (several) */
    STORE_CHANGE,   /* study UID NUL be64 job id NUL be32 n -> a header change made */
    STORE_MPPS,     /* SOP Instance UID -> MPPS record (see radlink/mpps.h) */
    STORE_AUDIT,    /* be64 seq -> audit event (see radlink/audit.h) */
    STORE_PROG,     /* be64 id -> a DICOM route's program (see radlink/study.h) */
    STORE_REPORT,   /* 'R' be64 message seq -> report record; 'W' accession NUL be64 seq and
                     * 'S' study UID NUL be64 seq -> "" (see radlink/report.h) */
    STORE_MSG_IDX,  /* kind + value -> be64 seqs of messages (several, fixed size; see
                     * radlink/msgidx.h) */
    STORE_MPPS_IDX, /* accession -> SOP Instance UIDs of the MPPS naming it (see radlink/mpps.h) */
    STORE_DB_COUNT
} store_db;

typedef struct store store;
typedef struct store_txn store_txn;
typedef struct store_cursor store_cursor;

typedef struct store_opts {
    uint64_t map_size; /* bytes of address space LMDB may use; 0 = 16 GiB */
    bool readonly;     /* open for reading while an engine writes */
} store_opts;

/* Open (creating when writable) DATA/store. The returned store is the
 * caller's, freed by store_close (after every transaction has ended). */
int store_open(const char *data_dir, const store_opts *o, store **out, rl_err *err);
void store_close(store *s);
/* Reader slots of processes that died (a CLI reader killed mid-read) hold
 * an old snapshot and make the file grow: clear them (store_open does at
 * once; the engine again periodically). *cleared gets how many. */
int store_reader_check(store *s, int *cleared, rl_err *err);
/* Reader slots in use (for `radlink status`). */
unsigned store_readers(store *s);
/* How full the map is as t sees it: its size, the bytes of the file's pages
 * in use (up to the last page written) and, of those, the bytes on LMDB's
 * free list (reusable without growing the file). */
typedef struct store_usage {
    uint64_t map_bytes, used_bytes, reusable_bytes;
} store_usage;
int store_usage_get(store_txn *t, store_usage *out, rl_err *err);
/* Double the map, up to ceiling bytes (the engine's loop, between two
 * turns: no write transaction open; readers of other threads are waited
 * for). *was and *now: the map before and after. STORE_E_FULL when it is at
 * the ceiling already. Other processes adopt the new size at their next
 * transaction. */
int store_grow(store *s, uint64_t ceiling, uint64_t *was, uint64_t *now, rl_err *err);
/* A compacted copy of the store (data.mdb) into dest_dir, an existing empty
 * directory: one consistent snapshot, taken in a read transaction, so the
 * engine writes on meanwhile (radlink backup). */
int store_copy(store *s, const char *dest_dir, rl_err *err);
/* Bytes of pages one database takes (branch, leaf, overflow). */
int store_db_bytes(store_txn *t, store_db db, uint64_t *bytes, rl_err *err);
/* The entries of one database as the transaction sees it (an index
 * database counts each value). */
int store_entries(store_txn *t, store_db db, uint64_t *n, rl_err *err);

/* Begin a transaction; parent (may be NULL) makes a nested write transaction
 * whose changes vanish if it is aborted (s may then be NULL). store_commit syncs to disk when it
 * commits a top-level write transaction. Both end the transaction. */
int store_begin(store *s, store_txn *parent, bool write, store_txn **out, rl_err *err);
int store_commit(store_txn *t, rl_err *err);
void store_abort(store_txn *t);

/* What a module keeps for one open store, derived only from what is stored
 * (so it holds whatever a transaction sees): made by make() on first use,
 * shared by every thread, dropped by store_close. */
typedef enum store_slot { STORE_SLOT_RECZIP, STORE_SLOT_COUNT } store_slot;
void *store_slot_get(store *s, store_slot k, void *(*make)(void), void (*drop)(void *));
store *store_txn_store(store_txn *t);
/* n bytes that live as long as the transaction (for what a read decodes into,
 * so its views last as long as the store's own); NULL when out of memory. */
void *store_txn_scratch(store_txn *t, size_t n);

#define STORE_NOOVERWRITE 1u
#define STORE_APPEND 2u /* key sorts after every key in the database */

int store_get(store_txn *t, store_db db, rl_str key, rl_str *val, rl_err *err);
int store_put(store_txn *t, store_db db, rl_str key, rl_str val, unsigned flags, rl_err *err);
/* Delete key (and for index databases only the pair key/val when val.p != NULL). */
int store_del(store_txn *t, store_db db, rl_str key, rl_str val, rl_err *err);
/* Empty one database (its entries go; the database stays). */
int store_drop(store_txn *t, store_db db, rl_err *err);
/* Last key of a database whose keys are be64 numbers, plus one (1 when empty). */
int store_next_seq(store_txn *t, store_db db, uint64_t *seq, rl_err *err);

/* Cursors: positioning calls return STORE_OK with key/val set, or STORE_NOTFOUND. */
typedef enum store_move {
    STORE_FIRST, STORE_LAST, STORE_NEXT, STORE_PREV,
    STORE_SEEK,     /* first key >= key */
    STORE_NEXT_DUP, /* next value of the same key (index databases) */
    STORE_SET,      /* exactly key */
    STORE_LAST_DUP, /* the last value of the key at the cursor */
    STORE_PREV_DUP, /* the value before, of the same key */
    STORE_BOTH,     /* exactly key and val */
    STORE_BOTH_RANGE, /* key, and its first value >= val */
    STORE_NEXT_KEY, /* the first value of the next key */
} store_move;

int store_cursor_open(store_txn *t, store_db db, store_cursor **out, rl_err *err);
int store_cursor_get(store_cursor *c, store_move how, rl_str *key, rl_str *val);
void store_cursor_close(store_cursor *c);
/* Values of the key at the cursor (index databases). */
int store_cursor_count(store_cursor *c, uint64_t *n);


#endif
