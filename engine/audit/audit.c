/* Audit events as PS3.15 A.5 XML (libxml2's text writer), stored as their
 * facts (facts.c) in the transaction of what they record. See
 * radlink/audit.h. */
#include <libxml/xmlwriter.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit_internal.h"
#include "radlink/digest.h"
#include "radlink/rec.h"
#include "radlink/reczip.h"

/* 3: the facts as one Zstandard frame (radlink/reczip.h, family "audit");
 * 2: the facts as they are; 1: the XML as rendered (both read as they are) */
#define AUDIT_VERSION 3
#define AUDIT_FACTS_VERSION 2
#define AUDIT_ZIP_FAMILY "audit"
/* The most an event's facts decompress to: a few hundred bytes in practice,
 * a few kB with long texts; a corrupt frame may claim far more. */
#define AUDIT_FACTS_MAX (1u << 20)

static char source_id[RL_AUDIT_SOURCE_SIZE] = "RADLINK";
static char site_id[RL_AUDIT_SOURCE_SIZE];

void audit_set_source(const char *id, const char *site)
{
    snprintf(source_id, sizeof source_id, "%s", id && *id ? id : "RADLINK");
    snprintf(site_id, sizeof site_id, "%s", site ? site : "");
}

const char *audit_source_id(void) { return source_id; }

void audit_addr(const char *peer, char *out, size_t n)
{
    const char *p = peer ? peer : "";
    const char *colon = strchr(p, ':'), *bracket = strchr(p, ']');
    if (p[0] == '[' && bracket)
        snprintf(out, n, "%.*s", (int)(bracket - p - 1), p + 1);
    else if (colon && !strchr(p, ' ') && colon == strrchr(p, ':')) /* one colon: ip:port */
        snprintf(out, n, "%.*s", (int)(colon - p), p);
    else
        snprintf(out, n, "%s", p);
}

void audit_received_from(audit_event *ev, const char *user, const char *peer, char *addr,
                         size_t addrn)
{
    audit_addr(peer, addr, addrn);
    ev->party[0] = (audit_party){ .user_id = user, .address = addr, .requestor = true,
                                  .role = AUDIT_ROLE_SOURCE };
    ev->party[1] = (audit_party){ .user_id = source_id, .requestor = false,
                                  .role = AUDIT_ROLE_DESTINATION };
    ev->nparty = 2;
}

const char *audit_kind_name(uint32_t code)
{
    switch (code) {
    case AUDIT_APP_ACTIVITY: return "Application Activity";
    case AUDIT_BEGIN_TRANSFER: return "Begin Transferring DICOM Instances";
    case AUDIT_INSTANCES_ACCESSED: return "DICOM Instances Accessed";
    case AUDIT_INSTANCES_TRANSFERRED: return "DICOM Instances Transferred";
    case AUDIT_ORDER: return "Order Record";
    case AUDIT_PATIENT: return "Patient Record";
    case AUDIT_PROCEDURE: return "Procedure Record";
    case AUDIT_QUERY: return "Query";
    case AUDIT_SECURITY_ALERT: return "Security Alert";
    case AUDIT_USER_AUTH: return "User Authentication";
    default: return "?";
    }
}

static const char *type_name(audit_type t)
{
    switch (t) {
    case AUDIT_T_APP_START: return "Application Start";
    case AUDIT_T_APP_STOP: return "Application Stop";
    case AUDIT_T_LOGIN: return "Login";
    case AUDIT_T_LOGOUT: return "Logout";
    case AUDIT_T_NODE_AUTH: return "Node Authentication";
    case AUDIT_T_SOFTWARE_CONFIG: return "Software Configuration";
    case AUDIT_T_RESTRICTED_FUNCTION: return "Use of Restricted Function";
    default: return "?";
    }
}

static const char *role_name(audit_role r)
{
    switch (r) {
    case AUDIT_ROLE_APPLICATION: return "Application";
    case AUDIT_ROLE_LAUNCHER: return "Application Launcher";
    case AUDIT_ROLE_DESTINATION: return "Destination Role ID";
    case AUDIT_ROLE_SOURCE: return "Source Role ID";
    default: return "?";
    }
}

/* Values from peers (HL7 fields, AE titles, DICOM values) are hostile: the
 * writer escapes markup but not bytes that are not UTF-8 or not allowed in
 * XML 1.0; those become '?'. */
static const xmlChar *clean(const char *s, char *buf, size_t n)
{
    size_t o = 0;
    const unsigned char *p = (const unsigned char *)(s ? s : "");
    while (*p && o + 5 < n) {
        int len = 1;
        unsigned c = *p;
        if (c >= 0x80) {
            len = c >= 0xF0 && c < 0xF5 ? 4 : c >= 0xE0 ? 3 : c >= 0xC2 && c < 0xE0 ? 2 : 0;
            for (int i = 1; i < len; i++)
                if ((p[i] & 0xC0) != 0x80)
                    len = 0;
        }
        if (len == 0 || c < 0x20 || c == 0x7f) { /* one line per event: no line breaks */
            buf[o++] = c == '\t' || c == '\n' || c == '\r' ? ' ' : '?';
            p++;
            continue;
        }
        memcpy(buf + o, p, (size_t)len);
        o += (size_t)len;
        p += len;
    }
    buf[o] = 0;
    return (const xmlChar *)buf;
}

typedef struct w {
    xmlTextWriterPtr x;
    int bad;
    char tmp[RL_AUDIT_VALUE];
} w;

static void start(w *c, const char *el) { c->bad |= xmlTextWriterStartElement(c->x, BAD_CAST el) < 0; }
static void end(w *c) { c->bad |= xmlTextWriterEndElement(c->x) < 0; }
static void attr(w *c, const char *name, const char *v)
{
    c->bad |= xmlTextWriterWriteAttribute(c->x, BAD_CAST name, clean(v, c->tmp, sizeof c->tmp)) < 0;
}

static void code(w *c, const char *el, unsigned value, const char *system, const char *meaning)
{
    char v[RL_NUM_TEXT_MAX];
    snprintf(v, sizeof v, "%u", value);
    start(c, el);
    attr(c, "csd-code", v);
    attr(c, "codeSystemName", system);
    attr(c, "originalText", meaning);
    end(c);
}

static bool has(const char *s) { return s && *s; }

/* Base64 on one line (libxml2's writer breaks lines every 72 characters,
 * and a syslog collector keeps one event per line). */
static void base64(w *c, const char *attr_name, const void *p, size_t n)
{
    char *b = digest_base64(p, n);
    if (!b) {
        c->bad = 1;
        return;
    }
    if (attr_name)
        c->bad |= xmlTextWriterWriteAttribute(c->x, BAD_CAST attr_name, BAD_CAST b) < 0;
    else
        c->bad |= xmlTextWriterWriteString(c->x, BAD_CAST b) < 0;
    free(b);
}

/* An element holding text (cleaned). */
static void text(w *c, const char *el, const char *v)
{
    start(c, el);
    c->bad |= xmlTextWriterWriteString(c->x, clean(v, c->tmp, sizeof c->tmp)) < 0;
    end(c);
}

/* A ParticipantObjectDetail: type and base64 value. */
static void detail(w *c, const char *type, const void *p, size_t n)
{
    start(c, "ParticipantObjectDetail");
    attr(c, "type", type);
    base64(c, "value", p, n);
    end(c);
}

/* Opens a ParticipantObjectIdentification up to its name (the schema wants
 * a name or a query: name NULL when a query follows); the caller ends it. */
static void object(w *c, const char *id, const char *type, const char *role, unsigned id_code,
                   const char *system, const char *meaning, const char *name)
{
    start(c, "ParticipantObjectIdentification");
    attr(c, "ParticipantObjectID", id);
    attr(c, "ParticipantObjectTypeCode", type);
    if (role)
        attr(c, "ParticipantObjectTypeCodeRole", role);
    code(c, "ParticipantObjectIDTypeCode", id_code, system, meaning);
    if (name)
        text(c, "ParticipantObjectName", name);
}

static void patient(w *c, const audit_event *ev)
{
    object(c, ev->patient_id, "1", "1", 2, "RFC-3881", "Patient Number",
           has(ev->patient_name) ? ev->patient_name : ev->patient_id);
    end(c);
}

static void study(w *c, const audit_event *ev)
{
    /* the study's accession number names it for people, else its UID */
    object(c, ev->study_uid, "2", "3", 110180, "DCM", "Study Instance UID",
           has(ev->accession) ? ev->accession : ev->study_uid);
    if (has(ev->mpps_uid) || has(ev->accession) || ev->nsop) {
        start(c, "ParticipantObjectDescription");
        if (has(ev->mpps_uid)) {
            start(c, "MPPS");
            attr(c, "UID", ev->mpps_uid);
            end(c);
        }
        if (has(ev->accession)) {
            start(c, "Accession");
            attr(c, "Number", ev->accession);
            end(c);
        }
        for (size_t i = 0; i < ev->nsop && i < AUDIT_SOP_CLASSES; i++) {
            char n[RL_NUM_TEXT_MAX];
            snprintf(n, sizeof n, "%u", ev->sop[i].n);
            start(c, "SOPClass");
            if (has(ev->sop[i].uid))
                attr(c, "UID", ev->sop[i].uid);
            attr(c, "NumberOfInstances", n);
            end(c);
        }
        end(c);
    }
    end(c);
}

static void query(w *c, const audit_event *ev)
{
    object(c, has(ev->query_sop_class) ? ev->query_sop_class : "?", "2", "3", 110181, "DCM",
           "SOP Class UID", NULL);
    start(c, "ParticipantObjectQuery");
    base64(c, NULL, ev->query.p ? ev->query.p : "", ev->query.n);
    end(c);
    static const char ts[] = "1.2.840.10008.1.2.1"; /* how the identifier is encoded */
    detail(c, "TransferSyntax", ts, sizeof ts - 1);
    end(c);
}

static void alert_object(w *c, const audit_event *ev)
{
    object(c, ev->object_id, "2", NULL, 12, "RFC-3881", "URI", ev->object_id);
    if (has(ev->object_desc))
        detail(c, "Alert Description", ev->object_desc, strlen(ev->object_desc));
    end(c);
}

int audit_render(const audit_event *ev, rl_buf *out)
{
    return audit_render_as(ev, source_id, site_id, out);
}

int audit_render_as(const audit_event *ev, const char *source, const char *site, rl_buf *out)
{
    xmlBufferPtr buf = xmlBufferCreate();
    if (!buf)
        return RL_E_NOMEM;
    w c = { .x = xmlNewTextWriterMemory(buf, 0) };
    if (!c.x) {
        xmlBufferFree(buf);
        return RL_E_NOMEM;
    }
    char when[RL_TIME_TEXT_MAX], n[RL_NUM_TEXT_MAX];
    rl_time_iso(ev->time_us ? ev->time_us : rl_now_us(), when, sizeof when);
    start(&c, "AuditMessage");
    start(&c, "EventIdentification");
    if (ev->action) {
        char a[sizeof "C"] = { ev->action, 0 };
        attr(&c, "EventActionCode", a);
    }
    attr(&c, "EventDateTime", when);
    snprintf(n, sizeof n, "%d", ev->outcome);
    attr(&c, "EventOutcomeIndicator", n);
    code(&c, "EventID", (unsigned)ev->kind, "DCM", audit_kind_name(ev->kind));
    if (ev->type)
        code(&c, "EventTypeCode", (unsigned)ev->type, "DCM", type_name(ev->type));
    if (has(ev->outcome_text))
        text(&c, "EventOutcomeDescription", ev->outcome_text);
    end(&c);
    for (size_t i = 0; i < ev->nparty && i < AUDIT_PARTIES; i++) {
        const audit_party *p = &ev->party[i];
        start(&c, "ActiveParticipant");
        attr(&c, "UserID", has(p->user_id) ? p->user_id : "?");
        if (has(p->alt_id))
            attr(&c, "AlternativeUserID", p->alt_id);
        attr(&c, "UserIsRequestor", p->requestor ? "true" : "false");
        if (has(p->address)) {
            attr(&c, "NetworkAccessPointID", p->address);
            /* an address of digits, dots and colons is an IP address */
            attr(&c, "NetworkAccessPointTypeCode",
                 strspn(p->address, "0123456789.:abcdefABCDEF") == strlen(p->address) &&
                         strpbrk(p->address, ".:") ? "2" : "1");
        }
        if (p->role)
            code(&c, "RoleIDCode", (unsigned)p->role, "DCM", role_name(p->role));
        end(&c);
    }
    start(&c, "AuditSourceIdentification");
    if (site[0])
        attr(&c, "AuditEnterpriseSiteID", site);
    attr(&c, "AuditSourceID", source);
    start(&c, "AuditSourceTypeCode");
    attr(&c, "csd-code", "4"); /* application server process */
    end(&c);
    end(&c);
    if (has(ev->patient_id))
        patient(&c, ev);
    if (has(ev->study_uid))
        study(&c, ev);
    if (ev->kind == AUDIT_QUERY)
        query(&c, ev);
    if (has(ev->object_id))
        alert_object(&c, ev);
    end(&c);
    c.bad |= xmlTextWriterEndDocument(c.x) < 0;
    xmlFreeTextWriter(c.x);
    size_t len = (size_t)xmlBufferLength(buf);
    const xmlChar *text = xmlBufferContent(buf);
    while (len && (text[len - 1] == '\n' || text[len - 1] == ' '))
        len--; /* the writer ends the document with a line break: one line per event */
    int rc = c.bad ? RL_E_NOMEM : rl_buf_add(out, text, len);
    xmlBufferFree(buf);
    return rc;
}

int audit_prepare(const audit_event *ev, audit_ready *r, rl_buf *facts)
{
    memset(r, 0, sizeof *r);
    r->time_us = ev->time_us ? ev->time_us : rl_now_us();
    r->code = (uint32_t)ev->kind;
    r->action = ev->action;
    r->outcome = ev->outcome;
    snprintf(r->patient_id, sizeof r->patient_id, "%s", ev->patient_id ? ev->patient_id : "");
    size_t at = facts->len;
    int rc = audit_facts_encode(ev, source_id, site_id, facts) == 0 ? 0 : RL_E_NOMEM;
    r->facts = (rl_str){ facts->data + at, facts->len - at };
    return rc;
}

/* The audit index: an event's patient -> its seq (STORE_MSG_IDX, kind 'E'). */
static int index_patient(store_txn *t, rl_str patient_id, uint64_t seq, bool put, rl_err *err)
{
    if (!patient_id.n || patient_id.n > 255) /* as msgidx_verify expects */
        return STORE_OK;
    char key[256 + 1];
    key[0] = 'E';
    memcpy(key + 1, patient_id.p, patient_id.n);
    unsigned char v[RL_BE64_BYTES];
    rec_be64(seq, v);
    rl_str k = { key, patient_id.n + 1 }, val = { (const char *)v, sizeof v };
    int rc = put ? store_put(t, STORE_MSG_IDX, k, val, 0, err) : store_del(t, STORE_MSG_IDX, k, val, err);
    return rc == STORE_NOTFOUND ? STORE_OK : rc;
}

int audit_index_put(store_txn *t, const audit_rec *r, rl_err *err)
{
    return index_patient(t, r->patient_id, r->seq, true, err);
}

int audit_index_del(store_txn *t, const audit_rec *r, rl_err *err)
{
    return index_patient(t, r->patient_id, r->seq, false, err);
}

/* The facts of a stored event for training: as they are (version 2) or
 * decompressed into scratch (version 3). */
static int train_text(store_txn *t, rl_str val, rl_buf *scratch, rl_str *text)
{
    audit_rec r;
    int rc = audit_decode(t, 0, val, &r);
    if (rc == STORE_OK && (r.version == 1 || r.facts_lost))
        rc = STORE_E_CORRUPT; /* XML: nothing like the facts new events store */
    if (rc == STORE_OK && r.facts.n) {
        rl_buf_reset(scratch);
        rc = rl_buf_add_str(scratch, r.facts) == 0 ? STORE_OK : STORE_E_IO;
        r.facts = rl_buf_view(scratch);
    }
    *text = r.facts;
    return rc;
}

int audit_store(store_txn *t, const audit_ready *r, rl_err *err)
{
    rl_buf val;
    rl_buf_init(&val, 0);
    uint64_t seq = 0;
    int rc = store_next_seq(t, STORE_AUDIT, &seq, err);
    if (rc == 0 && reczip_due(t, AUDIT_ZIP_FAMILY, seq))
        rc = reczip_train(t, AUDIT_ZIP_FAMILY, STORE_AUDIT, train_text, err);
    if (rc == 0 && (rec_put_u8(&val, AUDIT_VERSION) | rec_put_u64(&val, (uint64_t)r->time_us) |
                    rec_put_u32(&val, r->code) | rec_put_u8(&val, (uint8_t)r->action) |
                    rec_put_u8(&val, (uint8_t)r->outcome) | rec_put_cstr(&val, r->patient_id)))
        rc = rl_err_set(err, RL_E_NOMEM, -1, "audit: out of memory");
    if (rc == 0)
        rc = reczip_pack(t, AUDIT_ZIP_FAMILY, r->facts, &val, err);
    if (rc == 0) {
        unsigned char key[RL_BE64_BYTES];
        rec_be64(seq, key);
        rc = store_put(t, STORE_AUDIT, (rl_str){ (const char *)key, sizeof key }, rl_buf_view(&val),
                       STORE_APPEND, err);
    }
    if (rc == 0)
        rc = index_patient(t, rl_str_c(r->patient_id), seq, true, err);
    rl_buf_free(&val);
    return rc;
}

int audit_record(store_txn *t, const audit_event *ev, rl_err *err)
{
    audit_ready r;
    rl_buf facts;
    rl_buf_init(&facts, 0);
    int rc = audit_prepare(ev, &r, &facts);
    rc = rc == 0 ? audit_store(t, &r, err) : rl_err_set(err, RL_E_NOMEM, -1, "audit: out of memory");
    rl_buf_free(&facts);
    return rc;
}

/* Each thread decompresses a version 3 record's facts into a buffer of its
 * own, reused by its next decode: a scan of millions of events takes the
 * memory of one. */
static pthread_key_t facts_key;
static pthread_once_t facts_once = PTHREAD_ONCE_INIT;

static void facts_free(void *p)
{
    rl_buf_free(p);
    free(p);
}

static void facts_key_make(void)
{
    pthread_key_create(&facts_key, facts_free);
}

static rl_buf *facts_buf(void)
{
    pthread_once(&facts_once, facts_key_make);
    rl_buf *b = pthread_getspecific(facts_key);
    if (!b && (b = malloc(sizeof *b)) != NULL) {
        rl_buf_init(b, 0);
        if (pthread_setspecific(facts_key, b) != 0) {
            free(b);
            b = NULL;
        }
    }
    return b;
}

int audit_decode(store_txn *t, uint64_t seq, rl_str val, audit_rec *out)
{
    rec_reader r;
    rec_reader_init(&r, val.p, val.n);
    memset(out, 0, sizeof *out);
    out->seq = seq;
    out->version = rec_get_u8(&r);
    if (out->version < 1 || out->version > AUDIT_VERSION)
        return STORE_E_CORRUPT;
    out->time_us = (int64_t)rec_get_u64(&r);
    out->code = rec_get_u32(&r);
    out->action = (char)rec_get_u8(&r);
    out->outcome = rec_get_u8(&r);
    out->patient_id = rec_get_str(&r);
    if (!rec_ok(&r))
        return STORE_E_CORRUPT;
    if (out->version == 1) {
        out->xml = rec_get_str(&r);
        return rec_ok(&r) ? STORE_OK : STORE_E_CORRUPT;
    }
    out->facts = (rl_str){ (const char *)r.p, (size_t)(r.end - r.p) };
    if (out->version == AUDIT_FACTS_VERSION)
        return STORE_OK;
    /* version 3: the frame decompressed into the thread's buffer. A frame
     * that does not decompress leaves the facts empty: the header (time,
     * code, patient) still reads, so scans, retention and the indexes go
     * on, and the XML, which needs the facts, fails for this event alone. */
    rl_err err;
    size_t n = 0;
    rl_buf *b = facts_buf();
    rl_str z = out->facts;
    out->facts = (rl_str){ "", 0 };
    out->version = AUDIT_FACTS_VERSION; /* what the rest reads: the facts */
    out->facts_lost = true;
    if (!b || reczip_frame_size(z, &n, &err) != STORE_OK || n > AUDIT_FACTS_MAX)
        return STORE_OK;
    rl_buf_reset(b);
    if (rl_buf_reserve(b, n + 1) != 0 ||
        reczip_unpack_to(t, AUDIT_ZIP_FAMILY, z, b->data, n, &err) != STORE_OK)
        return STORE_OK;
    out->facts = (rl_str){ b->data, n };
    out->facts_lost = false;
    return STORE_OK;
}

/* A version 2 record's event, its strings in *buf (the caller frees it). */
static int event_of(const audit_rec *r, audit_event *ev, char **buf, const char **source,
                    const char **site)
{
    memset(ev, 0, sizeof *ev);
    size_t n = r->facts.n + AUDIT_FACTS_SLACK + r->patient_id.n;
    if (!(*buf = malloc(n)))
        return RL_E_NOMEM;
    if (audit_facts_decode(r->facts, ev, *buf + r->patient_id.n + 1, n - r->patient_id.n - 1,
                           source, site) != 0)
        return STORE_E_CORRUPT;
    memcpy(*buf, r->patient_id.p, r->patient_id.n);
    (*buf)[r->patient_id.n] = '\0';
    ev->patient_id = *buf;
    ev->kind = (audit_kind)r->code;
    ev->action = r->action;
    ev->outcome = r->outcome;
    ev->time_us = r->time_us;
    return 0;
}

int audit_rec_xml(const audit_rec *r, rl_buf *out)
{
    if (r->version == 1)
        return rl_buf_add_str(out, r->xml) == 0 ? 0 : RL_E_NOMEM;
    if (r->facts_lost)
        return STORE_E_CORRUPT;
    audit_event ev;
    char *buf = NULL;
    const char *source, *site;
    int rc = event_of(r, &ev, &buf, &source, &site);
    if (rc == 0)
        rc = audit_render_as(&ev, source, site, out);
    free(buf);
    return rc;
}

int audit_each(store_txn *t, uint64_t from, audit_visit cb, void *ctx, rl_err *err)
{
    store_cursor *cur;
    int rc = store_cursor_open(t, STORE_AUDIT, &cur, err);
    if (rc != STORE_OK)
        return rc;
    unsigned char k[RL_BE64_BYTES];
    rec_be64(from, k);
    rl_str key = { (const char *)k, sizeof k }, val;
    for (int m = store_cursor_get(cur, STORE_SEEK, &key, &val); m == STORE_OK;
         m = store_cursor_get(cur, STORE_NEXT, &key, &val)) {
        audit_rec ar;
        if (key.n != 8 || audit_decode(t, rec_get_be64(key.p), val, &ar) != STORE_OK) {
            rc = rl_err_set(err, STORE_E_CORRUPT, -1, "audit event %llu does not decode",
                            key.n == 8 ? (unsigned long long)rec_get_be64(key.p) : 0ULL);
            break;
        }
        if ((rc = cb(ctx, &ar)) != 0)
            break;
    }
    store_cursor_close(cur);
    return rc;
}

int audit_shipped(store_txn *t, uint64_t *seq, rl_err *err)
{
    rl_str v;
    *seq = 0;
    int rc = store_get(t, STORE_META, RL_STR("audit.shipped"), &v, err);
    if (rc == STORE_NOTFOUND)
        return STORE_OK;
    if (rc == STORE_OK && v.n == 8)
        *seq = rec_get_be64(v.p);
    return rc;
}

int audit_set_shipped(store_txn *t, uint64_t seq, rl_err *err)
{
    unsigned char v[RL_BE64_BYTES];
    rec_be64(seq, v);
    return store_put(t, STORE_META, RL_STR("audit.shipped"), (rl_str){ (const char *)v, sizeof v }, 0,
                     err);
}
