/* An audit event kept as its facts (audit_internal.h): a few hundred bytes
 * where its XML takes one and a half thousand; the XML is written from them
 * when the event is shipped, listed or shown, the same bytes as when it was
 * recorded. */
#include <string.h>

#include "audit_internal.h"
#include "radlink/rec.h"

static int put(rl_buf *b, const char *s)
{
    return rec_put_cstr(b, s ? s : "");
}

int audit_facts_encode(const audit_event *ev, const char *source, const char *site, rl_buf *out)
{
    int e = rec_put_u32(out, (uint32_t)ev->type) | put(out, ev->outcome_text) | put(out, source) |
            put(out, site);
    size_t np = ev->nparty < AUDIT_PARTIES ? ev->nparty : AUDIT_PARTIES;
    e |= rec_put_u8(out, (uint8_t)np);
    for (size_t i = 0; i < np; i++) {
        const audit_party *p = &ev->party[i];
        e |= put(out, p->user_id) | put(out, p->alt_id) | put(out, p->address) |
             rec_put_u8(out, p->requestor) | rec_put_u32(out, (uint32_t)p->role);
    }
    e |= put(out, ev->patient_name) | put(out, ev->study_uid) | put(out, ev->accession) |
         put(out, ev->mpps_uid);
    size_t ns = ev->nsop < AUDIT_SOP_CLASSES ? ev->nsop : AUDIT_SOP_CLASSES;
    e |= rec_put_u8(out, (uint8_t)ns);
    for (size_t i = 0; i < ns; i++)
        e |= put(out, ev->sop[i].uid) | rec_put_u32(out, ev->sop[i].n);
    e |= rec_put_str(out, ev->query.p ? ev->query : (rl_str){ "", 0 }) |
         put(out, ev->query_sop_class) | put(out, ev->object_id) | put(out, ev->object_desc);
    return e ? -1 : 0;
}

/* The next string, NUL-terminated in buf. */
typedef struct unpack {
    rec_reader r;
    char *buf;
    size_t n, used;
    bool bad;
} unpack;

static const char *str(unpack *u)
{
    rl_str s = rec_get_str(&u->r);
    if (u->used + s.n + 1 > u->n) {
        u->bad = true;
        return "";
    }
    char *p = u->buf + u->used;
    memcpy(p, s.p, s.n);
    p[s.n] = '\0';
    u->used += s.n + 1;
    return p;
}

int audit_facts_decode(rl_str facts, audit_event *ev, char *buf, size_t n, const char **source,
                       const char **site)
{
    unpack u = { .buf = buf, .n = n };
    rec_reader_init(&u.r, facts.p, facts.n);
    ev->type = (audit_type)rec_get_u32(&u.r);
    ev->outcome_text = str(&u);
    *source = str(&u);
    *site = str(&u);
    ev->nparty = rec_get_u8(&u.r);
    if (ev->nparty > AUDIT_PARTIES)
        return -1;
    for (size_t i = 0; i < ev->nparty; i++) {
        audit_party *p = &ev->party[i];
        p->user_id = str(&u);
        p->alt_id = str(&u);
        p->address = str(&u);
        p->requestor = rec_get_u8(&u.r) != 0;
        p->role = (audit_role)rec_get_u32(&u.r);
    }
    ev->patient_name = str(&u);
    ev->study_uid = str(&u);
    ev->accession = str(&u);
    ev->mpps_uid = str(&u);
    ev->nsop = rec_get_u8(&u.r);
    if (ev->nsop > AUDIT_SOP_CLASSES)
        return -1;
    for (size_t i = 0; i < ev->nsop; i++) {
        ev->sop[i].uid = str(&u);
        ev->sop[i].n = rec_get_u32(&u.r);
    }
    ev->query = rec_get_str(&u.r);
    ev->query_sop_class = str(&u);
    ev->object_id = str(&u);
    ev->object_desc = str(&u);
    return rec_ok(&u.r) && !u.bad ? 0 : -1;
}
