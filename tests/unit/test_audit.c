/* Audit events: every kind radlink writes is a valid PS3.15 AuditMessage
 * (checked with libxml2's RELAX NG validator against the standard's schema),
 * hostile values cannot break the XML, and events round-trip through the
 * store in order. */
#include "testutil.h"

#include <libxml/parser.h>
#include <libxml/relaxng.h>

#include "radlink/audit.h"
#include "radlink/rec.h"
#include "radlink/store.h"

static xmlRelaxNGPtr schema;

static int load_schema(void **state)
{
    (void)state;
    char path[1024];
    snprintf(path, sizeof path, "%s/dicom-audit-message.rng", TEST_DATA);
    xmlRelaxNGParserCtxtPtr pc = xmlRelaxNGNewParserCtxt(path);
    schema = xmlRelaxNGParse(pc);
    xmlRelaxNGFreeParserCtxt(pc);
    return schema ? 0 : -1;
}

static int free_schema(void **state)
{
    (void)state;
    xmlRelaxNGFree(schema);
    return 0;
}

/* Render ev, validate it, return the document (caller frees). */
static xmlDocPtr valid(const audit_event *ev)
{
    rl_buf b;
    rl_buf_init(&b, 0);
    assert_int_equal(audit_render(ev, &b), 0);
    xmlDocPtr d = xmlReadMemory(b.data, (int)b.len, "event.xml", NULL, XML_PARSE_NONET);
    if (!d)
        fail_msg("not well-formed: %.*s", (int)b.len, b.data);
    xmlRelaxNGValidCtxtPtr vc = xmlRelaxNGNewValidCtxt(schema);
    int rc = xmlRelaxNGValidateDoc(vc, d);
    xmlRelaxNGFreeValidCtxt(vc);
    if (rc != 0)
        fail_msg("not valid against PS3.15 A.5.1: %.*s", (int)b.len, b.data);
    rl_buf_free(&b);
    return d;
}

static bool contains(const audit_event *ev, const char *text)
{
    rl_buf b;
    rl_buf_init(&b, 0);
    assert_int_equal(audit_render(ev, &b), 0);
    bool yes = strstr(rl_buf_cstr(&b), text) != NULL;
    rl_buf_free(&b);
    return yes;
}

static void every_kind_is_valid(void **state)
{
    (void)state;
    audit_set_source("RADLINK", "DEPT");
    audit_event app = { .kind = AUDIT_APP_ACTIVITY, .type = AUDIT_T_APP_START, .action = 'E',
                        .party = { { .user_id = "radlink", .alt_id = "1234", .requestor = false,
                                     .role = AUDIT_ROLE_APPLICATION } },
                        .nparty = 1 };
    xmlFreeDoc(valid(&app));
    audit_event order = { .kind = AUDIT_ORDER, .action = 'C',
                          .party = { { .user_id = "RIS|HOSP", .address = "10.0.0.5",
                                       .requestor = true, .role = AUDIT_ROLE_SOURCE },
                                     { .user_id = "RADLINK", .requestor = false,
                                       .role = AUDIT_ROLE_DESTINATION } },
                          .nparty = 2, .patient_id = "PID1", .patient_name = "DOE^JANE",
                          .study_uid = "1.2.3", .accession = "ACC1" };
    xmlFreeDoc(valid(&order));
    audit_event stored = { .kind = AUDIT_INSTANCES_TRANSFERRED, .action = 'C',
                          .party = { { .user_id = "CT1", .address = "10.0.0.9", .requestor = true,
                                       .role = AUDIT_ROLE_SOURCE },
                                     { .user_id = "RADLINK", .role = AUDIT_ROLE_DESTINATION } },
                          .nparty = 2, .patient_id = "PID1", .study_uid = "1.2.3",
                          .sop = { { "1.2.840.10008.5.1.4.1.1.2", 3 } }, .nsop = 1 };
    xmlFreeDoc(valid(&stored));
    audit_event mpps = { .kind = AUDIT_PROCEDURE, .action = 'U', .mpps_uid = "1.2.4",
                         .party = { { .user_id = "CT1", .requestor = true } }, .nparty = 1,
                         .patient_id = "PID1", .study_uid = "1.2.3" };
    xmlFreeDoc(valid(&mpps));
    static const unsigned char q[] = { 0x08, 0x00, 0x50, 0x00, 0x00, 0x00, 0x00, 0x00 };
    audit_event query = { .kind = AUDIT_QUERY, .action = 'E',
                          .party = { { .user_id = "CT1", .address = "127.0.0.1", .requestor = true,
                                       .role = AUDIT_ROLE_SOURCE } },
                          .nparty = 1, .query = { (const char *)q, sizeof q },
                          .query_sop_class = "1.2.840.10008.5.1.4.31" };
    xmlDocPtr d = valid(&query);
    xmlFreeDoc(d);
    assert_true(contains(&query, "<ParticipantObjectQuery>CAB"));
    audit_event alert = { .kind = AUDIT_SECURITY_ALERT, .type = AUDIT_T_NODE_AUTH, .action = 'E',
                          .outcome = 4, .outcome_text = "TLS handshake failed: unknown CA",
                          .party = { { .user_id = "10.0.0.66", .address = "10.0.0.66",
                                       .requestor = true } },
                          .nparty = 1, .object_id = "10.0.0.66",
                          .object_desc = "no certificate" };
    xmlFreeDoc(valid(&alert));
}

static void hostile_values_stay_text(void **state)
{
    (void)state;
    audit_event ev = { .kind = AUDIT_PATIENT, .action = 'U',
                       .party = { { .user_id = "A\"B<C>&\x01\xff", .requestor = true } },
                       .nparty = 1, .patient_id = "X</ParticipantObjectID>",
                       .patient_name = "\xc3\x28 bad UTF-8 ]]>" };
    xmlFreeDoc(valid(&ev));
    assert_true(contains(&ev, "UserID=\"A&quot;B&lt;C&gt;&amp;??\""));
}

typedef struct seen {
    int n;
    uint64_t seq[4];
    uint32_t code[4];
    char pid[4][8];
} seen;

static int visit(void *ctx, const audit_rec *r)
{
    seen *s = ctx;
    if (s->n < 4) {
        s->seq[s->n] = r->seq;
        s->code[s->n] = r->code;
        snprintf(s->pid[s->n], sizeof s->pid[0], "%.*s", (int)r->patient_id.n, r->patient_id.p);
        s->n++;
    }
    return 0;
}

static void events_round_trip_in_order(void **state)
{
    (void)state;
    char dir[RL_CFG_PATH_MAX];
    assert_non_null(test_dir(dir, sizeof dir, "audit"));
    store *s;
    rl_err err;
    store_opts o = { .map_size = 64u << 20 };
    assert_int_equal(store_open(dir, &o, &s, &err), STORE_OK);
    store_txn *t;
    assert_int_equal(store_begin(s, NULL, true, &t, &err), STORE_OK);
    for (int i = 0; i < 3; i++) {
        audit_event ev = { .kind = i == 1 ? AUDIT_QUERY : AUDIT_ORDER, .action = 'C',
                           .party = { { .user_id = "RIS", .requestor = true } }, .nparty = 1,
                           .patient_id = i == 2 ? "P2" : "P1", .time_us = 1000 + i };
        assert_int_equal(audit_record(t, &ev, &err), STORE_OK);
    }
    assert_int_equal(audit_set_shipped(t, 2, &err), STORE_OK);
    assert_int_equal(store_commit(t, &err), STORE_OK);
    assert_int_equal(store_begin(s, NULL, false, &t, &err), STORE_OK);
    uint64_t shipped;
    assert_int_equal(audit_shipped(t, &shipped, &err), STORE_OK);
    assert_int_equal(shipped, 2);
    seen got = { 0 };
    assert_int_equal(audit_each(t, 2, visit, &got, &err), 0);
    assert_int_equal(got.n, 2);
    assert_int_equal(got.seq[0], 2);
    assert_int_equal(got.code[0], AUDIT_QUERY);
    assert_string_equal(got.pid[1], "P2");
    store_abort(t);
    store_close(s);
    char cmd[RL_CFG_PATH_MAX + 16];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    assert_int_equal(system(cmd), 0);
}

/* Kept as facts, written again: the same bytes as the event rendered when
 * it happened, under the source it happened under. */
static int same_xml(void *ctx, const audit_rec *r)
{
    rl_buf *want = ctx; /* each expected document, NUL-separated, in order */
    static size_t at;
    if (r->seq == 1)
        at = 0;
    rl_buf got;
    rl_buf_init(&got, 0);
    assert_int_equal(audit_rec_xml(r, &got), 0);
    const char *w = want->data + at;
    if (strlen(w) != got.len || memcmp(w, got.data, got.len) != 0)
        fail_msg("event %llu written again differs:\n%s\n%.*s", (unsigned long long)r->seq, w,
                 (int)got.len, got.data);
    at += strlen(w) + 1;
    rl_buf_free(&got);
    return 0;
}

static void facts_write_the_same_xml(void **state)
{
    (void)state;
    audit_set_source("RADLINK", "DEPT");
    static const unsigned char q[] = { 0x08, 0x00, 0x50, 0x00, 0x02, 0x00, 0x00, 0x00, 'A', '1' };
    audit_event evs[] = {
        { .kind = AUDIT_APP_ACTIVITY, .type = AUDIT_T_APP_START, .action = 'E',
          .party = { { .user_id = "radlink", .alt_id = "1234", .role = AUDIT_ROLE_APPLICATION } },
          .nparty = 1 },
        { .kind = AUDIT_ORDER, .action = 'C',
          .party = { { .user_id = "RIS|HOSP", .address = "10.0.0.5", .requestor = true,
                       .role = AUDIT_ROLE_SOURCE },
                     { .user_id = "RADLINK", .role = AUDIT_ROLE_DESTINATION } },
          .nparty = 2, .patient_id = "PID1", .patient_name = "M\xc3\xbcller^J\xc3\xbcrgen",
          .study_uid = "1.2.3", .accession = "ACC1" },
        { .kind = AUDIT_INSTANCES_TRANSFERRED, .action = 'C',
          .party = { { .user_id = "CT1", .address = "fe80::1", .requestor = true } }, .nparty = 1,
          .patient_id = "PID1", .study_uid = "1.2.3",
          .sop = { { "1.2.840.10008.5.1.4.1.1.2", 3 }, { NULL, 2 } }, .nsop = 2 },
        { .kind = AUDIT_PROCEDURE, .action = 'U', .mpps_uid = "1.2.4",
          .party = { { .user_id = "CT1", .requestor = true } }, .nparty = 1,
          .patient_id = "PID1", .study_uid = "1.2.3" },
        { .kind = AUDIT_QUERY, .action = 'E',
          .party = { { .user_id = "CT1", .address = "127.0.0.1", .requestor = true } },
          .nparty = 1, .query = { (const char *)q, sizeof q },
          .query_sop_class = "1.2.840.10008.5.1.4.31" },
        { .kind = AUDIT_SECURITY_ALERT, .type = AUDIT_T_NODE_AUTH, .action = 'E', .outcome = 4,
          .outcome_text = "TLS handshake failed:\nunknown CA",
          .party = { { .user_id = "10.0.0.66", .address = "10.0.0.66", .requestor = true } },
          .nparty = 1, .object_id = "10.0.0.66", .object_desc = "no certificate" },
        { .kind = AUDIT_PATIENT, .action = 'U',
          .party = { { .user_id = "A\"B<C>&\x01\xff", .requestor = true } }, .nparty = 1,
          .patient_id = "X</ParticipantObjectID>", .patient_name = "\xc3\x28 bad ]]>" },
    };
    size_t n = sizeof evs / sizeof *evs;
    rl_buf want;
    rl_buf_init(&want, 0);
    char dir[RL_CFG_PATH_MAX];
    assert_non_null(test_dir(dir, sizeof dir, "audit_facts"));
    store *s;
    rl_err err;
    store_opts o = { .map_size = 64u << 20 };
    assert_int_equal(store_open(dir, &o, &s, &err), STORE_OK);
    store_txn *t;
    assert_int_equal(store_begin(s, NULL, true, &t, &err), STORE_OK);
    for (size_t i = 0; i < n; i++) {
        evs[i].time_us = 1800000000000000ll + (int64_t)i * 1234567;
        assert_int_equal(audit_render(&evs[i], &want), 0);
        rl_buf_add_ch(&want, '\0');
        assert_int_equal(audit_record(t, &evs[i], &err), STORE_OK);
    }
    /* version 1, as radlink 0.3 stored it: its XML as it is */
    rl_buf v1;
    rl_buf_init(&v1, 0);
    rec_put_u8(&v1, 1);
    rec_put_u64(&v1, 1800000000000000ull);
    rec_put_u32(&v1, AUDIT_ORDER);
    rec_put_u8(&v1, 'C');
    rec_put_u8(&v1, 0);
    rec_put_cstr(&v1, "PID9");
    rec_put_cstr(&v1, "<AuditMessage>as stored</AuditMessage>");
    unsigned char k[8];
    rec_be64(n + 1, k);
    assert_int_equal(store_put(t, STORE_AUDIT, (rl_str){ (char *)k, 8 }, rl_buf_view(&v1), 0, &err),
                     STORE_OK);
    rl_buf_add_c(&want, "<AuditMessage>as stored</AuditMessage>");
    rl_buf_add_ch(&want, '\0');
    assert_int_equal(store_commit(t, &err), STORE_OK);
    audit_set_source("ELSEWHERE", "OTHER"); /* a later configuration changes nothing stored */
    assert_int_equal(store_begin(s, NULL, false, &t, &err), STORE_OK);
    assert_int_equal(audit_each(t, 1, same_xml, &want, &err), 0);
    /* each is smaller than its XML */
    store_cursor *c;
    assert_int_equal(store_cursor_open(t, STORE_AUDIT, &c, &err), STORE_OK);
    rl_str key, val;
    size_t stored = 0;
    for (int r = store_cursor_get(c, STORE_FIRST, &key, &val); r == STORE_OK && stored < n;
         r = store_cursor_get(c, STORE_NEXT, &key, &val))
        stored += val.n;
    store_cursor_close(c);
    assert_true(stored * 3 < want.len);
    store_abort(t);
    store_close(s);
    rl_buf_free(&v1);
    rl_buf_free(&want);
    audit_set_source("RADLINK", "DEPT");
    char cmd[RL_CFG_PATH_MAX + 16];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    assert_int_equal(system(cmd), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(every_kind_is_valid),
        cmocka_unit_test(hostile_values_stay_text),
        cmocka_unit_test(events_round_trip_in_order),
        cmocka_unit_test(facts_write_the_same_xml),
    };
    return cmocka_run_group_tests(tests, load_schema, free_schema);
}
