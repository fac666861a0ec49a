/* The routing core: every loader error names file:line and what was expected;
 * every condition, transform and action does what routes/README.md says; the
 * trace shows each decision; forward queues in the caller's transaction. */
#include "testutil.h"

#include <unistd.h>

#include "radlink/queue.h"
#include "radlink/route.h"

/* A small order with a repeated PID-3, a person name, dates and two OBR. */
static const char ORDER[] =
    "MSH|^~\\&|RIS|RAD|RADLINK|HOSP|20261122093000||ORM^O01^ORM_O01|CTRL001|P|2.5.1||||||8859/1\r"
    "PID|1||12345^^^HOSP^MR~99887^^^STATE^SS||doe^jane^marie^jr^dr||19700304|F\r"
    "PV1|1|O\r"
    "ORC|NW|ORD1|FIL1||SC\r"
    "OBR|1|ORD1|FIL1|CTCHEST^CT chest^L|||20261122101500|||||||||||ACC1||||||CT\r"
    "OBR|2|ORD1|FIL1|CTABD^CT abdomen^L|||20261122103000|||||||||||ACC2||||||CT\r"
    "NTE|1||\"\"\r";

static const char *head = "<?xml version=\"1.0\"?>\n";

static route_set *load(const char *body, rl_buf *errors)
{
    rl_buf text;
    rl_buf_init(&text, 0);
    rl_buf_printf(&text, "%s%s", head, body);
    route_set *rs = NULL;
    int rc = route_load_mem("t.xml", text.data, text.len, NULL, &rs, errors);
    rl_buf_free(&text);
    return rc == ROUTE_OK ? rs : NULL;
}

static route_set *load_ok(const char *body)
{
    rl_buf errors;
    rl_buf_init(&errors, 0);
    route_set *rs = load(body, &errors);
    if (!rs)
        fail_msg("load failed: %.*s", (int)errors.len, errors.data);
    rl_buf_free(&errors);
    return rs;
}

/* Loading body must fail with an error containing want (and file:line). */
static void load_fails(const char *body, const char *want)
{
    rl_buf errors;
    rl_buf_init(&errors, 0);
    route_set *rs = load(body, &errors);
    rl_buf_cstr(&errors);
    if (rs)
        fail_msg("loaded, expected an error with '%s'", want);
    if (!strstr(errors.data, want))
        fail_msg("errors lack '%s':\n%s", want, errors.data);
    if (strncmp(errors.data, "t.xml:", 6) != 0)
        fail_msg("error does not start with file:line: %s", errors.data);
    rl_buf_free(&errors);
}

typedef struct run {
    route_result res;
    rl_buf trace;
    tmsg t;
    int rc;
} run;

static int hook_calls;
static int ok_hook(route_env *env, hl7_msg *m, rl_buf *trace)
{
    (void)env;
    (void)m;
    hook_calls++;
    if (trace)
        rl_buf_add_c(trace, "      hook ran\n");
    return ROUTE_OK;
}

static int failing_hook(route_env *env, hl7_msg *m, rl_buf *trace)
{
    (void)m;
    (void)trace;
    snprintf(env->fail_text, sizeof env->fail_text, "PID-3 has no patient ID");
    env->fail_errcode = HL7_ERR_REQUIRED_MISSING;
    rl_err err;
    env->has_fail_at = hl7_path_parse(RL_STR("PID-3"), &env->fail_at, &err) == HL7_OK;
    return ROUTE_E_ACTION;
}

static void eval_msg(const char *routes, const char *msg, run *r, route_env *env)
{
    route_set *rs = load_ok(routes);
    tmsg_text(&r->t, msg);
    rl_buf_init(&r->trace, 0);
    route_env local = { .dry_run = true, .now_us = 1795340000ll * 1000000 };
    if (!env)
        env = &local;
    r->rc = route_eval(rs, &r->t.m, env, &r->res, &r->trace);
    rl_buf_cstr(&r->trace);
    route_free(rs);
}

static void run_free(run *r)
{
    rl_buf_free(&r->trace);
    tmsg_free(&r->t);
}

/* A route file with one route: match ORM, the given <when> body, accept. */
static bool when_holds(const char *cond)
{
    char body[4096];
    snprintf(body, sizeof body,
             "<routes default=\"reject\" default-text=\"nothing\">"
             "<route name=\"r\"><match type=\"ORM^O01\"/><when>%s</when><accept/></route>"
             "</routes>",
             cond);
    run r;
    eval_msg(body, ORDER, &r, NULL);
    assert_int_equal(r.rc, ROUTE_OK);
    bool ok = r.res.accept;
    run_free(&r);
    return ok;
}

/* Apply transforms and return the value at path afterwards (decoded). */
static char *after_xform(const char *tables, const char *xf, const char *path)
{
    char body[4096];
    snprintf(body, sizeof body,
             "<routes>%s<route name=\"r\"><transform>%s</transform><accept/></route></routes>",
             tables, xf);
    run r;
    eval_msg(body, ORDER, &r, NULL);
    assert_int_equal(r.rc, ROUTE_OK);
    if (!r.res.accept)
        fail_msg("transform failed: %s\n%s", r.res.text, r.trace.data);
    hl7_path p;
    rl_err err;
    assert_int_equal(hl7_path_parse(rl_str_c(path), &p, &err), HL7_OK);
    rl_str v = { "", 0 };
    int k = hl7_get(&r.t.m, &p, &v, &err);
    char *out = k == HL7_ABSENT ? strdup("(absent)") : strndup(v.p, v.n);
    run_free(&r);
    return out;
}

static void expect_xform(const char *tables, const char *xf, const char *path, const char *want)
{
    char *got = after_xform(tables, xf, path);
    if (strcmp(got, want) != 0)
        fail_msg("%s after %s: got '%s', want '%s'", path, xf, got, want);
    free(got);
}

/* ---- loader ---- */

static void test_load_summary(void **state)
{
    (void)state;
    route_set *rs = load_ok(
        "<routes>"
        "<destination name=\"pacs-ris\" host=\"127.0.0.1\" port=\"2576\"/>"
        "<table name=\"mod\"><entry key=\"CT\" value=\"CT\"/></table>"
        "<route name=\"a\"><match type=\"ORM^O01\"/><forward to=\"pacs-ris\"/></route>"
        "<route name=\"b\"><accept/></route>"
        "</routes>");
    assert_int_equal(route_count(rs), 2);
    size_t n;
    const route_dest *d = route_dests(rs, &n);
    assert_int_equal(n, 1);
    assert_string_equal(d[0].name, "pacs-ris");
    assert_int_equal(d[0].port, 2576);
    assert_int_equal(d[0].ack_timeout_s, 30);
    assert_int_equal(strlen(route_sha256(rs)), 64);
    assert_string_equal(route_source(rs), "t.xml");
    assert_int_equal(route_table_find(rs, "mod"), 0);
    assert_int_equal(route_table_find(rs, "nope"), -1);
    route_free(rs);
}

static void test_load_errors(void **state)
{
    (void)state;
    load_fails("<routes><route name=\"a\"><bogus/></route></routes>", "bogus");
    load_fails("<routes><route name=\"a\"><when><equals path=\"PID-0\" value=\"x\"/></when>"
               "</route></routes>",
               "<equals>: path");
    load_fails("<routes><route name=\"a\"><when><equals path=\"PID\" value=\"x\"/></when>"
               "</route></routes>",
               "path: PID names a segment, not a field");
    load_fails("<routes><route name=\"a\"><when><matches path=\"PID-3\" regex=\"([a-\"/>"
               "</when></route></routes>",
               "regex");
    load_fails("<routes><route name=\"a\"><transform><map path=\"OBR-4\" table=\"nope\"/>"
               "</transform></route></routes>",
               "unknown table 'nope'");
    load_fails("<routes><route name=\"a\"><forward to=\"nowhere\"/></route></routes>",
               "unknown destination 'nowhere'");
    load_fails("<routes><route name=\"a\"><accept/></route><route name=\"a\"><accept/></route>"
               "</routes>",
               "route name 'a' is used twice");
    load_fails("<routes><table name=\"t\"/><table name=\"t\"/></routes>",
               "table 't' is defined twice");
    load_fails("<routes><destination name=\"d\" host=\"h\" port=\"1\"/>"
               "<destination name=\"d\" host=\"h\" port=\"2\"/></routes>",
               "destination 'd' is defined twice");
    load_fails("<routes><route name=\"a\"><when><before path=\"PID-7\" value=\"yesterday\"/>"
               "</when></route></routes>",
               "yesterday");
    load_fails("<routes><route name=\"a\"><transform><date path=\"PID-7\" format=\"yyyy-QQ\"/>"
               "</transform></route></routes>",
               "yyyy-QQ");
    load_fails("<routes><route name=\"a\"><transform><name path=\"PID-5\" format=\"{surname}\"/>"
               "</transform></route></routes>",
               "surname");
    load_fails("<routes><table name=\"t\" file=\"does-not-exist.csv\"/></routes>",
               "does-not-exist.csv");
    load_fails("<routes><table name=\"t\"><entry key=\"a\" value=\"1\"/><entry key=\"a\" "
               "value=\"2\"/></table></routes>",
               "'a'");
    load_fails("<routes><route name=\"a\"><reject text=\"x\"/><accept/></route></routes>",
               "never runs");
    load_fails("<routes default=\"maybe\"/>", "maybe");
    /* past a day is an error, not the default it used to become */
    load_fails("<routes><destination name=\"d\" host=\"h\" port=\"1\" ack-timeout=\"90000\"/>"
               "</routes>",
               "ack-timeout=\"90000\": seconds from 0 to 86400");
    /* not XML at all */
    load_fails("<routes><route name=\"a\">", "t.xml:");
}

static void test_load_error_line(void **state)
{
    (void)state;
    rl_buf errors;
    rl_buf_init(&errors, 0);
    route_set *rs = load("<routes>\n<route name=\"a\">\n<forward to=\"x\"/>\n</route>\n</routes>",
                         &errors);
    assert_null(rs);
    rl_buf_cstr(&errors);
    /* the XML declaration is line 1, <routes> line 2, <forward> line 4 */
    if (!strstr(errors.data, "t.xml:4: <forward>"))
        fail_msg("%s", errors.data);
    rl_buf_free(&errors);
}

static void test_csv_table(void **state)
{
    (void)state;
    char dir[RL_CFG_PATH_MAX];
    assert_non_null(test_dir(dir, sizeof dir, "route"));
    char csv[RL_CFG_PATH_MAX + 32], xml[RL_CFG_PATH_MAX + 32];
    snprintf(csv, sizeof csv, "%s/codes.csv", dir);
    snprintf(xml, sizeof xml, "%s/r.xml", dir);
    FILE *f = fopen(csv, "w");
    fputs("code,modality\nCTCHEST,CT\n\"MR,HEAD\",MR\nXR1,\"D\"\"X\"\n", f);
    fclose(f);
    f = fopen(xml, "w");
    fputs("<routes><table name=\"m\" file=\"codes.csv\" header=\"true\" default=\"OT\"/>"
          "</routes>",
          f);
    fclose(f);
    rl_buf errors;
    rl_buf_init(&errors, 0);
    route_set *rs = NULL;
    if (route_load(xml, NULL, &rs, &errors) != ROUTE_OK)
        fail_msg("%.*s", (int)errors.len, errors.data);
    int t = route_table_find(rs, "m");
    assert_string_equal(route_table_get(rs, t, RL_STR("CTCHEST")), "CT");
    assert_string_equal(route_table_get(rs, t, RL_STR("MR,HEAD")), "MR");
    assert_string_equal(route_table_get(rs, t, RL_STR("XR1")), "D\"X");
    assert_string_equal(route_table_get(rs, t, RL_STR("unknown")), "OT");
    /* the header line is not an entry: its key falls to the default */
    assert_string_equal(route_table_get(rs, t, RL_STR("code")), "OT");
    route_free(rs);
    /* a broken CSV names the file and line */
    f = fopen(csv, "w");
    fputs("a,1\nb\n", f);
    fclose(f);
    rl_buf_reset(&errors);
    assert_int_equal(route_load(xml, NULL, &rs, &errors), ROUTE_E_LOAD);
    rl_buf_cstr(&errors);
    if (!strstr(errors.data, "codes.csv:2"))
        fail_msg("%s", errors.data);
    rl_buf_free(&errors);
    char cmd[RL_CFG_PATH_MAX + 16];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    assert_int_equal(system(cmd), 0);
}

/* ---- match ---- */

static void test_match(void **state)
{
    (void)state;
    struct {
        const char *match;
        bool want;
    } cases[] = {
        { "type=\"ORM^O01\"", true },      { "type=\"ORM^O0*\"", true },
        { "type=\"ORM\"", true },          { "type=\"ORM^O01^ORM_O01\"", true },
        { "type=\"ADT^A0*\"", false },     { "type=\"ORM^O02\"", false },
        { "version=\"2.5*\"", true },      { "version=\"2.3\"", false },
        { "application=\"RIS\"", true },   { "application=\"EHR\"", false },
        { "facility=\"R?D\"", true },      { "type=\"ORM^*\" facility=\"XX\"", false },
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        char body[512];
        snprintf(body, sizeof body,
                 "<routes default=\"reject\"><route name=\"r\"><match %s/><accept/></route>"
                 "</routes>",
                 cases[i].match);
        run r;
        eval_msg(body, ORDER, &r, NULL);
        if (r.res.accept != cases[i].want)
            fail_msg("match %s: got %d\n%s", cases[i].match, r.res.accept, r.trace.data);
        run_free(&r);
    }
}

/* ---- conditions ---- */

static void test_cond_equals_in_matches(void **state)
{
    (void)state;
    assert_true(when_holds("<equals path=\"PID-3.1\" value=\"12345\"/>"));
    assert_true(when_holds("<equals path=\"PID-3.1\" value=\"99887\"/>")); /* any repetition */
    assert_false(when_holds("<equals path=\"PID-3[1].1\" value=\"99887\"/>"));
    assert_false(when_holds("<equals path=\"PID-5.1\" value=\"DOE\"/>"));
    assert_true(when_holds("<equals path=\"PID-5.1\" value=\"DOE\" ignore-case=\"true\"/>"));
    assert_true(when_holds("<in path=\"PID-8\" values=\"M F O\"/>"));
    assert_true(when_holds("<in path=\"PID-8\"><value>X</value><value>F</value></in>"));
    assert_false(when_holds("<in path=\"PID-8\" values=\"M U\"/>"));
    assert_true(when_holds("<in path=\"PID-8\" values=\"m f\" ignore-case=\"true\"/>"));
    assert_true(when_holds("<matches path=\"OBR-4.1\" regex=\"^CT[A-Z]+$\"/>"));
    assert_false(when_holds("<matches path=\"OBR-4.1\" regex=\"^MR\"/>"));
    assert_true(when_holds("<matches path=\"PID-5.1\" regex=\"^DOE$\" ignore-case=\"true\"/>"));
    assert_true(when_holds("<matches path=\"OBR[2]-4.1\" regex=\"ABD\"/>"));
}

static void test_cond_exists_empty_null(void **state)
{
    (void)state;
    assert_true(when_holds("<exists path=\"PID-7\"/>"));
    assert_false(when_holds("<exists path=\"PID-9\"/>"));
    assert_false(when_holds("<exists path=\"ZDS-1\"/>"));
    assert_true(when_holds("<empty path=\"PID-9\"/>"));
    assert_true(when_holds("<empty path=\"ZDS-1\"/>"));
    assert_false(when_holds("<empty path=\"PID-8\"/>"));
    assert_true(when_holds("<null path=\"NTE-3\"/>"));
    assert_false(when_holds("<null path=\"PID-8\"/>"));
    assert_false(when_holds("<exists path=\"NTE-3\"/>")); /* "" is not a value */
    assert_true(when_holds("<empty path=\"NTE-3\"/>"));
}

static void test_cond_dates(void **state)
{
    (void)state;
    assert_true(when_holds("<before path=\"PID-7\" value=\"19800101\"/>"));
    assert_false(when_holds("<after path=\"PID-7\" value=\"19800101\"/>"));
    assert_true(when_holds("<after path=\"OBR-7\" value=\"20261122101000\"/>"));
    assert_false(when_holds("<after path=\"OBR[1]-7\" value=\"20261122101500\"/>"));
    /* now = 2026-11-22 (1795340000 s, any local zone within a day) */
    assert_true(when_holds("<before path=\"PID-7\" value=\"today-18250d\"/>"));
    assert_true(when_holds("<after path=\"OBR-7\" value=\"today-30d\"/>"));
    assert_false(when_holds("<after path=\"OBR-7\" value=\"now+30d\"/>"));
    /* a value that is not a date never satisfies a comparison */
    assert_false(when_holds("<before path=\"PID-5\" value=\"30000101\"/>"));
    assert_false(when_holds("<after path=\"PID-9\" value=\"19000101\"/>"));
}

static void test_cond_logic(void **state)
{
    (void)state;
    assert_true(when_holds("<all><exists path=\"PID-3\"/><equals path=\"PID-8\" value=\"F\"/></all>"));
    assert_false(when_holds("<all><exists path=\"PID-3\"/><equals path=\"PID-8\" value=\"M\"/></all>"));
    assert_true(when_holds("<any><equals path=\"PID-8\" value=\"M\"/><exists path=\"PID-7\"/></any>"));
    assert_false(when_holds("<any><equals path=\"PID-8\" value=\"M\"/><exists path=\"PID-9\"/></any>"));
    assert_true(when_holds("<not><equals path=\"PID-8\" value=\"M\"/></not>"));
    assert_false(when_holds("<not><exists path=\"PID-3\"/></not>"));
    /* several conditions directly under <when> must all hold */
    assert_false(when_holds("<exists path=\"PID-3\"/><exists path=\"PID-9\"/>"));
    assert_true(when_holds(
        "<any><not><exists path=\"PID-3\"/></not><all><in path=\"OBR-24\" values=\"CT MR\"/>"
        "<matches path=\"OBR-18\" regex=\"^ACC[0-9]$\"/></all></any>"));
}

static void test_cond_trace(void **state)
{
    (void)state;
    run r;
    eval_msg("<routes><route name=\"females\"><match type=\"ORM^O01\"/><when>"
             "<equals path=\"PID-8\" value=\"M\"/></when><accept/></route>"
             "<route name=\"rest\"><log text=\"other\"/></route></routes>",
             ORDER, &r, NULL);
    const char *tr = r.trace.data;
    if (!strstr(tr, "route 'females' (t.xml:2)") || !strstr(tr, "equals PID-8 \"F\" = \"M\": no") ||
        !strstr(tr, "=> not taken") || !strstr(tr, "route 'rest'") || !strstr(tr, "log \"other\"") ||
        !strstr(tr, "result: AA"))
        fail_msg("%s", tr);
    assert_true(r.res.accept);
    run_free(&r);
}

/* ---- transforms ---- */

static void test_xform_set_copy_delete(void **state)
{
    (void)state;
    expect_xform("", "<set path=\"PV1-2\" value=\"I\"/>", "PV1-2", "I");
    expect_xform("", "<set path=\"ZXT-1\" value=\"new\"/>", "ZXT-1", "new"); /* appended */
    expect_xform("", "<set path=\"PID-5.2\" value=\"JOHN|X\"/>", "PID-5.2", "JOHN|X");
    expect_xform("", "<set path=\"PID-5.2\" value=\"JOHN|X\"/>", "PID-5.3", "marie");
    expect_xform("", "<copy from=\"OBR-18\" to=\"PID-9\"/>", "PID-9", "ACC1");
    expect_xform("", "<copy from=\"PID-3[2].1\" to=\"PV1-19\"/>", "PV1-19", "99887");
    expect_xform("", "<delete path=\"PID-3\"/>", "PID-3.1", "");
    expect_xform("", "<delete path=\"NTE\"/>", "NTE-1", "(absent)");
    expect_xform("", "<delete path=\"OBR[1]\"/>", "OBR-4.1", "CTABD");
    expect_xform("", "<delete path=\"OBR\"/>", "OBR-4.1", "(absent)");
}

static void test_xform_map(void **state)
{
    (void)state;
    const char *tables =
        "<table name=\"m\" default=\"OT\"><entry key=\"CTCHEST\" value=\"CT\"/>"
        "<entry key=\"CTABD\" value=\"CT2\"/></table>"
        "<table name=\"n\" ignore-case=\"true\"><entry key=\"f\" value=\"FEMALE\"/></table>";
    expect_xform(tables, "<map path=\"OBR-4.1\" table=\"m\"/>", "OBR-4.1", "CT");
    expect_xform(tables, "<map path=\"OBR-4.1\" table=\"m\" to=\"OBR-24\"/>", "OBR-24", "CT");
    expect_xform(tables, "<map path=\"OBR[2]-4.1\" table=\"m\"/>", "OBR[2]-4.1", "CT2");
    expect_xform(tables, "<map path=\"PID-8\" table=\"m\"/>", "PID-8", "OT");  /* table default */
    expect_xform(tables, "<map path=\"PID-8\" table=\"n\"/>", "PID-8", "FEMALE"); /* any case */
    expect_xform(tables, "<map path=\"PID-7\" table=\"n\" default=\"?\"/>", "PID-7", "?");
    /* no entry and no default: unchanged */
    expect_xform(tables, "<map path=\"PID-7\" table=\"n\"/>", "PID-7", "19700304");
}

static void test_xform_case_date_name(void **state)
{
    (void)state;
    expect_xform("", "<case path=\"PID-5\" to=\"upper\"/>", "PID-5.1", "DOE");
    expect_xform("", "<case path=\"PID-5\" to=\"upper\"/>", "PID-5.4", "JR");
    expect_xform("", "<case path=\"PID-5.1\" to=\"title\"/>", "PID-5.1", "Doe");
    expect_xform("", "<case path=\"OBR-4.2\" to=\"lower\"/>", "OBR-4.2", "ct chest");
    expect_xform("", "<date path=\"PID-7\" format=\"dd.MM.yyyy\"/>", "PID-7", "04.03.1970");
    expect_xform("", "<date path=\"OBR-7\" format=\"yyyyMMdd\" to=\"ZDS-1\"/>", "ZDS-1",
                 "20261122");
    /* a value that is not a date in the from format is left as it is */
    expect_xform("", "<date path=\"PID-5.1\" format=\"yyyyMMdd\"/>", "PID-5.1", "doe");
    expect_xform("", "<date path=\"PID-7\" from=\"dd.MM.yyyy\" format=\"yyyy\"/>", "PID-7",
                 "19700304");
    expect_xform("", "<date path=\"OBR-7\" format=\"yyyy-MM-dd HH:mm\" to=\"PID-29\"/>", "PID-29",
                 "2026-11-22 10:15");
    expect_xform("", "<name path=\"PID-5\" format=\"{family}, {given} {middle}\" to=\"PID-9\"/>",
                 "PID-9", "doe, jane marie");
}

static void test_xform_failure_is_ae(void **state)
{
    (void)state;
    run r;
    /* the message declares a character set nobody knows: its values cannot be read */
    eval_msg("<routes><table name=\"t\"/><route name=\"fix\"><transform>"
             "<map path=\"PID-5.1\" table=\"t\" default=\"x\"/></transform><accept/></route>"
             "</routes>",
             "MSH|^~\\&|A|B|C|D|20261122||ORM^O01|C1|P|2.5||||||UNICODE UTF-8\rPID|1||1||D\xff\r", &r, NULL);
    assert_int_equal(r.rc, ROUTE_OK);
    if (r.res.accept)
        fail_msg("%s", r.trace.data);
    assert_string_equal(r.res.code, "AE");
    if (!strstr(r.res.text, "route 'fix', map PID-5.1") || !strstr(r.res.text, "UTF-8"))
        fail_msg("%s", r.res.text);
    run_free(&r);
}

static void test_xform_trace(void **state)
{
    (void)state;
    run r;
    eval_msg("<routes><route name=\"r\"><transform><set path=\"PV1-2\" value=\"E\"/></transform>"
             "<accept/></route></routes>",
             ORDER, &r, NULL);
    if (!strstr(r.trace.data, "set PV1-2: \"O\" -> \"E\""))
        fail_msg("%s", r.trace.data);
    run_free(&r);
}

/* ---- actions and flow ---- */

static void test_reject_accept_default(void **state)
{
    (void)state;
    run r;
    eval_msg("<routes><route name=\"r\"><reject code=\"AR\" text=\"no orders here\" "
             "error-code=\"200\"/></route></routes>",
             ORDER, &r, NULL);
    assert_false(r.res.accept);
    assert_string_equal(r.res.code, "AR");
    assert_string_equal(r.res.text, "no orders here");
    assert_int_equal(r.res.errcode, 200);
    run_free(&r);

    eval_msg("<routes default=\"reject\" default-code=\"AE\" default-text=\"unrouted\">"
             "<route name=\"r\"><match type=\"ADT^*\"/><accept/></route></routes>",
             ORDER, &r, NULL);
    assert_false(r.res.accept);
    assert_string_equal(r.res.code, "AE");
    assert_string_equal(r.res.text, "unrouted");
    assert_non_null(strstr(r.res.summary, "no route"));
    run_free(&r);

    eval_msg("<routes><route name=\"r\"><match type=\"ADT^*\"/><reject text=\"x\"/></route></routes>",
             ORDER, &r, NULL);
    assert_true(r.res.accept); /* default accept */
    run_free(&r);
}

static void test_continue(void **state)
{
    (void)state;
    /* without continue the first route ends evaluation */
    run r;
    eval_msg("<routes><route name=\"a\"><log text=\"a\"/></route>"
             "<route name=\"b\"><reject text=\"b ran\"/></route></routes>",
             ORDER, &r, NULL);
    assert_true(r.res.accept);
    run_free(&r);
    eval_msg("<routes><route name=\"a\" continue=\"true\"><transform>"
             "<set path=\"PV1-2\" value=\"E\"/></transform></route>"
             "<route name=\"b\"><when><equals path=\"PV1-2\" value=\"E\"/></when>"
             "<reject text=\"b saw the change\"/></route></routes>",
             ORDER, &r, NULL);
    assert_false(r.res.accept);
    assert_string_equal(r.res.text, "b saw the change");
    assert_string_equal(r.res.summary, "route a; route b, reject AE");
    run_free(&r);
    /* the trace names the message's type without the structure repeated */
    eval_msg("<routes/>", "MSH|^~\\&|A|B|C|D|20261122||ADT^A08|C1|P|2.3\rPID|1\r", &r, NULL);
    if (!strstr(r.trace.data, "message ADT^A08, control ID C1, from A/B, version 2.3"))
        fail_msg("%s", r.trace.data);
    run_free(&r);
}

static void test_hooks(void **state)
{
    (void)state;
    run r;
    /* a hook nobody provides is an AE, never a silent accept */
    eval_msg("<routes><route name=\"r\"><worklist/><accept/></route></routes>", ORDER, &r, NULL);
    assert_false(r.res.accept);
    assert_string_equal(r.res.code, "AE");
    assert_non_null(strstr(r.res.text, "'worklist' is not available"));
    run_free(&r);

    route_env env = { .dry_run = true };
    env.hooks[ROUTE_HOOK_PATIENT] = ok_hook;
    hook_calls = 0;
    eval_msg("<routes><route name=\"r\"><patient/></route></routes>", ORDER, &r, &env);
    assert_true(r.res.accept);
    assert_int_equal(hook_calls, 1);
    assert_non_null(strstr(r.trace.data, "hook ran"));
    run_free(&r);

    env.hooks[ROUTE_HOOK_RECONCILE] = failing_hook;
    eval_msg("<routes><route name=\"r\"><reconcile/></route></routes>", ORDER, &r, &env);
    assert_false(r.res.accept);
    assert_string_equal(r.res.code, "AE");
    assert_string_equal(r.res.text, "PID-3 has no patient ID");
    assert_int_equal(r.res.errcode, HL7_ERR_REQUIRED_MISSING);
    assert_true(r.res.has_at);
    assert_int_equal(r.res.at.field, 3);
    run_free(&r);
}

static void test_forward_queues_in_txn(void **state)
{
    (void)state;
    char dir[RL_CFG_PATH_MAX];
    assert_non_null(test_dir(dir, sizeof dir, "route"));
    store *st;
    rl_err err;
    store_opts so = { .map_size = 64u << 20 };
    assert_int_equal(store_open(dir, &so, &st, &err), STORE_OK);
    route_dest extra = { .name = "results", .host = "127.0.0.1", .port = 9 };
    route_load_opts o = { .extra_dests = &extra, .n_extra_dests = 1 };
    const char *body =
        "<?xml version=\"1.0\"?><routes>"
        "<destination name=\"ris\" host=\"127.0.0.1\" port=\"7\"/>"
        "<route name=\"r\"><transform><set path=\"PV1-2\" value=\"E\"/></transform>"
        "<forward to=\"ris\"/><forward to=\"results\"/><forward to=\"absent\" optional=\"true\"/>"
        "</route></routes>";
    route_set *rs;
    rl_buf errors;
    rl_buf_init(&errors, 0);
    if (route_load_mem("t.xml", body, strlen(body), &o, &rs, &errors) != ROUTE_OK)
        fail_msg("%.*s", (int)errors.len, errors.data);
    for (int i = 0; i < 3; i++) {
        tmsg t;
        tmsg_text(&t, ORDER);
        store_txn *txn;
        assert_int_equal(store_begin(st, NULL, true, &txn, &err), STORE_OK);
        route_env env = { .txn = txn, .msg_seq = 10 + (uint64_t)i, .now_us = 1 };
        route_result res;
        assert_int_equal(route_eval(rs, &t.m, &env, &res, NULL), ROUTE_OK);
        assert_true(res.accept);
        assert_int_equal(env.forwarded, 2);
        if (i == 2)
            store_abort(txn); /* an aborted message queues nothing */
        else
            assert_int_equal(store_commit(txn, &err), STORE_OK);
        tmsg_free(&t);
    }
    store_txn *txn;
    assert_int_equal(store_begin(st, NULL, false, &txn, &err), STORE_OK);
    queue_item it;
    assert_int_equal(queue_head(txn, "ris", true, &it, NULL, &err), STORE_OK);
    assert_int_equal(it.qseq, 1);
    assert_int_equal(it.msg_seq, 10);
    /* the transformed message is what gets queued */
    assert_non_null(memmem(it.payload.p, it.payload.n, "PV1|1|E", 7));
    /* queue numbers come from one counter: ris 1, results 2, ris 3, results 4 */
    assert_int_equal(queue_get(txn, "ris", 3, &it, &err), STORE_OK);
    assert_int_equal(it.msg_seq, 11);
    assert_int_equal(queue_get(txn, "ris", 5, &it, &err), STORE_NOTFOUND);
    assert_int_equal(queue_get(txn, "results", 4, &it, &err), STORE_OK);
    assert_int_equal(queue_head(txn, "absent", true, &it, NULL, &err), STORE_NOTFOUND);
    store_abort(txn);
    route_free(rs);
    rl_buf_free(&errors);
    store_close(st);
    char cmd[RL_CFG_PATH_MAX + 16];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    assert_int_equal(system(cmd), 0);
}

static void test_default_routes_load(void **state)
{
    (void)state;
    rl_buf errors;
    rl_buf_init(&errors, 0);
    route_set *rs = NULL;
    char path[600];
    snprintf(path, sizeof path, "%s/../../routes/default.xml", TEST_DATA);
    if (route_load(path, NULL, &rs, &errors) != ROUTE_OK)
        fail_msg("%.*s", (int)errors.len, errors.data);
    assert_true(route_count(rs) >= 3);
    route_free(rs);
    rl_buf_free(&errors);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_load_summary),
        cmocka_unit_test(test_load_errors),
        cmocka_unit_test(test_load_error_line),
        cmocka_unit_test(test_csv_table),
        cmocka_unit_test(test_match),
        cmocka_unit_test(test_cond_equals_in_matches),
        cmocka_unit_test(test_cond_exists_empty_null),
        cmocka_unit_test(test_cond_dates),
        cmocka_unit_test(test_cond_logic),
        cmocka_unit_test(test_cond_trace),
        cmocka_unit_test(test_xform_set_copy_delete),
        cmocka_unit_test(test_xform_map),
        cmocka_unit_test(test_xform_case_date_name),
        cmocka_unit_test(test_xform_failure_is_ae),
        cmocka_unit_test(test_xform_trace),
        cmocka_unit_test(test_reject_accept_default),
        cmocka_unit_test(test_continue),
        cmocka_unit_test(test_hooks),
        cmocka_unit_test(test_forward_queues_in_txn),
        cmocka_unit_test(test_default_routes_load),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
