/* HL7 escape sequences (HL7 v2.5 section 2.7): decoding on read, encoding on
 * write. The mapping of formatting escapes is documented in radlink/hl7.h. */
#include <string.h>

#include "hl7_internal.h"

#define MAX_REPEAT 99 /* \.sp n\ and \.sk n\ expand at most this many times */

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

/* Count argument of \.sp n\ style escapes: default 1, bounded. */
static unsigned repeat_arg(rl_str arg, bool *ok)
{
    arg = rl_str_trim(arg);
    if (arg.n && arg.p[0] == '+') {
        arg.p++;
        arg.n--;
    }
    if (arg.n == 0) {
        *ok = true;
        return 1;
    }
    uint64_t v;
    *ok = rl_str_to_u64(arg, 1000000, &v);
    return v > MAX_REPEAT ? MAX_REPEAT : (unsigned)v;
}

static int add_repeat(rl_buf *out, char c, unsigned n)
{
    for (unsigned i = 0; i < n; i++)
        if (rl_buf_add_ch(out, c) != 0)
            return HL7_E_LIMIT;
    return HL7_OK;
}

/* An append to out: HL7_E_LIMIT when out would pass its limit (or memory
 * runs out). */
static int add(rl_buf *out, const char *p, size_t n)
{
    return rl_buf_add(out, p, n) == 0 ? HL7_OK : HL7_E_LIMIT;
}

/* Decode one escape body (the text between the escape characters); returns 1
 * when handled, 0 when it must be kept verbatim, HL7_E_LIMIT when out is full. */
static int decode_one(const hl7_seps *s, rl_str body, unsigned flags, rl_buf *out)
{
    bool keep_fmt = flags & HL7_KEEP_FORMAT;
    if (body.n == 1) {
        char c = body.p[0], d;
        switch (c) {
        case 'F': d = s->field; break;
        case 'S': d = s->comp; break;
        case 'T': d = s->sub; break;
        case 'R': d = s->rep; break;
        case 'E': d = s->esc; break;
        case 'P':
            if (!s->trunc)
                return 0;
            d = s->trunc;
            break;
        case 'H':
        case 'N':
            return keep_fmt ? 0 : 1; /* highlighting on/off: no plain-text form */
        default:
            return 0;
        }
        return rl_buf_add_ch(out, d) == 0 ? 1 : HL7_E_LIMIT;
    }
    if (body.n >= 3 && body.p[0] == 'X' && (body.n - 1) % 2 == 0) {
        for (size_t i = 1; i < body.n; i++)
            if (hexval(body.p[i]) < 0)
                return 0;
        for (size_t i = 1; i < body.n; i += 2)
            if (rl_buf_add_ch(out, (char)(hexval(body.p[i]) * 16 + hexval(body.p[i + 1]))) != 0)
                return HL7_E_LIMIT;
        return 1;
    }
    if (body.n >= 3 && body.p[0] == '.' && !keep_fmt) {
        rl_str cmd = { body.p + 1, 2 }, arg = { body.p + 3, body.n - 3 };
        bool ok = true;
        if ((rl_str_eq_c(cmd, "br") || rl_str_eq_c(cmd, "ce")) && arg.n == 0)
            return rl_buf_add_ch(out, '\n') == 0 ? 1 : HL7_E_LIMIT;
        if (rl_str_eq_c(cmd, "sp")) {
            unsigned n = repeat_arg(arg, &ok);
            return !ok ? 0 : add_repeat(out, '\n', n) == 0 ? 1 : HL7_E_LIMIT;
        }
        if (rl_str_eq_c(cmd, "sk")) {
            unsigned n = repeat_arg(arg, &ok);
            return !ok ? 0 : add_repeat(out, ' ', n) == 0 ? 1 : HL7_E_LIMIT;
        }
        if (rl_str_eq_c(cmd, "in") || rl_str_eq_c(cmd, "ti") ||
            ((rl_str_eq_c(cmd, "fi") || rl_str_eq_c(cmd, "nf")) && arg.n == 0))
            return 1;
        return 0;
    }
    return 0; /* \Z..\ local, \C..\ \M..\ charset switches, unknown: verbatim */
}

int hl7_unescape(const hl7_seps *s, rl_str raw, unsigned flags, rl_buf *out)
{
    const char *p = raw.p, *end = raw.p + raw.n;
    while (p < end) {
        const char *e = memchr(p, s->esc, (size_t)(end - p));
        if (!e)
            return add(out, p, (size_t)(end - p));
        if (add(out, p, (size_t)(e - p)) != HL7_OK)
            return HL7_E_LIMIT;
        const char *close = e + 1 < end ? memchr(e + 1, s->esc, (size_t)(end - e - 1)) : NULL;
        if (!close) /* unterminated: keep the rest as it is */
            return add(out, e, (size_t)(end - e));
        int r = decode_one(s, (rl_str){ e + 1, (size_t)(close - e - 1) }, flags, out);
        if (r < 0 || (r == 0 && add(out, e, (size_t)(close - e + 1)) != HL7_OK))
            return HL7_E_LIMIT;
        p = close + 1;
    }
    return HL7_OK;
}

int hl7_escape(const hl7_seps *s, rl_str text, rl_buf *out)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t run = 0;
    for (size_t i = 0; i < text.n; i++) {
        char c = text.p[i];
        const char *rep = NULL;
        char xbuf[sizeof "X1F"];
        if (c == s->field)
            rep = "F";
        else if (c == s->comp)
            rep = "S";
        else if (c == s->sub)
            rep = "T";
        else if (c == s->rep)
            rep = "R";
        else if (c == s->esc)
            rep = "E";
        else if (s->trunc && c == s->trunc)
            rep = "P";
        else if (c == '\n')
            rep = ".br";
        else if ((unsigned char)c < 0x20 && c != '\t') {
            xbuf[0] = 'X';
            xbuf[1] = hex[(unsigned char)c >> 4];
            xbuf[2] = hex[c & 15];
            xbuf[3] = '\0';
            rep = xbuf;
        }
        if (!rep)
            continue;
        if (rl_buf_add(out, text.p + run, i - run) != 0 || rl_buf_add_ch(out, s->esc) != 0 ||
            rl_buf_add_c(out, rep) != 0 || rl_buf_add_ch(out, s->esc) != 0)
            return HL7_E_LIMIT;
        run = i + 1;
    }
    return add(out, text.p + run, text.n - run);
}
