/* Paths: grammar, canonical form, lookup including MSH numbering, segment
 * occurrences, repetitions, and the absent / empty / null distinction. */
#include "testutil.h"

static void grammar(void **state)
{
    (void)state;
    static const struct {
        const char *text;
        const char *canon;
        unsigned seg_idx, field, rep, comp, sub;
    } ok[] = {
        { "PID-3", "PID-3", 1, 3, 0, 0, 0 },
        { "PID-3[2].1", "PID-3[2].1", 1, 3, 2, 1, 0 },
        { "PID-5.1.1", "PID-5.1.1", 1, 5, 0, 1, 1 },
        { "OBR-4.2", "OBR-4.2", 1, 4, 0, 2, 0 },
        { "MSH-9.2", "MSH-9.2", 1, 9, 0, 2, 0 },
        { "OBX[3]-5", "OBX[3]-5", 3, 5, 0, 0, 0 },
        { "pid-3", "PID-3", 1, 3, 0, 0, 0 },
        { " ZDS-1.1 ", "ZDS-1.1", 1, 1, 0, 1, 0 },
        { "PV1", "PV1", 1, 0, 0, 0, 0 },
        { "OBX[12]", "OBX[12]", 12, 0, 0, 0, 0 },
    };
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        hl7_path p = P(ok[i].text);
        char canon[64];
        hl7_path_format(&p, canon, sizeof canon);
        assert_string_equal(canon, ok[i].canon);
        assert_int_equal(p.seg_idx, ok[i].seg_idx);
        assert_int_equal(p.field, ok[i].field);
        assert_int_equal(p.rep, ok[i].rep);
        assert_int_equal(p.comp, ok[i].comp);
        assert_int_equal(p.sub, ok[i].sub);
    }
    static const struct { const char *text; const char *words; } bad[] = {
        { "", "segment name" },        { "PI", "segment name" },
        { "1ID-3", "three letters" },  { "PID-", "field number" },
        { "PID-0", "start at 1" },     { "PID-3[", "repetition number" },
        { "PID-3[0]", "start at 1" },  { "PID-3[2", "expected ']'" },
        { "PID-3.x", "component number" }, { "PID-3.1.2.3", "unexpected '.'" },
        { "PID-99999", "above 9999" }, { "PID3", "expected '-'" },
        { "PID-3x", "unexpected 'x'" }, { "PID[0]-1", "start at 1" },
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        hl7_path p;
        rl_err err;
        assert_int_equal(hl7_path_parse(rl_str_c(bad[i].text), &p, &err), HL7_E_PATH);
        if (!strstr(err.msg, bad[i].words))
            fail_msg("'%s': message '%s' lacks '%s'", bad[i].text, err.msg, bad[i].words);
    }
}

static void lookup(void **state)
{
    (void)state;
    tmsg t;
    tmsg_fixture(&t, "orm_o01_nw.hl7");
    assert_get(&t, "PID-3", "12345^^^GENHOSP^MR");
    assert_get(&t, "PID-3.1", "12345");
    assert_get(&t, "PID-3[2].1", "987-65-4321");
    assert_get(&t, "PID-3[2].4", "USSSA");
    assert_get(&t, "PID-5.1.1", "DOE");
    assert_get(&t, "PID-5.2", "JANE");
    assert_get(&t, "OBR-4.2", "CHEST 2 VIEWS");
    assert_get(&t, "MSH-9.2", "O01");
    assert_get(&t, "MSH-9.3", "ORM_O01");
    assert_get(&t, "MSH-1", "|");
    assert_get(&t, "MSH-2", "^~\\&");
    assert_get(&t, "MSH-3", "RIS");
    assert_get(&t, "MSH-10", "MSG00001");
    assert_get(&t, "MSH-12", "2.5.1");
    assert_get(&t, "ZDS-1.1", "1.2.826.0.1.3680043.10.543.1001");
    assert_get(&t, "ORC-7.4", "20261124090000");
    hl7_path p = P("PID-3");
    assert_int_equal(hl7_rep_count(&t.m, &p), 2);
    p = P("PID-5");
    assert_int_equal(hl7_rep_count(&t.m, &p), 1);
    p = P("PID-40");
    assert_int_equal(hl7_rep_count(&t.m, &p), 0);
    rl_str v;
    rl_err err;
    p = P("PID-3.1");
    assert_int_equal(hl7_get_rep(&t.m, &p, 2, &v, &err), HL7_VALUE);
    assert_true(rl_str_eq_c(v, "987-65-4321"));
    p = P("PID");
    assert_int_equal(hl7_get(&t.m, &p, &v, &err), HL7_VALUE);
    assert_true(v.n > 10 && memcmp(v.p, "PID|1||", 7) == 0);
    tmsg_free(&t);

    tmsg_fixture(&t, "oru_r01_20obx.hl7");
    assert_get(&t, "OBX[3]-1", "3");
    assert_get(&t, "OBX[3]-5", "Line 3 of the report\nNo acute findings.");
    assert_get(&t, "OBX[20]-11", "F");
    assert_get(&t, "OBX-3.1.2", "IMP");
    int k;
    get(&t, "OBX[21]-5", &k);
    assert_int_equal(k, HL7_ABSENT);
    tmsg_free(&t);
}

static void absent_empty_null(void **state)
{
    (void)state;
    tmsg t;
    tmsg_fixture(&t, "null_empty_absent.hl7");
    /* PID|1||N1^^^GENHOSP^MR|""|""^JANE|||| */
    int k;
    assert_string_equal(get(&t, "PID-4", &k), "");
    assert_int_equal(k, HL7_NULL);
    assert_string_equal(get(&t, "PID-2", &k), "");
    assert_int_equal(k, HL7_EMPTY);
    assert_string_equal(get(&t, "PID-5.1", &k), "");
    assert_int_equal(k, HL7_NULL);
    assert_string_equal(get(&t, "PID-5.2", &k), "JANE");
    assert_int_equal(k, HL7_VALUE);
    get(&t, "PID-5.3", &k);
    assert_int_equal(k, HL7_ABSENT);
    get(&t, "PID-9", &k);
    assert_int_equal(k, HL7_EMPTY);
    get(&t, "PID-10", &k);
    assert_int_equal(k, HL7_ABSENT);
    get(&t, "PID-3[2]", &k);
    assert_int_equal(k, HL7_ABSENT);
    get(&t, "PV1-1", &k);
    assert_int_equal(k, HL7_ABSENT);
    get(&t, "PID-3.2", &k);
    assert_int_equal(k, HL7_EMPTY);
    get(&t, "MSH-1.2", &k);
    assert_int_equal(k, HL7_ABSENT);
    tmsg_free(&t);
}

static void custom_separators_lookup(void **state)
{
    (void)state;
    tmsg t;
    tmsg_fixture(&t, "custom_separators.hl7");
    /* PID#1##555*Y*N@M$777##ROE*RICHARD!F!JR##19650101#M */
    assert_get(&t, "PID-3.1", "555");
    assert_get(&t, "PID-3.2", "Y");
    assert_get(&t, "PID-3.3.1", "N");
    assert_get(&t, "PID-3.3.2", "M");
    assert_get(&t, "PID-3[2]", "777");
    assert_get(&t, "PID-5.2", "RICHARD#JR");
    assert_get(&t, "PID-8", "M");
    tmsg_free(&t);

    tmsg_fixture(&t, "truncation_v27.hl7");
    assert_get(&t, "PID-5.2", "JOHN#");
    assert_get(&t, "NTE-3", "text with a hash # escaped");
    tmsg_free(&t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(grammar),
        cmocka_unit_test(lookup),
        cmocka_unit_test(absent_empty_null),
        cmocka_unit_test(custom_separators_lookup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
