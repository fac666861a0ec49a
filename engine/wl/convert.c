/* HL7 values in DICOM form for the worklist: person names (XPN, XCN, NDL to
 * PN), administrative sex, modalities and priorities, and the Study Instance
 * UID of an order that sends none. Below the order mapping (apply.c), the
 * file import (import.c) and the patient action, which all use them. */
#include <stdio.h>
#include <string.h>

#include "radlink/digest.h"
#include "radlink/wl_hl7.h"
#include "wl_internal.h"

/* Which HL7 name type a whole field holds: XPN (family first), XCN (ID
 * first) or NDL (component 1 is a CNN in subcomponents). */
typedef enum { NAME_XPN, NAME_XCN, NAME_NDL } name_kind;

static name_kind kind_of(const hl7_path *p)
{
    static const struct { const char *seg; unsigned f; name_kind k; } known[] = {
        { "PV1", 7, NAME_XCN },  { "PV1", 8, NAME_XCN },  { "PV1", 9, NAME_XCN },
        { "PV1", 17, NAME_XCN }, { "OBR", 16, NAME_XCN }, { "OBR", 28, NAME_XCN },
        { "ORC", 10, NAME_XCN }, { "ORC", 11, NAME_XCN }, { "ORC", 12, NAME_XCN },
        { "OBR", 32, NAME_NDL }, { "OBR", 33, NAME_NDL }, { "OBR", 34, NAME_NDL },
        { "OBR", 35, NAME_NDL },
    };
    for (size_t i = 0; i < sizeof known / sizeof *known; i++)
        if (!strcmp(p->seg, known[i].seg) && p->field == known[i].f)
            return known[i].k;
    return NAME_XPN;
}

/* HL7 name (XPN, XCN or NDL by the field) to DICOM PN:
 * family^given^middle^prefix^suffix, without trailing '^'. */
int wl_hl7_pn(hl7_msg *m, hl7_path p, rl_buf *out)
{
    name_kind k = kind_of(&p);
    /* positions of family, given, middle, suffix, prefix in the HL7 type */
    static const unsigned xpn[5] = { 1, 2, 3, 4, 5 }, xcn[5] = { 2, 3, 4, 5, 6 };
    const unsigned *pos = k == NAME_XPN ? xpn : xcn;
    rl_buf parts[5];
    rl_err err;
    for (int i = 0; i < 5; i++) {
        rl_buf_init(&parts[i], 0);
        hl7_path q = p;
        if (k == NAME_NDL) {
            q.comp = 1;
            q.sub = pos[i];
        } else {
            q.comp = pos[i];
            q.sub = 0;
        }
        rl_str v;
        if (hl7_get(m, &q, &v, &err) == HL7_VALUE)
            rl_buf_add_str(&parts[i], v);
        if (k == NAME_XPN && i == 0 && !parts[0].len) { /* family name as FN: 1.1 */
            q.sub = 1;
            if (hl7_get(m, &q, &v, &err) == HL7_VALUE)
                rl_buf_add_str(&parts[i], v);
        }
        while (parts[i].len && parts[i].data[parts[i].len - 1] == ' ')
            parts[i].len--;
    }
    /* DICOM order: family, given, middle, prefix, suffix */
    const rl_buf *order[5] = { &parts[0], &parts[1], &parts[2], &parts[4], &parts[3] };
    int last = -1;
    for (int i = 0; i < 5; i++)
        if (order[i]->len)
            last = i;
    for (int i = 0; i <= last; i++) {
        if (i)
            rl_buf_add_ch(out, '^');
        rl_buf_add_str(out, rl_buf_view(order[i]));
    }
    for (int i = 0; i < 5; i++)
        rl_buf_free(&parts[i]);
    return 0;
}

rl_str wl_hl7_sex(rl_str v)
{
    char s = v.n == 1 ? v.p[0] : '?';
    return s == 'M' ? RL_STR("M") : s == 'F' ? RL_STR("F") : RL_STR("O");
}

/* DICOM modalities (PS3.3 C.7.3.1.1.1 defined terms, the ones a worklist
 * schedules), and HL7 table 0074 diagnostic service sections that name one. */
rl_str wl_hl7_modality(rl_str v)
{
    static const char *const dicom[] = {
        "CR", "CT", "MR", "NM", "US", "OT", "BI", "DG", "ES", "LS", "PT", "RG", "TG", "XA",
        "RF", "RTIMAGE", "RTDOSE", "RTSTRUCT", "RTPLAN", "RTRECORD", "HC", "DX", "MG", "IO",
        "PX", "GM", "SM", "XC", "AU", "ECG", "EPS", "HD", "IVUS", "OP", "OPM", "OPT", "OCT",
        "BMD", "DOC", "SR", "KO", "PR", "SEG", "REG", "BDUS", "IVOCT", "OSS", "XAPLANE" };
    static const struct { const char *hl7, *dicom; } hl7[] = {
        { "NMR", "MR" }, { "NMS", "NM" }, { "CUS", "US" }, { "OUS", "US" }, { "VUS", "US" },
        { "XRC", "RF" }, { "CTH", "CT" } };
    char up[RL_CS_SIZE];
    if (v.n == 0 || v.n >= sizeof up)
        return (rl_str){ "", 0 };
    for (size_t i = 0; i < v.n; i++)
        up[i] = (char)(v.p[i] >= 'a' && v.p[i] <= 'z' ? v.p[i] - 32 : v.p[i]);
    up[v.n] = '\0';
    for (size_t i = 0; i < sizeof dicom / sizeof *dicom; i++)
        if (!strcmp(up, dicom[i]))
            return rl_str_c(dicom[i]);
    for (size_t i = 0; i < sizeof hl7 / sizeof *hl7; i++)
        if (!strcmp(up, hl7[i].hl7))
            return rl_str_c(hl7[i].dicom);
    return (rl_str){ "", 0 };
}

/* HL7 priority (table 0027, TQ1-9 table 0485) or a DICOM term to the DICOM
 * Requested Procedure Priority; "" when it is neither. */
rl_str wl_hl7_priority(rl_str v)
{
    static const struct { const char *in, *out; } map[] = {
        { "S", "STAT" }, { "A", "HIGH" }, { "P", "HIGH" }, { "TS", "HIGH" }, { "R", "ROUTINE" },
        { "T", "MEDIUM" }, { "C", "MEDIUM" }, { "TM", "MEDIUM" }, { "L", "LOW" },
        { "PRN", "LOW" }, { "STAT", "STAT" }, { "HIGH", "HIGH" }, { "ROUTINE", "ROUTINE" },
        { "MEDIUM", "MEDIUM" }, { "LOW", "LOW" } };
    for (size_t i = 0; i < sizeof map / sizeof *map; i++)
        if (rl_str_eq(v, rl_str_c(map[i].in)))
            return rl_str_c(map[i].out);
    return (rl_str){ "", 0 };
}

/* PS3.5 B.2: a UUID-derived UID, here from the SHA-256 of the order's
 * identity instead of a random one, so every message of the order agrees. */
void wl_order_uid(rl_str facility, rl_str acc, rl_str rpid, char out[RL_UID_SIZE])
{
    rl_buf b;
    rl_buf_init(&b, 0);
    rl_buf_add_str(&b, facility);
    rl_buf_add_ch(&b, '\0');
    rl_buf_add_str(&b, acc);
    rl_buf_add_ch(&b, '\0');
    rl_buf_add_str(&b, rpid);
    char hex[RL_SHA256_HEX_SIZE];
    digest_sha256_hex(b.data, b.len, hex);
    rl_buf_free(&b);
    unsigned __int128 x = 0;
    for (int i = 0; i < 32; i++) {
        char h = hex[i];
        x = (x << 4) | (unsigned)(h <= '9' ? h - '0' : h - 'a' + 10);
    }
    x &= ~((unsigned __int128)1 << 127); /* at most 39 digits */
    char dec[RL_UID_SIZE]; /* the UID's decimal part */
    int k = (int)sizeof dec - 1;
    dec[k] = '\0';
    do {
        dec[--k] = (char)('0' + (int)(x % 10));
        x /= 10;
    } while (x);
    snprintf(out, RL_UID_SIZE, "2.25.%s", dec + k);
}
