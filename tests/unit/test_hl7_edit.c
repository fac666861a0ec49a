/* Building and editing messages: set at every level with padding, escaping of
 * new values, MSH numbering, added and removed segments, serialization. */
#include "testutil.h"

static char *serial(tmsg *t)
{
    static char out[8192];
    rl_buf b;
    rl_buf_init(&b, 0);
    assert_int_equal(hl7_serialize(&t->m, &b), HL7_OK);
    snprintf(out, sizeof out, "%.*s", (int)b.len, b.data);
    rl_buf_free(&b);
    return out;
}

static void set(tmsg *t, const char *path, const char *value)
{
    hl7_path p = P(path);
    rl_err err;
    if (hl7_set(&t->m, &p, rl_str_c(value), &err) != HL7_OK)
        fail_msg("set %s: %s", path, err.msg);
}

static const char base[] = "MSH|^~\\&|RIS|H|RL|R|20260101||ADT^A08|C1|P|2.5\r"
                           "PID|1||A1^^^H^MR~B2^^^H^SS||DOE^JANE\r"
                           "PV1|1|O\r";

static void set_levels(void **state)
{
    (void)state;
    tmsg t;
    tmsg_text(&t, base);
    set(&t, "PID-5.1", "ROE");
    set(&t, "PID-3[2].1", "C3");
    set(&t, "PID-5.5.2", "X");
    set(&t, "PV1-7.2", "SMITH");
    assert_string_equal(serial(&t), "MSH|^~\\&|RIS|H|RL|R|20260101||ADT^A08|C1|P|2.5\r"
                                    "PID|1||A1^^^H^MR~C3^^^H^SS||ROE^JANE^^^&X\r"
                                    "PV1|1|O|||||^SMITH\r");
    set(&t, "PID-3[4].2", "Z");
    assert_get(&t, "PID-3[4].2", "Z");
    hl7_path p = P("PID-3");
    assert_int_equal(hl7_rep_count(&t.m, &p), 4);
    /* a path without repetition or component replaces the whole field */
    set(&t, "PID-3", "ONLY");
    assert_int_equal(hl7_rep_count(&t.m, &p), 1);
    assert_get(&t, "PID-3", "ONLY");
    tmsg_free(&t);
}

static void set_escapes_and_msh(void **state)
{
    (void)state;
    tmsg t;
    tmsg_text(&t, base);
    set(&t, "PID-5.1", "O|B^R&I~E\\N");
    assert_non_null(strstr(serial(&t), "PID|1||A1^^^H^MR~B2^^^H^SS||O\\F\\B\\S\\R\\T\\I\\R\\E\\E\\N^JANE\r"));
    assert_get(&t, "PID-5.1", "O|B^R&I~E\\N");
    set(&t, "MSH-3", "NEWAPP");
    set(&t, "MSH-9.2", "A31");
    assert_get(&t, "MSH-3", "NEWAPP");
    assert_get(&t, "MSH-4", "H");
    assert_get(&t, "MSH-9", "ADT^A31");
    assert_true(strncmp(serial(&t), "MSH|^~\\&|NEWAPP|H|RL|R|20260101||ADT^A31|C1|", 43) == 0);
    hl7_path p = P("MSH-2");
    rl_err err;
    assert_int_equal(hl7_set(&t.m, &p, rl_str_c("^~"), &err), HL7_E_READONLY);
    p = P("MSH-1");
    assert_int_equal(hl7_set(&t.m, &p, rl_str_c("#"), &err), HL7_E_READONLY);
    p = P("PID");
    assert_int_equal(hl7_set(&t.m, &p, rl_str_c("x"), &err), HL7_E_PATH);
    tmsg_free(&t);
}

static void segments(void **state)
{
    (void)state;
    tmsg t;
    tmsg_text(&t, base);
    set(&t, "ZDS-1.1", "1.2.3");
    set(&t, "OBX[1]-5", "first");
    set(&t, "OBX[2]-5", "second");
    hl7_path p = P("OBX[4]-5");
    rl_err err;
    assert_int_equal(hl7_set(&t.m, &p, rl_str_c("gap"), &err), HL7_E_PATH);
    assert_non_null(strstr(err.msg, "has 2 OBX"));
    p = P("PV1");
    assert_int_equal(hl7_seg_delete(&t.m, &p, &err), HL7_OK);
    assert_int_equal(hl7_seg_delete(&t.m, &p, &err), HL7_OK); /* idempotent */
    p = P("MSH");
    assert_int_equal(hl7_seg_delete(&t.m, &p, &err), HL7_E_READONLY);
    assert_int_equal(hl7_seg_append(&t.m, RL_STR("NTE|1||note"), &err), HL7_OK);
    assert_int_equal(hl7_seg_append(&t.m, RL_STR("NT"), &err), HL7_E_SEGMENT);
    assert_string_equal(serial(&t), "MSH|^~\\&|RIS|H|RL|R|20260101||ADT^A08|C1|P|2.5\r"
                                    "PID|1||A1^^^H^MR~B2^^^H^SS||DOE^JANE\r"
                                    "ZDS|1.2.3\r"
                                    "OBX|||||first\r"
                                    "OBX|||||second\r"
                                    "NTE|1||note\r");
    tmsg_free(&t);
}

static void null_and_raw(void **state)
{
    (void)state;
    tmsg t;
    tmsg_text(&t, base);
    hl7_path p = P("PID-8");
    rl_err err;
    assert_int_equal(hl7_set_raw(&t.m, &p, RL_STR("\"\""), &err), HL7_OK);
    int k;
    get(&t, "PID-8", &k);
    assert_int_equal(k, HL7_NULL);
    p = P("PID-5");
    assert_int_equal(hl7_set_raw(&t.m, &p, RL_STR("A^B~C^D"), &err), HL7_OK);
    assert_get(&t, "PID-5[2].2", "D");
    set(&t, "PID-5", "");
    get(&t, "PID-5", &k);
    assert_int_equal(k, HL7_EMPTY);
    tmsg_free(&t);
}

/* Serialized output parses again to the same values; terminators normalize to CR. */
static void reparse(void **state)
{
    (void)state;
    tmsg t;
    tmsg_fixture(&t, "lf_terminators.hl7");
    set(&t, "PID-5.2", "JOAN");
    char *out = serial(&t);
    assert_null(strchr(out, '\n'));
    tmsg u;
    tmsg_text(&u, out);
    assert_get(&u, "PID-5.2", "JOAN");
    assert_get(&u, "PID-3.1", "LF1");
    tmsg_free(&u);
    tmsg_free(&t);

    tmsg_fixture(&t, "custom_separators.hl7");
    set(&t, "PID-5.1", "A#B");
    out = serial(&t);
    assert_non_null(strstr(out, "A!F!B*RICHARD!F!JR"));
    tmsg_free(&t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(set_levels),
        cmocka_unit_test(set_escapes_and_msh),
        cmocka_unit_test(segments),
        cmocka_unit_test(null_and_raw),
        cmocka_unit_test(reparse),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
