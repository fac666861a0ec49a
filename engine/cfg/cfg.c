/* Configuration loading: the XML file is validated against config.xsd
 * (embedded in the binary), then walked by the table of keys (keys.c): each
 * attribute checked by its row's type and bounds and set where the row says;
 * then the checks between keys that no row can express. */
#include <inttypes.h>
#include <libxml/tree.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "radlink/job.h"
#include "radlink/log.h"
#include "radlink/xdoc.h"
#include "walk.h" /* radlink/cfg.h and the walk's state */

extern const char radlink_config_xsd[];
extern const unsigned long radlink_config_xsd_len;

/* ---- a value into its field ---- */

/* Numbers, bools and enumerations by the field's width (rows say it). */
static void store_num(void *dst, size_t size, uint64_t v)
{
    if (size == sizeof(bool)) {
        bool b = v != 0;
        memcpy(dst, &b, sizeof b);
    } else if (size == sizeof(uint32_t)) {
        uint32_t x = (uint32_t)v;
        memcpy(dst, &x, sizeof x);
    } else {
        memcpy(dst, &v, sizeof v);
    }
}

/* An error at node n, "path:line: message"; any refuses the file. */
#define FAIL(w, n, ...)                                          \
    do {                                                         \
        xdoc_error((w)->errors, (w)->path, (n), __VA_ARGS__);    \
        (w)->bad++;                                              \
    } while (0)

static void set_text(cfg_walk *w, const xmlNode *n, const cfg_key *k, const char *v, char *dst)
{
    if (strlen(v) >= k->size) {
        FAIL(w, n, "%s: value longer than %zu characters", k->attr, k->size - 1);
        return;
    }
    snprintf(dst, k->size, "%s", v);
}

/* A relative path is prefixed with the directory of the file being read (as
 * written when it has none): one rule for every path of a configuration
 * file. CFG_PATH_WAS_CWD rows were taken relative to the working directory
 * by earlier releases: where only that reading names something that
 * exists, it is kept, with a warning, so that a configuration that worked
 * goes on working. */
static void set_path(cfg_walk *w, const xmlNode *n, const cfg_key *k, const char *v, char *dst)
{
    const char *slash = strrchr(w->path, '/');
    int dirn = v[0] == '/' || !slash ? 0 : (int)(slash - w->path) + 1;
    if (strlen(v) + (size_t)dirn >= k->size) {
        FAIL(w, n, "%s: path longer than %zu characters", k->attr, k->size - 1);
        return;
    }
    snprintf(dst, k->size, "%.*s%s", dirn, w->path, v);
    if (k->rule == CFG_PATH_WAS_CWD && dirn && access(dst, F_OK) != 0 && access(v, F_OK) == 0) {
        char abs_old[RL_ABS_PATH_MAX], abs_new[RL_ABS_PATH_MAX];
        if (!rl_abspath(v, abs_old, sizeof abs_old))
            snprintf(abs_old, sizeof abs_old, "%s", v);
        if (!rl_abspath(dst, abs_new, sizeof abs_new))
            snprintf(abs_new, sizeof abs_new, "%s", dst);
        log_warn("config.path", "file=%s line=%ld key=<%s %s> value=\"%s\" taken=%s "
                 "text=\"taken relative to the working directory, as earlier releases did: a "
                 "configuration's relative paths now resolve against its own directory (%s "
                 "does not exist); write an absolute path, or move it\"", w->path,
                 xmlGetLineNo(n), k->elem, k->attr, v, abs_old, abs_new);
        snprintf(dst, k->size, "%s", v);
    }
    if (!strcmp(k->elem, "data") && !strcmp(k->attr, "dir"))
        w->c->data_dir_from_file = true; /* a missing one is not made without --init */
}

static void set_number(cfg_walk *w, const xmlNode *n, const cfg_key *k, const char *v, void *dst)
{
    uint64_t x;
    if (!rl_str_to_u64(rl_str_c(v), k->max, &x))
        FAIL(w, n, "%s: '%s' is not a number up to %" PRIu64, k->attr, v, k->max);
    else if (x < k->min)
        FAIL(w, n, "%s: '%s' is not a number from %" PRIu64 " to %" PRIu64, k->attr, v, k->min,
             k->max);
    else
        store_num(dst, k->size, x);
}

/* 86400 -> "1d", 90 -> "90s": the largest unit that divides. */
static const char *duration_text(uint64_t s, char *buf, size_t n)
{
    static const struct { uint64_t sec; char unit; } units[] = {
        { 86400, 'd' }, { 3600, 'h' }, { 60, 'm' }, { 1, 's' },
    };
    size_t u = 0;
    while (s && s % units[u].sec)
        u++;
    snprintf(buf, n, "%" PRIu64 "%c", s / units[u].sec, units[u].unit);
    return buf;
}

static void set_duration(cfg_walk *w, const xmlNode *n, const cfg_key *k, const char *v,
                         void *dst)
{
    uint64_t s;
    if (rl_duration_parse(rl_str_c(v), k->max, &s) && s >= k->min) {
        store_num(dst, k->size, s);
        return;
    }
    char range[64] = "", lo[24], hi[24];
    if (k->min)
        snprintf(range, sizeof range, " of %s to %s", duration_text(k->min, lo, sizeof lo),
                 duration_text(k->max, hi, sizeof hi));
    FAIL(w, n, "<%s>: %s '%s' is not a duration%s (%s)", (const char *)n->name, k->attr, v, range,
         k->hint);
}

/* The index of v in the row's names, or -1 (and the error naming them). */
static int enum_index(cfg_walk *w, const xmlNode *n, const cfg_key *k, const char *v)
{
    char all[200] = "";
    size_t len = 0;
    for (int i = 0; k->names[i]; i++) {
        if (strcmp(k->names[i], v) == 0)
            return i;
        int m = snprintf(all + len, sizeof all - len, "%s%s", i ? ", " : "", k->names[i]);
        len = m < 0 || (size_t)m >= sizeof all - len ? sizeof all - 1 : len + (size_t)m;
    }
    FAIL(w, n, "%s: '%s' is not one of %s", k->attr, v, all);
    return -1;
}

static void set_value(cfg_walk *w, const xmlNode *n, const cfg_key *k, const char *v, void *base)
{
    char *dst = (char *)base + k->off;
    int index = 0;
    if (k->type == CFG_ENUM && (index = enum_index(w, n, k, v)) < 0)
        return;
    if (k->set) {
        k->set(w, n, k, v, base);
        return;
    }
    switch (k->type) {
    case CFG_STR:
    case CFG_HOST:
    case CFG_AE:
        set_text(w, n, k, v, dst);
        break;
    case CFG_STR_CUT:
        snprintf(dst, k->size, "%s", v);
        break;
    case CFG_FILE:
        set_path(w, n, k, v, dst);
        break;
    case CFG_LISTEN:
        if (strcmp(v, "auto") == 0) {
            store_num(dst, k->size, RL_PORT_AUTO);
            break;
        }
        set_number(w, n, k, v, dst);
        break;
    case CFG_PORT:
    case CFG_UINT:
    case CFG_MIB:
        set_number(w, n, k, v, dst);
        break;
    case CFG_DURATION:
        set_duration(w, n, k, v, dst);
        break;
    case CFG_BOOL:
        store_num(dst, k->size, strcmp(v, "true") == 0 || strcmp(v, "1") == 0);
        break;
    case CFG_ENUM:
        store_num(dst, k->size, (uint64_t)index);
        break;
    case CFG_ELEM:
        break;
    }
}

/* ---- defaults ---- */

/* The defaults of elem's rows into base (zero, the rest, is already there). */
static void apply_defaults(const char *elem, void *base)
{
    size_t n;
    const cfg_key *keys = cfg_keys(&n);
    for (size_t i = 0; i < n; i++) {
        const cfg_key *k = &keys[i];
        if (!k->attr || strcmp(k->elem, elem) != 0)
            continue;
        if (k->def_text)
            snprintf((char *)base + k->off, k->size, "%s", k->def_text);
        else if (k->def)
            store_num((char *)base + k->off, k->size, k->def);
    }
}

/* Whether elem's rows land in cfg itself: no element on its path opens a
 * struct of its own (those get their defaults when they open). */
static bool lands_in_cfg(const char *elem)
{
    char path[128];
    snprintf(path, sizeof path, "%s", elem);
    for (;;) {
        const cfg_key *e = cfg_key_find(path, NULL);
        if (!e || e->open)
            return false;
        char *slash = strrchr(path, '/');
        if (!slash)
            return true;
        *slash = '\0';
    }
}

void cfg_defaults(cfg *c)
{
    memset(c, 0, sizeof *c);
    snprintf(c->source, sizeof c->source, "embedded default");
    size_t n;
    const cfg_key *keys = cfg_keys(&n);
    for (size_t i = 0; i < n; i++)
        if (!keys[i].attr && lands_in_cfg(keys[i].elem))
            apply_defaults(keys[i].elem, c);
    /* one MLLP listener, at its rows' defaults, until the file names its own */
    c->n_mllp = 1;
    apply_defaults("mllp/listen", &c->mllp[0]);
}

/* ---- the walk ---- */

static void walk_children(cfg_walk *w, const xmlNode *parent, const char *ppath, void *pbase);

/* Element n (the i-th of its name under its parent), its row e: open it,
 * set its attributes in the table's order, its children, then its checks. */
static void walk_element(cfg_walk *w, const cfg_key *e, const xmlNode *n, const char *path,
                         void *pbase, unsigned i)
{
    if (i >= e->max) {
        FAIL(w, n, "<%s>: at most %" PRIu64 " of these", (const char *)n->name, e->max);
        return;
    }
    void *base = e->open ? e->open(w, n, pbase, i) : pbase;
    if (!base)
        return;
    if (e->open)
        apply_defaults(path, base);
    size_t nk;
    const cfg_key *keys = cfg_keys(&nk);
    for (size_t k = 0; k < nk; k++) {
        if (!keys[k].attr || strcmp(keys[k].elem, path) != 0)
            continue;
        const char *v = xdoc_attr(n, keys[k].attr);
        if (v)
            set_value(w, n, &keys[k], v, base);
    }
    walk_children(w, n, path, base);
    if (e->check)
        e->check(w, n, base);
}

static void walk_children(cfg_walk *w, const xmlNode *parent, const char *ppath, void *pbase)
{
    for (const xmlNode *n = xdoc_first(parent); n; n = xdoc_next(n)) {
        const char *name = (const char *)n->name;
        char path[128];
        int len = snprintf(path, sizeof path, "%s%s%s", ppath, *ppath ? "/" : "", name);
        const cfg_key *e = len < (int)sizeof path ? cfg_key_find(path, NULL) : NULL;
        if (!e) {
            FAIL(w, n, "<%s>: not an element of the configuration here", name);
            continue;
        }
        unsigned i = 0;
        for (const xmlNode *s = xdoc_first(parent); s != n; s = xdoc_next(s))
            i += xdoc_is(s, name);
        walk_element(w, e, n, path, pbase, i);
    }
}

/* ---- checks between keys ---- */

/* A PACS that takes ADT (update="hl7") needs a destination for it. */
static void check_pacs_hl7_destination(cfg_walk *w, const cfg *c)
{
    for (unsigned i = 0; i < c->n_pacs; i++) {
        const cfg_pacs *p = &c->pacs[i];
        if (p->update != PACS_UPDATE_HL7)
            continue;
        bool found = false;
        for (unsigned k = 0; k < c->n_dests && !found; k++)
            found = strcmp(c->dests[k].name, p->hl7_dest) == 0;
        if (p->hl7_dest[0] && found)
            continue;
        rl_buf_printf(w->errors, "%s:%ld: <%s ae=\"%s\">: update=\"hl7\" needs "
                      "hl7-destination naming a <destination> of this file%s%s%s\n", w->path,
                      w->pacs_line[i], p->node ? "node" : "pacs", p->ae,
                      p->hl7_dest[0] ? " ('" : "", p->hl7_dest,
                      p->hl7_dest[0] ? "' is none)" : "");
        w->bad++;
    }
}

/* Routes and jobs name DICOM nodes by AE title: one node per title. */
static void check_node_titles(cfg_walk *w, const cfg *c)
{
    for (unsigned i = 0; i < c->n_pacs; i++)
        for (unsigned k = 0; k < i; k++)
            if (strcmp(c->pacs[i].ae, c->pacs[k].ae) == 0) {
                rl_buf_printf(w->errors, "%s:%ld: <%s ae=\"%s\">: the AE title of the <%s> at "
                              "line %ld too (DICOM routes and jobs name nodes by AE title)\n",
                              w->path, w->pacs_line[i], c->pacs[i].node ? "node" : "pacs",
                              c->pacs[i].ae, c->pacs[k].node ? "node" : "pacs", w->pacs_line[k]);
                w->bad++;
                break;
            }
}

int cfg_load_doc(cfg *c, const void *doc, const char *path, rl_buf *errors)
{
    cfg next = *c;
    cfg_walk w = { .path = path, .errors = errors, .c = &next };
    snprintf(next.source, sizeof next.source, "%s", path);
    const xmlNode *root = xmlDocGetRootElement(doc);
    if (!root || !xdoc_is(root, "radlink"))
        FAIL(&w, root, "the root element is not <radlink>");
    else
        walk_children(&w, root, "", &next);
    check_pacs_hl7_destination(&w, &next);
    check_node_titles(&w, &next);
    if (w.bad)
        return -1;
    *c = next;
    return 0;
}

int cfg_load(cfg *c, const char *path, rl_buf *errors)
{
    xmlDocPtr doc = xdoc_load(path, radlink_config_xsd, radlink_config_xsd_len, errors);
    if (!doc)
        return -1;
    int rc = cfg_load_doc(c, doc, path, errors);
    xmlFreeDoc(doc);
    return rc;
}

void cfg_route_opts(const cfg *c, route_load_opts *o, const char **nodes,
                    const struct route_dicom_dict *dict)
{
    *o = (route_load_opts){ .extra_dests = c->dests, .n_extra_dests = c->n_dests,
                            .dicom_dict = dict, .dicom_nodes = nodes };
    for (unsigned i = 0; i < c->n_pacs && i < RL_MAX_PACS; i++)
        nodes[o->n_dicom_nodes++] = c->pacs[i].ae;
}
