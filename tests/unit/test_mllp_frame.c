/* MLLP framing: several frames per read, frames split across reads, junk,
 * the CR after the end block, oversize frames and abandoned frames. */
#include "testutil.h"

#include "radlink/mllp.h"

typedef struct got {
    int n;
    char frames[16][256];
    int kinds[16];
} got;

static void feed_all(mllp_decoder *d, const char *in, size_t n, got *g)
{
    size_t off = 0;
    while (off < n) {
        size_t used = 0;
        int r = mllp_decoder_feed(d, in + off, n - off, &used);
        off += used;
        if (r != MLLP_AGAIN) {
            assert_true(g->n < 16);
            snprintf(g->frames[g->n], sizeof g->frames[0], "%.*s", (int)d->frame.len,
                     d->frame.data ? d->frame.data : "");
            g->kinds[g->n++] = r;
        } else {
            assert_int_equal(off, n);
        }
    }
}

static const char two[] = "\x0bMSH|A\rPID|1\r\x1c\r\x0bMSH|B\r\x1c\r";

static void frames_in_one_read(void **state)
{
    (void)state;
    mllp_decoder d;
    got g = { 0 };
    mllp_decoder_init(&d, 1024);
    feed_all(&d, two, sizeof two - 1, &g);
    assert_int_equal(g.n, 2);
    assert_string_equal(g.frames[0], "MSH|A\rPID|1\r");
    assert_string_equal(g.frames[1], "MSH|B\r");
    assert_int_equal(g.kinds[0], MLLP_FRAME);
    assert_int_equal(d.junk, 0);
    assert_false(mllp_decoder_partial(&d));
    mllp_decoder_free(&d);
}

static void byte_by_byte(void **state)
{
    (void)state;
    mllp_decoder d;
    got g = { 0 };
    mllp_decoder_init(&d, 1024);
    for (size_t i = 0; i < sizeof two - 1; i++) {
        feed_all(&d, two + i, 1, &g);
        if (i == 5)
            assert_true(mllp_decoder_partial(&d));
    }
    assert_int_equal(g.n, 2);
    assert_string_equal(g.frames[0], "MSH|A\rPID|1\r");
    assert_string_equal(g.frames[1], "MSH|B\r");
    assert_int_equal(d.junk, 0);
    mllp_decoder_free(&d);
}

static void junk_is_skipped_and_counted(void **state)
{
    (void)state;
    mllp_decoder d;
    got g = { 0 };
    mllp_decoder_init(&d, 1024);
    static const char in[] = "GET / HTTP/1.0\r\n\x0bMSH|A\r\x1c\rxx\x0bMSH|B\r\x1c\x0bMSH|C\x1c\r";
    feed_all(&d, in, sizeof in - 1, &g);
    assert_int_equal(g.n, 3);
    assert_string_equal(g.frames[2], "MSH|C");
    assert_int_equal(d.junk, 16 + 2);
    mllp_decoder_free(&d);
}

static void oversize(void **state)
{
    (void)state;
    mllp_decoder d;
    got g = { 0 };
    mllp_decoder_init(&d, 8);
    static const char in[] = "\x0bMSH|0123456789\x1c\r\x0bMSH|ok\x1c\r";
    feed_all(&d, in, sizeof in - 1, &g);
    assert_int_equal(g.n, 2);
    assert_int_equal(g.kinds[0], MLLP_OVERSIZE);
    assert_string_equal(g.frames[0], "MSH|0123");
    assert_int_equal(g.kinds[1], MLLP_FRAME);
    assert_string_equal(g.frames[1], "MSH|ok");
    mllp_decoder_free(&d);

    /* a frame exactly at the limit is fine */
    memset(&g, 0, sizeof g);
    mllp_decoder_init(&d, 8);
    feed_all(&d, "\x0bMSH|1234\x1c\r", 11, &g);
    assert_int_equal(g.kinds[0], MLLP_FRAME);
    mllp_decoder_free(&d);
}

static void broken_and_partial(void **state)
{
    (void)state;
    mllp_decoder d;
    got g = { 0 };
    mllp_decoder_init(&d, 1024);
    static const char in[] = "\x0bMSH|lost\r\x0bMSH|kept\r\x1c\r\x0bMSH|tail";
    feed_all(&d, in, sizeof in - 1, &g);
    assert_int_equal(g.n, 2);
    assert_int_equal(g.kinds[0], MLLP_BROKEN);
    assert_string_equal(g.frames[0], "MSH|lost\r");
    assert_int_equal(g.kinds[1], MLLP_FRAME);
    assert_string_equal(g.frames[1], "MSH|kept\r");
    assert_true(mllp_decoder_partial(&d));
    mllp_decoder_free(&d);
}

static void wrap(void **state)
{
    (void)state;
    rl_buf b;
    rl_buf_init(&b, 0);
    assert_int_equal(mllp_wrap(&b, RL_STR("MSH|X\r")), 0);
    assert_int_equal(b.len, 9);
    assert_memory_equal(b.data, "\x0bMSH|X\r\x1c\r", 9);
    rl_buf_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(frames_in_one_read),
        cmocka_unit_test(byte_by_byte),
        cmocka_unit_test(junk_is_skipped_and_counted),
        cmocka_unit_test(oversize),
        cmocka_unit_test(broken_and_partial),
        cmocka_unit_test(wrap),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
