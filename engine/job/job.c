/* The job records (radlink/job.h). */
#include <stdio.h>
#include <string.h>

#include "radlink/job.h"
#include "radlink/rec.h"

#define JOB_VERSION 1

const char *job_state_name(job_state s)
{
    return s == JOB_PENDING ? "pending" : s == JOB_DONE ? "done" : s == JOB_DEAD ? "dead" : "?";
}

static int encode(const job *j, rl_buf *b)
{
    return rec_put_u8(b, JOB_VERSION) | rec_put_u8(b, (uint8_t)j->state) |
           rec_put_u32(b, j->attempts) | rec_put_u64(b, (uint64_t)j->created_us) |
           rec_put_u64(b, (uint64_t)j->updated_us) | rec_put_u64(b, (uint64_t)j->next_us) |
           rec_put_str(b, j->kind) | rec_put_str(b, j->subject) | rec_put_str(b, j->last_error) |
           rec_put_str(b, j->result);
}

static int decode(uint64_t id, rl_str v, job *j)
{
    rec_reader r;
    rec_reader_init(&r, v.p, v.n);
    if (rec_get_u8(&r) != JOB_VERSION)
        return STORE_E_VERSION;
    j->id = id;
    j->state = (job_state)rec_get_u8(&r);
    j->attempts = rec_get_u32(&r);
    j->created_us = (int64_t)rec_get_u64(&r);
    j->updated_us = (int64_t)rec_get_u64(&r);
    j->next_us = (int64_t)rec_get_u64(&r);
    j->kind = rec_get_str(&r);
    j->subject = rec_get_str(&r);
    j->last_error = rec_get_str(&r);
    j->result = rec_get_str(&r);
    return rec_ok(&r) ? STORE_OK : STORE_E_CORRUPT;
}

static rl_str id_key(uint64_t id, unsigned char k[8])
{
    rec_be64(id, k);
    return (rl_str){ (char *)k, 8 };
}

static int subject_idx(store_txn *t, rl_str subject, uint64_t id, bool add, rl_err *err)
{
    char b[300];
    if (subject.n + 1 > sizeof b || !subject.n)
        return STORE_OK;
    b[0] = 'S';
    memcpy(b + 1, subject.p, subject.n);
    unsigned char k[8];
    rl_str v = id_key(id, k);
    int rc = add ? store_put(t, STORE_JOB_IDX, (rl_str){ b, subject.n + 1 }, v, 0, err)
                 : store_del(t, STORE_JOB_IDX, (rl_str){ b, subject.n + 1 }, v, err);
    return rc == STORE_NOTFOUND ? STORE_OK : rc;
}

/* 'P' -> the ids of every pending job: what the dispatcher looks at. */
static int pending_idx(store_txn *t, uint64_t id, bool add, rl_err *err)
{
    unsigned char k[8];
    rl_str v = id_key(id, k);
    int rc = add ? store_put(t, STORE_JOB_IDX, RL_STR("P"), v, 0, err)
                 : store_del(t, STORE_JOB_IDX, RL_STR("P"), v, err);
    return rc == STORE_NOTFOUND ? STORE_OK : rc;
}

int job_each_pending(store_txn *t, job_visit cb, void *ctx, rl_err *err)
{
    store_cursor *c;
    int rc = store_cursor_open(t, STORE_JOB_IDX, &c, err);
    if (rc)
        return rc;
    rl_str k = RL_STR("P"), v;
    rc = store_cursor_get(c, STORE_SEEK, &k, &v);
    while (rc == STORE_OK && k.n == 1 && k.p[0] == 'P' && v.n == 8) {
        job j;
        if (job_get(t, rec_get_be64(v.p), &j, err) == STORE_OK && cb(ctx, &j))
            break;
        rc = store_cursor_get(c, STORE_NEXT_DUP, &k, &v);
    }
    store_cursor_close(c);
    return rc < 0 ? rc : STORE_OK;
}

static int put(store_txn *t, const job *j, rl_err *err)
{
    unsigned char k[8];
    rl_buf b;
    rl_buf_init(&b, 0);
    int rc = encode(j, &b) ? rl_err_set(err, STORE_E_ARG, -1, "job record too large")
                           : store_put(t, STORE_JOB, id_key(j->id, k), rl_buf_view(&b), 0, err);
    rl_buf_free(&b);
    return rc;
}

int job_submit(store_txn *t, const char *kind, rl_str subject, int64_t now_us, uint64_t *id,
               bool *created, rl_err *err)
{
    *created = false;
    /* one waiting job per subject and kind is enough: it takes the subject as
     * it is when it runs */
    char b[300];
    if (subject.n && subject.n + 1 <= sizeof b) {
        b[0] = 'S';
        memcpy(b + 1, subject.p, subject.n);
        store_cursor *c;
        int rc = store_cursor_open(t, STORE_JOB_IDX, &c, err);
        if (rc)
            return rc;
        rl_str k = { b, subject.n + 1 }, v;
        rl_str want = k;
        rc = store_cursor_get(c, STORE_SEEK, &k, &v);
        while (rc == STORE_OK && rl_str_eq(k, want)) {
            job j;
            uint64_t jid = rec_get_be64(v.p);
            if (job_get(t, jid, &j, err) == STORE_OK && j.state == JOB_PENDING &&
                j.attempts == 0 && rl_str_eq(j.kind, rl_str_c(kind))) {
                *id = jid;
                store_cursor_close(c);
                return STORE_OK;
            }
            rc = store_cursor_get(c, STORE_NEXT_DUP, &k, &v);
        }
        store_cursor_close(c);
    }
    uint64_t next;
    int rc = store_next_seq(t, STORE_JOB, &next, err);
    if (rc)
        return rc;
    job j = { .id = next, .state = JOB_PENDING, .created_us = now_us, .updated_us = now_us,
              .next_us = now_us, .kind = rl_str_c(kind), .subject = subject,
              .last_error = { "", 0 }, .result = { "", 0 } };
    rc = put(t, &j, err);
    if (rc == STORE_OK)
        rc = subject_idx(t, subject, next, true, err);
    if (rc == STORE_OK)
        rc = pending_idx(t, next, true, err);
    if (rc == STORE_OK) {
        *id = next;
        *created = true;
    }
    return rc;
}

int job_get(store_txn *t, uint64_t id, job *out, rl_err *err)
{
    unsigned char k[8];
    rl_str v;
    int rc = store_get(t, STORE_JOB, id_key(id, k), &v, err);
    if (rc)
        return rc;
    return decode(id, v, out) == STORE_OK
               ? STORE_OK
               : rl_err_set(err, STORE_E_CORRUPT, -1, "job %llu does not decode",
                            (unsigned long long)id);
}

int job_update(store_txn *t, const job *j, rl_err *err)
{
    int rc = put(t, j, err);
    bool pending = j->state == JOB_PENDING;
    if (rc == STORE_OK)
        rc = subject_idx(t, j->subject, j->id, pending, err);
    if (rc == STORE_OK)
        rc = pending_idx(t, j->id, pending, err);
    return rc;
}

int job_each(store_txn *t, uint64_t from, job_visit cb, void *ctx, rl_err *err)
{
    store_cursor *c;
    int rc = store_cursor_open(t, STORE_JOB, &c, err);
    if (rc)
        return rc;
    unsigned char kb[8];
    rl_str k = id_key(from, kb), v;
    rc = store_cursor_get(c, STORE_SEEK, &k, &v);
    while (rc == STORE_OK) {
        job j;
        if (k.n != 8 || decode(rec_get_be64(k.p), v, &j) != STORE_OK) {
            rc = rl_err_set(err, STORE_E_CORRUPT, -1, "job record does not decode");
            break;
        }
        if (cb(ctx, &j))
            break;
        rc = store_cursor_get(c, STORE_NEXT, &k, &v);
    }
    store_cursor_close(c);
    return rc < 0 ? rc : STORE_OK;
}
