/* The operator plane (engine/ops): every verb an operator can ask of radlink,
 * declared once. A row of a verb table says the verb's noun and name, its
 * arguments (name, type, required), the console role it needs, whether it
 * reads the store, changes it or asks the running engine, one line of help,
 * its handler and where the HTTP API serves it. From the rows:
 *   - the CLI parses its command line and prints --help (engine/cli),
 *   - the engine's control socket dispatches requests (engine/serve),
 *   - the HTTP listener routes /api/... requests (engine/web).
 * A handler writes its answer to a view (radlink/view.h): the CLI and the
 * control socket get its text, the API its JSON, from the same calls.
 *
 * Threads: the tables are constant; ops_parse, ops_argv, ops_help and a
 * handler run on the caller's thread with the caller's op_call. */
#ifndef RADLINK_OPS_H
#define RADLINK_OPS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "radlink/limits.h"
#include "radlink/util.h"

struct store_txn;
struct ingest;
struct route_set;
struct view;

/* ---- arguments ---- */

typedef enum op_type {
    OPT_STR = 1, /* any text */
    OPT_U64,     /* a whole number within [min, max] */
    OPT_FLAG,    /* present or not: "--dead", true in JSON */
    OPT_CHOICE,  /* one word of choices */
    OPT_SINCE,   /* a date (2026-11-23[T10:15[:30]], local time) or an age (30s, 10m, 2h, 3d) */
    OPT_FILE,    /* a file: made absolute where it is named, read where the verb runs */
    OPT_SECRET,  /* a password: read from the terminal (or stdin) by the CLI, a JSON member
                  * over HTTP; never on a command line that travels */
} op_type;

enum {
    OPA_POS = 1u << 0,      /* positional (name is its placeholder, "SEQ"), else --name */
    OPA_REQUIRED = 1u << 1, /* must be given */
    OPA_REST = 1u << 2,     /* positional: this and every later word */
    OPA_LOCAL = 1u << 3,    /* where the CLI looks (--data, --config): never sent on */
};

typedef struct op_arg {
    const char *name;            /* "state" for --state; "SEQ" for a positional */
    op_type type;
    unsigned flags;              /* OPA_* */
    const char *meta;            /* help: "S" in "--state S" */
    const char *help;            /* help: what it means (lines after the first start with
                                  * spaces and continue it) */
    uint64_t min, max;           /* OPT_U64 */
    const char *const *choices;  /* OPT_CHOICE: NULL-terminated */
    char shorthand;              /* a one-letter form (-r), or 0 */
    const char *key;             /* its name in a query string or a JSON body (NULL: name,
                                  * with '-' as '_') */
    uint64_t web_max;            /* OPT_U64: the most an HTTP request may ask (0: max) */
    const char *alt;             /* exactly one of this and the argument alt is given
                                  * (QSEQ or --all) */
} op_arg;

/* The value of each argument of a request, in the order of the verb's args. */
typedef struct op_val {
    bool set;
    const char *s;      /* the text as given, borrowed from the request */
    uint64_t u;         /* OPT_U64 */
    int64_t us;         /* OPT_SINCE: microseconds since the epoch */
} op_val;

typedef struct op_vals {
    op_val v[RL_OP_ARGS_MAX];
    const char *rest[RL_CTL_MAX_ARGS]; /* an OPA_REST positional's words */
    int nrest;
} op_vals;

/* ---- verbs ---- */

enum {
    OP_READS = 1u << 0,   /* reads the store in a read transaction (CLI, console) */
    OP_WRITES = 1u << 1,  /* changes the store: the engine's loop applies it in its turn,
                           * or the CLI on the store when no engine runs */
    OP_ENGINE = 1u << 2,  /* the running engine answers it from what its loop knows */
    OP_LOCAL = 1u << 3,   /* runs where it is asked (the CLI's process, an HTTP thread)
                           * on something other than the store: files, the users file */
    OP_DATA = 1u << 4,    /* takes --data and --config (the data directory) */
    OP_ROUTES = 1u << 5,  /* needs the routes and the ingest (replay, decide): with no
                           * engine the CLI loads the routes the engine last ran */
    OP_RESULT = 1u << 6,  /* status 1 is an answer (a replay the routes refuse), not a
                           * failure: HTTP 200 */
    OP_HIDDEN = 1u << 7,  /* asked by radlink itself (the CLI, the HTTP listener), not
                           * listed in help and not a command of its own */
    OP_AUDITED = 1u << 8, /* a console user's request is recorded in the audit trail */
};

/* What the running engine answers itself (OP_ENGINE): serve implements each. */
typedef enum op_engine_q {
    OPE_NONE = 0,
    OPE_STATUS,       /* the words of `radlink status` only the engine knows */
    OPE_METRICS,      /* /metrics lines only the loop knows */
    OPE_HEALTH,       /* status 0 when serving */
    OPE_DESTINATIONS, /* every destination's name, one per line */
    OPE_RELOAD,       /* load the route file again; answered once it is loaded */
    OPE_RETENTION,    /* retention's passes now, until nothing is left to remove */
    OPE_FACTS,        /* what only the loop knows, for the alert rules (radlink/alert.h) */
} op_engine_q;

/* An HTTP binding: {NAME} in the pattern is the positional of that name,
 * query (GET) or JSON members (POST, DELETE) the options; fixed adds
 * options ("--all"). */
typedef struct op_http {
    const char *method;
    const char *pattern;
    const char *fixed;
} op_http;

/* Result of a verb: the CLI's exit code follows from it, and the API's
 * HTTP status. */
typedef enum op_status {
    OP_OK = 0,
    OP_FAIL = 1,        /* refused or failed: exit 1, HTTP 409 */
    OP_USAGE = 2,       /* a request that does not parse: exit 2, HTTP 400 */
    OP_BADINPUT = 3,    /* input that cannot be read or is invalid: exit 3, HTTP 400 */
    OP_NOTFOUND = 4,    /* what the request names does not exist: exit 1, HTTP 404 */
    OP_UNAVAILABLE = 5, /* the store or the engine cannot be reached: exit 1, HTTP 503 */
} op_status;

typedef struct op_call op_call;

typedef struct op_verb {
    const char *noun;      /* "jobs" */
    const char *verb;      /* "retry"; NULL for a noun that is a verb ("status") */
    const op_arg *args;    /* terminated by a zeroed row */
    int role;              /* users_role a console user needs; 0: not over HTTP */
    unsigned flags;        /* OP_* */
    const char *summary;   /* one line */
    const char *help;      /* lines printed after the options */
    const char *usage;     /* the words of a usage error about positionals */
    int (*run)(op_call *c);
    op_engine_q engine;    /* OP_ENGINE: what the engine answers */
    op_http http[3];
} op_verb;

/* A request being answered. */
struct op_call {
    const op_verb *verb;
    const char *path;            /* the verb's name in messages ("jobs retry") */
    op_vals vals;
    struct view *out;            /* where the answer goes */
    struct store_txn *t;         /* OP_READS: a read transaction; OP_WRITES: the write
                                  * transaction (nested in the engine's turn) */
    int64_t now_us;
    /* OP_ROUTES */
    struct ingest *ing;
    const struct route_set *routes;
    /* OP_WRITES, out */
    bool keep;                   /* commit what was done */
    bool dry;                    /* a dry run: nothing is kept */
    bool kick_senders;           /* a queue changed: wake the senders after the commit */
    /* the data directory (OP_DATA in the CLI) and the configuration named */
    const char *data, *config;
    /* the running engine's own configuration (the HTTP API), or NULL: verbs
     * that need one load --config, else the file the engine on data
     * started with (ops_engine_config) */
    const struct cfg *cfg;
    const char *users_path;      /* the console's users file (user verbs) */
    const char *user;            /* who asks, for the audit trail ("" from the CLI) */
    FILE *notes;                 /* the CLI's stderr: words beside the answer; NULL elsewhere */
    int role;                    /* a console user's users_role; 0: the CLI or the engine (whoever
                                  * may read the data directory may read it all) */
    /* Ask the running engine (argv: a request), or NULL where there is none
     * to ask: status and its words as the control socket answers them;
     * returns 0, or -1 when no engine answered (out says why). */
    int (*ask)(void *ctx, int argc, char **argv, int *status, rl_buf *out);
    void *ask_ctx;
    /* A console user was changed (the HTTP listener ends their sessions). */
    void (*on_user_changed)(void *ctx, const char *name);
    void *hook_ctx;
};

/* Every verb of the store and the engine (engine/ops/table.c): the CLI, the
 * control socket and the HTTP API take their verbs from here. Terminated by
 * a zeroed row. */
extern const op_verb ops_verbs[];

/* The row of table for "noun verb" (argv[0], argv[1]); *used gets how many
 * words named it (1 or 2). NULL when none. */
const op_verb *ops_find(const op_verb *table, int argc, char *const *argv, int *used);

/* Parse argv (the words after the verb's name) into c->vals. OP_OK, or
 * OP_USAGE with the reason in why ("unknown option '--x'"). */
int ops_parse(const op_verb *v, int argc, char *const *argv, op_vals *vals, char *why,
              size_t whyn);
/* Set the argument name of v to text, checked as its type says (web: named
 * and bounded as an HTTP request's, "limit: ..."). OP_OK, or OP_USAGE with why. */
int ops_set(const op_verb *v, const char *name, const char *text, bool web, op_vals *vals,
            char *why, size_t whyn);
/* An argument of v by index (its own, then --data and --config for OP_DATA);
 * NULL past the last. */
const op_arg *ops_arg(const op_verb *v, size_t i);
/* The name an argument has in a query string or JSON body. */
void ops_arg_key(const op_arg *a, char *out, size_t n);
/* The positionals' placeholders: "DEST QSEQ". */
void ops_synopsis(const op_verb *v, char *out, size_t n);
/* The request in canonical words ("jobs" "retry" "--dead"), for the control
 * socket: into out (an argv of at most RL_CTL_MAX_ARGS, its strings in buf).
 * OPA_LOCAL arguments are left out. Returns argc, or -1 when it does not fit. */
int ops_argv(const op_verb *v, const op_vals *vals, char **out, rl_buf *buf);
/* The verb's --help text (path: "radlink jobs retry"). */
void ops_help(const op_verb *v, const char *path, rl_buf *out);
/* The full name of a verb: "jobs retry", "status". */
void ops_name(const op_verb *v, char *out, size_t n);

/* Accessors by argument name (a name the verb does not have is a bug: NULL,
 * 0 and false). */
const char *ops_str(const op_call *c, const char *name);
uint64_t ops_u64(const op_call *c, const char *name, uint64_t def);
bool ops_flag(const op_call *c, const char *name);
bool ops_has(const op_call *c, const char *name);
int64_t ops_since(const op_call *c, const char *name);

/* Text as a time (OPT_SINCE's forms): 0 and *us, or -1. */
int ops_parse_since(const char *text, int64_t *us);

/* The CLI's exit code and the HTTP status of a result. */
int ops_exit_code(int status);
int ops_http_status(const op_verb *v, int status);

/* The pid of the engine that holds data_dir (0 when none runs, -1 when one
 * runs but its pid cannot be read, -2 when this user may not even look). */
long ops_engine_pid(const char *data_dir);
/* The configuration file the engine on data_dir last started with (META
 * engine.config), or "" when it ran on the embedded default or never ran. */
void ops_engine_config(const char *data_dir, char *out, size_t n);
/* A text fact the engine keeps in the store's meta database (routes.file,
 * routes.sha256, engine.pid...): 0 and the value, or 1 when absent. */
struct store_txn;
int ops_meta(struct store_txn *t, const char *key, char *out, size_t n);
/* Lowercase hex into bytes (appended to out): 0, or -1 when it is not hex. */
int ops_unhex(const char *hex, rl_buf *out);

/* A message as an indented tree whose labels are paths 'hl7 get' takes
 * (`hl7 show`, `msg show`, the console's message page), appended to out.
 * 0, or -1 with err (a value that does not decode). */
struct hl7_msg;
int ops_hl7_tree(struct hl7_msg *m, rl_buf *out, rl_err *err);
/* The same for raw bytes: parsed first (a parse error: its code and err). */
int ops_hl7_tree_of(rl_str raw, rl_buf *out, rl_err *err);

/* Run c->verb's handler on c (its vals parsed, its context set), with the
 * keep/dry rules every caller applies: a successful change is kept unless a
 * dry run; the handler may keep a refused one itself (a replay). */
int ops_run(op_call *c);

#endif
