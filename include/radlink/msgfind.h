/* Finding messages in the log (radlink msg list|search, the console's
 * message browser): the newest that match a filter, a page at a time.
 * Without a PATH=VALUE only the record's header is read; with one, every
 * candidate message is parsed and the value at PATH compared (fnmatch
 * wildcards, every repetition, decoded). Duplicates are skipped by a search
 * (they carry the original's bytes). */
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
    bool has_value;      /* search: the message's value at path matches value */
    hl7_path path;
    const char *value;
} msgfind;

/* Parse "PID-3.1=12345" into f (has_value, path, value borrowed from text).
 * Returns 0, or -1 with the reason in err. */
int msgfind_set_search(msgfind *f, const char *text, rl_err *err);

/* Whether r passes the status and type parts of f. */
bool msgfind_row_matches(const msgfind *f, const msglog_rec *r);

/* The newest matches with seq < before (0: from the newest), newest first:
 * at most max into seqs, *n of them. *resume is where the next page starts
 * (pass it as before), 0 when the log was read to its start (or to since).
 * *scanned counts the records read. */
int msgfind_page(store_txn *t, const msgfind *f, uint64_t before, uint64_t *seqs, size_t max,
                 size_t *n, uint64_t *resume, uint64_t *scanned, rl_err *err);

#endif
