/* The message log and duplicate index; record format in radlink/msglog.h. */
#include "radlink/msglog.h"

#include <stdio.h>
#include <string.h>

#include "radlink/limits.h"
#include "radlink/rec.h"
#include "radlink/reczip.h"

#define MSGLOG_VERSION 2
#define MSGLOG_PLAIN_VERSION 1
#define HEADER_BYTES (2 + 2 * 8)

static const char *const status_names[] = { "?", "accepted", "error", "rejected", "duplicate" };

const char *msglog_status_name(msglog_status s)
{
    return (s >= MSG_ACCEPTED && s <= MSG_DUPLICATE) ? status_names[s] : "?";
}

int msglog_status_parse(const char *name)
{
    for (int i = MSG_ACCEPTED; i <= MSG_DUPLICATE; i++)
        if (strcmp(name, status_names[i]) == 0)
            return i;
    return -1;
}

void msglog_rec_free(msglog_rec *r)
{
    rl_buf_free(&r->text);
}

/* The text of a stored record: its own bytes (version 1) or its frame
 * decompressed into r->text (version 2). */
static int text_of(store_txn *t, rl_str val, msglog_rec *r, rl_str *text, rl_err *err)
{
    if (val.n < HEADER_BYTES)
        return rl_err_set(err, STORE_E_CORRUPT, -1, "message record of %zu bytes", val.n);
    rl_str rest = { val.p + HEADER_BYTES, val.n - HEADER_BYTES };
    unsigned char version = (unsigned char)val.p[0];
    if (version == MSGLOG_PLAIN_VERSION) {
        *text = rest;
        return STORE_OK;
    }
    if (version != MSGLOG_VERSION)
        return rl_err_set(err, STORE_E_VERSION, -1, "message record of version %u", version);
    if (!r->text.data && !r->text.limit) /* MSGLOG_REC_INIT */
        rl_buf_init(&r->text, 0);
    int rc = reczip_unpack(t, "msg", rest, &r->text, err);
    if (rc == STORE_OK)
        *text = rl_buf_view(&r->text);
    return rc;
}

static int train_text(store_txn *t, rl_str val, rl_buf *scratch, rl_str *text)
{
    msglog_rec r = { .text = *scratch };
    rl_err ignored;
    int rc = text_of(t, val, &r, text, &ignored);
    *scratch = r.text; /* the buffer, grown */
    return rc;
}

int msglog_append(store_txn *t, msglog_rec *r, rl_err *err)
{
    int rc = store_next_seq(t, STORE_MSG, &r->seq, err);
    if (rc)
        return rc;
    if (reczip_due(t, "msg", r->seq) &&
        (rc = reczip_train(t, "msg", STORE_MSG, train_text, err)) != STORE_OK)
        return rc;
    rl_buf text, b;
    rl_buf_init(&text, 0);
    rl_buf_init(&b, 0);
    const rl_str *strs[] = { &r->peer, &r->listener, &r->app,   &r->fac,     &r->type, &r->ctrl,
                             &r->ack_code, &r->error, &r->outcome, &r->ack, &r->raw };
    int e = 0;
    for (size_t i = 0; i < sizeof strs / sizeof strs[0]; i++)
        e |= rec_put_str(&text, *strs[i]);
    e |= rec_put_u8(&b, MSGLOG_VERSION) | rec_put_u8(&b, (uint8_t)r->status) |
         rec_put_u64(&b, (uint64_t)r->recv_us) | rec_put_u64(&b, r->dup_of);
    if (e)
        rc = rl_err_set(err, STORE_E_ARG, -1, "message record too large");
    else
        rc = reczip_pack(t, "msg", rl_buf_view(&text), &b, err);
    if (rc == STORE_OK) {
        unsigned char key[RL_BE64_BYTES];
        rec_be64(r->seq, key);
        rc = store_put(t, STORE_MSG, (rl_str){ (char *)key, sizeof key }, rl_buf_view(&b),
                       STORE_APPEND, err);
    }
    rl_buf_free(&text);
    rl_buf_free(&b);
    return rc;
}

int msglog_head(rl_str val, msglog_rec *r)
{
    if (val.n < HEADER_BYTES)
        return STORE_E_CORRUPT;
    rec_reader rd;
    rec_reader_init(&rd, val.p, HEADER_BYTES);
    uint8_t version = rec_get_u8(&rd);
    if (version != MSGLOG_VERSION && version != MSGLOG_PLAIN_VERSION)
        return STORE_E_VERSION;
    r->status = (msglog_status)rec_get_u8(&rd);
    r->recv_us = (int64_t)rec_get_u64(&rd);
    r->dup_of = rec_get_u64(&rd);
    return STORE_OK;
}

int msglog_decode(store_txn *t, rl_str val, msglog_rec *r, rl_err *err)
{
    rl_str text;
    int rc = text_of(t, val, r, &text, err);
    if (rc)
        return rc;
    msglog_head(val, r);
    rec_reader rd;
    rec_reader_init(&rd, text.p ? text.p : "", text.n);
    rl_str *strs[] = { &r->peer, &r->listener, &r->app,   &r->fac,     &r->type, &r->ctrl,
                       &r->ack_code, &r->error, &r->outcome, &r->ack, &r->raw };
    for (size_t i = 0; i < sizeof strs / sizeof strs[0]; i++)
        *strs[i] = rec_get_str(&rd);
    if (!rec_ok(&rd))
        return rl_err_set(err, STORE_E_CORRUPT, -1, "message record: its text does not decode");
    return STORE_OK;
}

int msglog_get(store_txn *t, uint64_t seq, msglog_rec *r, rl_err *err)
{
    unsigned char key[RL_BE64_BYTES];
    rec_be64(seq, key);
    rl_str v;
    int rc = store_get(t, STORE_MSG, (rl_str){ (char *)key, sizeof key }, &v, err);
    if (rc)
        return rc;
    rc = msglog_decode(t, v, r, err);
    if (rc) {
        char why[RL_ERR_MSG_MAX];
        snprintf(why, sizeof why, "%s", err->msg);
        return rl_err_set(err, rc, -1, "message %llu: %s", (unsigned long long)seq, why);
    }
    r->seq = seq;
    return STORE_OK;
}

int msglog_seek_time(store_txn *t, int64_t since_us, uint64_t *seq, rl_err *err)
{
    uint64_t next;
    int rc = store_next_seq(t, STORE_MSG, &next, err);
    if (rc)
        return rc;
    /* Sequence numbers are dense from 1 and grow with receive time. */
    uint64_t lo = 1, hi = next;
    while (lo < hi) {
        uint64_t mid = lo + (hi - lo) / 2;
        msglog_rec r;
        unsigned char key[RL_BE64_BYTES];
        rec_be64(mid, key);
        rl_str v;
        rc = store_get(t, STORE_MSG, (rl_str){ (char *)key, sizeof key }, &v, err);
        if (rc == STORE_OK && msglog_head(v, &r) != STORE_OK)
            rc = rl_err_set(err, STORE_E_CORRUPT, -1, "message %llu: record does not decode",
                            (unsigned long long)mid);
        if (rc == STORE_NOTFOUND) { /* a gap: treat as old */
            lo = mid + 1;
            continue;
        }
        if (rc)
            return rc;
        if (r.recv_us < since_us)
            lo = mid + 1;
        else
            hi = mid;
    }
    *seq = lo;
    return STORE_OK;
}

