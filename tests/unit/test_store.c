/* The store and message log: records round-trip, the duplicate index, time
 * seeks, nested transactions, read-only opening, refusals. */
#include "testutil.h"

#include <sys/stat.h>
#include <unistd.h>

#include "radlink/msglog.h"
#include "radlink/rec.h"
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
    assert_int_equal(msglog_dedup_put(t, RL_STR("RIS"), RL_STR("H"), RL_STR("C1"), 1, 1000, &err),
                     STORE_OK);
    assert_int_equal(store_commit(t, &err), STORE_OK);

    assert_int_equal(store_begin(s, NULL, false, &t, &err), STORE_OK);
    msglog_rec r;
    assert_int_equal(msglog_get(t, 2, &r, &err), STORE_OK);
    assert_int_equal(r.seq, 2);
    assert_int_equal(r.status, MSG_REJECTED);
    assert_int_equal(r.recv_us, 2000);
    assert_true(rl_str_eq_c(r.ctrl, "C2"));
    assert_true(rl_str_eq_c(r.raw, "MSH|^~\\&|RIS|H\r"));
    assert_int_equal(msglog_get(t, 4, &r, &err), STORE_NOTFOUND);
    uint64_t seq;
    int64_t us;
    assert_int_equal(msglog_dedup_find(t, RL_STR("RIS"), RL_STR("H"), RL_STR("C1"), &seq, &us, &err),
                     STORE_OK);
    assert_int_equal(seq, 1);
    assert_int_equal(us, 1000);
    assert_int_equal(msglog_dedup_find(t, RL_STR("RIS"), RL_STR("X"), RL_STR("C1"), &seq, &us, &err),
                     STORE_NOTFOUND);
    assert_int_equal(msglog_seek_time(t, 1500, &seq, &err), STORE_OK);
    assert_int_equal(seq, 2);
    assert_int_equal(msglog_seek_time(t, 0, &seq, &err), STORE_OK);
    assert_int_equal(seq, 1);
    assert_int_equal(msglog_seek_time(t, 9999, &seq, &err), STORE_OK);
    assert_int_equal(seq, 4);
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
    msglog_rec r;
    assert_int_equal(msglog_get(t, next - 1, &r, &err), STORE_OK);
    assert_true(rl_str_eq_c(r.ctrl, "P2"));
    assert_int_equal(msglog_get(t, next - 2, &r, &err), STORE_OK);
    assert_true(rl_str_eq_c(r.ctrl, "P1"));
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
    msglog_rec r;
    assert_int_equal(msglog_get(t, 1, &r, &err), STORE_OK);
    store_abort(t);
    store_close(s);

    /* an overlong control ID is refused with a reason, not truncated */
    char big[400];
    memset(big, 'X', sizeof big);
    assert_int_equal(store_begin(w, NULL, true, &t, &err), STORE_OK);
    assert_int_equal(msglog_dedup_put(t, RL_STR("A"), RL_STR("B"), (rl_str){ big, sizeof big }, 1,
                                      1, &err),
                     STORE_E_ARG);
    assert_non_null(strstr(err.msg, "longer than"));
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

static void full_store_is_reported(void **state)
{
    (void)state;
    char small[RL_CFG_PATH_MAX + 16];
    snprintf(small, sizeof small, "%s/small", dir);
    mkdir(small, 0750);
    store *s;
    rl_err err;
    store_opts o = { .map_size = 1u << 20 };
    assert_int_equal(store_open(small, &o, &s, &err), STORE_OK);
    store_txn *t;
    assert_int_equal(store_begin(s, NULL, true, &t, &err), STORE_OK);
    char blob[65536];
    memset(blob, 'x', sizeof blob);
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
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
