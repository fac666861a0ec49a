/* cfg_print: the effective configuration as `radlink serve` prints it at
 * start, one key=value per line. A plain key is named and formatted by its
 * row; the rest (listeners, PACS, destinations...) have lines of their own.
 * The order and the names are what people and scripts have read since the
 * first release: keep them. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "radlink/cfg.h"
#include "radlink/job.h"

static uint64_t load_num(const void *src, size_t size)
{
    if (size == sizeof(bool)) {
        bool b;
        memcpy(&b, src, sizeof b);
        return b;
    }
    if (size == sizeof(uint32_t)) {
        uint32_t x;
        memcpy(&x, src, sizeof x);
        return x;
    }
    uint64_t v;
    memcpy(&v, src, sizeof v);
    return v;
}

/* A value of an enumeration row by its index ("?" past its names). */
static const char *enum_name(const char *elem, const char *attr, uint64_t index)
{
    const cfg_key *k = cfg_key_find(elem, attr);
    for (uint64_t i = 0; k && k->names && k->names[i]; i++)
        if (i == index)
            return k->names[i];
    return "?";
}

/* elem.attr=value (or label=value) of a key that lands in cfg itself. */
static void print_key(const cfg *c, FILE *f, const char *elem, const char *attr,
                      const char *label)
{
    const cfg_key *k = cfg_key_find(elem, attr);
    if (!k)
        return;
    const char *at = (const char *)c + k->off;
    char name[96];
    if (!label) {
        snprintf(name, sizeof name, "%s.%s", elem, attr);
        for (char *p = name; *p; p++)
            *p = *p == '/' ? '.' : *p;
        label = name;
    }
    fprintf(f, "%s=", label);
    switch (k->type) {
    case CFG_STR:
    case CFG_STR_CUT:
    case CFG_HOST:
    case CFG_AE:
    case CFG_FILE:
        fprintf(f, "%s\n", at);
        return;
    case CFG_BOOL:
        fprintf(f, "%s\n", load_num(at, k->size) ? "true" : "false");
        return;
    case CFG_ENUM:
        fprintf(f, "%s\n", enum_name(elem, attr, load_num(at, k->size)));
        return;
    default:
        fprintf(f, "%" PRIu64 "\n", load_num(at, k->size));
        return;
    }
}

/* A path as the engine will use it: absolute (a relative one against the
 * working directory, where the engine runs), whether or not it exists yet. */
static const char *abs_of(const char *path, char *buf, size_t n)
{
    if (!path[0] || rl_realpath(path, buf, n))
        return path[0] ? buf : path;
    return rl_abspath(path, buf, n) ? buf : path;
}

static void print_source(const cfg *c, FILE *f)
{
    char abs[RL_ABS_PATH_MAX];
    fprintf(f, "config=%s\n", strcmp(c->source, "embedded default")
                                  ? abs_of(c->source, abs, sizeof abs) : c->source);
}

static void print_data(const cfg *c, FILE *f)
{
    char abs[RL_ABS_PATH_MAX];
    fprintf(f, "data=%s\n", abs_of(c->data_dir, abs, sizeof abs));
}

/* A port as the configuration holds it: a number, or auto (the system picks
 * one when the engine binds it; `radlink status` says which). */
static const char *port_text(unsigned port, char *buf, size_t n)
{
    if (port == RL_PORT_AUTO)
        return "auto";
    snprintf(buf, n, "%u", port);
    return buf;
}

static void print_mllp(const cfg *c, FILE *f)
{
    char p[RL_NUM_TEXT_MAX];
    for (unsigned i = 0; i < c->n_mllp; i++)
        fprintf(f, "mllp.listen=%s:%s%s\n", c->mllp[i].bind, port_text(c->mllp[i].port, p, sizeof p),
                c->mllp[i].tls ? " tls" : "");
}

static void print_dicom(const cfg *c, FILE *f)
{
    const char *db = c->dicom_bind[0] ? c->dicom_bind : "*";
    char p[RL_NUM_TEXT_MAX];
    if (c->dicom_port)
        fprintf(f, "dicom.listen=%s:%s ae=%s allowed=%s\n", db, port_text(c->dicom_port, p, sizeof p),
                c->dicom_ae, c->n_dicom_allowed ? "list" : "any");
    else
        fprintf(f, "dicom.listen=off\n");
    if (c->dicom_tls.on)
        fprintf(f, "dicom.tls=%s:%u verify-client=%s\n", db, c->dicom_tls.port,
                c->dicom_tls.verify_peer ? "true" : "false");
    if (c->dicom_port || c->dicom_tls.on) {
        print_key(c, f, "dicom", "association-timeout", NULL);
        print_key(c, f, "dicom", "max-per-address", NULL);
        print_key(c, f, "dicom", "max-connections", NULL);
        print_key(c, f, "dicom", "stress-timeout", NULL);
        fprintf(f, "dicom.allow-from=%s\n", c->dicom_allow_from[0] ? c->dicom_allow_from : "any");
    }
}

static void print_pacs(const cfg *c, FILE *f)
{
    for (unsigned i = 0; i < c->n_pacs; i++) {
        const cfg_pacs *p = &c->pacs[i];
        fprintf(f, "pacs=%s@%s:%u update=%s%s%s verify=%s%s%s\n", p->ae, p->host, p->port,
                enum_name("dicom/pacs", "update", p->update),
                p->update == PACS_UPDATE_HL7 ? " via " : "", p->hl7_dest,
                enum_name("dicom/pacs", "verify", p->verify), p->mpps ? " mpps=forward" : "",
                p->tls.on ? " tls" : "");
    }
}

static void print_http(const cfg *c, FILE *f)
{
    char p[RL_NUM_TEXT_MAX];
    if (c->http.l.port)
        fprintf(f, "http.listen=%s:%s%s users=%s\n", c->http.l.bind,
                port_text(c->http.l.port, p, sizeof p),
                c->http.l.tls ? " tls" : "", c->http.users[0] ? c->http.users : "DATA/users");
    else
        fprintf(f, "http.listen=off\n");
    if (c->http.l.port)
        fprintf(f, "http.allow-from=%s\n", c->http.allow_from[0] ? c->http.allow_from : "any");
}

static void print_mllp_allow(const cfg *c, FILE *f)
{
    fprintf(f, "mllp.allow-from=%s\n", c->mllp_allow_from[0] ? c->mllp_allow_from : "any");
}

static void print_recon(const cfg *c, FILE *f)
{
    if (c->unmatched_forward_s)
        fprintf(f, "recon.unmatched=forward after %us\n", c->unmatched_forward_s);
    else
        fprintf(f, "recon.unmatched=hold\n");
}

static void print_jobs_listen(const cfg *c, FILE *f)
{
    if (c->jobs_listen[0])
        fprintf(f, "jobs.listen=%s%s\n", c->jobs_listen, c->jobs_key_file[0] ? " curve" : "");
}

static void print_files(const cfg *c, FILE *f)
{
    char abs[RL_ABS_PATH_MAX];
    fprintf(f, "routes=%s\n", c->routes_file[0] ? abs_of(c->routes_file, abs, sizeof abs)
                                                : "built-in default");
    if (c->inbox_dir[0])
        fprintf(f, "inbox=%s poll=%us\n", abs_of(c->inbox_dir, abs, sizeof abs), c->inbox_poll_s);
}

static void print_audit(const cfg *c, FILE *f)
{
    if (c->audit.host[0])
        fprintf(f, "audit=syslog-tls://%s:%u\n", c->audit.host, c->audit.port);
    else
        fprintf(f, "audit=kept in the store (no <audit><syslog>)\n");
}

static void print_dests(const cfg *c, FILE *f)
{
    for (unsigned i = 0; i < c->n_dests; i++)
        fprintf(f, "destination=%s %s:%u%s\n", c->dests[i].name, c->dests[i].host,
                c->dests[i].port, c->dests[i].tls ? " tls" : "");
}

/* The lines in order: a key (elem, attr, label) or lines of their own. */
#define KEY(elem, attr) { elem, attr, NULL, NULL }
#define LINES(fn) { NULL, NULL, NULL, fn }
static const struct print_step {
    const char *elem, *attr, *label;
    void (*lines)(const cfg *c, FILE *f);
} steps[] = {
    LINES(print_source),
    LINES(print_data),
    KEY("log", "level"),
    LINES(print_mllp),
    KEY("mllp", "max-frame"),
    KEY("mllp", "max-connections"),
    KEY("mllp", "max-per-address"),
    KEY("mllp", "max-buffered-mb"),
    KEY("mllp", "idle-timeout"),
    KEY("mllp", "read-timeout"),
    KEY("mllp", "stress-timeout"),
    LINES(print_mllp_allow),
    LINES(print_dicom),
    LINES(print_pacs),
    LINES(print_http),
    LINES(print_recon),
    KEY("dicom", "duplicates"),
    KEY("jobs", "workers"),
    KEY("jobs", "max-attempts"),
    KEY("jobs", "worker-timeout"),
    KEY("jobs", "study-stable"),
    LINES(print_jobs_listen),
    LINES(print_files),
    LINES(print_audit),
    LINES(print_dests),
    KEY("store", "max-map-size-mb"),
    KEY("store", "map-size-mb"),
    KEY("store", "group-commit"),
    KEY("hl7", "dedup-window"),
};

void cfg_print(const cfg *c, void *file)
{
    FILE *f = file;
    for (size_t i = 0; i < sizeof steps / sizeof *steps; i++) {
        if (steps[i].lines)
            steps[i].lines(c, f);
        else
            print_key(c, f, steps[i].elem, steps[i].attr, steps[i].label);
    }
}
