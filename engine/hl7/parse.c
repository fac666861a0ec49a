/* HL7 v2 message parsing: separators from MSH-1/MSH-2, segment boundaries, and
 * lazy field splitting. Nothing is copied; segments are views into the input. */
#include <iconv.h>
#include <stdlib.h>
#include <string.h>

#include "charset.h"
#include "fmt.h"
#include "hl7_internal.h"
#include "radlink/limits.h"

const hl7_seps hl7_default_seps = { '|', '^', '~', '\\', '&', '\0' };

void hl7_msg_init(hl7_msg *m, const hl7_limits *limits)
{
    memset(m, 0, sizeof *m);
    m->seps = hl7_default_seps;
    m->limits.max_bytes = limits && limits->max_bytes ? limits->max_bytes : RL_MAX_FRAME_DEFAULT;
    m->limits.max_segments =
        limits && limits->max_segments ? limits->max_segments : RL_MAX_SEGMENTS;
    rl_arena_init(&m->arena, 8192, RL_MAX_ARENA_BYTES);
    rl_buf_init(&m->scratch, RL_MAX_ARENA_BYTES);
}

void hl7_msg_free(hl7_msg *m)
{
    free(m->segs);
    m->segs = NULL;
    m->nsegs = m->segcap = 0;
    rl_arena_free(&m->arena);
    rl_buf_free(&m->scratch);
    hl7_iconv_close(m);
}

static bool is_delim_char(unsigned char c)
{
    bool alnum = (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
    return c >= 0x21 && c <= 0x7e && !alnum;
}

static int push_seg(hl7_msg *m, const char *p, size_t n)
{
    if (m->nsegs == m->segcap) {
        size_t cap = m->segcap ? m->segcap * 2 : 32;
        rl_str *s = realloc(m->segs, cap * sizeof *s);
        if (!s)
            return HL7_E_NOMEM;
        m->segs = s;
        m->segcap = cap;
    }
    m->segs[m->nsegs++] = (rl_str){ p, n };
    return HL7_OK;
}

static int read_separators(hl7_msg *m, size_t at, rl_err *err)
{
    const char *b = m->buf;
    size_t len = m->len;
    if (len - at < 4)
        return rl_err_set(err, HL7_E_SEPARATORS, (long)(at + 3),
                          "byte %zu: MSH ends before its field separator (MSH-1)", at + 3);
    unsigned char fs = (unsigned char)b[at + 3];
    if (!is_delim_char(fs)) {
        char shown[HL7_SHOWN_SIZE(1)];
        hl7_fmt_bytes(b + at + 3, 1, shown, sizeof shown);
        return rl_err_set(err, HL7_E_SEPARATORS, (long)(at + 3),
                          "byte %zu: MSH-1 field separator '%s' is not a printable "
                          "non-alphanumeric character",
                          at + 3, shown);
    }
    char enc[RL_HL7_ENCODING_CHARS];
    size_t k = 0, i = at + 4;
    while (i < len && (unsigned char)b[i] != fs && b[i] != '\r' && b[i] != '\n') {
        if (k == RL_HL7_ENCODING_CHARS)
            return rl_err_set(err, HL7_E_SEPARATORS, (long)i,
                              "byte %zu: MSH-2 holds more than %d encoding characters", i,
                              RL_HL7_ENCODING_CHARS);
        unsigned char c = (unsigned char)b[i];
        /* ^~\\& (as some senders' files write it): the escape doubled */
        if (k == 3 && c == (unsigned char)enc[2] && c == '\\' &&
            !(m->quirks & HL7_QUIRK_MSH2_ESCAPE)) {
            m->quirks |= HL7_QUIRK_MSH2_ESCAPE;
            i++;
            continue;
        }
        if (!is_delim_char(c) || c == fs || memchr(enc, c, k)) {
            char shown[HL7_SHOWN_SIZE(1)];
            hl7_fmt_bytes(b + i, 1, shown, sizeof shown);
            return rl_err_set(err, HL7_E_SEPARATORS, (long)i,
                              "byte %zu: MSH-2 encoding character '%s' is alphanumeric, a "
                              "control byte, or used twice",
                              i, shown);
        }
        enc[k++] = (char)c;
        i++;
    }
    if (k < 4)
        return rl_err_set(err, HL7_E_SEPARATORS, (long)(at + 4),
                          "byte %zu: MSH-2 holds %zu encoding characters, expected 4 "
                          "(component, repetition, escape, subcomponent)",
                          at + 4, k);
    m->seps = (hl7_seps){ (char)fs, enc[0], enc[1], enc[2], enc[3],
                          k == RL_HL7_ENCODING_CHARS ? enc[4] : '\0' };
    return HL7_OK;
}

static bool valid_seg_name(const char *p)
{
    if (!(p[0] >= 'A' && p[0] <= 'Z'))
        return false;
    for (int i = 1; i < 3; i++)
        if (!((p[i] >= 'A' && p[i] <= 'Z') || (p[i] >= '0' && p[i] <= '9')))
            return false;
    return true;
}

/* Check one segment's name and store it. */
static int add_parsed_segment(hl7_msg *m, const char *p, size_t n, rl_err *err)
{
    size_t off = (size_t)(p - m->buf);
    if (n < 3 || !valid_seg_name(p) || (n > 3 && p[3] != m->seps.field)) {
        char shown[HL7_SHOWN_SIZE(3)];
        hl7_fmt_bytes(p, n < 3 ? n : 3, shown, sizeof shown);
        if (n < 3)
            return rl_err_set(err, HL7_E_SEGMENT, (long)off,
                              "byte %zu: truncated segment '%s' (a segment name has three "
                              "characters)",
                              off, shown);
        if (!valid_seg_name(p))
            return rl_err_set(err, HL7_E_SEGMENT, (long)off,
                              "byte %zu: segment name '%s' is not three capital letters or "
                              "digits",
                              off, shown);
        return rl_err_set(err, HL7_E_SEGMENT, (long)(off + 3),
                          "byte %zu: segment %s is not followed by the field separator '%c'",
                          off + 3, shown, m->seps.field);
    }
    if (m->nsegs > 0 && memcmp(p, "MSH", 3) == 0)
        return rl_err_set(err, HL7_E_SEGMENT, (long)off,
                          "byte %zu: a second MSH segment: this is more than one message", off);
    if (m->nsegs >= m->limits.max_segments)
        return rl_err_set(err, HL7_E_LIMIT, (long)off, "byte %zu: more than %zu segments", off,
                          m->limits.max_segments);
    if (push_seg(m, p, n) != 0)
        return rl_err_set(err, HL7_E_NOMEM, (long)off, "out of memory");
    return HL7_OK;
}

int hl7_parse(hl7_msg *m, const char *buf, size_t len, rl_err *err)
{
    m->buf = buf;
    m->len = len;
    m->nsegs = 0;
    m->seps = hl7_default_seps;
    m->cs_kind = HL7_CS_DEFAULT;
    m->cs_iconv = NULL;
    m->quirks = 0;
    rl_arena_reset(&m->arena);

    if (len > m->limits.max_bytes)
        return rl_err_set(err, HL7_E_TOO_BIG, (long)m->limits.max_bytes,
                          "message is %zu bytes, larger than the limit of %zu", len,
                          m->limits.max_bytes);
    size_t pos = 0;
    while (pos < len && (buf[pos] == '\r' || buf[pos] == '\n'))
        pos++;
    if (pos == len)
        return rl_err_set(err, HL7_E_EMPTY, (long)pos, "byte %zu: empty message", pos);
    if (len - pos < 3 || memcmp(buf + pos, "MSH", 3) != 0) {
        char shown[HL7_SHOWN_SIZE(3)];
        hl7_fmt_bytes(buf + pos, len - pos < 3 ? len - pos : 3, shown, sizeof shown);
        bool batch = len - pos >= 3 &&
                     (memcmp(buf + pos, "FHS", 3) == 0 || memcmp(buf + pos, "BHS", 3) == 0);
        return rl_err_set(err, HL7_E_NO_MSH, (long)pos,
                          batch ? "byte %zu: starts with %s, a batch header; split the batch "
                                  "into messages first"
                                : "byte %zu: message does not start with MSH (found '%s')",
                          pos, shown);
    }
    int rc = read_separators(m, pos, err);
    if (rc != HL7_OK)
        return rc;

    /* One pass finds segment boundaries (CR, LF or CRLF) and control bytes
     * that HL7 text may not hold (below 0x20 except TAB, CR, LF), eight bytes
     * at a time. A control byte inside MSH is reported only once MSH is
     * stored, so that the AR can still echo MSH-10. */
    const char *end = buf + len;
    const char *p = buf + pos, *seg = p;
    size_t bad = SIZE_MAX;
    for (;;) {
        while (end - p >= 8 && !hl7_has_less(hl7_load64(p), 0x20))
            p += 8;
        if (p < end && ((unsigned char)*p >= 0x20 || *p == '\t')) {
            p++;
            continue;
        }
        if (p < end && *p != '\r' && *p != '\n') {
            if (bad == SIZE_MAX)
                bad = (size_t)(p - buf);
            if (m->nsegs > 0)
                break;
            p++;
            continue;
        }
        /* p is at a terminator or at the end: [seg, p) is a segment */
        size_t n = (size_t)(p - seg);
        if (n > 0 && (rc = add_parsed_segment(m, seg, n, err)) != HL7_OK)
            return rc;
        if (bad != SIZE_MAX || p >= end)
            break;
        p++;
        if (p < end && p[-1] == '\r' && *p == '\n')
            p++;
        seg = p;
    }
    if (bad != SIZE_MAX)
        return rl_err_set(err, HL7_E_BINARY, (long)bad,
                          "byte %zu: control byte 0x%02X is not allowed in HL7 text", bad,
                          (unsigned)(unsigned char)buf[bad]);

    rl_str cs;
    if (hl7_field(m, m->segs[0], 18, &cs) >= HL7_EMPTY) {
        hl7_piece(cs, m->seps.rep, 1, &cs);
        hl7_piece(cs, m->seps.comp, 1, &cs);
        if ((rc = hl7_charset_resolve(m, cs, err)) != HL7_OK)
            return rc;
    }
    return HL7_OK;
}

const rl_str *hl7_seg_find(const hl7_msg *m, const char *name, unsigned occurrence)
{
    unsigned seen = 0;
    if (occurrence == 0)
        occurrence = 1;
    for (size_t i = 0; i < m->nsegs; i++)
        if (hl7_seg_is(m->segs[i], name) && ++seen == occurrence)
            return &m->segs[i];
    return NULL;
}

hl7_kind hl7_classify(rl_str v)
{
    if (v.n == 0)
        return HL7_EMPTY;
    if (v.n == 2 && v.p[0] == '"' && v.p[1] == '"')
        return HL7_NULL;
    return HL7_VALUE;
}

/* Fields and components are short: a plain loop beats memchr's call cost. */
hl7_kind hl7_piece(rl_str s, char sep, unsigned n, rl_str *out)
{
    const char *p = s.p, *end = s.p + s.n;
    for (unsigned i = 1; i < n; i++) {
        const char *q = p < end ? memchr(p, sep, (size_t)(end - p)) : NULL;
        if (!q)
            return HL7_ABSENT;
        p = q + 1;
    }
    const char *q = p < end ? memchr(p, sep, (size_t)(end - p)) : NULL;
    if (!q)
        q = end;
    *out = (rl_str){ p, (size_t)(q - p) };
    return hl7_classify(*out);
}

unsigned hl7_piece_count(rl_str s, char sep)
{
    unsigned n = 1;
    for (size_t i = 0; i < s.n; i++)
        n += s.p[i] == sep;
    return n;
}

unsigned hl7_field_count(const hl7_msg *m, rl_str seg)
{
    unsigned pieces = hl7_piece_count(seg, m->seps.field);
    return hl7_seg_is(seg, "MSH") ? pieces : pieces - 1;
}

hl7_kind hl7_field(const hl7_msg *m, rl_str seg, unsigned n, rl_str *raw)
{
    if (n == 0) {
        *raw = seg;
        return HL7_VALUE;
    }
    if (hl7_seg_is(seg, "MSH")) {
        if (n == 1) {
            if (seg.n < 4)
                return HL7_ABSENT;
            *raw = (rl_str){ seg.p + 3, 1 };
            return HL7_VALUE;
        }
        n -= 1; /* MSH-2 is the second piece when splitting at the separator */
    }
    return hl7_piece(seg, m->seps.field, n + 1, raw);
}

/* ---- lines that are not segments ---- */

/* Is the line [p, p+n) meant as a segment: a name (a capital letter, then
 * capitals or digits) and the field separator, or a line of one to three
 * such characters alone (a truncated segment, which the parse refuses)?
 * Text typed into a field ("Umg. Pflege") is not. */
static bool starts_segment(const char *p, size_t n, char fs)
{
    size_t k = 0;
    while (k < n && k < 3 &&
           ((p[k] >= 'A' && p[k] <= 'Z') || (k && p[k] >= '0' && p[k] <= '9')))
        k++;
    return k == n || (k == 3 && p[3] == fs);
}

size_t hl7_join_stray_lines(rl_str raw, rl_buf *out)
{
    /* the separators as MSH writes them: "MSH|^~\&" */
    rl_buf_reset(out);
    size_t pos = 0;
    while (pos < raw.n && (raw.p[pos] == '\r' || raw.p[pos] == '\n'))
        pos++;
    if (raw.n - pos < 8 || memcmp(raw.p + pos, "MSH", 3) != 0)
        return 0;
    char fs = raw.p[pos + 3], esc = raw.p[pos + 6];
    size_t joined = 0, line = pos, i = pos;
    while (i <= raw.n) {
        if (i < raw.n && raw.p[i] != '\r' && raw.p[i] != '\n') {
            i++;
            continue;
        }
        /* [line, i) is a line; the terminator (CR, LF or CRLF) follows */
        size_t t = i < raw.n ? (i + 1 < raw.n && raw.p[i] == '\r' && raw.p[i + 1] == '\n' ? 2 : 1)
                             : 0;
        size_t next = i + t, k = next;
        while (k < raw.n && raw.p[k] != '\r' && raw.p[k] != '\n')
            k++;
        /* a following line with text that is no segment: this line's
         * terminator becomes a line break in its last field */
        bool blank = true;
        for (size_t j = next; j < k && blank; j++)
            blank = raw.p[j] == ' ' || raw.p[j] == '\t';
        bool join = t && k > next && !blank && !starts_segment(raw.p + next, k - next, fs);
        rl_buf_add(out, raw.p + line, i - line);
        if (join) {
            char br[6] = { esc, 'X', '0', 'D', esc, 0 };
            rl_buf_add(out, br, 5);
            joined++;
        } else if (t) {
            rl_buf_add(out, raw.p + i, t);
        }
        if (!t)
            break;
        line = next;
        i = next;
    }
    if (!joined)
        rl_buf_reset(out);
    return joined;
}
