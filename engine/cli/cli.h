/* The command line (engine/cli): the verbs of two tables, ops_verbs (the
 * store's and the engine's, radlink/ops.h) and cli_tools (the command line's
 * own: the engine process, files, the network), parsed, explained and run.
 * Exit codes: 0 success, 1 "not found" or a failed operation, 2 usage
 * errors, 3 input that cannot be read or is invalid. */
#ifndef RADLINK_CLI_H
#define RADLINK_CLI_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "radlink/ops.h"
#include "radlink/util.h"

enum { CLI_OK = 0, CLI_FAIL = 1, CLI_USAGE = 2, CLI_BADINPUT = 3 };

/* The command line's own verbs (tools.c). */
extern const op_verb cli_tools[];

/* Run argv (the words after the program's name); the exit code. */
int cli_main(int argc, char **argv);

/* Print "radlink PATH: message" to stderr and return code. */
int cli_fail(const op_call *c, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Print "radlink PATH: message (see 'radlink PATH --help')" and return CLI_USAGE. */
int cli_usage(const op_call *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* The data directory of --data/--config (config's <data dir>, else ./var):
 * 0 and out, or an exit code after printing the configuration's errors. */
int cli_data_dir(const op_call *c, const char *data, const char *config, char *out, size_t n);

/* The configuration --config names, loaded over its defaults into a new cfg
 * (*out; the caller frees it). CLI_OK, or an exit code said: no --config
 * (needed says for what), or a configuration with errors (listed). */
struct cfg;
int cli_config(const op_call *c, const char *needed, struct cfg **out);

/* ---- the engine on the data directory (engine.c) ---- */

/* Printing flags of an engine's answer: CLI_CTL_QUIET_OK prints nothing when
 * it says done; CLI_CTL_STDOUT prints it on stdout even when it refuses (a
 * replay's trace, a decision). */
enum { CLI_CTL_QUIET_OK = 1, CLI_CTL_STDOUT = 2 };
/* Ask the engine running on c->data: *ran is false when none runs (nothing
 * is printed then); else its answer is printed and the exit code returned. */
int cli_ctl_engine(op_call *c, int argc, char **argv, bool *ran, unsigned flags);
/* op_call.ask for the command line: ctx is the data directory. */
int cli_ask(void *ctx, int argc, char **argv, int *status, rl_buf *out);
/* A request that changes the store (OP_WRITES): to the running engine, or
 * with none, applied here under the data directory's lock. Prints the
 * answer; returns the exit code. */
int cli_write(op_call *c, int argc, char **argv, unsigned flags);
/* A request that routes messages (msg replay, hl7 decide) to the engine, or
 * with none on the store with the routes the engine last ran (else routes,
 * the config's, the built-in ones); temp_ok: against an empty store made for
 * the run when there is none. Prints the answer; returns the exit code. */
int cli_route_request(op_call *c, const char *routes, bool temp_ok, int argc, char **argv);
/* Every message of file (FHS/BHS batches included) through `hl7 decide`
 * (trace: with the route trace; raw: segments end with CR); routes: this
 * route file instead of the engine's. The worst exit status. */
int cli_decide_file(op_call *c, const char *routes, const char *file, bool trace, bool raw);
/* Load a route file (or the config's, else the built-in one) with the
 * config's destinations; errors are printed. quiet: no closing line. */
struct route_set;
int cli_load_routes(op_call *c, const char *file, struct route_set **rs, bool quiet);
/* Bytes as lowercase hex, malloc'd (a message or a record in a request). */
char *cli_hex(rl_str bytes);

#endif
