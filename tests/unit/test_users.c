/* The console's users file: passwords hashed with scrypt and checked,
 * a wrong password refused, the file written and read back, and every line
 * a person could get wrong named with its file and line. */
#include "testutil.h"

#include <sys/stat.h>
#include <unistd.h>

#include "radlink/users.h"

static void hash_and_verify(void **state)
{
    (void)state;
    char h1[200], h2[200];
    rl_err err;
    assert_int_equal(users_hash("correct horse", h1, sizeof h1, &err), 0);
    assert_int_equal(users_hash("correct horse", h2, sizeof h2, &err), 0);
    assert_true(strncmp(h1, "scrypt$32768$8$1$", 17) == 0);
    assert_string_not_equal(h1, h2); /* a salt each */
    assert_true(users_verify("correct horse", h1));
    assert_true(users_verify("correct horse", h2));
    assert_false(users_verify("correct horsE", h1));
    assert_false(users_verify("", h1));
    /* damaged lines never verify */
    assert_false(users_verify("correct horse", "scrypt$32768$8$1$abc"));
    assert_false(users_verify("correct horse", "md5$x"));
    assert_false(users_verify("x", "scrypt$99999999999$8$1$00$00"));
}

static void file_round_trip_and_errors(void **state)
{
    (void)state;
    char dir[RL_CFG_PATH_MAX];
    assert_non_null(test_dir(dir, sizeof dir, "users"));
    char path[RL_CFG_PATH_MAX + 64];
    snprintf(path, sizeof path, "%s/users", dir);
    users_rec u[4] = { { "alice", USERS_OPERATOR, "" }, { "bob.v", USERS_VIEWER, "" } };
    rl_err err;
    size_t n = 9;
    assert_int_equal(users_load(path, u + 2, 2, &n, &err), 0); /* no file: no user */
    assert_int_equal(n, 0);
    assert_int_equal(users_hash("pw-alice-1", u[0].hash, sizeof u[0].hash, &err), 0);
    assert_int_equal(users_hash("pw-bob-123", u[1].hash, sizeof u[1].hash, &err), 0);
    assert_int_equal(users_save(path, u, 2, &err), 0);
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    users_rec back[4];
    assert_int_equal(users_load(path, back, 4, &n, &err), 0);
    assert_int_equal(n, 2);
    assert_string_equal(back[1].name, "bob.v");
    assert_int_equal(back[1].role, USERS_VIEWER);
    assert_true(users_verify("pw-bob-123", back[1].hash));
    assert_int_not_equal(users_load(path, back, 1, &n, &err), 0);
    assert_non_null(strstr(err.msg, ":3: more than 1 users"));
    const char *bad[][2] = {
        { "carol:root:scrypt$1$1$1$a$b\n", ":1: the role is viewer, operator or admin" },
        { "\n# c\nca rol:viewer:scrypt$1\n", ":3: a user name is 1 to 63" },
        { "dave:viewer:plain\n", ":1: the password hash is not scrypt" },
        { "erin\n", ":1: not NAME:ROLE:HASH" },
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        FILE *f = fopen(path, "w");
        fputs(bad[i][0], f);
        fclose(f);
        assert_int_not_equal(users_load(path, back, 4, &n, &err), 0);
        assert_non_null(strstr(err.msg, path));
        if (!strstr(err.msg, bad[i][1]))
            fail_msg("%s: expected [%s]", err.msg, bad[i][1]);
    }
    unlink(path);
    rmdir(dir);
}

static void names_and_roles(void **state)
{
    (void)state;
    assert_true(users_name_ok("a.b-c_9"));
    assert_false(users_name_ok(""));
    assert_false(users_name_ok("a:b"));
    assert_false(users_name_ok("a b"));
    assert_int_equal(users_role_parse("admin"), USERS_ADMIN);
    assert_int_equal(users_role_parse("root"), -1);
    assert_string_equal(users_role_name(USERS_OPERATOR), "operator");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(hash_and_verify),
        cmocka_unit_test(file_round_trip_and_errors),
        cmocka_unit_test(names_and_roles),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
