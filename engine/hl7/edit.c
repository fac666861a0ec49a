/* Editing parsed messages (set a value, add or remove segments) and writing
 * them out. An edited segment is rebuilt in the message arena; untouched
 * segments keep pointing into the original input. */
#include <stdlib.h>
#include <string.h>

#include "charset.h"
#include "hl7_internal.h"
#include "radlink/limits.h"

/* s with its n-th piece (split at sep) replaced by v, padding missing pieces. */
static int replace_piece(rl_arena *a, rl_str s, char sep, unsigned n, rl_str v, rl_str *out)
{
    const char *p = s.p, *end = s.p + s.n;
    unsigned i = 1;
    while (i < n) {
        const char *q = p < end ? memchr(p, sep, (size_t)(end - p)) : NULL;
        if (!q)
            break;
        p = q + 1;
        i++;
    }
    size_t pad = n - i; /* separators missing before piece n */
    const char *pe;
    if (pad) {
        p = pe = end;
    } else {
        pe = p < end ? memchr(p, sep, (size_t)(end - p)) : NULL;
        if (!pe)
            pe = end;
    }
    size_t head = (size_t)(p - s.p), tail = (size_t)(end - pe);
    size_t total = head + pad + v.n + tail;
    char *d = rl_arena_alloc(a, total ? total : 1);
    if (!d)
        return HL7_E_LIMIT;
    memcpy(d, s.p, head);
    memset(d + head, sep, pad);
    if (v.n)
        memcpy(d + head + pad, v.p, v.n);
    memcpy(d + head + pad + v.n, pe, tail);
    *out = (rl_str){ d, total };
    return HL7_OK;
}

static int add_segment(hl7_msg *m, rl_str text)
{
    if (m->nsegs >= m->limits.max_segments)
        return HL7_E_LIMIT;
    if (m->nsegs == m->segcap) {
        size_t cap = m->segcap ? m->segcap * 2 : 32;
        rl_str *s = realloc(m->segs, cap * sizeof *s);
        if (!s)
            return HL7_E_NOMEM;
        m->segs = s;
        m->segcap = cap;
    }
    m->segs[m->nsegs++] = text;
    return HL7_OK;
}

static unsigned seg_count(const hl7_msg *m, const char *name)
{
    unsigned n = 0;
    for (size_t i = 0; i < m->nsegs; i++)
        n += hl7_seg_is(m->segs[i], name);
    return n;
}

int hl7_seg_append(hl7_msg *m, rl_str raw, rl_err *err)
{
    if (raw.n < 3 || memchr(raw.p, '\r', raw.n) || memchr(raw.p, '\n', raw.n))
        return rl_err_set(err, HL7_E_SEGMENT, -1, "a new segment needs a name and one line");
    char *d = rl_arena_dup(&m->arena, raw.p, raw.n);
    if (!d)
        return rl_err_set(err, HL7_E_LIMIT, -1, "message arena full");
    int rc = add_segment(m, (rl_str){ d, raw.n });
    return rc ? rl_err_set(err, rc, -1, "too many segments") : HL7_OK;
}

int hl7_set_raw(hl7_msg *m, const hl7_path *p, rl_str raw, rl_err *err)
{
    char where[RL_HL7_PATH_TEXT];
    hl7_path_format(p, where, sizeof where);
    if (p->field == 0)
        return rl_err_set(err, HL7_E_PATH, -1, "%s: a field number is needed to set a value",
                          where);
    bool msh = memcmp(p->seg, "MSH", 3) == 0;
    if (msh && p->field <= 2)
        return rl_err_set(err, HL7_E_READONLY, -1,
                          "%s: the delimiters in MSH-1 and MSH-2 cannot be changed", where);
    const rl_str *found = hl7_seg_find(m, p->seg, p->seg_idx);
    if (!found) {
        unsigned have = seg_count(m, p->seg);
        if (p->seg_idx != have + 1)
            return rl_err_set(err, HL7_E_PATH, -1,
                              "%s: the message has %u %s segment(s); only the next one can be "
                              "added",
                              where, have, p->seg);
        if (hl7_seg_append(m, (rl_str){ p->seg, 3 }, err) != HL7_OK)
            return err ? err->code : HL7_E_LIMIT;
        found = &m->segs[m->nsegs - 1];
    }
    size_t idx = (size_t)(found - m->segs);
    rl_str seg = *found;
    unsigned piece = msh ? p->field : p->field + 1;
    rl_str field = { "", 0 }, nf = raw;
    hl7_piece(seg, m->seps.field, piece, &field);
    int rc = HL7_OK;
    if (p->rep || p->comp) {
        unsigned r = p->rep ? p->rep : 1;
        rl_str rep = { "", 0 }, nr = raw;
        hl7_piece(field, m->seps.rep, r, &rep);
        if (p->comp) {
            rl_str comp = { "", 0 }, nc = raw;
            hl7_piece(rep, m->seps.comp, p->comp, &comp);
            if (p->sub)
                rc = replace_piece(&m->arena, comp, m->seps.sub, p->sub, raw, &nc);
            if (rc == HL7_OK)
                rc = replace_piece(&m->arena, rep, m->seps.comp, p->comp, nc, &nr);
        }
        if (rc == HL7_OK)
            rc = replace_piece(&m->arena, field, m->seps.rep, r, nr, &nf);
    }
    rl_str ns;
    if (rc == HL7_OK)
        rc = replace_piece(&m->arena, seg, m->seps.field, piece, nf, &ns);
    if (rc != HL7_OK)
        return rl_err_set(err, rc, -1, "%s: message arena full", where);
    m->segs[idx] = ns;
    return HL7_OK;
}

int hl7_encode(hl7_msg *m, rl_str text, rl_buf *out, rl_err *err)
{
    rl_str conv;
    int rc = hl7_to_msg_charset(m, text, &conv, err);
    if (rc != HL7_OK)
        return rc;
    if (hl7_escape(&m->seps, conv, out) != 0)
        return rl_err_set(err, HL7_E_LIMIT, -1, "value too large");
    return HL7_OK;
}

int hl7_set(hl7_msg *m, const hl7_path *p, rl_str text, rl_err *err)
{
    rl_buf_reset(&m->scratch);
    int rc = hl7_encode(m, text, &m->scratch, err);
    if (rc != HL7_OK)
        return rc;
    char *d = rl_arena_dup(&m->arena, m->scratch.data ? m->scratch.data : "", m->scratch.len);
    if (!d)
        return rl_err_set(err, HL7_E_LIMIT, -1, "message arena full");
    return hl7_set_raw(m, p, (rl_str){ d, m->scratch.len }, err);
}

int hl7_seg_delete(hl7_msg *m, const hl7_path *p, rl_err *err)
{
    if (p->field != 0)
        return rl_err_set(err, HL7_E_PATH, -1, "%s: delete a segment by its name only",
                          p->seg);
    if (memcmp(p->seg, "MSH", 3) == 0)
        return rl_err_set(err, HL7_E_READONLY, -1, "MSH cannot be deleted");
    const rl_str *s = hl7_seg_find(m, p->seg, p->seg_idx);
    if (!s)
        return HL7_OK; /* already absent: deleting is idempotent */
    size_t i = (size_t)(s - m->segs);
    memmove(&m->segs[i], &m->segs[i + 1], (m->nsegs - i - 1) * sizeof *m->segs);
    m->nsegs--;
    return HL7_OK;
}

int hl7_serialize(const hl7_msg *m, rl_buf *out)
{
    for (size_t i = 0; i < m->nsegs; i++)
        if (rl_buf_add_str(out, m->segs[i]) != 0 || rl_buf_add_ch(out, '\r') != 0)
            return HL7_E_LIMIT;
    return HL7_OK;
}
