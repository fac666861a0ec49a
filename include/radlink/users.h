/* The console's users (engine/users.c): a text file, one user per line,
 *   NAME:ROLE:scrypt$N$r$p$SALT$HASH
 * like /etc/shadow, mode 0600, rewritten whole through a temporary file and
 * a rename. SALT is 32 random hex digits (used as they are), HASH the hex of
 * scrypt's 32 bytes (RFC 7914; N, r, p from radlink/limits.h when hashed, read
 * back from the line when checked, so that stronger settings later still
 * read old lines). Roles: viewer reads, operator also retries, parks, links
 * and replays, admin also reloads routes and manages users. */
#ifndef RADLINK_USERS_H
#define RADLINK_USERS_H

#include <stdbool.h>
#include <stddef.h>

#include "radlink/limits.h"
#include "radlink/util.h"

typedef enum users_role {
    USERS_VIEWER = 1,
    USERS_OPERATOR = 2,
    USERS_ADMIN = 3,
} users_role;

const char *users_role_name(int role); /* "viewer", ..., or "?" */
int users_role_parse(const char *name); /* -1 when unknown */
/* A user name: 1 to 63 of [A-Za-z0-9._-]. */
bool users_name_ok(const char *name);

typedef struct users_rec {
    char name[RL_USER_NAME_MAX];
    users_role role;
    char hash[RL_USER_HASH_MAX];
} users_rec;

/* Read every user of path into out (at most max; *n gets how many). A file
 * that does not exist is no user. Errors are "path:line: what". */
int users_load(const char *path, users_rec *out, size_t max, size_t *n, rl_err *err);
/* Write the n users to path (0600, atomically). */
int users_save(const char *path, const users_rec *u, size_t n, rl_err *err);
/* The hash line part for password (a fresh salt), into out (RL_USER_HASH_MAX bytes). */
int users_hash(const char *password, char *out, size_t n, rl_err *err);
/* Whether password is the one hash was made from. Takes about as long for
 * a wrong password as for a right one. */
bool users_verify(const char *password, const char *hash);

#endif
