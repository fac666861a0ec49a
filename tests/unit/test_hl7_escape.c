/* Escape sequences: every delimiter escape, hex data, the documented mapping of
 * formatting escapes, verbatim fallbacks, and encode/decode round trips. */
#include "testutil.h"

static char *unesc(const hl7_seps *s, const char *raw, unsigned flags)
{
    static char out[4096];
    rl_buf b;
    rl_buf_init(&b, 0);
    assert_int_equal(hl7_unescape(s, rl_str_c(raw), flags, &b), 0);
    snprintf(out, sizeof out, "%.*s", (int)b.len, b.data ? b.data : "");
    rl_buf_free(&b);
    return out;
}

static char *esc(const hl7_seps *s, const char *text, size_t n)
{
    static char out[4096];
    rl_buf b;
    rl_buf_init(&b, 0);
    assert_int_equal(hl7_escape(s, (rl_str){ text, n }, &b), 0);
    snprintf(out, sizeof out, "%.*s", (int)b.len, b.data ? b.data : "");
    rl_buf_free(&b);
    return out;
}

static void decode_delimiters(void **state)
{
    (void)state;
    const hl7_seps *d = &hl7_default_seps;
    assert_string_equal(unesc(d, "a\\F\\b\\S\\c\\T\\d\\R\\e\\E\\f", 0), "a|b^c&d~e\\f");
    assert_string_equal(unesc(d, "\\X41424344\\", 0), "ABCD");
    assert_string_equal(unesc(d, "x\\X0d0A\\y", 0), "x\r\ny");
    assert_string_equal(unesc(d, "plain text", 0), "plain text");
    assert_string_equal(unesc(d, "", 0), "");
    /* \P\ means the truncation character only when MSH-2 declares one */
    assert_string_equal(unesc(d, "a\\P\\b", 0), "a\\P\\b");
    hl7_seps t = *d;
    t.trunc = '#';
    assert_string_equal(unesc(&t, "a\\P\\b", 0), "a#b");
    hl7_seps c = { '#', '*', '$', '!', '@', 0 };
    assert_string_equal(unesc(&c, "a!F!b!S!c!E!d", 0), "a#b*c!d");
}

static void decode_formatting(void **state)
{
    (void)state;
    const hl7_seps *d = &hl7_default_seps;
    assert_string_equal(unesc(d, "one\\.br\\two", 0), "one\ntwo");
    assert_string_equal(unesc(d, "a\\.sp\\b", 0), "a\nb");
    assert_string_equal(unesc(d, "a\\.sp 3\\b", 0), "a\n\n\nb");
    assert_string_equal(unesc(d, "a\\.sp+2\\b", 0), "a\n\nb");
    assert_string_equal(unesc(d, "a\\.sk 2\\b", 0), "a  b");
    assert_string_equal(unesc(d, "a\\.ce\\b", 0), "a\nb");
    assert_string_equal(unesc(d, "a\\.in+4\\b\\.ti-2\\c\\.fi\\d\\.nf\\e", 0), "abcde");
    assert_string_equal(unesc(d, "\\H\\bold\\N\\", 0), "bold");
    /* a huge count is capped at 99 */
    char *big = unesc(d, "\\.sp 999999\\", 0);
    assert_int_equal(strlen(big), 99);
    /* with HL7_KEEP_FORMAT the formatting stays as it was sent */
    assert_string_equal(unesc(d, "one\\.br\\two\\H\\x\\N\\", HL7_KEEP_FORMAT),
                        "one\\.br\\two\\H\\x\\N\\");
    assert_string_equal(unesc(d, "a\\F\\b", HL7_KEEP_FORMAT), "a|b");
}

static void verbatim_fallbacks(void **state)
{
    (void)state;
    const hl7_seps *d = &hl7_default_seps;
    assert_string_equal(unesc(d, "\\Zlocal\\", 0), "\\Zlocal\\");
    assert_string_equal(unesc(d, "\\C2842\\x", 0), "\\C2842\\x");
    assert_string_equal(unesc(d, "\\M2442\\x", 0), "\\M2442\\x");
    assert_string_equal(unesc(d, "\\Q\\", 0), "\\Q\\");
    assert_string_equal(unesc(d, "\\X4\\", 0), "\\X4\\");
    assert_string_equal(unesc(d, "\\Xzz\\", 0), "\\Xzz\\");
    assert_string_equal(unesc(d, "\\X\\", 0), "\\X\\");
    assert_string_equal(unesc(d, "\\\\", 0), "\\\\");
    assert_string_equal(unesc(d, "tail \\.br", 0), "tail \\.br");
    assert_string_equal(unesc(d, "\\", 0), "\\");
    assert_string_equal(unesc(d, "\\.xx\\", 0), "\\.xx\\");
    assert_string_equal(unesc(d, "\\.spX\\", 0), "\\.spX\\");
}

static void fixture_values(void **state)
{
    (void)state;
    tmsg t;
    tmsg_fixture(&t, "escapes.hl7");
    assert_get(&t, "PID-5.1", "O&NEIL");
    assert_get(&t, "PID-5.2", "PAT^X");
    assert_get(&t, "OBX-5", "first\nsecond|third~fourth\\fifthABCDend");
    assert_get(&t, "OBX[2]-5",
               "bold and \n\n \\Zlocal\\ x    y \n \\Q\\ unterminated \\.br");
    tmsg_free(&t);
}

static void encode(void **state)
{
    (void)state;
    const hl7_seps *d = &hl7_default_seps;
    assert_string_equal(esc(d, "a|b^c&d~e\\f", 11), "a\\F\\b\\S\\c\\T\\d\\R\\e\\E\\f");
    assert_string_equal(esc(d, "one\ntwo\rthree\x01\tfour", 19),
                        "one\\.br\\two\\X0D\\three\\X01\\\tfour");
    assert_string_equal(esc(d, "plain", 5), "plain");
    hl7_seps t = *d;
    t.trunc = '#';
    assert_string_equal(esc(&t, "a#b", 3), "a\\P\\b");
    assert_string_equal(esc(d, "a#b", 3), "a#b");
    hl7_seps c = { '#', '*', '$', '!', '@', 0 };
    assert_string_equal(esc(&c, "a#b*c!d|e", 9), "a!F!b!S!c!E!d|e");
}

/* unescape(escape(x)) == x for any bytes, with default and custom delimiters. */
static void round_trip(void **state)
{
    (void)state;
    hl7_seps seps[2] = { hl7_default_seps, { '#', '*', '$', '!', '@', '%' } };
    uint32_t seed = 7;
    char text[64];
    for (int round = 0; round < 20000; round++) {
        size_t n = (size_t)(round % 64);
        for (size_t i = 0; i < n; i++) {
            seed = seed * 1664525u + 1013904223u;
            text[i] = (char)(seed >> 24);
        }
        const hl7_seps *s = &seps[round & 1];
        rl_buf e, u;
        rl_buf_init(&e, 0);
        rl_buf_init(&u, 0);
        assert_int_equal(hl7_escape(s, (rl_str){ text, n }, &e), 0);
        for (size_t i = 0; i < e.len; i++) {
            char ch = e.data[i];
            assert_true(ch != s->field && ch != s->comp && ch != s->rep && ch != s->sub &&
                        ch != '\r' && ch != '\n');
        }
        assert_int_equal(hl7_unescape(s, rl_buf_view(&e), 0, &u), 0);
        assert_int_equal(u.len, n);
        assert_memory_equal(u.data ? u.data : "", text, n);
        rl_buf_free(&e);
        rl_buf_free(&u);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(decode_delimiters),
        cmocka_unit_test(decode_formatting),
        cmocka_unit_test(verbatim_fallbacks),
        cmocka_unit_test(fixture_values),
        cmocka_unit_test(encode),
        cmocka_unit_test(round_trip),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
