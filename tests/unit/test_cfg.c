/* The configuration's walk by its table of keys: values land where their
 * rows say, every error is "file:line: message" naming the attribute and
 * its bounds, and one error refuses the whole file. */
#include <libxml/parser.h>
#include <sys/stat.h>
#include <unistd.h>

#include "radlink/cfg.h"
#include "radlink/job.h"
#include "radlink/log.h"
#include "testutil.h"

static char dir[RL_CFG_PATH_MAX];

/* Write <radlink>body</radlink> to dir/name; body's first line is line 2. */
static const char *write_cfg(const char *name, const char *body)
{
    static char path[RL_CFG_PATH_MAX + 64];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fprintf(f, "<radlink>\n%s</radlink>\n", body);
    fclose(f);
    return path;
}

/* Load body over the defaults; the errors, or "" (static until the next call). */
static const char *load(cfg *c, const char *body, int *rc)
{
    static char out[8192];
    rl_buf errors;
    rl_buf_init(&errors, 0);
    cfg_defaults(c);
    *rc = cfg_load(c, write_cfg("radlink.xml", body), &errors);
    snprintf(out, sizeof out, "%.*s", (int)errors.len, errors.data ? errors.data : "");
    rl_buf_free(&errors);
    return out;
}

/* The walk alone, without the schema, over body named walk.xml. */
static const char *walk(cfg *c, const char *body, int *rc)
{
    static char out[8192];
    char text[16384];
    int n = snprintf(text, sizeof text, "<radlink>\n%s</radlink>\n", body);
    xmlDocPtr doc = xmlReadMemory(text, n, "walk.xml", NULL, XML_PARSE_NONET | XML_PARSE_BIG_LINES);
    assert_non_null(doc);
    rl_buf errors;
    rl_buf_init(&errors, 0);
    cfg_defaults(c);
    *rc = cfg_load_doc(c, doc, "walk.xml", &errors);
    snprintf(out, sizeof out, "%.*s", (int)errors.len, errors.data ? errors.data : "");
    rl_buf_free(&errors);
    xmlFreeDoc(doc);
    return out;
}

/* The file is refused, c is the defaults still, and errors is exactly want
 * (with FILE standing for the file's path). */
static void assert_refused(const cfg *c, int rc, const char *errors, const char *want)
{
    char full[8192], path[RL_CFG_PATH_MAX + 64];
    snprintf(path, sizeof path, "%s/radlink.xml", dir);
    size_t o = 0;
    for (const char *p = want; *p && o + sizeof path < sizeof full;) {
        if (strncmp(p, "FILE", 4) == 0) {
            o += (size_t)snprintf(full + o, sizeof full - o, "%s", path);
            p += 4;
        } else {
            full[o++] = *p++;
        }
    }
    full[o] = '\0';
    assert_int_equal(rc, -1);
    assert_string_equal(errors, full);
    cfg d;
    cfg_defaults(&d);
    assert_memory_equal(c, &d, sizeof d);
}

static int setup(void **state)
{
    (void)state;
    assert_non_null(test_dir(dir, sizeof dir, "cfg"));
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    char path[RL_CFG_PATH_MAX + 64];
    snprintf(path, sizeof path, "%s/radlink.xml", dir);
    unlink(path);
    snprintf(path, sizeof path, "%s/sub/radlink.xml", dir);
    unlink(path);
    snprintf(path, sizeof path, "%s/sub", dir);
    rmdir(path);
    rmdir(dir);
    return 0;
}

/* Every row is one the walk can apply: its element has a row, its field
 * the width its type stores, an enumeration its names, a duration its hint. */
static void test_table_rows_sound(void **state)
{
    (void)state;
    size_t n;
    const cfg_key *keys = cfg_keys(&n);
    assert_true(n > 80);
    for (size_t i = 0; i < n; i++) {
        const cfg_key *k = &keys[i];
        const cfg_key *e = cfg_key_find(k->elem, NULL);
        if (!e)
            fail_msg("%s %s: no row for its element", k->elem, k->attr);
        if (k->attr && cfg_key_find(k->elem, k->attr) != k)
            fail_msg("%s %s: two rows", k->elem, k->attr);
        switch (k->type) {
        case CFG_ELEM:
            assert_true(k->max >= 1);
            assert_null(k->attr);
            break;
        case CFG_PORT:
        case CFG_LISTEN:
        case CFG_UINT:
        case CFG_MIB:
        case CFG_DURATION:
            if (k->size != 4 && k->size != 8)
                fail_msg("%s %s: a number in %zu bytes", k->elem, k->attr, k->size);
            assert_true(k->min <= k->def || !k->def);
            assert_true(k->def <= k->max);
            assert_true(k->size == 8 || k->max <= UINT32_MAX);
            if (k->type == CFG_DURATION)
                assert_non_null(k->hint);
            break;
        case CFG_BOOL:
            assert_int_equal(k->size, sizeof(bool));
            break;
        case CFG_ENUM: {
            assert_non_null(k->names);
            uint64_t count = 0;
            while (k->names[count])
                count++;
            assert_true(k->def < count);
            assert_true(k->size == 1 || k->size == 4);
            break;
        }
        default:
            assert_true(k->size > 1);
            assert_true(!k->def_text || strlen(k->def_text) < k->size);
            break;
        }
        assert_non_null(k->doc);
    }
}

/* The defaults come from the rows; printed as `radlink serve` always has. */
static void test_defaults(void **state)
{
    (void)state;
    cfg c;
    cfg_defaults(&c);
    assert_string_equal(c.data_dir, "./var");
    assert_int_equal(c.n_mllp, 1);
    assert_string_equal(c.mllp[0].bind, "127.0.0.1");
    assert_int_equal(c.mllp[0].port, RL_MLLP_PORT_DEFAULT);
    assert_int_equal(c.max_frame, RL_MAX_FRAME_DEFAULT);
    assert_int_equal(c.retention.every_s, RL_RETENTION_EVERY_DEFAULT_S);
    assert_int_equal(c.audit.port, 0); /* 6514 only once a <syslog> opens */
    assert_int_equal(c.n_pacs, 0);
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    cfg_print(&c, f);
    fclose(f);
    char data_line[RL_ABS_PATH_MAX + 8], abs[RL_ABS_PATH_MAX];
    snprintf(data_line, sizeof data_line, "data=%s\n", rl_abspath("./var", abs, sizeof abs));
    char *at = strstr(text, data_line); /* printed absolute */
    assert_non_null(at);
    memmove(at + 11, at + strlen(data_line), strlen(at + strlen(data_line)) + 1);
    memcpy(at, "data=./var\n", 11); /* the rest as it always was */
    assert_string_equal(text,
                        "config=embedded default\n"
                        "data=./var\n"
                        "log.level=info\n"
                        "mllp.listen=127.0.0.1:2575\n"
                        "mllp.max-frame=16777216\n"
                        "mllp.max-connections=256\n"
                        "mllp.max-per-address=64\n"
                        "mllp.max-buffered-mb=256\n"
                        "mllp.idle-timeout=600\n"
                        "mllp.read-timeout=60\n"
                        "mllp.stress-timeout=5\n"
                        "mllp.allow-from=any\n"
                        "dicom.listen=127.0.0.1:11112 ae=RADLINK allowed=any\n"
                        "dicom.association-timeout=10\n"
                        "dicom.max-per-address=8\n"
                        "dicom.max-connections=512\n"
                        "dicom.stress-timeout=2\n"
                        "dicom.allow-from=any\n"
                        "http.listen=127.0.0.1:8080 users=DATA/users\n"
                        "http.allow-from=any\n"
                        "recon.unmatched=hold\n"
                        "dicom.duplicates=replace\n"
                        "jobs.workers=2\n"
                        "jobs.max-attempts=5\n"
                        "jobs.worker-timeout=10\n"
                        "jobs.study-stable=5\n"
                        "routes=built-in default\n"
                        "audit=kept in the store (no <audit><syslog>)\n"
                        "store.max-map-size-mb=262144\n"
                        "store.map-size-mb=16384\n"
                        "store.group-commit=true\n"
                        "hl7.dedup-window=86400\n");
    free(text);
}

static const char full[] =
    "<data dir=\"data/here\"/>\n"
    "<log level=\"debug\"/>\n"
    "<store map-size-mb=\"100\" max-map-size-mb=\"200\" group-commit=\"false\"/>\n"
    "<hl7 dedup-window=\"3600\"/>\n"
    "<dicom port=\"4242\" bind=\"0.0.0.0\" ae-title=\"MYAE\" association-timeout=\"20\"\n"
    "  max-per-address=\"3\" max-associations=\"7\" max-responses=\"50\" timeout=\"30\"\n"
    "  case-insensitive-names=\"true\" mwl-hide=\"COMPLETED\" duplicates=\"refuse\">\n"
    "  <tls port=\"2762\" cert=\"c.pem\" key=\"k.pem\" ca=\"/abs/ca.pem\" verify-client=\"true\"/>\n"
    "  <allow ae=\"CT01\"/><allow ae=\"MR02\"/>\n"
    "  <pacs ae=\"P1\" host=\"pacs1\" port=\"104\" update=\"hl7\" hl7-destination=\"adt\"\n"
    "    verify=\"find\" reject-reason=\"patient-safety\" commit-timeout=\"99\" mpps=\"true\"\n"
    "    associations=\"4\">\n"
    "    <tls ca=\"pca.pem\" cert=\"pc.pem\" key=\"pk.pem\"/>\n"
    "  </pacs>\n"
    "  <pacs ae=\"P2\" host=\"pacs2\" port=\"105\" update=\"iocm\" verify=\"none\"/>\n"
    "</dicom>\n"
    "<jobs workers=\"4\" max-attempts=\"9\" worker-timeout=\"20\" study-stable=\"0\"\n"
    "  listen=\"tcp://*:5555\" key-file=\"engine.key\">\n"
    "  <worker-key public=\"0123456789012345678901234567890123456789\"/>\n"
    "</jobs>\n"
    "<retention messages=\"90d\" messages-max-mb=\"500\" worklist=\"7d\" jobs=\"1h30m\"\n"
    "  spool=\"30d\" audit=\"365d\" every=\"5m\"/>\n"
    "<recon unmatched=\"hold\" forward-after=\"4h\"/>\n"
    "<routes file=\"routes.xml\"/>\n"
    "<inbox dir=\"drop\" poll=\"9\"/>\n"
    "<audit site=\"RAD\">\n"
    "  <syslog host=\"collector\" ca=\"aca.pem\" cert=\"ac.pem\" key=\"ak.pem\" server-name=\"sn\"/>\n"
    "</audit>\n"
    "<destinations>\n"
    "  <destination name=\"adt\" host=\"h1\" port=\"2576\" ack-timeout=\"5\" max-retry-delay=\"9\">\n"
    "    <tls ca=\"dca.pem\"/>\n"
    "  </destination>\n"
    "  <destination name=\"res\" host=\"h2\" port=\"2577\"/>\n"
    "</destinations>\n"
    "<http bind=\"0.0.0.0\" port=\"8443\" users=\"users.txt\" max-connections=\"10\"\n"
    "  session-idle=\"1h\" lockout-failures=\"3\" lockout=\"2m\">\n"
    "  <tls cert=\"hc.pem\" key=\"hk.pem\" ca=\"hca.pem\" verify-client=\"true\"/>\n"
    "</http>\n"
    "<mllp max-frame=\"1000\" max-connections=\"10\" max-per-address=\"2\" max-buffered-mb=\"5\"\n"
    "  idle-timeout=\"100\" read-timeout=\"10\">\n"
    "  <listen bind=\"0.0.0.0\" port=\"3000\"/>\n"
    "  <listen port=\"3001\"><tls cert=\"mc.pem\" key=\"mk.pem\" ca=\"mca.pem\" verify-client=\"1\"/></listen>\n"
    "</mllp>\n";

static void assert_landed_top(const cfg *c)
{
    /* relative to the file (in sub/), as every path of a configuration */
    size_t dn = strlen(c->data_dir);
    assert_true(dn > 14 && !strcmp(c->data_dir + dn - 14, "/sub/data/here"));
    assert_int_equal(c->log_level, LOG_DEBUG);
    assert_int_equal(c->map_size_mb, 100);
    assert_int_equal(c->max_map_size_mb, 200);
    assert_false(c->group_commit);
    assert_int_equal(c->dedup_window_s, 3600);
    assert_int_equal(c->retention.messages_s, 90 * 86400);
    assert_int_equal(c->retention.worklist_s, 7 * 86400);
    assert_int_equal(c->retention.jobs_s, 5400);
    assert_int_equal(c->retention.spool_s, 30 * 86400);
    assert_int_equal(c->retention.audit_s, 365 * 86400);
    assert_int_equal(c->retention.every_s, 300);
    assert_int_equal(c->retention.messages_max_mb, 500);
    assert_int_equal(c->unmatched_forward_s, 4 * 3600); /* forward-after decides */
    assert_int_equal(c->workers, 4);
    assert_int_equal(c->job_attempts, 9);
    assert_int_equal(c->worker_timeout_s, 20);
    assert_int_equal(c->study_stable_s, 0);
    assert_string_equal(c->jobs_listen, "tcp://*:5555");
    assert_int_equal(c->n_worker_keys, 1);
    assert_string_equal(c->worker_keys[0], "0123456789012345678901234567890123456789");
    assert_string_equal(c->audit.site, "RAD");
    assert_string_equal(c->audit.host, "collector");
    assert_string_equal(c->audit.server_name, "sn");
    assert_int_equal(c->audit.port, RL_AUDIT_SYSLOG_PORT_DEFAULT);
    assert_int_equal(c->inbox_poll_s, 9);
    assert_string_equal(c->http.l.bind, "0.0.0.0");
    assert_int_equal(c->http.l.port, 8443);
    assert_true(c->http.l.tls && c->http.l.verify_client);
    assert_int_equal(c->http.max_connections, 10);
    assert_int_equal(c->http.session_idle_s, 3600);
    assert_int_equal(c->http.lockout_failures, 3);
    assert_int_equal(c->http.lockout_s, 120);
    assert_int_equal(c->max_frame, 1000);
    assert_int_equal(c->max_connections, 10);
    assert_int_equal(c->max_per_address, 2);
    assert_int_equal(c->max_buffered_mb, 5);
    assert_int_equal(c->idle_timeout_s, 100);
    assert_int_equal(c->read_timeout_s, 10);
    assert_int_equal(c->n_mllp, 2);
    assert_string_equal(c->mllp[0].bind, "0.0.0.0");
    assert_int_equal(c->mllp[0].port, 3000);
    assert_false(c->mllp[0].tls);
    assert_string_equal(c->mllp[1].bind, "127.0.0.1"); /* the row's default */
    assert_int_equal(c->mllp[1].port, 3001);
    assert_true(c->mllp[1].tls && c->mllp[1].verify_client);
    size_t cn = strlen(c->mllp[1].cert); /* relative to the file, as every path */
    assert_true(cn > 11 && !strcmp(c->mllp[1].cert + cn - 11, "/sub/mc.pem"));
}

static void assert_landed_dicom(const cfg *c)
{
    assert_int_equal(c->dicom_port, 4242);
    assert_string_equal(c->dicom_bind, "0.0.0.0");
    assert_string_equal(c->dicom_ae, "MYAE");
    assert_int_equal(c->dicom_assoc_timeout_s, 20);
    assert_int_equal(c->dicom_max_per_address, 3);
    assert_int_equal(c->dicom_max_associations, 7);
    assert_int_equal(c->dicom_max_responses, 50);
    assert_int_equal(c->dicom_timeout_s, 30);
    assert_true(c->dicom_icase_names);
    assert_string_equal(c->dicom_mwl_hide, "COMPLETED");
    assert_true(c->dicom_refuse_duplicates);
    assert_true(c->dicom_tls.on && c->dicom_tls.verify_peer);
    assert_int_equal(c->dicom_tls.port, 2762);
    assert_string_equal(c->dicom_tls.ca, "/abs/ca.pem");
    assert_int_equal(c->n_dicom_allowed, 2);
    assert_string_equal(c->dicom_allowed[1], "MR02");
    assert_int_equal(c->n_pacs, 2);
    const cfg_pacs *p = &c->pacs[0];
    assert_string_equal(p->ae, "P1");
    assert_string_equal(p->host, "pacs1");
    assert_int_equal(p->port, 104);
    assert_int_equal(p->update, PACS_UPDATE_HL7);
    assert_string_equal(p->hl7_dest, "adt");
    assert_int_equal(p->verify, PACS_VERIFY_FIND);
    assert_int_equal(p->reject, PACS_REJECT_SAFETY);
    assert_int_equal(p->commit_timeout_s, 99);
    assert_int_equal(p->associations, 4);
    assert_true(p->mpps && p->tls.on);
    p = &c->pacs[1];
    assert_int_equal(p->update, PACS_UPDATE_IOCM);
    assert_int_equal(p->verify, PACS_VERIFY_NONE);
    assert_int_equal(p->commit_timeout_s, RL_COMMIT_TIMEOUT_DEFAULT_S);
    assert_int_equal(p->associations, RL_SEND_ASSOCIATIONS_DEFAULT);
    assert_false(p->mpps || p->tls.on);
}

/* A valid file lands each value in the struct; relative paths follow their
 * rows' rules (the file sits in sub/). */
static void test_valid_file_lands(void **state)
{
    (void)state;
    char sub[RL_CFG_PATH_MAX + 16], want[RL_CFG_PATH_MAX + 96];
    snprintf(sub, sizeof sub, "%s/sub", dir);
    assert_int_equal(mkdir(sub, 0700), 0);
    cfg c;
    cfg_defaults(&c);
    rl_buf errors;
    rl_buf_init(&errors, 0);
    int rc = cfg_load(&c, write_cfg("sub/radlink.xml", full), &errors);
    if (rc != 0)
        fail_msg("%.*s", (int)errors.len, errors.data);
    rl_buf_free(&errors);
    assert_landed_top(&c);
    assert_landed_dicom(&c);
    const char *relative[][2] = {
        { c.dicom_tls.cert, "c.pem" }, { c.pacs[0].tls.key, "pk.pem" },
        { c.jobs_key_file, "engine.key" }, { c.routes_file, "routes.xml" },
        { c.inbox_dir, "drop" }, { c.audit.ca, "aca.pem" },
        { c.http.users, "users.txt" }, { c.http.l.cert, "hc.pem" },
        { c.dests[0].ca, "dca.pem" },
    };
    for (size_t i = 0; i < sizeof relative / sizeof *relative; i++) {
        snprintf(want, sizeof want, "%s/%s", sub, relative[i][1]);
        assert_string_equal(relative[i][0], want);
    }
    /* destinations are read by the route module; the table's defaults agree */
    assert_int_equal(c.n_dests, 2);
    assert_int_equal(c.dests[0].ack_timeout_s, 5);
    assert_int_equal(c.dests[1].ack_timeout_s,
                     cfg_key_find("destinations/destination", "ack-timeout")->def);
    assert_int_equal(c.dests[1].max_retry_delay_s,
                     cfg_key_find("destinations/destination", "max-retry-delay")->def);
    assert_true(c.dests[0].tls && !c.dests[1].tls);
}

/* A number out of bounds: file:line, the attribute, its bound. */
static void test_out_of_bounds(void **state)
{
    (void)state;
    cfg c;
    int rc;
    const char *e = load(&c, "<jobs worker-timeout=\"3601\"/>\n", &rc);
    assert_refused(&c, rc, e, "FILE:2: worker-timeout: '3601' is not a number up to 3600\n");
    e = load(&c, "<store/>\n<mllp max-frame=\"268435457\"/>\n", &rc);
    assert_refused(&c, rc, e, "FILE:3: max-frame: '268435457' is not a number up to 268435456\n");
    e = load(&c, "<audit><syslog host=\"h\" port=\"65536\"/></audit>\n", &rc);
    assert_refused(&c, rc, e, "FILE:2: port: '65536' is not a number up to 65535\n");
    e = load(&c, "<mllp allow-from=\"10.0.0.0/8 10.0.0/8\"/>\n", &rc);
    assert_refused(&c, rc, e, "FILE:2: allow-from: '10.0.0/8' is not an address or CIDR block "
                              "(10.0.0.0/8, 192.168.1.5, fd00::/8)\n");
    e = load(&c, "<dicom allow-from=\"::1/129\"/>\n", &rc);
    assert_refused(&c, rc, e, "FILE:2: allow-from: '::1/129' is not an address or CIDR block "
                              "(10.0.0.0/8, 192.168.1.5, fd00::/8)\n");
    e = load(&c, "<http allow-from=\"10.1.0.0/16, fd00::/8\" stress-timeout=\"3\"/>\n", &rc);
    assert_int_equal(rc, 0);
    assert_string_equal(c.http.allow_from, "10.1.0.0/16, fd00::/8");
    assert_int_equal(c.http.stress_timeout_s, 3);
    char longer[400];
    snprintf(longer, sizeof longer, "<audit site=\"%064d\"/>\n", 0);
    e = load(&c, longer, &rc);
    assert_refused(&c, rc, e, "FILE:2: site: value longer than 63 characters\n");
    /* below the minimum: the schema says so first, the walk as well */
    e = walk(&c, "<mllp max-frame=\"0\"/>\n", &rc);
    assert_int_equal(rc, -1);
    assert_string_equal(e, "walk.xml:2: max-frame: '0' is not a number from 1 to 268435456\n");
}

/* A listener's port may be auto (the system picks it); other ports may not. */
static void test_listen_port_auto(void **state)
{
    (void)state;
    cfg c;
    int rc;
    const char *e = load(&c,
                         "<dicom port=\"auto\"/>\n<http port=\"auto\"/>\n"
                         "<mllp><listen port=\"auto\"/><listen port=\"2600\"/></mllp>\n",
                         &rc);
    assert_int_equal(rc, 0);
    assert_string_equal(e, "");
    assert_int_equal(c.dicom_port, RL_PORT_AUTO);
    assert_int_equal(c.http.l.port, RL_PORT_AUTO);
    assert_int_equal(c.n_mllp, 2);
    assert_int_equal(c.mllp[0].port, RL_PORT_AUTO);
    assert_int_equal(c.mllp[1].port, 2600);
    e = walk(&c, "<audit><syslog host=\"h\" port=\"auto\"/></audit>\n", &rc);
    assert_int_equal(rc, -1);
    assert_string_equal(e, "walk.xml:2: port: 'auto' is not a number up to 65535\n");
    e = load(&c, "<dicom port=\"automatic\"/>\n", &rc);
    assert_int_equal(rc, -1);
    assert_non_null(strstr(e, "radlink.xml:2:"));
}

static void test_bad_duration(void **state)
{
    (void)state;
    cfg c;
    int rc;
    const char *e = load(&c, "<http session-idle=\"soon\"/>\n", &rc);
    assert_refused(&c, rc, e, "FILE:2: <http>: session-idle 'soon' is not a duration of 1s to 1d "
                              "(90s, 30m, 4h)\n");
    e = load(&c, "<http lockout=\"2d\"/>\n", &rc);
    assert_refused(&c, rc, e, "FILE:2: <http>: lockout '2d' is not a duration of 1s to 1d "
                              "(90s, 30m, 4h)\n");
    e = load(&c, "<retention messages=\"3q\"/>\n", &rc);
    assert_refused(&c, rc, e, "FILE:2: <retention>: messages '3q' is not a duration (90d, 12h, "
                              "30m, 45s)\n");
    e = load(&c, "<recon forward-after=\"367d\"/>\n", &rc);
    assert_refused(&c, rc, e, "FILE:2: <recon>: forward-after '367d' is not a duration (90s, "
                              "30m, 4h, 2d)\n");
}

static void test_unknown_enumeration(void **state)
{
    (void)state;
    cfg c;
    int rc;
    const char *body = "<dicom>\n<pacs ae=\"P\" host=\"h\" port=\"1\" update=\"nope\"/>\n</dicom>\n";
    const char *e = load(&c, body, &rc); /* the schema, first */
    assert_int_equal(rc, -1);
    assert_non_null(strstr(e, "radlink.xml:3: "));
    assert_non_null(strstr(e, "'update'"));
    assert_non_null(strstr(e, "'nope'"));
    e = walk(&c, body, &rc); /* the walk, on its own */
    assert_int_equal(rc, -1);
    assert_string_equal(e, "walk.xml:3: update: 'nope' is not one of resend, hl7, iocm\n");
}

static void test_too_many(void **state)
{
    (void)state;
    cfg c;
    int rc;
    char body[4096] = "<mllp>\n";
    for (int i = 0; i < 9; i++)
        snprintf(body + strlen(body), sizeof body - strlen(body),
                 "<listen port=\"%d\"/>\n", 3000 + i);
    snprintf(body + strlen(body), sizeof body - strlen(body), "</mllp>\n");
    const char *e = load(&c, body, &rc); /* maxOccurs in the schema */
    assert_int_equal(rc, -1);
    assert_non_null(strstr(e, "radlink.xml:11: "));
    e = walk(&c, body, &rc); /* the row's max in the walk */
    assert_int_equal(rc, -1);
    assert_string_equal(e, "walk.xml:11: <listen>: at most 8 of these\n");
    e = walk(&c, "<dicom><tls port=\"1\" cert=\"c\" key=\"k\"/>\n<tls port=\"2\" cert=\"c\" "
                 "key=\"k\"/></dicom>\n<bogus/>\n", &rc);
    assert_string_equal(e, "walk.xml:3: <tls>: at most 1 of these\n"
                           "walk.xml:4: <bogus>: not an element of the configuration here\n");
}

/* Every error of the file is given, in the file's order; the checks
 * between keys come after the walk. */
static void test_every_error_collected(void **state)
{
    (void)state;
    cfg c;
    int rc;
    const char *e = load(&c,
                         "<hl7 dedup-window=\"99999999999\"/>\n"
                         "<dicom><pacs ae=\"X\" host=\"h\" port=\"1\" update=\"hl7\" "
                         "hl7-destination=\"x\"><tls cert=\"c\"/></pacs></dicom>\n"
                         "<jobs key-file=\"k\"/>\n"
                         "<mllp><listen port=\"1\"><tls cert=\"c\" key=\"k\" verify-client=\"true\"/>"
                         "</listen></mllp>\n",
                         &rc);
    assert_refused(&c, rc, e,
                   "FILE:2: dedup-window: '99999999999' is not a number up to 31536000\n"
                   "FILE:3: tls: cert and key go together\n"
                   "FILE:4: <jobs>: a key-file needs at least one <worker-key> (the public keys "
                   "of the workers allowed in)\n"
                   "FILE:5: tls: verify-client needs a ca file\n"
                   "FILE:3: <pacs ae=\"X\">: update=\"hl7\" needs hl7-destination naming a "
                   "<destination> of this file ('x' is none)\n");
}

/* <recon>: unmatched alone, forward-after alone or both. */
static void test_recon(void **state)
{
    (void)state;
    static const struct { const char *attrs; unsigned want; } cases[] = {
        { "unmatched=\"forward\"", 1 },
        { "unmatched=\"hold\"", 0 },
        { "forward-after=\"2d\"", 2 * 86400 },
        { "unmatched=\"forward\" forward-after=\"0\"", 0 },
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        char body[128];
        snprintf(body, sizeof body, "<recon %s/>\n", cases[i].attrs);
        cfg c;
        int rc;
        const char *e = load(&c, body, &rc);
        assert_string_equal(e, "");
        assert_int_equal(c.unmatched_forward_s, cases[i].want);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_table_rows_sound),
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_valid_file_lands),
        cmocka_unit_test(test_out_of_bounds),
        cmocka_unit_test(test_listen_port_auto),
        cmocka_unit_test(test_bad_duration),
        cmocka_unit_test(test_unknown_enumeration),
        cmocka_unit_test(test_too_many),
        cmocka_unit_test(test_every_error_collected),
        cmocka_unit_test(test_recon),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
