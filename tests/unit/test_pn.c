/* Person names (radlink/pn.h): what counts as agreeing, and what a
 * correction keeps of the images' name. */
#include "testutil.h"

#include "radlink/pn.h"

static void groups(void **state)
{
    (void)state;
    rl_str v = RL_STR("Wang^XiaoDong=王^小東=");
    assert_true(rl_str_eq_c(pn_group(v, PN_ALPHABETIC), "Wang^XiaoDong"));
    assert_true(rl_str_eq_c(pn_group(v, PN_IDEOGRAPHIC), "王^小東"));
    assert_int_equal(pn_group(v, PN_PHONETIC).n, 0);
    assert_true(rl_str_eq_c(pn_group(RL_STR("DOE^JANE^^^"), 0), "DOE^JANE"));
    assert_int_equal(pn_group(RL_STR(""), 1).n, 0);
}

static void agree(void **state)
{
    (void)state;
    /* the RIS sends the alphabetic group in capitals: no discrepancy */
    assert_true(pn_agree(RL_STR("Wang^XiaoDong=王^小東="), RL_STR("WANG^XIAODONG")));
    assert_true(pn_agree(RL_STR("DOE^JANE^^^"), RL_STR("DOE^JANE")));
    assert_false(pn_agree(RL_STR("DOE^JANET"), RL_STR("DOE^JANE")));
    /* a RIS that sends the ideographic group is compared on it too */
    assert_false(pn_agree(RL_STR("Wang^XiaoDong=王^小東"), RL_STR("WANG^XIAODONG=黄^小東")));
    assert_true(pn_agree(RL_STR("Wang^XiaoDong=王^小東"), RL_STR("WANG^XIAODONG=王^小東")));
}

static void merge(void **state)
{
    (void)state;
    rl_buf b;
    rl_buf_init(&b, 0);
    pn_merge(RL_STR("Wang^XiaoDong=王^小東="), RL_STR("WANG^XIAOMING"), &b);
    assert_string_equal(rl_buf_cstr(&b), "WANG^XIAOMING=王^小東");
    rl_buf_reset(&b);
    pn_merge(RL_STR("Yamada^Tarou=山田^太郎=やまだ^たろう"), RL_STR("YAMADA^TARO=山田^太郎"), &b);
    assert_string_equal(rl_buf_cstr(&b), "YAMADA^TARO=山田^太郎=やまだ^たろう");
    rl_buf_reset(&b);
    pn_merge(RL_STR("DOE^JANET"), RL_STR("DOE^JANE"), &b);
    assert_string_equal(rl_buf_cstr(&b), "DOE^JANE");
    rl_buf_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(groups),
        cmocka_unit_test(agree),
        cmocka_unit_test(merge),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
