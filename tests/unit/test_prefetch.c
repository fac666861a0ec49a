/* Which priors are relevant (engine/prefetch/relevance.c): the rule's
 * parsing, and prefetch_select's order, filters and reasons. */
#include "testutil.h"

#include "radlink/prefetch.h"

static dicom_qr_study study(const char *uid, const char *date, const char *mods,
                            const char *body, const char *desc)
{
    dicom_qr_study s;
    memset(&s, 0, sizeof s);
    snprintf(s.study_uid, sizeof s.study_uid, "%s", uid);
    snprintf(s.study_date, sizeof s.study_date, "%s", date);
    snprintf(s.modalities, sizeof s.modalities, "%s", mods);
    snprintf(s.body_part, sizeof s.body_part, "%s", body);
    snprintf(s.description, sizeof s.description, "%s", desc);
    return s;
}

static void parsing(void **state)
{
    (void)state;
    int64_t s = 0;
    assert_int_equal(prefetch_parse_age("5y", &s), 0);
    assert_true(s > 5 * 365 * 86400LL && s < 5 * 366 * 86400LL);
    assert_int_equal(prefetch_parse_age("12h", &s), 0);
    assert_int_equal(s, 12 * 3600);
    assert_int_equal(prefetch_parse_age("30d", &s), 0);
    assert_int_equal(s, 30 * 86400);
    assert_int_equal(prefetch_parse_age("5", &s), -1);
    assert_int_equal(prefetch_parse_age("y", &s), -1);
    assert_int_equal(prefetch_parse_age("5w", &s), -1);
    assert_int_equal(prefetch_parse_age("-1y", &s), -1);
    prefetch_rule r;
    prefetch_rule_default(&r);
    assert_int_equal(r.max, 3);
    assert_int_equal(r.modality, PREFETCH_MOD_SAME);
    assert_true(r.same_body_part);
    rl_err err;
    assert_int_equal(prefetch_parse_modality("any", &r, &err), 0);
    assert_int_equal(r.modality, PREFETCH_MOD_ANY);
    assert_int_equal(prefetch_parse_modality("CT,MR", &r, &err), 0);
    assert_int_equal(r.modality, PREFETCH_MOD_LIST);
    assert_string_equal(r.modalities, "CT,MR");
    assert_int_equal(prefetch_parse_modality("CT,,MR", &r, &err), RL_E_ARG);
    assert_int_equal(prefetch_parse_modality("ct", &r, &err), RL_E_ARG);
    assert_non_null(strstr(err.msg, "CT,MR"));
}

static void selection(void **state)
{
    (void)state;
    prefetch_rule r;
    prefetch_rule_default(&r);
    r.max = 2;
    prefetch_order o;
    memset(&o, 0, sizeof o);
    snprintf(o.study_uid, sizeof o.study_uid, "1.9");
    snprintf(o.modality, sizeof o.modality, "CT");
    snprintf(o.body_part, sizeof o.body_part, "CHEST");
    snprintf(o.date, sizeof o.date, "20261206");
    dicom_qr_study rows[] = {
        study("1.1", "20200101", "CT", "CHEST", ""),        /* 6 years: too old */
        study("1.2", "20250301", "CT\\SR", "", "CT CHEST"),  /* relevant, by description */
        study("1.3", "20260101", "MR", "CHEST", ""),         /* another modality */
        study("1.4", "20241010", "CT", "HEAD", "CT HEAD"),   /* another body part */
        study("1.9", "20261206", "CT", "CHEST", ""),         /* the ordered study */
        study("1.5", "20230505", "CT", "", ""),              /* relevant: body part not given */
        study("1.6", "20220505", "CT", "CHEST", ""),         /* relevant, past max */
    };
    size_t n = sizeof rows / sizeof rows[0];
    prefetch_pick pick[7];
    prefetch_select(&r, &o, rows, n, pick);
    /* most recent first */
    assert_string_equal(rows[0].study_uid, "1.9");
    assert_string_equal(rows[1].study_uid, "1.3");
    assert_string_equal(rows[n - 1].study_uid, "1.1");
    for (size_t i = 0; i < n; i++) {
        const char *u = rows[i].study_uid, *why = pick[i].why;
        if (!strcmp(u, "1.9"))
            assert_string_equal(why, "the ordered study itself");
        else if (!strcmp(u, "1.3"))
            assert_string_equal(why, "not CT (MR)");
        else if (!strcmp(u, "1.2"))
            assert_string_equal(why, "CT\\SR, 21 months before, same body part");
        else if (!strcmp(u, "1.4"))
            assert_string_equal(why, "another body part (HEAD)");
        else if (!strcmp(u, "1.5"))
            assert_string_equal(why, "CT, 3 years before, body part not given by the archive");
        else if (!strcmp(u, "1.6"))
            assert_string_equal(why, "relevant, but past max (2)");
        else if (!strcmp(u, "1.1"))
            assert_string_equal(why, "too old (6 years before)");
        assert_int_equal(pick[i].relevant, !strcmp(u, "1.2") || !strcmp(u, "1.5"));
    }
    /* any modality, a list */
    rl_err err;
    assert_int_equal(prefetch_parse_modality("MR,US", &r, &err), 0);
    r.same_body_part = false;
    prefetch_select(&r, &o, rows, n, pick);
    for (size_t i = 0; i < n; i++)
        assert_int_equal(pick[i].relevant, !strcmp(rows[i].study_uid, "1.3"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(parsing),
        cmocka_unit_test(selection),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
