/* The verbs of the store and the engine (radlink/ops.h): each declared once,
 * here. The CLI parses and explains them from these rows, the engine's
 * control socket dispatches them, the HTTP API serves them. A row whose verb
 * and handler are NULL gives its noun's summary. */
#include "ops_internal.h"
#include "radlink/users.h"

#define END { 0 }
#define LIMIT(def_text, max)                                                                    \
    { "limit", OPT_U64, 0, "N", "at most N rows (default " def_text ")", 1, max,                \
      .web_max = RL_API_LIST_MAX }

static const char *const msg_states[] = { "accepted", "error", "rejected", "duplicate", NULL };
static const char *const queue_states[] = { "pending", "parked", NULL };
static const char *const job_states[] = { "pending", "running", "failed", "done",
                                          "dead", "unverified", NULL };
static const char *const study_states[] = { "new", "matched", "unmatched", "correcting",
                                            "corrected", "unverified", "forwarded", NULL };
static const char *const roles[] = { "viewer", "operator", "admin", NULL };

/* ---- msg ---- */

#define MSG_FILTERS                                                                            \
    { "since", OPT_SINCE, 0, "WHEN", "from a time: 2026-11-23, 2026-11-23T10:15, or an age: "   \
      "30s,\n10m, 2h, 3d" },                                                                  \
    { "type", OPT_STR, 0, "PATTERN", "MSH-9, e.g. ORM^O01, ADT^A0*, ORU" },                      \
    { "until", OPT_SINCE, 0, "WHEN", "received before a time or an age (as --since)" },       \
    { "status", OPT_CHOICE, 0, "S", "accepted, error, rejected or duplicate", .choices = msg_states }, \
    { "patient", OPT_STR, 0, "ID", "a patient: ID (any authority) or 'ID^^^AUTHORITY', in\n"    \
      "PID-3 (any repetition) or MRG-1" },                                                    \
    { "accession", OPT_STR, 0, "NUMBER", "an order: OBR-18, ORC-2/3, OBR-2/3 or IPC-1" },      \
    { "name", OPT_STR, 0, "NAME", "a patient's name: DOE (the family), 'DOE^JANE', 'DOE^J*';\n" \
      "case and accents do not matter" },                                                     \
    { "sender", OPT_STR, 0, "APP[/FAC]", "MSH-3, and MSH-4 after a /" },                       \
    { "study", OPT_STR, 0, "UID", "a Study Instance UID (ZDS-1, IPC-3)" }

static const op_arg msg_list_args[] = {
    MSG_FILTERS,
    LIMIT("50", 100000000),
    { "before", OPT_U64, 0, "SEQ", "only messages before this one (where a page ends)", 1,
      UINT64_MAX },
    { "search", OPT_STR, 0, "PATH=VALUE", "as 'msg search' does", .key = "q" },
    END,
};
static const op_arg msg_search_args[] = {
    { "PATH=VALUE", OPT_STR, OPA_POS },
    MSG_FILTERS,
    LIMIT("50", 100000000),
    { "before", OPT_U64, 0, "SEQ", "only messages before this one (where a page ends)", 1,
      UINT64_MAX },
    END,
};
static const op_arg seq_arg[] = {
    { "SEQ", OPT_U64, OPA_POS | OPA_REQUIRED, NULL, NULL, 1, UINT64_MAX },
    END,
};
static const op_arg msg_replay_args[] = {
    { "SEQ", OPT_U64, OPA_POS | OPA_REQUIRED, NULL, NULL, 1, UINT64_MAX },
    { "routes", OPT_FILE, 0, "FILE", "these routes (default: the routes the engine on --data "
      "runs,\nas it loaded them, even if the file changed since)" },
    { "quiet", OPT_FLAG, 0, NULL, "no route trace" },
    { "dry-run", OPT_FLAG, 0, NULL, "what the replay would do and answer; nothing is kept" },
    END,
};

/* ---- trace ---- */

static const op_arg trace_args[] = {
    { "ACCESSION", OPT_STR, OPA_POS },
    { "patient", OPT_STR, 0, "ID", "a patient's story (PID-3, MRG-1, the worklist, studies)" },
    { "study", OPT_STR, 0, "UID", "a study's story (and its order's)" },
    END,
};

/* ---- queue ---- */

static const op_arg queue_list_args[] = {
    { "dest", OPT_STR, 0, "NAME", "one destination's queue" },
    { "state", OPT_CHOICE, 0, "S", "pending or parked", .choices = queue_states },
    LIMIT("1000", 100000000),
    { "offset", OPT_U64, 0, "N", "skip the first N", 0, UINT64_MAX },
    END,
};
static const op_arg queue_retry_args[] = {
    { "DEST", OPT_STR, OPA_POS | OPA_REQUIRED },
    { "QSEQ", OPT_U64, OPA_POS, NULL, NULL, 1, UINT64_MAX, .alt = "all" },
    { "all", OPT_FLAG, 0, NULL, "every parked message of DEST" },
    END,
};
static const op_arg routes_reload_args[] = {
    { "FILE", OPT_FILE, OPA_POS, NULL, "the route file to switch to (default: the active one)" },
    END,
};
static const op_arg pacs_check_args[] = { { "AE", OPT_STR, OPA_POS | OPA_REQUIRED }, END };
static const op_arg queue_park_args[] = {
    { "DEST", OPT_STR, OPA_POS | OPA_REQUIRED },
    { "QSEQ", OPT_U64, OPA_POS | OPA_REQUIRED, NULL, NULL, 1, UINT64_MAX },
    END,
};

/* ---- jobs ---- */

static const char *const job_kinds[] = { "study", "prefetch", NULL };
static const op_arg jobs_list_args[] = {
    { "state", OPT_CHOICE, 0, "S", "pending, running, failed, done, dead or unverified",
      .choices = job_states },
    { "kind", OPT_CHOICE, 0, "K", "study (send and verify a study) or prefetch (an order's "
      "priors)", .choices = job_kinds },
    { "limit", OPT_U64, 0, "N", "at most N jobs (default: all; the API: 100)", 1, UINT64_MAX,
      .web_max = RL_API_LIST_MAX },
    { "from", OPT_U64, 0, "ID", "from this job on (where a page ends)", 1, UINT64_MAX },
    { "wide", OPT_FLAG, 0, NULL, "each result or error whole (else cut at 100 bytes; jobs\n"
      "show ID prints one whole)" },
    END,
};
static const op_arg jobs_show_args[] = {
    { "ID", OPT_U64, OPA_POS | OPA_REQUIRED, NULL, NULL, 1, UINT64_MAX },
    END,
};
static const op_arg jobs_retry_args[] = {
    { "ID", OPT_U64, OPA_POS, NULL, NULL, 1, UINT64_MAX, .alt = "dead" },
    { "dead", OPT_FLAG, 0, NULL, "every dead job" },
    END,
};

/* ---- recon ---- */

static const op_arg recon_list_args[] = {
    { "unmatched", OPT_FLAG, 0, NULL, "only the exception list: studies no order was found "
      "for,\nwith the orders found (CND) and how long each waited (AGE)" },
    { "reports", OPT_FLAG, 0, NULL, "the reports waiting for their study, or held\n(neither "
      "their order nor their study known), instead" },
    { "state", OPT_CHOICE, 0, "S", "new, matched, unmatched, correcting, corrected,\n"
      "unverified or forwarded", .choices = study_states },
    { "limit", OPT_U64, 0, "N", "at most N studies (default: all; the API: 100)", 1,
      UINT64_MAX, .web_max = RL_API_LIST_MAX },
    { "offset", OPT_U64, 0, "N", "skip the first N", 0, UINT64_MAX },
    END,
};
static const op_arg study_arg[] = {
    { "STUDY-UID", OPT_STR, OPA_POS | OPA_REQUIRED },
    END,
};
static const op_arg recon_link_args[] = {
    { "STUDY-UID", OPT_STR, OPA_POS | OPA_REQUIRED },
    { "ACCESSION", OPT_STR, OPA_POS | OPA_REQUIRED, .key = "accession" },
    { "force", OPT_FLAG, 0, NULL, "link although the study's modality is not the order's" },
    END,
};

/* ---- wl ---- */

static const op_arg wl_list_args[] = {
    { "date", OPT_STR, 0, "D", "start date: 20261124, or a range 20261101-20261130, 20261124-" },
    { "ae", OPT_STR, 0, "AE", "scheduled station AE title", .key = "station" },
    { "modality", OPT_STR, 0, "M", "modality (CT, MR...)" },
    { "patient", OPT_STR, 0, "ID", "patient ID" },
    { "limit", OPT_U64, 0, "N", "at most N rows (default 1000; the API: 100)", 1, 100000000,
      .web_max = RL_API_LIST_MAX },
    END,
};
static const op_arg accession_arg[] = {
    { "ACCESSION", OPT_STR, OPA_POS | OPA_REQUIRED },
    END,
};
static const op_arg wl_put_args[] = {
    { "replace", OPT_FLAG },
    { "dry-run", OPT_FLAG },
    { "ENTRY", OPT_STR, OPA_POS | OPA_REQUIRED | OPA_REST },
    END,
};

/* ---- mpps, audit ---- */

static const op_arg mpps_list_args[] = {
    { "unmatched", OPT_FLAG, 0, NULL, "only the exception list: steps naming nothing on the "
      "worklist" },
    END,
};
static const op_arg sop_arg[] = {
    { "SOP-INSTANCE-UID", OPT_STR, OPA_POS | OPA_REQUIRED },
    END,
};
static const op_arg audit_list_args[] = {
    { "since", OPT_SINCE, 0, "WHEN", "from a time: 2026-11-23, 2026-11-23T10:15, or an age: 30m, "
      "2h, 3d" },
    { "type", OPT_STR, 0, "EVENT", "one event: its DCM code (110112) or name (query, 'order "
      "record',\n'patient record', 'procedure record', 'security alert', ...)" },
    { "patient", OPT_STR, 0, "ID", "the events about this patient ID" },
    { "limit", OPT_U64, 0, "N", "at most N events (default 100)", 1, 100000000,
      .web_max = RL_API_LIST_MAX },
    { "xml", OPT_FLAG, 0, NULL, "each event as the PS3.15 AuditMessage the collector gets" },
    END,
};

/* ---- user ---- */

#define USER_FILE                                                                              \
    { "data", OPT_STR, OPA_LOCAL, "DIR", "data directory: the users file is DIR/users" },       \
    { "config", OPT_STR, OPA_LOCAL, "FILE", "the configuration whose <http users> names the "  \
      "file" }
#define PASSWORD                                                                               \
    { "password", OPT_SECRET, 0, NULL, NULL },                                                 \
    { "password-stdin", OPT_FLAG, OPA_LOCAL, NULL, "read the password as one line from stdin" }

static const op_arg user_add_args[] = {
    { "NAME", OPT_STR, OPA_POS | OPA_REQUIRED, .key = "name" },
    { "role", OPT_CHOICE, OPA_REQUIRED, "ROLE", "viewer (reads), operator (retries, parks, "
      "links, replays) or\nadmin (also reloads routes and manages users)", .choices = roles },
    PASSWORD, USER_FILE, END,
};
static const op_arg user_passwd_args[] = {
    { "NAME", OPT_STR, OPA_POS | OPA_REQUIRED, .key = "name" },
    PASSWORD, USER_FILE, END,
};
static const op_arg user_name_args[] = {
    { "NAME", OPT_STR, OPA_POS | OPA_REQUIRED, .key = "name" },
    USER_FILE, END,
};
static const op_arg user_file_args[] = { USER_FILE, END };

/* ---- hl7 decide, routes ---- */

static const op_arg decide_args[] = {
    { "trace", OPT_FLAG },
    { "raw", OPT_FLAG },
    { "routes", OPT_FILE, 0, "FILE" },
    { "MESSAGE", OPT_STR, OPA_POS | OPA_REQUIRED },
    END,
};
static const op_arg none[] = { END };

#define GET(p) { "GET", p, NULL }
#define POST(p) { "POST", p, NULL }

const op_verb ops_verbs[] = {
    { "msg", .summary = "the message log: list, show, search, replay" },
    { "msg", "list", msg_list_args, USERS_VIEWER, OP_READS | OP_DATA,
      "list logged messages (newest last)", .run = ops_msg_list,
      .http = { GET("/api/messages") } },
    { "msg", "show", seq_arg, USERS_VIEWER, OP_READS | OP_DATA,
      "show one logged message: outcome, raw text, tree and the ACK sent",
      .run = ops_msg_show, .http = { GET("/api/messages/{SEQ}") } },
    { "msg", "search", msg_search_args, 0, OP_READS | OP_DATA,
      "find logged messages by patient, order, name, study, sender, type or PATH=VALUE",
      "Several filters together: messages that match them all, newest first. The\n"
      "indexes answer --patient, --accession, --name, --study, --sender, --type and a\n"
      "PATH=VALUE on PID-3, MRG-1, PID-5, OBR-2/3/18, ORC-2/3, IPC-1/3, ZDS-1, MSH-9\n"
      "and MSH-10; any other PATH reads the whole log, and says so on stderr.\n"
      "VALUE may hold the wildcards * and ?; every repetition is compared, decoded;\n"
      "duplicates are skipped. A full page says on stderr where the next starts\n"
      "(--before). Exit status 1 when nothing matches.\n",
      "expected at most one PATH=VALUE", ops_msg_search },
    { "msg", "replay", msg_replay_args, USERS_OPERATOR,
      OP_WRITES | OP_ROUTES | OP_RESULT | OP_DATA | OP_AUDITED,
      "run a logged message through the routes again, as a new log entry",
      "Its effects (forwards, worklist...) happen as for a received message; the\n"
      "engine's senders deliver the forwards. Exit status 1 if the routes refuse it.\n",
      "expected one message number (SEQ)", ops_msg_replay,
      .http = { POST("/api/messages/{SEQ}/replay") } },

    { "trace", NULL, trace_args, USERS_VIEWER, OP_READS | OP_DATA,
      "the story of an order, a patient or a study, in time order",
      "Every record that names it: HL7 messages (type, outcome, ACK, routing), worklist\n"
      "entries, MPPS, studies received and their reconciliation, jobs with each\n"
      "attempt, reports, prefetches and (for an administrator) the audit events about\n"
      "the patient. RECORD says where to look further (msg show, wl show, recon show,\n"
      "jobs show, mpps show, audit show). Exit status 1 when nothing names it.\n",
      "expected at most one ACCESSION", ops_trace,
      .http = { GET("/api/trace/{ACCESSION}"), GET("/api/trace") } },

    { "queue", .summary = "outbound queues: list, retry, park" },
    { "queue", "list", queue_list_args, USERS_VIEWER, OP_READS | OP_DATA,
      "list queued messages per destination", .run = ops_queue_list,
      .http = { GET("/api/queues") } },
    { "queue", "retry", queue_retry_args, USERS_OPERATOR, OP_WRITES | OP_DATA | OP_AUDITED,
      "put a parked message (or all of a destination's) back in the queue, now",
      .usage = "expected DEST QSEQ, or DEST --all", .run = ops_queue_retry,
      .http = { POST("/api/queues/{DEST}/{QSEQ}/retry"),
                { "POST", "/api/queues/{DEST}/retry-all", "--all" } } },
    { "queue", "park", queue_park_args, USERS_OPERATOR, OP_WRITES | OP_DATA | OP_AUDITED,
      "take a pending message out of line (it stays, parked, until retried)",
      .usage = "expected DEST QSEQ", .run = ops_queue_park,
      .http = { POST("/api/queues/{DEST}/{QSEQ}/park") } },

    { "jobs", .summary = "correction and forwarding jobs: list, show, retry" },
    { "jobs", "list", jobs_list_args, USERS_VIEWER, OP_READS | OP_DATA,
      "every job, oldest first", .run = ops_jobs_list, .http = { GET("/api/jobs") } },
    { "jobs", "show", jobs_show_args, USERS_VIEWER, OP_READS | OP_DATA, "one job",
      .usage = "expected one job ID", .run = ops_jobs_show, .http = { GET("/api/jobs/{ID}") } },
    { "jobs", "retry", jobs_retry_args, USERS_OPERATOR, OP_WRITES | OP_DATA | OP_AUDITED,
      "put a dead, unverified (or failed) job back in line, now",
      .usage = "expected a job ID, or --dead", .run = ops_jobs_retry,
      .http = { POST("/api/jobs/{ID}/retry"), { "POST", "/api/jobs/retry-dead", "--dead" } } },

    { "recon", .summary = "reconciliation of received studies: list, show, link, forward" },
    { "recon", "list", recon_list_args, USERS_VIEWER, OP_READS | OP_DATA,
      "received studies and how they compare with the RIS", .run = ops_recon_list,
      .http = { GET("/api/recon"), { "GET", "/api/recon/unmatched", "--unmatched" },
                { "GET", "/api/recon/reports", "--reports" } } },
    { "recon", "show", study_arg, USERS_VIEWER, OP_READS | OP_DATA,
      "one study: its headers, the order it matched, each discrepancy, its instances",
      .run = ops_recon_show, .http = { GET("/api/recon/{STUDY-UID}") } },
    { "recon", "link", recon_link_args, USERS_OPERATOR, OP_WRITES | OP_DATA | OP_AUDITED,
      "match a study to an order by hand (then its headers are compared with it)",
      .run = ops_recon_link, .http = { POST("/api/recon/{STUDY-UID}/link") } },
    { "recon", "forward", study_arg, USERS_OPERATOR, OP_WRITES | OP_DATA | OP_AUDITED,
      "send a study no order claims to the PACS as it is", .run = ops_recon_forward,
      .http = { POST("/api/recon/{STUDY-UID}/forward") } },

    { "wl", .summary = "the Modality Worklist: list, show, export, import" },
    { "wl", "list", wl_list_args, USERS_VIEWER, OP_READS | OP_DATA,
      "list worklist entries (by start date and time within an index)",
      "Values may use the DICOM wildcards * and ?.\n", .run = ops_wl_list,
      .http = { GET("/api/worklist") } },
    { "wl", "show", accession_arg, USERS_VIEWER, OP_READS | OP_DATA,
      "every attribute of the entries of one accession number", .run = ops_wl_show,
      .http = { GET("/api/worklist/{ACCESSION}") } },
    { "wl", "put", wl_put_args, 0, OP_WRITES | OP_DATA | OP_HIDDEN,
      "take worklist entries (wl_encode's bytes in lowercase hex), from `wl import`",
      .run = ops_wl_put },

    { "mpps", .summary = "Modality Performed Procedure Steps: list, show" },
    { "mpps", "list", mpps_list_args, USERS_VIEWER, OP_READS | OP_DATA,
      "the performed procedure steps modalities reported, and the worklist steps they "
      "performed", .run = ops_mpps_list, .http = { GET("/api/mpps") } },
    { "mpps", "show", sop_arg, USERS_VIEWER, OP_READS | OP_DATA,
      "one performed procedure step: its state, worklist steps and data set",
      .run = ops_mpps_show, .http = { GET("/api/mpps/{SOP-INSTANCE-UID}") } },

    { "audit", .summary = "the audit trail (IHE ATNA, DICOM PS3.15): list, show" },
    { "audit", "list", audit_list_args, USERS_ADMIN, OP_READS | OP_DATA,
      "the audit trail, oldest first: who did what to which patient's data",
      .run = ops_audit_list, .http = { GET("/api/audit") } },
    { "audit", "show", seq_arg, USERS_ADMIN, OP_READS | OP_DATA,
      "one event as its PS3.15 AuditMessage XML", .run = ops_audit_show,
      .http = { GET("/api/audit/{SEQ}") } },

    { "user", .summary = "the web console's users: add, passwd, set, del, list" },
    { "user", "add", user_add_args, 0, OP_LOCAL,
      "add a console user; the password is read from the terminal or stdin",
      .usage = "expected one user NAME", .run = ops_user_change },
    { "user", "passwd", user_passwd_args, 0, OP_LOCAL, "set a console user's password",
      .usage = "expected one user NAME", .run = ops_user_change },
    { "user", "set", user_add_args, USERS_ADMIN, OP_LOCAL | OP_AUDITED,
      "add a console user, or give one a new role and password",
      .usage = "expected one user NAME", .run = ops_user_change,
      .http = { POST("/api/users") } },
    { "user", "del", user_name_args, USERS_ADMIN, OP_LOCAL | OP_AUDITED,
      "remove a console user", .usage = "expected one user NAME", .run = ops_user_change,
      .http = { { "DELETE", "/api/users/{NAME}", NULL } } },
    { "user", "list", user_file_args, USERS_ADMIN, OP_LOCAL, "list the console's users",
      .run = ops_user_list, .http = { GET("/api/users") } },

    { "routes", "show", none, USERS_VIEWER, OP_READS | OP_DATA,
      "the route file the engine runs: its checksum, when it was loaded, the last reload",
      .run = ops_routes_show, .http = { GET("/api/routes") } },
    { "routes", "reload", routes_reload_args, USERS_ADMIN, OP_ENGINE | OP_DATA | OP_AUDITED,
      "make the running engine load its route file again (as SIGHUP does), or switch to FILE",
      "Asks the engine over its control socket and prints its answer. The active\n"
      "file is <routes file> of the configuration (or --routes at start; else the\n"
      "built-in routes/default.xml) until FILE switches it; a switch lasts until\n"
      "the engine restarts, so set <routes file> to keep it. FILE is checked whole\n"
      "first: a file with errors is not taken, the running routes stay, the errors\n"
      "are printed and the exit status is 1. `radlink status` and the audit trail\n"
      "record each reload and switch.\n", .run = ops_routes_reload, .engine = OPE_RELOAD,
      .http = { POST("/api/routes/reload") } },

    { "retention", .summary = "what the engine removes, by age and size: run" },
    { "retention", "run", none, USERS_ADMIN, OP_ENGINE | OP_DATA | OP_AUDITED,
      "remove now what <retention> says goes, pass after pass, and say how much went",
      "The engine runs retention every <retention every> by itself; this runs it at\n"
      "once, until nothing more is due, each pass in a transaction of its own\n"
      "between two turns. The counts since the engine started are in 'radlink\n"
      "status' and /metrics (radlink_retention_removed_total).\n",
      .run = ops_no_engine, .engine = OPE_RETENTION,
      .http = { POST("/api/retention/run") } },

    { "pacs", .summary = "a PACS or DICOM node of the configuration: check what it allows" },
    { "pacs", "check", pacs_check_args, USERS_OPERATOR, OP_LOCAL | OP_DATA | OP_RESULT,
      "ask a PACS what radlink needs of it: C-ECHO, storage commitment, C-FIND at study and "
      "image level (TLS when configured); the remedy for each refusal, and the verify= that "
      "suits it",
      "AE is a <pacs> or <node> of --config (else of the configuration the engine on\n"
      "--data started with); radlink calls it with its AE title. It sends no images\n"
      "(a commitment request names an instance the PACS does not hold: its report, a\n"
      "failure, goes to the engine's listener). Exit 0 when it allows all of it.\n",
      .run = ops_pacs_check, .http = { GET("/api/pacs/{AE}/check") } },

    { "alerts", .summary = "alerts that reach a person: what fires now" },
    { "alerts", "list", none, USERS_VIEWER, OP_READS | OP_DATA,
      "the alerts firing (and holding) now, and notifications not yet delivered",
      "The rules are <alerts><rule> in the configuration; `radlink alerts test`\n"
      "sends a test notification through every channel.\n",
      .run = ops_alerts_list, .http = { GET("/api/alerts") } },

    { "status", NULL, none, 0, OP_LOCAL | OP_DATA,
      "engine state: running or not, active routes (checksum, load time), queues, "
      "workers and senders", .run = ops_status, .engine = OPE_STATUS },

    /* asked by radlink itself */
    { "hl7", "decide", decide_args, 0, OP_WRITES | OP_ROUTES | OP_RESULT | OP_DATA | OP_HIDDEN,
      "the ACK the engine would send for one message (in hex); nothing is kept",
      .run = ops_hl7_decide },
    { "metrics", NULL, none, 0, OP_ENGINE | OP_HIDDEN, "what only the loop knows, for /metrics",
      .run = ops_no_engine, .engine = OPE_METRICS },
    { "health", NULL, none, 0, OP_ENGINE | OP_HIDDEN, "status 0 when the engine serves",
      .run = ops_no_engine, .engine = OPE_HEALTH },
    { "destinations", NULL, none, 0, OP_ENGINE | OP_HIDDEN, "every destination's name",
      .run = ops_no_engine, .engine = OPE_DESTINATIONS },
    { "facts", NULL, none, 0, OP_ENGINE | OP_HIDDEN, "what only the loop knows, for the alert "
      "rules", .run = ops_no_engine, .engine = OPE_FACTS },
    END,
};
