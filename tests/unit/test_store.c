/* The store and message log: records round-trip, the duplicate index, time
 * seeks, nested transactions, read-only opening, refusals. */
#include "testutil.h"

#include <sys/stat.h>
#include <unistd.h>

#include "radlink/msglog.h"
#include "radlink/rec.h"
#include "radlink/reczip.h"
#include "radlink/store.h"

static char dir[RL_CFG_PATH_MAX];

static int setup(void **state)
{
    (void)state;
    assert_non_null(test_dir(dir, sizeof dir, "store"));
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[RL_CFG_PATH_MAX + 16];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    return system(cmd) == 0 ? 0 : -1;
}

static store *open_rw(void)
{
    store *s;
    rl_err err;
    store_opts o = { .map_size = 64u << 20 };
    if (store_open(dir, &o, &s, &err) != STORE_OK)
        fail_msg("open: %s", err.msg);
    return s;
}

static void append(store_txn *t, const char *ctrl, int64_t us, msglog_status st)
{
    rl_err err;
    msglog_rec r = { .status = st, .recv_us = us, .peer = RL_STR("127.0.0.1:1"),
                     .listener = RL_STR("127.0.0.1:2575"), .app = RL_STR("RIS"),
                     .fac = RL_STR("H"), .type = RL_STR("ADT^A08"), .ctrl = rl_str_c(ctrl),
                     .ack_code = RL_STR("AA"), .error = RL_STR(""), .outcome = RL_STR(""),
                     .ack = RL_STR("MSH|ack\r"), .raw = RL_STR("MSH|^~\\&|RIS|H\r") };
    assert_int_equal(msglog_append(t, &r, &err), STORE_OK);
}

static void log_round_trip(void **state)
{
    (void)state;
    store *s = open_rw();
    store_txn *t;
    rl_err err;
    assert_int_equal(store_begin(s, NULL, true, &t, &err), STORE_OK);
    append(t, "C1", 1000, MSG_ACCEPTED);
    append(t, "C2", 2000, MSG_REJECTED);
    append(t, "C3", 3000, MSG_ACCEPTED);
    assert_int_equal(store_commit(t, &err), STORE_OK);

    assert_int_equal(store_begin(s, NULL, false, &t, &err), STORE_OK);
    msglog_rec r = MSGLOG_REC_INIT;
    assert_int_equal(msglog_get(t, 2, &r, &err), STORE_OK);
    assert_int_equal(r.seq, 2);
    assert_int_equal(r.status, MSG_REJECTED);
    assert_int_equal(r.recv_us, 2000);
    assert_true(rl_str_eq_c(r.ctrl, "C2"));
    assert_true(rl_str_eq_c(r.raw, "MSH|^~\\&|RIS|H\r"));
    assert_int_equal(msglog_get(t, 4, &r, &err), STORE_NOTFOUND);
    uint64_t seq;
    assert_int_equal(msglog_seek_time(t, 1500, &seq, &err), STORE_OK);
    assert_int_equal(seq, 2);
    assert_int_equal(msglog_seek_time(t, 0, &seq, &err), STORE_OK);
    assert_int_equal(seq, 1);
    assert_int_equal(msglog_seek_time(t, 9999, &seq, &err), STORE_OK);
    assert_int_equal(seq, 4);
    msglog_rec_free(&r);
    store_abort(t);
    store_close(s);
}

static void nested_abort_undoes_only_the_child(void **state)
{
    (void)state;
    store *s = open_rw();
    store_txn *t, *child;
    rl_err err;
    assert_int_equal(store_begin(s, NULL, true, &t, &err), STORE_OK);
    append(t, "P1", 10, MSG_ACCEPTED);
    assert_int_equal(store_begin(NULL, t, true, &child, &err), STORE_OK);
    append(child, "LOST", 11, MSG_ACCEPTED);
    store_abort(child);
    append(t, "P2", 12, MSG_ACCEPTED);
    assert_int_equal(store_commit(t, &err), STORE_OK);
    assert_int_equal(store_begin(s, NULL, false, &t, &err), STORE_OK);
    uint64_t next;
    assert_int_equal(store_next_seq(t, STORE_MSG, &next, &err), STORE_OK);
    msglog_rec r = MSGLOG_REC_INIT;
    assert_int_equal(msglog_get(t, next - 1, &r, &err), STORE_OK);
    assert_true(rl_str_eq_c(r.ctrl, "P2"));
    assert_int_equal(msglog_get(t, next - 2, &r, &err), STORE_OK);
    assert_true(rl_str_eq_c(r.ctrl, "P1"));
    msglog_rec_free(&r);
    store_abort(t);
    store_close(s);
}

static void readonly_and_refusals(void **state)
{
    (void)state;
    store *s;
    rl_err err;
    store_opts ro = { .readonly = true };
    assert_int_equal(store_open("/nonexistent/radlink", &ro, &s, &err), STORE_E_IO);
    assert_non_null(strstr(err.msg, "no store here"));

    store *w = open_rw();
    assert_int_equal(store_open(dir, &ro, &s, &err), STORE_OK); /* beside a writer */
    store_txn *t;
    assert_int_equal(store_begin(s, NULL, true, &t, &err), STORE_E_ARG);
    assert_int_equal(store_begin(s, NULL, false, &t, &err), STORE_OK);
    msglog_rec r = MSGLOG_REC_INIT;
    assert_int_equal(msglog_get(t, 1, &r, &err), STORE_OK);
    msglog_rec_free(&r);
    store_abort(t);
    store_close(s);

    assert_int_equal(store_begin(w, NULL, true, &t, &err), STORE_OK);
    /* a record that does not decode is reported, not read past its end */
    unsigned char key[8];
    rec_be64(999, key);
    assert_int_equal(store_put(t, STORE_MSG, (rl_str){ (char *)key, 8 }, RL_STR("\x01\x01\x00"), 0,
                               &err),
                     STORE_OK);
    assert_int_equal(msglog_get(t, 999, &r, &err), STORE_E_CORRUPT);
    store_abort(t);
    store_close(w);
}

/* An order of the usual shape, varied as a RIS varies them. */
static int order_text(char *out, size_t n, unsigned i)
{
    static const char *const family[] = { "DOE", "SMITH", "GARCIA", "NGUYEN", "KOWALSKI" };
    static const char *const proc[] = { "70553^MRI BRAIN", "77067^SCREENING MAMMOGRAPHY",
                                        "71046^CHEST 2 VIEWS", "74177^CT ABD PELVIS W" };
    return snprintf(out, n,
                    "MSH|^~\\&|RIS|GENHOSP|RADLINK|RAD|2026112%u%06u||ORM^O01^ORM_O01|M%08u|P|2.5.1\r"
                    "PID|1||%07u^^^GENHOSP^MR||%s^JANE^%c||19%02u0%u1%u|F|||%u MAIN ST^^SPRINGFIELD\r"
                    "ORC|NW|O%u|A%u||SC||^^^20261124%02u0000^^R\r"
                    "OBR|1|O%u|A%u|%s^CPT4|||20261123101500||||||||||A%u|RP%u|SPS%u|MR01\r",
                    i % 10, i % 1000000, i, i * 7919 % 10000000, family[i % 5], 'A' + (int)(i % 26),
                    i % 90, i % 9 + 1, i % 3, i % 997, i, i, i % 24, i, i, proc[i % 4], i, i, i);
}

/* A store of its own, in dir/name (written to path, for opening it again). */
static store *open_own(const char *name, const store_opts *o, char *path, size_t n)
{
    snprintf(path, n, "%s/%s", dir, name);
    mkdir(path, 0750);
    store *s;
    rl_err err;
    if (store_open(path, o, &s, &err) != STORE_OK)
        fail_msg("open %s: %s", name, err.msg);
    return s;
}

static void records_are_compressed_with_a_trained_dictionary(void **state)
{
    (void)state;
    char sub[RL_CFG_PATH_MAX + 16];
    store_opts o = { .map_size = 64u << 20 };
    store *s = open_own("zdict", &o, sub, sizeof sub);
    rl_err err;
    store_txn *t;
    unsigned total = 2 * RECZIP_SAMPLES + 10;
    char text[1024];
    size_t first_bytes = 0, last_bytes = 0, raw_bytes = 0; /* raw: as version 1 */
    assert_int_equal(store_begin(s, NULL, true, &t, &err), STORE_OK);
    /* a store written before compression: its records are read as they are */
    unsigned char key[8];
    rec_be64(1, key);
    assert_int_equal(store_put(t, STORE_MSG, (rl_str){ (char *)key, 8 },
                               (rl_str){ "\x01\x01" "\0\0\0\0\0\0\0\x07" "\0\0\0\0\0\0\0\0"
                                         "\0\0\0\0" "\0\0\0\0" "\0\0\0\0" "\0\0\0\0"
                                         "\0\0\0\0" "\0\0\0\0" "\0\0\0\x02" "AA"
                                         "\0\0\0\0" "\0\0\0\0" "\0\0\0\0" "\0\0\0\x03" "MSH",
                                         18 + 11 * 4 + 2 + 3 },
                               0, &err),
                     STORE_OK);
    for (unsigned i = 2; i <= total; i++) {
        int n = order_text(text, sizeof text, i);
        msglog_rec r = { .status = MSG_ACCEPTED, .recv_us = i, .peer = RL_STR("10.0.0.5:4100"),
                         .listener = RL_STR("mllp"), .app = RL_STR("RIS"), .fac = RL_STR("GENHOSP"),
                         .type = RL_STR("ORM^O01"), .ctrl = RL_STR("M1"), .ack_code = RL_STR("AA"),
                         .ack = RL_STR("MSH|^~\\&|RADLINK|RAD|RIS|GENHOSP\rMSA|AA|M1\r"),
                         .raw = { text, (size_t)n } };
        assert_int_equal(msglog_append(t, &r, &err), STORE_OK);
        rl_str v;
        rec_be64(i, key);
        assert_int_equal(store_get(t, STORE_MSG, (rl_str){ (char *)key, 8 }, &v, &err), STORE_OK);
        if (i < RECZIP_SAMPLES)
            first_bytes += v.n;
        else if (i >= RECZIP_SAMPLES * 2 - (RECZIP_SAMPLES - 2))
            last_bytes += v.n;
        if (i < RECZIP_SAMPLES) /* the record as version 1 stored it */
            raw_bytes += 18 + 11 * 4 + r.peer.n + r.listener.n + r.app.n + r.fac.n + r.type.n +
                         r.ctrl.n + r.ack_code.n + r.ack.n + r.raw.n;
    }
    assert_int_equal(store_commit(t, &err), STORE_OK);
    /* without a dictionary a record is smaller than it was stored before
     * compression; with one, smaller again */
    assert_true(first_bytes * 4 < raw_bytes * 3);
    assert_true(last_bytes * 2 < first_bytes);
    store_close(s);

    /* another process (a new cache) reads every record back as written */
    assert_int_equal(store_open(sub, &o, &s, &err), STORE_OK);
    assert_int_equal(store_begin(s, NULL, false, &t, &err), STORE_OK);
    msglog_rec r = MSGLOG_REC_INIT;
    assert_int_equal(msglog_get(t, 1, &r, &err), STORE_OK);
    assert_true(rl_str_eq_c(r.raw, "MSH"));
    assert_int_equal(r.recv_us, 7);
    for (unsigned i = 2; i <= total; i++) {
        int n = order_text(text, sizeof text, i);
        assert_int_equal(msglog_get(t, i, &r, &err), STORE_OK);
        assert_true(rl_str_eq(r.raw, (rl_str){ text, (size_t)n }));
        assert_true(rl_str_eq_c(r.fac, "GENHOSP"));
        assert_int_equal(r.recv_us, (int64_t)i);
    }
    store_abort(t);

    /* a record whose dictionary is gone, or whose frame is damaged, says so */
    assert_int_equal(store_begin(s, NULL, true, &t, &err), STORE_OK);
    rl_str cur;
    assert_int_equal(store_get(t, STORE_META, RL_STR("msg.zdict"), &cur, &err), STORE_OK);
    char dk[32];
    snprintf(dk, sizeof dk, "msg.zdict.%02x%02x%02x%02x", (unsigned char)cur.p[0],
             (unsigned char)cur.p[1], (unsigned char)cur.p[2], (unsigned char)cur.p[3]);
    rec_be64(total, key);
    rl_str v;
    assert_int_equal(store_get(t, STORE_MSG, (rl_str){ (char *)key, 8 }, &v, &err), STORE_OK);
    char damaged[2048];
    assert_true(v.n <= sizeof damaged);
    memcpy(damaged, v.p, v.n);
    damaged[v.n - 3] ^= 0x55;
    rec_be64(total + 1, key);
    assert_int_equal(store_put(t, STORE_MSG, (rl_str){ (char *)key, 8 }, (rl_str){ damaged, v.n }, 0,
                               &err),
                     STORE_OK);
    assert_int_equal(msglog_get(t, total + 1, &r, &err), STORE_E_CORRUPT);
    assert_non_null(strstr(err.msg, "message"));
    assert_int_equal(store_del(t, STORE_META, rl_str_c(dk), (rl_str){ NULL, 0 }, &err), STORE_OK);
    store_abort(t); /* the cache holds it; a new process finds it gone */
    store_close(s);
    assert_int_equal(store_open(sub, &o, &s, &err), STORE_OK);
    assert_int_equal(store_begin(s, NULL, true, &t, &err), STORE_OK);
    assert_int_equal(store_del(t, STORE_META, rl_str_c(dk), (rl_str){ NULL, 0 }, &err), STORE_OK);
    assert_int_equal(msglog_get(t, total, &r, &err), STORE_E_CORRUPT);
    assert_non_null(strstr(err.msg, "dictionary"));
    assert_int_equal(msglog_get(t, 1, &r, &err), STORE_OK); /* the uncompressed one still reads */
    msglog_rec_free(&r);
    store_abort(t);
    store_close(s);
}

static void full_store_is_reported(void **state)
{
    (void)state;
    char small[RL_CFG_PATH_MAX + 16];
    store_opts o = { .map_size = 1u << 20 };
    store *s = open_own("small", &o, small, sizeof small);
    rl_err err;
    store_txn *t;
    assert_int_equal(store_begin(s, NULL, true, &t, &err), STORE_OK);
    /* bytes that do not compress: records are stored compressed */
    char blob[65536];
    uint32_t x = 2463534242u;
    for (size_t i = 0; i < sizeof blob; i++) {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        blob[i] = (char)x;
    }
    int rc = STORE_OK;
    for (int i = 0; i < 100 && rc == STORE_OK; i++) {
        msglog_rec r = { .status = MSG_ACCEPTED, .raw = { blob, sizeof blob } };
        rc = msglog_append(t, &r, &err);
    }
    assert_int_equal(rc, STORE_E_FULL);
    assert_non_null(strstr(err.msg, "map-size-mb"));
    store_abort(t);
    store_close(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(log_round_trip),
        cmocka_unit_test(nested_abort_undoes_only_the_child),
        cmocka_unit_test(readonly_and_refusals),
        cmocka_unit_test(full_store_is_reported),
        cmocka_unit_test(records_are_compressed_with_a_trained_dictionary),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
