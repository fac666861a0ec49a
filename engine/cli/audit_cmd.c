/* radlink audit list|show: the audit trail as the engine stored it, read
 * beside the running engine (what the collector got, and what it has not
 * got yet). */
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cli.h"
#include "radlink/audit.h"
#include "radlink/rec.h"
#include "radlink/store.h"

static const struct option audit_longs[] = {
    { "data", required_argument, NULL, 'D' },  { "config", required_argument, NULL, 'C' },
    { "since", required_argument, NULL, 'S' }, { "type", required_argument, NULL, 't' },
    { "patient", required_argument, NULL, 'p' }, { "limit", required_argument, NULL, 'l' },
    { "xml", no_argument, NULL, 'x' },         { 0, 0, 0, 0 },
};

typedef struct aopts {
    const char *data, *config, *type, *patient;
    int64_t since_us;
    bool has_since, xml;
    long limit;
    uint32_t code;
} aopts;

static const uint32_t codes[] = { AUDIT_APP_ACTIVITY, AUDIT_BEGIN_TRANSFER,
                                  AUDIT_INSTANCES_ACCESSED, AUDIT_INSTANCES_TRANSFERRED,
                                  AUDIT_ORDER, AUDIT_PATIENT, AUDIT_PROCEDURE, AUDIT_QUERY,
                                  AUDIT_SECURITY_ALERT, AUDIT_USER_AUTH };

/* --type: the DCM code ("110112") or the event's name ("query", "Order Record"). */
static uint32_t code_of(const char *t)
{
    for (size_t i = 0; i < sizeof codes / sizeof *codes; i++) {
        char n[16];
        snprintf(n, sizeof n, "%u", codes[i]);
        if (!strcmp(t, n) || !strcasecmp(t, audit_kind_name(codes[i])))
            return codes[i];
    }
    return 0;
}

static int parse(const cli_cmd *self, int argc, char **argv, aopts *o, int nargs)
{
    cli_opts co = { argc, argv, self, "", audit_longs, 0, 0 };
    int c;
    o->limit = 100;
    while ((c = cli_next(&co)) != -1) {
        if (c == CLI_STOP)
            return co.exit_code ? co.exit_code : -1;
        if (c == 'D')
            o->data = optarg;
        else if (c == 'C')
            o->config = optarg;
        else if (c == 'p')
            o->patient = optarg;
        else if (c == 'x')
            o->xml = true;
        else if (c == 'l' && cli_number(self, "--limit", optarg, 1, 100000000, &o->limit) != 0)
            return CLI_USAGE;
        else if (c == 't' && !(o->code = code_of(optarg)))
            return cli_usage(self, "--type: '%s' is not an event this trail holds (a DCM code "
                             "such as 110112, or a name such as query)", optarg);
        else if (c == 'S') {
            if (cli_parse_since(optarg, &o->since_us) != 0)
                return cli_usage(self, "--since: '%s' is not a date (2026-11-23[T10:15]) or an "
                                 "age (30m, 2h, 3d)", optarg);
            o->has_since = true;
        }
    }
    if (argc - optind != nargs)
        return cli_usage(self, "expected %s", nargs ? self->args : "no arguments");
    return 0;
}

/* The requestor (else the first participant) of an event: "USER@ADDRESS". */
static void who(rl_str xml, char *out, size_t n)
{
    snprintf(out, n, "-");
    xmlDocPtr d = xmlReadMemory(xml.p, (int)xml.n, "audit.xml", NULL,
                                XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
    if (!d)
        return;
    xmlNodePtr pick = NULL;
    for (xmlNodePtr c = xmlDocGetRootElement(d)->children; c; c = c->next) {
        if (c->type != XML_ELEMENT_NODE || xmlStrcmp(c->name, BAD_CAST "ActiveParticipant"))
            continue;
        xmlChar *req = xmlGetProp(c, BAD_CAST "UserIsRequestor");
        bool yes = req && !xmlStrcmp(req, BAD_CAST "true");
        xmlFree(req);
        if (!pick || yes)
            pick = c;
        if (yes)
            break;
    }
    if (pick) {
        xmlChar *u = xmlGetProp(pick, BAD_CAST "UserID"),
                *a = xmlGetProp(pick, BAD_CAST "NetworkAccessPointID");
        snprintf(out, n, "%s%s%s", u ? (char *)u : "?", a ? "@" : "", a ? (char *)a : "");
        xmlFree(u);
        xmlFree(a);
    }
    xmlFreeDoc(d);
}

typedef struct lister {
    const aopts *o;
    unsigned long shown, matched;
} lister;

static bool wanted(const aopts *o, const audit_rec *r)
{
    return (!o->has_since || r->time_us >= o->since_us) && (!o->code || r->code == o->code) &&
           (!o->patient || rl_str_eq(r->patient_id, rl_str_c(o->patient)));
}

static int print_one(void *ctx, const audit_rec *r)
{
    lister *l = ctx;
    if (!wanted(l->o, r))
        return 0;
    l->matched++;
    if (l->shown >= (unsigned long)l->o->limit)
        return 0;
    l->shown++;
    if (l->o->xml) {
        printf("%.*s\n", RL_STR_FMT(r->xml));
        return 0;
    }
    char when[32], by[200];
    cli_fmt_time(r->time_us, when, sizeof when);
    who(r->xml, by, sizeof by);
    char action[2] = { r->action ? r->action : '-', 0 };
    printf("%-8llu %-19.19s %-6u %-34s %-6s %-7s %-28s %.*s\n", (unsigned long long)r->seq,
           when, r->code, audit_kind_name(r->code), action,
           r->outcome == 0 ? "ok" : r->outcome == 4 ? "minor" : r->outcome == 8 ? "serious"
                                                                                 : "major",
           by, RL_STR_FMT(r->patient_id));
    return 0;
}

static int run_list(const cli_cmd *self, int argc, char **argv)
{
    aopts o = { 0 };
    int rc = parse(self, argc, argv, &o, 0);
    if (rc)
        return rc < 0 ? CLI_OK : rc;
    store *st;
    store_txn *t;
    if ((rc = cli_open_store(self, o.data, o.config, false, &st, &t)) != 0)
        return rc;
    rl_err err;
    uint64_t shipped = 0;
    audit_shipped(t, &shipped, &err);
    if (!o.xml)
        printf("%-8s %-19s %-6s %-34s %-6s %-7s %-28s %s\n", "SEQ", "TIME", "CODE", "EVENT",
               "ACTION", "OUTCOME", "BY", "PATIENT");
    lister l = { .o = &o };
    rc = audit_each(t, 1, print_one, &l, &err);
    uint64_t last = 0;
    store_next_seq(t, STORE_AUDIT, &last, &err);
    store_abort(t);
    store_close(st);
    if (rc != 0)
        return cli_fail(self, CLI_FAIL, "%s", err.msg);
    if (!o.xml)
        printf("(%lu event%s%s; %llu of %llu shipped to the collector)\n", l.matched,
               l.matched == 1 ? "" : "s",
               l.shown < l.matched ? ", the first ones shown: raise --limit" : "",
               (unsigned long long)shipped, (unsigned long long)(last - 1));
    return CLI_OK;
}

static int run_show(const cli_cmd *self, int argc, char **argv)
{
    aopts o = { 0 };
    int rc = parse(self, argc, argv, &o, 1);
    if (rc)
        return rc < 0 ? CLI_OK : rc;
    long seq;
    if (cli_number(self, "SEQ", argv[optind], 1, 0x7fffffffffffffffL, &seq) != 0)
        return CLI_USAGE;
    store *st;
    store_txn *t;
    if ((rc = cli_open_store(self, o.data, o.config, false, &st, &t)) != 0)
        return rc;
    unsigned char k[8];
    rec_be64((uint64_t)seq, k);
    rl_str v;
    rl_err err;
    audit_rec r;
    rc = store_get(t, STORE_AUDIT, (rl_str){ (const char *)k, 8 }, &v, &err);
    if (rc == STORE_OK && audit_decode((uint64_t)seq, v, &r) != STORE_OK)
        rc = rl_err_set(&err, STORE_E_CORRUPT, -1, "audit event %ld does not decode", seq);
    if (rc == STORE_OK)
        printf("%.*s\n", RL_STR_FMT(r.xml));
    store_abort(t);
    store_close(st);
    if (rc == STORE_NOTFOUND)
        return cli_fail(self, CLI_FAIL, "no audit event %ld", seq);
    return rc == STORE_OK ? CLI_OK : cli_fail(self, CLI_FAIL, "%s", err.msg);
}

#define AUDIT_HELP                                                                             \
    "  --data DIR        data directory (default: from --config, else ./var)\n"                \
    "  --config FILE     take the data directory from this configuration\n"

static const cli_cmd audit_subs[] = {
    { .name = "list", .args = "", .run = run_list,
      .summary = "the audit trail, oldest first: who did what to which patient's data",
      .help = "  --since WHEN      from a time: 2026-11-23, 2026-11-23T10:15, or an age: 30m, "
              "2h, 3d\n"
              "  --type EVENT      one event: its DCM code (110112) or name (query, 'order "
              "record',\n"
              "                    'patient record', 'procedure record', 'security alert', ...)\n"
              "  --patient ID      the events about this patient ID\n"
              "  --limit N         at most N events (default 100)\n"
              "  --xml             each event as the PS3.15 AuditMessage the collector gets\n"
              AUDIT_HELP },
    { .name = "show", .args = "SEQ", .run = run_show,
      .summary = "one event as its PS3.15 AuditMessage XML",
      .help = AUDIT_HELP },
    { 0 },
};

const cli_cmd cli_audit_cmd = {
    .name = "audit",
    .summary = "the audit trail (IHE ATNA, DICOM PS3.15): list, show",
    .subs = audit_subs,
};
