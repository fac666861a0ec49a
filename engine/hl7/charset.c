/* Character sets (MSH-18, HL7 table 0211): every decoded value is UTF-8.
 * Conversion uses iconv from libc; descriptors are cached per message object. */
#include <errno.h>
#include <iconv.h>
#include <string.h>

#include "charset.h"
#include "fmt.h"
#include "hl7_internal.h"

/* How a set is read: as it is, after a check that no trail byte of a
 * two-byte character is a delimiter, or not at all (with the reason). */
enum cs_how {
    CS_PLAIN,    /* single-byte, or multi-byte with every byte >= 0x80 (EUC) */
    CS_DBCS,     /* lead byte 0x81-0xFE, then a trail that may be ASCII (GB 18030, BIG-5) */
    CS_UNICODE,  /* "UNICODE": no encoding named; read as UTF-8 and said so */
    CS_WIDE,     /* UTF-16/32: not byte text */
    CS_ISO2022,  /* escape sequences (ESC is a control byte in HL7 text) */
};

struct cs_name {
    const char *hl7;
    hl7_cs_kind kind;
    const char *iconv;
    enum cs_how how;
};

/* HL7 table 0211, plus the DICOM-style "ISO IR nnn" spellings some senders
 * use. Multi-byte sets whose trail bytes can equal a delimiter (BIG-5,
 * GB 18030) are read only when no trail byte of the message is one. */
static const struct cs_name charsets[] = {
    { "ASCII", HL7_CS_ASCII, NULL, CS_PLAIN },
    { "ISO IR6", HL7_CS_ASCII, NULL, CS_PLAIN },
    { "8859/1", HL7_CS_ICONV, "ISO-8859-1", CS_PLAIN },
    { "8859/2", HL7_CS_ICONV, "ISO-8859-2", CS_PLAIN },
    { "8859/3", HL7_CS_ICONV, "ISO-8859-3", CS_PLAIN },
    { "8859/4", HL7_CS_ICONV, "ISO-8859-4", CS_PLAIN },
    { "8859/5", HL7_CS_ICONV, "ISO-8859-5", CS_PLAIN },
    { "8859/6", HL7_CS_ICONV, "ISO-8859-6", CS_PLAIN },
    { "8859/7", HL7_CS_ICONV, "ISO-8859-7", CS_PLAIN },
    { "8859/8", HL7_CS_ICONV, "ISO-8859-8", CS_PLAIN },
    { "8859/9", HL7_CS_ICONV, "ISO-8859-9", CS_PLAIN },
    { "8859/15", HL7_CS_ICONV, "ISO-8859-15", CS_PLAIN },
    { "ISO IR14", HL7_CS_ICONV, "ISO646-JP", CS_PLAIN },
    { "ISO IR100", HL7_CS_ICONV, "ISO-8859-1", CS_PLAIN },
    { "ISO IR101", HL7_CS_ICONV, "ISO-8859-2", CS_PLAIN },
    { "ISO IR109", HL7_CS_ICONV, "ISO-8859-3", CS_PLAIN },
    { "ISO IR110", HL7_CS_ICONV, "ISO-8859-4", CS_PLAIN },
    { "ISO IR144", HL7_CS_ICONV, "ISO-8859-5", CS_PLAIN },
    { "ISO IR127", HL7_CS_ICONV, "ISO-8859-6", CS_PLAIN },
    { "ISO IR126", HL7_CS_ICONV, "ISO-8859-7", CS_PLAIN },
    { "ISO IR138", HL7_CS_ICONV, "ISO-8859-8", CS_PLAIN },
    { "ISO IR148", HL7_CS_ICONV, "ISO-8859-9", CS_PLAIN },
    { "ISO IR87", HL7_CS_ICONV, NULL, CS_ISO2022 },
    { "ISO IR159", HL7_CS_ICONV, NULL, CS_ISO2022 },
    { "KS X 1001", HL7_CS_ICONV, "EUC-KR", CS_PLAIN },
    { "CNS 11643-1992", HL7_CS_ICONV, "EUC-TW", CS_PLAIN },
    { "GB 18030", HL7_CS_ICONV, "GB18030", CS_DBCS },
    { "GB18030", HL7_CS_ICONV, "GB18030", CS_DBCS },
    { "BIG-5", HL7_CS_ICONV, "BIG5", CS_DBCS },
    { "UNICODE", HL7_CS_UTF8, NULL, CS_UNICODE },
    { "UNICODE UTF-8", HL7_CS_UTF8, NULL, CS_PLAIN },
    { "UNICODE UTF-16", HL7_CS_UTF8, NULL, CS_WIDE },
    { "UNICODE UTF-32", HL7_CS_UTF8, NULL, CS_WIDE },
    { "ISO IR192", HL7_CS_UTF8, NULL, CS_PLAIN },
    { "UTF-8", HL7_CS_UTF8, NULL, CS_PLAIN },
};

static const struct cs_name *find_cs(rl_str v)
{
    for (size_t i = 0; i < sizeof charsets / sizeof charsets[0]; i++)
        if (rl_str_ieq_c(v, charsets[i].hl7))
            return &charsets[i];
    return NULL;
}

int hl7_charset_lookup(rl_str v, hl7_cs_kind *kind, const char **iconv_name)
{
    v = rl_str_trim(v);
    *iconv_name = NULL;
    if (v.n == 0) {
        *kind = HL7_CS_DEFAULT;
        return HL7_OK;
    }
    const struct cs_name *c = find_cs(v);
    if (!c || c->how == CS_WIDE || c->how == CS_ISO2022)
        return HL7_E_CHARSET;
    *kind = c->kind;
    *iconv_name = c->iconv;
    return HL7_OK;
}

int hl7_charset_resolve(hl7_msg *m, rl_str v, rl_err *err)
{
    size_t at = (size_t)(v.p - m->buf);
    v = rl_str_trim(v);
    char shown[HL7_SHOWN_SIZE(15)]; /* its first 20 bytes, at least 15 when escaped */
    hl7_fmt_bytes(v.p, v.n < 20 ? v.n : 20, shown, sizeof shown);
    if (v.n == 0) {
        m->cs_kind = HL7_CS_DEFAULT;
        return HL7_OK;
    }
    const struct cs_name *c = find_cs(v);
    if (!c)
        return rl_err_set(err, HL7_E_CHARSET, (long)at, "byte %zu: MSH-18 character set '%s' is "
                          "not one of HL7 table 0211", at, shown);
    if (c->how == CS_WIDE)
        return rl_err_set(err, HL7_E_CHARSET, (long)at, "byte %zu: MSH-18 '%s': 16- and 32-bit "
                          "text cannot be sent as HL7 delimited text (send UNICODE UTF-8)", at,
                          shown);
    if (c->how == CS_ISO2022)
        return rl_err_set(err, HL7_E_CHARSET, (long)at, "byte %zu: MSH-18 '%s': ISO 2022 escape "
                          "sequences are not supported (send UNICODE UTF-8)", at, shown);
    m->cs_kind = c->kind;
    m->cs_iconv = c->iconv;
    if (c->how == CS_UNICODE)
        m->quirks |= HL7_QUIRK_UNICODE;
    if (c->how == CS_DBCS) { /* no trail byte may be a delimiter */
        const unsigned char *b = (const unsigned char *)m->buf;
        const hl7_seps *s = &m->seps;
        for (size_t i = 0; i + 1 < m->len; i++) {
            if (b[i] < 0x81 || b[i] > 0xFE)
                continue;
            unsigned char t = b[i + 1];
            if (t == (unsigned char)s->field || t == (unsigned char)s->comp ||
                t == (unsigned char)s->rep || t == (unsigned char)s->esc ||
                t == (unsigned char)s->sub)
                return rl_err_set(err, HL7_E_CHARSET, (long)(i + 1), "byte %zu: in %s a "
                                  "character's second byte is a delimiter (0x%02X): the message "
                                  "cannot be split safely (send UNICODE UTF-8)", i + 1, c->hl7,
                                  (unsigned)t);
            /* GB 18030 four-byte sequences: lead, digit, lead, digit */
            i += t >= 0x30 && t <= 0x39 ? 3 : 1;
        }
    }
    return HL7_OK;
}

bool hl7_utf8_valid(const char *s, size_t n, size_t *bad_at)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0;
    while (i < n) {
        unsigned c = p[i];
        size_t len;
        unsigned min;
        if (c < 0x80) {
            i++;
            continue;
        } else if ((c & 0xE0) == 0xC0) {
            len = 2;
            min = 0x80;
            c &= 0x1F;
        } else if ((c & 0xF0) == 0xE0) {
            len = 3;
            min = 0x800;
            c &= 0x0F;
        } else if ((c & 0xF8) == 0xF0) {
            len = 4;
            min = 0x10000;
            c &= 0x07;
        } else {
            goto bad;
        }
        if (n - i < len)
            goto bad;
        for (size_t k = 1; k < len; k++) {
            if ((p[i + k] & 0xC0) != 0x80)
                goto bad;
            c = (c << 6) | (p[i + k] & 0x3F);
        }
        if (c < min || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF))
            goto bad;
        i += len;
    }
    return true;
bad:
    if (bad_at)
        *bad_at = i;
    return false;
}

/* One pass over a value: bit 0 set when it holds the escape character, bit 1
 * when it holds bytes above 0x7F. */
static unsigned scan_value(const char *p, size_t n, char esc)
{
    uint64_t high = 0, e = 0;
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        uint64_t w = hl7_load64(p + i);
        high |= w;
        e |= hl7_has_byte(w, (unsigned char)esc);
    }
    unsigned tail_high = 0, tail_e = 0;
    for (; i < n; i++) {
        tail_high |= (unsigned char)p[i];
        tail_e |= p[i] == esc;
    }
    return ((e || tail_e) ? 1u : 0u) | (((high & HL7_HIGHS) || (tail_high & 0x80)) ? 2u : 0u);
}

static bool has_high_bytes(const char *p, size_t n)
{
    return scan_value(p, n, '\0') & 2u;
}

void hl7_iconv_close(hl7_msg *m)
{
    if (m->iconv_from)
        iconv_close((iconv_t)m->iconv_from);
    if (m->iconv_to)
        iconv_close((iconv_t)m->iconv_to);
    m->iconv_from = m->iconv_to = NULL;
    m->iconv_name = NULL;
}

static iconv_t get_iconv(hl7_msg *m, const char *name, bool to_msg)
{
    if (m->iconv_name != name)
        hl7_iconv_close(m);
    m->iconv_name = name;
    void **slot = to_msg ? &m->iconv_to : &m->iconv_from;
    if (!*slot) {
        iconv_t cd = to_msg ? iconv_open(name, "UTF-8") : iconv_open("UTF-8", name);
        if (cd == (iconv_t)-1)
            return (iconv_t)-1;
        *slot = cd;
    }
    iconv((iconv_t)*slot, NULL, NULL, NULL, NULL); /* reset shift state */
    return (iconv_t)*slot;
}

/* Convert v with iconv into the arena. */
static int convert(hl7_msg *m, const char *name, bool to_msg, rl_str v, rl_str *out, rl_err *err)
{
    iconv_t cd = get_iconv(m, name, to_msg);
    if (cd == (iconv_t)-1)
        return rl_err_set(err, HL7_E_CHARSET, -1, "character set %s is not available", name);
    size_t cap = v.n * 4 + 4;
    char *dst = rl_arena_alloc(&m->arena, cap);
    if (!dst)
        return rl_err_set(err, HL7_E_LIMIT, -1, "decoded values exceed the message arena");
    char *in = (char *)v.p, *o = dst;
    size_t inleft = v.n, outleft = cap;
    if (iconv(cd, &in, &inleft, &o, &outleft) == (size_t)-1) {
        size_t at = (size_t)(in - v.p);
        if (to_msg)
            return rl_err_set(err, HL7_E_ENCODING, -1,
                              "text cannot be written in the message character set %s "
                              "(character at byte %zu)",
                              name, at);
        return rl_err_set(err, HL7_E_ENCODING, -1,
                          "byte %zu of the value is not valid %s (errno %d)", at, name, errno);
    }
    *out = (rl_str){ dst, cap - outleft };
    return HL7_OK;
}

int hl7_decode(hl7_msg *m, rl_str raw, rl_str *out, rl_err *err)
{
    rl_str v = raw;
    unsigned flags = scan_value(raw.p, raw.n, m->seps.esc);
    if (flags & 1u) {
        rl_buf_reset(&m->scratch);
        if (hl7_unescape(&m->seps, raw, 0, &m->scratch) != 0)
            return rl_err_set(err, HL7_E_LIMIT, -1, "decoded value too large");
        char *d = rl_arena_dup(&m->arena, m->scratch.data ? m->scratch.data : "",
                               m->scratch.len);
        if (!d)
            return rl_err_set(err, HL7_E_LIMIT, -1, "decoded values exceed the message arena");
        v = (rl_str){ d, m->scratch.len };
        flags = scan_value(v.p, v.n, '\0'); /* \Xhh\ may have produced 8-bit bytes */
    }
    if (!(flags & 2u)) {
        *out = v;
        return HL7_OK;
    }
    size_t bad;
    switch (m->cs_kind) {
    case HL7_CS_UTF8:
        if (!hl7_utf8_valid(v.p, v.n, &bad))
            return rl_err_set(err, HL7_E_ENCODING, -1,
                              "byte %zu of the value is not valid UTF-8 (MSH-18 says UTF-8)",
                              bad);
        *out = v;
        return HL7_OK;
    case HL7_CS_ICONV:
        return convert(m, m->cs_iconv, false, v, out, err);
    case HL7_CS_DEFAULT:
    case HL7_CS_ASCII:
    default:
        /* Undeclared 8-bit text: UTF-8 when it is valid UTF-8 (which Latin-1
         * text almost never is), otherwise the commonest legacy set, Latin-1. */
        if (hl7_utf8_valid(v.p, v.n, NULL)) {
            *out = v;
            return HL7_OK;
        }
        return convert(m, "ISO-8859-1", false, v, out, err);
    }
}

int hl7_to_msg_charset(hl7_msg *m, rl_str utf8, rl_str *out, rl_err *err)
{
    size_t bad;
    if (!hl7_utf8_valid(utf8.p, utf8.n, &bad))
        return rl_err_set(err, HL7_E_ENCODING, -1, "byte %zu of the new value is not UTF-8",
                          bad);
    if (m->cs_kind != HL7_CS_ICONV || !has_high_bytes(utf8.p, utf8.n)) {
        *out = utf8;
        return HL7_OK;
    }
    return convert(m, m->cs_iconv, true, utf8, out, err);
}
