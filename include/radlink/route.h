/* The routing core: XML route files (routes/routes.xsd) compiled once at load
 * (paths parsed, regexes compiled, tables hashed) and evaluated for every
 * message: match, conditions, transforms, actions.
 *
 * A route_set is immutable after loading and owned by whoever loaded it (free
 * with route_free). Evaluation is not thread-safe for one route_set only in
 * the sense that hook callbacks run on the caller's thread; the set itself is
 * read-only, so several threads may evaluate it with their own messages.
 * Every string, array and struct a route_set function returns belongs to the
 * set and lives until route_free; the caller never frees them. */
#ifndef RADLINK_ROUTE_H
#define RADLINK_ROUTE_H

#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>

#include "radlink/hl7.h"
#include "radlink/limits.h"
#include "radlink/store.h"

enum route_status {
    ROUTE_OK = 0,
};

/* An outbound destination: an HL7 peer over MLLP (what route files name), or
 * a PACS's MPPS SCP the engine forwards the modalities' N-CREATE and N-SET
 * to (made from <pacs mpps="true">; its queue is named "mpps:" + AE title). */
typedef enum route_dest_kind { ROUTE_DEST_MLLP = 0, ROUTE_DEST_MPPS = 1 } route_dest_kind;
/* A refusal's policy; zero is each one's default. */
enum { ROUTE_AE_RETRY = 0, ROUTE_AE_PARK = 1 };
enum { ROUTE_AR_PARK = 0, ROUTE_AR_RETRY = 1 };
typedef struct route_dest {
    char name[RL_DEST_NAME_MAX];
    char host[RL_HOST_MAX];
    unsigned port;
    unsigned ack_timeout_s;
    unsigned max_retry_delay_s;
    /* what an answer AE (CE) or AR (CR) does: sent again with backoff up to
     * `retries` sends in all (0: RL_DEST_RETRIES_DEFAULT), then parked; or
     * parked at once (defaults: AE retried, AR parked) */
    unsigned on_ae; /* ROUTE_AE_* */
    unsigned on_ar; /* ROUTE_AR_* */
    unsigned retries;
    /* ordered="false": the sender moves past a parked message; by default
     * nothing overtakes it (false here is the default, ordered) */
    bool unordered;
    bool tls;
    char ca[RL_CFG_PATH_MAX], cert[RL_CFG_PATH_MAX], key[RL_CFG_PATH_MAX];
    char server_name[RL_HOST_MAX];
    route_dest_kind kind;
    char ae[RL_AE_TITLE_SIZE], calling_ae[RL_AE_TITLE_SIZE]; /* ROUTE_DEST_MPPS: the peer's, and ours */
} route_dest;

typedef struct route_set route_set;

/* What a hook action (worklist, patient, reconcile) may do; filled by the
 * modules that implement them. A hook returns ROUTE_OK, ROUTE_E_ACTION with
 * fail_text (and fail_at when a field is to blame) set, or ROUTE_E_STORE. */
typedef enum route_hook_kind { ROUTE_HOOK_WORKLIST, ROUTE_HOOK_PATIENT, ROUTE_HOOK_RECONCILE,
                               ROUTE_HOOK_REPORT, ROUTE_HOOK_PREFETCH,
                               ROUTE_HOOK_COUNT } route_hook_kind;

/* A further reason an action refuses a message (the first one is in
 * fail_text): an order with three problems names all three at once. */
#define ROUTE_PROBLEMS 8
typedef struct route_problem {
    int errcode;
    char text[RL_ROUTE_PROBLEM_TEXT];
    hl7_path at;
    bool has_at;
} route_problem;

/* <report>'s attributes (routes/README.md). */
typedef enum route_report_unmatched {
    ROUTE_REPORT_HOLD = 0,   /* held on the exception list until its study arrives */
    ROUTE_REPORT_REFUSE = 1, /* AE, naming the accession */
} route_report_unmatched;
typedef struct route_report_opts {
    bool optional;           /* nothing when the engine has no PACS (the built-in routes) */
    route_report_unmatched unmatched;
    bool pdf_only;           /* pdf="instead": a PDF replaces the SR (default: beside it) */
    bool iocm;               /* update="iocm": the amended report is rejected by a KOS */
    bool complete_step;      /* a final report completes the order's worklist steps */
} route_report_opts;

/* <prefetch>'s attributes (routes/README.md): an order's priors moved from
 * one DICOM node to another (radlink/prefetch.h). */
typedef struct route_prefetch_opts {
    const char *from, *to;   /* the nodes' AE titles (checked at load) */
    unsigned max;            /* at most this many priors */
    int64_t within_s;        /* not older (0: any age) */
    int modality;            /* prefetch_modality */
    const char *modalities;  /* its list ("CT,MR"), or NULL */
    bool same_body_part;
    int body_table;          /* the table from the order's procedure code (OBR-4.1, as
                              * the worklist holds it) to its body part, or -1 (then what
                              * the order names: OBR-15.4, OBR-46; else any) */
    int64_t lead_s;          /* before the scheduled start (0: at the order) */
    int line;
} route_prefetch_opts;

typedef struct route_env route_env;
typedef int (*route_hook_fn)(route_env *env, hl7_msg *m, rl_buf *trace);

struct route_env {
    store_txn *txn;     /* where effects go; NULL in a dry run */
    bool dry_run;       /* evaluate and trace, change nothing */
    int64_t now_us;
    uint64_t msg_seq;   /* the message's number in the log */
    const char *peer;   /* who sent it ("ip:port", or what replayed it), or NULL */
    const route_set *rs;
    route_hook_fn hooks[ROUTE_HOOK_COUNT]; /* NULL: the action fails with "not available" */
    void *hook_ctx;
    const route_report_opts *report; /* the <report> action running (set by route_eval) */
    const route_prefetch_opts *prefetch; /* the <prefetch> action running */
    /* out: set by a failing action */
    int fail_errcode;   /* HL7 table 0357 code for the ERR segment */
    char fail_text[RL_ROUTE_TEXT];
    hl7_path fail_at;
    bool has_fail_at;
    route_problem more[ROUTE_PROBLEMS]; /* problems after the first */
    size_t n_more;
    /* out: what an action tolerated ("; "-separated), kept in the message
     * log with the outcome */
    char warnings[RL_ROUTE_WARNINGS];
    rl_err store_err;
    /* out: destinations that received a message (for waking their senders) */
    unsigned forwarded;
};

typedef struct route_result {
    bool accept;      /* AA; otherwise reject with code/text */
    char code[RL_ACK_CODE_SIZE]; /* "AA", "AE", "AR" */
    int errcode;      /* HL7 table 0357 for the ERR segment */
    char text[RL_ROUTE_TEXT]; /* reject text */
    hl7_path at;      /* field to blame, when has_at */
    bool has_at;
    route_problem more[ROUTE_PROBLEMS]; /* further problems, one ERR segment each */
    size_t n_more;
    char summary[RL_ROUTE_SUMMARY]; /* one line for the message log: routes and actions */
} route_result;

/* One <attribute> of the file's <worklist-mapping>, checked at load; the
 * worklist module turns these into worklist entries. */
typedef struct route_wl_attr {
    char keyword[RL_WL_KEYWORD_SIZE];
    hl7_path path, fallback;
    bool has_path, has_fallback;
    const char *value;   /* constant, or NULL */
    const char *deflt;   /* used when the HL7 value is empty, or NULL */
    int table;           /* lookup table index, or -1 */
    bool required;
    /* a value longer than DICOM allows: left out with a warning (0, the
     * default for optional attributes), cut to the limit, or refused (the
     * default for required ones) */
    enum { ROUTE_LONG_DEFAULT, ROUTE_LONG_OMIT, ROUTE_LONG_CUT, ROUTE_LONG_REFUSE } too_long;
    int line;
} route_wl_attr;

/* One <station> rule of the <worklist-mapping>: where the Scheduled Station
 * AE Title comes from when OBR-21 (IPC-9) is empty. Tried in file order. */
typedef struct route_wl_station {
    enum { ROUTE_STATION_MODALITY, ROUTE_STATION_PROCEDURE, ROUTE_STATION_PATH } by;
    hl7_path path;       /* ROUTE_STATION_PATH */
    int table;           /* lookup table index, or -1 (then only the default) */
    const char *deflt;   /* when the table has no entry, or NULL */
    int line;
} route_wl_station;

typedef struct route_load_opts {
    const route_dest *extra_dests; /* destinations from the engine config */
    size_t n_extra_dests;
    /* Checks a <worklist-mapping> keyword; NULL accepts any. Returns 0, or a
     * negative code with the reason in err. */
    int (*check_wl_keyword)(const char *keyword, rl_err *err);
    /* DICOM routes (radlink/route_dicom.h): the data dictionary (NULL: a
     * file with <dicom-routes> is refused, naming why; kept by the set, so
     * it outlives it), and the AE titles of the DICOM nodes a <send> may
     * name (the config's <pacs> and <node>, at most RL_DICOM_NODES_MAX;
     * borrowed during the load only). */
    const struct route_dicom_dict *dicom_dict;
    const char *const *dicom_nodes;
    size_t n_dicom_nodes;
} route_load_opts;

/* Load and compile a route file. On failure every error is appended to errors
 * as "file:line: message" and ROUTE_E_LOAD is returned. */
int route_load(const char *path, const route_load_opts *o, route_set **out, rl_buf *errors);
/* The same from memory (name is used in messages and as the file name). */
int route_load_mem(const char *name, const char *text, size_t len, const route_load_opts *o,
                   route_set **out, rl_buf *errors);
void route_free(route_set *rs);
/* Read one <destination> element (an xmlNode*, from a route file or the engine
 * config, same attributes) into d; errors go to errors as file:line. ROUTE_OK,
 * or ROUTE_E_LOAD. */
int route_dest_from_xml(const void *node, const char *file, route_dest *d, rl_buf *errors);
/* The routes built into the binary (routes/default.xml). */
int route_load_default(const route_load_opts *o, route_set **out, rl_buf *errors);

/* Facts about a loaded set. */
const char *route_source(const route_set *rs);   /* file name */
const char *route_sha256(const route_set *rs);   /* hex SHA-256 of the file bytes */
rl_str route_text(const route_set *rs);          /* the file's bytes as loaded */
size_t route_count(const route_set *rs);
/* The line of the first action of this hook kind in the file, or 0. */
int route_hook_line(const route_set *rs, route_hook_kind k);
const char *route_hook_name(route_hook_kind k);
const char *route_name(const route_set *rs, size_t i);
size_t route_table_count(const route_set *rs);
/* Name and number of entries of table i. */
const char *route_table_info(const route_set *rs, size_t i, size_t *entries);
const route_dest *route_dests(const route_set *rs, size_t *n);
/* The file's <worklist-mapping> attributes (n = 0 when it has none), and
 * whether the shipped IHE defaults apply under them. */
const route_wl_attr *route_wl_attrs(const route_set *rs, size_t *n, bool *ihe_defaults);
/* <mpps-status>: the HL7 status message an MPPS state change sends to the
 * order filler (IHE RAD-6/7 forwarded as ORM^O01 ORC-1 SC, or OMG^O19). */
typedef struct route_mpps_field {
    hl7_path path;
    const char *keyword; /* a worklist or MPPS attribute keyword, or NULL */
    const char *value;   /* a constant, or NULL */
} route_mpps_field;

typedef struct route_mpps_status {
    bool present;        /* the file has <mpps-status> */
    int dest;            /* index into route_dests, or -1 (optional and not defined) */
    const char *dest_name;
    bool omg;            /* OMG^O19 instead of ORM^O01 */
    const char *code[3]; /* ORC-5 for IN PROGRESS, COMPLETED, DISCONTINUED */
    const route_mpps_field *fields;
    size_t nfields;
} route_mpps_status;

const route_mpps_status *route_mpps(const route_set *rs);

/* <patient-id>: which identifier of PID-3 (and MRG-1) names the patient, and
 * what a merge of a prior patient radlink has not seen does. */
typedef struct route_patient_id {
    const char *authority;  /* CX-4.1 wanted, or NULL */
    const char *types;      /* CX-5 codes in order of preference ("MR PI"), or NULL */
    bool refuse_unknown_prior; /* unknown-prior="refuse": AE (default: record the merge) */
} route_patient_id;
/* The file's rule (the defaults when it has none). */
const route_patient_id *route_patient(const route_set *rs);

/* The file's first <prefetch> from `from` to `to`, or NULL. */
const route_prefetch_opts *route_prefetch_find(const route_set *rs, const char *from,
                                               const char *to);

/* The file's <station> rules (n = 0 when it has none). */
const route_wl_station *route_wl_stations(const route_set *rs, size_t *n);
/* Look key up in table idx: the value, else the table's default, else NULL. */
const char *route_table_get(const route_set *rs, int table, rl_str key);
/* Index of a table by name, or -1. */
int route_table_find(const route_set *rs, const char *name);

/* Evaluate m against the set: routes in order, transforms applied to m in
 * place, actions executed through env. trace, when non-NULL, receives a
 * human-readable account of every decision. Returns ROUTE_OK (res says accept
 * or reject), or ROUTE_E_STORE when the store failed. */
int route_eval(const route_set *rs, hl7_msg *m, route_env *env, route_result *res, rl_buf *trace);

/* For actions: record why the message is refused (text "PREFIX: message",
 * the table 0357 code, the field to blame or NULL) in env; returns
 * ROUTE_E_ACTION. A second and later call adds a further problem (up to
 * ROUTE_PROBLEMS), so an action can report everything wrong at once. */
int route_failv(route_env *env, int errcode, const hl7_path *at, const char *prefix,
                const char *fmt, va_list ap) __attribute__((format(printf, 5, 0)));

/* For actions: note something tolerated (a value left out, a fallback
 * taken); it is kept with the message's outcome in the log. */
void route_warn(route_env *env, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* The ACK's further ERR segments for res (views into res); returns n. */
size_t route_ack_errs(const route_result *res, hl7_ack_err *out, size_t max);

/* What an action module derives from a route set once and reuses for every
 * message (the worklist mapping compiled): kept with the set, freed with it by
 * free_fn. route_cache_put keeps the first value stored for a slot and returns
 * it (another thread's, or p); when p lost, it is freed with free_fn. Safe
 * from several threads. */
typedef enum route_cache_slot {
    ROUTE_CACHE_WORKLIST_ORM,
    ROUTE_CACHE_WORKLIST_OMI,
    ROUTE_CACHE_SLOTS
} route_cache_slot;
void *route_cache_get(const route_set *rs, route_cache_slot slot);
void *route_cache_put(const route_set *rs, route_cache_slot slot, void *p, void (*free_fn)(void *));

/* Queue the serialized message for a destination (used by the forward action;
 * exposed for replay and tests). */
int route_forward(route_env *env, const route_dest *d, hl7_msg *m);

#endif
