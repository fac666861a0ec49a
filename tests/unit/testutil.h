/* Helpers shared by the cmocka unit tests: fixtures and parsed messages. */
#ifndef RADLINK_TESTUTIL_H
#define RADLINK_TESTUTIL_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "radlink/hl7.h"

/* A new directory of this test's own under $TMPDIR (else the system's
 * temporary directory), "radlink-test-TAG-XXXXXX", into out. */
static inline char *test_dir(char *out, size_t n, const char *tag)
{
    const char *td = getenv("TMPDIR");
    snprintf(out, n, "%s/radlink-test-%s-XXXXXX", td && td[0] ? td : P_tmpdir, tag);
    return mkdtemp(out);
}

/* Read tests/data/<rel> into a malloc'd buffer (NUL-terminated). */
static inline char *fixture(const char *rel, size_t *len)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", TEST_DATA, rel);
    rl_buf b;
    rl_err err;
    rl_buf_init(&b, 0);
    if (rl_read_file(path, &b, &err) != 0)
        fail_msg("cannot read fixture %s: %s", path, err.msg);
    rl_buf_cstr(&b);
    *len = b.len;
    return b.data;
}

/* A parsed message that owns its input. */
typedef struct tmsg {
    hl7_msg m;
    char *buf;
    size_t len;
} tmsg;

static inline void tmsg_text(tmsg *t, const char *text)
{
    t->len = strlen(text);
    t->buf = malloc(t->len + 1);
    memcpy(t->buf, text, t->len + 1);
    hl7_msg_init(&t->m, NULL);
    rl_err err;
    int rc = hl7_parse(&t->m, t->buf, t->len, &err);
    if (rc != HL7_OK)
        fail_msg("parse failed: %s", err.msg);
}

static inline void tmsg_fixture(tmsg *t, const char *name)
{
    char rel[256];
    snprintf(rel, sizeof rel, "hl7/%s", name);
    t->buf = fixture(rel, &t->len);
    hl7_msg_init(&t->m, NULL);
    rl_err err;
    int rc = hl7_parse(&t->m, t->buf, t->len, &err);
    if (rc != HL7_OK)
        fail_msg("parse of %s failed: %s", name, err.msg);
}

static inline void tmsg_free(tmsg *t)
{
    hl7_msg_free(&t->m);
    free(t->buf);
}

/* Decoded value at path as a NUL-terminated static string; kind in *k. */
static inline const char *get(tmsg *t, const char *path, int *k)
{
    static char out[8][4096];
    static int slot;
    hl7_path p;
    rl_err err;
    if (hl7_path_parse(rl_str_c(path), &p, &err) != HL7_OK)
        fail_msg("bad path %s: %s", path, err.msg);
    rl_str v;
    int kind = hl7_get(&t->m, &p, &v, &err);
    if (kind < 0)
        fail_msg("get %s: %s", path, err.msg);
    if (k)
        *k = kind;
    char *o = out[slot++ % 8];
    snprintf(o, sizeof out[0], "%.*s", (int)v.n, v.p);
    return o;
}

#define assert_get(t, path, want) assert_string_equal(get((t), (path), NULL), (want))

static inline hl7_path P(const char *text)
{
    hl7_path p;
    rl_err err;
    if (hl7_path_parse(rl_str_c(text), &p, &err) != HL7_OK)
        fail_msg("bad path %s: %s", text, err.msg);
    return p;
}

#endif
