/* Splitting files and batches into messages, and batch envelope errors. */
#include "testutil.h"

typedef struct seen {
    unsigned n;
    char ids[8][32];
    int stop_at;
} seen;

static int collect(void *ctx, rl_str msg, size_t offset)
{
    seen *s = ctx;
    (void)offset;
    hl7_msg m;
    rl_err err;
    hl7_msg_init(&m, NULL);
    assert_int_equal(hl7_parse(&m, msg.p, msg.n, &err), HL7_OK);
    hl7_path p = P("MSH-10");
    rl_str v;
    hl7_get(&m, &p, &v, &err);
    if (s->n < 8)
        snprintf(s->ids[s->n], sizeof s->ids[0], "%.*s", (int)v.n, v.p);
    s->n++;
    hl7_msg_free(&m);
    return (s->stop_at && (int)s->n == s->stop_at) ? 7 : 0;
}

static int split_text(const char *text, seen *s, hl7_split_info *info, rl_err *err)
{
    return hl7_split(rl_str_c(text), collect, s, info, err);
}

static void batch_file(void **state)
{
    (void)state;
    size_t len;
    char *buf = fixture("hl7/batch.hl7", &len);
    seen s = { 0 };
    hl7_split_info info;
    rl_err err;
    assert_int_equal(hl7_split((rl_str){ buf, len }, collect, &s, &info, &err), HL7_OK);
    assert_int_equal(s.n, 3);
    assert_string_equal(s.ids[0], "B0001");
    assert_string_equal(s.ids[2], "B0003");
    assert_int_equal(info.messages, 3);
    assert_int_equal(info.batches, 2);
    assert_true(info.file_header);
    free(buf);
}

static void plain_sequences(void **state)
{
    (void)state;
    seen s = { 0 };
    rl_err err;
    assert_int_equal(split_text("\xEF\xBB\xBFMSH|^~\\&|A|B|C|D|1||ADT^A08|M1|P|2.5\nPID|1\n\n"
                                "MSH|^~\\&|A|B|C|D|1||ADT^A08|M2|P|2.5\r\nPID|1\r\n  \r\n"
                                "MSH|^~\\&|A|B|C|D|1||ADT^A08|M3|P|2.5",
                                &s, NULL, &err),
                     HL7_OK);
    assert_int_equal(s.n, 3);
    assert_string_equal(s.ids[1], "M2");
    assert_string_equal(s.ids[2], "M3");

    memset(&s, 0, sizeof s);
    assert_int_equal(split_text("", &s, NULL, &err), HL7_OK);
    assert_int_equal(s.n, 0);

    memset(&s, 0, sizeof s);
    s.stop_at = 1;
    assert_int_equal(split_text("MSH|^~\\&|A|B|C|D|1||ADT^A08|M1|P|2.5\rMSH|^~\\&|A|B|C|D|1||ADT^A08|M2|P|2.5\r",
                                &s, NULL, &err),
                     7);
    assert_int_equal(s.n, 1);
}

/* Some senders write the trailer only: a BTS with no BHS closes every
 * message before it. */
static void trailer_only(void **state)
{
    (void)state;
    seen s = { 0 };
    rl_err err;
    assert_int_equal(split_text("MSH|^~\\&|A|B|C|D|1||X|1|P|2.5\rMSH|^~\\&|A|B|C|D|1||X|2|P|2.5"
                                "\rBTS|2\r", &s, NULL, &err), HL7_OK);
    assert_int_equal(s.n, 2);
}

/* An empty file (a null view: no bytes were ever read) holds no message. */
static void nothing(void **state)
{
    (void)state;
    seen s = { 0 };
    rl_err err;
    hl7_split_info info;
    assert_int_equal(hl7_split((rl_str){ NULL, 0 }, collect, &s, &info, &err), HL7_OK);
    assert_int_equal(s.n, 0);
    assert_int_equal(info.messages, 0);
}

static void envelope_errors(void **state)
{
    (void)state;
    static const struct { const char *text; int code; const char *words; } cases[] = {
        { "PID|1\rMSH|^~\\&|A\r", HL7_E_NO_MSH, "outside a message" },
        { "BHS|^~\\&\rMSH|^~\\&|A|B|C|D|1||X|1|P|2.5\rBTS|2\r", HL7_E_BATCH, "BTS-1 says 2 but 1" },
        { "BHS|^~\\&\rMSH|^~\\&|A|B|C|D|1||X|1|P|2.5\rBTS|x\r", HL7_E_BATCH, "not a number" },
        { "MSH|^~\\&|A|B|C|D|1||X|1|P|2.5\rBTS|2\r", HL7_E_BATCH, "BTS-1 says 2 but 1" },
        { "MSH|^~\\&|A|B|C|D|1||X|1|P|2.5\rBTS|1\rBTS|0\r", HL7_E_BATCH, "BTS without BHS" },
        { "BHS|^~\\&\rMSH|^~\\&|A|B|C|D|1||X|1|P|2.5\r", HL7_E_BATCH, "no BTS" },
        { "FHS|^~\\&\rBHS|^~\\&\rBTS|0\rFTS|3\r", HL7_E_BATCH, "FTS-1 says 3 but 1" },
        { "MSH|^~\\&|A|B|C|D|1||X|1|P|2.5\rFHS|^~\\&\r", HL7_E_BATCH, "first segment" },
        { "BHS|^~\\&\rBHS|^~\\&\r", HL7_E_BATCH, "before the previous batch" },
        { "MSH|^~\\&|A|B|C|D|1||X|1|P|2.5\rFTS|1\r", HL7_E_BATCH, "FTS without FHS" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        seen s = { 0 };
        rl_err err;
        rl_err_clear(&err);
        int rc = split_text(cases[i].text, &s, NULL, &err);
        if (rc != cases[i].code || !strstr(err.msg, cases[i].words))
            fail_msg("case %zu: got %d '%s'", i, rc, err.msg);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(batch_file),
        cmocka_unit_test(plain_sequences),
        cmocka_unit_test(envelope_errors),
        cmocka_unit_test(trailer_only),
        cmocka_unit_test(nothing),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
