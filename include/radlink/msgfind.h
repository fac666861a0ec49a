/* Finding messages in the log (radlink msg list|search, the console's
 * message browser, the JSON API): the newest that match a filter, a page at
 * a time.
 *
 * The indexes (radlink/msgidx.h) answer what they cover: a patient, an
 * order's number, a name or its prefix, a study, MSH-10, a type, a sender,
 * and a PATH=VALUE whose path is one of theirs. With several, the one with
 * the fewest messages leads and the others are looked up for each of its
 * messages (AND). Times narrow the range of sequence numbers (they grow with
 * the receive time). What no index covers is read from the log newest first
 * (the scan), and msgfind_how says so and why.
 *
 * A PATH=VALUE is always checked against the parsed message (fnmatch
 * wildcards, every repetition, decoded), so an index only narrows what is
 * read. Duplicates are skipped by a search on the message's content (they
 * carry the original's bytes). */
#ifndef RADLINK_MSGFIND_H
#define RADLINK_MSGFIND_H

#include <stdbool.h>
#include <stdint.h>

#include "radlink/hl7.h"
#include "radlink/msglog.h"

typedef struct msgfind {
    int status;          /* msglog_status, or -1 for any */
    const char *type;    /* MSH-9: "ORM^O01", "ADT^A0*", "ORU" (first component); NULL any */
    int64_t since_us;    /* received at or after (0: any time) */
    int64_t until_us;    /* received before (0: up to now) */
    bool has_value;      /* search: the message's value at path matches value */
    hl7_path path;
    const char *value;
    /* what the indexes answer; NULL: any. Wildcards * and ? allowed. */
    const char *patient;   /* "ID" (any authority) or "ID^^^AUTHORITY": PID-3, MRG-1 */
    const char *accession; /* OBR-18, ORC-2/3, OBR-2/3, IPC-1 */
    const char *name;      /* "DOE" (family), "DOE^JANE", "DOE^J*": folded as indexed */
    const char *sender;    /* "APP" or "APP/FACILITY" (MSH-3/4) */
    const char *study;     /* Study Instance UID (ZDS-1, IPC-3) */
} msgfind;

/* How a page was found. */
typedef struct msgfind_how {
    char index[64];       /* the indexes used ("patient", "accession+name"); "" scan */
    char why_scan[200];   /* a scan: why no index could answer */
    uint64_t scanned;     /* records read */
} msgfind_how;

/* Parse "PID-3.1=12345" into f (has_value, path, value borrowed from text).
 * Returns 0, or -1 with the reason in err. */
int msgfind_set_search(msgfind *f, const char *text, rl_err *err);

/* Whether r passes the status, type and sender parts of f. */
bool msgfind_row_matches(const msgfind *f, const msglog_rec *r);

/* The newest matches with seq < before (0: from the newest), newest first:
 * at most max into seqs, *n of them. *resume is where the next page starts
 * (pass it as before), 0 when there is no more. how (may be NULL) is told
 * how they were found. */
int msgfind_page(store_txn *t, const msgfind *f, uint64_t before, uint64_t *seqs, size_t max,
                 size_t *n, uint64_t *resume, msgfind_how *how, rl_err *err);

#endif
