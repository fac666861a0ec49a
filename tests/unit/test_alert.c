/* The alert rules and the book (engine/alert/rules.c, book.c): which
 * conditions each kind of rule finds in measured facts, and the book's
 * firing, repeat, resolution, for=, and its JSON round trip. */
#include "testutil.h"

#include "radlink/alert.h"

#define S 1000000LL /* a second in microseconds */
#define NOW (1800000000LL * S)

static cfg_alert_rule rule(alert_on on, uint64_t over, uint32_t older, uint32_t within)
{
    cfg_alert_rule r;
    memset(&r, 0, sizeof r);
    r.on = on;
    r.over = over;
    r.older_s = older;
    r.within_s = within;
    return r;
}

static alert_facts *facts(void)
{
    alert_facts *f = calloc(1, sizeof *f);
    f->now_us = NOW;
    f->store_pct = f->disk_pct = -1;
    return f;
}

/* The conditions a (one rule) finds in f, their subjects joined by '|'. */
static size_t eval1(const cfg_alert_rule *r, const alert_facts *f, char *subjects, size_t n,
                    alert_cond **out)
{
    cfg_alerts *a = calloc(1, sizeof *a);
    a->rules[0] = *r;
    a->n_rules = 1;
    size_t k = 0, cap = 0;
    *out = NULL;
    assert_int_equal(alert_eval(a, f, out, &k, &cap), 0);
    subjects[0] = '\0';
    for (size_t i = 0; i < k; i++)
        snprintf(subjects + strlen(subjects), n - strlen(subjects), "%s%s", i ? "|" : "",
                 (*out)[i].subject);
    free(a);
    return k;
}

static void queues(void **state)
{
    (void)state;
    alert_facts *f = facts();
    f->nd = 2;
    snprintf(f->d[0].name, sizeof f->d[0].name, "ris");
    f->d[0].pending = 5, f->d[0].oldest_us = NOW - 3600 * S, f->d[0].parked = 2;
    snprintf(f->d[1].name, sizeof f->d[1].name, "billing");
    f->d[1].pending = 1, f->d[1].oldest_us = NOW - 10 * S;
    char subj[256];
    alert_cond *c;
    cfg_alert_rule r = rule(ALERT_QUEUE_DEPTH, 4, 0, 0);
    assert_int_equal(eval1(&r, f, subj, sizeof subj, &c), 1);
    assert_string_equal(subj, "ris");
    assert_non_null(strstr(c[0].text, "5 messages waiting"));
    free(c);
    r = rule(ALERT_QUEUE_DEPTH, 0, 0, 0);
    assert_int_equal(eval1(&r, f, subj, sizeof subj, &c), 2);
    assert_non_null(strstr(c[1].text, "1 message waiting"));
    free(c);
    snprintf(r.destination, sizeof r.destination, "billing");
    assert_int_equal(eval1(&r, f, subj, sizeof subj, &c), 1);
    assert_string_equal(subj, "billing");
    free(c);
    r = rule(ALERT_QUEUE_AGE, 0, 30 * 60, 0);
    assert_int_equal(eval1(&r, f, subj, sizeof subj, &c), 1);
    assert_string_equal(subj, "ris");
    assert_non_null(strstr(c[0].text, "waited 1h 0m"));
    free(c);
    r = rule(ALERT_PARKED, 0, 0, 0);
    assert_int_equal(eval1(&r, f, subj, sizeof subj, &c), 1);
    assert_non_null(strstr(c[0].text, "2 messages parked"));
    free(c);
    alert_facts_free(f);
    free(f);
}

static void jobs_studies_reports(void **state)
{
    (void)state;
    alert_facts *f = facts();
    char subj[256];
    alert_cond *c;
    cfg_alert_rule r = rule(ALERT_DEAD_JOBS, 0, 0, 0);
    assert_int_equal(eval1(&r, f, subj, sizeof subj, &c), 0);
    free(c);
    f->jobs_dead = 1;
    assert_int_equal(eval1(&r, f, subj, sizeof subj, &c), 1);
    assert_non_null(strstr(c[0].text, "1 job dead"));
    free(c);
    f->unmatched_us = malloc(3 * sizeof *f->unmatched_us);
    f->unmatched_us[0] = NOW - 2 * 86400 * S;
    f->unmatched_us[1] = NOW - 3 * 86400 * S;
    f->unmatched_us[2] = NOW - 60 * S;
    f->nunmatched = 3;
    r = rule(ALERT_UNMATCHED, 0, 86400, 0);
    assert_int_equal(eval1(&r, f, subj, sizeof subj, &c), 1);
    assert_non_null(strstr(c[0].text, "2 studies unmatched for over 1d 0h"));
    free(c);
    r = rule(ALERT_REPORTS, 0, 86400, 0);
    assert_int_equal(eval1(&r, f, subj, sizeof subj, &c), 0); /* none waiting */
    free(c);
    alert_facts_free(f);
    free(f);
}

static void certs_use_audit_workers(void **state)
{
    (void)state;
    alert_facts *f = facts();
    char subj[512];
    alert_cond *c;
    f->ncerts = 3;
    snprintf(f->certs[0].what, sizeof f->certs[0].what, "MLLP listener 1 certificate");
    f->certs[0].not_after_us = NOW + 5 * 86400 * S;
    snprintf(f->certs[1].what, sizeof f->certs[1].what, "CA of PACS");
    f->certs[1].not_after_us = NOW + 400 * 86400 * S;
    snprintf(f->certs[2].what, sizeof f->certs[2].what, "expired one");
    f->certs[2].not_after_us = NOW - 86400 * S;
    cfg_alert_rule r = rule(ALERT_CERTIFICATE, 0, 0, 30 * 86400);
    assert_int_equal(eval1(&r, f, subj, sizeof subj, &c), 2);
    assert_string_equal(subj, "MLLP listener 1 certificate|expired one");
    assert_non_null(strstr(c[0].text, "in 5d 0h"));
    assert_non_null(strstr(c[1].text, "expired on"));
    free(c);
    r = rule(ALERT_DISK_USE, 90, 0, 0);
    assert_int_equal(eval1(&r, f, subj, sizeof subj, &c), 0); /* unknown: nothing said */
    free(c);
    f->disk_pct = 91, f->store_pct = 50;
    assert_int_equal(eval1(&r, f, subj, sizeof subj, &c), 1);
    free(c);
    r = rule(ALERT_STORE_USE, 90, 0, 0);
    assert_int_equal(eval1(&r, f, subj, sizeof subj, &c), 0);
    free(c);
    r = rule(ALERT_AUDIT_DOWN, 0, 600, 0);
    f->audit_on = true;
    f->audit_down_us = NOW - 60 * S;
    assert_int_equal(eval1(&r, f, subj, sizeof subj, &c), 0); /* down, not yet long */
    free(c);
    f->audit_down_us = NOW - 700 * S;
    assert_int_equal(eval1(&r, f, subj, sizeof subj, &c), 1);
    free(c);
    r = rule(ALERT_WORKER_LOST, 0, 0, 0);
    f->workers_expected = 2, f->workers_connected = 2;
    assert_int_equal(eval1(&r, f, subj, sizeof subj, &c), 0);
    free(c);
    f->workers_connected = 1, f->workers_lost = 3;
    assert_int_equal(eval1(&r, f, subj, sizeof subj, &c), 1);
    assert_non_null(strstr(c[0].text, "1 of 2 workers connected"));
    free(c);
    alert_facts_free(f);
    free(f);
}

static alert_cond cond(const char *key, uint32_t for_s)
{
    alert_cond c;
    memset(&c, 0, sizeof c);
    snprintf(c.key, sizeof c.key, "%s", key);
    snprintf(c.on, sizeof c.on, "queue-depth");
    snprintf(c.subject, sizeof c.subject, "ris");
    snprintf(c.text, sizeof c.text, "text of %s", key);
    c.for_s = for_s;
    return c;
}

static void book(void **state)
{
    (void)state;
    alert_book *b = calloc(1, sizeof *b);
    unsigned ch = ALERT_CH_EMAIL | ALERT_CH_SYSLOG;
    alert_cond c[2] = { cond("a", 0), cond("b", 60) };
    /* a fires at once; b holds for 60 s first */
    assert_true(alert_step(b, c, 2, NOW, 300, ch));
    assert_int_equal(b->nactive, 2);
    assert_int_equal(b->nout, 1);
    assert_int_equal(b->out[0].kind, ALERT_FIRING);
    assert_string_equal(b->out[0].a.key, "a");
    assert_int_equal(b->out[0].channels, ch);
    /* nothing new ten seconds on */
    b->nout = 0;
    alert_step(b, c, 2, NOW + 10 * S, 300, ch);
    assert_int_equal(b->nout, 0);
    /* b's for= passed */
    alert_step(b, c, 2, NOW + 61 * S, 300, ch);
    assert_int_equal(b->nout, 1);
    assert_string_equal(b->out[0].a.key, "b");
    assert_int_equal(b->out[0].kind, ALERT_FIRING);
    /* a repeats after 300 s */
    b->nout = 0;
    alert_step(b, c, 2, NOW + 300 * S, 300, ch);
    assert_int_equal(b->nout, 1);
    assert_int_equal(b->out[0].kind, ALERT_REPEAT);
    /* the book survives a restart: JSON and back */
    rl_buf j;
    rl_buf_init(&j, 0);
    assert_int_equal(alert_book_json(b, &j), 0);
    alert_book *b2 = calloc(1, sizeof *b2);
    assert_int_equal(alert_book_parse(rl_buf_view(&j), b2), 0);
    assert_int_equal(b2->nactive, 2);
    assert_int_equal(b2->nout, 1);
    assert_int_equal(b2->out[0].kind, ALERT_REPEAT);
    assert_int_equal(b2->active[0].fired_us, b->active[0].fired_us);
    /* a ends: resolved; b ends before it ever fired in another book: forgotten quietly */
    b2->nout = 0;
    alert_step(b2, &c[1], 1, NOW + 310 * S, 300, ch);
    assert_int_equal(b2->nout, 1);
    assert_int_equal(b2->out[0].kind, ALERT_RESOLVED);
    assert_string_equal(b2->out[0].a.key, "a");
    assert_int_equal(b2->nactive, 1);
    alert_cond held = cond("c", 600);
    b2->nout = 0;
    alert_step(b2, &held, 1, NOW + 320 * S, 300, ch);
    alert_step(b2, NULL, 0, NOW + 330 * S, 300, ch);
    assert_int_equal(b2->nout, 1); /* b resolved; c never fired: nothing about it */
    assert_string_equal(b2->out[0].a.key, "b");
    assert_int_equal(b2->nactive, 0);
    /* no channel: nothing owed */
    b2->nout = 0;
    alert_step(b2, c, 1, NOW + 400 * S, 300, 0);
    assert_int_equal(b2->nout, 0);
    assert_int_equal(alert_book_parse(RL_STR("{\"version\":2}"), b2), -1);
    assert_int_equal(alert_book_parse(RL_STR("not json"), b2), -1);
    rl_buf_free(&j);
    free(b);
    free(b2);
}

static void words(void **state)
{
    (void)state;
    alert_note n;
    memset(&n, 0, sizeof n);
    n.kind = ALERT_RESOLVED;
    n.at_us = NOW;
    snprintf(n.a.on, sizeof n.a.on, "parked");
    snprintf(n.a.subject, sizeof n.a.subject, "ris");
    snprintf(n.a.text, sizeof n.a.text, "destination ris: 2 messages parked");
    rl_buf out;
    rl_buf_init(&out, 0);
    alert_mail_text(&n, "rad1", "https://rad1:8443/", &out);
    assert_non_null(strstr(rl_buf_cstr(&out), "Subject: [radlink rad1] RESOLVED: parked ris\r\n"));
    assert_non_null(strstr(rl_buf_cstr(&out), "Console: https://rad1:8443/"));
    rl_buf_reset(&out);
    alert_webhook_json(&n, "rad1", "", &out);
    assert_non_null(strstr(rl_buf_cstr(&out), "\"status\":\"resolved\""));
    assert_non_null(strstr(rl_buf_cstr(&out), "\"alert\":\"parked\""));
    rl_buf_free(&out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(queues),
        cmocka_unit_test(jobs_studies_reports),
        cmocka_unit_test(certs_use_audit_workers),
        cmocka_unit_test(book),
        cmocka_unit_test(words),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
