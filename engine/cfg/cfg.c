/* Configuration loading: the XML file is validated against engine/config.xsd
 * (embedded in the binary), then read into the plain cfg struct with the
 * checks a schema cannot express. */
#include "radlink/cfg.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "radlink/job.h"
#include "radlink/limits.h"
#include "radlink/log.h"
#include "radlink/xdoc.h"

extern const char radlink_config_xsd[];
extern const unsigned long radlink_config_xsd_len;

void cfg_defaults(cfg *c)
{
    memset(c, 0, sizeof *c);
    snprintf(c->source, sizeof c->source, "embedded default");
    snprintf(c->data_dir, sizeof c->data_dir, "./var");
    c->log_level = LOG_INFO;
    c->n_mllp = 1;
    snprintf(c->mllp[0].bind, sizeof c->mllp[0].bind, "127.0.0.1");
    c->mllp[0].port = 2575;
    c->max_frame = RL_MAX_FRAME_DEFAULT;
    c->max_connections = RL_MAX_CONNECTIONS_DEFAULT;
    c->max_per_address = RL_MLLP_MAX_PER_ADDRESS_DEFAULT;
    c->max_buffered_mb = RL_MLLP_MAX_BUFFERED_MB_DEFAULT;
    c->idle_timeout_s = RL_IDLE_TIMEOUT_DEFAULT_S;
    c->read_timeout_s = RL_READ_TIMEOUT_DEFAULT_S;
    c->map_size_mb = RL_STORE_MAP_SIZE_DEFAULT_MB;
    c->max_map_size_mb = RL_STORE_MAP_CEILING_DEFAULT_MB;
    c->retention.every_s = RL_RETENTION_EVERY_DEFAULT_S;
    c->group_commit = true;
    c->dedup_window_s = RL_DEDUP_WINDOW_DEFAULT_S;
    c->inbox_poll_s = RL_INBOX_POLL_DEFAULT_S;
    c->dicom_port = 11112;
    snprintf(c->dicom_bind, sizeof c->dicom_bind, "127.0.0.1");
    c->dicom_assoc_timeout_s = RL_DICOM_ASSOC_TIMEOUT_DEFAULT_S;
    c->dicom_max_per_address = RL_DICOM_MAX_PER_ADDRESS_DEFAULT;
    snprintf(c->dicom_ae, sizeof c->dicom_ae, "RADLINK");
    c->dicom_max_associations = RL_DICOM_MAX_ASSOCIATIONS_DEFAULT;
    c->dicom_max_responses = RL_DICOM_MAX_RESPONSES_DEFAULT;
    c->dicom_timeout_s = RL_DICOM_TIMEOUT_DEFAULT_S;
    snprintf(c->dicom_mwl_hide, sizeof c->dicom_mwl_hide, "COMPLETED DISCONTINUED");
    c->workers = RL_LOCAL_WORKERS_DEFAULT;
    c->job_attempts = RL_JOB_ATTEMPTS_DEFAULT;
    c->worker_timeout_s = RL_WORKER_TIMEOUT_DEFAULT_S;
    c->study_stable_s = RL_STUDY_STABLE_DEFAULT_S;
    snprintf(c->http.l.bind, sizeof c->http.l.bind, "127.0.0.1");
    c->http.l.port = RL_HTTP_PORT_DEFAULT;
    c->http.max_connections = RL_HTTP_CONNECTIONS_DEFAULT;
    c->http.session_idle_s = RL_HTTP_SESSION_IDLE_DEFAULT_S;
    c->http.lockout_failures = RL_HTTP_LOCKOUT_FAILURES_DEFAULT;
    c->http.lockout_s = RL_HTTP_LOCKOUT_DEFAULT_S;
}

typedef struct loader {
    const char *path;
    rl_buf *errors;
    int bad;
} loader;

static void copy_str(loader *l, const xmlNode *n, const char *attr, char *dst, size_t dstn)
{
    const char *v = xdoc_attr(n, attr);
    if (!v)
        return;
    if (strlen(v) >= dstn) {
        xdoc_error(l->errors, l->path, n, "%s: value longer than %zu characters", attr,
                   dstn - 1);
        l->bad++;
        return;
    }
    snprintf(dst, dstn, "%s", v);
}

static void copy_num(loader *l, const xmlNode *n, const char *attr, unsigned long max,
                     unsigned long *dst)
{
    const char *v = xdoc_attr(n, attr);
    uint64_t x;
    if (!v)
        return;
    if (!rl_str_to_u64(rl_str_c(v), max, &x)) {
        xdoc_error(l->errors, l->path, n, "%s: '%s' is not a number up to %lu", attr, v, max);
        l->bad++;
        return;
    }
    *dst = (unsigned long)x;
}

static void resolve_path(loader *l, const xmlNode *n, const char *attr, char *dst, size_t dstn);

/* <tls cert key ca verify-client> of a listener; relative: the files are
 * relative to the configuration file (<http>), else taken as written
 * (<mllp><listen>, as it always was). */
static void load_listener_tls(loader *l, const xmlNode *t, cfg_listener *li, bool relative)
{
    li->tls = true;
    static const char *const attrs[] = { "cert", "key", "ca" };
    char *dst[] = { li->cert, li->key, li->ca };
    for (int i = 0; i < 3; i++) {
        if (relative)
            resolve_path(l, t, attrs[i], dst[i], sizeof li->cert);
        else
            copy_str(l, t, attrs[i], dst[i], sizeof li->cert);
    }
    const char *vc = xdoc_attr(t, "verify-client");
    li->verify_client = vc && (strcmp(vc, "true") == 0 || strcmp(vc, "1") == 0);
    if (li->verify_client && !li->ca[0]) {
        xdoc_error(l->errors, l->path, t, "tls: verify-client needs a ca file");
        l->bad++;
    }
}

static void load_listener(loader *l, const xmlNode *n, cfg_listener *li)
{
    unsigned long port = 0;
    snprintf(li->bind, sizeof li->bind, "127.0.0.1");
    copy_str(l, n, "bind", li->bind, sizeof li->bind);
    copy_num(l, n, "port", 65535, &port);
    li->port = (unsigned)port;
    for (xmlNode *t = xdoc_first(n); t; t = xdoc_next(t))
        if (xdoc_is(t, "tls"))
            load_listener_tls(l, t, li, false);
}

static void load_dicom_tls(loader *l, const xmlNode *parent, bool listener, dicom_tls *t);

/* <http>: the listener for metrics, health, the API and the console. Its
 * files are relative to the configuration file. */
static void load_http(loader *l, const xmlNode *n, cfg *c)
{
    unsigned long port = c->http.l.port, v;
    copy_str(l, n, "bind", c->http.l.bind, sizeof c->http.l.bind);
    copy_num(l, n, "port", 65535, &port);
    c->http.l.port = (unsigned)port;
    resolve_path(l, n, "users", c->http.users, sizeof c->http.users);
    struct { const char *attr; unsigned long max; unsigned *dst; } nums[] = {
        { "max-connections", 1024, &c->http.max_connections },
        { "lockout-failures", 100, &c->http.lockout_failures },
    };
    for (size_t i = 0; i < sizeof nums / sizeof *nums; i++) {
        v = *nums[i].dst;
        copy_num(l, n, nums[i].attr, nums[i].max, &v);
        *nums[i].dst = (unsigned)v;
    }
    struct { const char *attr; unsigned *dst; } durations[] = {
        { "session-idle", &c->http.session_idle_s },
        { "lockout", &c->http.lockout_s },
    };
    for (size_t i = 0; i < sizeof durations / sizeof *durations; i++) {
        const char *text = xdoc_attr(n, durations[i].attr);
        uint64_t s = 0;
        if (!text)
            continue;
        if (!rl_duration_parse(rl_str_c(text), 86400, &s) || !s) {
            xdoc_error(l->errors, l->path, n, "<http>: %s '%s' is not a duration of 1s to 1d "
                       "(90s, 30m, 4h)", durations[i].attr, text);
            l->bad++;
            continue;
        }
        *durations[i].dst = (unsigned)s;
    }
    for (xmlNode *t = xdoc_first(n); t; t = xdoc_next(t))
        if (xdoc_is(t, "tls"))
            load_listener_tls(l, t, &c->http.l, true);
}

static void load_pacs(loader *l, const xmlNode *n, cfg_pacs *p)
{
    unsigned long port = 0, timeout = RL_COMMIT_TIMEOUT_DEFAULT_S;
    memset(p, 0, sizeof *p);
    p->verify = PACS_VERIFY_COMMIT_FIND;
    copy_str(l, n, "ae", p->ae, sizeof p->ae);
    copy_str(l, n, "host", p->host, sizeof p->host);
    copy_num(l, n, "port", 65535, &port);
    p->port = (unsigned)port;
    copy_num(l, n, "commit-timeout", 3600, &timeout);
    p->commit_timeout_s = (unsigned)timeout;
    copy_str(l, n, "hl7-destination", p->hl7_dest, sizeof p->hl7_dest);
    const char *u = xdoc_attr(n, "update"), *v = xdoc_attr(n, "verify"),
               *r = xdoc_attr(n, "reject-reason");
    /* the schema lists the values */
    if (u)
        p->update = !strcmp(u, "hl7") ? PACS_UPDATE_HL7
                    : !strcmp(u, "iocm") ? PACS_UPDATE_IOCM : PACS_UPDATE_RESEND;
    if (v)
        p->verify = !strcmp(v, "none") ? PACS_VERIFY_NONE
                    : !strcmp(v, "find") ? PACS_VERIFY_FIND : PACS_VERIFY_COMMIT_FIND;
    if (r)
        p->reject = !strcmp(r, "patient-safety") ? PACS_REJECT_SAFETY : PACS_REJECT_WORKLIST;
    const char *m = xdoc_attr(n, "mpps");
    p->mpps = m && (!strcmp(m, "true") || !strcmp(m, "1"));
    load_dicom_tls(l, n, false, &p->tls);
}


/* A path in the config file is relative to the config file's directory. */
static void resolve_path(loader *l, const xmlNode *n, const char *attr, char *dst, size_t dstn)
{
    const char *v = xdoc_attr(n, attr);
    if (!v)
        return;
    const char *slash = strrchr(l->path, '/');
    int dirn = v[0] == '/' || !slash ? 0 : (int)(slash - l->path) + 1;
    if (strlen(v) + (size_t)dirn >= dstn) {
        xdoc_error(l->errors, l->path, n, "%s: path longer than %zu characters", attr, dstn - 1);
        l->bad++;
        return;
    }
    snprintf(dst, dstn, "%.*s%s", dirn, l->path, v);
}

/* <tls> under <dicom> (listener) or <pacs> (our associations to it). */
static void load_dicom_tls(loader *l, const xmlNode *parent, bool listener, dicom_tls *t)
{
    memset(t, 0, sizeof *t);
    for (xmlNode *n = xdoc_first(parent); n; n = xdoc_next(n)) {
        if (!xdoc_is(n, "tls"))
            continue;
        t->on = true;
        unsigned long port = 0;
        copy_num(l, n, "port", 65535, &port);
        t->port = (unsigned)port;
        resolve_path(l, n, "cert", t->cert, sizeof t->cert);
        resolve_path(l, n, "key", t->key, sizeof t->key);
        resolve_path(l, n, "ca", t->ca, sizeof t->ca);
        const char *vc = xdoc_attr(n, "verify-client");
        t->verify_peer = vc && (strcmp(vc, "true") == 0 || strcmp(vc, "1") == 0);
        if (listener && t->verify_peer && !t->ca[0]) {
            xdoc_error(l->errors, l->path, n, "tls: verify-client needs a ca file");
            l->bad++;
        }
        if (!listener && !t->cert[0] != !t->key[0]) {
            xdoc_error(l->errors, l->path, n, "tls: cert and key go together");
            l->bad++;
        }
    }
}

int cfg_load(cfg *c, const char *path, rl_buf *errors)
{
    xmlDocPtr doc = xdoc_load(path, radlink_config_xsd, radlink_config_xsd_len, errors);
    if (!doc)
        return -1;
    cfg next = *c;
    loader l = { path, errors, 0 };
    snprintf(next.source, sizeof next.source, "%s", path);
    bool listeners_seen = false;
    long pacs_lines[RL_MAX_PACS] = { 0 };
    for (xmlNode *n = xdoc_first(xmlDocGetRootElement(doc)); n; n = xdoc_next(n)) {
        if (xdoc_is(n, "data")) {
            copy_str(&l, n, "dir", next.data_dir, sizeof next.data_dir);
        } else if (xdoc_is(n, "store")) {
            unsigned long v = (unsigned long)next.map_size_mb;
            copy_num(&l, n, "map-size-mb", 1ul << 24, &v);
            next.map_size_mb = v;
            v = (unsigned long)next.max_map_size_mb;
            copy_num(&l, n, "max-map-size-mb", 1ul << 24, &v);
            next.max_map_size_mb = v;
            const char *gc = xdoc_attr(n, "group-commit");
            if (gc)
                next.group_commit = strcmp(gc, "true") == 0 || strcmp(gc, "1") == 0;
        } else if (xdoc_is(n, "hl7")) {
            unsigned long v = next.dedup_window_s;
            copy_num(&l, n, "dedup-window", 86400ul * 365, &v);
            next.dedup_window_s = (unsigned)v;
        } else if (xdoc_is(n, "dicom")) {
            unsigned long v = next.dicom_port;
            copy_num(&l, n, "port", 65535, &v);
            next.dicom_port = (unsigned)v;
            copy_str(&l, n, "bind", next.dicom_bind, sizeof next.dicom_bind);
            v = next.dicom_assoc_timeout_s;
            copy_num(&l, n, "association-timeout", 3600, &v);
            next.dicom_assoc_timeout_s = (unsigned)v;
            v = next.dicom_max_per_address;
            copy_num(&l, n, "max-per-address", RL_DICOM_MAX_ASSOCIATIONS_CEILING, &v);
            next.dicom_max_per_address = (unsigned)v;
            load_dicom_tls(&l, n, true, &next.dicom_tls);
            copy_str(&l, n, "ae-title", next.dicom_ae, sizeof next.dicom_ae);
            v = next.dicom_max_associations;
            copy_num(&l, n, "max-associations", RL_DICOM_MAX_ASSOCIATIONS_CEILING, &v);
            next.dicom_max_associations = (unsigned)v;
            v = next.dicom_max_responses;
            copy_num(&l, n, "max-responses", 1000000, &v);
            next.dicom_max_responses = (unsigned)v;
            v = next.dicom_timeout_s;
            copy_num(&l, n, "timeout", 86400, &v);
            next.dicom_timeout_s = (unsigned)v;
            const char *ic = xdoc_attr(n, "case-insensitive-names");
            if (ic)
                next.dicom_icase_names = strcmp(ic, "true") == 0 || strcmp(ic, "1") == 0;
            const char *hide = xdoc_attr(n, "mwl-hide");
            if (hide)
                snprintf(next.dicom_mwl_hide, sizeof next.dicom_mwl_hide, "%s", hide);
            const char *dup = xdoc_attr(n, "duplicates");
            if (dup)
                next.dicom_refuse_duplicates = strcmp(dup, "refuse") == 0;
            next.n_dicom_allowed = 0;
            next.n_pacs = 0;
            for (xmlNode *a = xdoc_first(n); a; a = xdoc_next(a)) {
                if (xdoc_is(a, "allow") && next.n_dicom_allowed < RL_DICOM_ALLOW_MAX)
                    copy_str(&l, a, "ae", next.dicom_allowed[next.n_dicom_allowed++],
                             sizeof next.dicom_allowed[0]);
                if (xdoc_is(a, "pacs") && next.n_pacs < RL_MAX_PACS) {
                    pacs_lines[next.n_pacs] = xmlGetLineNo(a);
                    load_pacs(&l, a, &next.pacs[next.n_pacs++]);
                }
            }
        } else if (xdoc_is(n, "jobs")) {
            unsigned long v = next.workers;
            copy_num(&l, n, "workers", RL_LOCAL_WORKERS_MAX, &v);
            next.workers = (unsigned)v;
            v = next.job_attempts;
            copy_num(&l, n, "max-attempts", 1000, &v);
            next.job_attempts = (unsigned)v;
            v = next.worker_timeout_s;
            copy_num(&l, n, "worker-timeout", 3600, &v);
            next.worker_timeout_s = (unsigned)v;
            v = next.study_stable_s;
            copy_num(&l, n, "study-stable", 86400, &v);
            next.study_stable_s = (unsigned)v;
            copy_str(&l, n, "listen", next.jobs_listen, sizeof next.jobs_listen);
            resolve_path(&l, n, "key-file", next.jobs_key_file, sizeof next.jobs_key_file);
            next.n_worker_keys = 0;
            for (xmlNode *k = xdoc_first(n); k; k = xdoc_next(k))
                if (xdoc_is(k, "worker-key") && next.n_worker_keys < RL_WORKER_KEYS_MAX)
                    copy_str(&l, k, "public", next.worker_keys[next.n_worker_keys++],
                             sizeof next.worker_keys[0]);
            if (next.jobs_key_file[0] && !next.n_worker_keys) {
                xdoc_error(errors, path, n, "<jobs>: a key-file needs at least one <worker-key> "
                           "(the public keys of the workers allowed in)");
                l.bad++;
            }
        } else if (xdoc_is(n, "retention")) {
            struct { const char *attr; uint32_t *dst; } d[] = {
                { "messages", &next.retention.messages_s }, { "worklist", &next.retention.worklist_s },
                { "jobs", &next.retention.jobs_s },         { "spool", &next.retention.spool_s },
                { "audit", &next.retention.audit_s }, { "every", &next.retention.every_s },
            };
            for (size_t i = 0; i < sizeof d / sizeof *d; i++) {
                const char *text = xdoc_attr(n, d[i].attr);
                uint64_t s = 0;
                if (text && !rl_duration_parse(rl_str_c(text), 100u * 366u * 86400u, &s)) {
                    xdoc_error(errors, path, n, "<retention>: %s '%s' is not a duration (90d, "
                               "12h, 30m, 45s)", d[i].attr, text);
                    l.bad++;
                }
                if (text)
                    *d[i].dst = (uint32_t)s;
            }
            unsigned long mb = 0;
            copy_num(&l, n, "messages-max-mb", 1ul << 24, &mb);
            next.retention.messages_max_mb = mb;
        } else if (xdoc_is(n, "recon")) {
            const char *u = xdoc_attr(n, "unmatched"), *after = xdoc_attr(n, "forward-after");
            uint64_t s = 0;
            if (after && !rl_duration_parse(rl_str_c(after), 366u * 86400u, &s)) {
                xdoc_error(errors, path, n, "<recon>: forward-after '%s' is not a duration "
                           "(90s, 30m, 4h, 2d)", after);
                l.bad++;
            }
            next.unmatched_forward_s = (unsigned)s;
            if (u && strcmp(u, "forward") == 0 && !after)
                next.unmatched_forward_s = 1; /* at once */
            if (u && strcmp(u, "hold") == 0 && !after)
                next.unmatched_forward_s = 0;
        } else if (xdoc_is(n, "routes")) {
            resolve_path(&l, n, "file", next.routes_file, sizeof next.routes_file);
        } else if (xdoc_is(n, "inbox")) {
            resolve_path(&l, n, "dir", next.inbox_dir, sizeof next.inbox_dir);
            unsigned long poll = RL_INBOX_POLL_DEFAULT_S;
            copy_num(&l, n, "poll", 86400, &poll);
            next.inbox_poll_s = (unsigned)poll;
        } else if (xdoc_is(n, "http")) {
            load_http(&l, n, &next);
        } else if (xdoc_is(n, "audit")) {
            copy_str(&l, n, "site", next.audit.site, sizeof next.audit.site);
            for (xmlNode *sl = xdoc_first(n); sl; sl = xdoc_next(sl)) {
                copy_str(&l, sl, "host", next.audit.host, sizeof next.audit.host);
                copy_str(&l, sl, "server-name", next.audit.server_name,
                         sizeof next.audit.server_name);
                unsigned long port = 6514; /* RFC 5425 */
                copy_num(&l, sl, "port", 65535, &port);
                next.audit.port = (unsigned)port;
                resolve_path(&l, sl, "ca", next.audit.ca, sizeof next.audit.ca);
                resolve_path(&l, sl, "cert", next.audit.cert, sizeof next.audit.cert);
                resolve_path(&l, sl, "key", next.audit.key, sizeof next.audit.key);
                if (!next.audit.cert[0] != !next.audit.key[0]) {
                    xdoc_error(l.errors, l.path, sl, "syslog: cert and key go together");
                    l.bad++;
                }
            }
        } else if (xdoc_is(n, "destinations")) {
            next.n_dests = 0;
            for (xmlNode *d = xdoc_first(n); d; d = xdoc_next(d)) {
                route_dest *rd = &next.dests[next.n_dests];
                if (route_dest_from_xml(d, path, rd, errors) != 0) {
                    l.bad++;
                    continue;
                }
                for (unsigned k = 0; k < next.n_dests; k++)
                    if (strcmp(next.dests[k].name, rd->name) == 0) {
                        xdoc_error(errors, path, d, "<destination>: '%s' is defined twice",
                                   rd->name);
                        l.bad++;
                    }
                next.n_dests++;
            }
        } else if (xdoc_is(n, "log")) {
            next.log_level = log_level_parse(xdoc_attr(n, "level"));
        } else if (xdoc_is(n, "mllp")) {
            unsigned long v;
            v = next.max_frame;
            copy_num(&l, n, "max-frame", RL_MAX_FRAME_CEILING, &v);
            next.max_frame = v;
            v = next.max_connections;
            copy_num(&l, n, "max-connections", 100000, &v);
            next.max_connections = (unsigned)v;
            v = next.max_per_address;
            copy_num(&l, n, "max-per-address", 100000, &v);
            next.max_per_address = (unsigned)v;
            v = (unsigned long)next.max_buffered_mb;
            copy_num(&l, n, "max-buffered-mb", 1ul << 20, &v);
            next.max_buffered_mb = v;
            v = next.idle_timeout_s;
            copy_num(&l, n, "idle-timeout", 86400 * 7, &v);
            next.idle_timeout_s = (unsigned)v;
            v = next.read_timeout_s;
            copy_num(&l, n, "read-timeout", 86400, &v);
            next.read_timeout_s = (unsigned)v;
            for (xmlNode *li = xdoc_first(n); li; li = xdoc_next(li)) {
                if (!xdoc_is(li, "listen"))
                    continue;
                if (!listeners_seen) {
                    listeners_seen = true;
                    next.n_mllp = 0;
                }
                cfg_listener *dst = &next.mllp[next.n_mllp++];
                memset(dst, 0, sizeof *dst);
                load_listener(&l, li, dst);
            }
        }
    }
    /* a PACS that takes ADT needs a destination for it */
    for (unsigned i = 0; i < next.n_pacs; i++) {
        const cfg_pacs *p = &next.pacs[i];
        if (p->update != PACS_UPDATE_HL7)
            continue;
        bool found = false;
        for (unsigned k = 0; k < next.n_dests && !found; k++)
            found = strcmp(next.dests[k].name, p->hl7_dest) == 0;
        if (!p->hl7_dest[0] || !found) {
            rl_buf_printf(errors, "%s:%ld: <pacs ae=\"%s\">: update=\"hl7\" needs "
                          "hl7-destination naming a <destination> of this file%s%s%s\n", path,
                          pacs_lines[i], p->ae, p->hl7_dest[0] ? " ('" : "", p->hl7_dest,
                          p->hl7_dest[0] ? "' is none)" : "");
            l.bad++;
        }
    }
    xmlFreeDoc(doc);
    if (l.bad)
        return -1;
    *c = next;
    return 0;
}

void cfg_print(const cfg *c, void *file)
{
    FILE *f = file;
    static const char *levels[] = { "error", "warn", "info", "debug" };
    fprintf(f, "config=%s\n", c->source);
    fprintf(f, "data=%s\n", c->data_dir);
    fprintf(f, "log.level=%s\n", levels[c->log_level & 3]);
    for (unsigned i = 0; i < c->n_mllp; i++)
        fprintf(f, "mllp.listen=%s:%u%s\n", c->mllp[i].bind, c->mllp[i].port,
                c->mllp[i].tls ? " tls" : "");
    fprintf(f, "mllp.max-frame=%zu\nmllp.max-connections=%u\n", c->max_frame, c->max_connections);
    fprintf(f, "mllp.max-per-address=%u\nmllp.max-buffered-mb=%llu\n", c->max_per_address,
            (unsigned long long)c->max_buffered_mb);
    fprintf(f, "mllp.idle-timeout=%u\nmllp.read-timeout=%u\n", c->idle_timeout_s,
            c->read_timeout_s);
    const char *db = c->dicom_bind[0] ? c->dicom_bind : "*";
    if (c->dicom_port)
        fprintf(f, "dicom.listen=%s:%u ae=%s allowed=%s\n", db, c->dicom_port, c->dicom_ae,
                c->n_dicom_allowed ? "list" : "any");
    else
        fprintf(f, "dicom.listen=off\n");
    if (c->dicom_tls.on)
        fprintf(f, "dicom.tls=%s:%u verify-client=%s\n", db, c->dicom_tls.port,
                c->dicom_tls.verify_peer ? "true" : "false");
    if (c->dicom_port || c->dicom_tls.on)
        fprintf(f, "dicom.association-timeout=%u\ndicom.max-per-address=%u\n",
                c->dicom_assoc_timeout_s, c->dicom_max_per_address);
    static const char *const upd[] = { "resend", "hl7", "iocm" },
                             *const ver[] = { "none", "find", "commit+find" };
    for (unsigned i = 0; i < c->n_pacs; i++)
        fprintf(f, "pacs=%s@%s:%u update=%s%s%s verify=%s%s%s\n", c->pacs[i].ae, c->pacs[i].host,
                c->pacs[i].port, upd[c->pacs[i].update % 3],
                c->pacs[i].update == PACS_UPDATE_HL7 ? " via " : "", c->pacs[i].hl7_dest,
                ver[c->pacs[i].verify % 3], c->pacs[i].mpps ? " mpps=forward" : "",
                c->pacs[i].tls.on ? " tls" : "");
    if (c->http.l.port)
        fprintf(f, "http.listen=%s:%u%s users=%s\n", c->http.l.bind, c->http.l.port,
                c->http.l.tls ? " tls" : "", c->http.users[0] ? c->http.users : "DATA/users");
    else
        fprintf(f, "http.listen=off\n");
    if (c->unmatched_forward_s)
        fprintf(f, "recon.unmatched=forward after %us\n", c->unmatched_forward_s);
    else
        fprintf(f, "recon.unmatched=hold\n");
    fprintf(f, "dicom.duplicates=%s\n", c->dicom_refuse_duplicates ? "refuse" : "replace");
    fprintf(f, "jobs.workers=%u\njobs.max-attempts=%u\njobs.worker-timeout=%u\n"
               "jobs.study-stable=%u\n", c->workers, c->job_attempts, c->worker_timeout_s,
            c->study_stable_s);
    if (c->jobs_listen[0])
        fprintf(f, "jobs.listen=%s%s\n", c->jobs_listen, c->jobs_key_file[0] ? " curve" : "");
    fprintf(f, "routes=%s\n", c->routes_file[0] ? c->routes_file : "built-in default");
    if (c->inbox_dir[0])
        fprintf(f, "inbox=%s poll=%us\n", c->inbox_dir, c->inbox_poll_s);
    if (c->audit.host[0])
        fprintf(f, "audit=syslog-tls://%s:%u\n", c->audit.host, c->audit.port);
    else
        fprintf(f, "audit=kept in the store (no <audit><syslog>)\n");
    for (unsigned i = 0; i < c->n_dests; i++)
        fprintf(f, "destination=%s %s:%u%s\n", c->dests[i].name, c->dests[i].host,
                c->dests[i].port, c->dests[i].tls ? " tls" : "");
    fprintf(f, "store.max-map-size-mb=%llu\n", (unsigned long long)c->max_map_size_mb);
    fprintf(f, "store.map-size-mb=%llu\nstore.group-commit=%s\nhl7.dedup-window=%u\n",
            (unsigned long long)c->map_size_mb, c->group_commit ? "true" : "false",
            c->dedup_window_s);
}
