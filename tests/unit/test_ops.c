/* The operator plane (radlink/ops.h, radlink/view.h): a verb's arguments
 * parsed the same from every caller, written back as the words the control
 * socket carries, explained by --help; a view rendered as the CLI's text and
 * the API's JSON from the same calls, patient data out of JSON lists. */
#include "testutil.h"

#include "radlink/ops.h"
#include "radlink/view.h"

static const char *const colours[] = { "red", "green", NULL };

static const op_arg args[] = {
    { "ID", OPT_U64, OPA_POS, NULL, NULL, 1, 1000, .alt = "all" },
    { "all", OPT_FLAG, 0, NULL, "every one" },
    { "colour", OPT_CHOICE, 0, "C", "red or green", .choices = colours, .shorthand = 'c' },
    { "limit", OPT_U64, 0, "N", "at most N", 1, 100, .web_max = 10 },
    { "since", OPT_SINCE, 0, "WHEN", "from then" },
    { "routes", OPT_FILE, 0, "FILE", "these routes" },
    { 0 },
};

static int run_nothing(op_call *c)
{
    (void)c;
    return OP_OK;
}

static const op_verb verbs[] = {
    { "thing", .summary = "things" },
    { "thing", "poke", args, 1, OP_WRITES | OP_DATA, "poke a thing", .usage = "expected ID, or --all",
      .run = run_nothing },
    { "alone", NULL, NULL, 0, OP_LOCAL, "a noun that is a verb", .run = run_nothing },
    { 0 },
};

static int parse(const char *const *words, int n, op_vals *vals, char *why)
{
    return ops_parse(&verbs[1], n, (char *const *)words, vals, why, 256);
}

static void test_find(void **state)
{
    (void)state;
    int used = 0;
    char *w1[] = { "thing", "poke", "5" }, *w2[] = { "alone", "x" }, *w3[] = { "thing" };
    assert_ptr_equal(ops_find(verbs, 3, w1, &used), &verbs[1]);
    assert_int_equal(used, 2);
    assert_ptr_equal(ops_find(verbs, 2, w2, &used), &verbs[2]);
    assert_int_equal(used, 1);
    assert_null(ops_find(verbs, 1, w3, &used)); /* a noun's summary row is not a verb */
}

static void test_parse(void **state)
{
    (void)state;
    op_vals v;
    char why[256];
    const char *ok[] = { "7", "-c", "green", "--limit=9", "--data", "/d" };
    assert_int_equal(parse(ok, 6, &v, why), OP_OK);
    assert_int_equal(v.v[0].u, 7);
    assert_string_equal(v.v[2].s, "green");
    assert_int_equal(v.v[3].u, 9);
    assert_true(v.v[6].set); /* --data, which OP_DATA adds */
    const char *abbrev[] = { "--al" }; /* a unique prefix, as getopt_long */
    assert_int_equal(parse(abbrev, 1, &v, why), OP_OK);
    assert_true(v.v[1].set);
    const char *both[] = { "7", "--all" };
    assert_int_equal(parse(both, 2, &v, why), OP_USAGE);
    assert_string_equal(why, "expected ID, or --all");
    const char *neither[] = { "--colour", "red" };
    assert_int_equal(parse(neither, 2, &v, why), OP_USAGE);
    const char *bad[] = { "--colour", "blue", "--all" };
    assert_int_equal(parse(bad, 3, &v, why), OP_USAGE);
    assert_string_equal(why, "--colour must be red or green");
    const char *big[] = { "--limit", "101", "--all" };
    assert_int_equal(parse(big, 3, &v, why), OP_USAGE);
    assert_string_equal(why, "--limit: '101' is not a number from 1 to 100");
    const char *unknown[] = { "--bogus" };
    assert_int_equal(parse(unknown, 1, &v, why), OP_USAGE);
    assert_string_equal(why, "unknown option '--bogus'");
    const char *novalue[] = { "--all", "--limit" };
    assert_int_equal(parse(novalue, 2, &v, why), OP_USAGE);
    assert_string_equal(why, "option '--limit' needs a value");
    const char *when[] = { "--all", "--since", "yesterday" };
    assert_int_equal(parse(when, 3, &v, why), OP_USAGE);
    const char *age[] = { "--all", "--since", "2h" };
    assert_int_equal(parse(age, 3, &v, why), OP_OK);
    int64_t ago = rl_now_us() - v.v[4].us;
    assert_true(ago >= 7200000000LL && ago < 7300000000LL);
}

static void test_web_bounds(void **state)
{
    (void)state;
    op_vals v;
    char why[256];
    memset(&v, 0, sizeof v);
    /* an HTTP request names the argument as its key and has its own cap */
    assert_int_equal(ops_set(&verbs[1], "limit", "50", true, &v, why, sizeof why), OP_USAGE);
    assert_string_equal(why, "limit: '50' is not a number from 1 to 10");
    assert_int_equal(ops_set(&verbs[1], "limit", "50", false, &v, why, sizeof why), OP_OK);
}

static void test_canonical_words(void **state)
{
    (void)state;
    op_vals v;
    char why[256];
    const char *in[] = { "--routes", "/r.xml", "--data", "/d", "9", "--all", "-c", "red" };
    assert_int_equal(parse(in, 8, &v, why), OP_USAGE); /* ID and --all */
    const char *in2[] = { "--routes", "/r.xml", "--data", "/d", "9", "-c", "red" };
    assert_int_equal(parse(in2, 7, &v, why), OP_OK);
    char *out[RL_CTL_MAX_ARGS];
    rl_buf buf;
    rl_buf_init(&buf, 0);
    int n = ops_argv(&verbs[1], &v, out, &buf);
    /* --data stays where it was named (OPA_LOCAL); positionals last */
    const char *want[] = { "thing", "poke", "--colour", "red", "--routes", "/r.xml", "9" };
    assert_int_equal(n, 7);
    for (int i = 0; i < n; i++)
        assert_string_equal(out[i], want[i]);
    /* and they parse back to the same request */
    op_vals again;
    assert_int_equal(ops_parse(&verbs[1], n - 2, out + 2, &again, why, sizeof why), OP_OK);
    assert_int_equal(again.v[0].u, 9);
    assert_string_equal(again.v[2].s, "red");
    rl_buf_free(&buf);
}

static void test_help(void **state)
{
    (void)state;
    rl_buf h;
    rl_buf_init(&h, 0);
    ops_help(&verbs[1], "radlink thing poke", &h);
    rl_buf_cstr(&h);
    assert_non_null(strstr(h.data, "usage: radlink thing poke [OPTIONS] [ID]"));
    assert_non_null(strstr(h.data, "  -c, --colour C    red or green\n"));
    assert_non_null(strstr(h.data, "  --data DIR"));
    assert_non_null(strstr(h.data, "  -h, --help"));
    rl_buf_free(&h);
}

/* ---- views ---- */

static const view_field F_ID = { "id", "ID", 4 };
static const view_field F_NAME = { "name", "NAME", 10, 0, "name", VIEW_PHI };
static const view_field F_NOTE = { NULL, "NOTE", 0, 5 };
static const view_field F_WHEN = { "when", NULL, 0, 0, "when", VIEW_DASH };
static const view_field *const cols[] = { &F_ID, &F_NAME, &F_NOTE, NULL };

static void record(view *v, uint64_t id, const char *name, const char *note)
{
    view_u64(v, &F_ID, id);
    view_cstr(v, &F_NAME, name);
    view_cstr(v, &F_NOTE, note);
    view_time(v, &F_WHEN, 0);
}

static void list(view *v)
{
    view_list(v, "things", cols);
    view_row(v);
    record(v, 1, "DOE^JANE", "a long note");
    view_row_end(v);
    view_list_end(v);
}

static void test_view_text(void **state)
{
    (void)state;
    view *v = view_new(VIEW_TEXT);
    list(v);
    rl_str t = view_text(v);
    assert_int_equal(t.n, strlen("ID   NAME       NOTE\n1    DOE^JANE   a lon\n"));
    assert_memory_equal(t.p, "ID   NAME       NOTE\n1    DOE^JANE   a lon\n", t.n);
    view_free(v);
    v = view_new(VIEW_TEXT);
    view_detail(v, 6);
    record(v, 1, "DOE^JANE", "");
    view_detail_end(v);
    t = view_text(v);
    assert_memory_equal(t.p, "  name   DOE^JANE\n  when   -\n", t.n);
    view_free(v);
}

static void test_view_json(void **state)
{
    (void)state;
    view *v = view_new(VIEW_JSON);
    list(v);
    view_obj(v, "detail");
    record(v, 2, "DOE^JOHN", "");
    view_obj_end(v);
    json_t *j = view_take_json(v);
    char *s = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS);
    /* the list row leaves the name out (patient data); the detail has it;
     * text-only fields are absent; a zero time is null */
    assert_string_equal(s, "{\"detail\":{\"id\":2,\"name\":\"DOE^JOHN\",\"when\":null},"
                           "\"things\":[{\"id\":1,\"when\":null}]}");
    free(s);
    json_decref(j);
    view_free(v);
}

static void test_view_fail(void **state)
{
    (void)state;
    view *v = view_new(VIEW_TEXT);
    assert_int_equal(view_fail(v, OP_NOTFOUND, "no thing %d", 5), OP_NOTFOUND);
    assert_string_equal(view_failure(v), "no thing 5");
    assert_int_equal(ops_exit_code(OP_NOTFOUND), 1);
    assert_int_equal(ops_http_status(&verbs[1], OP_NOTFOUND), 404);
    assert_int_equal(ops_http_status(&verbs[1], OP_FAIL), 409);
    view_free(v);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_find),       cmocka_unit_test(test_parse),
        cmocka_unit_test(test_web_bounds), cmocka_unit_test(test_canonical_words),
        cmocka_unit_test(test_help),       cmocka_unit_test(test_view_text),
        cmocka_unit_test(test_view_json),  cmocka_unit_test(test_view_fail),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
