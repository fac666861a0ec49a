/* Filing received instances (radlink/receive.h) between a DICOM thread and
 * the loop: a correction never replaces a copy that is arriving, duplicates
 * are refused by the loop when duplicates are refused, and a file the index
 * did not take does not stay in the spool. The loop's side is played here:
 * the test takes the thread's command and finishes it itself. */
#include "testutil.h"

#include <pthread.h>
#include <sys/stat.h>
#include <unistd.h>

#include "radlink/receive.h"
#include "radlink/store.h"

static char dir[RL_CFG_PATH_MAX], spool[RL_CFG_PATH_MAX + 16];
static store *st;
static cmdq *q;
static receiver r;

static int setup(void **state)
{
    (void)state;
    rl_err err;
    assert_non_null(test_dir(dir, sizeof dir, "receive"));
    store_opts o = { .map_size = 64u << 20 };
    if (store_open(dir, &o, &st, &err) != STORE_OK)
        fail_msg("open: %s", err.msg);
    assert_non_null(q = cmdq_new(&err));
    snprintf(spool, sizeof spool, "%s/spool", dir);
    assert_int_equal(mkdir(spool, 0750), 0);
    r = (receiver){ .st = st, .q = q, .lock = PTHREAD_MUTEX_INITIALIZER };
    snprintf(r.spool, sizeof r.spool, "%s", spool);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    cmdq_close(q, "done");
    cmdq_free(q);
    store_close(st);
    char rm[RL_CFG_PATH_MAX + 16];
    snprintf(rm, sizeof rm, "rm -rf %s", dir);
    return system(rm) == 0 ? 0 : -1;
}

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static void read_file(const char *path, char *out, size_t n)
{
    FILE *f = fopen(path, "r");
    out[0] = '\0';
    if (!f)
        return;
    size_t k = fread(out, 1, n - 1, f);
    out[k] = '\0';
    fclose(f);
}

static study_inst inst(const char *study, const char *sop)
{
    study_inst in;
    memset(&in, 0, sizeof in);
    snprintf(in.f[STUDY_F_STUDY_UID], sizeof in.f[0], "%s", study);
    snprintf(in.f[STUDY_F_SERIES_UID], sizeof in.f[0], "%s.1", study);
    snprintf(in.f[STUDY_F_SOP_UID], sizeof in.f[0], "%s", sop);
    snprintf(in.f[STUDY_F_PATIENT_ID], sizeof in.f[0], "P1");
    in.received_us = 1;
    return in;
}

/* A DICOM thread filing one instance. */
typedef struct filing {
    study_inst in;
    char tmp[RL_CFG_PATH_MAX + RL_UID_SIZE + 32], why[300];
    int rc;
    pthread_t th;
} filing;

static void *file_it(void *arg)
{
    filing *f = arg;
    f->rc = study_receive(&r, &f->in, f->tmp, NULL, f->why, sizeof f->why);
    return NULL;
}

static void start_filing(filing *f, const char *study, const char *sop, const char *content)
{
    f->in = inst(study, sop);
    snprintf(f->tmp, sizeof f->tmp, "%s/incoming-%s", spool, sop);
    write_file(f->tmp, content);
    assert_int_equal(pthread_create(&f->th, NULL, file_it, f), 0);
}

/* The loop's side: the thread's command, once it is posted. */
static cmd *take(void)
{
    for (int i = 0; i < 500; i++) {
        cmd *c = cmd_of(cmdq_take(q));
        if (c)
            return c;
        usleep(10 * 1000);
    }
    fail_msg("no command from the filing thread");
    return NULL;
}

/* Apply c as the loop does, in a transaction that commits. */
static int apply(cmd *c)
{
    rl_err err;
    store_txn *t;
    assert_int_equal(store_begin(st, NULL, true, &t, &err), STORE_OK);
    recon_out ro;
    int rc = study_receive_apply(t, c, 1, &ro, &err);
    if (rc == STORE_OK)
        assert_int_equal(store_commit(t, &err), STORE_OK);
    else
        store_abort(t);
    return rc;
}

static void correction_leaves_an_arriving_copy_alone(void **state)
{
    (void)state;
    filing f;
    start_filing(&f, "1.2.7", "1.2.7.1.1", "first");
    cmd *c = take();
    assert_int_equal(apply(c), STORE_OK);
    cmdq_finish(q, &c->q, 0, "");
    pthread_join(f.th, NULL);
    assert_int_equal(f.rc, 0);
    char path[600], copy[600], text[64];
    snprintf(path, sizeof path, "%s/1.2.7/1.2.7.1/1.2.7.1.1.dcm", spool);
    snprintf(copy, sizeof copy, "%s/corrected.dcm", dir);

    /* a new copy is being filed (renamed into the spool, not yet indexed):
     * the correction made from the old one must not replace it */
    start_filing(&f, "1.2.7", "1.2.7.1.1", "second");
    c = take();
    write_file(copy, "corrected");
    assert_int_equal(receiver_replace(&r, "1.2.7.1.1", copy, path), RECEIVER_ARRIVING);
    read_file(path, text, sizeof text);
    assert_string_equal(text, "second");
    assert_int_equal(apply(c), STORE_OK);
    cmdq_finish(q, &c->q, 0, "");
    pthread_join(f.th, NULL);
    assert_int_equal(f.rc, 0);

    /* once it is indexed, a correction may replace it */
    assert_int_equal(receiver_replace(&r, "1.2.7.1.1", copy, path), RECEIVER_REPLACED);
    read_file(path, text, sizeof text);
    assert_string_equal(text, "corrected");
    assert_int_equal(receiver_replace(&r, "1.2.7.1.1", copy, path), RECEIVER_NO_COPY);
}

static void loop_refuses_a_duplicate_filed_under_another_study(void **state)
{
    (void)state;
    r.refuse_duplicates = true;
    filing a, b;
    start_filing(&a, "1.2.8", "1.2.9.9", "from study 8");
    cmd *ca = take();
    /* the same instance under another study: another path, so the rename
     * does not collide; the loop sees the first one indexed */
    start_filing(&b, "1.2.9", "1.2.9.9", "from study 9");
    cmd *cb = take();
    assert_int_equal(apply(ca), STORE_OK);
    assert_int_equal(apply(cb), STORE_OK);
    assert_false(ca->duplicate);
    assert_true(cb->duplicate);
    cmdq_finish(q, &ca->q, ca->q.status, ca->q.text);
    cmdq_finish(q, &cb->q, cb->q.status, cb->q.text);
    pthread_join(a.th, NULL);
    pthread_join(b.th, NULL);
    assert_int_equal(a.rc, 0);
    assert_int_equal(b.rc, 1);
    assert_non_null(strstr(b.why, "already stored"));
    char pa[600], pb[600];
    snprintf(pa, sizeof pa, "%s/1.2.8/1.2.8.1/1.2.9.9.dcm", spool);
    snprintf(pb, sizeof pb, "%s/1.2.9/1.2.9.1/1.2.9.9.dcm", spool);
    assert_int_equal(access(pa, F_OK), 0);
    assert_int_not_equal(access(pb, F_OK), 0); /* the refused copy is gone */
}

static void file_the_index_did_not_take_goes(void **state)
{
    (void)state;
    filing f;
    start_filing(&f, "1.2.10", "1.2.10.1.1", "x");
    cmd *c = take();
    cmdq_finish(q, &c->q, STORE_E_FULL, "the store is full");
    pthread_join(f.th, NULL);
    assert_int_equal(f.rc, -1);
    assert_string_equal(f.why, "the store is full");
    char path[600];
    snprintf(path, sizeof path, "%s/1.2.10/1.2.10.1/1.2.10.1.1.dcm", spool);
    assert_int_not_equal(access(path, F_OK), 0);
}

static void replacement_the_index_refused_gives_the_old_copy_back(void **state)
{
    (void)state;
    filing f;
    start_filing(&f, "1.2.11", "1.2.11.1.1", "indexed");
    cmd *c = take();
    assert_int_equal(apply(c), STORE_OK);
    cmdq_finish(q, &c->q, 0, "");
    pthread_join(f.th, NULL);
    assert_int_equal(f.rc, 0);
    /* the same instance again, refused by the loop (a full store) */
    start_filing(&f, "1.2.11", "1.2.11.1.1", "refused");
    c = take();
    cmdq_finish(q, &c->q, STORE_E_FULL, "the store is full");
    pthread_join(f.th, NULL);
    assert_int_equal(f.rc, -1);
    char path[sizeof spool + 64], text[64], prev[sizeof f.tmp + 8];
    snprintf(path, sizeof path, "%s/1.2.11/1.2.11.1/1.2.11.1.1.dcm", spool);
    read_file(path, text, sizeof text);
    assert_string_equal(text, "indexed");
    snprintf(prev, sizeof prev, "%s.prev", f.tmp);
    assert_int_not_equal(access(prev, F_OK), 0);
    /* and taken when the loop takes it */
    start_filing(&f, "1.2.11", "1.2.11.1.1", "taken");
    c = take();
    assert_int_equal(apply(c), STORE_OK);
    cmdq_finish(q, &c->q, 0, "");
    pthread_join(f.th, NULL);
    assert_int_equal(f.rc, 0);
    read_file(path, text, sizeof text);
    assert_string_equal(text, "taken");
    assert_int_not_equal(access(prev, F_OK), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(correction_leaves_an_arriving_copy_alone, setup, teardown),
        cmocka_unit_test_setup_teardown(loop_refuses_a_duplicate_filed_under_another_study, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(file_the_index_did_not_take_goes, setup, teardown),
        cmocka_unit_test_setup_teardown(replacement_the_index_refused_gives_the_old_copy_back,
                                        setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
