/* Parsing: separators, segment terminators, and every malformed-input error
 * with its byte offset. */
#include "testutil.h"

#include "radlink/limits.h"

static int parse_text(const char *text, size_t len, rl_err *err, hl7_msg *m)
{
    hl7_msg_init(m, NULL);
    return hl7_parse(m, text, len, err);
}

static void fixtures_parse(void **state)
{
    (void)state;
    static const struct { const char *name; size_t segs; } cases[] = {
        { "orm_o01_nw.hl7", 6 },       { "adt_a08.hl7", 4 },
        { "oru_r01_20obx.hl7", 23 },   { "custom_separators.hl7", 2 },
        { "truncation_v27.hl7", 3 },   { "escapes.hl7", 4 },
        { "lf_terminators.hl7", 2 },   { "crlf_no_trailing.hl7", 2 },
        { "latin1_8859_1.hl7", 2 },    { "undeclared_latin1.hl7", 2 },
        { "greek_8859_7.hl7", 2 },     { "null_empty_absent.hl7", 2 },
        { "v231_order.hl7", 2 },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        tmsg t;
        tmsg_fixture(&t, cases[i].name);
        assert_int_equal(t.m.nsegs, cases[i].segs);
        assert_true(hl7_seg_is(t.m.segs[0], "MSH"));
        tmsg_free(&t);
    }
}

static void separators_default_and_custom(void **state)
{
    (void)state;
    tmsg t;
    tmsg_fixture(&t, "orm_o01_nw.hl7");
    assert_int_equal(t.m.seps.field, '|');
    assert_int_equal(t.m.seps.comp, '^');
    assert_int_equal(t.m.seps.rep, '~');
    assert_int_equal(t.m.seps.esc, '\\');
    assert_int_equal(t.m.seps.sub, '&');
    assert_int_equal(t.m.seps.trunc, 0);
    tmsg_free(&t);

    tmsg_fixture(&t, "custom_separators.hl7");
    assert_int_equal(t.m.seps.field, '#');
    assert_int_equal(t.m.seps.comp, '*');
    assert_int_equal(t.m.seps.rep, '$');
    assert_int_equal(t.m.seps.esc, '!');
    assert_int_equal(t.m.seps.sub, '@');
    assert_get(&t, "MSH-1", "#");
    assert_get(&t, "MSH-2", "*$!@");
    assert_get(&t, "MSH-9.2", "A08");
    tmsg_free(&t);

    tmsg_fixture(&t, "truncation_v27.hl7");
    assert_int_equal(t.m.seps.trunc, '#');
    assert_get(&t, "MSH-2", "^~\\&#");
    assert_get(&t, "MSH-12", "2.7");
    tmsg_free(&t);
}

static void terminators(void **state)
{
    (void)state;
    const char *variants[] = {
        "MSH|^~\\&|A|B|C|D|20260101||ADT^A08|1|P|2.5\rPID|1||X\r",
        "MSH|^~\\&|A|B|C|D|20260101||ADT^A08|1|P|2.5\rPID|1||X",
        "MSH|^~\\&|A|B|C|D|20260101||ADT^A08|1|P|2.5\nPID|1||X\n",
        "MSH|^~\\&|A|B|C|D|20260101||ADT^A08|1|P|2.5\r\nPID|1||X\r\n",
        "MSH|^~\\&|A|B|C|D|20260101||ADT^A08|1|P|2.5\r\nPID|1||X",
        "\r\nMSH|^~\\&|A|B|C|D|20260101||ADT^A08|1|P|2.5\r\r\nPID|1||X\n\n",
        "MSH|^~\\&|A|B|C|D|20260101||ADT^A08|1|P|2.5\nPID|1||X\r",
    };
    for (size_t i = 0; i < sizeof variants / sizeof variants[0]; i++) {
        tmsg t;
        tmsg_text(&t, variants[i]);
        assert_int_equal(t.m.nsegs, 2);
        assert_get(&t, "PID-3", "X");
        assert_get(&t, "MSH-12", "2.5");
        tmsg_free(&t);
    }
}

static void field_access(void **state)
{
    (void)state;
    tmsg t;
    tmsg_fixture(&t, "orm_o01_nw.hl7");
    rl_str v;
    const rl_str *msh = hl7_seg_find(&t.m, "MSH", 1);
    assert_non_null(msh);
    assert_int_equal(hl7_field(&t.m, *msh, 1, &v), HL7_VALUE);
    assert_int_equal(v.n, 1);
    assert_int_equal(v.p[0], '|');
    assert_int_equal(hl7_field(&t.m, *msh, 3, &v), HL7_VALUE);
    assert_true(rl_str_eq_c(v, "RIS"));
    assert_int_equal(hl7_field(&t.m, *msh, 10, &v), HL7_VALUE);
    assert_true(rl_str_eq_c(v, "MSG00001"));
    assert_int_equal(hl7_field_count(&t.m, *msh), 18);
    const rl_str *pid = hl7_seg_find(&t.m, "PID", 1);
    assert_int_equal(hl7_field_count(&t.m, *pid), 13);
    assert_int_equal(hl7_field(&t.m, *pid, 2, &v), HL7_EMPTY);
    assert_int_equal(hl7_field(&t.m, *pid, 14, &v), HL7_ABSENT);
    assert_null(hl7_seg_find(&t.m, "PID", 2));
    assert_null(hl7_seg_find(&t.m, "OBX", 1));
    assert_int_equal(hl7_piece_count(RL_STR("a^b^^c"), '^'), 4);
    assert_int_equal(hl7_piece(RL_STR("a^b^^c"), '^', 3, &v), HL7_EMPTY);
    assert_int_equal(hl7_piece(RL_STR("a^b^^c"), '^', 5, &v), HL7_ABSENT);
    tmsg_free(&t);
}

/* Each malformed input gives its own status and the byte offset of the fault. */
static void malformed(void **state)
{
    (void)state;
    static const struct {
        const char *text;
        int code;
        long pos;
        const char *words;
    } cases[] = {
        { "", HL7_E_EMPTY, 0, "empty" },
        { "\r\n\r", HL7_E_EMPTY, 3, "empty" },
        { "PID|1||X\r", HL7_E_NO_MSH, 0, "does not start with MSH" },
        { "\rXYZ", HL7_E_NO_MSH, 1, "does not start with MSH" },
        { "FHS|^~\\&|A\rMSH|^~\\&|A\r", HL7_E_NO_MSH, 0, "batch" },
        { "MSH", HL7_E_SEPARATORS, 3, "field separator" },
        { "MSHA^~\\&|", HL7_E_SEPARATORS, 3, "not a printable" },
        { "MSH|^~\\|X", HL7_E_SEPARATORS, 4, "holds 3 encoding" },
        { "MSH|^~^&|X", HL7_E_SEPARATORS, 6, "used twice" },
        { "MSH|^~\\&#*|A", HL7_E_SEPARATORS, 9, "more than 5" },
        { "MSH|^A\\&|X", HL7_E_SEPARATORS, 5, "alphanumeric" },
        { "MSH|^~\\&|A\rPI", HL7_E_SEGMENT, 11, "truncated segment" },
        { "MSH|^~\\&|A\rpid|1", HL7_E_SEGMENT, 11, "not three capital" },
        { "MSH|^~\\&|A\rPIDX|1", HL7_E_SEGMENT, 14, "not followed by the field separator" },
        { "MSH|^~\\&|A\rPID|1\rMSH|^~\\&|B", HL7_E_SEGMENT, 17, "second MSH" },
        { "MSH|^~\\&|A\rPID|1|\x01|X", HL7_E_BINARY, 17, "0x01" },
        { "MSH|^~\\&|A\rPID|1|\x0b|X", HL7_E_BINARY, 17, "0x0B" },
        { "MSH|^~\\&|A\rPID|1|\x1c\r", HL7_E_BINARY, 17, "0x1C" },
        { "MSH|^~\\&|A|B|C|D|E||ADT^A08|1|P|2.5||||||KLINGON\r", HL7_E_CHARSET, 41,
          "KLINGON" },
        { "MSH|^~\\&|A|B|C|D|E||ADT^A08|1|P|2.5||||||UNICODE UTF-16\r", HL7_E_CHARSET, 41,
          "send UNICODE UTF-8" },
        { "MSH|^~\\&|A|B|C|D|E||ADT^A08|1|P|2.5||||||BIG-5\rPID|1||\xa4|\r", HL7_E_CHARSET, 55,
          "second byte is a delimiter (0x7C)" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        hl7_msg m;
        rl_err err;
        rl_err_clear(&err);
        int rc = parse_text(cases[i].text, strlen(cases[i].text), &err, &m);
        if (rc != cases[i].code || err.pos != cases[i].pos)
            fail_msg("case %zu: got %d at %ld (%s), want %d at %ld", i, rc, err.pos, err.msg,
                     cases[i].code, cases[i].pos);
        if (cases[i].words && !strstr(err.msg, cases[i].words))
            fail_msg("case %zu: message '%s' lacks '%s'", i, err.msg, cases[i].words);
        char at[32];
        snprintf(at, sizeof at, "byte %ld", cases[i].pos);
        if (rc != HL7_E_CHARSET && !strstr(err.msg, at))
            fail_msg("case %zu: message '%s' lacks '%s'", i, err.msg, at);
        hl7_msg_free(&m);
    }
}

static void nul_byte_keeps_msh_for_the_ack(void **state)
{
    (void)state;
    static const char text[] = "MSH|^~\\&|RIS|H|RL|R|20260101||ADT^A08|CTRL9|P|2.5\rPID|1\0|X\r";
    hl7_msg m;
    rl_err err;
    assert_int_equal(parse_text(text, sizeof text - 1, &err, &m), HL7_E_BINARY);
    assert_int_equal(err.pos, 55);
    assert_int_equal(m.nsegs, 1);
    hl7_path p = P("MSH-10");
    rl_str v;
    assert_int_equal(hl7_get(&m, &p, &v, &err), HL7_VALUE);
    assert_true(rl_str_eq_c(v, "CTRL9"));
    hl7_msg_free(&m);
}

static void limits(void **state)
{
    (void)state;
    const char *text = "MSH|^~\\&|A\rPID|1\rPV1|1\rOBR|1\r";
    hl7_limits lim = { .max_bytes = 20, .max_segments = 0 };
    hl7_msg m;
    rl_err err;
    hl7_msg_init(&m, &lim);
    assert_int_equal(hl7_parse(&m, text, strlen(text), &err), HL7_E_TOO_BIG);
    assert_non_null(strstr(err.msg, "larger than the limit of 20"));
    hl7_msg_free(&m);

    lim = (hl7_limits){ .max_bytes = 0, .max_segments = 3 };
    hl7_msg_init(&m, &lim);
    assert_int_equal(hl7_parse(&m, text, strlen(text), &err), HL7_E_LIMIT);
    assert_int_equal(err.pos, 23);
    assert_non_null(strstr(err.msg, "more than 3 segments"));
    hl7_msg_free(&m);
}

/* Random bytes and mutated messages never crash and always give a status. */
static void junk_never_crashes(void **state)
{
    (void)state;
    size_t len;
    char *base = fixture("hl7/orm_o01_nw.hl7", &len);
    uint32_t seed = 12345;
    hl7_msg m;
    hl7_msg_init(&m, NULL);
    char *buf = malloc(len);
    for (int round = 0; round < 20000; round++) {
        memcpy(buf, base, len);
        size_t n = len;
        int flips = 1 + round % 8;
        for (int k = 0; k < flips; k++) {
            seed = seed * 1103515245u + 12345u;
            size_t at = (seed >> 8) % len;
            seed = seed * 1103515245u + 12345u;
            buf[at] = (char)(seed >> 16);
        }
        seed = seed * 1103515245u + 12345u;
        if (round % 3 == 0)
            n = (seed >> 4) % len;
        rl_err err;
        int rc = hl7_parse(&m, buf, n, &err);
        assert_true(rc <= 0 && rc >= HL7_E_READONLY);
        if (rc == HL7_OK) {
            hl7_path p = P("PID-5.1");
            rl_str v;
            (void)hl7_get(&m, &p, &v, &err);
        } else {
            assert_true(err.pos >= 0 && (size_t)err.pos <= len + 1);
        }
    }
    free(buf);
    free(base);
    hl7_msg_free(&m);
}

/* A line break typed into a field: the line it starts joined back with the
 * message's own escape character; real segments, blank lines and a clean
 * message left alone. */
static void stray_lines(void **state)
{
    (void)state;
    rl_buf out;
    rl_buf_init(&out, 0);
    static const struct {
        const char *in, *want;
        size_t joined;
    } cases[] = {
        { "MSH|^~\\&|A\rPID|1||X||DOE^JANE\rUmg. Pflege|19700101\rPV1|1\r",
          "MSH|^~\\&|A\rPID|1||X||DOE^JANE\\X0D\\Umg. Pflege|19700101\rPV1|1\r", 1 },
        { "MSH|^~\\&|A\nNTE|1||one\ntwo\nthree\n",
          "MSH|^~\\&|A\nNTE|1||one\\X0D\\two\\X0D\\three\n", 2 },
        { "MSH|^~#&|A\r\nOBX|1|TX|||a\r\nb\r\n", "MSH|^~#&|A\r\nOBX|1|TX|||a#X0D#b\r\n", 1 },
        { "MSH|^~\\&|A\rPID|1\r   \rZDS|1.2\r", NULL, 0 },
        { "MSH|^~\\&|A\rPID|1\rZZ9\r", NULL, 0 },
        { "MSH|^~\\&|A\rPI\r", NULL, 0 }, /* a truncated segment: the parse says so */
        { "MSH|^~\\&|A\rPID|1|OK\rOK then\r", "MSH|^~\\&|A\rPID|1|OK\\X0D\\OK then\r", 1 },
        { "PID|1\rfoo\r", NULL, 0 },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        size_t n = hl7_join_stray_lines(rl_str_c(cases[i].in), &out);
        assert_int_equal(n, cases[i].joined);
        if (cases[i].want) {
            assert_int_equal(out.len, strlen(cases[i].want));
            assert_memory_equal(out.data, cases[i].want, out.len);
        } else {
            assert_int_equal(out.len, 0);
        }
    }
    /* what was joined parses, and the field holds the line break */
    hl7_msg m;
    hl7_msg_init(&m, NULL);
    rl_err err;
    assert_int_equal(hl7_join_stray_lines(rl_str_c(cases[0].in), &out), 1);
    assert_int_equal(hl7_parse(&m, out.data, out.len, &err), HL7_OK);
    assert_int_equal(m.nsegs, 3);
    hl7_msg_free(&m);
    rl_buf_free(&out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(fixtures_parse),
        cmocka_unit_test(separators_default_and_custom),
        cmocka_unit_test(terminators),
        cmocka_unit_test(field_access),
        cmocka_unit_test(malformed),
        cmocka_unit_test(nul_byte_keeps_msh_for_the_ack),
        cmocka_unit_test(limits),
        cmocka_unit_test(junk_never_crashes),
        cmocka_unit_test(stray_lines),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
