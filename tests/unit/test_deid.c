/* De-identification's rules (adapters/dicom/deid_rules.h): the UIDs derived
 * from the site's secret, checked against HMAC-SHA256 computed here with
 * OpenSSL and against a fixed vector; Table E.1-1's actions under the
 * options; the choice among combined actions; cleaning free text. */
#include "testutil.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "deid_rules.h"
#include "radlink/dicom.h"
#include "radlink/route_dicom.h"

#define TAG(g, e) ((uint32_t)(g) << 16 | (uint32_t)(e))

/* The same derivation written another way: HMAC, then the first 16 bytes
 * as an unsigned 128-bit integer printed digit by digit. */
static void expected_uid(const uint8_t *secret, const char *uid, char *out, size_t n)
{
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int macn = 0;
    HMAC(EVP_sha256(), secret, DICOM_DEID_SECRET_SIZE, (const unsigned char *)uid, strlen(uid), mac,
         &macn);
    assert_int_equal(macn, 32);
    unsigned __int128 v = 0;
    for (int i = 0; i < 16; i++)
        v = v << 8 | mac[i];
    char digits[48];
    int nd = 0;
    do {
        digits[nd++] = (char)('0' + (int)(v % 10));
        v /= 10;
    } while (v);
    int o = snprintf(out, n, "2.25.");
    while (nd)
        out[o++] = digits[--nd];
    out[o] = '\0';
}

static void uid_vector(void **state)
{
    (void)state;
    uint8_t secret[DICOM_DEID_SECRET_SIZE];
    for (int i = 0; i < DICOM_DEID_SECRET_SIZE; i++)
        secret[i] = (uint8_t)i;
    const char *uids[] = { "1.2.3.4.5", "1.2.826.0.1.3680043.8.498.1", "9" };
    for (size_t i = 0; i < sizeof uids / sizeof uids[0]; i++) {
        char got[RL_UUID_UID_SIZE], want[64];
        dicom_deid_uid(secret, sizeof secret, uids[i], strlen(uids[i]), got);
        expected_uid(secret, uids[i], want, sizeof want);
        assert_string_equal(got, want);
    }
    /* fixed: secret 00 01 .. 1f, computed once with Python's hmac module */
    char got[RL_UUID_UID_SIZE];
    dicom_deid_uid(secret, sizeof secret, "1.2.3.4.5", 9, got);
    assert_string_equal(got, "2.25.130260229448966302961915564273907196038");
    dicom_deid_uid(secret, sizeof secret, "1.2.826.0.1.3680043.8.498.1", 27, got);
    assert_string_equal(got, "2.25.78506895658433282096556252243522798976");
}

static void uid_mapping(void **state)
{
    (void)state;
    uint8_t a[DICOM_DEID_SECRET_SIZE] = { 1 }, b[DICOM_DEID_SECRET_SIZE] = { 2 };
    char x1[RL_UUID_UID_SIZE], x2[RL_UUID_UID_SIZE], y[RL_UUID_UID_SIZE], z[RL_UUID_UID_SIZE];
    dicom_deid_uid(a, sizeof a, "1.2.3", 5, x1);
    dicom_deid_uid(a, sizeof a, "1.2.3", 5, x2);
    dicom_deid_uid(a, sizeof a, "1.2.4", 5, y);
    dicom_deid_uid(b, sizeof b, "1.2.3", 5, z);
    assert_string_equal(x1, x2);       /* the same original and secret: the same UID */
    assert_string_not_equal(x1, y);    /* another original: another UID */
    assert_string_not_equal(x1, z);    /* another secret: another UID */
    assert_true(strlen(x1) <= 64);
    assert_true(dicom_deid_uid_well_known("1.2.840.10008.5.1.4.1.1.2"));  /* CT Image Storage */
    assert_true(dicom_deid_uid_well_known("1.2.840.10008.1.2.4.80"));     /* JPEG-LS lossless */
    assert_true(dicom_deid_uid_well_known("1.2.840.10008.2.16.4"));       /* DCM coding scheme */
    assert_false(dicom_deid_uid_well_known("1.2.826.0.1.3680043.8.498.1"));
    assert_false(dicom_deid_uid_well_known("1.2.840.100081")); /* the root, not a prefix of it */
}

static void actions(void **state)
{
    (void)state;
    const unsigned all = 0x3f;
    /* the Basic Profile, and an option that names the row */
    assert_int_equal(dicom_deid_action(TAG(0x0010, 0x0010), 0), DICOM_DEID_Z);   /* Patient's Name */
    assert_int_equal(dicom_deid_action(TAG(0x0010, 0x0010), all), DICOM_DEID_Z); /* no option keeps it */
    assert_int_equal(dicom_deid_action(TAG(0x0008, 0x0020), 0), DICOM_DEID_Z);   /* Study Date */
    assert_int_equal(dicom_deid_action(TAG(0x0008, 0x0020), ROUTE_DEID_RETAIN_LONG_DATES), DICOM_DEID_K);
    assert_int_equal(dicom_deid_action(TAG(0x0008, 0x0020), ROUTE_DEID_RETAIN_UIDS), DICOM_DEID_Z);
    assert_int_equal(dicom_deid_action(TAG(0x0008, 0x0018), 0), DICOM_DEID_U);   /* SOP Instance UID */
    assert_int_equal(dicom_deid_action(TAG(0x0008, 0x0018), ROUTE_DEID_RETAIN_UIDS), DICOM_DEID_K);
    assert_int_equal(dicom_deid_action(TAG(0x0010, 0x0040), 0), DICOM_DEID_Z);   /* Patient's Sex */
    assert_int_equal(dicom_deid_action(TAG(0x0010, 0x0040), ROUTE_DEID_RETAIN_PATIENT_CHARS),
                     DICOM_DEID_K);
    assert_int_equal(dicom_deid_action(TAG(0x0008, 0x1010), 0), DICOM_DEID_XZD); /* Station Name */
    assert_int_equal(dicom_deid_action(TAG(0x0008, 0x1010), ROUTE_DEID_RETAIN_DEVICE_ID), DICOM_DEID_K);
    assert_int_equal(dicom_deid_action(TAG(0x0008, 0x0055), ROUTE_DEID_RETAIN_DEVICE_ID),
                     DICOM_DEID_C); /* Station AE Title: cleaned, not kept (PS3.15 E.3.8) */
    assert_int_equal(dicom_deid_action(TAG(0x0008, 0x0080), 0), DICOM_DEID_XZD); /* Institution Name */
    assert_int_equal(dicom_deid_action(TAG(0x0008, 0x0080), ROUTE_DEID_RETAIN_INSTITUTION_ID),
                     DICOM_DEID_K);
    assert_int_equal(dicom_deid_action(TAG(0x0008, 0x1030), 0), DICOM_DEID_X);   /* Study Description */
    assert_int_equal(dicom_deid_action(TAG(0x0008, 0x1030), ROUTE_DEID_CLEAN_DESCRIPTIONS), DICOM_DEID_C);
    assert_int_equal(dicom_deid_action(TAG(0x0008, 0x1140), 0), DICOM_DEID_XZU); /* Referenced Image Seq */
    /* two options naming one row agree: Device UID */
    assert_int_equal(dicom_deid_action(TAG(0x0018, 0x1002), ROUTE_DEID_RETAIN_UIDS), DICOM_DEID_K);
    assert_int_equal(dicom_deid_action(TAG(0x0018, 0x1002), ROUTE_DEID_RETAIN_DEVICE_ID), DICOM_DEID_K);
    assert_int_equal(dicom_deid_action(TAG(0x0018, 0x1002), 0), DICOM_DEID_U);
    /* repeating groups, private attributes, and what the table does not name */
    assert_int_equal(dicom_deid_action(TAG(0x5002, 0x3000), 0), DICOM_DEID_X); /* Curve Data */
    assert_int_equal(dicom_deid_action(TAG(0x6002, 0x3000), 0), DICOM_DEID_X); /* Overlay Data */
    assert_int_equal(dicom_deid_action(TAG(0x6000, 0x4000), 0), DICOM_DEID_X); /* Overlay Comments */
    assert_int_equal(dicom_deid_action(TAG(0x6000, 0x0010), 0), DICOM_DEID_NONE); /* Overlay Rows */
    assert_int_equal(dicom_deid_action(TAG(0x0009, 0x1001), all), DICOM_DEID_X);
    assert_int_equal(dicom_deid_action(TAG(0x6001, 0x3000), 0), DICOM_DEID_X); /* private, odd group */
    assert_int_equal(dicom_deid_action(TAG(0x0018, 0x0050), all), DICOM_DEID_NONE); /* Slice Thickness */
    assert_int_equal(dicom_deid_action(TAG(0x0400, 0x0561), 0), DICOM_DEID_X); /* Original Attributes Seq */
    assert_string_equal(dicom_deid_act_name(DICOM_DEID_XZU), "X/Z/U*");
    assert_string_equal(dicom_deid_edition(), "2024b");
    assert_int_equal(dicom_deid_table_rows(), 621);
}

static void choose(void **state)
{
    enum { T = 0x00081030, REF_STUDY = 0x00081110, REF_PPS = 0x00081111, ACQ_CONTEXT = 0x00400555 };
    (void)state;
    /* combined actions: the choice conformant whatever the attribute's Type */
    assert_int_equal(dicom_deid_choose(T, DICOM_DEID_XZ, false, false), DICOM_DEID_Z);
    /* a Type 3 sequence present must have an item: removed, not emptied */
    assert_int_equal(dicom_deid_choose(REF_STUDY, DICOM_DEID_XZ, false, true), DICOM_DEID_X);
    assert_int_equal(dicom_deid_choose(REF_STUDY, DICOM_DEID_XZ, true, true), DICOM_DEID_Z);
    assert_int_equal(dicom_deid_choose(REF_PPS, DICOM_DEID_XZD, false, true), DICOM_DEID_X);
    /* Acquisition Context Sequence is Type 2: emptied */
    assert_int_equal(dicom_deid_choose(ACQ_CONTEXT, DICOM_DEID_XZ, false, true), DICOM_DEID_Z);
    assert_int_equal(dicom_deid_choose(T, DICOM_DEID_XD, false, false), DICOM_DEID_D);
    assert_int_equal(dicom_deid_choose(T, DICOM_DEID_XD, true, false), DICOM_DEID_D);
    assert_int_equal(dicom_deid_choose(T, DICOM_DEID_XD, false, true), DICOM_DEID_D);
    assert_int_equal(dicom_deid_choose(T, DICOM_DEID_XZD, false, false), DICOM_DEID_D);
    assert_int_equal(dicom_deid_choose(T, DICOM_DEID_XZD, true, false), DICOM_DEID_Z);
    assert_int_equal(dicom_deid_choose(T, DICOM_DEID_ZD, false, false), DICOM_DEID_D);
    assert_int_equal(dicom_deid_choose(T, DICOM_DEID_ZD, true, false), DICOM_DEID_Z);
    assert_int_equal(dicom_deid_choose(T, DICOM_DEID_ZD, false, true), DICOM_DEID_Z);
    assert_int_equal(dicom_deid_choose(T, DICOM_DEID_XZU, false, true), DICOM_DEID_K);
    assert_int_equal(dicom_deid_choose(T, DICOM_DEID_XZU, true, true), DICOM_DEID_Z);
    /* single actions are what they say */
    assert_int_equal(dicom_deid_choose(T, DICOM_DEID_D, true, false), DICOM_DEID_D);
    assert_int_equal(dicom_deid_choose(T, DICOM_DEID_X, false, false), DICOM_DEID_X);
    assert_int_equal(dicom_deid_choose(T, DICOM_DEID_U, false, false), DICOM_DEID_U);
    assert_int_equal(dicom_deid_choose(T, DICOM_DEID_NONE, false, false), DICOM_DEID_NONE);
}

static void clean_one(const char *in, const char *want)
{
    static const char *const words[] = { "1970-01-01", "MRN-77", "JANE", "DOE" };
    char b[256];
    size_t n = strlen(in);
    memcpy(b, in, n);
    n = dicom_deid_clean(b, n, words, sizeof words / sizeof words[0]);
    b[n] = '\0';
    assert_string_equal(b, want);
}

static void clean(void **state)
{
    (void)state;
    clean_one("CT chest for Jane Doe", "CT chest for");
    clean_one("DOE^JANE", "^");
    clean_one("doe, born 1970-01-01 (MRN-77)", ", born ()");
    clean_one("DOESN'T match inside words: ADOE JANEX", "DOESN'T match inside words: ADOE JANEX");
    clean_one("  CHEST  PA  ", "CHEST PA");
    clean_one("", "");
    clean_one("JANE", "");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(uid_vector), cmocka_unit_test(uid_mapping), cmocka_unit_test(actions),
        cmocka_unit_test(choose),     cmocka_unit_test(clean),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
