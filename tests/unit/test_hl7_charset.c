/* Character sets: MSH-18 names, conversion of every ISO 8859 part to UTF-8,
 * the undeclared-charset rule, invalid bytes, and writing back. */
#include "testutil.h"

static void names(void **state)
{
    (void)state;
    static const struct { const char *name; hl7_cs_kind kind; const char *iconv; } ok[] = {
        { "", HL7_CS_DEFAULT, NULL },
        { "ASCII", HL7_CS_ASCII, NULL },
        { "8859/1", HL7_CS_ICONV, "ISO-8859-1" },
        { "8859/2", HL7_CS_ICONV, "ISO-8859-2" },
        { "8859/3", HL7_CS_ICONV, "ISO-8859-3" },
        { "8859/4", HL7_CS_ICONV, "ISO-8859-4" },
        { "8859/5", HL7_CS_ICONV, "ISO-8859-5" },
        { "8859/6", HL7_CS_ICONV, "ISO-8859-6" },
        { "8859/7", HL7_CS_ICONV, "ISO-8859-7" },
        { "8859/8", HL7_CS_ICONV, "ISO-8859-8" },
        { "8859/9", HL7_CS_ICONV, "ISO-8859-9" },
        { "8859/15", HL7_CS_ICONV, "ISO-8859-15" },
        { "UNICODE UTF-8", HL7_CS_UTF8, NULL },
        { "unicode utf-8", HL7_CS_UTF8, NULL },
        { "ISO IR100", HL7_CS_ICONV, "ISO-8859-1" },
        { " ISO IR192 ", HL7_CS_UTF8, NULL },
        { "UNICODE", HL7_CS_UTF8, NULL },
        { "GB 18030", HL7_CS_ICONV, "GB18030" },
        { "BIG-5", HL7_CS_ICONV, "BIG5" },
        { "CNS 11643-1992", HL7_CS_ICONV, "EUC-TW" },
    };
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        hl7_cs_kind k;
        const char *ic;
        assert_int_equal(hl7_charset_lookup(rl_str_c(ok[i].name), &k, &ic), HL7_OK);
        assert_int_equal(k, ok[i].kind);
        if (ok[i].iconv)
            assert_string_equal(ic, ok[i].iconv);
        else
            assert_null(ic);
    }
    const char *bad[] = { "KLINGON", "UNICODE UTF-16", "UNICODE UTF-32", "ISO IR87", "8859/10",
                          "8859" };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        hl7_cs_kind k;
        const char *ic;
        assert_int_equal(hl7_charset_lookup(rl_str_c(bad[i]), &k, &ic), HL7_E_CHARSET);
    }
}

static void fixtures_to_utf8(void **state)
{
    (void)state;
    tmsg t;
    tmsg_fixture(&t, "latin1_8859_1.hl7");
    assert_int_equal(t.m.cs_kind, HL7_CS_ICONV);
    assert_get(&t, "PID-5.1", "M\xC3\x9CLLER");
    assert_get(&t, "PID-5.2", "REN\xC3\x89");
    tmsg_free(&t);

    tmsg_fixture(&t, "undeclared_latin1.hl7");
    assert_int_equal(t.m.cs_kind, HL7_CS_DEFAULT);
    assert_get(&t, "PID-5.1", "GAR\xC3\x87ON");
    assert_get(&t, "PID-5.2", "ZO\xC3\x8B");
    tmsg_free(&t);

    tmsg_fixture(&t, "greek_8859_7.hl7");
    assert_get(&t, "PID-5.2", "\xCE\x95\xCE\x9B\xCE\x95\xCE\x9D\xCE\x97");
    tmsg_free(&t);

    tmsg_fixture(&t, "orm_o01_nw.hl7"); /* declared UTF-8, ASCII content */
    assert_int_equal(t.m.cs_kind, HL7_CS_UTF8);
    assert_get(&t, "PID-5.1", "DOE");
    tmsg_free(&t);
}

/* Byte 0xE9 in each part of ISO 8859, as Python's codecs decode it. */
static void every_8859_part(void **state)
{
    (void)state;
    static const char *want[] = {
        "\xC3\xA9", "\xC3\xA9", "\xC3\xA9", "\xC3\xA9", "\xD1\x89",
        "\xD9\x89", "\xCE\xB9", "\xD7\x99", "\xC3\xA9",
    };
    for (int part = 1; part <= 9; part++) {
        char text[256];
        snprintf(text, sizeof text,
                 "MSH|^~\\&|A|B|C|D|20260101||ADT^A08|1|P|2.5||||||8859/%d\rPID|1||X||N\xE9\r",
                 part);
        tmsg t;
        tmsg_text(&t, text);
        char expect[16];
        snprintf(expect, sizeof expect, "N%s", want[part - 1]);
        assert_get(&t, "PID-5", expect);
        tmsg_free(&t);
    }
    tmsg t;
    tmsg_text(&t, "MSH|^~\\&|A|B|C|D|20260101||ADT^A08|1|P|2.5||||||8859/15\rPID|1||X||\xA4\r");
    assert_get(&t, "PID-5", "\xE2\x82\xAC");
    tmsg_free(&t);
}

static void escaped_bytes_are_in_the_message_charset(void **state)
{
    (void)state;
    tmsg t;
    tmsg_text(&t, "MSH|^~\\&|A|B|C|D|20260101||ADT^A08|1|P|2.5||||||8859/1\rPID|1||X||\\XC4\\RGER\r");
    assert_get(&t, "PID-5", "\xC3\x84RGER");
    tmsg_free(&t);
}

static void invalid_utf8(void **state)
{
    (void)state;
    tmsg t;
    tmsg_text(&t, "MSH|^~\\&|A|B|C|D|20260101||ADT^A08|1|P|2.5||||||UNICODE UTF-8\r"
                  "PID|1||X||ab\xC3(\r");
    hl7_path p = P("PID-5");
    rl_str v;
    rl_err err;
    assert_int_equal(hl7_get(&t.m, &p, &v, &err), HL7_E_ENCODING);
    assert_non_null(strstr(err.msg, "byte 2"));
    assert_non_null(strstr(err.msg, "UTF-8"));
    tmsg_free(&t);

    /* overlong and surrogate forms are invalid too */
    assert_false(hl7_utf8_valid("\xC0\xAF", 2, NULL));
    assert_false(hl7_utf8_valid("\xED\xA0\x80", 3, NULL));
    assert_true(hl7_utf8_valid("\xF0\x9F\x98\x80", 4, NULL));
}

static void write_back_in_message_charset(void **state)
{
    (void)state;
    tmsg t;
    tmsg_fixture(&t, "latin1_8859_1.hl7");
    hl7_path p = P("PID-5.2");
    rl_err err;
    assert_int_equal(hl7_set(&t.m, &p, rl_str_c("ZO\xC3\x8B"), &err), HL7_OK);
    rl_str raw;
    assert_int_equal(hl7_get_raw(&t.m, &p, 0, &raw), HL7_VALUE);
    assert_int_equal(raw.n, 3);
    assert_memory_equal(raw.p, "ZO\xCB", 3);
    assert_get(&t, "PID-5.2", "ZO\xC3\x8B");
    /* a character Latin-1 cannot hold is an error, and the value is unchanged */
    assert_int_equal(hl7_set(&t.m, &p, rl_str_c("\xE2\x82\xAC"), &err), HL7_E_ENCODING);
    assert_get(&t, "PID-5.2", "ZO\xC3\x8B");
    tmsg_free(&t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(names),
        cmocka_unit_test(fixtures_to_utf8),
        cmocka_unit_test(every_8859_part),
        cmocka_unit_test(escaped_bytes_are_in_the_message_charset),
        cmocka_unit_test(invalid_utf8),
        cmocka_unit_test(write_back_in_message_charset),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
