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

/* A PACS studies go to, and how it takes corrections (radlink/job.h). */
typedef struct cfg_pacs {
    char ae[17], host[256];
    unsigned port;
    unsigned update;           /* pacs_update */
    unsigned verify;           /* pacs_verify */
    unsigned reject;           /* pacs_reject */
    unsigned commit_timeout_s; /* how long a storage commitment report is awaited */
    char hl7_dest[64];         /* update="hl7": the <destination> of its HL7 listener */
    bool mpps;                 /* the modalities' MPPS N-CREATE/N-SET are forwarded to it */
    dicom_tls tls;             /* <tls> under <pacs>: radlink's associations to it use TLS */
} cfg_pacs;

/* <retention messages messages-max-mb worklist jobs spool audit every>: durations in
 * seconds (0 = kept forever), a size in MiB (0 = no limit). */
typedef struct cfg_retention {
    uint32_t messages_s, worklist_s, jobs_s, spool_s, audit_s;
    uint64_t messages_max_mb;
    uint32_t every_s; /* how often a pass starts */
} cfg_retention;

typedef struct cfg {
    char source[CFG_PATH]; /* the file loaded, or "embedded default" */
    char data_dir[CFG_PATH];
    int log_level;
    cfg_listener mllp[CFG_MAX_LISTENERS];
    unsigned n_mllp;
    size_t max_frame;
    unsigned max_connections;
    unsigned max_per_address;   /* MLLP connections from one client address */
    uint64_t max_buffered_mb;   /* memory all MLLP frames in flight may take */
    unsigned idle_timeout_s, read_timeout_s;
    uint64_t map_size_mb;   /* LMDB map size at start */
    uint64_t max_map_size_mb; /* the map grows itself up to this */
    cfg_retention retention;
    bool group_commit;      /* one commit per loop turn (false: one per message, for measuring) */
    unsigned dedup_window_s; /* retransmissions within this window are not applied again */
    /* the DICOM listener (Modality Worklist SCP); port 0 = none */
    unsigned dicom_port;
    char dicom_bind[64];       /* "" or "*": every address */
    dicom_tls dicom_tls;       /* <tls> under <dicom>: the TLS listener */
    unsigned dicom_assoc_timeout_s, dicom_max_per_address;
    char dicom_ae[17];
    char dicom_allowed[RL_DICOM_ALLOW_MAX][17]; /* calling AE titles; none = open */
    unsigned n_dicom_allowed;
    unsigned dicom_max_associations, dicom_max_responses, dicom_timeout_s;
    bool dicom_icase_names;
    char dicom_mwl_hide[64]; /* SPS statuses left out of C-FIND answers */
    bool dicom_refuse_duplicates; /* a SOP Instance UID received again: refuse (else replace) */
    cfg_pacs pacs[RL_MAX_PACS]; /* where studies go */
    unsigned n_pacs;
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
    } http;
} cfg;

/* Fill c with the embedded default (data ./var, MLLP 127.0.0.1:2575). */
void cfg_defaults(cfg *c);
/* Load path over the defaults already in c. On failure c is unchanged, every
 * error is appended to errors as "path:line: message" and -1 is returned. */
int cfg_load(cfg *c, const char *path, rl_buf *errors);
/* Print the effective configuration, one key=value per line. */
void cfg_print(const cfg *c, void *file /* FILE* */);

#endif
