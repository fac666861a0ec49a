/* Operators' state changes (engine/ctl.c): the verbs that change the store
 * (`queue retry|park`, `jobs retry`, `recon link`, `msg replay`), applied
 * in the caller's write transaction by one function, whoever calls it: the
 * engine's loop when the verb came over the control socket (radlink/ctlsock.h),
 * or the CLI on the store when no engine runs. Both print the same words.
 *
 * A request is the verb and its arguments, as the CLI sends them:
 *   queue retry DEST QSEQ | queue retry DEST --all | queue park DEST QSEQ
 *   jobs retry ID | jobs retry --dead
 *   recon link STUDY-UID ACCESSION
 *   msg replay SEQ [--quiet] [--dry-run] [--routes FILE]   (FILE: loaded by the caller into
 *       env->routes)
 *   hl7 decide [--trace] [--raw] [--routes FILE] MESSAGE   (MESSAGE in lowercase hex: what
 *       the engine answers to it, decided in a nested transaction that is undone)
 *   wl put [--replace] [--dry-run] ENTRY...   (`radlink wl import`: each ENTRY a worklist
 *       record, wl_encode's bytes in lowercase hex, with its source file; an entry
 *       whose key is on the worklist already is not taken without --replace) */
#ifndef RADLINK_CTL_H
#define RADLINK_CTL_H

#include <stdbool.h>

#include "radlink/ingest.h"
#include "radlink/store.h"

typedef struct ctl_env {
    ingest *ing;             /* replay: the ingest (hooks, message buffer) to run it with */
    const route_set *routes; /* replay: the routes (the engine's, or --routes FILE) */
    int64_t now_us;
    /* out */
    bool dry;                /* a dry run: nothing is to be kept */
    bool keep;               /* commit what was done (else abort it: nothing happened) */
    bool kick_senders;       /* a queue changed: wake the senders after the commit */
} ctl_env;

/* Apply the request in t. Returns the CLI exit code: 0 done, 1 refused or
 * failed, 2 a request that does not parse; out receives the words for the
 * operator either way. env->keep says whether t's changes are to be
 * committed: a replay that the routes refuse is kept (logged as refused,
 * like a received message) although its status is 1. */
int ctl_apply(ctl_env *env, store_txn *t, int argc, char **argv, rl_buf *out);

/* Whether argv is a request ctl_apply takes (the engine answers the others,
 * `routes reload` and `status`, itself). */
bool ctl_is_store_verb(int argc, char **argv);

#endif
