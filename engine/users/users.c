/* The users file of the console: read, written, passwords hashed and
 * checked with scrypt (a memory-hard KDF; OpenSSL 3.0 has no Argon2). */
#include "radlink/users.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "radlink/digest.h"
#include "radlink/err.h"
#include "radlink/limits.h"

static const char *const roles[] = { "?", "viewer", "operator", "admin" };

const char *users_role_name(int role)
{
    return role >= USERS_VIEWER && role <= USERS_ADMIN ? roles[role] : "?";
}

int users_role_parse(const char *name)
{
    for (int i = USERS_VIEWER; i <= USERS_ADMIN; i++)
        if (name && strcmp(name, roles[i]) == 0)
            return i;
    return -1;
}

bool users_name_ok(const char *name)
{
    size_t n = strlen(name);
    return n >= 1 && n < RL_USER_NAME_MAX &&
           strspn(name, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-") == n;
}

int users_load(const char *path, users_rec *out, size_t max, size_t *n, rl_err *err)
{
    *n = 0;
    FILE *f = fopen(path, "r");
    if (!f)
        return errno == ENOENT ? 0 : rl_err_set(err, RL_E_SYS, -1, "%s: %s", path, strerror(errno));
    char line[RL_USERS_LINE_MAX];
    unsigned lineno = 0;
    int rc = 0;
    while (rc == 0 && fgets(line, sizeof line, f)) {
        lineno++;
        line[strcspn(line, "\r\n")] = '\0';
        if (!line[0] || line[0] == '#')
            continue;
        char *c1 = strchr(line, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
        if (!c2) {
            rc = rl_err_set(err, RL_E_ARG, -1, "%s:%u: not NAME:ROLE:HASH", path, lineno);
            break;
        }
        *c1 = *c2 = '\0';
        int role = users_role_parse(c1 + 1);
        if (!users_name_ok(line) || role < 0 || strncmp(c2 + 1, "scrypt$", 7) != 0 ||
            strlen(c2 + 1) >= sizeof out->hash) {
            rc = rl_err_set(err, RL_E_ARG, -1, "%s:%u: %s", path, lineno,
                            !users_name_ok(line) ? "a user name is 1 to 63 of A-Z a-z 0-9 . _ -"
                            : role < 0           ? "the role is viewer, operator or admin"
                                                 : "the password hash is not scrypt$...");
            break;
        }
        if (*n == max) {
            rc = rl_err_set(err, RL_E_LIMIT, -1, "%s:%u: more than %zu users", path, lineno, max);
            break;
        }
        users_rec *u = &out[(*n)++];
        snprintf(u->name, sizeof u->name, "%s", line);
        u->role = (users_role)role;
        snprintf(u->hash, sizeof u->hash, "%s", c2 + 1);
    }
    fclose(f);
    return rc;
}

int users_save(const char *path, const users_rec *u, size_t n, rl_err *err)
{
    char tmp[RL_USERS_TMP_PATH_MAX];
    snprintf(tmp, sizeof tmp, "%s.new", path);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0)
        return rl_err_set(err, RL_E_SYS, -1, "%s: %s", tmp, strerror(errno));
    rl_buf b;
    rl_buf_init(&b, 0);
    rl_buf_add_c(&b, "# radlink console users: NAME:ROLE:HASH (radlink user add|del|passwd)\n");
    for (size_t i = 0; i < n; i++)
        rl_buf_printf(&b, "%s:%s:%s\n", u[i].name, users_role_name(u[i].role), u[i].hash);
    bool ok = write(fd, b.data, b.len) == (ssize_t)b.len && fsync(fd) == 0;
    int e = errno;
    close(fd);
    rl_buf_free(&b);
    if (!ok || rename(tmp, path) != 0) {
        e = ok ? errno : e;
        unlink(tmp);
        return rl_err_set(err, RL_E_SYS, -1, "%s: %s", path, strerror(e));
    }
    return 0;
}

static void hex(const unsigned char *p, size_t n, char *out)
{
    for (size_t i = 0; i < n; i++)
        snprintf(out + 2 * i, 3, "%02x", p[i]);
}

static int derive(const char *password, const char *salt, uint64_t N, uint64_t r, uint64_t p,
                  char out[RL_HEX_SIZE(RL_SCRYPT_KEY_BYTES)])
{
    unsigned char key[RL_SCRYPT_KEY_BYTES];
    if (digest_scrypt(password, strlen(password), salt, strlen(salt), N, r, p, key, sizeof key))
        return -1;
    hex(key, sizeof key, out);
    return 0;
}

int users_hash(const char *password, char *out, size_t n, rl_err *err)
{
    unsigned char raw[RL_SCRYPT_SALT_BYTES];
    char salt[RL_HEX_SIZE(RL_SCRYPT_SALT_BYTES)], key[RL_HEX_SIZE(RL_SCRYPT_KEY_BYTES)];
    if (digest_random(raw, sizeof raw) != 0)
        return rl_err_set(err, RL_E_SYS, -1, "no random bytes for a salt");
    hex(raw, sizeof raw, salt);
    if (derive(password, salt, RL_SCRYPT_N, RL_SCRYPT_R, RL_SCRYPT_P, key) != 0)
        return rl_err_set(err, RL_E_NOMEM, -1, "scrypt failed (memory)");
    snprintf(out, n, "scrypt$%u$%u$%u$%s$%s", RL_SCRYPT_N, RL_SCRYPT_R, RL_SCRYPT_P, salt, key);
    return 0;
}

bool users_verify(const char *password, const char *hash)
{
    /* scrypt$N$r$p$SALT$HASH, each number within what a line of ours holds */
    char buf[RL_USER_HASH_MAX];
    snprintf(buf, sizeof buf, "%s", hash);
    char *part[6];
    size_t k = 0;
    for (char *p = buf; k < 6; k++) {
        part[k] = p;
        char *d = strchr(p, '$');
        if (!d) {
            k++;
            break;
        }
        *d = '\0';
        p = d + 1;
    }
    uint64_t N, r, p;
    if (k != 6 || strcmp(part[0], "scrypt") != 0 ||
        !rl_str_to_u64(rl_str_c(part[1]), 1u << 22, &N) ||
        !rl_str_to_u64(rl_str_c(part[2]), 64, &r) || !rl_str_to_u64(rl_str_c(part[3]), 16, &p) ||
        strlen(part[5]) != 2 * RL_SCRYPT_KEY_BYTES)
        return false;
    char key[RL_HEX_SIZE(RL_SCRYPT_KEY_BYTES)];
    if (derive(password, part[4], N, r, p, key) != 0)
        return false;
    return digest_equal(key, part[5], 2 * RL_SCRYPT_KEY_BYTES);
}
