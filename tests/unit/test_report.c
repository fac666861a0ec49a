/* Reading an ORU into a report (engine/report/oru.c): the links, the flags
 * and observer, texts grouped by observation identifier with escapes as
 * line breaks, Latin-1, a PDF in an OBX of type ED, and every refusal with
 * its place. */
#include "testutil.h"

#include "radlink/digest.h"
#include "radlink/report.h"

#define MSH "MSH|^~\\&|RIS|GENHOSP|RADLINK|RAD|20261124110000||ORU^R01^ORU_R01|R1|P|2.5.1"
#define PID "PID|1||P1^^^GENHOSP^MR||DOE^JANE^Q^JR^DR||19700412|F"
#define ORC "ORC|RE|PL1|A123"
#define OBR(status) "OBR|1|PL1|A123|CTCHEST^CT Chest^LOCAL|||20261124093012|||||||||||ACC9|RP9|||" \
    "20261124103000|||" status "|||||||1234&SMITH&JOHN&&&DR"

typedef struct oru_fix {
    hl7_msg m;
    rl_arena a;
    report r;
    rl_err err;
} oru_fix;

static int read_msg(oru_fix *f, const char *text)
{
    hl7_msg_init(&f->m, NULL);
    rl_arena_init(&f->a, 1 << 16, 0);
    int rc = hl7_parse(&f->m, text, strlen(text), &f->err);
    assert_int_equal(rc, HL7_OK);
    return report_from_hl7(&f->m, &f->a, &f->r, &f->err);
}

static void done(oru_fix *f)
{
    rl_arena_free(&f->a);
    hl7_msg_free(&f->m);
}

static void text_is(const report *r, size_t i, const char *want)
{
    assert_true(i < r->ntexts);
    char got[512];
    snprintf(got, sizeof got, "%.*s", (int)r->texts[i].n, r->texts[i].p);
    assert_string_equal(got, want);
}

static void final_report(void **state)
{
    (void)state;
    oru_fix f;
    assert_int_equal(read_msg(&f, MSH "\r" PID "\r" ORC "\r" OBR("F") "\r"
        "OBX|1|TX|&GDT|1|The lungs are clear.\\.br\\No effusion.||||||F\r"
        "OBX|2|TX|&IMP|1|No acute finding.||||||F\r"
        "OBX|3|TX|&GDT|2|Heart size normal~Mediastinum unremarkable||||||F\r"
        "OBX|4|NM|VOL^Volume^99RIS|1|42|mL^milliliter^UCUM|||||F\r"
        "OBX|5|ST|113014^Study Instance UID^DCM||1.2.3.4.5||||||F\r"
        "ZDS|1.2.3.4.5^RADLINK^Application^DICOM\r"), 0);
    report *r = &f.r;
    assert_string_equal(r->accession, "ACC9");
    assert_string_equal(r->requested_procedure, "RP9");
    assert_string_equal(r->placer, "PL1");
    assert_string_equal(r->filler, "A123");
    assert_string_equal(r->study_uid, "1.2.3.4.5");
    assert_string_equal(r->patient_id, "P1");
    assert_string_equal(r->patient_name, "DOE^JANE^Q^DR^JR");
    assert_string_equal(r->procedure.value, "CTCHEST");
    assert_string_equal(r->title, "CT Chest");
    assert_int_equal(r->status, REPORT_FINAL);
    assert_string_equal(r->observer_id, "1234");
    assert_string_equal(r->observer_name, "SMITH^JOHN^^DR");
    assert_string_equal(r->observed_date, "20261124");
    assert_string_equal(r->observed_time, "093012");
    assert_string_equal(r->content_date, "20261124");
    assert_string_equal(r->content_time, "103000");
    /* two sections, in order of first appearance; the NM OBX a number of
     * the section of the text before it */
    assert_int_equal(r->nsections, 2);
    assert_int_equal(r->sections[0].kind, REPORT_FINDINGS);
    assert_int_equal(r->sections[0].n, 2);
    assert_int_equal(r->sections[1].kind, REPORT_IMPRESSION);
    assert_int_equal(r->sections[1].n, 1);
    text_is(r, r->sections[0].first, "The lungs are clear.\nNo effusion.");
    text_is(r, r->sections[0].first + 1, "Heart size normal\nMediastinum unremarkable");
    text_is(r, r->sections[1].first, "No acute finding.");
    assert_int_equal(r->nnums, 1);
    assert_int_equal(r->nums[0].section, 0);
    assert_string_equal(r->nums[0].value, "42");
    assert_string_equal(r->nums[0].obs.meaning, "Volume");
    assert_string_equal(r->nums[0].units.value, "mL");
    assert_string_equal(r->nums[0].units.scheme, "UCUM");
    assert_int_equal(r->pdf.n, 0);
    done(&f);
}

static void accession_fallbacks(void **state)
{
    (void)state;
    oru_fix f;
    /* no OBR-18: ORC-3 */
    assert_int_equal(read_msg(&f, MSH "\r" PID "\rORC|RE|PL1|F77\r"
        "OBR|1|PL1|F78|CT^CT|||||||||||||||||||||P\rOBX|1|TX|19005-8^Impression^LN||Fine.\r"), 0);
    assert_string_equal(f.r.accession, "F77");
    assert_int_equal(f.r.status, REPORT_PRELIMINARY);
    assert_int_equal(f.r.sections[0].kind, REPORT_IMPRESSION);
    assert_string_equal(f.r.title, "CT");
    done(&f);
    /* no ORC: OBR-3 */
    assert_int_equal(read_msg(&f, MSH "\r" PID "\r"
        "OBR|1|PL1|F78|CT|||||||||||||||||||||C\rOBX|1|FT|ADDENDUM||Also: a nodule.\r"), 0);
    assert_string_equal(f.r.accession, "F78");
    assert_int_equal(f.r.status, REPORT_CORRECTED);
    assert_int_equal(f.r.sections[0].kind, REPORT_ADDENDUM);
    assert_string_equal(f.r.title, "Imaging Report");
    done(&f);
}

static void latin1(void **state)
{
    (void)state;
    oru_fix f;
    assert_int_equal(read_msg(&f, "MSH|^~\\&|RIS|GENHOSP|RADLINK|RAD|20261124110000||ORU^R01|R2|P|"
        "2.5.1||||||8859/1\rPID|1||P2||B\xfb" "c^J\xe9r\xf4me\r" OBR("F") "\r"
        "OBX|1|TX|&GDT||Pas d'\xe9panchement.\r"), 0);
    assert_string_equal(f.r.patient_name, "B\xc3\xbb" "c^J\xc3\xa9r\xc3\xb4me");
    text_is(&f.r, 0, "Pas d'\xc3\xa9panchement.");
    done(&f);
}

static void pdf(void **state)
{
    (void)state;
    oru_fix f;
    static const char doc[] = "%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n";
    char *b64 = digest_base64(doc, sizeof doc - 1);
    assert_non_null(b64);
    char msg[2048];
    snprintf(msg, sizeof msg, MSH "\r" PID "\r" OBR("F") "\rOBX|1|ED|PDF^Report^L||RADLINK^AP^PDF^"
             "Base64^%s\r", b64);
    assert_int_equal(read_msg(&f, msg), 0);
    assert_int_equal(f.r.pdf.n, sizeof doc - 1);
    assert_memory_equal(f.r.pdf.p, doc, sizeof doc - 1);
    assert_int_equal(f.r.ntexts, 0);
    done(&f);
    /* base64 of something that is not a PDF */
    char *not_pdf = digest_base64("GIF89a....", 10);
    snprintf(msg, sizeof msg, MSH "\r" PID "\r" OBR("F") "\rOBX|1|ED|PDF||^AP^PDF^Base64^%s\r",
             not_pdf);
    assert_int_equal(read_msg(&f, msg), REPORT_E_INPUT);
    assert_non_null(strstr(f.err.msg, "OBX[1]-5.5: the data is not a PDF"));
    done(&f);
    snprintf(msg, sizeof msg, MSH "\r" PID "\r" OBR("F") "\rOBX|1|ED|PDF||^AP^PDF^Base64^%%%%**\r");
    assert_int_equal(read_msg(&f, msg), REPORT_E_INPUT);
    assert_non_null(strstr(f.err.msg, "not base64"));
    done(&f);
    free(b64);
    free(not_pdf);
}

static void refusals(void **state)
{
    (void)state;
    oru_fix f;
    assert_int_equal(read_msg(&f, MSH "\r" PID "\rOBX|1|TX|&GDT||text\r"), REPORT_E_INPUT);
    assert_non_null(strstr(f.err.msg, "no OBR or TXA segment"));
    done(&f);
    assert_int_equal(read_msg(&f, MSH "\r" PID "\r" OBR("X") "\rOBX|1|TX|&GDT||text\r"),
                     REPORT_E_INPUT);
    assert_non_null(strstr(f.err.msg, "OBR-25 is 'X'"));
    done(&f);
    assert_int_equal(read_msg(&f, MSH "\r" PID "\r" OBR("F") "\rOBX|1|TX|&GDT||\r"
                              "OBX|2|NM|&VOL||4\r"), REPORT_E_INPUT);
    assert_non_null(strstr(f.err.msg, "no report text"));
    assert_non_null(strstr(f.err.msg, "numbers alone"));
    done(&f);
    /* a number that is none, a structured numeric that is a comparison */
    assert_int_equal(read_msg(&f, MSH "\r" PID "\r" OBR("F") "\rOBX|1|TX|&GDT||text\r"
                              "OBX|2|NM|&VOL||4 cm\r"), REPORT_E_INPUT);
    assert_non_null(strstr(f.err.msg, "OBX[2]-5: '4 cm' is not a number"));
    done(&f);
    assert_int_equal(read_msg(&f, MSH "\r" PID "\r" OBR("F") "\rOBX|1|TX|&GDT||text\r"
                              "OBX|2|SN|&VOL||<^5\r"), REPORT_E_INPUT);
    assert_non_null(strstr(f.err.msg, "OBX[2]-5: a structured numeric"));
    done(&f);
}

/* MDM^T02: TXA-15 (else TXA-14) the accession, TXA-17 the status (AU, LA
 * final; with TXA-13 corrected; PA, DO, DI, IN, IP preliminary; CA and the
 * unknown refused), TXA-22 (else TXA-10) the observer, TXA-4/6 the times. */
#define MDM "MSH|^~\\&|DICT|GENHOSP|RADLINK|RAD|20261124110000||MDM^T02^MDM_T02|D1|P|2.5.1"
#define TXA(parent, status) "TXA|1|RAD|TX|20261124093012||20261124103000|||||" \
    "|DOC7|" parent "|PL7|ACC7||" status "|||||RAD9^JONES^ANN"

static void mdm(void **state)
{
    (void)state;
    oru_fix f;
    assert_int_equal(read_msg(&f, MDM "\r" PID "\r" TXA("", "AU") "\r"
                              "OBX|1|TX|IMP^Impression^99RIS||Normal.\r"), 0);
    assert_string_equal(f.r.accession, "ACC7");
    assert_string_equal(f.r.placer, "PL7");
    assert_int_equal(f.r.status, REPORT_FINAL);
    assert_string_equal(f.r.observer_name, "JONES^ANN");
    assert_string_equal(f.r.observer_id, "RAD9");
    assert_string_equal(f.r.observed_date, "20261124");
    assert_string_equal(f.r.content_time, "103000");
    assert_int_equal(f.r.nsections, 1);
    assert_int_equal(f.r.sections[0].kind, REPORT_IMPRESSION);
    done(&f);
    assert_int_equal(read_msg(&f, MDM "\r" PID "\r" TXA("DOC6", "LA") "\r"
                              "OBX|1|TX|IMP^Impression^99RIS||Normal.\r"), 0);
    assert_int_equal(f.r.status, REPORT_CORRECTED);
    done(&f);
    assert_int_equal(read_msg(&f, MDM "\r" PID "\r" TXA("", "DO") "\r"
                              "OBX|1|TX|IMP^Impression^99RIS||Normal.\r"), 0);
    assert_int_equal(f.r.status, REPORT_PRELIMINARY);
    done(&f);
    assert_int_equal(read_msg(&f, MDM "\r" PID "\r" TXA("", "CA") "\r"
                              "OBX|1|TX|IMP^Impression^99RIS||Normal.\r"), REPORT_E_INPUT);
    assert_non_null(strstr(f.err.msg, "TXA-17 is CA"));
    done(&f);
    assert_int_equal(read_msg(&f, MDM "\r" PID "\r" TXA("", "ZZ") "\r"
                              "OBX|1|TX|IMP^Impression^99RIS||Normal.\r"), REPORT_E_INPUT);
    assert_non_null(strstr(f.err.msg, "TXA-17 is 'ZZ'"));
    done(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(final_report), cmocka_unit_test(accession_fallbacks),
        cmocka_unit_test(latin1),       cmocka_unit_test(pdf),
        cmocka_unit_test(refusals),     cmocka_unit_test(mdm),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
