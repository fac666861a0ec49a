/* The audit trail (IHE ATNA, DICOM PS3.15 A.5): who did what to which
 * patient's data, when. Each event is rendered once as the standard's XML
 * (`AuditMessage`) and stored in STORE_AUDIT in the transaction of what it
 * records, so an ACKed order, a stored instance or an answered query always
 * has its event, and an event never describes something rolled back.
 * Shipping to a collector (audit_ship.c) reads from the store. Events that
 * other threads render and the loop stores are radlink/audit_post.h.
 *
 * STORE_AUDIT: be64 seq -> audit record, version 2:
 *   u8 version, u64 time (us since the epoch), u32 event code (DCM, e.g.
 *   110112), u8 action ('C' 'R' 'U' 'D' 'E' or 0), u8 outcome (0, 4, 8, 12),
 *   str patient ID ("" when none), then the event's other facts and the
 *   audit source it was recorded under (engine/audit/facts.c): the XML is
 *   written from them when it is shipped, listed or shown (audit_rec_xml),
 *   the same bytes as when it was recorded. Version 1 (radlink 0.3) kept
 *   str XML after the patient ID, read as it is.
 * STORE_MSG_IDX 'E' patient ID -> be64 seqs of the events about the patient
 *   (radlink trace), written and removed with the event.
 * META "audit.shipped": be64 seq of the last event the collector took.
 *
 * Threads: audit_record in the thread holding the write transaction (the
 * engine's loop); rendering (audit_render) in any thread. */
#ifndef RADLINK_AUDIT_H
#define RADLINK_AUDIT_H

#include <stdbool.h>
#include <stdint.h>

#include "radlink/limits.h"
#include "radlink/store.h"
#include "radlink/util.h"

/* Event IDs (DCM code values, PS3.16 CID 400). */
typedef enum audit_kind {
    AUDIT_APP_ACTIVITY = 110100,
    AUDIT_BEGIN_TRANSFER = 110102,
    AUDIT_INSTANCES_ACCESSED = 110103,
    AUDIT_INSTANCES_TRANSFERRED = 110104,
    AUDIT_ORDER = 110109,
    AUDIT_PATIENT = 110110,
    AUDIT_PROCEDURE = 110111,
    AUDIT_QUERY = 110112,
    AUDIT_SECURITY_ALERT = 110113,
    AUDIT_USER_AUTH = 110114,
} audit_kind;

/* Event type codes (DCM, CID 401 and 402) that refine an event ID. */
typedef enum audit_type {
    AUDIT_T_NONE = 0,
    AUDIT_T_APP_START = 110120,
    AUDIT_T_APP_STOP = 110121,
    AUDIT_T_LOGIN = 110122,
    AUDIT_T_LOGOUT = 110123,
    AUDIT_T_NODE_AUTH = 110126,          /* a peer that failed to authenticate (TLS, AE title) */
    AUDIT_T_SOFTWARE_CONFIG = 110131,    /* a route file or configuration reloaded */
    AUDIT_T_RESTRICTED_FUNCTION = 110132,/* a control or console request refused */
} audit_type;

/* Roles of active participants (DCM, CID 402). */
typedef enum audit_role {
    AUDIT_ROLE_NONE = 0,
    AUDIT_ROLE_APPLICATION = 110150,
    AUDIT_ROLE_LAUNCHER = 110151,
    AUDIT_ROLE_DESTINATION = 110152,
    AUDIT_ROLE_SOURCE = 110153,
} audit_role;

#define AUDIT_PARTIES 4
#define AUDIT_SOP_CLASSES 8

typedef struct audit_party {
    const char *user_id;  /* AE title, sending application, process ID, user name */
    const char *alt_id;   /* "AETITLES=..." or the process ID, or NULL */
    const char *address;  /* the peer's IP address or host name, or NULL */
    bool requestor;
    audit_role role;
} audit_party;

/* One event. Every pointer is borrowed for the call; NULL or "" leaves the
 * part out. */
typedef struct audit_event {
    audit_kind kind;
    audit_type type;
    char action;          /* 'C' 'R' 'U' 'D' 'E', or 0 */
    int outcome;          /* 0 success, 4 minor, 8 serious, 12 major failure */
    const char *outcome_text;
    int64_t time_us;      /* 0: now */
    audit_party party[AUDIT_PARTIES];
    size_t nparty;
    /* participant objects */
    const char *patient_id, *patient_name;
    const char *study_uid, *accession, *mpps_uid;
    struct { const char *uid; unsigned n; } sop[AUDIT_SOP_CLASSES];
    size_t nsop;
    rl_str query;         /* Query: the C-FIND identifier as received (binary) */
    const char *query_sop_class;
    const char *object_id;   /* Security Alert: what it is about (a file, a peer) */
    const char *object_desc; /* its description (a ParticipantObjectDetail) */
} audit_event;

/* The audit source: who reports (the engine's AE title or host) and the
 * enterprise site. Set once at start, before any event; copied. */
void audit_set_source(const char *source_id, const char *site);
const char *audit_source_id(void);

/* The address part of "ip:port" (or of "[v6]:port") into out; a peer that
 * is no address ("replay of 12") is copied as it is. */
void audit_addr(const char *peer, char *out, size_t n);

/* The two active participants of a message received from a peer: the
 * sender (requestor, source; user "application|facility" or an AE title)
 * and radlink (destination). user and addr hold the strings (caller's
 * buffers, at least RL_AUDIT_USER_SIZE and RL_PEER_TEXT_MAX bytes). */
void audit_received_from(audit_event *ev, const char *user, const char *peer, char *addr,
                         size_t addrn);

/* The event as a PS3.15 AuditMessage (UTF-8, no XML declaration) appended to
 * out. Returns 0 or RL_E_NOMEM. */
int audit_render(const audit_event *ev, rl_buf *out);

/* Render and store ev in t under the next audit sequence number. */
int audit_record(store_txn *t, const audit_event *ev, rl_err *err);

/* An event made where it happened (a DICOM thread) and stored later by the
 * thread that writes: audit_prepare encodes ev's facts into facts (the
 * caller's buffer) and fills r, whose facts view it; audit_store puts r in t. */
typedef struct audit_ready {
    int64_t time_us;
    uint32_t code;
    char action;
    int outcome;
    char patient_id[RL_PATIENT_ID_SIZE];
    rl_str facts;
} audit_ready;
int audit_prepare(const audit_event *ev, audit_ready *r, rl_buf *facts);
int audit_store(store_txn *t, const audit_ready *r, rl_err *err);

/* A stored event, decoded: views into the store's memory (valid as its
 * transaction is) and, for a compressed record's facts, into the calling
 * thread's buffer (valid until its next audit_decode). */
typedef struct audit_rec {
    uint64_t seq;
    int64_t time_us;
    uint32_t code;
    char action;
    int outcome;
    rl_str patient_id;
    uint8_t version;
    rl_str xml;   /* version 1: the XML as stored */
    rl_str facts; /* version 2: the facts the XML is written from (a version 3
                     record's, decompressed, reads as version 2) */
    bool facts_lost; /* a version 3 record whose facts do not decompress: empty,
                        and its XML cannot be written (the rest reads) */
} audit_rec;

/* Decode a stored event (seq, its value) read in t. */
int audit_decode(store_txn *t, uint64_t seq, rl_str val, audit_rec *out);
/* The event's AuditMessage (PS3.15 A.5), appended to out. 0 or an error. */
int audit_rec_xml(const audit_rec *r, rl_buf *out);
/* The audit index entry of r (patient -> seq): written with the event;
 * retention removes it with the event; a build of the indexes writes it for
 * an older store. */
int audit_index_put(store_txn *t, const audit_rec *r, rl_err *err);
int audit_index_del(store_txn *t, const audit_rec *r, rl_err *err);
/* Human words for an event ID ("Query"), or "?". */
const char *audit_kind_name(uint32_t code);

/* Every stored event from seq `from` on, oldest first; cb returns 0 to go
 * on, anything else stops (and is returned). */
typedef int (*audit_visit)(void *ctx, const audit_rec *r);
int audit_each(store_txn *t, uint64_t from, audit_visit cb, void *ctx, rl_err *err);

/* The last shipped seq (META audit.shipped; 0 when none) and setting it. */
int audit_shipped(store_txn *t, uint64_t *seq, rl_err *err);
int audit_set_shipped(store_txn *t, uint64_t seq, rl_err *err);

#endif
