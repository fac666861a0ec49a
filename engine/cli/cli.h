/* The command-line face: verbs, their help, and the option parsing they share.
 * Exit codes: 0 success, 1 "not found" or a failed operation, 2 usage errors,
 * 3 input that cannot be read or is invalid. */
#ifndef RADLINK_CLI_H
#define RADLINK_CLI_H

#include <getopt.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "radlink/util.h"

enum { CLI_OK = 0, CLI_FAIL = 1, CLI_USAGE = 2, CLI_BADINPUT = 3 };

typedef struct cli_cmd cli_cmd;
struct cli_cmd {
    const char *name;    /* "get" */
    const char *args;    /* "FILE PATH" */
    const char *summary; /* one line */
    const char *help;    /* options and details, printed by --help */
    int (*run)(const cli_cmd *self, int argc, char **argv);
    const cli_cmd *subs; /* sub-verbs, terminated by a zeroed entry */
    const char *path;    /* full name for messages ("hl7 get"), set by the dispatcher */
};

/* Option parsing with getopt_long, handling --help and bad options the same way
 * for every verb. cli_next returns the option, -1 at the end of options, or
 * CLI_STOP after printing help or a usage error (then *exit_code says which). */
#define CLI_STOP (-100)
typedef struct cli_opts {
    int argc;
    char **argv;
    const cli_cmd *cmd;
    const char *shortopts;
    const struct option *longopts;
    int exit_code;
    int started;
} cli_opts;

int cli_next(cli_opts *o);
/* Print "radlink PATH: message (see 'radlink PATH --help')" and return CLI_USAGE. */
int cli_usage(const cli_cmd *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Print "radlink PATH: message" to stderr and return code. */
int cli_fail(const cli_cmd *cmd, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void cli_print_help(const cli_cmd *cmd, FILE *out);
/* Dispatch argv[0] among cmds (argv[0] is the verb). */
int cli_dispatch(const cli_cmd *cmds, const char *prefix, int argc, char **argv);
/* Parse a number option within [min,max]; on error prints and returns -1. */
/* --since: "2026-11-23", "2026-11-23T10:15[:30]" (local time), or an age
 * ("30s", "10m", "2h", "3d"). 0 with *us set, or -1. */
int cli_parse_since(const char *text, int64_t *us);
int cli_number(const cli_cmd *cmd, const char *opt, const char *text, long min, long max,
               long *out);

/* The data directory a read verb uses: --data, else the config file's, else
 * ./var. Returns 0, or an exit code after printing the config's errors. */
int cli_data_dir(const cli_cmd *cmd, const char *data, const char *config, char *out, size_t n);

/* A text fact the engine keeps in the store's meta database (routes.file,
 * routes.sha256, engine.pid...): 0 and the value, or 1 when absent. */
struct store_txn;
int cli_meta(struct store_txn *t, const char *key, char *out, size_t n);
/* The pid of the engine that holds data_dir (0 when none runs, -1 when one
 * runs but its pid cannot be read, -2 when this user may not even look). */
long cli_engine_pid(const char *data_dir);

/* Load a route file (or the config's, else the built-in one) with the
 * config's destinations; errors are printed. quiet: no closing line. */
struct route_set;
int cli_load_routes(const cli_cmd *self, const char *file, const char *config,
                    struct route_set **rs, bool quiet);

/* Open the store of --data/--config (read-only unless write) and begin a
 * transaction; 0, or an exit code after printing the reason. */
struct store;
int cli_open_store(const cli_cmd *cmd, const char *data, const char *config, bool write,
                   struct store **st, struct store_txn **t);
/* A verb that changes the store (radlink/ctl.h's requests): sent to the
 * engine running on the data directory over its control socket, or, when
 * none runs, applied to the store directly with the same code. The output is
 * printed (stdout when done, stderr when refused); returns the exit code. */
int cli_ctl(const cli_cmd *cmd, const char *data, const char *config, int argc, char **argv);
/* cli_ctl with the printing flags of cli_ctl_engine (below). */
int cli_ctl_flags(const cli_cmd *cmd, const char *data, const char *config, int argc,
                  char **argv, unsigned flags);
/* Ask the running engine only (routes reload, status, a replay): *ran is
 * false when no engine runs on the data directory (nothing is printed then).
 * flags: CLI_CTL_QUIET_OK prints nothing when the engine says done;
 * CLI_CTL_STDOUT prints the answer on stdout even when it is a refusal (a
 * replay's trace). */
enum { CLI_CTL_QUIET_OK = 1, CLI_CTL_STDOUT = 2 };
int cli_ctl_engine(const cli_cmd *cmd, const char *data, const char *config, int argc,
                   char **argv, bool *ran, unsigned flags);
/* cli_ctl_engine, and when no engine runs, the data directory's lock taken
 * (*lock_fd, closed by the caller) so that no engine starts while the caller
 * changes the store itself (a starting engine waits RL_LOCK_WAIT_MS for it). */
int cli_ctl_or_lock(const cli_cmd *cmd, const char *data, const char *config, int argc,
                    char **argv, unsigned flags, bool *ran, int *lock_fd);

/* A request that routes messages (msg replay, hl7 decide: radlink/ctl.h) run
 * with no engine: on the store of --data/--config, with the routes the engine
 * last ran (else routes, else the config's or the built-in ones) and its
 * hooks, through the same ctl_apply. temp_ok: with no store there, against
 * an empty one made for the run and removed after (a note says so in out).
 * The request's words go to out; returns its exit status; *kept says whether
 * its changes were committed. Take the data directory's lock first
 * (cli_ctl_or_lock). */
int cli_ingest_on_store(const cli_cmd *self, const char *data, const char *config,
                        const char *routes, bool temp_ok, int argc, char **argv, rl_buf *out,
                        bool *kept);
/* Send a request that routes messages to the engine running on the data
 * directory, else run it with cli_ingest_on_store (temp_ok); prints its
 * words (stdout, stderr for a usage error) and returns its exit status. */
int cli_route_request(const cli_cmd *self, const char *data, const char *config,
                      const char *routes, int argc, char **argv);
/* Every message of file (FHS/BHS batches included) through `hl7 decide`:
 * the ACK the engine would send (trace: with the route trace, as `routes
 * test` prints it; raw: segments end with CR). routes: this route file
 * instead of the engine's. Returns the worst exit status: 0 when every
 * message would be accepted, 1 when one would not. */
int cli_decide_file(const cli_cmd *self, const char *data, const char *config,
                    const char *routes, const char *file, bool trace, bool raw);
/* A message for a request (hl7 decide): its bytes in lowercase hex, malloc'd. */
char *cli_hex(rl_str bytes);

/* Local time, "2026-11-23 10:15:30". */
void cli_fmt_time(int64_t us, char *out, size_t n);

/* Shared printers: m as an indented tree whose labels are paths 'hl7 get'
 * takes (`hl7 show`, `msg show`, the console's message page). */
struct hl7_msg;
int cli_hl7_tree(FILE *out, struct hl7_msg *m, rl_err *err);

/* The verbs. */
extern const cli_cmd cli_hl7_cmd;
extern const cli_cmd cli_serve_cmd;
extern const cli_cmd cli_version_cmd;
extern const cli_cmd cli_send_cmd;
extern const cli_cmd cli_msg_cmd;
extern const cli_cmd cli_routes_cmd;
extern const cli_cmd cli_queue_cmd;
extern const cli_cmd cli_status_cmd;
extern const cli_cmd cli_wl_cmd;
extern const cli_cmd cli_recon_cmd;
extern const cli_cmd cli_mpps_cmd;
extern const cli_cmd cli_audit_cmd;
extern const cli_cmd cli_user_cmd;
extern const cli_cmd cli_worker_cmd;
extern const cli_cmd cli_keygen_cmd;
extern const cli_cmd cli_jobs_cmd;
extern const cli_cmd cli_backup_cmd;
extern const cli_cmd cli_restore_cmd;
extern const cli_cmd cli_check_cmd;

#endif
