/* DICOM routes' side of the DICOM adapter, through its C face
 * (radlink/dicom.h): the dictionary route files are checked with (paths,
 * constants, SOP classes), and reading and changing real instances
 * (pydicom's bundled files, PYDICOM_DATA) through dicom_ds_io, in their own
 * character sets, with the Original Attributes Sequence that save writes. */
#include "testutil.h"

#include <unistd.h>

#include "radlink/dicom.h"

static dicom_path P_(const char *text)
{
    dicom_path p;
    rl_err err;
    if (dicom_dict.path_parse(text, &p, &err) != 0)
        fail_msg("path %s: %s", text, err.msg);
    return p;
}

/* The error path_parse gives, or "" when it parses. */
static const char *path_error(const char *text)
{
    static rl_err err;
    dicom_path p;
    memset(&err, 0, sizeof err);
    if (dicom_dict.path_parse(text, &p, &err) == 0)
        return "";
    assert_int_equal(err.code, DICOM_E_VALUE);
    return err.msg;
}

static void paths(void **state)
{
    (void)state;
    dicom_path p = P_("PatientName");
    assert_int_equal(p.n, 1);
    assert_int_equal(p.tag[0], 0x00100010u);
    assert_string_equal(p.vr, "PN");
    assert_int_equal(p.max_chars, 64);

    p = P_("(0010,0010)");
    assert_int_equal(p.tag[0], 0x00100010u);
    assert_string_equal(p.vr, "PN");
    p = P_("(0008,0020)");
    assert_string_equal(p.vr, "DA");
    assert_int_equal(p.max_chars, 8);

    p = P_("RequestAttributesSequence/AccessionNumber");
    assert_int_equal(p.n, 2);
    assert_int_equal(p.tag[0], 0x00400275u);
    assert_int_equal(p.tag[1], 0x00080050u);
    assert_string_equal(p.vr, "SH");
    assert_int_equal(p.max_chars, 16);

    p = P_("RequestAttributesSequence/ScheduledProtocolCodeSequence/CodeValue");
    assert_int_equal(p.n, 3);

    /* private: no VR from the dictionary, no limit; may be a sequence */
    p = P_("(0019,10a1)");
    assert_int_equal(p.tag[0], 0x001910a1u);
    assert_string_equal(p.vr, "");
    assert_int_equal(p.max_chars, 0);
    p = P_("(0009,0010)/(0009,1001)");
    assert_int_equal(p.n, 2);

    /* the VRs' limits (PS3.5 6.2) */
    assert_int_equal(P_("StudyDescription").max_chars, 64);
    assert_int_equal(P_("StudyInstanceUID").max_chars, 64);
    assert_int_equal(P_("Modality").max_chars, 16);
    assert_int_equal(P_("PatientAge").max_chars, 4);
    assert_int_equal(P_("StudyTime").max_chars, 14);
    assert_int_equal(P_("AcquisitionDateTime").max_chars, 26);
    assert_int_equal(P_("SliceThickness").max_chars, 16);
    assert_int_equal(P_("SeriesNumber").max_chars, 12);
    assert_int_equal(P_("ImageComments").max_chars, 10240);
    assert_int_equal(P_("Rows").max_chars, 0);
    assert_string_equal(P_("Rows").vr, "US");
    assert_string_equal(P_("OtherPatientIDsSequence").vr, "SQ");

    assert_non_null(strstr(path_error("BodyPart"), "'BodyPart' is not a DICOM keyword"));
    const char *e = path_error("PatientName/PatientID");
    assert_non_null(strstr(e, "'PatientName' is not a sequence"));
    assert_non_null(strstr(e, "PatientName/PatientID"));
    assert_non_null(strstr(path_error("RequestAttributesSequence/Accession"),
                           "'Accession' is not a DICOM keyword"));
    assert_non_null(strstr(path_error("(0010,001G)"), "not a tag"));
    assert_non_null(strstr(path_error("RequestAttributesSequence//AccessionNumber"), "empty"));
    assert_non_null(strstr(path_error(""), "empty"));
    assert_non_null(strstr(path_error("0010,0010"), "not a DICOM keyword"));
    assert_non_null(strstr(path_error("OtherPatientIDsSequence/OtherPatientIDsSequence/"
                                      "OtherPatientIDsSequence/OtherPatientIDsSequence/PatientID"),
                           "deeper than 4"));
}

/* value_check's verdict: 0, or DICOM_E_VALUE with a reason that has want. */
static void check(const char *path, const char *value, const char *want)
{
    dicom_path p = P_(path);
    rl_err err;
    memset(&err, 0, sizeof err);
    int rc = dicom_dict.value_check(&p, value, &err);
    if (!want) {
        if (rc != 0)
            fail_msg("%s = '%s' refused: %s", path, value, err.msg);
        return;
    }
    if (rc != DICOM_E_VALUE)
        fail_msg("%s = '%s' accepted, expected a refusal (%s)", path, value, want);
    if (!strstr(err.msg, want))
        fail_msg("%s = '%s': [%s] lacks [%s]", path, value, err.msg, want);
}

static void values(void **state)
{
    (void)state;
    check("StudyDate", "20240229", NULL);
    check("StudyDate", "20230229", "is not a date");
    check("StudyDate", "19701302", "is not a date");
    check("StudyDate", "2024-01-01", "longer than 8");
    check("StudyDate", "", NULL); /* present and empty */
    check("StudyInstanceUID", "1.2.840.113619.2.55", NULL);
    check("StudyInstanceUID", "1..2", "is not a UID");
    check("StudyInstanceUID", "1.2.a", "is not a UID");
    check("StudyInstanceUID", "1.2.3.", "is not a UID");
    check("StudyInstanceUID",
          "1.2.3.4.5.6.7.8.9.10.11.12.13.14.15.16.17.18.19.20.21.22.23.24.25.26", "longer than 64");
    check("BodyPartExamined", "CHEST", NULL);
    check("BodyPartExamined", "chest", "is not a code string");
    check("ImageType", "ORIGINAL\\PRIMARY\\AXIAL", NULL);
    check("ImageType", "ORIGINAL\\primary", "'primary' is not a code string");
    check("StationName", "CT_EMERGENCY_001", NULL);
    check("StationName", "CT_EMERGENCY_0001", "longer than 16 characters (SH)");
    /* 64 characters, more bytes */
    check("InstitutionName", "Ünïversitätsklinikum Düsseldorf, Abteilung für Radiologie 123456", NULL);
    check("InstitutionName",
          "Ünïversitätsklinikum Düsseldorf, Abteilung für Radiologie 1234567", "longer than 64");
    check("PatientName", "Yamada^Tarou=山田^太郎=やまだ^たろう", NULL);
    check("PatientName", "A=B=C=D", "more than three component groups");
    check("SeriesNumber", "12", NULL);
    check("SeriesNumber", "1.5", "not an integer string");
    check("SeriesNumber", "4294967296", "not an integer string");
    check("SliceThickness", "1.5e3", NULL);
    check("SliceThickness", "-.5", NULL);
    check("SliceThickness", "1,5", "not a decimal string");
    check("PatientAge", "045Y", NULL);
    check("PatientAge", "45Y", "not an age");
    check("StudyTime", "1230", NULL);
    check("StudyTime", "123059.123456", NULL);
    check("StudyTime", "12:30", "not a time");
    check("StudyTime", "2460", "not a time");
    check("AcquisitionDateTime", "20240101120000.5+0100", NULL);
    check("AcquisitionDateTime", "2024", NULL);
    check("AcquisitionDateTime", "20241301", "not a date and time");
    check("StationAETitle", "CT_ER", NULL);
    check("Rows", "512", NULL);
    check("Rows", "70000", "not an integer");
    check("OtherPatientIDsSequence", "x", "sequence (SQ) cannot take a value");
    check("StudyDescription", "two\nlines", "control character");
    check("ImageComments", "two\r\nlines", NULL);
    check("(0019,10a1)", "anything at all, of any length", NULL);
    check("RequestAttributesSequence/AccessionNumber", "ACC-00000000001", NULL);
    check("RequestAttributesSequence/AccessionNumber", "ACC-0000000000001", "RequestAttributesSequence/AccessionNumber: ");
}

static void sop_classes(void **state)
{
    (void)state;
    char uid[RL_UID_SIZE];
    rl_err err;
    assert_int_equal(dicom_dict.sop_class("CTImageStorage", uid, sizeof uid, &err), 0);
    assert_string_equal(uid, "1.2.840.10008.5.1.4.1.1.2");
    assert_int_equal(dicom_dict.sop_class("CT Image Storage", uid, sizeof uid, &err), 0);
    assert_string_equal(uid, "1.2.840.10008.5.1.4.1.1.2");
    assert_int_equal(dicom_dict.sop_class("Enhanced MR Image Storage", uid, sizeof uid, &err), 0);
    assert_string_equal(uid, "1.2.840.10008.5.1.4.1.1.4.1");
    assert_int_equal(dicom_dict.sop_class("Digital X-Ray Image Storage - For Presentation", uid,
                                          sizeof uid, &err), 0);
    assert_string_equal(uid, "1.2.840.10008.5.1.4.1.1.1.1");
    assert_int_equal(dicom_dict.sop_class("1.2.840.10008.5.1.4.1.1.4", uid, sizeof uid, &err), 0);
    assert_string_equal(uid, "1.2.840.10008.5.1.4.1.1.4");
    assert_int_equal(dicom_dict.sop_class("Chest Image Storage", uid, sizeof uid, &err),
                     DICOM_E_VALUE);
    assert_non_null(strstr(err.msg, "'Chest Image Storage' is not a storage SOP class"));
    /* a transfer syntax is no SOP class */
    assert_int_equal(dicom_dict.sop_class("LittleEndianExplicit", uid, sizeof uid, &err),
                     DICOM_E_VALUE);
}

static dicom_ds *open_file(const char *dir, const char *name)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s/%s", PYDICOM_DATA, dir, name);
    dicom_ds *ds = NULL;
    rl_err err;
    if (dicom_ds_open(path, &ds, &err) != 0)
        fail_msg("%s: %s", path, err.msg);
    return ds;
}

/* Every value found at path, joined with '|'. */
typedef struct found {
    char text[1024];
    int n;
} found;

static int gather(void *ctx, rl_str v)
{
    found *f = ctx;
    size_t k = strlen(f->text);
    snprintf(f->text + k, sizeof f->text - k, "%s%.*s", f->n++ ? "|" : "", RL_STR_FMT(v));
    return 0;
}

static const char *dget(dicom_ds *ds, const char *path, int *count)
{
    static found f;
    memset(&f, 0, sizeof f);
    dicom_path p = P_(path);
    int n = dicom_ds_io.get(ds, &p, gather, &f);
    assert_int_equal(n, f.n);
    if (count)
        *count = n;
    return f.text;
}

static int set(dicom_ds *ds, const char *path, const char *value, rl_err *err)
{
    dicom_path p = P_(path);
    return dicom_ds_io.set(ds, &p, rl_str_c(value), err);
}

static void reading(void **state)
{
    (void)state;
    dicom_ds *ds = open_file("test_files", "CT_small.dcm");
    int n = 0;
    assert_string_equal(dget(ds, "PatientName", &n), "CompressedSamples^CT1");
    assert_int_equal(n, 1);
    assert_string_equal(dget(ds, "ImageType", NULL), "ORIGINAL\\PRIMARY\\AXIAL");
    assert_string_equal(dget(ds, "(0008,1010)", NULL), "CT01_OC0");
    assert_string_equal(dget(ds, "AccessionNumber", &n), ""); /* present, empty */
    assert_int_equal(n, 1);
    dget(ds, "BodyPartExamined", &n);
    assert_int_equal(n, 0);
    /* every item of the sequence */
    assert_string_equal(dget(ds, "OtherPatientIDsSequence/PatientID", &n), "ABCD1234|1234ABCD");
    assert_int_equal(n, 2);
    assert_string_equal(dget(ds, "Rows", NULL), "128");
    assert_string_equal(dget(ds, "TransferSyntaxUID", NULL), "1.2.840.10008.1.2.1");
    dicom_ds_free(ds);

    /* values in UTF-8 whatever the file's character set */
    ds = open_file("charset_files", "chrH31.dcm");
    assert_string_equal(dget(ds, "PatientName", NULL),
                        "Yamada^Tarou=山田^太郎=やまだ^たろう");
    dicom_ds_free(ds);
    ds = open_file("charset_files", "chrI2.dcm");
    assert_string_equal(dget(ds, "PatientName", NULL), "Hong^Gildong=洪^吉洞=홍^길동");
    dicom_ds_free(ds);
    ds = open_file("charset_files", "chrGerm.dcm");
    assert_string_equal(dget(ds, "PatientName", NULL), "Äneas^Rüdiger");
    dicom_ds_free(ds);
}

static void changing(void **state)
{
    (void)state;
    dicom_ds *ds = open_file("test_files", "CT_small.dcm");
    rl_err err;
    int n = 0;

    /* a value too long changes nothing */
    assert_int_equal(set(ds, "StationName", "CT_EMERGENCY_0001", &err), DICOM_E_VALUE);
    assert_non_null(strstr(err.msg, "StationName: 'CT_EMERGENCY_0001' is longer than 16"));
    assert_int_equal(set(ds, "StudyDate", "20231301", &err), DICOM_E_VALUE);
    assert_int_equal(dicom_ds_changed(ds), 0);
    assert_string_equal(dget(ds, "StationName", NULL), "CT01_OC0");

    assert_int_equal(set(ds, "StationName", "CT_ER", &err), 0);
    assert_string_equal(dget(ds, "StationName", NULL), "CT_ER");
    assert_int_equal(dicom_ds_changed(ds), 1);
    /* the same value again: nothing more to record */
    assert_int_equal(set(ds, "StationName", "CT_ER", &err), 0);
    assert_int_equal(set(ds, "InstitutionName", "JFK IMAGING CENTER", &err), 0);
    assert_int_equal(dicom_ds_changed(ds), 1);

    /* an absent sequence is created with its first item */
    assert_int_equal(set(ds, "RequestAttributesSequence/AccessionNumber", "ACC42", &err), 0);
    assert_string_equal(dget(ds, "RequestAttributesSequence/AccessionNumber", &n), "ACC42");
    assert_int_equal(n, 1);
    /* every item on the way */
    assert_int_equal(set(ds, "OtherPatientIDsSequence/TypeOfPatientID", "RFID", &err), 0);
    assert_string_equal(dget(ds, "OtherPatientIDsSequence/TypeOfPatientID", NULL), "RFID|RFID");
    assert_int_equal(dicom_ds_changed(ds), 3);

    /* removed from every item; absent is no error */
    dicom_path p = P_("OtherPatientIDsSequence/PatientID");
    assert_int_equal(dicom_ds_io.remove(ds, &p, &err), 0);
    dget(ds, "OtherPatientIDsSequence/PatientID", &n);
    assert_int_equal(n, 0);
    p = P_("PatientComments");
    assert_int_equal(dicom_ds_io.remove(ds, &p, &err), 0);
    assert_int_equal(dicom_ds_changed(ds), 3);
    p = P_("StudyID");
    assert_int_equal(dicom_ds_io.remove(ds, &p, &err), 0);
    assert_int_equal(dicom_ds_changed(ds), 4);

    /* a private attribute of unknown VR cannot be set; the audit trail is not changed */
    assert_int_equal(set(ds, "(0019,10a1)", "x", &err), DICOM_E_VALUE);
    assert_int_equal(set(ds, "OriginalAttributesSequence/ModifyingSystem", "me", &err),
                     DICOM_E_VALUE);
    assert_non_null(strstr(err.msg, "Original Attributes Sequence"));
    p = P_("OriginalAttributesSequence");
    assert_int_equal(dicom_ds_io.remove(ds, &p, &err), DICOM_E_VALUE);
    assert_int_equal(dicom_ds_changed(ds), 4);

    /* a copy keeps what was recorded, and changes apart */
    dicom_ds *copy = NULL;
    assert_int_equal(dicom_ds_clone(ds, &copy, &err), 0);
    assert_int_equal(dicom_ds_changed(copy), 4);
    assert_int_equal(set(copy, "StationName", "OTHER", &err), 0);
    assert_string_equal(dget(ds, "StationName", NULL), "CT_ER");
    dicom_ds_free(copy);

    /* save: the old values in one Original Attributes Sequence item */
    char dir[RL_CFG_PATH_MAX], out[RL_CFG_PATH_MAX + 16];
    assert_non_null(test_dir(dir, sizeof dir, "dicom_ds"));
    snprintf(out, sizeof out, "%s/out.dcm", dir);
    dicom_saved res;
    assert_int_equal(dicom_ds_save(ds, out, ROUTE_TS_KEEP, "COERCE", &res, &err), 0);
    assert_int_equal(res.changed, 4);
    assert_string_equal(res.ts_uid, "1.2.840.10008.1.2.1");
    assert_false(res.lossy);
    assert_string_equal(res.note, "");
    assert_int_equal(dicom_ds_changed(ds), 0);
    dicom_ds_free(ds);

    ds = NULL;
    assert_int_equal(dicom_ds_open(out, &ds, &err), 0);
    assert_string_equal(dget(ds, "StationName", NULL), "CT_ER");
    assert_string_equal(dget(ds, "OriginalAttributesSequence/ReasonForTheAttributeModification",
                            &n), "COERCE");
    assert_int_equal(n, 1);
    assert_string_equal(dget(ds, "OriginalAttributesSequence/ModifyingSystem", NULL), "radlink");
    const char *mod = "OriginalAttributesSequence/ModifiedAttributesSequence/";
    char path[128];
    snprintf(path, sizeof path, "%sStationName", mod);
    assert_string_equal(dget(ds, path, NULL), "CT01_OC0");
    snprintf(path, sizeof path, "%sStudyID", mod);
    assert_string_equal(dget(ds, path, NULL), "1CT1");
    snprintf(path, sizeof path, "%sOtherPatientIDsSequence/PatientID", mod);
    assert_string_equal(dget(ds, path, NULL), "ABCD1234|1234ABCD");
    /* absent before: recorded empty */
    snprintf(path, sizeof path, "%sRequestAttributesSequence", mod);
    dget(ds, path, &n);
    assert_int_equal(n, 1);
    snprintf(path, sizeof path, "%sRequestAttributesSequence/AccessionNumber", mod);
    dget(ds, path, &n);
    assert_int_equal(n, 0);
    dicom_ds_free(ds);
    unlink(out);
    rmdir(dir);
}

/* A value the character set holds stays in it (ISO 2022 Japanese); one it
 * cannot hold turns the data set into UTF-8. */
static void charsets(void **state)
{
    (void)state;
    dicom_ds *ds = open_file("charset_files", "chrH31.dcm");
    rl_err err;
    assert_int_equal(set(ds, "PatientName", "Suzuki^Hanako=鈴木^花子=すずき^はなこ", &err), 0);
    assert_string_equal(dget(ds, "PatientName", NULL), "Suzuki^Hanako=鈴木^花子=すずき^はなこ");
    assert_string_equal(dget(ds, "SpecificCharacterSet", NULL), "\\ISO 2022 IR 87");
    assert_int_equal(dicom_ds_changed(ds), 1);

    char dir[RL_CFG_PATH_MAX], out[RL_CFG_PATH_MAX + 16];
    assert_non_null(test_dir(dir, sizeof dir, "dicom_cs"));
    snprintf(out, sizeof out, "%s/out.dcm", dir);
    assert_int_equal(dicom_ds_save(ds, out, ROUTE_TS_KEEP, "COERCE", NULL, &err), 0);
    dicom_ds_free(ds);
    assert_int_equal(dicom_ds_open(out, &ds, &err), 0);
    assert_string_equal(dget(ds, "PatientName", NULL), "Suzuki^Hanako=鈴木^花子=すずき^はなこ");
    assert_string_equal(
        dget(ds, "OriginalAttributesSequence/ModifiedAttributesSequence/PatientName", NULL),
        "Yamada^Tarou=山田^太郎=やまだ^たろう");
    dicom_ds_free(ds);

    /* Latin-1 cannot hold Greek: the data set goes to UTF-8, old values kept */
    ds = open_file("charset_files", "chrGerm.dcm");
    assert_int_equal(set(ds, "InstitutionName", "Νοσοκομείο", &err), 0);
    assert_string_equal(dget(ds, "SpecificCharacterSet", NULL), "ISO_IR 192");
    assert_string_equal(dget(ds, "InstitutionName", NULL), "Νοσοκομείο");
    assert_string_equal(dget(ds, "PatientName", NULL), "Äneas^Rüdiger");
    assert_int_equal(dicom_ds_save(ds, out, ROUTE_TS_KEEP, "COERCE", NULL, &err), 0);
    dicom_ds_free(ds);
    assert_int_equal(dicom_ds_open(out, &ds, &err), 0);
    assert_string_equal(dget(ds, "InstitutionName", NULL), "Νοσοκομείο");
    assert_string_equal(dget(ds, "PatientName", NULL), "Äneas^Rüdiger");
    assert_string_equal(
        dget(ds, "OriginalAttributesSequence/ModifiedAttributesSequence/SpecificCharacterSet",
            NULL), "ISO_IR 100");
    dicom_ds_free(ds);
    unlink(out);
    rmdir(dir);
}

/* The route module de-identifies through dicom_ds_io (deid.cc implements
 * it): without the site secret, dicom_ds_deidentify must fail and leave
 * the data set as it was (radlink/dicom.h). */
static void deidentify_member(void **state)
{
    (void)state;
    assert_non_null(dicom_ds_io.deidentify);
    dicom_ds *ds = open_file("test_files", "CT_small.dcm");
    route_deid d = { 0 };
    rl_err err;
    rl_err_clear(&err);
    assert_int_not_equal(dicom_ds_io.deidentify(ds, &d, &err), 0);
    assert_true(err.msg[0] != '\0');
    assert_int_equal(dicom_ds_changed(ds), 0);
    assert_string_equal(dget(ds, "PatientName", NULL), "CompressedSamples^CT1");
    dicom_ds_free(ds);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(paths),
        cmocka_unit_test(values),
        cmocka_unit_test(sop_classes),
        cmocka_unit_test(reading),
        cmocka_unit_test(changing),
        cmocka_unit_test(charsets),
        cmocka_unit_test(deidentify_member),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
