/* The job state machine (radlink/job.h): every transition, the rules it
 * keeps whoever calls it, its indexes after a restart, and the job message
 * codec with hostile input. */
#include "testutil.h"

#include <sys/stat.h>
#include <unistd.h>

#include "radlink/job.h"
#include "radlink/job_msg.h"
#include "radlink/store.h"

static char dir[RL_CFG_PATH_MAX];
static store *st;
static store_txn *t;
static rl_err err;

static int setup(void **state)
{
    (void)state;
    assert_non_null(test_dir(dir, sizeof dir, "job"));
    store_opts o = { .map_size = 64u << 20 };
    if (store_open(dir, &o, &st, &err) != STORE_OK)
        fail_msg("open: %s", err.msg);
    assert_int_equal(store_begin(st, NULL, true, &t, &err), STORE_OK);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    store_abort(t);
    store_close(st);
    char cmd[RL_CFG_PATH_MAX + 16];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    return system(cmd) == 0 ? 0 : -1;
}

#define S1 RL_STR("1.2.3.1")
#define S2 RL_STR("1.2.3.2")

static uint64_t want(rl_str subject, int64_t not_before, int64_t now, bool *created)
{
    uint64_t id = 0;
    bool c;
    assert_int_equal(job_want(t, "study", subject, not_before, now, &id, &c, &err), STORE_OK);
    if (created)
        *created = c;
    return id;
}

static job get_job(uint64_t id)
{
    job j;
    assert_int_equal(job_get(t, id, &j, &err), STORE_OK);
    return j;
}

/* The first job that may start at `now`: 0 when none. */
static uint64_t due(int64_t now)
{
    uint64_t id;
    int64_t at;
    int rc = job_next_due(t, &id, &at, &err);
    if (rc == STORE_NOTFOUND || at > now)
        return 0;
    assert_int_equal(rc, STORE_OK);
    return id;
}

static uint32_t start(uint64_t id, int64_t now)
{
    job j;
    assert_int_equal(job_start(t, id, "worker 0", 7, 42, now, &j, &err), STORE_OK);
    assert_int_equal(j.state, JOB_RUNNING);
    return j.attempts;
}

static void want_waits_for_stability(void **state)
{
    (void)state;
    bool created;
    uint64_t a = want(S1, 5000, 0, &created);
    assert_true(created);
    assert_int_equal(due(4999), 0);   /* not before the study is stable */
    uint64_t b = want(S1, 9000, 1000, &created);
    assert_false(created);            /* one waiting job per study */
    assert_int_equal(b, a);
    assert_int_equal(due(8999), 0);   /* a new instance moved it */
    assert_int_equal(due(9000), a);
    assert_int_equal(get_job(a).due_us, 9000);
}

/* A job held back on purpose (an unmatched study's forward) is pulled in
 * when wanted sooner; a failed job's backoff and a running job are not. */
static void due_by_pulls_only_a_pending_job(void **state)
{
    (void)state;
    int64_t hour = 3600 * 1000000LL;
    uint64_t id = want(S1, hour, 0, NULL);
    assert_int_equal(due(1000), 0);
    assert_int_equal(job_due_by(t, id, 1000, 10, &err), STORE_OK);
    assert_int_equal(due(1000), id);
    assert_true(get_job(id).due_us == 1000);
    /* later is no change */
    assert_int_equal(job_due_by(t, id, hour, 20, &err), STORE_OK);
    assert_true(get_job(id).due_us == 1000);
    /* a failed job keeps its backoff */
    uint32_t a = start(id, 2000);
    assert_int_equal(job_fail(t, id, a, RL_STR("PACS down"), 5, 3000, NULL, &err), STORE_OK);
    int64_t backoff = get_job(id).due_us;
    assert_true(backoff > 3000);
    assert_int_equal(job_due_by(t, id, 3000, 3000, &err), STORE_OK);
    assert_true(get_job(id).due_us == backoff);
}

static void done_once_and_stale_outcomes(void **state)
{
    (void)state;
    uint64_t a = want(S1, 0, 0, NULL);
    uint32_t at = start(a, 10);
    assert_int_equal(at, 1);
    assert_int_equal(due(100), 0); /* running: not due */
    job j = get_job(a);
    assert_int_equal(j.gen, 7);
    assert_int_equal(j.upto, 42);
    assert_true(rl_str_eq_c(j.worker, "worker 0"));
    /* an outcome for another attempt changes nothing */
    assert_int_equal(job_done(t, a, 2, RL_STR("late"), 20, NULL, &err), JOB_E_STALE);
    assert_int_equal(job_fail(t, a, 0, RL_STR("late"), 5, 20, NULL, &err), JOB_E_STALE);
    assert_int_equal(get_job(a).state, JOB_RUNNING);
    assert_int_equal(job_done(t, a, 1, RL_STR("1 instance"), 30, &j, &err), STORE_OK);
    assert_int_equal(j.state, JOB_DONE);
    assert_true(rl_str_eq_c(j.result, "1 instance"));
    /* done: a late DONE of the same attempt is stale too */
    assert_int_equal(job_done(t, a, 1, RL_STR("again"), 40, NULL, &err), JOB_E_STALE);
    assert_true(rl_str_eq_c(get_job(a).result, "1 instance"));
}

static void follow_up_while_running(void **state)
{
    (void)state;
    uint64_t a = want(S1, 0, 0, NULL);
    start(a, 10);
    bool created;
    uint64_t b = want(S1, 50, 20, &created); /* instances while it runs */
    assert_true(created);
    assert_int_not_equal(b, a);
    uint64_t c = want(S1, 60, 30, &created);
    assert_false(created);                   /* one follow-up, not one per instance */
    assert_int_equal(c, b);
    assert_int_equal(due(1000), 0);          /* never two running for one study */
    uint64_t other = want(S2, 0, 0, NULL);
    assert_int_equal(due(1000), other);      /* another study is not held up */
    assert_int_equal(job_done(t, a, 1, RL_STR("ok"), 70, NULL, &err), STORE_OK);
    assert_int_equal(due(59), other);
    start(other, 80);
    assert_int_equal(due(1000), b);          /* the follow-up is due once the first ended */
}

static void fail_backoff_dead_retry(void **state)
{
    (void)state;
    uint64_t a = want(S1, 0, 0, NULL);
    int64_t now = 0;
    for (uint32_t n = 1; n <= 3; n++) {
        assert_int_equal(due(now), a);
        assert_int_equal(start(a, now), n);
        job j;
        assert_int_equal(job_fail(t, a, n, RL_STR("PACS down"), 3, now, &j, &err), STORE_OK);
        if (n < 3) {
            assert_int_equal(j.state, JOB_FAILED);
            int64_t backoff = (int64_t)(1u << n) * 1000000;
            assert_int_equal(j.due_us, now + backoff); /* 2, 4 ... s */
            assert_int_equal(due(now + backoff - 1), 0);
            now += backoff;
        } else {
            assert_int_equal(j.state, JOB_DEAD);
            assert_true(rl_str_eq_c(j.last_error, "PACS down"));
        }
    }
    assert_int_equal(due(INT64_MAX / 2), 0); /* dead: never due */
    bool created;
    uint64_t b = want(S1, 0, now, &created); /* new instances: a new job */
    assert_true(created);
    /* a job that is not dead or failed is not retried */
    uint64_t as;
    assert_int_equal(job_retry(t, b, now, &as, &err), JOB_E_STATE);
    /* the study waits with b already: retrying a folds it into b, due now */
    assert_int_equal(job_retry(t, a, now, &as, &err), STORE_OK);
    assert_int_equal(as, b);
    job j = get_job(a);
    assert_int_equal(j.state, JOB_DONE);
    assert_true(rl_str_eq_c(j.result, "retried as job 2"));
    assert_int_equal(due(now), b);
}

static void dead_job_retried_alone_runs_again(void **state)
{
    (void)state;
    uint64_t a = want(S1, 0, 0, NULL), as;
    assert_int_equal(start(a, 0), 1);
    assert_int_equal(job_fail(t, a, 1, RL_STR("PACS refused"), 1, 0, NULL, &err), STORE_OK);
    assert_int_equal(get_job(a).state, JOB_DEAD);
    assert_int_equal(job_retry(t, a, 5, &as, &err), STORE_OK);
    assert_int_equal(as, a);
    job j = get_job(a);
    assert_int_equal(j.state, JOB_PENDING);
    assert_int_equal(j.attempts, 0);
    assert_int_equal(due(5), a);
}

static void failed_job_and_follow_up_never_run_together(void **state)
{
    (void)state;
    uint64_t a = want(S1, 0, 0, NULL);
    start(a, 0);
    uint64_t b = want(S1, 0, 1, NULL); /* follow-up */
    assert_int_equal(job_fail(t, a, 1, RL_STR("x"), 5, 2, NULL, &err), STORE_OK);
    /* both may start now, one after the other, never together */
    uint64_t first = due(INT64_MAX / 2);
    assert_true(first == a || first == b);
    start(first, 10);
    assert_int_equal(due(INT64_MAX / 2), 0);
}

static void recover_after_a_crash(void **state)
{
    (void)state;
    uint64_t a = want(S1, 0, 0, NULL);
    start(a, 5);
    uint64_t b = want(S1, 0, 6, NULL);  /* its follow-up, blocked */
    uint64_t c = want(S2, 100, 0, NULL);
    unsigned n;
    assert_int_equal(job_recover(t, 1000, &n, &err), STORE_OK);
    assert_int_equal(n, 1);
    job j = get_job(a);
    assert_int_equal(j.state, JOB_PENDING);
    assert_int_equal(j.attempts, 1); /* the lost attempt counts */
    assert_true(rl_str_eq_c(j.last_error, "the engine stopped during attempt 1"));
    /* every waiting job is due again, one of each study at a time */
    uint64_t first = due(2000);
    assert_true(first == a || first == b || first == c);
    start(a, 2000);
    assert_int_equal(due(2000), c); /* S1's other job waits for a */
    (void)b;
}

static void message_round_trip_and_hostile_input(void **state)
{
    (void)state;
    job_file files[2] = { { RL_STR("1.2.3.1.1"), RL_STR("/spool/a.dcm"), 1 },
                          { RL_STR("1.2.3.1.2"), RL_STR("/spool/b.dcm"), 0 } };
    job_msg m = { .id = 9, .attempt = 2, .kind = RL_STR("study"), .subject = S1,
                  .work_dir = RL_STR("/spool/work/9-2"), .n_sets = 1, .n_pacs = 1,
                  .files = files, .n_files = 2, .n_progs = 1,
                  .secret = RL_STR("0123456789abcdef0123456789abcdef") };
    m.progs[0] = RL_STR("a program's bytes");
    m.sets[0] = (job_set){ 0x00100010, RL_STR("PatientName"), RL_STR("DOE^JANE") };
    m.pacs[0] = (job_peer){ RL_STR("PACS"), RL_STR("127.0.0.1"), 104, PACS_UPDATE_IOCM,
                            PACS_VERIFY_COMMIT_FIND, PACS_REJECT_SAFETY, 30, true,
                            RL_STR("/etc/radlink/ca.pem"), RL_STR(""), RL_STR(""), false, 3 };
    rl_buf b;
    rl_buf_init(&b, RL_JOB_MSG_MAX);
    assert_int_equal(job_msg_encode(&m, &b, &err), 0);
    rl_arena a;
    rl_arena_init(&a, 4096, 0);
    job_msg d;
    assert_int_equal(job_msg_decode(rl_buf_view(&b), &d, &a, &err), 0);
    assert_int_equal(d.id, 9);
    assert_int_equal(d.attempt, 2);
    assert_int_equal(d.n_files, 2);
    assert_true(rl_str_eq_c(d.files[1].path, "/spool/b.dcm"));
    assert_true(rl_str_eq_c(d.sets[0].value, "DOE^JANE"));
    assert_int_equal(d.pacs[0].port, 104);
    assert_int_equal(d.pacs[0].update, PACS_UPDATE_IOCM);
    assert_int_equal(d.pacs[0].verify, PACS_VERIFY_COMMIT_FIND);
    assert_int_equal(d.pacs[0].reject, PACS_REJECT_SAFETY);
    assert_int_equal(d.pacs[0].commit_timeout_s, 30);
    assert_true(d.pacs[0].tls);
    assert_true(rl_str_eq_c(d.pacs[0].tls_ca, "/etc/radlink/ca.pem"));
    assert_int_equal(d.pacs[0].tls_key.n, 0);
    assert_int_equal(d.pacs[0].associations, 3);
    assert_int_equal(d.files[0].prog, 1);
    assert_int_equal(d.files[1].prog, 0);
    assert_int_equal(d.n_progs, 1);
    assert_true(rl_str_eq_c(d.progs[0], "a program's bytes"));
    assert_true(rl_str_eq_c(d.secret, "0123456789abcdef0123456789abcdef"));
    /* every truncation is refused, none reads past the end */
    for (size_t n = 0; n < b.len; n++)
        assert_int_equal(job_msg_decode((rl_str){ b.data, n }, &d, &a, &err), JOB_E_PAYLOAD);
    /* trailing bytes, and a file count past what the bytes can hold */
    rl_buf_add_ch(&b, 'x');
    assert_int_equal(job_msg_decode(rl_buf_view(&b), &d, &a, &err), JOB_E_PAYLOAD);
    b.len--;
    /* after the files: u32 programs, one str of 17 bytes, the secret (str of 32) */
    size_t tail = 4 + (4 + 17) + (4 + 32);
    size_t count_at = b.len - tail - 2 * (4 + 9 + 4 + 12 + 4) - 4;
    char keep[4];
    memcpy(keep, b.data + count_at, 4);
    memcpy(b.data + count_at, "\xff\xff\xff\xff", 4);
    assert_int_equal(job_msg_decode(rl_buf_view(&b), &d, &a, &err), JOB_E_PAYLOAD);
    memcpy(b.data + count_at, keep, 4);
    /* a file naming a program the message does not carry */
    size_t prog_at = b.len - tail - (4 + 9 + 4 + 12 + 4) - 4;
    memcpy(b.data + prog_at, "\0\0\0\x02", 4);
    assert_int_equal(job_msg_decode(rl_buf_view(&b), &d, &a, &err), JOB_E_PAYLOAD);
    memcpy(b.data + prog_at, "\0\0\0\x01", 4);
    assert_int_equal(job_msg_decode(rl_buf_view(&b), &d, &a, &err), 0);
    rl_arena_free(&a);
    rl_buf_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(want_waits_for_stability, setup, teardown),
        cmocka_unit_test_setup_teardown(done_once_and_stale_outcomes, setup, teardown),
        cmocka_unit_test_setup_teardown(due_by_pulls_only_a_pending_job, setup, teardown),
        cmocka_unit_test_setup_teardown(follow_up_while_running, setup, teardown),
        cmocka_unit_test_setup_teardown(fail_backoff_dead_retry, setup, teardown),
        cmocka_unit_test_setup_teardown(dead_job_retried_alone_runs_again, setup, teardown),
        cmocka_unit_test_setup_teardown(failed_job_and_follow_up_never_run_together, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(recover_after_a_crash, setup, teardown),
        cmocka_unit_test(message_round_trip_and_hostile_input),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
