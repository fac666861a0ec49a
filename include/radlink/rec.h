/* Versioned binary records for LMDB values: a writer appending fixed-width
 * big-endian integers and length-prefixed byte strings to an rl_buf, and a
 * bounds-checked reader. A reader never reads past its input: a truncated or
 * corrupt record makes every later read fail and rec_ok() false. */
#ifndef RADLINK_REC_H
#define RADLINK_REC_H

#include <stdbool.h>
#include <stdint.h>

#include "radlink/limits.h"
#include "radlink/util.h"

int rec_put_u8(rl_buf *b, uint8_t v);
int rec_put_u32(rl_buf *b, uint32_t v);
int rec_put_u64(rl_buf *b, uint64_t v);
int rec_put_str(rl_buf *b, rl_str s); /* u32 length + bytes */
int rec_put_cstr(rl_buf *b, const char *s);

/* Big-endian keys, so that LMDB's byte order is numeric order. */
void rec_be64(uint64_t v, unsigned char out[RL_BE64_BYTES]);
uint64_t rec_get_be64(const void *p);

typedef struct rec_reader {
    const unsigned char *p, *end;
    bool bad;
} rec_reader;

void rec_reader_init(rec_reader *r, const void *data, size_t n);
uint8_t rec_get_u8(rec_reader *r);
uint32_t rec_get_u32(rec_reader *r);
uint64_t rec_get_u64(rec_reader *r);
/* View into the record: valid as long as the record's memory is. */
rl_str rec_get_str(rec_reader *r);
static inline bool rec_ok(const rec_reader *r) { return !r->bad; }

#endif
