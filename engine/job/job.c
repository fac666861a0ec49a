/* The job state machine and its records (radlink/job.h). Every function
 * reads what it changes into memory it owns before writing, because an LMDB
 * view dies at the next write of the same transaction. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "radlink/job.h"
#include "radlink/limits.h"
#include "radlink/rec.h"

#define JOB_VERSION 3 /* 3: the history of attempts */
/* The history keeps the newest lines within this many bytes. */
#define JOB_HISTORY_MAX 2048

static const char *const state_names[] = {
    [JOB_PENDING] = "pending", [JOB_DONE] = "done",     [JOB_DEAD] = "dead",
    [JOB_RUNNING] = "running", [JOB_FAILED] = "failed", [JOB_UNVERIFIED] = "unverified",
};

const char *job_state_name(job_state s)
{
    return (unsigned)s < sizeof state_names / sizeof *state_names && state_names[s]
               ? state_names[s]
               : "?";
}

job_state job_state_parse(const char *name)
{
    for (unsigned i = 1; i < sizeof state_names / sizeof *state_names; i++)
        if (state_names[i] && strcmp(state_names[i], name) == 0)
            return (job_state)i;
    return 0;
}

static int encode(const job *j, rl_buf *b)
{
    return rec_put_u8(b, JOB_VERSION) | rec_put_u8(b, (uint8_t)j->state) |
           rec_put_u32(b, j->attempts) | rec_put_u64(b, (uint64_t)j->created_us) |
           rec_put_u64(b, (uint64_t)j->updated_us) | rec_put_u64(b, (uint64_t)j->due_us) |
           rec_put_u32(b, j->gen) | rec_put_u32(b, j->upto) | rec_put_str(b, j->kind) |
           rec_put_str(b, j->subject) | rec_put_str(b, j->last_error) |
           rec_put_str(b, j->result) | rec_put_str(b, j->worker) | rec_put_str(b, j->history);
}

static int decode(uint64_t id, rl_str v, job *j)
{
    rec_reader r;
    rec_reader_init(&r, v.p, v.n);
    uint8_t version = rec_get_u8(&r);
    if (version < 1 || version > JOB_VERSION)
        return STORE_E_VERSION;
    memset(j, 0, sizeof *j);
    j->id = id;
    j->state = (job_state)rec_get_u8(&r);
    j->attempts = rec_get_u32(&r);
    j->created_us = (int64_t)rec_get_u64(&r);
    j->updated_us = (int64_t)rec_get_u64(&r);
    j->due_us = (int64_t)rec_get_u64(&r);
    if (version >= 2) {
        j->gen = rec_get_u32(&r);
        j->upto = rec_get_u32(&r);
    }
    j->kind = rec_get_str(&r);
    j->subject = rec_get_str(&r);
    j->last_error = rec_get_str(&r);
    j->result = rec_get_str(&r);
    j->worker = version >= 2 ? rec_get_str(&r) : (rl_str){ "", 0 };
    j->history = version >= 3 ? rec_get_str(&r) : (rl_str){ "", 0 };
    if (!rec_ok(&r) || j->state < JOB_PENDING || j->state > JOB_UNVERIFIED)
        return STORE_E_CORRUPT;
    return STORE_OK;
}

static rl_str id_key(uint64_t id, unsigned char k[RL_BE64_BYTES])
{
    rec_be64(id, k);
    return (rl_str){ (char *)k, RL_BE64_BYTES };
}

/* A job read into memory of its own, so that it survives the writes that
 * follow (free with owned_free). */
typedef struct owned {
    job j;
    rl_buf b;
} owned;

static void own(owned *o)
{
    rl_str *v[] = { &o->j.kind,   &o->j.subject, &o->j.last_error,
                    &o->j.result, &o->j.worker,  &o->j.history };
    enum { N = sizeof v / sizeof *v };
    size_t off[N];
    rl_buf_init(&o->b, 0);
    for (int i = 0; i < N; i++) {
        off[i] = o->b.len;
        rl_buf_add_str(&o->b, *v[i]);
    }
    for (int i = 0; i < N; i++)
        v[i]->p = o->b.data ? o->b.data + off[i] : "";
}

static void owned_free(owned *o)
{
    rl_buf_free(&o->b);
}

int job_get(store_txn *t, uint64_t id, job *out, rl_err *err)
{
    unsigned char k[RL_BE64_BYTES];
    rl_str v;
    int rc = store_get(t, STORE_JOB, id_key(id, k), &v, err);
    if (rc == STORE_NOTFOUND)
        return rl_err_set(err, STORE_NOTFOUND, -1, "no job %llu", (unsigned long long)id);
    if (rc)
        return rc;
    return decode(id, v, out) == STORE_OK
               ? STORE_OK
               : rl_err_set(err, STORE_E_CORRUPT, -1, "job %llu does not decode",
                            (unsigned long long)id);
}

static int load(store_txn *t, uint64_t id, owned *o, rl_err *err)
{
    int rc = job_get(t, id, &o->j, err);
    if (rc == STORE_OK)
        own(o);
    return rc;
}

static int put(store_txn *t, const job *j, rl_err *err)
{
    unsigned char k[RL_BE64_BYTES];
    rl_buf b;
    rl_buf_init(&b, RL_JOB_RECORD_MAX);
    int rc = encode(j, &b) ? rl_err_set(err, STORE_E_ARG, -1, "job %llu: record too large",
                                        (unsigned long long)j->id)
                           : store_put(t, STORE_JOB, id_key(j->id, k), rl_buf_view(&b), 0, err);
    rl_buf_free(&b);
    return rc;
}

/* ---- indexes ---- */

static int idx_subject(store_txn *t, rl_str subject, uint64_t id, bool add, rl_err *err)
{
    char b[1 + RL_JOB_SUBJECT_MAX];
    if (!subject.n || subject.n > RL_JOB_SUBJECT_MAX)
        return rl_err_set(err, STORE_E_ARG, -1, "job subject of %zu bytes", subject.n);
    b[0] = 'S';
    memcpy(b + 1, subject.p, subject.n);
    unsigned char k[RL_BE64_BYTES];
    rl_str v = id_key(id, k);
    int rc = add ? store_put(t, STORE_JOB_IDX, (rl_str){ b, subject.n + 1 }, v, 0, err)
                 : store_del(t, STORE_JOB_IDX, (rl_str){ b, subject.n + 1 }, v, err);
    return rc == STORE_NOTFOUND ? STORE_OK : rc;
}

/* 'H': what a job is about -> its id, finished or not */
static int idx_about(store_txn *t, rl_str subject, uint64_t id, bool add, rl_err *err)
{
    const char *at = memchr(subject.p, '@', subject.n);
    size_t n = at ? (size_t)(at - subject.p) : subject.n;
    char b[1 + RL_JOB_SUBJECT_MAX];
    if (!n || n > RL_JOB_SUBJECT_MAX)
        return STORE_OK;
    b[0] = 'H';
    memcpy(b + 1, subject.p, n);
    unsigned char k[RL_BE64_BYTES];
    rl_str v = id_key(id, k);
    int rc = add ? store_put(t, STORE_JOB_IDX, (rl_str){ b, n + 1 }, v, 0, err)
                 : store_del(t, STORE_JOB_IDX, (rl_str){ b, n + 1 }, v, err);
    return rc == STORE_NOTFOUND ? STORE_OK : rc;
}

int job_each_about(store_txn *t, rl_str about, job_visit cb, void *ctx, rl_err *err)
{
    char b[1 + RL_JOB_SUBJECT_MAX];
    if (!about.n || about.n > RL_JOB_SUBJECT_MAX)
        return STORE_OK;
    b[0] = 'H';
    memcpy(b + 1, about.p, about.n);
    store_cursor *c;
    int rc = store_cursor_open(t, STORE_JOB_IDX, &c, err);
    if (rc)
        return rc;
    /* the ids first: a callback may read other records */
    rl_buf ids;
    rl_buf_init(&ids, 0);
    rl_str k = { b, about.n + 1 }, v;
    for (int got = store_cursor_get(c, STORE_SET, &k, &v); got == STORE_OK;
         got = store_cursor_get(c, STORE_NEXT_DUP, &k, &v))
        if (v.n == RL_BE64_BYTES)
            rl_buf_add_str(&ids, v);
    store_cursor_close(c);
    for (size_t i = 0; i + RL_BE64_BYTES <= ids.len; i += RL_BE64_BYTES) {
        job j;
        if (job_get(t, rec_get_be64(ids.data + i), &j, err) == STORE_OK && (rc = cb(ctx, &j)) != 0)
            break;
    }
    rl_buf_free(&ids);
    return rc < 0 ? rc : STORE_OK;
}

int job_remove(store_txn *t, uint64_t id, rl_err *err)
{
    job j;
    int rc = job_get(t, id, &j, err);
    if (rc)
        return rc;
    char subject[RL_JOB_SUBJECT_MAX];
    size_t n = j.subject.n < sizeof subject ? j.subject.n : sizeof subject;
    memcpy(subject, j.subject.p, n); /* the view ends at the delete */
    unsigned char k[RL_BE64_BYTES];
    rc = store_del(t, STORE_JOB, id_key(id, k), (rl_str){ NULL, 0 }, err);
    return rc == STORE_OK ? idx_about(t, (rl_str){ subject, n }, id, false, err) : rc;
}

int job_index_upgrade(store_txn *t, unsigned *n, rl_err *err)
{
    *n = 0;
    rl_str v;
    int rc = store_get(t, STORE_META, RL_STR("job.hidx"), &v, err);
    if (rc == STORE_OK)
        return STORE_OK;
    if (rc < 0)
        return rc;
    uint64_t next = 1;
    if ((rc = store_next_seq(t, STORE_JOB, &next, err)) != STORE_OK)
        return rc;
    for (uint64_t id = 1; rc == STORE_OK && id < next; id++) {
        job j;
        char subject[RL_JOB_SUBJECT_MAX];
        if (job_get(t, id, &j, err) != STORE_OK || j.subject.n > sizeof subject)
            continue;
        memcpy(subject, j.subject.p, j.subject.n);
        rc = idx_about(t, (rl_str){ subject, j.subject.n }, id, true, err);
        (*n)++;
    }
    return rc == STORE_OK ? store_put(t, STORE_META, RL_STR("job.hidx"), RL_STR("1"), 0, err) : rc;
}

static int idx_due(store_txn *t, int64_t due, uint64_t id, bool add, rl_err *err)
{
    unsigned char v[2 * RL_BE64_BYTES]; /* due, id */
    rec_be64((uint64_t)due, v);
    rec_be64(id, v + 8);
    rl_str val = { (char *)v, sizeof v };
    int rc = add ? store_put(t, STORE_JOB_IDX, RL_STR("D"), val, 0, err)
                 : store_del(t, STORE_JOB_IDX, RL_STR("D"), val, err);
    return rc == STORE_NOTFOUND ? STORE_OK : rc;
}

static int idx_running(store_txn *t, uint64_t id, bool add, rl_err *err)
{
    unsigned char k[RL_BE64_BYTES];
    rl_str v = id_key(id, k);
    int rc = add ? store_put(t, STORE_JOB_IDX, RL_STR("R"), v, 0, err)
                 : store_del(t, STORE_JOB_IDX, RL_STR("R"), v, err);
    return rc == STORE_NOTFOUND ? STORE_OK : rc;
}

/* The ids of subject's unfinished jobs (at most RL_JOB_PER_SUBJECT_MAX;
 * the rules keep it at three). */
typedef struct ids {
    uint64_t v[RL_JOB_PER_SUBJECT_MAX];
    size_t n;
} ids;

static int subject_ids(store_txn *t, rl_str subject, ids *out, rl_err *err)
{
    out->n = 0;
    char b[1 + RL_JOB_SUBJECT_MAX];
    if (!subject.n || subject.n > RL_JOB_SUBJECT_MAX)
        return STORE_OK;
    b[0] = 'S';
    memcpy(b + 1, subject.p, subject.n);
    rl_str want = { b, subject.n + 1 }, k = want, v;
    store_cursor *c;
    int rc = store_cursor_open(t, STORE_JOB_IDX, &c, err);
    if (rc)
        return rc;
    rc = store_cursor_get(c, STORE_SEEK, &k, &v);
    while (rc == STORE_OK && rl_str_eq(k, want)) {
        if (out->n == RL_JOB_PER_SUBJECT_MAX) { /* the rules were broken: say so */
            store_cursor_close(c);
            return rl_err_set(err, RL_E_LIMIT, -1, "more than %d unfinished jobs for %.*s",
                              RL_JOB_PER_SUBJECT_MAX, RL_STR_FMT(subject));
        }
        if (v.n == 8)
            out->v[out->n++] = rec_get_be64(v.p);
        rc = store_cursor_get(c, STORE_NEXT_DUP, &k, &v);
    }
    store_cursor_close(c);
    return rc < 0 ? rl_err_set(err, rc, -1, "job index") : STORE_OK;
}

static bool waiting(job_state s)
{
    return s == JOB_PENDING || s == JOB_FAILED;
}

/* The other waiting jobs of subject leave the due index (one of the subject
 * started) or come back to it (it ended). */
static int siblings_due(store_txn *t, rl_str subject, uint64_t except, bool add, rl_err *err)
{
    ids x;
    int rc = subject_ids(t, subject, &x, err);
    for (size_t i = 0; rc == STORE_OK && i < x.n; i++) {
        job j;
        if (x.v[i] == except)
            continue;
        rc = job_get(t, x.v[i], &j, err);
        if (rc == STORE_OK && waiting(j.state))
            rc = idx_due(t, j.due_us, j.id, add, err);
    }
    return rc;
}

static int subject_running(store_txn *t, rl_str subject, bool *yes, rl_err *err)
{
    ids x;
    *yes = false;
    int rc = subject_ids(t, subject, &x, err);
    for (size_t i = 0; rc == STORE_OK && i < x.n && !*yes; i++) {
        job j;
        rc = job_get(t, x.v[i], &j, err);
        *yes = rc == STORE_OK && j.state == JOB_RUNNING;
    }
    return rc;
}

/* ---- transitions ---- */

int job_want(store_txn *t, const char *kind, rl_str subject, int64_t not_before_us,
             int64_t now_us, uint64_t *id, bool *created, rl_err *err)
{
    *created = false;
    ids x;
    int rc = subject_ids(t, subject, &x, err);
    if (rc)
        return rc;
    bool running = false;
    uint64_t wait_id = 0;
    for (size_t i = 0; i < x.n; i++) {
        job j;
        if ((rc = job_get(t, x.v[i], &j, err)) != STORE_OK)
            return rc;
        running |= j.state == JOB_RUNNING;
        if (waiting(j.state) && rl_str_eq_c(j.kind, kind) && (!wait_id || j.id < wait_id))
            wait_id = j.id;
    }
    if (wait_id) { /* one is waiting already: it takes the subject as it is when it runs */
        *id = wait_id;
        owned o;
        if ((rc = load(t, wait_id, &o, err)) != STORE_OK)
            return rc;
        if (not_before_us > o.j.due_us) {
            if (!running)
                rc = idx_due(t, o.j.due_us, o.j.id, false, err);
            o.j.due_us = not_before_us;
            o.j.updated_us = now_us;
            if (rc == STORE_OK)
                rc = put(t, &o.j, err);
            if (rc == STORE_OK && !running)
                rc = idx_due(t, o.j.due_us, o.j.id, true, err);
        }
        owned_free(&o);
        return rc;
    }
    if (x.n >= RL_JOB_PER_SUBJECT_MAX)
        return rl_err_set(err, RL_E_LIMIT, -1, "%zu unfinished jobs for one subject", x.n);
    uint64_t next;
    if ((rc = store_next_seq(t, STORE_JOB, &next, err)) != STORE_OK)
        return rc;
    job j = { .id = next, .state = JOB_PENDING, .created_us = now_us, .updated_us = now_us,
              .due_us = not_before_us, .kind = rl_str_c(kind), .subject = subject,
              .last_error = { "", 0 }, .result = { "", 0 }, .worker = { "", 0 } };
    rc = put(t, &j, err);
    if (rc == STORE_OK)
        rc = idx_subject(t, subject, next, true, err);
    if (rc == STORE_OK)
        rc = idx_about(t, subject, next, true, err);
    if (rc == STORE_OK && !running) /* else a follow-up: due once the running one ends */
        rc = idx_due(t, j.due_us, next, true, err);
    if (rc == STORE_OK) {
        *id = next;
        *created = true;
    }
    return rc;
}

int job_cancel_waiting(store_txn *t, const char *kind, rl_str subject, rl_str why,
                       int64_t now_us, unsigned *n, rl_err *err)
{
    *n = 0;
    ids x;
    int rc = subject_ids(t, subject, &x, err);
    bool running = false;
    for (size_t i = 0; rc == STORE_OK && i < x.n; i++) {
        job j;
        rc = job_get(t, x.v[i], &j, err);
        running |= rc == STORE_OK && j.state == JOB_RUNNING;
    }
    if (running) /* the attempt under way ends as it ends; the order's absence stops the next */
        return rc;
    for (size_t i = 0; rc == STORE_OK && i < x.n; i++) {
        job j;
        if ((rc = job_get(t, x.v[i], &j, err)) != STORE_OK || !waiting(j.state) ||
            !rl_str_eq_c(j.kind, kind))
            continue;
        job s;
        rc = job_start(t, x.v[i], "radlink", 0, 0, now_us, &s, err);
        if (rc == STORE_OK)
            rc = job_done(t, x.v[i], s.attempts, why, now_us, NULL, err);
        *n += rc == STORE_OK;
    }
    return rc;
}

int job_due_by(store_txn *t, uint64_t id, int64_t due_us, int64_t now_us, rl_err *err)
{
    owned o;
    int rc = load(t, id, &o, err);
    if (rc)
        return rc;
    if (o.j.state == JOB_PENDING && o.j.due_us > due_us) {
        bool running = false;
        rc = subject_running(t, o.j.subject, &running, err);
        if (rc == STORE_OK && !running)
            rc = idx_due(t, o.j.due_us, o.j.id, false, err);
        o.j.due_us = due_us;
        o.j.updated_us = now_us;
        if (rc == STORE_OK)
            rc = put(t, &o.j, err);
        if (rc == STORE_OK && !running)
            rc = idx_due(t, o.j.due_us, o.j.id, true, err);
    }
    owned_free(&o);
    return rc;
}

int job_next_due(store_txn *t, uint64_t *id, int64_t *due_us, rl_err *err)
{
    store_cursor *c;
    int rc = store_cursor_open(t, STORE_JOB_IDX, &c, err);
    if (rc)
        return rc;
    rl_str k = RL_STR("D"), v;
    rc = store_cursor_get(c, STORE_SEEK, &k, &v);
    if (rc == STORE_OK && !(k.n == 1 && k.p[0] == 'D'))
        rc = STORE_NOTFOUND;
    if (rc == STORE_OK && v.n == 16) {
        *due_us = (int64_t)rec_get_be64(v.p);
        *id = rec_get_be64(v.p + 8);
    } else if (rc == STORE_OK) {
        rc = rl_err_set(err, STORE_E_CORRUPT, -1, "job due index entry of %zu bytes", v.n);
    }
    store_cursor_close(c);
    return rc;
}

/* The state just written, read back for the caller (views of the new record). */
static int reread(store_txn *t, uint64_t id, job *out, rl_err *err)
{
    return out ? job_get(t, id, out, err) : STORE_OK;
}

int job_start(store_txn *t, uint64_t id, const char *worker, uint32_t gen, uint32_t upto,
              int64_t now_us, job *out, rl_err *err)
{
    owned o;
    int rc = load(t, id, &o, err);
    if (rc)
        return rc;
    if (!waiting(o.j.state)) {
        rc = rl_err_set(err, JOB_E_STATE, -1, "job %llu is %s, not waiting",
                        (unsigned long long)id, job_state_name(o.j.state));
        owned_free(&o);
        return rc;
    }
    rc = idx_due(t, o.j.due_us, id, false, err);
    o.j.state = JOB_RUNNING;
    o.j.attempts++;
    o.j.gen = gen;
    o.j.upto = upto;
    o.j.worker = rl_str_c(worker);
    o.j.updated_us = now_us;
    if (rc == STORE_OK)
        rc = put(t, &o.j, err);
    if (rc == STORE_OK)
        rc = idx_running(t, id, true, err);
    if (rc == STORE_OK) /* its subject's follow-up waits for this one */
        rc = siblings_due(t, o.j.subject, id, false, err);
    if (rc == STORE_OK)
        rc = reread(t, id, out, err);
    owned_free(&o);
    return rc;
}

/* Load a job for an outcome of `attempt`: JOB_E_STALE unless that attempt
 * holds it. */
static int load_running(store_txn *t, uint64_t id, uint32_t attempt, owned *o, rl_err *err)
{
    int rc = load(t, id, o, err);
    if (rc)
        return rc;
    if (o->j.state != JOB_RUNNING || o->j.attempts != attempt) {
        rc = rl_err_set(err, JOB_E_STALE, -1, "job %llu attempt %u: the job is %s%s, attempt %u",
                        (unsigned long long)id, attempt, job_state_name(o->j.state),
                        o->j.state == JOB_RUNNING ? " by" : " after", o->j.attempts);
        owned_free(o);
    }
    return rc;
}

/* A RUNNING job ends (DONE, FAILED or DEAD): out of the running index, and
 * its subject's other waiting jobs may start again. */
static int leave_running(store_txn *t, owned *o, rl_err *err)
{
    int rc = idx_running(t, o->j.id, false, err);
    if (rc == STORE_OK && o->j.state != JOB_FAILED)
        rc = idx_subject(t, o->j.subject, o->j.id, false, err);
    if (rc == STORE_OK && o->j.state == JOB_FAILED)
        rc = idx_due(t, o->j.due_us, o->j.id, true, err);
    if (rc == STORE_OK)
        rc = siblings_due(t, o->j.subject, o->j.id, true, err);
    return rc;
}

static int64_t backoff_us(uint32_t attempts)
{
    int64_t s = 1;
    for (uint32_t i = 0; i < attempts && s < RL_JOB_BACKOFF_MAX_S; i++)
        s *= 2;
    return (s > RL_JOB_BACKOFF_MAX_S ? RL_JOB_BACKOFF_MAX_S : s) * 1000000;
}

/* The history with one more line ("TIME attempt N on WORKER: STATE: text"),
 * its oldest lines dropped to stay within JOB_HISTORY_MAX, into b. */
static void history_add(const job *j, const char *what, rl_str text, int64_t now_us, rl_buf *b)
{
    char when[RL_TIME_TEXT_MAX];
    rl_time_iso(now_us, when, sizeof when);
    rl_buf_add_str(b, j->history);
    rl_buf_printf(b, "%s attempt %u%s%.*s: %s%s%.*s\n", when, (unsigned)j->attempts,
                  j->worker.n ? " on " : "", RL_STR_FMT(j->worker), what, text.n ? ": " : "",
                  (int)(text.n < 600 ? text.n : 600), text.p);
    size_t cut = 0;
    while (b->len - cut > JOB_HISTORY_MAX) {
        const char *nl = memchr(b->data + cut, '\n', b->len - cut);
        if (!nl)
            break;
        cut = (size_t)(nl - (const char *)b->data) + 1;
    }
    if (cut) {
        memmove(b->data, b->data + cut, b->len - cut);
        b->len -= cut;
    }
}

/* The attempt holding the job ends in state with result or error. FAILED
 * becomes DEAD after max_attempts, and is due again after the backoff. */
static int end_attempt(store_txn *t, uint64_t id, uint32_t attempt, job_state state,
                       rl_str result, rl_str error, unsigned max_attempts, int64_t now_us,
                       job *out, rl_err *err)
{
    owned o;
    int rc = load_running(t, id, attempt, &o, err);
    if (rc)
        return rc;
    if (state == JOB_FAILED) {
        state = o.j.attempts >= max_attempts ? JOB_DEAD : JOB_FAILED;
        o.j.due_us = now_us + backoff_us(o.j.attempts);
    }
    o.j.state = state;
    o.j.result = result;
    o.j.last_error = error;
    o.j.updated_us = now_us;
    rl_buf hist;
    rl_buf_init(&hist, 0);
    history_add(&o.j, job_state_name(state), state == JOB_DONE ? result : error, now_us, &hist);
    o.j.history = rl_buf_view(&hist);
    rc = put(t, &o.j, err);
    rl_buf_free(&hist);
    if (rc == STORE_OK)
        rc = leave_running(t, &o, err);
    if (rc == STORE_OK)
        rc = reread(t, id, out, err);
    owned_free(&o);
    return rc;
}

int job_done(store_txn *t, uint64_t id, uint32_t attempt, rl_str result, int64_t now_us,
             job *out, rl_err *err)
{
    return end_attempt(t, id, attempt, JOB_DONE, result, (rl_str){ "", 0 }, 0, now_us, out, err);
}

int job_fail(store_txn *t, uint64_t id, uint32_t attempt, rl_str why, unsigned max_attempts,
             int64_t now_us, job *out, rl_err *err)
{
    return end_attempt(t, id, attempt, JOB_FAILED, (rl_str){ "", 0 }, why, max_attempts, now_us,
                       out, err);
}

int job_unverified(store_txn *t, uint64_t id, uint32_t attempt, rl_str why, int64_t now_us,
                   job *out, rl_err *err)
{
    return end_attempt(t, id, attempt, JOB_UNVERIFIED, (rl_str){ "", 0 }, why, 0, now_us, out,
                       err);
}

/* A dead job whose subject waits already: that job carries the work, due
 * now; the dead one is DONE, pointing at it. */
static int fold_into(store_txn *t, owned *dead, uint64_t into, int64_t now_us, rl_err *err)
{
    owned w;
    int rc = load(t, into, &w, err);
    if (rc)
        return rc;
    bool running = false;
    rc = subject_running(t, w.j.subject, &running, err);
    if (rc == STORE_OK && !running)
        rc = idx_due(t, w.j.due_us, into, false, err);
    w.j.due_us = now_us;
    w.j.updated_us = now_us;
    if (w.j.state == JOB_FAILED) {
        w.j.state = JOB_PENDING;
        w.j.attempts = 0;
    }
    if (rc == STORE_OK)
        rc = put(t, &w.j, err);
    if (rc == STORE_OK && !running)
        rc = idx_due(t, now_us, into, true, err);
    owned_free(&w);
    char text[sizeof "retried as job " + RL_NUM_TEXT_MAX];
    snprintf(text, sizeof text, "retried as job %llu", (unsigned long long)into);
    dead->j.state = JOB_DONE;
    dead->j.updated_us = now_us;
    dead->j.result = rl_str_c(text);
    return rc == STORE_OK ? put(t, &dead->j, err) : rc;
}

int job_retry(store_txn *t, uint64_t id, int64_t now_us, uint64_t *as_id, rl_err *err)
{
    owned o;
    int rc = load(t, id, &o, err);
    if (rc)
        return rc;
    *as_id = id;
    if (o.j.state == JOB_UNVERIFIED)
        o.j.state = JOB_DEAD; /* ended the same way: out of the subject's unfinished jobs */
    if (o.j.state != JOB_DEAD && o.j.state != JOB_FAILED) {
        rc = rl_err_set(err, JOB_E_STATE, -1, "job %llu is %s: only a dead, unverified or "
                        "failed job is retried", (unsigned long long)id,
                        job_state_name(o.j.state));
        owned_free(&o);
        return rc;
    }
    if (o.j.state == JOB_DEAD) {
        ids x;
        uint64_t into = 0;
        rc = subject_ids(t, o.j.subject, &x, err);
        for (size_t i = 0; rc == STORE_OK && i < x.n; i++) {
            job j;
            rc = job_get(t, x.v[i], &j, err);
            if (rc == STORE_OK && waiting(j.state) && rl_str_eq(j.kind, o.j.kind) &&
                (!into || j.id < into))
                into = j.id;
        }
        if (rc == STORE_OK && into) {
            rc = fold_into(t, &o, into, now_us, err);
            *as_id = into;
        }
        if (rc != STORE_OK || into) {
            owned_free(&o);
            return rc;
        }
    }
    if (o.j.state == JOB_FAILED)
        rc = idx_due(t, o.j.due_us, id, false, err);
    bool was_dead = o.j.state == JOB_DEAD, running = false;
    o.j.state = JOB_PENDING;
    o.j.attempts = 0;
    o.j.due_us = now_us;
    o.j.updated_us = now_us;
    o.j.last_error = RL_STR("retried by an administrator");
    if (rc == STORE_OK)
        rc = put(t, &o.j, err);
    if (rc == STORE_OK && was_dead)
        rc = idx_subject(t, o.j.subject, id, true, err);
    if (rc == STORE_OK)
        rc = subject_running(t, o.j.subject, &running, err);
    if (rc == STORE_OK && !running)
        rc = idx_due(t, now_us, id, true, err);
    owned_free(&o);
    return rc;
}

int job_unfinished_under(store_txn *t, rl_str prefix, bool *any, rl_err *err)
{
    *any = false;
    char b[RL_JOB_INDEX_KEY_MAX];
    if (prefix.n + 1 > sizeof b)
        return STORE_OK;
    b[0] = 'S';
    memcpy(b + 1, prefix.p, prefix.n);
    rl_str want = { b, prefix.n + 1 };
    store_cursor *c;
    int rc = store_cursor_open(t, STORE_JOB_IDX, &c, err);
    if (rc)
        return rc;
    rl_str k = want, v;
    rc = store_cursor_get(c, STORE_SEEK, &k, &v);
    *any = rc == STORE_OK && k.n >= want.n && memcmp(k.p, want.p, want.n) == 0;
    store_cursor_close(c);
    return rc < 0 && rc != STORE_NOTFOUND ? rc : STORE_OK;
}

/* Every value of the 'S' index: the unfinished jobs. */
typedef struct all_ids {
    uint64_t *v;
    size_t n, cap;
} all_ids;

static int collect_unfinished(store_txn *t, all_ids *x, rl_err *err)
{
    store_cursor *c;
    int rc = store_cursor_open(t, STORE_JOB_IDX, &c, err);
    if (rc)
        return rc;
    rl_str k = RL_STR("S"), v;
    rc = store_cursor_get(c, STORE_SEEK, &k, &v);
    while (rc == STORE_OK && k.n && k.p[0] == 'S') {
        if (v.n == 8) {
            if (x->n == x->cap) {
                size_t cap = x->cap ? x->cap * 2 : 64;
                uint64_t *nv = realloc(x->v, cap * sizeof *nv);
                if (!nv) {
                    store_cursor_close(c);
                    return rl_err_set(err, RL_E_NOMEM, -1, "out of memory");
                }
                x->v = nv;
                x->cap = cap;
            }
            x->v[x->n++] = rec_get_be64(v.p);
        }
        rc = store_cursor_get(c, STORE_NEXT, &k, &v);
    }
    store_cursor_close(c);
    return rc < 0 ? rl_err_set(err, rc, -1, "job index") : STORE_OK;
}

int job_recover(store_txn *t, int64_t now_us, unsigned *recovered, rl_err *err)
{
    *recovered = 0;
    static const char *const derived[] = { "D", "R", "P" /* radlink 0.1's pending index */ };
    int rc = STORE_OK;
    for (size_t i = 0; rc == STORE_OK && i < 3; i++) {
        rc = store_del(t, STORE_JOB_IDX, rl_str_c(derived[i]), (rl_str){ NULL, 0 }, err);
        rc = rc == STORE_NOTFOUND ? STORE_OK : rc;
    }
    all_ids x = { 0 };
    if (rc == STORE_OK)
        rc = collect_unfinished(t, &x, err);
    for (size_t i = 0; rc == STORE_OK && i < x.n; i++) {
        owned o;
        if ((rc = load(t, x.v[i], &o, err)) != STORE_OK)
            break;
        if (o.j.state == JOB_RUNNING) {
            char why[sizeof "the engine stopped during attempt " + RL_NUM_TEXT_MAX];
            snprintf(why, sizeof why, "the engine stopped during attempt %u", o.j.attempts);
            o.j.state = JOB_PENDING;
            o.j.due_us = now_us;
            o.j.updated_us = now_us;
            o.j.last_error = rl_str_c(why);
            rc = put(t, &o.j, err);
            (*recovered)++;
        }
        if (rc == STORE_OK && waiting(o.j.state))
            rc = idx_due(t, o.j.due_us, o.j.id, true, err);
        else if (rc == STORE_OK) /* done or dead: the subject index keeps only the unfinished */
            rc = idx_subject(t, o.j.subject, o.j.id, false, err);
        owned_free(&o);
    }
    free(x.v);
    return rc;
}

int job_each(store_txn *t, uint64_t from, job_visit cb, void *ctx, rl_err *err)
{
    store_cursor *c;
    int rc = store_cursor_open(t, STORE_JOB, &c, err);
    if (rc)
        return rc;
    unsigned char kb[RL_BE64_BYTES];
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
