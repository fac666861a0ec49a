/* The configuration's keys: one row per element and attribute of the file
 * (type, bounds, default, where it lands, one line for people), and the
 * setters of the elements that repeat or nest. cfg.c walks the file by it;
 * docs/configuration.md's table and engine/cfg/config.xsd are held to
 * it by tests/lint/cfg_keys.py. */
#include <libxml/tree.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "radlink/alert.h"
#include "radlink/cidr.h"
#include "radlink/job.h"
#include "radlink/limits.h"
#include "radlink/log.h"
#include "radlink/xdoc.h"
#include "walk.h"

/* The field a value lands in, inside the struct its element opens. */
#define AT(type, member) .off = offsetof(type, member), .size = sizeof(((type *)0)->member)
#define PORT_MAX 65535 /* RFC 793: ports are 16 bits */

/* Enumerations: the index of a value is what the field holds. */
static const char *const levels[] = { "error", "warn", "info", "debug", NULL };
static const char *const updates[] = { "resend", "hl7", "iocm", NULL };
static const char *const verifies[] = { "none", "find", "commit+find", NULL };
static const char *const reasons[] = { "incorrect-worklist-entry", "patient-safety", NULL };
static const char *const duplicates[] = { "replace", "refuse", NULL };
static const char *const retrieves[] = { "move", "get", NULL };
static const char *const on_ae[] = { "retry", "park", NULL };  /* ROUTE_AE_* */
static const char *const on_ar[] = { "park", "retry", NULL };  /* ROUTE_AR_* */
static const char *const unmatched[] = { "hold", "forward", NULL };
_Static_assert(LOG_ERROR == 0 && LOG_DEBUG == 3, "levels[] follows log_level");
_Static_assert(PACS_UPDATE_HL7 == 1 && PACS_UPDATE_IOCM == 2, "updates[] follows pacs_update");
_Static_assert(PACS_VERIFY_FIND == 1 && PACS_VERIFY_COMMIT_FIND == 2, "verifies[] follows pacs_verify");
_Static_assert(PACS_REJECT_SAFETY == 1, "reasons[] follows pacs_reject");

/* ---- setters of the elements that repeat or nest ---- */

static void *open_listener(cfg_walk *w, const void *node, void *parent, unsigned i)
{
    (void)w, (void)node;
    cfg *c = parent;
    c->n_mllp = i + 1; /* the file's listeners replace the default one */
    memset(&c->mllp[i], 0, sizeof c->mllp[i]);
    return &c->mllp[i];
}

static void *open_listener_tls(cfg_walk *w, const void *node, void *parent, unsigned i)
{
    (void)w, (void)node, (void)i;
    cfg_listener *li = parent;
    li->tls = true;
    return li;
}

static void *open_http_tls(cfg_walk *w, const void *node, void *parent, unsigned i)
{
    return open_listener_tls(w, node, &((cfg *)parent)->http.l, i);
}

static void check_listener_tls(cfg_walk *w, const void *node, void *base)
{
    const cfg_listener *li = base;
    if (li->verify_client && !li->ca[0]) {
        xdoc_error(w->errors, w->path, node, "tls: verify-client needs a ca file");
        w->bad++;
    }
}

static void *open_dicom_tls(cfg_walk *w, const void *node, void *parent, unsigned i)
{
    (void)w, (void)node, (void)i;
    dicom_tls *t = &((cfg *)parent)->dicom_tls;
    memset(t, 0, sizeof *t);
    t->on = true;
    return t;
}

static void check_dicom_tls(cfg_walk *w, const void *node, void *base)
{
    const dicom_tls *t = base;
    if (t->verify_peer && !t->ca[0]) {
        xdoc_error(w->errors, w->path, node, "tls: verify-client needs a ca file");
        w->bad++;
    }
}

static void *open_allow(cfg_walk *w, const void *node, void *parent, unsigned i)
{
    (void)w, (void)node;
    cfg *c = parent;
    c->n_dicom_allowed = i + 1;
    return c->dicom_allowed[i];
}

/* <pacs> and <node> share one list, in file order. */
static void *open_dicom_node(cfg_walk *w, const void *node, cfg *c, bool route_only)
{
    if (c->n_pacs >= RL_MAX_PACS) { /* the schema allows as many; said, not overrun */
        xdoc_error(w->errors, w->path, node, "more than %d <pacs> and <node> elements",
                   RL_MAX_PACS);
        w->bad++;
        return &c->pacs[RL_MAX_PACS - 1];
    }
    unsigned k = c->n_pacs++;
    memset(&c->pacs[k], 0, sizeof c->pacs[k]);
    c->pacs[k].node = route_only;
    w->pacs_line[k] = xmlGetLineNo(node);
    return &c->pacs[k];
}

static void *open_pacs(cfg_walk *w, const void *node, void *parent, unsigned i)
{
    (void)i;
    return open_dicom_node(w, node, parent, false);
}

static void *open_node(cfg_walk *w, const void *node, void *parent, unsigned i)
{
    (void)i;
    return open_dicom_node(w, node, parent, true);
}

static void *open_pacs_tls(cfg_walk *w, const void *node, void *parent, unsigned i)
{
    (void)w, (void)node, (void)i;
    dicom_tls *t = &((cfg_pacs *)parent)->tls;
    t->on = true;
    return t;
}

static void check_pacs_tls(cfg_walk *w, const void *node, void *base)
{
    const dicom_tls *t = base;
    if (!t->cert[0] != !t->key[0]) {
        xdoc_error(w->errors, w->path, node, "tls: cert and key go together");
        w->bad++;
    }
}

static void *open_worker_key(cfg_walk *w, const void *node, void *parent, unsigned i)
{
    (void)w, (void)node;
    cfg *c = parent;
    c->n_worker_keys = i + 1;
    return c->worker_keys[i];
}

static void check_jobs(cfg_walk *w, const void *node, void *base)
{
    const cfg *c = base;
    if (c->jobs_key_file[0] && !c->n_worker_keys) {
        xdoc_error(w->errors, w->path, node, "<jobs>: a key-file needs at least one "
                   "<worker-key> (the public keys of the workers allowed in)");
        w->bad++;
    }
}

/* <recon unmatched> alone: "forward" sends at once (1 s), "hold" never;
 * with forward-after, forward-after decides whatever unmatched says. */
/* allow-from: a list that parses, kept as written. */
static void set_allow(cfg_walk *w, const void *node, const cfg_key *k, const char *value,
                      void *base)
{
    cidr_list l;
    char why[160];
    if (strlen(value) >= k->size) {
        xdoc_error(w->errors, w->path, node, "%s: value longer than %zu characters", k->attr,
                   k->size - 1);
        w->bad++;
        return;
    }
    if (cidr_parse(value, &l, why, sizeof why) != 0) {
        xdoc_error(w->errors, w->path, node, "%s: %s", k->attr, why);
        w->bad++;
        return;
    }
    snprintf((char *)base + k->off, k->size, "%s", value);
}

static void set_unmatched(cfg_walk *w, const void *node, const cfg_key *k, const char *value,
                          void *base)
{
    (void)w, (void)k;
    if (!xdoc_attr(node, "forward-after"))
        ((cfg *)base)->unmatched_forward_s = strcmp(value, "forward") == 0;
}

/* <syslog> lands in cfg's audit fields; opening it gives its rows' defaults. */
static void *open_syslog(cfg_walk *w, const void *node, void *parent, unsigned i)
{
    (void)w, (void)node, (void)i;
    return parent;
}

static void check_syslog(cfg_walk *w, const void *node, void *base)
{
    const cfg *c = base;
    if (!c->audit.cert[0] != !c->audit.key[0]) {
        xdoc_error(w->errors, w->path, node, "syslog: cert and key go together");
        w->bad++;
    }
}

/* A <destination> is read by the route module, as in route files (one
 * reader of the element); its rows below document it. */
static void *open_destination(cfg_walk *w, const void *node, void *parent, unsigned i)
{
    cfg *c = parent;
    if (i == 0)
        c->n_dests = 0;
    route_dest *d = &c->dests[c->n_dests];
    if (route_dest_from_xml(node, w->path, d, w->errors) != 0) {
        w->bad++;
        return NULL;
    }
    for (unsigned k = 0; k < c->n_dests; k++)
        if (strcmp(c->dests[k].name, d->name) == 0) {
            xdoc_error(w->errors, w->path, node, "<destination>: '%s' is defined twice", d->name);
            w->bad++;
        }
    c->n_dests++;
    return NULL;
}

/* <alerts><rule>: one of cfg_alerts.rules, in file order. */
static void *open_alert_rule(cfg_walk *w, const void *node, void *parent, unsigned i)
{
    (void)w, (void)node;
    cfg *c = parent;
    c->alerts.n_rules = i + 1;
    memset(&c->alerts.rules[i], 0, sizeof c->alerts.rules[i]);
    return &c->alerts.rules[i];
}

/* What each kind of rule needs: a threshold it cannot guess. */
static void check_alert_rule(cfg_walk *w, const void *node, void *base)
{
    const cfg_alert_rule *r = base;
    const xmlNode *n = node;
    const char *need = NULL;
    switch ((alert_on)r->on) {
    case ALERT_QUEUE_DEPTH:
        need = xmlHasProp(n, BAD_CAST "over") ? NULL : "over (messages waiting)";
        break;
    case ALERT_QUEUE_AGE:
    case ALERT_UNMATCHED:
    case ALERT_REPORTS:
    case ALERT_AUDIT_DOWN:
        need = xmlHasProp(n, BAD_CAST "older") ? NULL : "older (a duration)";
        break;
    case ALERT_CERTIFICATE:
        need = xmlHasProp(n, BAD_CAST "within") ? NULL : "within (a duration: 30d)";
        break;
    case ALERT_STORE_USE:
    case ALERT_DISK_USE:
        if (!xmlHasProp(n, BAD_CAST "over") || r->over > 99)
            need = "over (a percentage, 0 to 99)";
        break;
    default:
        break;
    }
    if (need) {
        xdoc_error(w->errors, w->path, node, "<rule on=\"%s\">: needs %s",
                   alert_on_names[r->on], need);
        w->bad++;
    }
    bool dest = r->on == ALERT_QUEUE_DEPTH || r->on == ALERT_QUEUE_AGE || r->on == ALERT_PARKED;
    if (r->destination[0] && !dest) {
        xdoc_error(w->errors, w->path, node, "<rule on=\"%s\">: destination is for "
                   "queue-depth, queue-age and parked", alert_on_names[r->on]);
        w->bad++;
    }
}

static void *open_alert_syslog(cfg_walk *w, const void *node, void *parent, unsigned i)
{
    (void)w, (void)node, (void)i;
    ((cfg *)parent)->alerts.syslog.on = true;
    return parent;
}

static void check_alerts(cfg_walk *w, const void *node, void *base)
{
    const cfg *c = base;
    const cfg_alerts *a = &c->alerts;
    if (a->n_rules && !alert_channels(a)) {
        xdoc_error(w->errors, w->path, node, "<alerts>: rules need a channel to reach someone "
                   "(<email>, <webhook> or <syslog>)");
        w->bad++;
    }
    if (a->email.url[0] && (strncmp(a->email.url, "smtp://", 7) != 0 &&
                            strncmp(a->email.url, "smtps://", 8) != 0)) {
        xdoc_error(w->errors, w->path, node, "<email url>: '%s' is not smtp://host[:port] or "
                   "smtps://host[:port]", a->email.url);
        w->bad++;
    }
    if (a->email.url[0] && (!a->email.from[0] || !a->email.to[0])) {
        xdoc_error(w->errors, w->path, node, "<email>: needs from and to");
        w->bad++;
    }
    if (a->webhook.url[0] && strncmp(a->webhook.url, "https://", 8) != 0 &&
        strncmp(a->webhook.url, "http://", 7) != 0) {
        xdoc_error(w->errors, w->path, node, "<webhook url>: '%s' is not an https:// address",
                   a->webhook.url);
        w->bad++;
    }
}

/* ---- the table ---- */

static const cfg_key keys[] = {
    { "data", NULL, CFG_ELEM, .max = 1, .doc = "where the engine keeps its state" },
    { "data", "dir", CFG_FILE, .rule = CFG_PATH_WAS_CWD, AT(cfg, data_dir), .def_text = "./var",
      .doc = "data directory (LMDB store in DATA/store, lock file); relative to the config file" },

    { "retention", NULL, CFG_ELEM, .max = 1, .doc = "what the engine removes and when" },
    { "retention", "messages", CFG_DURATION, 0, RL_RETENTION_MAX_S, .hint = "90d, 12h, 30m, 45s",
      AT(cfg, retention.messages_s), .doc = "messages older than this go (0 or none: kept)" },
    { "retention", "worklist", CFG_DURATION, 0, RL_RETENTION_MAX_S, .hint = "90d, 12h, 30m, 45s",
      AT(cfg, retention.worklist_s), .doc = "worklist entries scheduled longer ago go" },
    { "retention", "jobs", CFG_DURATION, 0, RL_RETENTION_MAX_S, .hint = "90d, 12h, 30m, 45s",
      AT(cfg, retention.jobs_s), .doc = "jobs done longer ago go" },
    { "retention", "spool", CFG_DURATION, 0, RL_RETENTION_MAX_S, .hint = "90d, 12h, 30m, 45s",
      AT(cfg, retention.spool_s), .doc = "spool files of studies delivered and verified go after this" },
    { "retention", "audit", CFG_DURATION, 0, RL_RETENTION_MAX_S, .hint = "90d, 12h, 30m, 45s",
      AT(cfg, retention.audit_s), .doc = "audit events older than this go" },
    { "retention", "every", CFG_DURATION, 0, RL_RETENTION_MAX_S, .hint = "90d, 12h, 30m, 45s",
      AT(cfg, retention.every_s), .def = RL_RETENTION_EVERY_DEFAULT_S,
      .doc = "how often a retention pass starts" },
    { "retention", "messages-max-mb", CFG_MIB, 1, RL_CFG_MIB_MAX,
      AT(cfg, retention.messages_max_mb), .doc = "the oldest messages go while the log takes more" },

    { "store", NULL, CFG_ELEM, .max = 1, .doc = "the LMDB store" },
    { "store", "map-size-mb", CFG_MIB, 1, RL_CFG_MIB_MAX, AT(cfg, map_size_mb),
      .def = RL_STORE_MAP_SIZE_DEFAULT_MB, .doc = "address space LMDB maps at start" },
    { "store", "max-map-size-mb", CFG_MIB, 1, RL_CFG_MIB_MAX, AT(cfg, max_map_size_mb),
      .def = RL_STORE_MAP_CEILING_DEFAULT_MB, .doc = "the ceiling the map grows itself to" },
    { "store", "group-commit", CFG_BOOL, AT(cfg, group_commit), .def = 1,
      .doc = "false commits every message on its own (only for measuring)" },

    { "hl7", NULL, CFG_ELEM, .max = 1, .doc = "HL7 handling" },
    { "hl7", "dedup-window", CFG_UINT, 0, RL_DEDUP_WINDOW_MAX_S, AT(cfg, dedup_window_s),
      .def = RL_DEDUP_WINDOW_DEFAULT_S, .doc = "seconds within which a retransmission is recognised" },
    { "hl7", "strict", CFG_BOOL, AT(cfg, hl7_strict),
      .doc = "refuse an MSH-12 of N.N.0 or none, and an empty MSH-10 (default: accept, warn)" },

    { "log", NULL, CFG_ELEM, .max = 1, .doc = "logging" },
    { "log", "level", CFG_ENUM, .names = levels, AT(cfg, log_level), .def = LOG_INFO,
      .doc = "error, warn, info or debug" },

    { "mllp", NULL, CFG_ELEM, .max = 1, .doc = "the MLLP endpoint" },
    { "mllp", "max-frame", CFG_UINT, 1, RL_MAX_FRAME_CEILING, AT(cfg, max_frame),
      .def = RL_MAX_FRAME_DEFAULT, .doc = "largest HL7 message accepted, in bytes" },
    { "mllp", "max-connections", CFG_UINT, 1, RL_MAX_CONNECTIONS_CEILING, AT(cfg, max_connections),
      .def = RL_MAX_CONNECTIONS_DEFAULT, .doc = "concurrent MLLP connections" },
    { "mllp", "max-per-address", CFG_UINT, 1, RL_MLLP_MAX_PER_ADDRESS_CEILING,
      AT(cfg, max_per_address), .def = RL_MLLP_MAX_PER_ADDRESS_DEFAULT,
      .doc = "concurrent connections from one client address" },
    { "mllp", "max-buffered-mb", CFG_MIB, 1, RL_MLLP_MAX_BUFFERED_MB_CEILING,
      AT(cfg, max_buffered_mb), .def = RL_MLLP_MAX_BUFFERED_MB_DEFAULT,
      .doc = "memory all frames in flight may take together" },
    { "mllp", "idle-timeout", CFG_UINT, 1, RL_IDLE_TIMEOUT_MAX_S, AT(cfg, idle_timeout_s),
      .def = RL_IDLE_TIMEOUT_DEFAULT_S, .doc = "seconds a connection stays open after its last frame" },
    { "mllp", "read-timeout", CFG_UINT, 1, RL_READ_TIMEOUT_MAX_S, AT(cfg, read_timeout_s),
      .def = RL_READ_TIMEOUT_DEFAULT_S, .doc = "seconds a partial frame or a TLS handshake may take" },
    { "mllp", "stress-timeout", CFG_UINT, 1, RL_STRESS_TIMEOUT_MAX_S,
      AT(cfg, mllp_stress_timeout_s), .def = RL_MLLP_STRESS_TIMEOUT_DEFAULT_S,
      .doc = "seconds a connection with no complete frame yet is kept while over half are open" },
    { "mllp", "allow-from", CFG_STR, AT(cfg, mllp_allow_from), .set = set_allow,
      .doc = "addresses and CIDR blocks connections are taken from (none: any)" },
    { "mllp/listen", NULL, CFG_ELEM, .max = RL_MAX_LISTENERS, .open = open_listener,
      .doc = "a listener (the file's replace the default one)" },
    { "mllp/listen", "bind", CFG_HOST, AT(cfg_listener, bind), .def_text = "127.0.0.1",
      .doc = "the address it listens on" },
    { "mllp/listen", "port", CFG_LISTEN, 1, PORT_MAX, AT(cfg_listener, port),
      .def = RL_MLLP_PORT_DEFAULT, .doc = "its port (auto: one the system picks)" },
    { "mllp/listen/tls", NULL, CFG_ELEM, .max = 1, .open = open_listener_tls,
      .check = check_listener_tls, .doc = "TLS for that listener" },
    { "mllp/listen/tls", "cert", CFG_FILE, .rule = CFG_PATH_WAS_CWD, AT(cfg_listener, cert),
      .doc = "its certificate" },
    { "mllp/listen/tls", "key", CFG_FILE, .rule = CFG_PATH_WAS_CWD, AT(cfg_listener, key),
      .doc = "its private key" },
    { "mllp/listen/tls", "ca", CFG_FILE, .rule = CFG_PATH_WAS_CWD, AT(cfg_listener, ca),
      .doc = "the CA that signs client certificates" },
    { "mllp/listen/tls", "verify-client", CFG_BOOL, AT(cfg_listener, verify_client),
      .doc = "a client certificate signed by ca is required" },

    { "dicom", NULL, CFG_ELEM, .max = 1, .doc = "the DICOM listener (worklist, storage, MPPS)" },
    { "dicom", "port", CFG_LISTEN, 0, PORT_MAX, AT(cfg, dicom_port), .def = RL_DICOM_PORT_DEFAULT,
      .doc = "the plain port (0: none; auto: one the system picks)" },
    { "dicom", "bind", CFG_HOST, AT(cfg, dicom_bind), .def_text = "127.0.0.1",
      .doc = "the address the listeners bind" },
    { "dicom", "association-timeout", CFG_UINT, 1, RL_DICOM_ASSOC_TIMEOUT_MAX_S,
      AT(cfg, dicom_assoc_timeout_s), .def = RL_DICOM_ASSOC_TIMEOUT_DEFAULT_S,
      .doc = "seconds for a connection's TLS handshake and association request" },
    { "dicom", "max-per-address", CFG_UINT, 1, RL_DICOM_MAX_ASSOCIATIONS_CEILING,
      AT(cfg, dicom_max_per_address), .def = RL_DICOM_MAX_PER_ADDRESS_DEFAULT,
      .doc = "connections one address may hold at once" },
    { "dicom", "max-connections", CFG_UINT, 1, RL_DICOM_MAX_CONNECTIONS_CEILING,
      AT(cfg, dicom_max_connections), .def = RL_DICOM_MAX_CONNECTIONS_DEFAULT,
      .doc = "connections held before their association request (the oldest is evicted when full)" },
    { "dicom", "stress-timeout", CFG_UINT, 1, RL_STRESS_TIMEOUT_MAX_S,
      AT(cfg, dicom_stress_timeout_s), .def = RL_DICOM_STRESS_TIMEOUT_DEFAULT_S,
      .doc = "seconds for the association request while over half of max-connections wait" },
    { "dicom", "allow-from", CFG_STR, AT(cfg, dicom_allow_from), .set = set_allow,
      .doc = "addresses and CIDR blocks connections are taken from (none: any)" },
    { "dicom", "ae-title", CFG_AE, AT(cfg, dicom_ae), .def_text = "RADLINK",
      .doc = "the engine's AE title" },
    { "dicom", "max-associations", CFG_UINT, 1, RL_DICOM_MAX_ASSOCIATIONS_CEILING,
      AT(cfg, dicom_max_associations), .def = RL_DICOM_MAX_ASSOCIATIONS_DEFAULT,
      .doc = "simultaneous associations" },
    { "dicom", "max-responses", CFG_UINT, 1, RL_DICOM_MAX_RESPONSES_CEILING,
      AT(cfg, dicom_max_responses), .def = RL_DICOM_MAX_RESPONSES_DEFAULT,
      .doc = "matches per C-FIND before A700" },
    { "dicom", "timeout", CFG_UINT, 1, RL_DICOM_TIMEOUT_MAX_S, AT(cfg, dicom_timeout_s),
      .def = RL_DICOM_TIMEOUT_DEFAULT_S, .doc = "seconds an association may be silent" },
    { "dicom", "case-insensitive-names", CFG_BOOL, AT(cfg, dicom_icase_names),
      .doc = "person-name matching ignores ASCII case" },
    { "dicom", "mwl-hide", CFG_STR_CUT, AT(cfg, dicom_mwl_hide),
      .def_text = "COMPLETED DISCONTINUED", .doc = "worklist steps with these statuses are not answered" },
    { "dicom", "duplicates", CFG_ENUM, .names = duplicates, AT(cfg, dicom_refuse_duplicates),
      .doc = "a SOP Instance UID received again: replace, or refuse (0111)" },
    { "dicom/tls", NULL, CFG_ELEM, .max = 1, .open = open_dicom_tls, .check = check_dicom_tls,
      .doc = "a TLS listener on its own port beside the plain one" },
    { "dicom/tls", "port", CFG_PORT, 1, PORT_MAX, AT(dicom_tls, port), .doc = "its port" },
    { "dicom/tls", "cert", CFG_FILE, .rule = CFG_PATH_CONFIG, AT(dicom_tls, cert),
      .doc = "its certificate" },
    { "dicom/tls", "key", CFG_FILE, .rule = CFG_PATH_CONFIG, AT(dicom_tls, key),
      .doc = "its private key" },
    { "dicom/tls", "ca", CFG_FILE, .rule = CFG_PATH_CONFIG, AT(dicom_tls, ca),
      .doc = "the CA that signs client certificates" },
    { "dicom/tls", "verify-client", CFG_BOOL, AT(dicom_tls, verify_peer),
      .doc = "a client certificate signed by ca is required" },
    { "dicom/allow", NULL, CFG_ELEM, .max = RL_DICOM_ALLOW_MAX, .open = open_allow,
      .doc = "a calling AE title allowed (none: any caller)" },
    { "dicom/allow", "ae", CFG_AE, .size = sizeof ((cfg *)0)->dicom_allowed[0],
      .doc = "the AE title" },
    { "dicom/pacs", NULL, CFG_ELEM, .max = RL_MAX_PACS, .open = open_pacs,
      .doc = "a PACS studies are sent to" },
    { "dicom/pacs", "ae", CFG_AE, AT(cfg_pacs, ae), .doc = "its AE title" },
    { "dicom/pacs", "host", CFG_HOST, AT(cfg_pacs, host), .doc = "its host" },
    { "dicom/pacs", "port", CFG_PORT, 1, PORT_MAX, AT(cfg_pacs, port), .doc = "its port" },
    { "dicom/pacs", "commit-timeout", CFG_UINT, 1, RL_COMMIT_TIMEOUT_MAX_S,
      AT(cfg_pacs, commit_timeout_s), .def = RL_COMMIT_TIMEOUT_DEFAULT_S,
      .doc = "seconds a storage commitment report is awaited" },
    { "dicom/pacs", "associations", CFG_UINT, 1, RL_SEND_ASSOCIATIONS_MAX,
      AT(cfg_pacs, associations), .def = RL_SEND_ASSOCIATIONS_DEFAULT,
      .doc = "associations a study is sent over at once" },
    { "dicom/pacs", "hl7-destination", CFG_STR, AT(cfg_pacs, hl7_dest),
      .doc = "the <destination> ADT goes to with update=\"hl7\"" },
    { "dicom/pacs", "update", CFG_ENUM, .names = updates, AT(cfg_pacs, update),
      .doc = "how a study it holds is updated" },
    { "dicom/pacs", "verify", CFG_ENUM, .names = verifies, AT(cfg_pacs, verify),
      .def = PACS_VERIFY_COMMIT_FIND, .doc = "how a send is verified" },
    { "dicom/pacs", "reject-reason", CFG_ENUM, .names = reasons, AT(cfg_pacs, reject),
      .doc = "the IOCM rejection note's title" },
    { "dicom/pacs", "mpps", CFG_BOOL, AT(cfg_pacs, mpps),
      .doc = "the modalities' MPPS are forwarded to it" },
    { "dicom/pacs", "retrieve", CFG_ENUM, .names = retrieves, AT(cfg_pacs, retrieve),
      .doc = "as an archive of priors: it moves them (C-MOVE) or radlink gets them (C-GET)" },
    { "dicom/pacs", "query-timeout", CFG_UINT, 1, RL_QUERY_TIMEOUT_MAX_S,
      AT(cfg_pacs, query_timeout_s), .def = RL_QUERY_TIMEOUT_DEFAULT_S,
      .doc = "seconds each C-FIND answer or retrieve response may take" },
    { "dicom/pacs", "max-answers", CFG_UINT, 1, RL_QUERY_ANSWERS_MAX,
      AT(cfg_pacs, max_answers), .def = RL_QUERY_ANSWERS_DEFAULT,
      .doc = "a patient's studies considered from its answer (the rest are counted)" },
    { "dicom/pacs/tls", NULL, CFG_ELEM, .max = 1, .open = open_pacs_tls, .check = check_pacs_tls,
      .doc = "the associations to this PACS use TLS" },
    { "dicom/pacs/tls", "cert", CFG_FILE, .rule = CFG_PATH_CONFIG, AT(dicom_tls, cert),
      .doc = "the engine's client certificate" },
    { "dicom/pacs/tls", "key", CFG_FILE, .rule = CFG_PATH_CONFIG, AT(dicom_tls, key),
      .doc = "its private key" },
    { "dicom/pacs/tls", "ca", CFG_FILE, .rule = CFG_PATH_CONFIG, AT(dicom_tls, ca),
      .doc = "the CA that signs the PACS's certificate (none: the system's)" },

    { "dicom/node", NULL, CFG_ELEM, .max = RL_MAX_PACS, .open = open_node,
      .doc = "a DICOM node that gets only what DICOM routes send it" },
    { "dicom/node", "ae", CFG_AE, AT(cfg_pacs, ae), .doc = "its AE title" },
    { "dicom/node", "host", CFG_HOST, AT(cfg_pacs, host), .doc = "its host" },
    { "dicom/node", "port", CFG_PORT, 1, PORT_MAX, AT(cfg_pacs, port), .doc = "its port" },
    { "dicom/node", "commit-timeout", CFG_UINT, 1, RL_COMMIT_TIMEOUT_MAX_S,
      AT(cfg_pacs, commit_timeout_s), .def = RL_COMMIT_TIMEOUT_DEFAULT_S,
      .doc = "seconds a storage commitment report is awaited" },
    { "dicom/node", "associations", CFG_UINT, 1, RL_SEND_ASSOCIATIONS_MAX,
      AT(cfg_pacs, associations), .def = RL_SEND_ASSOCIATIONS_DEFAULT,
      .doc = "associations a study is sent over at once" },
    { "dicom/node", "hl7-destination", CFG_STR, AT(cfg_pacs, hl7_dest),
      .doc = "the <destination> ADT goes to with update=\"hl7\"" },
    { "dicom/node", "update", CFG_ENUM, .names = updates, AT(cfg_pacs, update),
      .doc = "how a study it holds is updated" },
    { "dicom/node", "verify", CFG_ENUM, .names = verifies, AT(cfg_pacs, verify),
      .def = PACS_VERIFY_COMMIT_FIND, .doc = "how a send is verified" },
    { "dicom/node", "reject-reason", CFG_ENUM, .names = reasons, AT(cfg_pacs, reject),
      .doc = "the IOCM rejection note's title" },
    { "dicom/node", "mpps", CFG_BOOL, AT(cfg_pacs, mpps),
      .doc = "the modalities' MPPS are forwarded to it" },
    { "dicom/node", "retrieve", CFG_ENUM, .names = retrieves, AT(cfg_pacs, retrieve),
      .doc = "as an archive of priors: it moves them (C-MOVE) or radlink gets them (C-GET)" },
    { "dicom/node", "query-timeout", CFG_UINT, 1, RL_QUERY_TIMEOUT_MAX_S,
      AT(cfg_pacs, query_timeout_s), .def = RL_QUERY_TIMEOUT_DEFAULT_S,
      .doc = "seconds each C-FIND answer or retrieve response may take" },
    { "dicom/node", "max-answers", CFG_UINT, 1, RL_QUERY_ANSWERS_MAX,
      AT(cfg_pacs, max_answers), .def = RL_QUERY_ANSWERS_DEFAULT,
      .doc = "a patient's studies considered from its answer (the rest are counted)" },
    { "dicom/node/tls", NULL, CFG_ELEM, .max = 1, .open = open_pacs_tls, .check = check_pacs_tls,
      .doc = "the associations to this PACS use TLS" },
    { "dicom/node/tls", "cert", CFG_FILE, .rule = CFG_PATH_CONFIG, AT(dicom_tls, cert),
      .doc = "the engine's client certificate" },
    { "dicom/node/tls", "key", CFG_FILE, .rule = CFG_PATH_CONFIG, AT(dicom_tls, key),
      .doc = "its private key" },
    { "dicom/node/tls", "ca", CFG_FILE, .rule = CFG_PATH_CONFIG, AT(dicom_tls, ca),
      .doc = "the CA that signs the PACS's certificate (none: the system's)" },

    { "recon", NULL, CFG_ELEM, .max = 1, .doc = "studies no order claims" },
    { "recon", "forward-after", CFG_DURATION, 0, RL_UNMATCHED_FORWARD_MAX_S,
      .hint = "90s, 30m, 4h, 2d", AT(cfg, unmatched_forward_s),
      .doc = "sent as they are once this old (0: never)" },
    { "recon", "unmatched", CFG_ENUM, .names = unmatched, AT(cfg, unmatched_forward_s),
      .set = set_unmatched, .doc = "hold on the exception list, or forward as soon as stable" },

    { "jobs", NULL, CFG_ELEM, .max = 1, .check = check_jobs, .doc = "correction and forwarding jobs" },
    { "jobs", "workers", CFG_UINT, 0, RL_LOCAL_WORKERS_MAX, AT(cfg, workers),
      .def = RL_LOCAL_WORKERS_DEFAULT, .doc = "local worker processes" },
    { "jobs", "max-attempts", CFG_UINT, 1, RL_JOB_ATTEMPTS_MAX, AT(cfg, job_attempts),
      .def = RL_JOB_ATTEMPTS_DEFAULT, .doc = "attempts before a job is dead" },
    { "jobs", "worker-timeout", CFG_UINT, 1, RL_WORKER_TIMEOUT_MAX_S, AT(cfg, worker_timeout_s),
      .def = RL_WORKER_TIMEOUT_DEFAULT_S, .doc = "seconds without a heartbeat before a worker is lost" },
    { "jobs", "study-stable", CFG_UINT, 0, RL_STUDY_STABLE_MAX_S, AT(cfg, study_stable_s),
      .def = RL_STUDY_STABLE_DEFAULT_S, .doc = "seconds without an instance before a study's job starts" },
    { "jobs", "listen", CFG_STR, AT(cfg, jobs_listen), .doc = "a tcp endpoint for remote workers" },
    { "jobs", "key-file", CFG_FILE, .rule = CFG_PATH_CONFIG, AT(cfg, jobs_key_file),
      .doc = "the engine's CURVE key (radlink keygen)" },
    { "jobs/worker-key", NULL, CFG_ELEM, .max = RL_WORKER_KEYS_MAX, .open = open_worker_key,
      .doc = "a remote worker allowed in" },
    { "jobs/worker-key", "public", CFG_STR, .size = sizeof ((cfg *)0)->worker_keys[0],
      .doc = "its public key" },

    { "routes", NULL, CFG_ELEM, .max = 1, .doc = "the route file" },
    { "routes", "file", CFG_FILE, .rule = CFG_PATH_CONFIG, AT(cfg, routes_file),
      .doc = "the route file (none: the built-in routes/default.xml)" },

    { "inbox", NULL, CFG_ELEM, .max = 1, .doc = "the file drop" },
    { "inbox", "dir", CFG_FILE, .rule = CFG_PATH_CONFIG, AT(cfg, inbox_dir),
      .doc = "every file put here is ingested like received frames" },
    { "inbox", "poll", CFG_UINT, 1, RL_INBOX_POLL_MAX_S, AT(cfg, inbox_poll_s),
      .def = RL_INBOX_POLL_DEFAULT_S, .doc = "seconds between scans besides inotify" },

    { "destinations", NULL, CFG_ELEM, .max = 1, .doc = "outbound MLLP destinations" },
    { "destinations/destination", NULL, CFG_ELEM, .max = RL_MAX_DESTS, .open = open_destination,
      .doc = "a destination route files may forward to (read as in route files)" },
    { "destinations/destination", "name", CFG_STR, AT(route_dest, name), .doc = "its name" },
    { "destinations/destination", "host", CFG_HOST, AT(route_dest, host), .doc = "its host" },
    { "destinations/destination", "port", CFG_PORT, 1, PORT_MAX, AT(route_dest, port),
      .doc = "its port" },
    { "destinations/destination", "ack-timeout", CFG_UINT, 1, RL_DEST_TIMEOUT_MAX_S,
      AT(route_dest, ack_timeout_s), .def = RL_DEST_ACK_TIMEOUT_DEFAULT_S,
      .doc = "seconds an ACK is awaited" },
    { "destinations/destination", "max-retry-delay", CFG_UINT, 1, RL_DEST_TIMEOUT_MAX_S,
      AT(route_dest, max_retry_delay_s), .def = RL_DEST_RETRY_DELAY_DEFAULT_S,
      .doc = "the longest wait between two tries" },
    { "destinations/destination", "on-ae", CFG_ENUM, .names = on_ae, AT(route_dest, on_ae),
      .doc = "an AE answer: retry (with backoff, up to retries sends) or park" },
    { "destinations/destination", "on-ar", CFG_ENUM, .names = on_ar, AT(route_dest, on_ar),
      .doc = "an AR answer: park or retry" },
    { "destinations/destination", "retries", CFG_UINT, 1, RL_DEST_RETRIES_MAX,
      AT(route_dest, retries), .def = RL_DEST_RETRIES_DEFAULT,
      .doc = "sends of a message it refuses with a retry policy, then it is parked" },
    { "destinations/destination", "ordered", CFG_BOOL, AT(route_dest, unordered),
      .doc = "false: the sender moves past a parked message (default: nothing overtakes it)" },
    { "destinations/destination/tls", NULL, CFG_ELEM, .max = 1, .doc = "TLS to that destination" },
    { "destinations/destination/tls", "ca", CFG_FILE, .rule = CFG_PATH_CONFIG,
      AT(route_dest, ca), .doc = "the CA that signs its certificate" },
    { "destinations/destination/tls", "cert", CFG_FILE, .rule = CFG_PATH_CONFIG,
      AT(route_dest, cert), .doc = "the engine's client certificate" },
    { "destinations/destination/tls", "key", CFG_FILE, .rule = CFG_PATH_CONFIG,
      AT(route_dest, key), .doc = "its private key" },
    { "destinations/destination/tls", "server-name", CFG_HOST, AT(route_dest, server_name),
      .doc = "the name its certificate must carry (none: host)" },

    { "http", NULL, CFG_ELEM, .max = 1, .doc = "metrics, health, the API and the console" },
    { "http", "bind", CFG_HOST, AT(cfg, http.l.bind), .def_text = "127.0.0.1",
      .doc = "the address it listens on" },
    { "http", "port", CFG_LISTEN, 0, PORT_MAX, AT(cfg, http.l.port), .def = RL_HTTP_PORT_DEFAULT,
      .doc = "its port (0: none; auto: one the system picks)" },
    { "http", "users", CFG_FILE, .rule = CFG_PATH_CONFIG, AT(cfg, http.users),
      .doc = "the console's users file (none: DATA/users)" },
    { "http", "max-connections", CFG_UINT, 1, RL_HTTP_CONNECTIONS_MAX, AT(cfg, http.max_connections),
      .def = RL_HTTP_CONNECTIONS_DEFAULT, .doc = "connections at once (a thread each)" },
    { "http", "stress-timeout", CFG_UINT, 1, RL_STRESS_TIMEOUT_MAX_S, AT(cfg, http.stress_timeout_s),
      .def = RL_HTTP_STRESS_TIMEOUT_DEFAULT_S,
      .doc = "seconds for a connection's first request while over half of max-connections wait" },
    { "http", "allow-from", CFG_STR, AT(cfg, http.allow_from), .set = set_allow,
      .doc = "addresses and CIDR blocks connections are taken from (none: any)" },
    { "http", "lockout-failures", CFG_UINT, 1, RL_HTTP_LOCKOUT_FAILURES_MAX,
      AT(cfg, http.lockout_failures), .def = RL_HTTP_LOCKOUT_FAILURES_DEFAULT,
      .doc = "wrong passwords in a row that lock a user name" },
    { "http", "session-idle", CFG_DURATION, 1, RL_HTTP_SESSION_IDLE_MAX_S, .hint = "90s, 30m, 4h",
      AT(cfg, http.session_idle_s), .def = RL_HTTP_SESSION_IDLE_DEFAULT_S,
      .doc = "a console session ends after this long without a request" },
    { "http", "lockout", CFG_DURATION, 1, RL_HTTP_LOCKOUT_MAX_S, .hint = "90s, 30m, 4h",
      AT(cfg, http.lockout_s), .def = RL_HTTP_LOCKOUT_DEFAULT_S, .doc = "how long a lock lasts" },
    { "http/tls", NULL, CFG_ELEM, .max = 1, .open = open_http_tls, .check = check_listener_tls,
      .doc = "HTTPS" },
    { "http/tls", "cert", CFG_FILE, .rule = CFG_PATH_CONFIG, AT(cfg_listener, cert),
      .doc = "its certificate" },
    { "http/tls", "key", CFG_FILE, .rule = CFG_PATH_CONFIG, AT(cfg_listener, key),
      .doc = "its private key" },
    { "http/tls", "ca", CFG_FILE, .rule = CFG_PATH_CONFIG, AT(cfg_listener, ca),
      .doc = "the CA that signs client certificates" },
    { "http/tls", "verify-client", CFG_BOOL, AT(cfg_listener, verify_client),
      .doc = "a client certificate signed by ca is required" },

    { "audit", NULL, CFG_ELEM, .max = 1, .doc = "the audit trail (IHE ATNA)" },
    { "audit", "site", CFG_STR, AT(cfg, audit.site),
      .doc = "the Audit Enterprise Site ID every event carries (none: left out)" },
    { "audit/syslog", NULL, CFG_ELEM, .max = 1, .open = open_syslog, .check = check_syslog,
      .doc = "the collector events are shipped to (syslog over TLS, RFC 5425)" },
    { "audit/syslog", "host", CFG_HOST, AT(cfg, audit.host), .doc = "its host" },
    { "audit/syslog", "server-name", CFG_HOST, AT(cfg, audit.server_name),
      .doc = "the name its certificate must carry (none: host)" },
    { "audit/syslog", "port", CFG_PORT, 1, PORT_MAX, AT(cfg, audit.port),
      .def = RL_AUDIT_SYSLOG_PORT_DEFAULT, .doc = "its port" },
    { "audit/syslog", "ca", CFG_FILE, .rule = CFG_PATH_CONFIG, AT(cfg, audit.ca),
      .doc = "the CA that signs its certificate" },
    { "audit/syslog", "cert", CFG_FILE, .rule = CFG_PATH_CONFIG, AT(cfg, audit.cert),
      .doc = "the engine's client certificate" },
    { "audit/syslog", "key", CFG_FILE, .rule = CFG_PATH_CONFIG, AT(cfg, audit.key),
      .doc = "its private key" },

    { "alerts", NULL, CFG_ELEM, .max = 1, .check = check_alerts,
      .doc = "alerts that reach a person (e-mail, webhook, syslog)" },
    { "alerts", "every", CFG_DURATION, 1, RL_ALERT_EVERY_MAX_S, .hint = "30s, 1m, 5m",
      AT(cfg, alerts.every_s), .def = RL_ALERT_EVERY_DEFAULT_S,
      .doc = "how often the rules are looked at" },
    { "alerts", "repeat", CFG_DURATION, 0, RL_ALERT_REPEAT_MAX_S, .hint = "30m, 4h, 1d",
      AT(cfg, alerts.repeat_s), .def = RL_ALERT_REPEAT_DEFAULT_S,
      .doc = "a firing alert is sent again this often (0: once)" },
    { "alerts", "host-name", CFG_STR, AT(cfg, alerts.host_name),
      .doc = "how alerts name this engine (none: the host's name)" },
    { "alerts/email", NULL, CFG_ELEM, .max = 1, .doc = "alerts by e-mail (SMTP)" },
    { "alerts/email", "url", CFG_STR, AT(cfg, alerts.email.url),
      .doc = "smtp://host:587 (STARTTLS) or smtps://host:465" },
    { "alerts/email", "from", CFG_STR, AT(cfg, alerts.email.from), .doc = "the sender address" },
    { "alerts/email", "to", CFG_STR, AT(cfg, alerts.email.to),
      .doc = "the recipients, separated by commas" },
    { "alerts/email", "user", CFG_STR, AT(cfg, alerts.email.user),
      .doc = "the SMTP user (none: no authentication)" },
    { "alerts/email", "password-file", CFG_FILE, .rule = CFG_PATH_CONFIG,
      AT(cfg, alerts.email.password_file), .doc = "a file whose first line is its password" },
    { "alerts/email", "tls", CFG_ENUM, .names = alert_tls_names, AT(cfg, alerts.email.tls),
      .doc = "STARTTLS: required, try, or none" },
    { "alerts/email", "ca", CFG_FILE, .rule = CFG_PATH_CONFIG, AT(cfg, alerts.email.ca),
      .doc = "the CA that signs the mail server's certificate (none: the system's)" },
    { "alerts/webhook", NULL, CFG_ELEM, .max = 1, .doc = "alerts POSTed as JSON" },
    { "alerts/webhook", "url", CFG_STR, AT(cfg, alerts.webhook.url), .doc = "https://..." },
    { "alerts/webhook", "ca", CFG_FILE, .rule = CFG_PATH_CONFIG, AT(cfg, alerts.webhook.ca),
      .doc = "the CA that signs its certificate (none: the system's)" },
    { "alerts/webhook", "token-file", CFG_FILE, .rule = CFG_PATH_CONFIG,
      AT(cfg, alerts.webhook.token_file),
      .doc = "a file whose first line is sent as Authorization: Bearer" },
    { "alerts/syslog", NULL, CFG_ELEM, .max = 1, .open = open_alert_syslog,
      .doc = "alerts to the local syslog" },
    { "alerts/syslog", "socket", CFG_STR, AT(cfg, alerts.syslog.socket), .def_text = "/dev/log",
      .doc = "the local syslog socket" },
    { "alerts/syslog", "facility", CFG_ENUM, .names = alert_facilities,
      AT(cfg, alerts.syslog.facility), .doc = "daemon, user, local0 to local7" },
    { "alerts/rule", NULL, CFG_ELEM, .max = RL_ALERT_RULES_MAX, .open = open_alert_rule,
      .check = check_alert_rule, .doc = "what to watch (one rule each)" },
    { "alerts/rule", "on", CFG_ENUM, .names = alert_on_names, AT(cfg_alert_rule, on),
      .doc = "queue-depth, queue-age, parked, dead-jobs, unverified-jobs, unmatched, "
             "waiting-reports, certificate, store-use, disk-use, audit-down, worker-lost" },
    { "alerts/rule", "over", CFG_UINT, 0, UINT32_MAX, AT(cfg_alert_rule, over),
      .doc = "fires above this count (a percentage for store-use and disk-use)" },
    { "alerts/rule", "older", CFG_DURATION, 0, RL_RETENTION_MAX_S, .hint = "30m, 4h, 1d",
      AT(cfg_alert_rule, older_s), .doc = "fires once something is older than this" },
    { "alerts/rule", "within", CFG_DURATION, 0, RL_RETENTION_MAX_S, .hint = "14d, 30d",
      AT(cfg_alert_rule, within_s), .doc = "certificate: fires this long before it expires" },
    { "alerts/rule", "destination", CFG_STR, AT(cfg_alert_rule, destination),
      .doc = "queue rules: this destination only (none: each)" },
    { "alerts/rule", "for", CFG_DURATION, 0, RL_ALERT_REPEAT_MAX_S, .hint = "90s, 5m",
      AT(cfg_alert_rule, for_s), .doc = "the condition holds this long before it fires" },
    { "alerts/rule", "repeat", CFG_DURATION, 0, RL_ALERT_REPEAT_MAX_S, .hint = "30m, 4h",
      AT(cfg_alert_rule, repeat_s), .doc = "sent again this often while it holds (none: <alerts repeat>)" },
};

const cfg_key *cfg_keys(size_t *n)
{
    *n = sizeof keys / sizeof *keys;
    return keys;
}

const cfg_key *cfg_key_find(const char *elem, const char *attr)
{
    for (size_t i = 0; i < sizeof keys / sizeof *keys; i++)
        if (strcmp(keys[i].elem, elem) == 0 &&
            (attr ? keys[i].attr && strcmp(keys[i].attr, attr) == 0 : !keys[i].attr))
            return &keys[i];
    return NULL;
}
