/* The engine's configuration: embedded defaults, the XML config file on top,
 * command-line flags on top of that. The struct is plain data owned by the
 * caller; cfg_load never keeps pointers into the XML document. */
#ifndef RADLINK_CFG_H
#define RADLINK_CFG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "radlink/dicom.h"
#include "radlink/limits.h"
#include "radlink/route.h"
#include "radlink/util.h"

#define CFG_PATH RL_CFG_PATH_MAX
#define CFG_MAX_LISTENERS RL_MAX_LISTENERS
#define CFG_MAX_DESTS RL_MAX_DESTS

typedef struct cfg_listener {
    char bind[64];
    unsigned port;
    bool tls;
    char cert[CFG_PATH], key[CFG_PATH], ca[CFG_PATH];
    bool verify_client;
} cfg_listener;

/* A DICOM node studies go to, and how it takes corrections (radlink/job.h):
 * a <pacs> (every instance no DICOM route takes goes to every PACS), or a
 * <node> (only what DICOM routes send it). */
typedef struct cfg_pacs {
    char ae[17], host[256];
    bool node;                 /* <node>: routes only */
    unsigned port;
    unsigned update;           /* pacs_update */
    unsigned verify;           /* pacs_verify */
    unsigned reject;           /* pacs_reject */
    unsigned commit_timeout_s; /* how long a storage commitment report is awaited */
    unsigned associations;     /* a study is sent over up to this many at once */
    char hl7_dest[64];         /* update="hl7": the <destination> of its HL7 listener */
    bool mpps;                 /* the modalities' MPPS N-CREATE/N-SET are forwarded to it */
    dicom_tls tls;             /* <tls> under <pacs>: radlink's associations to it use TLS */
    unsigned retrieve;         /* as an archive priors come from: CFG_RETRIEVE_MOVE (it
                                * moves them to the destination) or _GET (radlink fetches
                                * them and sends them on) */
    unsigned query_timeout_s;  /* how long each C-FIND answer or retrieve response may take */
    unsigned max_answers;      /* a patient's studies considered from its C-FIND answer */
} cfg_pacs;
enum { CFG_RETRIEVE_MOVE = 0, CFG_RETRIEVE_GET = 1 };

/* <retention messages messages-max-mb worklist jobs spool audit every>: durations in
 * seconds (0 = kept forever), a size in MiB (0 = no limit). */
typedef struct cfg_retention {
    uint32_t messages_s, worklist_s, jobs_s, spool_s, audit_s;
    uint64_t messages_max_mb;
    uint32_t every_s; /* how often a pass starts */
} cfg_retention;

/* <alerts every repeat host-name> with its channels (<email>, <webhook>,
 * <syslog>) and <rule> elements (radlink/alert.h says what each watches). */
typedef struct cfg_alert_rule {
    unsigned on;        /* alert_on */
    uint64_t over;      /* a count, or a percentage (store-use, disk-use) */
    uint32_t older_s;   /* queue-age, unmatched, waiting-reports, audit-down */
    uint32_t within_s;  /* certificate */
    uint32_t for_s;     /* the condition holds this long before it fires */
    uint32_t repeat_s;  /* 0: the <alerts repeat> */
    char destination[64]; /* queue-depth, queue-age, parked: one destination ("": each) */
} cfg_alert_rule;

typedef struct cfg_alerts {
    uint32_t every_s, repeat_s;
    char host_name[256]; /* how mails name this engine ("": the host's name) */
    struct {
        char url[512];   /* smtp://host:587 (STARTTLS), smtps://host:465; "": no mail */
        char from[256], to[1024]; /* to: addresses separated by commas */
        char user[256], password_file[CFG_PATH], ca[CFG_PATH];
        unsigned tls;    /* ALERT_TLS_*: required (default), try, none */
    } email;
    struct {
        char url[1024];  /* https://...; "": no webhook */
        char ca[CFG_PATH], token_file[CFG_PATH];
    } webhook;
    struct {
        bool on;
        char socket[108]; /* the local syslog socket (default /dev/log) */
        unsigned facility; /* index of alert_facilities */
    } syslog;
    cfg_alert_rule rules[32];
    unsigned n_rules;
} cfg_alerts;

typedef struct cfg {
    char source[CFG_PATH]; /* the file loaded, or "embedded default" */
    char data_dir[CFG_PATH];
    bool data_dir_from_file; /* <data dir> of the file (a missing one needs serve --init) */
    bool init;               /* serve --init: make a missing data directory */
    bool reindex;            /* serve --reindex: build the message indexes again */
    int log_level;
    cfg_listener mllp[CFG_MAX_LISTENERS];
    unsigned n_mllp;
    size_t max_frame;
    unsigned max_connections;
    unsigned max_per_address;   /* MLLP connections from one client address */
    uint64_t max_buffered_mb;   /* memory all MLLP frames in flight may take */
    unsigned idle_timeout_s, read_timeout_s;
    unsigned mllp_stress_timeout_s;                /* unidentified, under pressure */
    char mllp_allow_from[RL_ALLOW_FROM_TEXT_MAX];  /* addresses and blocks; "" = any */
    uint64_t map_size_mb;   /* LMDB map size at start */
    uint64_t max_map_size_mb; /* the map grows itself up to this */
    cfg_retention retention;
    bool group_commit;      /* one commit per loop turn (false: one per message, for measuring) */
    unsigned dedup_window_s; /* retransmissions within this window are not applied again */
    bool hl7_strict;         /* <hl7 strict>: senders' habits refused (radlink/ingest.h) */
    /* the DICOM listener (Modality Worklist SCP); port 0 = none */
    unsigned dicom_port;
    char dicom_bind[64];       /* "" or "*": every address */
    dicom_tls dicom_tls;       /* <tls> under <dicom>: the TLS listener */
    unsigned dicom_assoc_timeout_s, dicom_max_per_address;
    unsigned dicom_max_connections;  /* held before their association request */
    unsigned dicom_stress_timeout_s; /* the association request's, under pressure */
    char dicom_allow_from[RL_ALLOW_FROM_TEXT_MAX];
    char dicom_ae[17];
    char dicom_allowed[RL_DICOM_ALLOW_MAX][17]; /* calling AE titles; none = open */
    unsigned n_dicom_allowed;
    unsigned dicom_max_associations, dicom_max_responses, dicom_timeout_s;
    bool dicom_icase_names;
    char dicom_mwl_hide[64]; /* SPS statuses left out of C-FIND answers */
    bool dicom_refuse_duplicates; /* a SOP Instance UID received again: refuse (else replace) */
    cfg_pacs pacs[RL_MAX_PACS]; /* where studies go: <pacs> and <node>, in file order */
    unsigned n_pacs;            /* of both */
    /* studies no order claims: held on the exception list; with
     * unmatched_forward_s, sent as they are once that old (0: never) */
    unsigned unmatched_forward_s;
    unsigned workers;          /* local worker processes radlink serve runs */
    unsigned job_attempts;     /* then a job is dead */
    unsigned worker_timeout_s; /* a worker silent this long is lost */
    unsigned study_stable_s;   /* a study's job waits this long after its last instance */
    char jobs_listen[256];     /* tcp endpoint for remote workers ("" = none) */
    char jobs_key_file[CFG_PATH];
    char worker_keys[RL_WORKER_KEYS_MAX][41];
    unsigned n_worker_keys;
    char routes_file[CFG_PATH]; /* "" = the embedded routes/default.xml */
    route_dest dests[CFG_MAX_DESTS]; /* <destinations>: offered to every route file */
    char inbox_dir[CFG_PATH]; /* <inbox dir>: the file drop ("" = none) */
    bool standby;             /* serve --standby: wait for the data directory's lock, then serve */
    char run_user[64];        /* serve --user: run as this user, not root ("" = as started) */
    unsigned inbox_poll_s;    /* <inbox poll>: how often it is scanned besides inotify */
    /* <audit site><syslog host port ca cert key server-name/></audit>: the
     * collector the audit trail is shipped to over syslog TLS (RFC 5425);
     * host "" = kept in the store only */
    struct {
        char site[64];
        char host[256], server_name[256];
        unsigned port;
        char ca[CFG_PATH], cert[CFG_PATH], key[CFG_PATH];
    } audit;
    unsigned n_dests;
    /* <http bind port users max-connections session-idle lockout-failures lockout>
     * with an optional <tls>: metrics, health, the JSON API and the console
     * (port 0 = none) */
    struct {
        cfg_listener l;
        char users[CFG_PATH]; /* the users file ("" = DATA/users) */
        unsigned max_connections, lockout_failures;
        unsigned session_idle_s, lockout_s; /* durations: "30m", "90s" */
        unsigned stress_timeout_s;          /* the first request's, under pressure */
        char allow_from[RL_ALLOW_FROM_TEXT_MAX];
    } http;
    cfg_alerts alerts;
} cfg;

/* ---- the keys ----
 *
 * Every element and attribute of the file is one row of one table
 * (engine/cfg/keys.c), as nginx declares its directives (ngx_command_t:
 * name, type, setter, offset): the walk reads the file by it, cfg_defaults
 * and cfg_print take defaults and names from it, and a test holds the
 * configuration reference (docs/configuration.md) and the schema to it. */

typedef enum cfg_type {
    CFG_ELEM,     /* the element itself (attr NULL): how many, where its rows land */
    CFG_STR,      /* text up to the field's size - 1; longer is an error */
    CFG_STR_CUT,  /* text cut at the field's size - 1 (<dicom mwl-hide>, as it always was) */
    CFG_HOST,     /* a host name or address, bind addresses too */
    CFG_AE,       /* a DICOM AE title (PS3.5: 16 characters; the schema checks them) */
    CFG_PORT,     /* a TCP port: min to 65535 */
    CFG_LISTEN,   /* a listener's port: min to 65535, or "auto" (RL_PORT_AUTO) */
    CFG_UINT,     /* a number min..max */
    CFG_MIB,      /* a size in MiB, min..max */
    CFG_DURATION, /* seconds written "90s", "30m", "4h", "2d", "1h30m" or "90"; min..max */
    CFG_BOOL,     /* xs:boolean: "true" or "1" is true */
    CFG_ENUM,     /* one of names; the field holds its index */
    CFG_FILE,     /* a file or directory, resolved by the row's rule */
} cfg_type;

/* How a relative path is resolved (today both exist; each row says which). */
typedef enum cfg_path_rule {
    CFG_PATH_CONFIG,  /* relative to the configuration file's directory */
    CFG_PATH_WAS_CWD, /* the same, but earlier releases took it relative to the
                       * working directory: where only that names something that
                       * exists it is kept, with a warning */
} cfg_path_rule;

/* The walk's state: the file, its errors, the configuration being built. */
typedef struct cfg_walk cfg_walk;

/* An element opens: where its rows land (parent is where its parent's
 * rows land, i its position among its like-named siblings, below the row's
 * max). NULL: nothing more to read there (the setter read the element
 * itself, or said why not). node is the xmlNode*. */
typedef void *cfg_open_fn(cfg_walk *w, const void *node, void *parent, unsigned i);
/* An element's checks, once its rows and children are read. */
typedef void cfg_check_fn(cfg_walk *w, const void *node, void *base);
/* An attribute with a setter of its own (the value already passed its type). */
struct cfg_key;
typedef void cfg_set_fn(cfg_walk *w, const void *node, const struct cfg_key *k, const char *value,
                        void *base);

typedef struct cfg_key {
    const char *elem;         /* element path below <radlink>, '/'-separated: "mllp/listen/tls" */
    const char *attr;         /* the attribute; NULL: the element's own row */
    cfg_type type;
    uint64_t min, max;        /* numbers, ports, durations; an element: at most max of it */
    const char *const *names; /* CFG_ENUM: its values, NULL-terminated */
    cfg_path_rule rule;       /* CFG_FILE */
    const char *hint;         /* CFG_DURATION: the examples its error message gives */
    size_t off, size;         /* the field, in the struct its element (or the nearest that
                               * opens one; cfg at the top) gives */
    uint64_t def;             /* default of a number, duration, bool or enum (its index) */
    const char *def_text;     /* default of a text (fields start zeroed: NULL is "") */
    cfg_open_fn *open;        /* element: where its rows land (NULL: where its parent's do) */
    cfg_check_fn *check;      /* element: checks after it is read */
    cfg_set_fn *set;          /* attribute: its own setter instead of the type's */
    const char *doc;          /* one line for people */
} cfg_key;

/* The table, in the order the walk reads an element's attributes. Static
 * data: valid for the life of the process. */
const cfg_key *cfg_keys(size_t *n);
/* The row of elem (a path as above) and attr (NULL: the element), or NULL. */
const cfg_key *cfg_key_find(const char *elem, const char *attr);

/* Fill c with the embedded default (data ./var, MLLP 127.0.0.1:2575): the
 * rows' defaults, and one MLLP listener until the file names its own. */
void cfg_defaults(cfg *c);
/* Load path over the defaults already in c. On failure c is unchanged, every
 * error is appended to errors as "path:line: message" and -1 is returned. */
int cfg_load(cfg *c, const char *path, rl_buf *errors);
/* What cfg_load does after the schema: walk doc (an xmlDoc*, borrowed) by
 * the table, then the checks between keys. path names the file in messages
 * and is the directory CFG_PATH_CONFIG resolves against. Same contract as
 * cfg_load; tests call it to reach checks the schema makes first. */
int cfg_load_doc(cfg *c, const void *doc, const char *path, rl_buf *errors);
/* Print the effective configuration, one key=value per line. */
void cfg_print(const cfg *c, void *file /* FILE* */);

/* What a route file is loaded with under this configuration: its
 * <destinations>, the DICOM nodes a <send> may name (nodes: room for
 * RL_MAX_PACS, used while o is) and the DICOM dictionary dict (the
 * adapter's dicom_dict; NULL refuses <dicom-routes>). */
void cfg_route_opts(const cfg *c, route_load_opts *o, const char **nodes,
                    const struct route_dicom_dict *dict);

#endif
