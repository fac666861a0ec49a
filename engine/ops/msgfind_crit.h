/* What a message filter asks of one index (engine/ops/msgfind_crit.c): a
 * kind, the literal start of its values (the key range to read) and what a
 * value in that range must be. Private to engine/ops. */
#ifndef RADLINK_MSGFIND_CRIT_H
#define RADLINK_MSGFIND_CRIT_H

#include <stdbool.h>
#include <stdint.h>

#include "radlink/msgfind.h"
#include "radlink/msgidx.h"
#include "radlink/store.h"

#define CRIT_MERGE_MAX 64       /* keys read side by side, newest first */
#define CRIT_ENUM_MAX 200000    /* keys one criterion may name before it is too broad */
#define CRIT_GATHER_MAX 4000000 /* messages gathered and sorted for one criterion */
#define CRIT_MAX 8

typedef enum crit_filter {
    CF_EXACT,   /* the value is the literal */
    CF_PREFIX,  /* the value starts with the literal */
    CF_GLOB,    /* fnmatch(pat, value) */
    CF_WORD,    /* the value is pat, or starts with pat and '^' (a family name, a type) */
    CF_TWO,     /* value "A" NUL "B": fnmatch(pat, A) and, when pat2 is set, fnmatch(pat2, B) */
    CF_TYPE,    /* MSH-9 as msg list --type compares it */
} crit_filter;

typedef struct crit {
    char kind;
    const char *label;
    char lit[MSGIDX_KEY_MAX];
    size_t lit_n;
    bool whole;       /* the literal is the whole first part: keys "LIT" and "LIT" NUL ... */
    crit_filter filt;
    char pat[MSGIDX_KEY_MAX], pat2[MSGIDX_KEY_MAX];
    /* resolved against the index */
    uint64_t count;   /* messages its keys name (an upper bound: a message may repeat) */
    size_t nkeys;
    rl_buf keys;      /* nkeys keys (u16 length + bytes) when nkeys <= CRIT_MERGE_MAX */
    bool broad;       /* more than CRIT_ENUM_MAX keys: no use as an index */
} crit;

/* Fill c from a filter's words; -1 when the words leave nothing literal to
 * read by (a pattern that starts with a wildcard), with why. */
int crit_patient(crit *c, const char *text);
int crit_name(crit *c, const char *text);
int crit_sender(crit *c, const char *text);
int crit_type(crit *c, const char *text);
int crit_glob(crit *c, char kind, const char *label, const char *text);
/* The criterion a PATH=VALUE search may be narrowed by; -1 when no index
 * covers the path (why says so). */
int crit_of_path(crit *c, const hl7_path *p, const char *value, char *why, size_t whyn);

/* fnmatch(pat) on a value (cut at RL_FIELD_MATCH_TEXT_MAX bytes). */
bool crit_glob_str(const char *pat, rl_str v);
/* MSH-9 against "ORM^O01", "ADT^A0*" (its first two components) or "ORM"
 * (its first): msg list --type, and the type index's values. */
bool crit_type_matches(const char *pattern, rl_str type);
/* Whether an index value (after the kind byte) passes c. */
bool crit_accepts(const crit *c, rl_str value);
/* Whether any key of k passes c. */
bool crit_any(const crit *c, const msgidx_keys *k);

/* Count c's keys and messages (sets count, nkeys, keys, broad). */
int crit_resolve(store_txn *t, crit *c, rl_err *err);
void crit_free(crit *c);

/* Whether message seq carries one of c's keys (c resolved, nkeys <=
 * CRIT_MERGE_MAX). */
bool crit_has(store_cursor *cur, const crit *c, uint64_t seq);

/* The messages of a criterion in [lo, hi), newest first. */
typedef struct crit_stream {
    size_t n;                           /* merge: keys read side by side */
    store_cursor *cur[CRIT_MERGE_MAX];
    uint64_t head[CRIT_MERGE_MAX];      /* 0: that key is done */
    uint64_t *arr;                      /* gathered: sorted newest first */
    size_t narr, pos;
    uint64_t lo, last;
} crit_stream;

int crit_stream_open(store_txn *t, const crit *c, uint64_t lo, uint64_t hi, crit_stream *s,
                     rl_err *err);
/* The next message (0: none left). */
uint64_t crit_stream_next(crit_stream *s);
void crit_stream_close(crit_stream *s);

#endif
