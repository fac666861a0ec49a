/* The worklist: orders (ORM^O01, OMI^O23) applied through the routes'
 * `worklist` action with the IHE default mapping and route-file overrides;
 * the record and its indexes; PS3.4 matching and the query planner. */
#include "testutil.h"

#include <unistd.h>

#include "radlink/route.h"
#include "radlink/reczip.h"
#include "radlink/wl.h"
#include "radlink/wl_hook.h"

static char dir[RL_CFG_PATH_MAX];
static store *st;

static int setup(void **state)
{
    (void)state;
    assert_non_null(test_dir(dir, sizeof dir, "wl"));
    rl_err err;
    store_opts o = { .map_size = 64u << 20 };
    if (store_open(dir, &o, &st, &err) != STORE_OK)
        fail_msg("%s", err.msg);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    store_close(st);
    char cmd[RL_CFG_PATH_MAX + 16];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    return system(cmd) == 0 ? 0 : -1;
}

/* An ORM^O01 with one OBR per procedure given: "ACC|RP|SPS|MOD|AE|YYYYMMDDHHMM". */
static char *orm(const char *control, const char *status, const char *zds, const char *const *obrs,
                 size_t n)
{
    rl_buf b;
    rl_buf_init(&b, 0);
    rl_buf_printf(&b,
                  "MSH|^~\\&|RIS|GENHOSP|RADLINK|RAD|20261123101500||ORM^O01^ORM_O01|C%s|P|2.5.1\r"
                  "PID|1||12345^^^GENHOSP^MR||DOE^JANE^Q^^MS||19700412|F\r"
                  "PV1|1|O|RAD^^^GENHOSP|||||1234^SMITH^JOHN^^^DR\r"
                  "ORC|%s|ORD1|FIL1||%s||^^^^^S\r",
                  control, control, status);
    for (size_t i = 0; i < n; i++) {
        char acc[32], rp[32], sps[32], mod[16], ae[32], when[32];
        sscanf(obrs[i], "%31[^|]|%31[^|]|%31[^|]|%15[^|]|%31[^|]|%31s", acc, rp, sps, mod, ae,
               when);
        rl_buf_printf(&b,
                      "OBR|%zu|ORD1|FIL1|CT%zu^CT STUDY %zu^LOCAL||||||||||||1234^SMITH^JOHN^^^DR||"
                      "%s|%s|%s|%s|||%s|||^^^%s\r",
                      i + 1, i, i, acc, rp, sps, strcmp(ae, "-") ? ae : "", mod, when);
        if (zds)
            rl_buf_printf(&b, "ZDS|%s.%zu^RADLINK^Application^DICOM\r", zds, i);
    }
    rl_buf_cstr(&b);
    return b.data;
}

typedef struct result {
    bool accept;
    char text[400];
    route_result res;
} result;

/* Run msg through routes (default: orders to the worklist) in one txn. */
static result apply(const char *routes, const char *msg)
{
    const char *def = "<routes><route name=\"orders\"><match type=\"ORM^O01\"/>"
                      "<match type=\"OMI^O23\"/><worklist/></route></routes>";
    rl_buf errors;
    rl_buf_init(&errors, 0);
    route_set *rs;
    const char *text = routes ? routes : def;
    if (route_load_mem("t.xml", text, strlen(text), NULL, &rs, &errors) != ROUTE_OK)
        fail_msg("%.*s", (int)errors.len, errors.data);
    tmsg t;
    tmsg_text(&t, msg);
    store_txn *txn;
    rl_err err;
    assert_int_equal(store_begin(st, NULL, true, &txn, &err), STORE_OK);
    route_env env = { .txn = txn, .now_us = 1000, .msg_seq = 7 };
    env.hooks[ROUTE_HOOK_WORKLIST] = wl_hook;
    result r;
    memset(&r, 0, sizeof r);
    assert_int_equal(route_eval(rs, &t.m, &env, &r.res, NULL), ROUTE_OK);
    r.accept = r.res.accept;
    snprintf(r.text, sizeof r.text, "%s", r.res.text);
    if (r.accept)
        assert_int_equal(store_commit(txn, &err), STORE_OK);
    else
        store_abort(txn);
    tmsg_free(&t);
    route_free(rs);
    rl_buf_free(&errors);
    return r;
}

static bool get_entry(const char *acc, const char *rp, const char *sps, wl_entry *e,
                      store_txn **txn)
{
    char key[128];
    size_t n = (size_t)snprintf(key, sizeof key, "%s%c%s%c%s", acc, 0, rp, 0, sps);
    rl_err err;
    assert_int_equal(store_begin(st, NULL, false, txn, &err), STORE_OK);
    return wl_get(*txn, (rl_str){ key, n }, e, &err) == STORE_OK;
}

static void expect(rl_str v, const char *want, const char *what)
{
    if (v.n != strlen(want) || memcmp(v.p, want, v.n) != 0)
        fail_msg("%s: got '%.*s', want '%s'", what, (int)v.n, v.p, want);
}

static void test_nw_ihe_mapping(void **state)
{
    (void)state;
    const char *obr[] = { "ACC1|RP1|SPS1|CT|CT01|202611240930" };
    char *m = orm("NW", "SC", "1.2.3.4", obr, 1);
    result r = apply(NULL, m);
    if (!r.accept)
        fail_msg("%s", r.text);
    wl_entry *e = malloc(sizeof *e);
    store_txn *t;
    assert_true(get_entry("ACC1", "RP1", "SPS1", e, &t));
    expect(wl_top(e, WL_PATIENT_NAME), "DOE^JANE^Q^MS", "XPN to PN (prefix after middle)");
    expect(wl_top(e, WL_PATIENT_ID), "12345", "PatientID");
    expect(wl_top(e, WL_TAG(0x0010, 0x0021)), "GENHOSP", "IssuerOfPatientID");
    expect(wl_top(e, WL_TAG(0x0010, 0x0030)), "19700412", "PatientBirthDate");
    expect(wl_top(e, WL_TAG(0x0010, 0x0040)), "F", "PatientSex");
    expect(wl_top(e, WL_TAG(0x0008, 0x0090)), "SMITH^JOHN^^DR", "XCN to PN");
    expect(wl_top(e, WL_STUDY_UID), "1.2.3.4.0", "StudyInstanceUID from ZDS-1");
    expect(wl_top(e, WL_TAG(0x0032, 0x1060)), "CT STUDY 0", "RequestedProcedureDescription");
    uint32_t code[2] = { WL_TAG(0x0032, 0x1064), WL_TAG(0x0008, 0x0100) };
    expect(*wl_get_attr(e, code, 2), "CT0", "RequestedProcedureCodeSequence/CodeValue");
    expect(wl_top(e, WL_TAG(0x0040, 0x1003)), "STAT", "priority from ORC-7.6");
    expect(wl_sps(e, WL_MODALITY), "CT", "Modality");
    expect(wl_sps(e, WL_STATION_AE), "CT01", "ScheduledStationAETitle");
    expect(wl_sps(e, WL_SPS_DATE), "20261124", "start date");
    expect(wl_sps(e, WL_SPS_TIME), "0930", "start time");
    expect(wl_sps(e, WL_SPS_STATUS), "SCHEDULED", "status");
    expect(wl_sps(e, WL_SPS_ID), "SPS1", "SPS ID");
    assert_int_equal(e->msg_seq, 7);
    store_abort(t);
    free(e);
    free(m);
}

static int count_cb(void *ctx, rl_str key, const wl_entry *e)
{
    (void)key;
    (void)e;
    (*(int *)ctx)++;
    return 0;
}

static int scan_count(char kind, const char *from, size_t fn, const char *to, size_t tn)
{
    store_txn *t;
    rl_err err;
    assert_int_equal(store_begin(st, NULL, false, &t, &err), STORE_OK);
    int n = 0;
    assert_int_equal(wl_scan(t, kind, (rl_str){ from, fn }, (rl_str){ to, tn }, count_cb, &n,
                             &err),
                     STORE_OK);
    store_abort(t);
    return n;
}

static void test_xo_ca_and_indexes(void **state)
{
    (void)state;
    const char *obr1[] = { "ACC2|RP2|SPS2|CT|CT01|202611250800" };
    char *m = orm("NW", "SC", NULL, obr1, 1);
    assert_true(apply(NULL, m).accept);
    free(m);
    assert_int_equal(scan_count('D', "20261125", 8, "20261125", 8), 1);
    assert_int_equal(scan_count('S', "CT01\0" "20261125", 13, "CT01\0" "20261125", 13), 1);
    wl_entry *e = malloc(sizeof *e);
    store_txn *t;
    assert_true(get_entry("ACC2", "RP2", "SPS2", e, &t));
    char uid[80];
    snprintf(uid, sizeof uid, "%.*s", (int)wl_top(e, WL_STUDY_UID).n, wl_top(e, WL_STUDY_UID).p);
    assert_memory_equal(uid, "2.25.", 5); /* made, as the order has no ZDS */
    store_abort(t);

    /* XO moves it to another day and modality: old index entries go */
    const char *obr2[] = { "ACC2|RP2|SPS2|MR|MR01|202611261000" };
    m = orm("XO", "SC", NULL, obr2, 1);
    assert_true(apply(NULL, m).accept);
    free(m);
    assert_int_equal(scan_count('D', "20261125", 8, "20261125", 8), 0);
    assert_int_equal(scan_count('D', "20261126", 8, "20261126", 8), 1);
    /* (ACC1 of the first test is a CT on the 24th: outside these ranges) */
    assert_int_equal(scan_count('M', "CT\0" "20261125", 11, "CT\0" "99999999", 11), 0);
    assert_int_equal(scan_count('M', "MR\0", 3, "MR\0" "99999999", 11), 1);
    assert_true(get_entry("ACC2", "RP2", "SPS2", e, &t));
    expect(wl_sps(e, WL_MODALITY), "MR", "XO changed the modality");
    expect(wl_top(e, WL_STUDY_UID), uid, "the made UID is stable across XO");
    store_abort(t);

    /* CA removes it; CA again is AE */
    m = orm("CA", "CA", NULL, obr2, 1);
    assert_true(apply(NULL, m).accept);
    assert_false(get_entry("ACC2", "RP2", "SPS2", e, &t));
    store_abort(t);
    assert_int_equal(scan_count('A', "ACC2", 4, "ACC2", 4), 0);
    assert_int_equal(scan_count('D', "20261126", 8, "20261126", 8), 0);
    result r = apply(NULL, m);
    assert_false(r.accept);
    assert_non_null(strstr(r.text, "CA for accession ACC2 procedure RP2 step SPS2, which is not on "
                                   "the worklist"));
    free(m);

    /* SC with ORC-5 CM (completed) takes it off too */
    m = orm("NW", "SC", NULL, obr1, 1);
    assert_true(apply(NULL, m).accept);
    free(m);
    m = orm("SC", "CM", NULL, obr1, 1);
    assert_true(apply(NULL, m).accept);
    free(m);
    assert_false(get_entry("ACC2", "RP2", "SPS2", e, &t));
    store_abort(t);
    free(e);
}

static void test_several_obr_and_omi(void **state)
{
    (void)state;
    const char *obr[] = { "ACC3|RP3|SPS3A|CT|CT01|202611271000",
                          "ACC3|RP3|SPS3B|CT|CT02|202611271030" };
    char *m = orm("NW", "SC", NULL, obr, 2);
    assert_true(apply(NULL, m).accept);
    free(m);
    assert_int_equal(scan_count('A', "ACC3", 4, "ACC3", 4), 2);

    const char *omi =
        "MSH|^~\\&|RIS|GENHOSP|RADLINK|RAD|20261123101500||OMI^O23^OMI_O23|M1|P|2.5.1\r"
        "PID|1||777^^^GENHOSP^MR||ROE^RICHARD||19650101|M\r"
        "ORC|NW|ORD7|FIL7||SC\r"
        "TQ1|1||||||20261128141500\r"
        "OBR|1|ORD7|FIL7|MR1^MR BRAIN^LOCAL\r"
        "IPC|ACC7|RP7|1.2.840.99.7|SPS7A|MR|P1^Brain protocol^LOCAL|MR Room 1|ROOM1|MR01\r"
        "IPC|ACC7|RP7|1.2.840.99.7|SPS7B|MR|P2^Spine protocol^LOCAL|MR Room 1|ROOM1|MR01\r";
    result r = apply(NULL, omi);
    if (!r.accept)
        fail_msg("%s", r.text);
    assert_int_equal(scan_count('A', "ACC7", 4, "ACC7", 4), 2);
    wl_entry *e = malloc(sizeof *e);
    store_txn *t;
    assert_true(get_entry("ACC7", "RP7", "SPS7B", e, &t));
    expect(wl_top(e, WL_STUDY_UID), "1.2.840.99.7", "IPC-3");
    expect(wl_sps(e, WL_STATION_AE), "MR01", "IPC-9");
    expect(wl_sps(e, WL_SPS_TIME), "141500", "TQ1-7 time");
    expect(wl_sps(e, WL_TAG(0x0040, 0x0007)), "Spine protocol", "IPC-6.2");
    store_abort(t);
    free(e);
}

static void test_refusals(void **state)
{
    (void)state;
    /* what a modality can do without is taken, with a warning */
    const char *no_ae[] = { "ACC4|RP4|SPS4|CT|-|20261124" };
    char *m = orm("NW", "SC", NULL, no_ae, 1);
    result r = apply(NULL, m);
    free(m);
    if (!r.accept)
        fail_msg("%s", r.text);
    if (!strstr(r.res.summary, "warning: no station AE title"))
        fail_msg("%s", r.res.summary);
    wl_entry *e = malloc(sizeof *e);
    store_txn *t;
    assert_true(get_entry("ACC4", "RP4", "SPS4", e, &t));
    expect(wl_sps(e, WL_STATION_AE), "", "no station");
    expect(wl_sps(e, WL_SPS_TIME), "", "a date without a time");
    store_abort(t);
    free(e);

    const char *long_acc[] = { "ACCESSION-TOO-LONG-1|RP9|SPS9|CT|CT01|202611240930" };
    m = orm("NW", "SC", NULL, long_acc, 1);
    r = apply(NULL, m);
    free(m);
    assert_false(r.accept);
    if (!strstr(r.text, "AccessionNumber 'ACCESSION-TOO-LONG-1' from OBR-18 has 20 characters, "
                        "more than the 16 DICOM allows"))
        fail_msg("%s", r.text);

    const char *ok[] = { "ACC9|RP9|SPS9|CT|CT01|202611240930" };
    m = orm("RP", "SC", NULL, ok, 1);
    r = apply(NULL, m);
    free(m);
    assert_false(r.accept);
    assert_non_null(strstr(r.text, "order control (ORC-1) 'RP' is not one the worklist handles"));

    r = apply(NULL, "MSH|^~\\&|A|B|C|D|20261123||ORM^O01|X1|P|2.5\rPID|1||1||X^Y\r");
    assert_false(r.accept);
    assert_non_null(strstr(r.text, "the order has no OBR segment"));

    /* everything a modality cannot do without, named at once */
    r = apply(NULL, "MSH|^~\\&|RIS|H|RL|R|20261123||ORM^O01|X2|P|2.5\r"
                    "PID|1||123||\r"
                    "ORC|NW|P9|ACC9\r"
                    "OBR|1|P9|ACC9|CT1^CT HEAD^L||||||||||||||||||||RAD|||^^^2026AB\r");
    assert_false(r.accept);
    assert_int_equal(r.res.errcode, HL7_ERR_REQUIRED_MISSING);
    assert_non_null(strstr(r.text, "PatientName is required and PID-5 is empty"));
    assert_int_equal(r.res.n_more, 2);
    if (!strstr(r.res.more[0].text, "Modality: OBR-24 'RAD' is not a DICOM modality"))
        fail_msg("%s", r.res.more[0].text);
    if (!strstr(r.res.more[1].text, "ScheduledProcedureStepStartDate: OBR-27.4 '2026AB' is not "
                                    "a date"))
        fail_msg("%s", r.res.more[1].text);
    hl7_ack_err more[ROUTE_PROBLEMS];
    assert_int_equal(route_ack_errs(&r.res, more, ROUTE_PROBLEMS), 2);
    assert_int_equal(more[0].at->field, 24);

    /* nothing of a refused order is kept */
    assert_int_equal(scan_count('A', "ACC9", 4, "ACC9", 4), 0);
}

/* Orders shaped like real RIS output: OBR-18..21 empty, the accession only
 * in ORC-3, long UTF-8 text, an OMI without IPC, several station AEs. */
static void test_real_orders(void **state)
{
    (void)state;
    const char *routes =
        "<routes><table name=\"st\"><entry key=\"MR\" value=\"MR01\\MR02\"/></table>"
        "<worklist-mapping><station by=\"modality\" table=\"st\" default=\"ANYSTATION\"/>"
        "<attribute keyword=\"ReasonForTheRequestedProcedure\" path=\"OBR-31.2\" too-long=\"cut\"/>"
        "</worklist-mapping>"
        "<route name=\"o\"><match type=\"ORM^O01\"/><match type=\"OMI^O23\"/><worklist/></route>"
        "</routes>";
    /* 63 characters, 66 bytes in UTF-8 */
    const char *desc = "IRM cérébrale avec injection de gadolinium et séquences de diffu";
    char msg[2048];
    char longname[80];
    memset(longname, 'X', 70);
    longname[70] = '\0';
    snprintf(msg, sizeof msg,
             "MSH|^~\\&|RIS|H|RL|R|20261123||ORM^O01|R1|P|2.5|||||FRA|UNICODE UTF-8\r"
             "PID|1||555^^^H^MR||MARTIN^CLAIRE||19800101|F\r"
             "PV1|1|O||||||9^%s^Y\r"
             "ORC|NW|PL55|RX55\r"
             "OBR|1|PL55|RX55|MRB^%s||||||||||||||||||||MR|||^^^202611250800^^L||||"
             "^%s%s\r",
             longname, desc, desc, desc);
    result r = apply(routes, msg);
    if (!r.accept)
        fail_msg("%s", r.text);
    if (!strstr(r.res.summary, "ReferringPhysicianName from PV1-8 left out: 72 characters"))
        fail_msg("%s", r.res.summary);
    if (!strstr(r.res.summary, "RequestedProcedureCodeSequence left empty"))
        fail_msg("%s", r.res.summary);
    wl_entry *e = malloc(sizeof *e);
    store_txn *t;
    assert_true(get_entry("RX55", "RX55", "RX55", e, &t)); /* IDs derived from ORC-3 */
    expect(wl_top(e, WL_TAG(0x0032, 0x1060)), desc, "63 characters are not too long");
    expect(wl_sps(e, WL_STATION_AE), "MR01\\MR02", "station from the <station> table");
    expect(wl_top(e, WL_TAG(0x0040, 0x1003)), "LOW", "priority L");
    assert_null(wl_get_attr(e, (uint32_t[]){ WL_TAG(0x0008, 0x0090) }, 1));
    uint32_t code[2] = { WL_TAG(0x0032, 0x1064), WL_TAG(0x0008, 0x0100) };
    assert_null(wl_get_attr(e, code, 2));
    const rl_str *reason = wl_get_attr(e, (uint32_t[]){ WL_TAG(0x0040, 0x1002) }, 1);
    assert_non_null(reason);
    assert_true(reason->n > 64 && reason->n < 80); /* cut to 64 characters */
    store_abort(t);

    /* an OMI without IPC, OBR-21 repeated, no accession but a placer number */
    r = apply(routes, "MSH|^~\\&|RIS|H|RL|R|20261123||OMI^O23^OMI_O23|R2|P|2.5.1\r"
                      "PID|1||556^^^H^MR||DURAND^PAUL\r"
                      "ORC|NW|PL56\r"
                      "TQ1|1||||||202611260900\r"
                      "OBR|1|PL56||US1^ABDOMEN^99RIS|||||||||||||||||US01~US02|||US\r"
                      "OBR|2|PL56||US2^PELVIS^99RIS|||||||||||||||||US01|||US\r");
    if (!r.accept)
        fail_msg("%s", r.text);
    assert_true(get_entry("", "PL56.1", "PL56.1", e, &t));
    expect(wl_sps(e, WL_STATION_AE), "US01\\US02", "OBR-21 repetitions");
    expect(wl_sps(e, WL_SPS_TIME), "0900", "TQ1-7 (HHMM)");
    uint32_t pcode[3] = { WL_SPS_SEQ, WL_TAG(0x0040, 0x0008), WL_TAG(0x0008, 0x0102) };
    expect(*wl_get_attr(e, pcode, 3), "99RIS", "a complete code is kept");
    store_abort(t);
    assert_true(get_entry("", "PL56.2", "PL56.2", e, &t));
    store_abort(t);
    free(e);
}

static void test_mapping_overrides(void **state)
{
    (void)state;
    const char *routes =
        "<routes><table name=\"stations\"><entry key=\"CT\" value=\"CT-NORTH\"/></table>"
        "<worklist-mapping>"
        "<attribute keyword=\"ScheduledStationAETitle\" path=\"OBR-24\" table=\"stations\" "
        "default=\"ANY\" required=\"true\"/>"
        "<attribute keyword=\"InstitutionName\" value=\"General Hospital\"/>"
        "<attribute keyword=\"ScheduledProcedureStepStartTime\" path=\"OBR-27.4\" default=\"000000\" "
        "required=\"true\"/>"
        "</worklist-mapping>"
        "<route name=\"o\"><worklist/></route></routes>";
    const char *obr[] = { "ACC5|RP5|SPS5|CT|-|20261129" };
    char *m = orm("NW", "SC", NULL, obr, 1);
    result r = apply(routes, m);
    free(m);
    if (!r.accept)
        fail_msg("%s", r.text);
    wl_entry *e = malloc(sizeof *e);
    store_txn *t;
    assert_true(get_entry("ACC5", "RP5", "SPS5", e, &t));
    expect(wl_sps(e, WL_STATION_AE), "CT-NORTH", "mapped through the table");
    expect(wl_top(e, WL_TAG(0x0008, 0x0080)), "General Hospital", "a constant");
    expect(wl_sps(e, WL_SPS_TIME), "000000", "the mapping's default");
    store_abort(t);
    free(e);

    rl_buf errors;
    rl_buf_init(&errors, 0);
    route_set *rs;
    const char *bad = "<routes><worklist-mapping><attribute keyword=\"PatientShoeSize\" "
                      "path=\"PID-3\"/></worklist-mapping></routes>";
    assert_int_equal(route_load_mem("t.xml", bad, strlen(bad), NULL, &rs, &errors), ROUTE_E_LOAD);
    rl_buf_cstr(&errors);
    assert_non_null(strstr(errors.data, "t.xml:1: <attribute>: keyword 'PatientShoeSize' is not"));
    rl_buf_free(&errors);
}

/* ---- matching ---- */

static void qadd(wl_query *q, uint32_t seq, uint32_t tag, const char *vr, const char *value)
{
    wl_key *k = &q->k[q->n++];
    memset(k, 0, sizeof *k);
    if (seq) {
        k->path[0] = seq;
        k->path[1] = tag;
        k->depth = 2;
    } else {
        k->path[0] = tag;
        k->depth = 1;
    }
    snprintf(k->vr, sizeof k->vr, "%s", vr);
    k->value = rl_str_c(value);
}

static wl_entry *sample(void)
{
    static wl_entry e;
    memset(&e, 0, sizeof e);
    uint32_t t;
    t = WL_PATIENT_NAME, wl_set_attr(&e, &t, 1, RL_STR("MÜLLER^JÜRGEN^K"));
    t = WL_PATIENT_ID, wl_set_attr(&e, &t, 1, RL_STR("PID42"));
    t = WL_ACCESSION, wl_set_attr(&e, &t, 1, RL_STR("ACC42"));
    t = WL_STUDY_UID, wl_set_attr(&e, &t, 1, RL_STR("1.2.3.42"));
    uint32_t s[2] = { WL_SPS_SEQ, WL_MODALITY };
    wl_set_attr(&e, s, 2, RL_STR("CT"));
    s[1] = WL_STATION_AE, wl_set_attr(&e, s, 2, RL_STR("CT01"));
    s[1] = WL_SPS_DATE, wl_set_attr(&e, s, 2, RL_STR("20261124"));
    s[1] = WL_SPS_TIME, wl_set_attr(&e, s, 2, RL_STR("093000"));
    return &e;
}

static bool q1(uint32_t seq, uint32_t tag, const char *vr, const char *value, bool icase)
{
    wl_query q = { .n = 0, .icase_names = icase };
    qadd(&q, seq, tag, vr, value);
    return wl_matches(&q, sample());
}

static void test_matching(void **state)
{
    (void)state;
    uint32_t S = WL_SPS_SEQ;
    assert_true(q1(0, WL_PATIENT_ID, "LO", "PID42", false));
    assert_false(q1(0, WL_PATIENT_ID, "LO", "PID4", false));
    assert_true(q1(0, WL_PATIENT_ID, "LO", "", false));       /* universal */
    assert_true(q1(0, WL_PATIENT_ID, "LO", "PID*", false));   /* wildcard */
    assert_true(q1(0, WL_PATIENT_ID, "LO", "P?D42", false));
    assert_false(q1(0, WL_PATIENT_ID, "LO", "pid42", false)); /* case matters */
    assert_true(q1(0, WL_PATIENT_ID, "LO", "PID42 ", false)); /* padding */
    assert_true(q1(0, WL_STUDY_UID, "UI", "1.2.3.1\\1.2.3.42", false)); /* list of UIDs */
    assert_false(q1(0, WL_STUDY_UID, "UI", "1.2.3.1\\1.2.3.4", false));
    /* person names, component by component, UTF-8 aware */
    assert_true(q1(0, WL_PATIENT_NAME, "PN", "MÜLLER", false));
    assert_true(q1(0, WL_PATIENT_NAME, "PN", "M?LLER^J*", false));
    assert_true(q1(0, WL_PATIENT_NAME, "PN", "MÜL*", false));
    assert_false(q1(0, WL_PATIENT_NAME, "PN", "MÜLLER^HANS", false));
    assert_false(q1(0, WL_PATIENT_NAME, "PN", "müller", false));
    assert_true(q1(0, WL_PATIENT_NAME, "PN", "mÜller", true));
    /* sequence matching inside the Scheduled Procedure Step */
    assert_true(q1(S, WL_MODALITY, "CS", "CT", false));
    assert_false(q1(S, WL_MODALITY, "CS", "MR", false));
    assert_true(q1(S, WL_MODALITY, "CS", "MR\\CT", false));
    assert_true(q1(S, WL_STATION_AE, "AE", "CT01", false));
    /* dates and times */
    assert_true(q1(S, WL_SPS_DATE, "DA", "20261124", false));
    assert_true(q1(S, WL_SPS_DATE, "DA", "20261101-20261130", false));
    assert_true(q1(S, WL_SPS_DATE, "DA", "20261124-", false));
    assert_true(q1(S, WL_SPS_DATE, "DA", "-20261124", false));
    assert_false(q1(S, WL_SPS_DATE, "DA", "20261125-", false));
    assert_false(q1(S, WL_SPS_DATE, "DA", "-20261123", false));
    assert_true(q1(S, WL_SPS_TIME, "TM", "0900-1000", false));
    assert_true(q1(S, WL_SPS_TIME, "TM", "0930", false));
    assert_false(q1(S, WL_SPS_TIME, "TM", "1000-", false));
    /* combined date-time range: 24th 09:00 to 25th 08:00 holds 24th 09:30 */
    wl_query q = { 0 };
    qadd(&q, S, WL_SPS_DATE, "DA", "20261124-20261125");
    qadd(&q, S, WL_SPS_TIME, "TM", "0900-0800");
    assert_true(wl_matches(&q, sample()));
    q.n = 0;
    qadd(&q, S, WL_SPS_DATE, "DA", "20261123-20261124");
    qadd(&q, S, WL_SPS_TIME, "TM", "1000-0900");
    assert_false(wl_matches(&q, sample())); /* ends on the 24th at 09:00 */
    /* an entry without the attribute only matches universally */
    assert_false(q1(0, WL_TAG(0x0008, 0x0090), "PN", "SMITH", false));
    assert_true(q1(0, WL_TAG(0x0008, 0x0090), "PN", "*", false));
}

static bool valid(const char *vr, const char *v)
{
    wl_key k;
    memset(&k, 0, sizeof k);
    snprintf(k.vr, sizeof k.vr, "%s", vr);
    k.value = rl_str_c(v);
    rl_err err;
    return wl_key_valid(&k, &err);
}

static void test_key_validation(void **state)
{
    (void)state;
    assert_true(valid("DA", "20261124"));
    assert_true(valid("DA", "20261101-20261130"));
    assert_true(valid("DA", "20261124-"));
    assert_true(valid("DA", "-20261124"));
    assert_true(valid("DA", ""));
    assert_false(valid("DA", "bogus"));
    assert_false(valid("DA", "2026112"));
    assert_false(valid("DA", "20261399"));
    assert_false(valid("DA", "20261124-20261125-20261126"));
    assert_false(valid("DA", "-"));
    assert_false(valid("DA", "2026*"));
    assert_true(valid("TM", "0930"));
    assert_true(valid("TM", "093000.123"));
    assert_true(valid("TM", "0800-1200"));
    assert_false(valid("TM", "2500"));
    assert_false(valid("TM", "09:30"));
    assert_true(valid("PN", "DOE*"));
}

static void test_planner(void **state)
{
    (void)state;
    wl_query q = { 0 };
    wl_plan p;
    qadd(&q, WL_SPS_SEQ, WL_SPS_DATE, "DA", "20261124");
    wl_plan_query(&q, &p);
    assert_int_equal(p.kind, 'D');
    qadd(&q, WL_SPS_SEQ, WL_MODALITY, "CS", "CT");
    wl_plan_query(&q, &p);
    assert_int_equal(p.kind, 'M');
    qadd(&q, WL_SPS_SEQ, WL_STATION_AE, "AE", "CT01");
    wl_plan_query(&q, &p);
    assert_int_equal(p.kind, 'S');
    assert_int_equal(p.from_n, 13);
    qadd(&q, 0, WL_PATIENT_ID, "LO", "12345");
    wl_plan_query(&q, &p);
    assert_int_equal(p.kind, 'P');
    qadd(&q, 0, WL_ACCESSION, "SH", "ACC1");
    wl_plan_query(&q, &p);
    assert_int_equal(p.kind, 'A');
    wl_query w = { 0 };
    qadd(&w, 0, WL_PATIENT_NAME, "PN", "DOE*");
    wl_plan_query(&w, &p);
    assert_int_equal(p.kind, 0); /* nothing indexed: a scan */
    qadd(&w, 0, WL_ACCESSION, "SH", "ACC*");
    wl_plan_query(&w, &p);
    assert_int_equal(p.kind, 0); /* a wildcard cannot use the index */
}

static int collect_acc(void *ctx, rl_str key, const wl_entry *e)
{
    (void)key;
    rl_buf *b = ctx;
    rl_str a = wl_top(e, WL_ACCESSION);
    rl_buf_printf(b, "%.*s:%.*s ", (int)a.n, a.p, (int)wl_sps(e, WL_SPS_ID).n,
                  wl_sps(e, WL_SPS_ID).p);
    return 0;
}

static void test_find_uses_index_and_filters(void **state)
{
    (void)state;
    const char *obr[] = { "ACC8|RP8|SPS8A|CT|CT08|202612010800",
                          "ACC8|RP8|SPS8B|MR|MR08|202612010900",
                          "ACC9|RP9|SPS9|CT|CT08|202612020800" };
    char *m = orm("NW", "SC", NULL, obr, 3);
    assert_true(apply(NULL, m).accept);
    free(m);
    store_txn *t;
    rl_err err;
    assert_int_equal(store_begin(st, NULL, false, &t, &err), STORE_OK);
    wl_query q = { 0 };
    qadd(&q, WL_SPS_SEQ, WL_STATION_AE, "AE", "CT08");
    qadd(&q, WL_SPS_SEQ, WL_SPS_DATE, "DA", "20261201-20261202");
    rl_buf b;
    rl_buf_init(&b, 0);
    wl_plan p;
    assert_int_equal(wl_find(t, &q, collect_acc, &b, &p, &err), STORE_OK);
    assert_int_equal(p.kind, 'S');
    rl_buf_cstr(&b);
    assert_string_equal(b.data, "ACC8:SPS8A ACC9:SPS9 ");
    rl_buf_reset(&b);
    q.n = 0;
    qadd(&q, WL_SPS_SEQ, WL_SPS_DATE, "DA", "20261201");
    qadd(&q, 0, WL_PATIENT_NAME, "PN", "DOE^J*");
    assert_int_equal(wl_find(t, &q, collect_acc, &b, &p, &err), STORE_OK);
    rl_buf_cstr(&b);
    assert_string_equal(b.data, "ACC8:SPS8A ACC8:SPS8B ");
    store_abort(t);
    rl_buf_free(&b);
}

static void test_record_roundtrip(void **state)
{
    (void)state;
    wl_entry *e = sample();
    e->created_us = 11;
    e->updated_us = 22;
    e->msg_seq = 33;
    rl_buf b;
    rl_buf_init(&b, 0);
    assert_int_equal(wl_encode(e, &b), 0);
    wl_entry *d = malloc(sizeof *d);
    assert_int_equal(wl_decode(rl_buf_view(&b), d), STORE_OK);
    assert_int_equal(d->n, e->n);
    assert_int_equal(d->msg_seq, 33);
    expect(wl_sps(d, WL_STATION_AE), "CT01", "decoded");
    /* truncated or versioned otherwise: refused, never read past the end */
    assert_int_equal(wl_decode((rl_str){ b.data, b.len - 3 }, d), STORE_E_CORRUPT);
    b.data[0] = 9;
    assert_int_equal(wl_decode(rl_buf_view(&b), d), STORE_E_VERSION);
    free(d);
    rl_buf_free(&b);
}

static int count_scanned(void *ctx, rl_str key, const wl_entry *e)
{
    (void)key;
    size_t *n = ctx;
    *n += wl_sps(e, WL_MODALITY).n == 2;
    return 0;
}

/* Stored entries are compressed; a dictionary is trained once the worklist
 * holds enough of them, and everything reads back as it was written,
 * version 2 entries of an older store included. */
static void test_entries_compressed(void **state)
{
    (void)state;
    rl_err err;
    store_txn *t;
    wl_entry *e = sample();
    char acc[32], uid[64], pid[32];
    unsigned total = RECZIP_SAMPLES + 50;
    assert_int_equal(store_begin(st, NULL, true, &t, &err), STORE_OK);
    uint64_t before = 0;
    assert_int_equal(store_entries(t, STORE_WL, &before, &err), STORE_OK);
    for (unsigned i = 0; i < total; i++) {
        snprintf(acc, sizeof acc, "Z%06u", i);
        snprintf(uid, sizeof uid, "1.2.826.0.1.3680043.10.54.%u", i * 7919u);
        snprintf(pid, sizeof pid, "P%07u", i * 31u);
        uint32_t tag = WL_ACCESSION;
        wl_set_attr(e, &tag, 1, rl_str_c(acc));
        tag = WL_STUDY_UID, wl_set_attr(e, &tag, 1, rl_str_c(uid));
        tag = WL_PATIENT_ID, wl_set_attr(e, &tag, 1, rl_str_c(pid));
        e->msg_seq = i;
        assert_int_equal(wl_put(t, e, &err), STORE_OK);
    }
    /* an entry as an older store wrote it (version 2, not compressed) */
    rl_buf b;
    rl_buf_init(&b, 0);
    uint32_t tag = WL_ACCESSION;
    wl_set_attr(e, &tag, 1, RL_STR("OLD1"));
    assert_int_equal(wl_encode(e, &b), 0);
    char kb[WL_KEY_MAX];
    rl_str key = { kb, wl_key_of(e, kb, sizeof kb) };
    assert_int_equal(store_put(t, STORE_WL, key, rl_buf_view(&b), 0, &err), STORE_OK);
    rl_str v;
    assert_int_equal(store_get(t, STORE_META, RL_STR("wl.zdict"), &v, &err), STORE_OK);
    assert_int_equal(v.n, 4);
    /* the last entries, written with the dictionary, are a fraction of their text */
    snprintf(acc, sizeof acc, "Z%06u", total - 1);
    wl_set_attr(e, &tag, 1, rl_str_c(acc));
    rl_buf_reset(&b);
    assert_int_equal(wl_encode(e, &b), 0);
    key.n = wl_key_of(e, kb, sizeof kb);
    assert_int_equal(store_get(t, STORE_WL, key, &v, &err), STORE_OK);
    assert_true(v.n * 2 < b.len);
    assert_int_equal(store_commit(t, &err), STORE_OK);

    wl_entry *d = malloc(sizeof *d);
    assert_int_equal(store_begin(st, NULL, false, &t, &err), STORE_OK);
    for (unsigned i = 0; i < total; i += 97) {
        snprintf(acc, sizeof acc, "Z%06u", i);
        snprintf(uid, sizeof uid, "1.2.826.0.1.3680043.10.54.%u", i * 7919u);
        wl_set_attr(e, &tag, 1, rl_str_c(acc));
        key.n = wl_key_of(e, kb, sizeof kb);
        assert_int_equal(wl_get(t, key, d, &err), STORE_OK);
        expect(wl_top(d, WL_STUDY_UID), uid, "study UID read back");
        expect(wl_top(d, WL_PATIENT_NAME), "MÜLLER^JÜRGEN^K", "name read back");
        assert_int_equal(d->msg_seq, i);
    }
    wl_set_attr(e, &tag, 1, RL_STR("OLD1"));
    key.n = wl_key_of(e, kb, sizeof kb);
    assert_int_equal(wl_get(t, key, d, &err), STORE_OK);
    expect(wl_top(d, WL_ACCESSION), "OLD1", "a version 2 entry");
    size_t scanned = 0;
    assert_int_equal(wl_scan(t, 0, RL_STR(""), (rl_str){ NULL, 0 }, count_scanned, &scanned, &err),
                     STORE_OK);
    assert_true(scanned >= total + 1);
    scanned = 0;
    assert_int_equal(wl_scan(t, 'A', RL_STR("Z"), RL_STR("Z999999"), count_scanned, &scanned, &err),
                     STORE_OK);
    assert_int_equal(scanned, total);
    store_abort(t);
    /* and they go again, index entries with them */
    assert_int_equal(store_begin(st, NULL, true, &t, &err), STORE_OK);
    for (unsigned i = 0; i < total; i++) {
        snprintf(acc, sizeof acc, "Z%06u", i);
        wl_set_attr(e, &tag, 1, rl_str_c(acc));
        key.n = wl_key_of(e, kb, sizeof kb);
        assert_int_equal(wl_remove(t, key, &err), STORE_OK);
    }
    wl_set_attr(e, &tag, 1, RL_STR("OLD1"));
    key.n = wl_key_of(e, kb, sizeof kb);
    assert_int_equal(wl_remove(t, key, &err), STORE_OK);
    uint64_t after = 0;
    assert_int_equal(store_entries(t, STORE_WL, &after, &err), STORE_OK);
    assert_int_equal(after, before);
    assert_int_equal(store_commit(t, &err), STORE_OK);
    free(d);
    rl_buf_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_nw_ihe_mapping),
        cmocka_unit_test(test_xo_ca_and_indexes),
        cmocka_unit_test(test_several_obr_and_omi),
        cmocka_unit_test(test_refusals),
        cmocka_unit_test(test_real_orders),
        cmocka_unit_test(test_mapping_overrides),
        cmocka_unit_test(test_matching),
        cmocka_unit_test(test_key_validation),
        cmocka_unit_test(test_planner),
        cmocka_unit_test(test_find_uses_index_and_filters),
        cmocka_unit_test(test_record_roundtrip),
        cmocka_unit_test(test_entries_compressed),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
