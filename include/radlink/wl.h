/* The Modality Worklist: one entry per Scheduled Procedure Step, in LMDB.
 *
 * Entry key (STORE_WL): AccessionNumber NUL RequestedProcedureID NUL
 * ScheduledProcedureStepID.
 *
 * Stored as version 3: the byte 3, then one compressed frame
 * (radlink/reczip.h, family "wl") of the version 2 record below without its
 * version byte. wl_encode and wl_decode speak version 2; versions 1 and 2 in
 * an older store are read as they are.
 *
 * Record format, version 2 (all integers big-endian, str = u32 length + bytes):
 *   u8  version (2; version 1 has no source)
 *   u64 created (us since the epoch)   u64 updated (us)   u64 message seq
 *   str source (the file an imported entry came from; empty for a message's)
 *   u16 number of attributes, then per attribute:
 *     u8 depth (1..3), depth x u32 tags (sequence tags first, the element last;
 *     each sequence has one item), str value
 * Values are DICOM strings in UTF-8 (PN "FAMILY^GIVEN^MIDDLE^PREFIX^SUFFIX",
 * DA "YYYYMMDD", TM "HHMMSS"). A sequence with no attributes under it is
 * stored as an attribute of depth 1 with the sequence tag and an empty value
 * (an empty, type 2 sequence).
 *
 * Secondary indexes (STORE_WL_IDX, several values per key, value = entry key),
 * maintained in the same transaction as the entry; the key starts with a kind:
 *   'A' accession   'P' patient ID   'U' study instance UID   'D' start date
 *   'S' station AE NUL start date    'M' modality NUL start date
 *
 * Ownership: a wl_entry is the caller's (usually on the heap: it is large);
 * its values are views whose lifetime each function below states. */
#ifndef RADLINK_WL_H
#define RADLINK_WL_H

#include <stdbool.h>
#include <stdint.h>

#include "radlink/limits.h"
#include "radlink/store.h"

#define WL_MAX_ATTRS RL_WL_MAX_ATTRS
#define WL_KEY_MAX RL_WL_KEY_MAX

/* Tags the worklist itself depends on. */
#define WL_TAG(g, e) (((uint32_t)(g) << 16) | (uint32_t)(e))
#define WL_SPECIFIC_CHARSET WL_TAG(0x0008, 0x0005)
#define WL_ACCESSION WL_TAG(0x0008, 0x0050)
#define WL_MODALITY WL_TAG(0x0008, 0x0060)
#define WL_PATIENT_NAME WL_TAG(0x0010, 0x0010)
#define WL_PATIENT_ID WL_TAG(0x0010, 0x0020)
#define WL_STUDY_UID WL_TAG(0x0020, 0x000D)
#define WL_SPS_SEQ WL_TAG(0x0040, 0x0100)
#define WL_STATION_AE WL_TAG(0x0040, 0x0001)
#define WL_SPS_DATE WL_TAG(0x0040, 0x0002)
#define WL_SPS_TIME WL_TAG(0x0040, 0x0003)
#define WL_SPS_ID WL_TAG(0x0040, 0x0009)
#define WL_SPS_STATUS WL_TAG(0x0040, 0x0020)
#define WL_RP_ID WL_TAG(0x0040, 0x1001)

typedef struct wl_attr {
    uint32_t path[3];
    uint8_t depth;
    rl_str value;
} wl_attr;

typedef struct wl_entry {
    int64_t created_us, updated_us;
    uint64_t msg_seq;  /* the message that wrote it last; 0 for an imported entry */
    rl_str source;     /* an imported entry's file (`radlink wl import`), else empty */
    size_t n;
    wl_attr a[WL_MAX_ATTRS];
} wl_entry;

/* ---- the attributes radlink knows (the MWL information model) ---- */

typedef struct wl_model_attr {
    const char *keyword;  /* "Modality", or "RequestedProcedureCodeSequence/CodeValue" */
    const char *path;     /* full path: "ScheduledProcedureStepSequence/Modality" */
    uint32_t tags[3];
    uint8_t depth;
    char vr[sizeof "SQ"];
    unsigned max_len;     /* DICOM maximum length of a value (0 = none checked) */
} wl_model_attr;

/* By keyword or full path, or by tag path; NULL when unknown. The model is
 * static: the pointers live as long as the program. */
const wl_model_attr *wl_model_find(const char *keyword);
const wl_model_attr *wl_model_by_path(const uint32_t *tags, uint8_t depth);
/* A value's length as DICOM limits it: characters (not bytes), and for AE
 * and CS the longest of its values ('\'-separated). */
size_t wl_value_len(const wl_model_attr *m, rl_str v);

/* ---- entries ---- */

/* The value at a path (depth 1..3), or NULL when absent. */
const rl_str *wl_get_attr(const wl_entry *e, const uint32_t *tags, uint8_t depth);
/* The value of a top-level element, or of an element inside the SPS item. */
rl_str wl_top(const wl_entry *e, uint32_t tag);
rl_str wl_sps(const wl_entry *e, uint32_t tag);
/* Set (replace) a value; the view must outlive e. 0, RL_E_LIMIT when e holds
 * WL_MAX_ATTRS values already, RL_E_ARG for a depth outside 1..3. */
int wl_set_attr(wl_entry *e, const uint32_t *tags, uint8_t depth, rl_str value);

/* A Study Instance UID for an order that has none: 2.25.<decimal> from the
 * SHA-256 of its identity (PS3.5 B.2), the same for every message of it. */
void wl_order_uid(rl_str facility, rl_str acc, rl_str rpid, char out[RL_UID_SIZE]);

/* The entry's key: accession NUL rp-id NUL sps-id; returns its length. */
size_t wl_key_of(const wl_entry *e, char *out, size_t n);

/* Copy every value of e into a (entries read from the store point into it,
 * and those views end at the transaction's next write): 0, or RL_E_NOMEM. */
int wl_entry_own(wl_entry *e, rl_arena *a);
int wl_encode(const wl_entry *e, rl_buf *out);
/* Decode rec into e; values are views into rec. */
int wl_decode(rl_str rec, wl_entry *e);

/* An entry read from a worklist file (`radlink wl import`), checked and
 * completed: a value longer than DICOM allows refuses the file when it
 * identifies the patient or the step, else it is left out with a warning;
 * patient ID and name, modality and start date are required; missing
 * procedure and step IDs are derived from the accession number, a missing
 * study UID made from it (wl_order_uid), the status set SCHEDULED. Returns 0,
 * or WL_E_ENTRY (RL_E_LIMIT when the entry is full) with the reason in err.
 * Warnings are appended to warnings ("; " between them); new values are
 * allocated from a. */
int wl_import_prepare(wl_entry *e, rl_arena *a, rl_buf *warnings, rl_err *err);

/* ---- storage ---- */

/* Write e (replacing an entry with the same key and its index entries). */
int wl_put(store_txn *t, const wl_entry *e, rl_err *err);
/* Remove the entry with this key and its index entries; STORE_NOTFOUND when
 * there is none. */
int wl_remove(store_txn *t, rl_str key, rl_err *err);
/* Read one entry; values are views valid until the next write in the same
 * transaction, or its end (radlink/store.h): a compressed entry is decoded
 * into memory the transaction holds until it ends. */
int wl_get(store_txn *t, rl_str key, wl_entry *e, rl_err *err);

/* Visit entries: every one (kind 0), or those whose index key of this kind
 * lies in [from, to] (inclusive; to.p == NULL: no upper bound). cb returns
 * non-zero to stop. The entry struct is valid during the call only; its
 * values, as wl_get's, as long as the transaction. */
typedef int (*wl_visit)(void *ctx, rl_str key, const wl_entry *e);
int wl_scan(store_txn *t, char kind, rl_str from, rl_str to, wl_visit cb, void *ctx, rl_err *err);

/* ---- queries (PS3.4 C.2.2.2 matching) ---- */

typedef struct wl_key {
    uint32_t path[3];
    uint8_t depth;
    char vr[sizeof "SQ"];
    rl_str value;    /* UTF-8; empty = universal */
    bool sequence;   /* an (empty) sequence: return everything under it */
} wl_key;

typedef struct wl_query {
    size_t n;
    wl_key k[WL_MAX_ATTRS];
    bool icase_names; /* PN matching ignores case */
} wl_query;

/* Add a matching key: a top-level tag (seq 0) or one in the sequence seq.
 * 0, or RL_E_LIMIT when q holds WL_MAX_ATTRS keys already. */
int wl_query_add(wl_query *q, uint32_t seq, uint32_t tag, const char *vr, rl_str value);
bool wl_matches(const wl_query *q, const wl_entry *e);
/* Is a key's value well formed for its VR (dates, times, ranges)? false with
 * the reason in err (RL_E_ARG). */
bool wl_key_valid(const wl_key *k, rl_err *err);

/* How a query will be answered: which index and range (for logs and tests). */
typedef struct wl_plan {
    char kind;           /* 0 = full scan */
    char from[WL_KEY_MAX], to[WL_KEY_MAX];
    size_t from_n, to_n;
    bool to_open;        /* no upper bound */
} wl_plan;

void wl_plan_query(const wl_query *q, wl_plan *p);
/* Run q: plan, scan, filter; cb gets each matching entry in index order. */
int wl_find(store_txn *t, const wl_query *q, wl_visit cb, void *ctx, wl_plan *plan, rl_err *err);

#endif
