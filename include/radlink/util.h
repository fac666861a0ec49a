/* Small shared building blocks: string views, capped growable buffers, a
 * bump arena for per-message work, and the error struct every module fills. */
#ifndef RADLINK_UTIL_H
#define RADLINK_UTIL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "radlink/err.h"
#include "radlink/limits.h"

/* A borrowed view of bytes: never owns, never NUL-terminated by contract. */
typedef struct rl_str {
    const char *p;
    size_t n;
} rl_str;

#define RL_STR(lit) ((rl_str){ (lit), sizeof(lit) - 1 })
#define RL_STR_FMT(s) (int)(s).n, (s).p /* for printf("%.*s") */

rl_str rl_str_c(const char *cstr); /* view of a C string (may be NULL: empty view) */
bool rl_str_eq(rl_str a, rl_str b);
bool rl_str_eq_c(rl_str a, const char *cstr);
bool rl_str_ieq_c(rl_str a, const char *cstr); /* ASCII case-insensitive */
rl_str rl_str_trim(rl_str s);                  /* strips ASCII space and tab */

/* Parse an unsigned decimal number that fills all of s; false on junk or overflow
 * past max. */
bool rl_str_to_u64(rl_str s, uint64_t max, uint64_t *out);
/* A duration in seconds: "90", "90s", "30m", "4h", "2d" or a sum of those
 * ("1h30m"); false when s is not one or passes max_s. */
bool rl_duration_parse(rl_str s, uint64_t max_s, uint64_t *out_s);

/* Error detail filled by the callee: a status code from the module's enum, the
 * position the error refers to (byte offset or line, as the module documents;
 * -1 when none) and a message for a human. */
typedef struct rl_err {
    int code;
    long pos;
    char msg[RL_ERR_MSG_MAX];
} rl_err;

/* Fill err (if non-NULL) and return code. */
int rl_err_set(rl_err *err, int code, long pos, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
void rl_err_clear(rl_err *err);

/* A growable byte buffer born with a cap: appends past cap fail instead of
 * growing without bound. The buffer owns data; free with rl_buf_free. */
typedef struct rl_buf {
    char *data;
    size_t len;
    size_t cap;   /* allocated bytes */
    size_t limit; /* hard maximum of len; 0 = SIZE_MAX */
} rl_buf;

void rl_buf_init(rl_buf *b, size_t limit);
void rl_buf_free(rl_buf *b);
void rl_buf_reset(rl_buf *b); /* len = 0, keeps memory */
/* All appends return 0, or -1 when the limit or memory would be exceeded (the
 * buffer is then unchanged). */
int rl_buf_reserve(rl_buf *b, size_t extra);
int rl_buf_add(rl_buf *b, const void *p, size_t n);
int rl_buf_add_str(rl_buf *b, rl_str s);
int rl_buf_add_c(rl_buf *b, const char *cstr);
int rl_buf_add_ch(rl_buf *b, char c);
int rl_buf_printf(rl_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int rl_buf_vprintf(rl_buf *b, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));
/* NUL-terminate without counting the NUL in len; returns data or NULL. */
const char *rl_buf_cstr(rl_buf *b);
/* Remove the first n bytes. */
void rl_buf_consume(rl_buf *b, size_t n);
static inline rl_str rl_buf_view(const rl_buf *b) { return (rl_str){ b->data, b->len }; }

/* Bump allocator for per-message work: allocations live until rl_arena_reset or
 * rl_arena_free. Reset keeps the first chunk so a steady state never mallocs. */
typedef struct rl_arena_chunk rl_arena_chunk;
typedef struct rl_arena {
    rl_arena_chunk *head;
    size_t used;       /* bytes used in head */
    size_t chunk_size; /* default chunk size */
    size_t total;      /* bytes handed out since the last reset */
    size_t limit;      /* maximum total; 0 = unlimited */
} rl_arena;

void rl_arena_init(rl_arena *a, size_t chunk_size, size_t limit);
void rl_arena_reset(rl_arena *a);
void rl_arena_free(rl_arena *a);
/* Returns NULL when the limit is reached or memory is exhausted. */
void *rl_arena_alloc(rl_arena *a, size_t n);
char *rl_arena_dup(rl_arena *a, const char *p, size_t n); /* NUL-terminated copy */

/* Characters in UTF-8 text (lead bytes counted), and its first k characters. */
size_t rl_utf8_chars(rl_str v);
rl_str rl_utf8_cut(rl_str v, size_t k);
/* Its first bytes, at most max, ending on a character's boundary (for a
 * buffer of max bytes: a character count bounds no bytes). */
rl_str rl_utf8_cut_bytes(rl_str v, size_t max);

/* Wall clock in microseconds since the epoch, and monotonic milli- and
 * microseconds. */
int64_t rl_now_us(void);
int64_t rl_mono_ms(void);
int64_t rl_mono_us(void);
/* "2026-11-23T10:01:02.123456Z" into out (at least 32 bytes). */
void rl_time_iso(int64_t us, char *out, size_t outn);
/* realpath(3) into a buffer of any size (glibc's fortified realpath wants
 * PATH_MAX bytes): out, or NULL with errno (ENAMETOOLONG when it does not
 * fit). */
char *rl_realpath(const char *path, char *out, size_t n);
/* path made absolute against the working directory, "." and ".." removed
 * as written (whether or not it exists; links are not followed): out, or
 * NULL when it does not fit. */
char *rl_abspath(const char *path, char *out, size_t n);
/* HL7 DTM "YYYYMMDDHHMMSS" (local time) into out (at least 15 bytes). */
void rl_time_hl7(int64_t us, char *out, size_t outn);

/* Read a whole file (or stdin for "-") into b, failing past b's limit. */
int rl_read_file(const char *path, rl_buf *b, rl_err *err);
/* Sync a file's data (flags O_RDONLY), or a directory's entries (O_RDONLY |
 * O_DIRECTORY): 0, or RL_E_SYS with errno. */
int rl_sync_path(const char *path, int flags);
/* Write data to path (created or truncated, mode 0640) and fdatasync it. */
int rl_write_file(const char *path, rl_str data, rl_err *err);

#endif
