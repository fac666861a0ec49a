/* ACKs: MSH mirrored from the original, MSA-2 = MSH-10, ERR by version, custom
 * separators kept, and ACKs for messages that did not parse. */
#include "testutil.h"

static void ack_of(hl7_msg *m, const hl7_ack_info *info, tmsg *out)
{
    rl_buf b;
    rl_buf_init(&b, 0);
    assert_int_equal(hl7_ack_build(m, info, &b), HL7_OK);
    rl_buf_cstr(&b);
    tmsg_text(out, b.data);
    rl_buf_free(&b);
}

static void accept_mirrors_msh(void **state)
{
    (void)state;
    tmsg t, a;
    tmsg_fixture(&t, "orm_o01_nw.hl7");
    hl7_ack_info info = { .code = "AA", .control_id = "RL42", .now_us = 0 };
    ack_of(&t.m, &info, &a);
    assert_int_equal(a.m.nsegs, 2);
    assert_get(&a, "MSH-3", "RADLINK");
    assert_get(&a, "MSH-4", "RAD");
    assert_get(&a, "MSH-5", "RIS");
    assert_get(&a, "MSH-6", "GENHOSP");
    assert_get(&a, "MSH-9", "ACK^O01^ACK");
    assert_get(&a, "MSH-10", "RL42");
    assert_get(&a, "MSH-11", "P");
    assert_get(&a, "MSH-12", "2.5.1");
    assert_get(&a, "MSA-1", "AA");
    assert_get(&a, "MSA-2", "MSG00001");
    int k;
    get(&a, "MSA-3", &k);
    assert_int_equal(k, HL7_ABSENT);
    assert_null(hl7_seg_find(&a.m, "ERR", 1));
    assert_int_equal(strlen(get(&a, "MSH-7", NULL)), 14);
    tmsg_free(&a);
    tmsg_free(&t);
}

static void error_v25(void **state)
{
    (void)state;
    tmsg t, a;
    tmsg_fixture(&t, "orm_o01_nw.hl7");
    hl7_path at = P("PID-7");
    hl7_ack_info info = { .code = "AE", .err_code = HL7_ERR_DATA_TYPE,
                          .err_text = "invalid date '19701302' | bad", .err_at = &at,
                          .control_id = "RL43" };
    ack_of(&t.m, &info, &a);
    assert_get(&a, "MSA-1", "AE");
    assert_get(&a, "MSA-2", "MSG00001");
    assert_get(&a, "MSA-3", "invalid date '19701302' | bad");
    assert_get(&a, "ERR-2", "PID^1^7");
    assert_get(&a, "ERR-3.1", "102");
    assert_get(&a, "ERR-3.2", "Data type error");
    assert_get(&a, "ERR-3.3", "HL70357");
    assert_get(&a, "ERR-4", "E");
    assert_get(&a, "ERR-8", "invalid date '19701302' | bad");
    tmsg_free(&a);

    hl7_path at2 = P("OBX[3]-5[2].1.2");
    info.err_at = &at2;
    info.err_text = "caf\xC3\xA9";
    ack_of(&t.m, &info, &a);
    assert_get(&a, "ERR-2", "OBX^3^5^2^1^2");
    assert_get(&a, "ERR-8", "caf\xC3\xA9"); /* the characters kept, in the message's set */
    tmsg_free(&a);
    tmsg_free(&t);
}

static void error_v231_uses_err1(void **state)
{
    (void)state;
    tmsg t, a;
    tmsg_fixture(&t, "v231_order.hl7");
    hl7_path at = P("PID-3");
    hl7_ack_info info = { .code = "AR", .err_code = HL7_ERR_REQUIRED_MISSING,
                          .err_text = "PID-3 is required", .err_at = &at, .control_id = "X" };
    ack_of(&t.m, &info, &a);
    assert_get(&a, "MSH-9", "ACK^O01");
    assert_get(&a, "MSH-12", "2.3.1");
    assert_get(&a, "ERR-1", "PID^1^3^101&PID-3 is required&HL70357");
    assert_get(&a, "ERR-1.4.1", "101");
    assert_get(&a, "MSA-3", "PID-3 is required");
    tmsg_free(&a);
    tmsg_free(&t);
}

static void v27_has_no_msa3(void **state)
{
    (void)state;
    tmsg t, a;
    tmsg_fixture(&t, "truncation_v27.hl7");
    hl7_ack_info info = { .code = "AE", .err_code = HL7_ERR_INTERNAL, .err_text = "oops",
                          .control_id = "Y" };
    ack_of(&t.m, &info, &a);
    int k;
    get(&a, "MSA-3", &k);
    assert_int_equal(k, HL7_ABSENT);
    assert_get(&a, "ERR-8", "oops");
    assert_int_equal(a.m.seps.trunc, '#');
    tmsg_free(&a);
    tmsg_free(&t);
}

static void custom_separators_mirrored(void **state)
{
    (void)state;
    tmsg t, a;
    tmsg_fixture(&t, "custom_separators.hl7");
    hl7_ack_info info = { .code = "AA", .control_id = "Z" };
    ack_of(&t.m, &info, &a);
    assert_int_equal(a.m.seps.field, '#');
    assert_int_equal(a.m.seps.comp, '*');
    assert_get(&a, "MSA-2", "MSG00004");
    assert_get(&a, "MSH-9", "ACK*A08*ACK");
    tmsg_free(&a);
    tmsg_free(&t);
}

static void unparseable(void **state)
{
    (void)state;
    /* not even MSH: default separators, empty MSA-2 */
    tmsg a;
    hl7_ack_info info = { .code = "AR", .err_code = HL7_ERR_SEGMENT_SEQUENCE,
                          .err_text = "byte 0: message does not start with MSH", .control_id = "Q" };
    ack_of(NULL, &info, &a);
    assert_get(&a, "MSA-1", "AR");
    int k;
    get(&a, "MSA-2", &k);
    assert_int_equal(k, HL7_EMPTY);
    assert_get(&a, "MSH-12", "2.5");
    assert_get(&a, "ERR-8", "byte 0: message does not start with MSH");
    tmsg_free(&a);

    /* MSH readable, body binary: MSH-10 still echoed, control bytes not copied */
    static const char text[] = "MSH|^~\\&|RIS|H|RL|R|20260101||ADT^A08|CT\x01RL|P|2.5\rPID|\0\r";
    hl7_msg m;
    rl_err err;
    hl7_msg_init(&m, NULL);
    assert_int_equal(hl7_parse(&m, text, sizeof text - 1, &err), HL7_E_BINARY);
    ack_of(&m, &info, &a);
    assert_get(&a, "MSA-2", "CTRL");
    assert_get(&a, "MSH-5", "RIS");
    tmsg_free(&a);
    hl7_msg_free(&m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(accept_mirrors_msh),
        cmocka_unit_test(error_v25),
        cmocka_unit_test(error_v231_uses_err1),
        cmocka_unit_test(v27_has_no_msa3),
        cmocka_unit_test(custom_separators_mirrored),
        cmocka_unit_test(unparseable),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
