/* audit list|show: the audit trail as the engine stored it (IHE ATNA, DICOM
 * PS3.15 A.5), read beside the engine: what the collector got, and what it
 * has not got yet. */
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "ops_internal.h"
#include "radlink/audit.h"
#include "radlink/rec.h"

static const uint32_t codes[] = { AUDIT_APP_ACTIVITY, AUDIT_BEGIN_TRANSFER,
                                  AUDIT_INSTANCES_ACCESSED, AUDIT_INSTANCES_TRANSFERRED,
                                  AUDIT_ORDER, AUDIT_PATIENT, AUDIT_PROCEDURE, AUDIT_QUERY,
                                  AUDIT_SECURITY_ALERT, AUDIT_USER_AUTH };

/* --type: the DCM code ("110112") or the event's name ("query", "Order Record"). */
static uint32_t code_of(const char *t)
{
    for (size_t i = 0; i < sizeof codes / sizeof *codes; i++) {
        char n[RL_NUM_TEXT_MAX];
        snprintf(n, sizeof n, "%u", codes[i]);
        if (!strcmp(t, n) || !strcasecmp(t, audit_kind_name(codes[i])))
            return codes[i];
    }
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

/* ---- the view of an audit event ---- */

static const view_field A_SEQ = { "seq", "SEQ", 8 };
static const view_field A_TIME = { "time", "TIME", 19, 19 };
static const view_field A_CODE = { "code", "CODE", 6 };
static const view_field A_EVENT = { "event", "EVENT", 34 };
static const view_field A_ACTION = { "action", "ACTION", 6 };
static const view_field A_OUTCOME = { "outcome", "OUTCOME", 7 };
static const view_field A_BY = { "by", "BY", 28 };
static const view_field A_PATIENT = { "patient_id", "PATIENT", 0, 0, NULL, VIEW_PHI };
static const view_field *const audit_cols[] = { &A_SEQ, &A_TIME, &A_CODE, &A_EVENT, &A_ACTION,
                                                &A_OUTCOME, &A_BY, &A_PATIENT, NULL };

static void audit_row(view *v, const audit_rec *r)
{
    char by[RL_OP_NAME_MAX * 4];
    rl_buf xml;
    rl_buf_init(&xml, 0);
    if (audit_rec_xml(r, &xml) == 0)
        who(rl_buf_view(&xml), by, sizeof by);
    rl_buf_free(&xml);
    char action[] = { r->action ? r->action : '-', 0 };
    view_row(v);
    view_u64(v, &A_SEQ, r->seq);
    view_time(v, &A_TIME, r->time_us);
    view_u64(v, &A_CODE, r->code);
    view_cstr(v, &A_EVENT, audit_kind_name(r->code));
    view_cstr(v, &A_ACTION, action);
    view_cstr(v, &A_OUTCOME, r->outcome == 0   ? "ok"
                             : r->outcome == 4 ? "minor"
                             : r->outcome == 8 ? "serious"
                                               : "major");
    view_cstr(v, &A_BY, by);
    view_str(v, &A_PATIENT, r->patient_id);
    view_row_end(v);
}

/* ---- audit list ---- */

typedef struct lister {
    op_call *c;
    uint32_t code;
    bool xml;
    unsigned long shown, matched, limit;
} lister;

static int list_one(void *ctx, const audit_rec *r)
{
    lister *l = ctx;
    int64_t since = ops_since(l->c, "since");
    const char *patient = ops_str(l->c, "patient");
    if ((since && r->time_us < since) || (l->code && r->code != l->code) ||
        (patient && !rl_str_eq(r->patient_id, rl_str_c(patient))))
        return 0;
    l->matched++;
    if (l->shown >= l->limit)
        return 0;
    l->shown++;
    if (l->xml) {
        rl_buf xml;
        rl_buf_init(&xml, 0);
        audit_rec_xml(r, &xml);
        view_printf(l->c->out, "%.*s\n", (int)xml.len, xml.data ? xml.data : "");
        rl_buf_free(&xml);
    } else
        audit_row(l->c->out, r);
    return 0;
}

int ops_audit_list(op_call *c)
{
    lister l = { .c = c, .xml = ops_flag(c, "xml") && !view_is_json(c->out),
                 .limit = (unsigned long)ops_u64(c, "limit", 100) };
    const char *type = ops_str(c, "type");
    if (type && !(l.code = code_of(type)))
        return view_fail(c->out, OP_USAGE, "--type: '%s' is not an event this trail holds (a "
                         "DCM code such as 110112, or a name such as query)", type);
    rl_err err;
    uint64_t shipped = 0, last = 1;
    audit_shipped(c->t, &shipped, &err);
    view_list(c->out, "events", l.xml ? NULL : audit_cols);
    int rc = audit_each(c->t, 1, list_one, &l, &err);
    view_list_end(c->out);
    store_next_seq(c->t, STORE_AUDIT, &last, &err);
    if (rc != 0)
        return ops_store_fail(c->out, &err);
    view_json(c->out, "matched", json_integer((json_int_t)l.matched));
    view_json(c->out, "shipped", json_integer((json_int_t)shipped));
    view_json(c->out, "stored", json_integer((json_int_t)(last - 1)));
    if (!l.xml)
        view_printf(c->out, "(%lu event%s%s; %llu of %llu shipped to the collector)\n", l.matched,
                    l.matched == 1 ? "" : "s",
                    l.shown < l.matched ? ", the first ones shown: raise --limit" : "",
                    (unsigned long long)shipped, (unsigned long long)(last - 1));
    return OP_OK;
}

/* ---- audit show ---- */

int ops_audit_show(op_call *c)
{
    uint64_t seq = ops_u64(c, "SEQ", 0);
    unsigned char k[RL_BE64_BYTES];
    rec_be64(seq, k);
    rl_str v;
    rl_err err;
    audit_rec r;
    int rc = store_get(c->t, STORE_AUDIT, (rl_str){ (const char *)k, sizeof k }, &v, &err);
    if (rc == STORE_NOTFOUND)
        return view_fail(c->out, OP_NOTFOUND, "no audit event %llu", (unsigned long long)seq);
    if (rc == STORE_OK && audit_decode(c->t, seq, v, &r) != STORE_OK)
        rc = rl_err_set(&err, STORE_E_CORRUPT, -1, "audit event %llu does not decode",
                        (unsigned long long)seq);
    if (rc != STORE_OK)
        return ops_store_fail(c->out, &err);
    rl_buf xml;
    rl_buf_init(&xml, 0);
    if (audit_rec_xml(&r, &xml) != 0) {
        rl_buf_free(&xml);
        return view_fail(c->out, OP_FAIL, "audit event %llu: its XML cannot be written",
                         (unsigned long long)seq);
    }
    view_printf(c->out, "%.*s\n", (int)xml.len, xml.data ? xml.data : "");
    view_json(c->out, "seq", json_integer((json_int_t)seq));
    view_json(c->out, "xml", view_jstr(rl_buf_view(&xml)));
    rl_buf_free(&xml);
    return OP_OK;
}
