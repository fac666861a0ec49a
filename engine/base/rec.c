/* Versioned binary records; see radlink/rec.h. */
#include "radlink/rec.h"

#include <string.h>

void rec_be64(uint64_t v, unsigned char out[RL_BE64_BYTES])
{
    for (int i = RL_BE64_BYTES - 1; i >= 0; i--) {
        out[i] = (unsigned char)(v & 0xff);
        v >>= 8;
    }
}

uint64_t rec_get_be64(const void *p)
{
    const unsigned char *b = p;
    uint64_t v = 0;
    for (int i = 0; i < RL_BE64_BYTES; i++)
        v = (v << 8) | b[i];
    return v;
}

int rec_put_u8(rl_buf *b, uint8_t v)
{
    return rl_buf_add(b, &v, 1);
}

int rec_put_u32(rl_buf *b, uint32_t v)
{
    unsigned char x[sizeof v] = { (unsigned char)(v >> 24), (unsigned char)(v >> 16),
                                  (unsigned char)(v >> 8), (unsigned char)v };
    return rl_buf_add(b, x, sizeof x);
}

int rec_put_u64(rl_buf *b, uint64_t v)
{
    unsigned char x[RL_BE64_BYTES];
    rec_be64(v, x);
    return rl_buf_add(b, x, sizeof x);
}

int rec_put_str(rl_buf *b, rl_str s)
{
    if (s.n > UINT32_MAX)
        return -1;
    return rec_put_u32(b, (uint32_t)s.n) || rl_buf_add(b, s.p, s.n) ? -1 : 0;
}

int rec_put_cstr(rl_buf *b, const char *s)
{
    return rec_put_str(b, rl_str_c(s));
}

void rec_reader_init(rec_reader *r, const void *data, size_t n)
{
    r->p = data;
    r->end = r->p + n;
    r->bad = false;
}

static const unsigned char *take(rec_reader *r, size_t n)
{
    if (r->bad || (size_t)(r->end - r->p) < n) {
        r->bad = true;
        return NULL;
    }
    const unsigned char *p = r->p;
    r->p += n;
    return p;
}

uint8_t rec_get_u8(rec_reader *r)
{
    const unsigned char *p = take(r, 1);
    return p ? p[0] : 0;
}

uint32_t rec_get_u32(rec_reader *r)
{
    const unsigned char *p = take(r, 4);
    return p ? (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3] : 0;
}

uint64_t rec_get_u64(rec_reader *r)
{
    const unsigned char *p = take(r, 8);
    return p ? rec_get_be64(p) : 0;
}

rl_str rec_get_str(rec_reader *r)
{
    uint32_t n = rec_get_u32(r);
    const unsigned char *p = take(r, n);
    return p ? (rl_str){ (const char *)p, n } : (rl_str){ "", 0 };
}
