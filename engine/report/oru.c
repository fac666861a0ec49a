/* An ORU^R01 or MDM^T02 read into a report (radlink/report.h): what links
 * it to its order and study, its flags and observer, its texts grouped into
 * TID 2000 sections, and a PDF an OBX of type ED carries. */
#include <stdio.h>
#include <string.h>

#include "radlink/digest.h"
#include "radlink/hl7.h"
#include "radlink/report.h"

/* ---- values ---- */

typedef struct reader {
    hl7_msg *m;
    rl_arena *a;
    rl_err *err;
    size_t last; /* the section of the last text, + 1 (0: none yet) */
} reader;

/* The decoded value at "SEG[occ]-F[.C[.S]]" (rep 1), "" when absent. */
static rl_str value_at(reader *x, const char *seg, unsigned occ, unsigned field, unsigned comp,
                       unsigned sub, unsigned rep)
{
    hl7_path p = { .seg_idx = occ, .field = field, .rep = rep, .comp = comp, .sub = sub };
    snprintf(p.seg, sizeof p.seg, "%s", seg);
    rl_str v = { "", 0 };
    rl_err e;
    if (hl7_get_rep(x->m, &p, rep ? rep : 1, &v, &e) < 0 || hl7_classify(v) != HL7_VALUE)
        return (rl_str){ "", 0 };
    return v;
}

static void copy(char *out, size_t n, rl_str v)
{
    snprintf(out, n, "%.*s", (int)(v.n < n ? v.n : n - 1), v.p);
}

/* The first of several places that has a value. */
static rl_str first_of(reader *x, const char *const *segs, const unsigned *fields, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        rl_str v = value_at(x, segs[i], 1, fields[i], 1, 0, 1);
        if (v.n)
            return v;
    }
    return (rl_str){ "", 0 };
}

/* An HL7 XPN (family^given^middle^suffix^prefix) or the name part of an
 * XCN/CNN starting at component (or subcomponent) base, as a DICOM PN
 * (family^given^middle^prefix^suffix), trailing empties dropped. */
static void person(reader *x, const char *seg, unsigned field, unsigned comp, unsigned base,
                   char *out, size_t n)
{
    static const unsigned order[5] = { 0, 1, 2, 4, 3 }; /* PN position -> XPN offset */
    rl_str part[5];
    for (unsigned i = 0; i < 5; i++)
        part[i] = comp ? value_at(x, seg, 1, field, comp, base + order[i], 1)
                       : value_at(x, seg, 1, field, base + order[i], 0, 1);
    unsigned last = 0;
    for (unsigned i = 0; i < 5; i++)
        if (part[i].n)
            last = i + 1;
    size_t k = 0;
    out[0] = '\0';
    for (unsigned i = 0; i < last && k + 1 < n; i++)
        k += (size_t)snprintf(out + k, n - k, "%s%.*s", i ? "^" : "", (int)part[i].n, part[i].p);
}

/* An HL7 TS ("20261124093012+0100") into a DA and a TM. */
static void when(rl_str ts, char da[9], char tm[7])
{
    da[0] = tm[0] = '\0';
    if (ts.n >= 8)
        copy(da, 9, (rl_str){ ts.p, 8 });
    if (ts.n >= 12) {
        size_t k = 0;
        while (8 + k < ts.n && k < 6 && ts.p[8 + k] >= '0' && ts.p[8 + k] <= '9')
            k++;
        copy(tm, 7, (rl_str){ ts.p + 8, k });
    }
}

/* ---- the header: links, flags, observer ---- */

/* MDM's TXA-17 (document completion status, HL7 table 0271) as OBR-25:
 * authenticated or legally authenticated is final (corrected when TXA-13
 * names the document it replaces), the rest preliminary; a cancelled
 * document, or a value not in the table, is no report. */
static int txa_status(reader *x, report *r)
{
    rl_str st = value_at(x, "TXA", 1, 17, 0, 0, 1);
    static const char *const final[] = { "AU", "LA" };
    static const char *const prelim[] = { "PA", "DO", "DI", "IN", "IP" };
    for (size_t i = 0; i < 2; i++)
        if (rl_str_eq_c(st, final[i])) {
            r->status = value_at(x, "TXA", 1, 13, 1, 0, 1).n ? REPORT_CORRECTED : REPORT_FINAL;
            return 0;
        }
    for (size_t i = 0; i < 5; i++)
        if (rl_str_eq_c(st, prelim[i])) {
            r->status = REPORT_PRELIMINARY;
            return 0;
        }
    if (rl_str_eq_c(st, "CA"))
        return rl_err_set(x->err, REPORT_E_INPUT, -1, "TXA-17 is CA: a cancelled document is "
                          "not filed as a report");
    return rl_err_set(x->err, REPORT_E_INPUT, -1, "TXA-17 is '%.*s': AU or LA (final), PA, DO, "
                      "DI, IN or IP (preliminary) is expected", (int)st.n, st.p);
}

static int header(reader *x, report *r)
{
    bool obr = hl7_seg_find(x->m, "OBR", 1) != NULL, txa = hl7_seg_find(x->m, "TXA", 1) != NULL;
    if (!obr && !txa)
        return rl_err_set(x->err, REPORT_E_INPUT, -1, "no OBR or TXA segment: nothing says which "
                          "order the report is for");
    /* the accession as orders carry it; an MDM without OBR: the filler's
     * (TXA-15), else the placer's (TXA-14) order number */
    static const char *const acc_seg[] = { "OBR", "ORC", "OBR", "TXA", "TXA" };
    static const unsigned acc_field[] = { 18, 3, 3, 15, 14 };
    copy(r->accession, sizeof r->accession, first_of(x, acc_seg, acc_field, 5));
    copy(r->requested_procedure, sizeof r->requested_procedure, value_at(x, "OBR", 1, 19, 1, 0, 1));
    static const char *const placer_seg[] = { "ORC", "OBR", "TXA" };
    static const unsigned placer_field[] = { 2, 2, 14 }, filler_field[] = { 3, 3, 15 };
    copy(r->placer, sizeof r->placer, first_of(x, placer_seg, placer_field, 3));
    copy(r->filler, sizeof r->filler, first_of(x, placer_seg, filler_field, 3));
    copy(r->study_uid, sizeof r->study_uid, value_at(x, "ZDS", 1, 1, 1, 0, 1));
    copy(r->patient_id, sizeof r->patient_id, value_at(x, "PID", 1, 3, 1, 0, 1));
    person(x, "PID", 5, 0, 1, r->patient_name, sizeof r->patient_name);
    copy(r->procedure.value, sizeof r->procedure.value, value_at(x, "OBR", 1, 4, 1, 0, 1));
    copy(r->procedure.meaning, sizeof r->procedure.meaning, value_at(x, "OBR", 1, 4, 2, 0, 1));
    copy(r->procedure.scheme, sizeof r->procedure.scheme, value_at(x, "OBR", 1, 4, 3, 0, 1));
    copy(r->title, sizeof r->title, r->procedure.meaning[0] ? rl_str_c(r->procedure.meaning)
                                                           : RL_STR("Imaging Report"));
    rl_str st = value_at(x, "OBR", 1, 25, 0, 0, 1);
    if (txa) {
        int rc = txa_status(x, r);
        if (rc)
            return rc;
    } else if (st.n != 1 || (st.p[0] != 'P' && st.p[0] != 'F' && st.p[0] != 'C')) {
        return rl_err_set(x->err, REPORT_E_INPUT, -1, "OBR-25 is '%.*s': P (preliminary), F "
                          "(final) or C (corrected) is expected", (int)st.n, st.p);
    } else {
        r->status = (report_status)st.p[0];
    }
    /* OBR-32, the principal result interpreter: an NDL whose first
     * component is a CNN (ID&family&given&middle&suffix&prefix); in an MDM,
     * TXA-22, the authenticator (ID^family^given...), else TXA-10 */
    copy(r->observer_id, sizeof r->observer_id, value_at(x, "OBR", 1, 32, 1, 1, 1));
    person(x, "OBR", 32, 1, 2, r->observer_name, sizeof r->observer_name);
    static const unsigned txa_observer[] = { 22, 10 };
    for (size_t i = 0; txa && !r->observer_name[0] && i < 2; i++) {
        copy(r->observer_id, sizeof r->observer_id, value_at(x, "TXA", 1, txa_observer[i], 1, 0, 1));
        person(x, "TXA", txa_observer[i], 0, 2, r->observer_name, sizeof r->observer_name);
    }
    /* observed: OBR-7, else TXA-4 (the activity's time); the report's own
     * time: OBR-22, else TXA-6 (its origination) */
    rl_str obs = value_at(x, "OBR", 1, 7, 0, 0, 1), made = value_at(x, "OBR", 1, 22, 0, 0, 1);
    when(obs.n ? obs : value_at(x, "TXA", 1, 4, 0, 0, 1), r->observed_date, r->observed_time);
    when(made.n ? made : value_at(x, "TXA", 1, 6, 0, 0, 1), r->content_date, r->content_time);
    return 0;
}

/* ---- the OBX segments ---- */

/* OBX-3 names the Study Instance UID (DCM 113014, or by its text). */
static bool names_study(const report_code *c)
{
    return !strcmp(c->value, "113014") || strstr(c->meaning, "Study Instance UID") ||
           strstr(c->value, "Study Instance UID");
}

/* The text of OBX occ: its repetitions, joined by line breaks. */
static int obx_text(reader *x, unsigned occ, bool coded, rl_str *out)
{
    unsigned reps = 0;
    hl7_path p = { .seg = "OBX", .seg_idx = occ, .field = 5 };
    reps = hl7_rep_count(x->m, &p);
    rl_buf b;
    rl_buf_init(&b, 0);
    for (unsigned k = 1; k <= reps; k++) {
        rl_str v = value_at(x, "OBX", occ, 5, coded ? 2 : 0, 0, k);
        if (coded && !v.n)
            v = value_at(x, "OBX", occ, 5, 1, 0, k);
        if (k > 1)
            rl_buf_add_ch(&b, '\n');
        rl_buf_add_str(&b, v);
    }
    while (b.len && (b.data[b.len - 1] == '\n' || b.data[b.len - 1] == ' '))
        b.len--;
    char *t = b.len ? rl_arena_alloc(x->a, b.len) : NULL;
    if (b.len && !t) {
        rl_buf_free(&b);
        return rl_err_set(x->err, RL_E_NOMEM, -1, "out of memory");
    }
    if (t)
        memcpy(t, b.data, b.len);
    *out = (rl_str){ t ? t : "", b.len };
    rl_buf_free(&b);
    return 0;
}

/* OBX occ of type ED: a PDF in base64 (OBX-5: source^type^subtype^encoding^data). */
static int obx_pdf(reader *x, unsigned occ, report *r)
{
    rl_str sub = value_at(x, "OBX", occ, 5, 3, 0, 1), enc = value_at(x, "OBX", occ, 5, 4, 0, 1);
    if (!rl_str_eq_c(sub, "PDF"))
        return rl_err_set(x->err, REPORT_E_INPUT, -1, "OBX[%u]-5.3: an ED of subtype '%.*s' "
                          "(only PDF is taken)", occ, (int)sub.n, sub.p);
    if (!rl_str_eq_c(enc, "Base64"))
        return rl_err_set(x->err, REPORT_E_INPUT, -1, "OBX[%u]-5.4: a PDF encoded '%.*s' "
                          "(Base64 is expected)", occ, (int)enc.n, enc.p);
    hl7_path p = { .seg = "OBX", .seg_idx = occ, .field = 5, .rep = 1, .comp = 5 };
    rl_str raw;
    if (hl7_get_raw(x->m, &p, 1, &raw) != HL7_VALUE)
        return rl_err_set(x->err, REPORT_E_INPUT, -1, "OBX[%u]-5.5: the PDF's data is missing",
                          occ);
    unsigned char *pdf = rl_arena_alloc(x->a, raw.n / 4 * 3 + 3);
    size_t n = 0;
    if (!pdf)
        return rl_err_set(x->err, RL_E_NOMEM, -1, "out of memory");
    if (digest_base64_decode(raw.p, raw.n, pdf, &n) != 0)
        return rl_err_set(x->err, REPORT_E_INPUT, -1, "OBX[%u]-5.5: the PDF's data is not "
                          "base64", occ);
    if (n < 5 || memcmp(pdf, "%PDF-", 5) != 0)
        return rl_err_set(x->err, REPORT_E_INPUT, -1, "OBX[%u]-5.5: the data is not a PDF (it "
                          "does not start with %%PDF-)", occ);
    r->pdf = (rl_str){ (const char *)pdf, n };
    return 0;
}

/* The section of r that obs's texts go to (a new one at its first OBX). */
static report_section *section_for(reader *x, report *r, const report_code *obs, int *rc)
{
    for (size_t i = 0; i < r->nsections; i++)
        if (!strcmp(r->sections[i].obs.value, obs->value) &&
            !strcmp(r->sections[i].obs.meaning, obs->meaning))
            return &r->sections[i];
    if (r->nsections == RL_REPORT_SECTIONS_MAX) {
        *rc = rl_err_set(x->err, REPORT_E_INPUT, -1, "more than %d observation identifiers",
                         RL_REPORT_SECTIONS_MAX);
        return NULL;
    }
    report_section *s = &r->sections[r->nsections++];
    *s = (report_section){ .kind = report_section_of(obs), .obs = *obs };
    return s;
}

/* Texts are kept per OBX in order; a section's texts must be contiguous in
 * r->texts, so they are gathered per section at the end. */
typedef struct obx_item {
    size_t section;
    rl_str text;
} obx_item;

/* A decimal string DICOM's DS holds: sign, digits, point, exponent, at
 * most 16 characters. */
static bool decimal(rl_str v)
{
    if (!v.n || v.n >= RL_REPORT_NUM_SIZE)
        return false;
    size_t i = 0, digits = 0;
    if (v.p[i] == '+' || v.p[i] == '-')
        i++;
    for (; i < v.n && v.p[i] >= '0' && v.p[i] <= '9'; i++)
        digits++;
    if (i < v.n && v.p[i] == '.')
        for (i++; i < v.n && v.p[i] >= '0' && v.p[i] <= '9'; i++)
            digits++;
    if (digits && i < v.n && (v.p[i] == 'e' || v.p[i] == 'E')) {
        i++;
        if (i < v.n && (v.p[i] == '+' || v.p[i] == '-'))
            i++;
        size_t e = i;
        while (i < v.n && v.p[i] >= '0' && v.p[i] <= '9')
            i++;
        if (i == e)
            return false;
    }
    return digits && i == v.n;
}

/* OBX occ of type NM (or SN "^3.5", "=^3.5"): a number of obs's section. */
static int obx_num(reader *x, unsigned occ, bool sn, report *r, const report_code *obs)
{
    rl_str v = sn ? value_at(x, "OBX", occ, 5, 2, 0, 1) : value_at(x, "OBX", occ, 5, 0, 0, 1);
    rl_str cmp = sn ? value_at(x, "OBX", occ, 5, 1, 0, 1) : (rl_str){ "", 0 };
    if (!v.n && !cmp.n)
        return 0;
    if ((cmp.n && !rl_str_eq_c(cmp, "=")) || (sn && value_at(x, "OBX", occ, 5, 3, 0, 1).n))
        return rl_err_set(x->err, REPORT_E_INPUT, -1, "OBX[%u]-5: a structured numeric that is "
                          "not a plain number (a comparison or a range) has no DICOM number",
                          occ);
    if (!decimal(v))
        return rl_err_set(x->err, REPORT_E_INPUT, -1, "OBX[%u]-5: '%.*s' is not a number of at "
                          "most 16 characters", occ, (int)(v.n > 32 ? 32 : v.n), v.p);
    if (r->nnums == RL_REPORT_NUMS_MAX)
        return rl_err_set(x->err, REPORT_E_INPUT, -1, "more than %d numeric OBX values",
                          RL_REPORT_NUMS_MAX);
    /* a measurement joins the section of its identifier, else the section
     * of the text before it (a report's numbers are that section's
     * findings), else one of its own */
    int rc = 0;
    report_section *s = NULL;
    for (size_t i = 0; i < r->nsections && !s; i++)
        if (!strcmp(r->sections[i].obs.value, obs->value) &&
            !strcmp(r->sections[i].obs.meaning, obs->meaning))
            s = &r->sections[i];
    if (!s && x->last)
        s = &r->sections[x->last - 1];
    if (!s && !(s = section_for(x, r, obs, &rc)))
        return rc;
    report_num *n = &r->nums[r->nnums++];
    memset(n, 0, sizeof *n);
    n->section = (size_t)(s - r->sections);
    n->obs = *obs;
    copy(n->value, sizeof n->value, v);
    copy(n->units.value, sizeof n->units.value, value_at(x, "OBX", occ, 6, 1, 0, 1));
    copy(n->units.meaning, sizeof n->units.meaning, value_at(x, "OBX", occ, 6, 2, 0, 1));
    copy(n->units.scheme, sizeof n->units.scheme, value_at(x, "OBX", occ, 6, 3, 0, 1));
    return 0;
}

static int obx_one(reader *x, unsigned occ, report *r, obx_item *items, size_t *nitems)
{
    rl_str type = value_at(x, "OBX", occ, 2, 0, 0, 1);
    report_code obs = { 0 };
    copy(obs.value, sizeof obs.value, value_at(x, "OBX", occ, 3, 1, 0, 1));
    copy(obs.meaning, sizeof obs.meaning, value_at(x, "OBX", occ, 3, 2, 0, 1));
    copy(obs.scheme, sizeof obs.scheme, value_at(x, "OBX", occ, 3, 3, 0, 1));
    if (rl_str_eq_c(type, "ED"))
        return obx_pdf(x, occ, r);
    if (rl_str_eq_c(type, "NM") || rl_str_eq_c(type, "SN"))
        return obx_num(x, occ, rl_str_eq_c(type, "SN"), r, &obs);
    bool coded = rl_str_eq_c(type, "CE") || rl_str_eq_c(type, "CWE");
    if (!coded && !rl_str_eq_c(type, "TX") && !rl_str_eq_c(type, "FT") && !rl_str_eq_c(type, "ST"))
        return 0; /* dates, times...: not report text */
    rl_str text;
    int rc = obx_text(x, occ, coded, &text);
    if (rc || !text.n)
        return rc;
    if (names_study(&obs)) {
        copy(r->study_uid, sizeof r->study_uid, text);
        return 0;
    }
    if (*nitems == RL_REPORT_TEXTS_MAX)
        return rl_err_set(x->err, REPORT_E_INPUT, -1, "more than %d OBX texts",
                          RL_REPORT_TEXTS_MAX);
    report_section *s = section_for(x, r, &obs, &rc);
    if (!s)
        return rc;
    items[(*nitems)++] = (obx_item){ (size_t)(s - r->sections), text };
    x->last = (size_t)(s - r->sections) + 1;
    return 0;
}

static int body(reader *x, report *r)
{
    obx_item *items = rl_arena_alloc(x->a, sizeof *items * RL_REPORT_TEXTS_MAX);
    r->texts = rl_arena_alloc(x->a, sizeof *r->texts * RL_REPORT_TEXTS_MAX);
    r->nums = rl_arena_alloc(x->a, sizeof *r->nums * RL_REPORT_NUMS_MAX);
    if (!items || !r->texts || !r->nums)
        return rl_err_set(x->err, RL_E_NOMEM, -1, "out of memory");
    size_t n = 0;
    int rc = 0;
    for (unsigned occ = 1; rc == 0 && hl7_seg_find(x->m, "OBX", occ); occ++)
        rc = obx_one(x, occ, r, items, &n);
    for (size_t s = 0; rc == 0 && s < r->nsections; s++) {
        r->sections[s].first = r->ntexts;
        for (size_t i = 0; i < n; i++)
            if (items[i].section == s)
                r->texts[r->ntexts++] = items[i].text;
        r->sections[s].n = r->ntexts - r->sections[s].first;
    }
    if (rc == 0 && !r->ntexts && !r->pdf.n)
        rc = rl_err_set(x->err, REPORT_E_INPUT, -1, "no report text: no OBX of type TX, FT, ST "
                        "or CE has a value, and no PDF%s", r->nnums ? " (numbers alone are no "
                        "report)" : "");
    return rc;
}

int report_from_hl7(hl7_msg *m, rl_arena *a, report *r, rl_err *err)
{
    memset(r, 0, sizeof *r);
    reader x = { m, a, err, 0 };
    int rc = header(&x, r);
    return rc ? rc : body(&x, r);
}
