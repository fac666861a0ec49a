/* Splitting input that holds several messages: messages one after another, or
 * batches wrapped in FHS/BHS ... BTS/FTS (HL7 v2.5 section 2.10.3). */
#include <string.h>

#include "fmt.h"
#include "hl7_internal.h"

typedef struct split_state {
    rl_str in;
    const char *msg_start; /* first byte of the open message, or NULL */
    const char *msg_end;   /* end of its last segment */
    unsigned in_batch;     /* messages in the open batch */
    unsigned batches_in_file;
    char fs;               /* field separator of the last header segment */
    hl7_split_cb cb;
    void *ctx;
    hl7_split_info *info;
} split_state;

static int close_message(split_state *st)
{
    if (!st->msg_start)
        return 0;
    rl_str msg = { st->msg_start, (size_t)(st->msg_end - st->msg_start) };
    size_t off = (size_t)(st->msg_start - st->in.p);
    st->msg_start = NULL;
    st->info->messages++;
    st->in_batch++;
    return st->cb(st->ctx, msg, off);
}

/* Check a trailer's count field (BTS-1, FTS-1) against what was seen. */
static int check_count(split_state *st, rl_str seg, unsigned seen, size_t off, rl_err *err)
{
    rl_str v;
    uint64_t declared;
    if (seg.n < 4 || hl7_piece((rl_str){ seg.p + 4, seg.n - 4 }, st->fs, 1, &v) != HL7_VALUE)
        return 0;
    if (!rl_str_to_u64(rl_str_trim(v), 1000000000, &declared))
        return rl_err_set(err, HL7_E_BATCH, (long)off, "byte %zu: %.3s-1 count '%.*s' is not a number",
                          off, seg.p, RL_STR_FMT(v));
    if (declared != seen)
        return rl_err_set(err, HL7_E_BATCH, (long)off,
                          "byte %zu: %.3s-1 says %llu but %u were found", off, seg.p,
                          (unsigned long long)declared, seen);
    return 0;
}

static bool is_blank(rl_str s)
{
    for (size_t i = 0; i < s.n; i++)
        if (s.p[i] != ' ' && s.p[i] != '\t')
            return false;
    return true;
}

int hl7_split(rl_str in, hl7_split_cb cb, void *ctx, hl7_split_info *info, rl_err *err)
{
    hl7_split_info dummy;
    if (!info)
        info = &dummy;
    memset(info, 0, sizeof *info);
    if (!in.p) /* nothing (an empty file): no arithmetic on a null pointer */
        in = (rl_str){ "", 0 };
    split_state st = { .in = in, .fs = '|', .cb = cb, .ctx = ctx, .info = info };
    const char *p = in.p, *end = in.p + in.n;
    if (in.n >= 3 && memcmp(p, "\xEF\xBB\xBF", 3) == 0) /* UTF-8 byte order mark */
        p += 3;
    bool batch_open = false, implicit_used = false;
    int rc = 0;
    while (p < end && rc == 0) {
        const char *e = p;
        while (e < end && *e != '\r' && *e != '\n')
            e++;
        rl_str seg = { p, (size_t)(e - p) };
        size_t off = (size_t)(p - in.p);
        if (!is_blank(seg)) {
            if (seg.n >= 4 && (hl7_seg_is(seg, "MSH") || hl7_seg_is(seg, "BHS") ||
                               hl7_seg_is(seg, "FHS")))
                st.fs = seg.p[3];
            if (hl7_seg_is(seg, "MSH")) {
                rc = close_message(&st);
                st.msg_start = p;
            } else if (hl7_seg_is(seg, "FHS")) {
                if (info->file_header || st.msg_start || info->messages)
                    return rl_err_set(err, HL7_E_BATCH, (long)off,
                                      "byte %zu: FHS must be the first segment of the file",
                                      off);
                info->file_header = true;
            } else if (hl7_seg_is(seg, "BHS")) {
                rc = close_message(&st);
                if (batch_open && rc == 0)
                    return rl_err_set(err, HL7_E_BATCH, (long)off,
                                      "byte %zu: BHS before the previous batch's BTS", off);
                batch_open = true;
                st.in_batch = 0;
                info->batches++;
            } else if (hl7_seg_is(seg, "BTS")) {
                rc = close_message(&st);
                /* a BTS closing messages no BHS opened (some senders write
                 * only the trailer): the batch is every message so far */
                if (rc == 0 && !batch_open && (info->batches || implicit_used))
                    return rl_err_set(err, HL7_E_BATCH, (long)off,
                                      "byte %zu: BTS without BHS", off);
                if (!batch_open)
                    implicit_used = true;
                if (rc == 0 && (rc = check_count(&st, seg, st.in_batch, off, err)) != 0)
                    return rc;
                batch_open = false;
            } else if (hl7_seg_is(seg, "FTS")) {
                rc = close_message(&st);
                if (rc == 0 && !info->file_header)
                    return rl_err_set(err, HL7_E_BATCH, (long)off,
                                      "byte %zu: FTS without FHS", off);
                if (rc == 0 && (rc = check_count(&st, seg, info->batches, off, err)) != 0)
                    return rc;
            } else if (!st.msg_start) {
                char shown[HL7_SHOWN_SIZE(3)];
                hl7_fmt_bytes(seg.p, seg.n < 3 ? seg.n : 3, shown, sizeof shown);
                return rl_err_set(err, HL7_E_NO_MSH, (long)off,
                                  "byte %zu: segment '%s' outside a message (no MSH before it)",
                                  off, shown);
            }
            st.msg_end = e;
        }
        p = e;
        if (p < end && *p == '\r')
            p++;
        if (p < end && *p == '\n')
            p++;
    }
    if (rc == 0)
        rc = close_message(&st);
    if (rc == 0 && batch_open)
        return rl_err_set(err, HL7_E_BATCH, (long)in.n, "byte %zu: batch has no BTS", in.n);
    return rc;
}
