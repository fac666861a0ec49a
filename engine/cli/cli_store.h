/* The command line changing a store itself, when no engine runs on it
 * (engine.c, on_store.c). Private to engine/cli. */
#ifndef RADLINK_CLI_STORE_H
#define RADLINK_CLI_STORE_H

#include "cli.h"
#include "radlink/ingest.h"
#include "radlink/route.h"
#include "radlink/store.h"

/* What a request that routes messages runs with: the ingest (hooks, buffers)
 * and the routes. */
typedef struct cli_routing {
    ingest ing;
    route_set *rs;
} cli_routing;

/* Apply the request argv (a verb of ops_verbs) in a write transaction of st,
 * committed when its handler keeps it (*kept). Its words (and failure) go to
 * out; returns its op_status. */
int cli_apply(const op_call *outer, store *st, cli_routing *r, int argc, char **argv,
              rl_buf *out, bool *kept);
/* A request that routes messages, on the store of c->data with the routes
 * the engine last ran (else routes, else the config's or the built-in ones)
 * and its hooks. temp_ok: with no store there, against an empty one made for
 * the run and removed after (a note says so on stderr). */
int cli_on_store(op_call *c, const char *routes, bool temp_ok, int argc, char **argv,
                 rl_buf *out, bool *kept);

#endif
