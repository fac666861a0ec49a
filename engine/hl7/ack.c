/* Original-mode acknowledgements (HL7 v2.5 section 2.9.2): MSH mirrored from the
 * received message, MSA echoing MSH-10, ERR describing what went wrong. */
#include <iconv.h>
#include <stdio.h>
#include <string.h>

#include "hl7_internal.h"
#include "radlink/limits.h"

static const char *errcode_text(int code)
{
    switch (code) {
    case HL7_ERR_OK: return "Message accepted";
    case HL7_ERR_SEGMENT_SEQUENCE: return "Segment sequence error";
    case HL7_ERR_REQUIRED_MISSING: return "Required field missing";
    case HL7_ERR_DATA_TYPE: return "Data type error";
    case HL7_ERR_TABLE_VALUE: return "Table value not found";
    case HL7_ERR_UNSUPPORTED_TYPE: return "Unsupported message type";
    case HL7_ERR_UNSUPPORTED_EVENT: return "Unsupported event code";
    case HL7_ERR_UNSUPPORTED_PROCESSING: return "Unsupported processing id";
    case HL7_ERR_UNSUPPORTED_VERSION: return "Unsupported version id";
    case HL7_ERR_UNKNOWN_KEY: return "Unknown key identifier";
    case HL7_ERR_DUPLICATE_KEY: return "Duplicate key identifier";
    case HL7_ERR_RECORD_LOCKED: return "Application record locked";
    default: return "Application internal error";
    }
}

/* Copy a raw field of the original, dropping control bytes (a message that
 * failed parsing for binary content may still carry them in MSH). */
static int add_raw(rl_buf *b, rl_str v)
{
    for (size_t i = 0; i < v.n; i++)
        if ((unsigned char)v.p[i] >= 0x20 && rl_buf_add_ch(b, v.p[i]) != 0)
            return HL7_E_LIMIT;
    return 0;
}

static rl_str orig_field(const hl7_msg *m, unsigned n)
{
    rl_str v = { "", 0 };
    if (m && m->nsegs > 0 && hl7_field(m, m->segs[0], n, &v) == HL7_ABSENT)
        v = (rl_str){ "", 0 };
    return v;
}

/* Error text (UTF-8: it may quote decoded values) in the character set the
 * message declared: as it is for UTF-8, converted for a set iconv knows, and
 * each character the set cannot hold (or any non-ASCII one when MSH-18 named
 * none) as \Xhh\ of its UTF-8 bytes. Control bytes become spaces. */
static int add_text(rl_buf *b, const hl7_msg *m, const hl7_seps *s, const char *text)
{
    bool utf8 = m && m->cs_kind == HL7_CS_UTF8;
    iconv_t cd = (iconv_t)-1;
    int e = 0;
    size_t n = strnlen(text, 512);
    for (size_t i = 0; i < n && !e;) {
        unsigned char c = (unsigned char)text[i];
        size_t k = c < 0x80 ? 1 : (c & 0xE0) == 0xC0 ? 2 : (c & 0xF0) == 0xE0 ? 3
                   : (c & 0xF8) == 0xF0 ? 4 : 1;
        if (i + k > n)
            k = n - i;
        if (c < 0x80) {
            char ch = c < 0x20 || c == 0x7f ? ' ' : (char)c;
            e |= hl7_escape(s, (rl_str){ &ch, 1 }, b);
            i++;
            continue;
        }
        if (utf8) {
            e |= hl7_escape(s, (rl_str){ text + i, k }, b);
            i += k;
            continue;
        }
        char conv[RL_HL7_CHAR_BYTES];
        size_t got = 0;
        if (m && m->cs_kind == HL7_CS_ICONV && m->cs_iconv) {
            if (cd == (iconv_t)-1)
                cd = iconv_open(m->cs_iconv, "UTF-8");
            if (cd != (iconv_t)-1) {
                char *in = (char *)text + i, *out = conv;
                size_t inl = k, outl = sizeof conv;
                iconv(cd, NULL, NULL, NULL, NULL);
                if (iconv(cd, &in, &inl, &out, &outl) != (size_t)-1 && inl == 0)
                    got = sizeof conv - outl;
            }
        }
        if (got) {
            e |= hl7_escape(s, (rl_str){ conv, got }, b);
        } else {
            e |= rl_buf_printf(b, "%cX", s->esc);
            for (size_t j = 0; j < k; j++)
                e |= rl_buf_printf(b, "%02X", (unsigned char)text[i + j]);
            e |= rl_buf_add_ch(b, s->esc);
        }
        i += k;
    }
    if (cd != (iconv_t)-1)
        iconv_close(cd);
    return e ? HL7_E_LIMIT : HL7_OK;
}

/* MSH-12.1 "2.5.1" -> 25; 25 when absent or unreadable. */
static unsigned version_of(const hl7_msg *m)
{
    rl_str v = orig_field(m, 12);
    if (m && m->nsegs)
        hl7_piece(v, m->seps.comp, 1, &v);
    if (v.n >= 3 && v.p[0] >= '1' && v.p[0] <= '9' && v.p[1] == '.' && v.p[2] >= '0' &&
        v.p[2] <= '9') {
        unsigned minor = (unsigned)(v.p[2] - '0');
        if (v.n >= 4 && v.p[3] >= '0' && v.p[3] <= '9')
            minor = minor * 10 + (unsigned)(v.p[3] - '0');
        return (unsigned)(v.p[0] - '0') * 10 + (minor > 9 ? 9 : minor);
    }
    return 25;
}

/* One ERR segment: ERR-1 before v2.5, ERR-2/3/4/8 from v2.5 on. */
static int add_err(rl_buf *out, const hl7_msg *m, const hl7_seps *s, unsigned ver, int code,
                   const char *text, const hl7_path *at)
{
    char f = s->field;
    int e = 0;
    if (!text)
        text = errcode_text(code);
    if (ver < 25) {
        /* ERR-1 (ELD): segment^sequence^field^code&text&HL70357 */
        e |= rl_buf_printf(out, "ERR%c", f);
        if (at)
            e |= rl_buf_printf(out, "%s%c%u%c%u", at->seg, s->comp, at->seg_idx, s->comp,
                               at->field);
        else
            e |= rl_buf_printf(out, "%c%c", s->comp, s->comp);
        e |= rl_buf_printf(out, "%c%d%c", s->comp, code, s->sub);
        e |= add_text(out, m, s, text);
        e |= rl_buf_printf(out, "%cHL70357\r", s->sub);
        return e;
    }
    /* ERR-2 location (ERL), ERR-3 code (CWE), ERR-4 severity, ERR-8 text */
    e |= rl_buf_printf(out, "ERR%c%c", f, f);
    if (at) {
        e |= rl_buf_printf(out, "%s%c%u", at->seg, s->comp, at->seg_idx);
        if (at->field)
            e |= rl_buf_printf(out, "%c%u", s->comp, at->field);
        if (at->field && (at->rep || at->comp))
            e |= rl_buf_printf(out, "%c%u", s->comp, at->rep ? at->rep : 1);
        if (at->comp)
            e |= rl_buf_printf(out, "%c%u", s->comp, at->comp);
        if (at->sub)
            e |= rl_buf_printf(out, "%c%u", s->comp, at->sub);
    }
    e |= rl_buf_printf(out, "%c%d%c%s%cHL70357%cE%c%c%c%c", f, code, s->comp,
                       errcode_text(code), s->comp, f, f, f, f, f);
    e |= add_text(out, m, s, text);
    e |= rl_buf_add_ch(out, '\r');
    return e;
}

int hl7_ack_build(const hl7_msg *orig, const hl7_ack_info *info, rl_buf *out)
{
    const hl7_msg *m = (orig && orig->nsegs) ? orig : NULL;
    const hl7_seps *s = m ? &m->seps : &hl7_default_seps;
    char f = s->field;
    unsigned ver = version_of(m);
    char when[RL_HL7_TS_TEXT_MAX];
    rl_time_hl7(info->now_us, when, sizeof when);

    rl_str trigger = { "", 0 };
    if (m && hl7_piece(orig_field(m, 9), s->comp, 2, &trigger) == HL7_ABSENT)
        trigger.n = 0;

    int e = 0;
    e |= rl_buf_printf(out, "MSH%c%c%c%c%c", f, s->comp, s->rep, s->esc, s->sub);
    if (s->trunc)
        e |= rl_buf_add_ch(out, s->trunc);
    static const unsigned mirror[] = { 5, 6, 3, 4 };
    for (int i = 0; i < 4; i++) {
        e |= rl_buf_add_ch(out, f);
        e |= add_raw(out, orig_field(m, mirror[i]));
    }
    e |= rl_buf_printf(out, "%c%s%c%cACK", f, when, f, f);
    if (trigger.n) {
        e |= rl_buf_add_ch(out, s->comp);
        e |= add_raw(out, trigger);
        if (ver >= 24)
            e |= rl_buf_printf(out, "%cACK", s->comp);
    }
    e |= rl_buf_printf(out, "%c%s%c", f, info->control_id ? info->control_id : "", f);
    rl_str pid = orig_field(m, 11);
    e |= add_raw(out, pid.n ? pid : (rl_str){ "P", 1 });
    e |= rl_buf_add_ch(out, f);
    rl_str v = orig_field(m, 12);
    e |= add_raw(out, v.n ? v : (rl_str){ "2.5", 3 });
    e |= rl_buf_add_ch(out, '\r');

    e |= rl_buf_printf(out, "MSA%c%s%c", f, info->code, f);
    e |= add_raw(out, orig_field(m, 10));
    if (info->err_text && ver < 27) {
        e |= rl_buf_add_ch(out, f);
        e |= add_text(out, m, s, info->err_text);
    }
    e |= rl_buf_add_ch(out, '\r');

    if (info->err_code) {
        e |= add_err(out, m, s, ver, info->err_code, info->err_text, info->err_at);
        for (size_t i = 0; i < info->n_more; i++)
            e |= add_err(out, m, s, ver, info->more[i].code ? info->more[i].code : info->err_code,
                         info->more[i].text, info->more[i].at);
    }
    return e ? HL7_E_LIMIT : HL7_OK;
}
