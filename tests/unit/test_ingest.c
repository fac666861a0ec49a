/* Ingest: the ACK policy (AA / AR with ERR), retransmissions, control-ID
 * conflicts, the duplicate window, oversize and incomplete frames; every
 * outcome is in the message log. */
#include "testutil.h"

#include "radlink/ingest.h"
#include "radlink/msgidx.h"
#include "radlink/msglog.h"
#include "radlink/rec.h"
#include "radlink/store.h"

static char dir[RL_CFG_PATH_MAX];
static store *st;
static ingest g;

static int setup(void **state)
{
    (void)state;
    assert_non_null(test_dir(dir, sizeof dir, "ingest"));
    rl_err err;
    store_opts o = { .map_size = 64u << 20 };
    if (store_open(dir, &o, &st, &err) != STORE_OK)
        fail_msg("%s", err.msg);
    ingest_cfg c = { .dedup_window_us = 3600ll * 1000000, .max_frame = 1 << 20 };
    ingest_init(&g, &c);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    ingest_free(&g);
    store_close(st);
    char cmd[RL_CFG_PATH_MAX + 16];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    return system(cmd) == 0 ? 0 : -1;
}

typedef struct outcome {
    msglog_status status;
    uint64_t seq;
    bool close_after;
    tmsg ack; /* parsed ACK (empty when none) */
    bool has_ack;
} outcome;

static outcome run_from(ingest_kind kind, const char *text, int64_t recv_us, const char *peer)
{
    outcome o = { 0 };
    rl_buf ack;
    rl_buf_init(&ack, 0);
    ingest_input in = { kind, rl_str_c(text), peer, "127.0.0.1:2575", "test", recv_us, false };
    ingest_result res = { .ack = &ack };
    store_txn *t;
    rl_err err;
    assert_int_equal(store_begin(st, NULL, true, &t, &err), STORE_OK);
    if (ingest_one(&g, t, &in, &res, &err) != STORE_OK)
        fail_msg("ingest: %s", err.msg);
    assert_int_equal(store_commit(t, &err), STORE_OK);
    o.status = res.status;
    o.seq = res.seq;
    o.close_after = res.close_after;
    if (ack.len) {
        rl_buf_cstr(&ack);
        tmsg_text(&o.ack, ack.data);
        o.has_ack = true;
    }
    rl_buf_free(&ack);
    return o;
}

static outcome run(ingest_kind kind, const char *text, int64_t recv_us)
{
    return run_from(kind, text, recv_us, "127.0.0.1:9");
}

static void done(outcome *o)
{
    if (o->has_ack)
        tmsg_free(&o->ack);
}

/* The record's text stays in `held` until the next call (reachable, so not
 * a leak when the test ends). */
static msglog_rec held = MSGLOG_REC_INIT;

static msglog_rec logged(uint64_t seq, store_txn **t)
{
    rl_err err;
    assert_int_equal(store_begin(st, NULL, false, t, &err), STORE_OK);
    assert_int_equal(msglog_get(*t, seq, &held, &err), STORE_OK);
    return held;
}

#define ORM "MSH|^~\\&|RIS|GENHOSP|RL|RAD|20261123||ORM^O01|%s|P|2.5\rPID|1||%s\r"

static void accept_and_log(void **state)
{
    (void)state;
    char text[256];
    snprintf(text, sizeof text, ORM, "C100", "P1");
    outcome o = run(INGEST_FRAME, text, 1000);
    assert_int_equal(o.status, MSG_ACCEPTED);
    assert_get(&o.ack, "MSA-1", "AA");
    assert_get(&o.ack, "MSA-2", "C100");
    char ctrl[32];
    snprintf(ctrl, sizeof ctrl, "RL%llu", (unsigned long long)o.seq);
    assert_get(&o.ack, "MSH-10", ctrl);
    store_txn *t;
    msglog_rec r = logged(o.seq, &t);
    assert_int_equal(r.status, MSG_ACCEPTED);
    assert_true(rl_str_eq_c(r.type, "ORM^O01"));
    assert_true(rl_str_eq_c(r.ctrl, "C100"));
    assert_true(rl_str_eq_c(r.app, "RIS"));
    assert_true(rl_str_eq_c(r.peer, "127.0.0.1:9"));
    assert_true(rl_str_eq_c(r.raw, text));
    assert_true(r.ack.n > 20);
    store_abort(t);
    done(&o);
}

static void retransmission_and_conflict(void **state)
{
    (void)state;
    char text[256];
    snprintf(text, sizeof text, ORM, "C200", "P2");
    outcome first = run(INGEST_FRAME, text, 2000);
    outcome again = run(INGEST_FRAME, text, 3000);
    assert_int_equal(again.status, MSG_DUPLICATE);
    /* the original ACK, byte for byte (same MSH-10 and MSH-7) */
    assert_string_equal(get(&again.ack, "MSH-10", NULL), get(&first.ack, "MSH-10", NULL));
    assert_string_equal(get(&again.ack, "MSH-7", NULL), get(&first.ack, "MSH-7", NULL));
    store_txn *t;
    msglog_rec r = logged(again.seq, &t);
    assert_int_equal(r.dup_of, first.seq);
    store_abort(t);

    char other[256];
    snprintf(other, sizeof other, ORM, "C200", "DIFFERENT");
    /* a sender that restarted its counter: a new message, with a warning */
    outcome conflict = run(INGEST_FRAME, other, 4000);
    assert_int_equal(conflict.status, MSG_ACCEPTED);
    assert_get(&conflict.ack, "MSA-1", "AA");
    msglog_rec rc = logged(conflict.seq, &t);
    char summary[300];
    snprintf(summary, sizeof summary, "%.*s", (int)rc.outcome.n, rc.outcome.p);
    store_abort(t);
    assert_non_null(strstr(summary, "warning: control ID reused (message"));
    /* and it is the one its own retransmission is compared with */
    outcome again2 = run(INGEST_FRAME, other, 5000);
    assert_int_equal(again2.status, MSG_DUPLICATE);
    done(&again2);

    /* beyond the window the same control ID is a new message, no warning */
    outcome later = run(INGEST_FRAME, text, 5000 + 3601ll * 1000000);
    assert_int_equal(later.status, MSG_ACCEPTED);
    done(&first);
    done(&again);
    done(&conflict);
    done(&later);

    /* no MSH-3 or MSH-4: the sender is the listener and the peer's address
     * (any port): the same control ID from another address is another
     * sender's message */
    const char *anon = "MSH|^~\\&|||RL|RAD|20261123||ORM^O01|C300|P|2.5\rPID|1||P3\r";
    outcome a1 = run_from(INGEST_FRAME, anon, 6000, "10.0.0.7:4001");
    outcome a2 = run_from(INGEST_FRAME, anon, 7000, "10.0.0.7:4002");
    outcome a3 = run_from(INGEST_FRAME, anon, 8000, "10.0.0.8:4001");
    assert_int_equal(a1.status, MSG_ACCEPTED);
    assert_int_equal(a2.status, MSG_DUPLICATE);
    assert_int_equal(a3.status, MSG_ACCEPTED);
    done(&a1);
    done(&a2);
    done(&a3);

    /* an overlong control ID is refused with a reason, not truncated */
    char big[600], ctrl[401];
    memset(ctrl, 'X', 400);
    ctrl[400] = '\0';
    snprintf(big, sizeof big, ORM, ctrl, "P4");
    outcome o = run(INGEST_FRAME, big, 9000);
    assert_int_equal(o.status, MSG_REJECTED);
    assert_non_null(strstr(get(&o.ack, "ERR-8", NULL), "longer than"));
    done(&o);

    /* index keys are cut by bytes at a character's boundary: 300 two-byte
     * characters, or 900 stray continuation bytes, in a patient ID and in
     * MSH-3 fit the key buffer (a cut by characters did not) */
    char ids[2][1000];
    for (int i = 0; i < 300; i++)
        memcpy(ids[0] + 2 * i, "\xc3\xa9", 2);
    ids[0][600] = '\0';
    memset(ids[1], 0x80, 900);
    ids[1][900] = '\0';
    for (int i = 0; i < 2; i++) {
        char msg[2400];
        snprintf(msg, sizeof msg, "MSH|^~\\&|%.900s|H|RL|RAD|20261123||ORM^O01|C4%d|P|2.5\rPID|1||"
                 "%.900s\r", ids[i], i, ids[i]);
        outcome w = run(INGEST_FRAME, msg, 10000 + i);
        assert_true(w.status == MSG_ACCEPTED || w.status == MSG_REJECTED);
        done(&w);
    }
    rl_str cut = rl_utf8_cut_bytes(rl_str_c("ab\xc3\xa9"), 3);
    assert_int_equal(cut.n, 2); /* not half of the é */
    assert_int_equal(rl_utf8_cut_bytes(rl_str_c("abc"), 3).n, 3);
}

static void rejections(void **state)
{
    (void)state;
    static const struct {
        const char *text;
        const char *code;
        const char *words;
    } cases[] = {
        { "PID|1||X\r", "100", "does not start with MSH" },
        { "MSH|^~\\&|RIS|H|RL|R|2026|||C1|P|2.5\r", "101", "MSH-9" },
        { "MSH|^~\\&|RIS|H|RL|R|2026||ORM^O01|C2|P|3.0\r", "203", "version '3.0'" },
        { "MSH|^~\\&|RIS|H|RL|R|2026||ORM^O01|C3|X|2.5\r", "202", "processing ID 'X'" },
        { "MSH|^~\\&|RIS|H|RL|R|2026||ORM^O01|C4|P|2.5\rPID|1|\x01\r", "102", "control byte" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        outcome o = run(INGEST_FRAME, cases[i].text, 5000);
        assert_int_equal(o.status, MSG_REJECTED);
        assert_true(o.has_ack);
        assert_get(&o.ack, "MSA-1", "AR");
        const char *code = get(&o.ack, "ERR-3.1", NULL);
        if (strcmp(code, cases[i].code) != 0)
            fail_msg("case %zu: ERR-3.1 %s, want %s", i, code, cases[i].code);
        const char *text = get(&o.ack, "ERR-8", NULL);
        if (!strstr(text, cases[i].words))
            fail_msg("case %zu: ERR-8 '%s' lacks '%s'", i, text, cases[i].words);
        store_txn *t;
        msglog_rec r = logged(o.seq, &t);
        assert_int_equal(r.status, MSG_REJECTED);
        assert_true(rl_str_eq_c(r.raw, cases[i].text));
        store_abort(t);
        done(&o);
    }
    /* an AR still echoes MSH-10 when MSH was readable */
    outcome o = run(INGEST_FRAME, cases[2].text, 5000);
    assert_get(&o.ack, "MSA-2", "C2");
    done(&o);
}

/* Senders' habits: an MSH-12 of 2.5.0 or none, an empty MSH-10, accepted
 * with a warning; refused with strict. */
static void habits(void **state)
{
    (void)state;
    static const char *const texts[] = {
        "MSH|^~\\&|RIS|H|RL|R|2026||ADT^A08|H1|P|2.5.0\r",
        "MSH|^~\\&|RIS|H|RL|R|2026||ADT^A08|H2|P|\r",
        "MSH|^~\\&|RIS|H|RL|R|2026||ADT^A08||P|2.5\r",
    };
    static const char *const words[] = { "MSH-12 2.5.0 read as 2.5", "MSH-12 empty, read as 2.5",
                                         "MSH-10 empty" };
    for (size_t i = 0; i < 3; i++) {
        outcome o = run(INGEST_FRAME, texts[i], 7000 + (int64_t)i);
        assert_int_equal(o.status, MSG_ACCEPTED);
        assert_get(&o.ack, "MSA-1", "AA");
        store_txn *t;
        msglog_rec r = logged(o.seq, &t);
        if (!memmem(r.outcome.p, r.outcome.n, words[i], strlen(words[i])))
            fail_msg("case %zu: the log says '%.*s', not '%s'", i, (int)r.outcome.n, r.outcome.p,
                     words[i]);
        store_abort(t);
        if (i == 2)
            assert_get(&o.ack, "MSA-3", "MSH-10 is empty: no duplicate check was possible");
        done(&o);
    }
    g.cfg.strict = true;
    for (size_t i = 0; i < 3; i++) {
        outcome o = run(INGEST_FRAME, texts[i], 8000 + (int64_t)i);
        assert_int_equal(o.status, MSG_REJECTED);
        assert_get(&o.ack, "MSA-1", "AR");
        done(&o);
    }
    g.cfg.strict = false;
}

static void oversize_and_incomplete(void **state)
{
    (void)state;
    outcome o = run(INGEST_OVERSIZE, "MSH|^~\\&|RIS|H|RL|R|2026||ORM^O01|BIG1|P|2.5\rOBX|1|TX|||aaaa",
                    6000);
    assert_int_equal(o.status, MSG_REJECTED);
    assert_true(o.close_after);
    assert_get(&o.ack, "MSA-1", "AR");
    assert_get(&o.ack, "MSA-2", "BIG1");
    assert_non_null(strstr(get(&o.ack, "ERR-8", NULL), "more than 1048576 bytes"));
    done(&o);

    o = run(INGEST_INCOMPLETE, "MSH|^~\\&|RIS|H|RL|R|2026||ORM^O01|CUT|P|2.5\rPID|1", 7000);
    assert_int_equal(o.status, MSG_REJECTED);
    assert_false(o.has_ack);
    store_txn *t;
    msglog_rec r = logged(o.seq, &t);
    assert_non_null(strstr(r.error.p, "incomplete MLLP frame"));
    store_abort(t);
    done(&o);
}

/* ---- the message indexes ---- */

static void fold_names(void **state)
{
    (void)state;
    char out[64];
    msgidx_fold(rl_str_c("  M\xC3\xBCller^J\xC3\xBCrgen "), out, sizeof out);
    assert_string_equal(out, "MULLER^JURGEN");
    msgidx_fold(rl_str_c("Stra\xC3\x9F" "e^\xC3\x86lfric"), out, sizeof out);
    assert_string_equal(out, "STRASSE^AELFRIC");
    msgidx_fold(rl_str_c("\xC5\x81\xC3\xB3" "d\xC5\xBA"), out, sizeof out);
    assert_string_equal(out, "LODZ");
    msgidx_fold(rl_str_c("\xE5\xB1\xB1\xE7\x94\xB0^doe*"), out, sizeof out);
    assert_string_equal(out, "\xE5\xB1\xB1\xE7\x94\xB0^DOE*"); /* other scripts as they are */
}

static bool has(store_txn *t, const char *key, size_t n, uint64_t seq)
{
    store_cursor *c;
    rl_err err;
    assert_int_equal(store_cursor_open(t, STORE_MSG_IDX, &c, &err), STORE_OK);
    unsigned char v[8];
    rec_be64(seq, v);
    rl_str k = { key, n }, val = { (char *)v, 8 };
    bool found = store_cursor_get(c, STORE_BOTH, &k, &val) == STORE_OK;
    store_cursor_close(c);
    return found;
}

static void count_problem(void *ctx, const char *text)
{
    (void)text;
    (*(int *)ctx)++;
}

static void indexes(void **state)
{
    (void)state;
    const char *adt = "MSH|^~\\&|ADT|WARD|RL|RAD|20261123||ADT^A40|IX1|P|2.5\r"
                      "PID|1||X7^^^OTHER~P5^^^GENHOSP||Smith^Anna\rMRG|P4^^^GENHOSP\r"
                      "ORC|NW|PL1|FL1\rOBR|1|PL1|FL1|||||||||||||||ACC1\rZDS|1.2.3^RL\r";
    store_txn *t;
    rl_err err;
    uint64_t built = 0; /* as the engine does at its start (the earlier tests' messages) */
    assert_int_equal(msgidx_build(st, false, NULL, NULL, &built, &err), STORE_OK);
    outcome o = run(INGEST_FRAME, adt, 9000);
    assert_int_equal(o.status, MSG_ACCEPTED);
    assert_int_equal(store_begin(st, NULL, false, &t, &err), STORE_OK);
    assert_true(msgidx_ready(t));
    assert_true(has(t, "IX7\0OTHER", 9, o.seq));
    assert_true(has(t, "IP5\0GENHOSP", 11, o.seq));
    assert_true(has(t, "IP4\0GENHOSP", 11, o.seq));
    assert_true(has(t, "APL1", 4, o.seq));
    assert_true(has(t, "AFL1", 4, o.seq));
    assert_true(has(t, "AACC1", 5, o.seq));
    assert_true(has(t, "U1.2.3", 6, o.seq));
    assert_true(has(t, "NSMITH^ANNA", 11, o.seq));
    assert_true(has(t, "CIX1", 4, o.seq));
    assert_true(has(t, "TADT^A40", 8, o.seq));
    assert_true(has(t, "SADT\0WARD", 9, o.seq));
    int problems = 0;
    uint64_t entries = 0;
    assert_int_equal(msgidx_verify(t, count_problem, &problems, &entries, &err), STORE_OK);
    assert_int_equal(problems, 0);
    store_abort(t);

    /* a store from before the indexes: none, and no META msg.idx */
    assert_int_equal(store_begin(st, NULL, true, &t, &err), STORE_OK);
    assert_int_equal(store_drop(t, STORE_MSG_IDX, &err), STORE_OK);
    assert_int_equal(store_del(t, STORE_META, RL_STR("msg.idx"), (rl_str){ NULL, 0 }, &err),
                     STORE_OK);
    problems = 0;
    assert_int_equal(msgidx_verify(t, count_problem, &problems, &entries, &err), STORE_OK);
    assert_int_equal(problems, 1); /* not built yet */
    assert_int_equal(store_commit(t, &err), STORE_OK);
    assert_int_equal(msgidx_build(st, false, NULL, NULL, &built, &err), STORE_OK);
    assert_true(built >= 1);
    assert_int_equal(store_begin(st, NULL, true, &t, &err), STORE_OK);
    assert_true(msgidx_ready(t));
    assert_true(has(t, "IP4\0GENHOSP", 11, o.seq));
    problems = 0;
    assert_int_equal(msgidx_verify(t, count_problem, &problems, &entries, &err), STORE_OK);
    assert_int_equal(problems, 0);
    /* a lost entry and a stray one are both found */
    unsigned char v[8];
    rec_be64(o.seq, v);
    assert_int_equal(store_del(t, STORE_MSG_IDX, RL_STR("NSMITH^ANNA"), (rl_str){ (char *)v, 8 },
                               &err), STORE_OK);
    rec_be64(987654, v);
    assert_int_equal(store_put(t, STORE_MSG_IDX, RL_STR("Anowhere"), (rl_str){ (char *)v, 8 }, 0,
                               &err), STORE_OK);
    problems = 0;
    assert_int_equal(msgidx_verify(t, count_problem, &problems, &entries, &err), STORE_OK);
    assert_true(problems >= 2);
    store_abort(t);
    /* a second build finds nothing to do */
    assert_int_equal(msgidx_build(st, false, NULL, NULL, &built, &err), STORE_OK);
    assert_int_equal(built, 0);
    /* --reindex after a build that stopped half way starts at the beginning */
    assert_int_equal(store_begin(st, NULL, true, &t, &err), STORE_OK);
    rec_be64(99999, v);
    assert_int_equal(store_put(t, STORE_META, RL_STR("msg.idx.next"), (rl_str){ (char *)v, 8 }, 0,
                               &err), STORE_OK);
    assert_int_equal(store_commit(t, &err), STORE_OK);
    assert_int_equal(msgidx_build(st, true, NULL, NULL, &built, &err), STORE_OK);
    assert_int_equal(store_begin(st, NULL, false, &t, &err), STORE_OK);
    problems = 0;
    assert_int_equal(msgidx_verify(t, count_problem, &problems, &entries, &err), STORE_OK);
    assert_int_equal(problems, 0);
    assert_true(has(t, "IP4\0GENHOSP", 11, o.seq));
    store_abort(t);
    done(&o);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(accept_and_log),
        cmocka_unit_test(retransmission_and_conflict),
        cmocka_unit_test(rejections), cmocka_unit_test(habits),
        cmocka_unit_test(oversize_and_incomplete),
        cmocka_unit_test(fold_names), cmocka_unit_test(indexes),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
