/* MLLP framing: a resumable decoder that keeps its state between reads. */
#include <string.h>

#include "radlink/mllp.h"

enum { S_SEEK = 0, S_SEEK_AFTER_EB, S_IN, S_DISCARD };

void mllp_decoder_init(mllp_decoder *d, size_t max_frame)
{
    memset(d, 0, sizeof *d);
    d->max_frame = max_frame;
    rl_buf_init(&d->frame, max_frame);
}

void mllp_decoder_free(mllp_decoder *d)
{
    rl_buf_free(&d->frame);
}

bool mllp_decoder_partial(const mllp_decoder *d)
{
    return d->state == S_IN && !d->emitted;
}

int mllp_decoder_feed(mllp_decoder *d, const char *in, size_t n, size_t *used)
{
    size_t i = 0;
    if (d->emitted) {
        rl_buf_reset(&d->frame);
        d->emitted = false;
        d->dropped = 0;
    }
    while (i < n) {
        switch (d->state) {
        case S_SEEK_AFTER_EB:
            d->state = S_SEEK;
            if (in[i] == MLLP_CR) {
                i++;
                continue;
            }
            /* fall through */
        case S_SEEK: {
            const char *sb = memchr(in + i, MLLP_SB, n - i);
            size_t skip = sb ? (size_t)(sb - (in + i)) : n - i;
            d->junk += skip;
            i += skip;
            if (sb) {
                i++;
                d->state = S_IN;
                rl_buf_reset(&d->frame);
            }
            continue;
        }
        case S_IN: {
            const char *p = in + i;
            size_t rest = n - i, k = 0;
            while (k < rest && p[k] != MLLP_EB && p[k] != MLLP_SB)
                k++;
            if (d->frame.len + k > d->max_frame) {
                size_t room = d->max_frame - d->frame.len;
                rl_buf_add(&d->frame, p, room);
                d->dropped = k - room;
                i += k;
                d->state = S_DISCARD;
                d->emitted = true;
                *used = i;
                return MLLP_OVERSIZE;
            }
            rl_buf_add(&d->frame, p, k);
            i += k;
            if (k == rest)
                continue;
            i++;
            d->emitted = true;
            *used = i;
            if (p[k] == MLLP_EB) {
                d->state = S_SEEK_AFTER_EB;
                return MLLP_FRAME;
            }
            d->state = S_IN; /* the start block begins a new frame */
            return MLLP_BROKEN;
        }
        case S_DISCARD: {
            const char *eb = memchr(in + i, MLLP_EB, n - i);
            size_t skip = eb ? (size_t)(eb - (in + i)) + 1 : n - i;
            d->dropped += skip;
            i += skip;
            if (eb)
                d->state = S_SEEK_AFTER_EB;
            continue;
        }
        }
    }
    *used = i;
    return MLLP_AGAIN;
}

int mllp_wrap(rl_buf *out, rl_str msg)
{
    if (rl_buf_reserve(out, msg.n + 3) != 0)
        return -1;
    rl_buf_add_ch(out, MLLP_SB);
    rl_buf_add_str(out, msg);
    rl_buf_add_ch(out, MLLP_EB);
    rl_buf_add_ch(out, MLLP_CR);
    return 0;
}
