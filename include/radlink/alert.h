/* Alerts that reach a person (engine/alert): <alerts> rules on what the
 * engine already measures (queues, parked messages, jobs, unmatched studies,
 * waiting reports, certificates, store and disk use, the audit collector,
 * workers), looked at by a thread of their own every <alerts every> and sent
 * by e-mail (SMTP through libcurl), HTTPS webhook (JSON) and/or syslog.
 *
 * An alert fires once its condition has held for the rule's for=, is sent
 * again every repeat= while it holds, and sends a resolution when it ends.
 * What is active (the book) is kept in the store's meta database
 * (alerts.state, written by the loop: CMD_ALERTS), so a restart neither
 * fires again what was already said nor forgets to resolve it. Nothing in an
 * alert names a patient: destinations, AE titles, counts, ages, files.
 *
 * Threads: alert_runner_* from the loop's thread; the rest is pure and
 * belongs to its caller. */
#ifndef RADLINK_ALERT_H
#define RADLINK_ALERT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "radlink/cfg.h"
#include "radlink/queue.h"
#include "radlink/util.h"

/* Alert limits (beside radlink/limits.h, which holds the engine's others). */
#define RL_ALERT_RULES_MAX 32           /* <rule> elements: cfg_alerts.rules */
#define RL_ALERT_EVERY_DEFAULT_S 30     /* how often the rules are looked at */
#define RL_ALERT_EVERY_MAX_S 3600
#define RL_ALERT_REPEAT_DEFAULT_S (4u * 3600u)
#define RL_ALERT_REPEAT_MAX_S (30u * 86400u)
#define RL_ALERT_ACTIVE_MAX 256         /* alerts active at once (more are counted, not kept) */
#define RL_ALERT_OUTBOX_MAX 256         /* notifications not yet delivered */
#define RL_ALERT_ATTEMPTS_MAX 20        /* sends of one notification before it is dropped */
#define RL_ALERT_SEND_TIMEOUT_S 20      /* one SMTP conversation or webhook POST */
#define RL_ALERT_PEER_PROBE_S 3600      /* a TLS peer's certificate is read this often */
#define RL_ALERT_PEER_RETRY_S 600       /* a peer that could not be reached: tried again */
#define RL_ALERT_PROBE_TIMEOUT_MS 5000  /* connect and handshake of that reading */
#define RL_ALERT_CERTS_MAX 64           /* certificates watched */
#define RL_ALERT_KEY_MAX 160
#define RL_ALERT_TEXT_MAX 400
#define RL_ALERT_RCPT_MAX 16            /* addresses in <email to> */
#define RL_ALERT_SECRET_MAX 512         /* a password or token file's first line */
_Static_assert(RL_ALERT_RULES_MAX == sizeof ((cfg_alerts *)0)->rules / sizeof (cfg_alert_rule),
               "cfg_alerts.rules holds RL_ALERT_RULES_MAX");

/* What a rule watches (<rule on="...">). */
typedef enum alert_on {
    ALERT_QUEUE_DEPTH,   /* messages waiting for a destination over `over` */
    ALERT_QUEUE_AGE,     /* its oldest waiting longer than `older` */
    ALERT_PARKED,        /* parked messages of a destination over `over` (0) */
    ALERT_DEAD_JOBS,     /* jobs dead over `over` (0) */
    ALERT_UNVERIFIED,    /* jobs unverified over `over` (0) */
    ALERT_UNMATCHED,     /* studies unmatched for longer than `older` */
    ALERT_REPORTS,       /* reports waiting for their study (or held) longer than `older` */
    ALERT_CERTIFICATE,   /* a certificate (radlink's or a peer's) expiring within `within` */
    ALERT_STORE_USE,     /* the store over `over` percent of <store max-map-size-mb> */
    ALERT_DISK_USE,      /* the data directory's file system over `over` percent */
    ALERT_AUDIT_DOWN,    /* the audit collector down longer than `older` */
    ALERT_WORKER_LOST,   /* fewer workers connected than the engine runs */
    ALERT_ON_COUNT
} alert_on;
/* The names <rule on> takes, in alert_on's order, NULL-terminated. */
extern const char *const alert_on_names[];
/* <email tls>: STARTTLS required, tried, or never (a relay on the host). */
enum { ALERT_TLS_REQUIRED = 0, ALERT_TLS_TRY = 1, ALERT_TLS_NONE = 2 };
extern const char *const alert_tls_names[];
/* <syslog facility>: daemon, user, local0..local7. */
extern const char *const alert_facilities[];

/* ---- what the engine measures, gathered for the rules ---- */

typedef queue_gauge alert_dest_fact;

typedef struct alert_cert_fact {
    char what[96];      /* "mllp listener 1 certificate", "webhook peer" */
    char where[300];    /* the file, or host:port of a peer */
    int64_t not_after_us; /* 0: could not be read (said in why) */
    char why[120];
} alert_cert_fact;

typedef struct alert_facts {
    int64_t now_us;
    alert_dest_fact d[RL_MAX_DESTS + RL_MAX_PACS];
    size_t nd;
    unsigned long jobs_dead, jobs_unverified;
    int64_t *unmatched_us; /* each unmatched study's first instance (malloc'd) */
    size_t nunmatched;
    int64_t *reports_us;   /* each waiting or held report's arrival (malloc'd) */
    size_t nreports;
    alert_cert_fact certs[RL_ALERT_CERTS_MAX];
    size_t ncerts;
    int store_pct, disk_pct; /* -1: unknown */
    bool audit_on;           /* a collector is configured */
    int64_t audit_down_us;   /* since when it is down (0: up) */
    char audit_where[300], audit_why[200];
    unsigned workers_expected, workers_connected;
    unsigned long workers_lost; /* since the engine started */
} alert_facts;
void alert_facts_free(alert_facts *f);

/* ---- the conditions that hold, and the book of what was said ---- */

typedef struct alert_cond {
    char key[RL_ALERT_KEY_MAX];  /* the rule and its subject: stable across restarts */
    char on[24], subject[96];
    char text[RL_ALERT_TEXT_MAX];
    uint32_t for_s, repeat_s;
} alert_cond;

/* Every condition the rules find in f, appended to *out (n, cap: a growing
 * array the caller frees). 0, or -1 out of memory. */
int alert_eval(const cfg_alerts *a, const alert_facts *f, alert_cond **out, size_t *n,
               size_t *cap);

typedef enum alert_kind { ALERT_FIRING = 1, ALERT_REPEAT, ALERT_RESOLVED } alert_kind;
const char *alert_kind_name(alert_kind k);

typedef struct alert_active {
    char key[RL_ALERT_KEY_MAX], on[24], subject[96], text[RL_ALERT_TEXT_MAX];
    int64_t since_us; /* the condition first seen */
    int64_t fired_us; /* 0: holding, not yet for its for= */
    int64_t sent_us;  /* the last notification about it */
    unsigned sent;    /* notifications about it */
    uint32_t for_s, repeat_s;
} alert_active;

/* A notification owed to channels (bits of ALERT_CH_*). */
enum { ALERT_CH_EMAIL = 1, ALERT_CH_WEBHOOK = 2, ALERT_CH_SYSLOG = 4 };
typedef struct alert_note {
    alert_kind kind;
    alert_active a;  /* as it was when the note was made */
    int64_t at_us;
    unsigned channels; /* still owed */
    unsigned attempts;
    char last_error[200];
} alert_note;

typedef struct alert_book {
    alert_active active[RL_ALERT_ACTIVE_MAX];
    size_t nactive;
    unsigned long over; /* conditions not kept: the book was full */
    alert_note out[RL_ALERT_OUTBOX_MAX];
    size_t nout;
    unsigned long dropped; /* notes given up (attempts, or a full outbox) */
} alert_book;

/* Step the book to the conditions that hold now: a new one is remembered, a
 * held one fires once for_s passed, a firing one repeats every repeat_s
 * (default_repeat_s when 0), one that no longer holds is resolved (if it
 * fired) and forgotten. Notes for channels are appended to b->out. Returns
 * whether the book changed. */
bool alert_step(alert_book *b, const alert_cond *c, size_t n, int64_t now_us,
                uint32_t default_repeat_s, unsigned channels);
/* The book as JSON (the store's alerts.state) and back; 0, or -1 (a book
 * that does not parse is started empty by the caller). */
int alert_book_json(const alert_book *b, rl_buf *out);
int alert_book_parse(rl_str json, alert_book *b);

/* ---- sending ---- */

/* A text cut to its field's size may end inside a UTF-8 character (JSON
 * refuses it): drop that partial character. */
void alert_utf8_trim(char *s);
/* The channels a configuration has (ALERT_CH_*). */
unsigned alert_channels(const cfg_alerts *a);
/* Send n through one channel: 0, or -1 with the reason in why. host: how
 * the engine is named; console: the console's address ("" when none). */
int alert_send(const cfg_alerts *a, unsigned channel, const alert_note *n, const char *host,
               const char *console, char *why, size_t whyn);
/* The mail's subject and body, the webhook's JSON (tests and `alerts test`
 * read what is sent). */
void alert_mail_text(const alert_note *n, const char *host, const char *console, rl_buf *out);
void alert_webhook_json(const alert_note *n, const char *host, const char *console, rl_buf *out);
/* Call once, before any thread sends (libcurl's global set-up). */
void alert_global_init(void);

/* ---- certificates ---- */

/* The soonest notAfter of the certificates in a PEM file (a chain or a CA
 * bundle): 0 and *us, or -1 with why. */
int alert_cert_file(const char *path, int64_t *us, char *why, size_t whyn);
/* The notAfter of the certificate a TLS server presents at host:port
 * (checked against nothing: it is read, not trusted). */
int alert_cert_peer(const char *host, unsigned port, int timeout_ms, int64_t *us, char *why,
                    size_t whyn);

/* ---- the engine's runner ---- */

struct store;
struct cmdq;
typedef struct alert_runner alert_runner;
typedef struct alert_runner_cfg {
    const cfg *c;           /* outlives the runner */
    struct store *st;       /* read here (a read transaction at a time) */
    struct cmdq *q;         /* CMD_ALERTS: the book, for the loop to keep */
    char ctl_path[RL_CFG_PATH_MAX]; /* the engine's control socket: what only the loop knows */
    char console[300];      /* the console's address for the mails, or "" */
} alert_runner_cfg;
/* Start the thread when the configuration has rules (else *out = NULL). */
int alert_runner_start(const alert_runner_cfg *rc, alert_runner **out, rl_err *err);
/* Ask it to stop (it ends after the send under way, handing its book to
 * the loop: the loop must go on turning until alert_runner_done), then
 * stop (join) and free. r may be NULL. */
void alert_runner_request_stop(alert_runner *r);
bool alert_runner_done(alert_runner *r);
void alert_runner_stop(alert_runner *r);
/* One line for `radlink status` (r may be NULL). */
void alert_runner_status(alert_runner *r, rl_buf *out);

/* The facts only the loop knows, as the control verb `facts` answers them
 * ("key value" lines), read into f. */
void alert_facts_loop(rl_str text, alert_facts *f);

#endif
