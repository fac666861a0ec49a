/* The LMDB environment and the typed access every domain module uses. */
#include "radlink/store.h"

#include <errno.h>
#include <lmdb.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>
#include <sys/stat.h>

#include "radlink/limits.h"
#include "radlink/rec.h"

#define SCHEMA_VERSION 1u
#define DEFAULT_MAP_SIZE (16ull << 30)

struct store {
    MDB_env *env;
    /* LMDB may change its map only while no transaction of this process is
     * open: top-level read transactions (any thread) hold this shared, a
     * resize holds it alone (store_grow, and adopting another process's
     * larger map). */
    pthread_rwlock_t resize;
    MDB_dbi dbi[STORE_DB_COUNT];
    bool readonly;
    char path[RL_STORE_PATH_MAX];
    /* modules' caches of what is stored (store_slot_get) */
    pthread_mutex_t slot_lock;
    void *slot[STORE_SLOT_COUNT];
    void (*slot_drop[STORE_SLOT_COUNT])(void *);
};

struct store_txn {
    store *s;
    MDB_txn *txn;
    bool write;
    bool top;
    int first_rc; /* the first LMDB error in this transaction */
    rl_arena *scratch; /* store_txn_scratch, made on first use */
};

struct store_cursor {
    MDB_cursor *cur;
};

static const struct {
    const char *name;
    unsigned flags;
} dbs[STORE_DB_COUNT] = {
    [STORE_META] = { "meta", 0 },
    [STORE_MSG] = { "msg", 0 },
    [STORE_DEDUP] = { "msg_dedup", 0 },
    [STORE_QUEUE] = { "queue", 0 },
    [STORE_WL] = { "wl", 0 },
    [STORE_WL_IDX] = { "wl_idx", MDB_DUPSORT },
    [STORE_INSTANCE] = { "instance", 0 },
    [STORE_STUDY] = { "study", 0 },
    [STORE_STUDY_IDX] = { "study_idx", MDB_DUPSORT },
    [STORE_PATIENT] = { "patient", 0 },
    [STORE_JOB] = { "job", 0 },
    [STORE_JOB_IDX] = { "job_idx", MDB_DUPSORT },
    [STORE_CHANGE] = { "change", 0 },
    [STORE_MPPS] = { "mpps", 0 },
    [STORE_AUDIT] = { "audit", 0 },
    [STORE_PROG] = { "prog", 0 },
    [STORE_REPORT] = { "report", 0 },
    [STORE_MSG_IDX] = { "msg_idx", MDB_DUPSORT | MDB_DUPFIXED },
    [STORE_MPPS_IDX] = { "mpps_idx", MDB_DUPSORT },
};

/* Map an LMDB status to ours, with a message naming what was being done. */
static int fail(rl_err *err, int rc, const char *what)
{
    int code = rc == MDB_MAP_FULL ? STORE_E_FULL
               : rc == MDB_CORRUPTED || rc == MDB_PAGE_NOTFOUND ? STORE_E_CORRUPT
               : rc == MDB_VERSION_MISMATCH || rc == MDB_INVALID ? STORE_E_VERSION
               : rc == MDB_KEYEXIST ? STORE_E_EXISTS
                                    : STORE_E_IO;
    if (rc == MDB_MAP_FULL)
        return rl_err_set(err, code, -1,
                          "%s: the store is full (its map grows itself up to <store "
                          "max-map-size-mb> before the next turn)",
                          what);
    return rl_err_set(err, code, -1, "%s: %s", what, mdb_strerror(rc));
}

/* A write that failed on a full disk says so, and says how to get going
 * again: LMDB returns ENOSPC from the write, or EIO from the sync that
 * follows it. */
static int fail_write(const store *s, rl_err *err, int rc, const char *what)
{
    struct statvfs v;
    bool full = rc == ENOSPC || rc == EDQUOT;
    unsigned long long avail = 0;
    if (statvfs(s->path, &v) == 0) {
        avail = (unsigned long long)v.f_bavail * v.f_frsize;
        full = full || (rc == EIO && avail < RL_DISK_LOW_BYTES);
    }
    if (!full)
        return fail(err, rc, what);
    return rl_err_set(err, STORE_E_FULL, -1,
                      "%s: the disk holding the store is full (%llu bytes free): nothing of "
                      "this turn was kept", what, avail);
}

/* A failure inside t. LMDB answers every operation after a failed one with
 * MDB_BAD_TXN ("transaction must abort"), which tells the user nothing: the
 * first failure (a full store) is what is reported. */
static int fail_in(store_txn *t, rl_err *err, int rc, const char *what)
{
    if (rc == MDB_BAD_TXN && t->first_rc)
        rc = t->first_rc;
    else if (!t->first_rc)
        t->first_rc = rc;
    return fail_write(t->s, err, rc, what);
}

static int mkdirs(const char *path)
{
    char tmp[RL_STORE_PATH_MAX];
    snprintf(tmp, sizeof tmp, "%s", path);
    for (char *p = tmp + 1; *p; p++) {
        if (*p == '/') {
            *p = '\0';
            if (mkdir(tmp, 0750) != 0 && errno != EEXIST)
                return -1;
            *p = '/';
        }
    }
    return mkdir(tmp, 0750) != 0 && errno != EEXIST ? -1 : 0;
}

static int check_schema(store *s, rl_err *err)
{
    store_txn *t;
    int rc = store_begin(s, NULL, !s->readonly, &t, err);
    if (rc)
        return rc;
    rl_str v;
    rc = store_get(t, STORE_META, RL_STR("schema"), &v, err);
    if (rc == STORE_NOTFOUND && !s->readonly) {
        rl_buf b;
        rl_buf_init(&b, 0);
        rec_put_u32(&b, SCHEMA_VERSION);
        rc = store_put(t, STORE_META, RL_STR("schema"), rl_buf_view(&b), 0, err);
        rl_buf_free(&b);
        if (rc == STORE_OK)
            return store_commit(t, err);
    } else if (rc == STORE_OK) {
        rec_reader r;
        rec_reader_init(&r, v.p, v.n);
        uint32_t ver = rec_get_u32(&r);
        if (!rec_ok(&r) || ver != SCHEMA_VERSION)
            rc = rl_err_set(err, STORE_E_VERSION, -1,
                            "%s: store schema version %u, this radlink reads version %u",
                            s->path, ver, SCHEMA_VERSION);
    } else if (rc == STORE_NOTFOUND) {
        rc = rl_err_set(err, STORE_E_VERSION, -1, "%s: not a radlink store", s->path);
    }
    store_abort(t);
    return rc;
}

int store_open(const char *data_dir, const store_opts *o, store **out, rl_err *err)
{
    store *s = calloc(1, sizeof *s);
    if (!s)
        return rl_err_set(err, STORE_E_IO, -1, "out of memory");
    s->readonly = o && o->readonly;
    pthread_rwlock_init(&s->resize, NULL);
    pthread_mutex_init(&s->slot_lock, NULL);
    snprintf(s->path, sizeof s->path, "%s/store", data_dir);
    struct stat st;
    if (s->readonly && stat(s->path, &st) != 0) {
        rl_err_set(err, STORE_E_IO, -1, "%s: no store here (%s)", s->path, strerror(errno));
        free(s);
        return STORE_E_IO;
    }
    if (!s->readonly && mkdirs(s->path) != 0) {
        rl_err_set(err, STORE_E_IO, -1, "%s: cannot create: %s", s->path, strerror(errno));
        free(s);
        return STORE_E_IO;
    }
    int rc = mdb_env_create(&s->env);
    if (rc == 0)
        rc = mdb_env_set_maxdbs(s->env, 32);
    if (rc == 0)
        rc = mdb_env_set_maxreaders(s->env, 256);
    if (rc == 0)
        rc = mdb_env_set_mapsize(s->env, o && o->map_size ? o->map_size : DEFAULT_MAP_SIZE);
    /* MDB_NOTLS: reader slots belong to transactions, not threads, so DICOM
     * threads may each hold read transactions freely. */
    if (rc == 0)
        rc = mdb_env_open(s->env, s->path, MDB_NOTLS | (s->readonly ? MDB_RDONLY : 0), 0640);
    if (rc != 0) {
        fail(err, rc, s->path);
        if (s->env)
            mdb_env_close(s->env);
        free(s);
        return err ? err->code : STORE_E_IO;
    }
    int dead = 0; /* slots of readers that died since the last open */
    mdb_reader_check(s->env, &dead);
    MDB_txn *txn;
    rc = mdb_txn_begin(s->env, NULL, s->readonly ? MDB_RDONLY : 0, &txn);
    for (int i = 0; rc == 0 && i < STORE_DB_COUNT; i++) {
        rc = mdb_dbi_open(txn, dbs[i].name, dbs[i].flags | (s->readonly ? 0 : MDB_CREATE),
                          &s->dbi[i]);
        if (rc == MDB_NOTFOUND && s->readonly) {
            rl_err_set(err, STORE_E_VERSION, -1, "%s: database %s is missing (written by an "
                       "older radlink?)", s->path, dbs[i].name);
            mdb_txn_abort(txn);
            mdb_env_close(s->env);
            free(s);
            return STORE_E_VERSION;
        }
    }
    if (rc == 0)
        rc = mdb_txn_commit(txn);
    else
        mdb_txn_abort(txn);
    if (rc != 0) {
        fail(err, rc, s->path);
        mdb_env_close(s->env);
        free(s);
        return err ? err->code : STORE_E_IO;
    }
    if ((rc = check_schema(s, err)) != STORE_OK) {
        mdb_env_close(s->env);
        free(s);
        return rc;
    }
    *out = s;
    return STORE_OK;
}

void store_close(store *s)
{
    if (!s)
        return;
    mdb_env_close(s->env);
    for (int k = 0; k < STORE_SLOT_COUNT; k++)
        if (s->slot[k])
            s->slot_drop[k](s->slot[k]);
    pthread_mutex_destroy(&s->slot_lock);
    pthread_rwlock_destroy(&s->resize);
    free(s);
}

void *store_slot_get(store *s, store_slot k, void *(*make)(void), void (*drop)(void *))
{
    pthread_mutex_lock(&s->slot_lock);
    if (!s->slot[k] && (s->slot[k] = make()) != NULL)
        s->slot_drop[k] = drop;
    void *v = s->slot[k];
    pthread_mutex_unlock(&s->slot_lock);
    return v;
}

store *store_txn_store(store_txn *t)
{
    return t->s;
}

int store_begin(store *s, store_txn *parent, bool write, store_txn **out, rl_err *err)
{
    if (parent)
        s = parent->s;
    store_txn *t = malloc(sizeof *t);
    if (!t)
        return rl_err_set(err, STORE_E_IO, -1, "out of memory");
    if (write && s->readonly) {
        free(t);
        return rl_err_set(err, STORE_E_ARG, -1, "store opened read-only");
    }
    bool shared = !parent && !write;
    if (shared)
        pthread_rwlock_rdlock(&s->resize);
    int rc = mdb_txn_begin(s->env, parent ? parent->txn : NULL, write ? 0 : MDB_RDONLY, &t->txn);
    if (rc == MDB_MAP_RESIZED && !parent) {
        /* another process (the engine) grew the map: adopt its size */
        if (shared)
            pthread_rwlock_unlock(&s->resize);
        pthread_rwlock_wrlock(&s->resize);
        mdb_env_set_mapsize(s->env, 0);
        pthread_rwlock_unlock(&s->resize);
        if (shared)
            pthread_rwlock_rdlock(&s->resize);
        rc = mdb_txn_begin(s->env, NULL, write ? 0 : MDB_RDONLY, &t->txn);
    }
    if (rc != 0) {
        if (shared)
            pthread_rwlock_unlock(&s->resize);
        free(t);
        return fail(err, rc, "begin transaction");
    }
    t->s = s;
    t->write = write;
    t->top = parent == NULL;
    t->first_rc = 0;
    t->scratch = NULL;
    *out = t;
    return STORE_OK;
}

static void txn_free(store_txn *t)
{
    if (t->scratch) {
        rl_arena_free(t->scratch);
        free(t->scratch);
    }
    free(t);
}

void *store_txn_scratch(store_txn *t, size_t n)
{
    if (!t->scratch) {
        if (!(t->scratch = malloc(sizeof *t->scratch)))
            return NULL;
        rl_arena_init(t->scratch, 64u * 1024u, 0);
    }
    return rl_arena_alloc(t->scratch, n ? n : 1);
}

int store_commit(store_txn *t, rl_err *err)
{
    int rc = mdb_txn_commit(t->txn);
    store *s = t->s;
    if (t->top && !t->write)
        pthread_rwlock_unlock(&s->resize);
    txn_free(t);
    return rc ? fail_write(s, err, rc, "commit") : STORE_OK;
}

void store_abort(store_txn *t)
{
    if (!t)
        return;
    mdb_txn_abort(t->txn);
    if (t->top && !t->write)
        pthread_rwlock_unlock(&t->s->resize);
    txn_free(t);
}

static MDB_val val_of(rl_str s)
{
    return (MDB_val){ s.n, (void *)s.p };
}

static rl_str str_of(MDB_val v)
{
    return (rl_str){ v.mv_data, v.mv_size };
}

int store_get(store_txn *t, store_db db, rl_str key, rl_str *val, rl_err *err)
{
    MDB_val k = val_of(key), v;
    int rc = mdb_get(t->txn, t->s->dbi[db], &k, &v);
    if (rc == MDB_NOTFOUND)
        return STORE_NOTFOUND;
    if (rc)
        return fail_in(t, err, rc, dbs[db].name);
    *val = str_of(v);
    return STORE_OK;
}

int store_put(store_txn *t, store_db db, rl_str key, rl_str val, unsigned flags, rl_err *err)
{
    MDB_val k = val_of(key), v = val_of(val);
    unsigned f = ((flags & STORE_NOOVERWRITE) ? MDB_NOOVERWRITE : 0) |
                 ((flags & STORE_APPEND) ? MDB_APPEND : 0);
    if (key.n == 0 || key.n > 511)
        return rl_err_set(err, STORE_E_ARG, -1, "%s: key of %zu bytes", dbs[db].name, key.n);
    int rc = mdb_put(t->txn, t->s->dbi[db], &k, &v, f);
    return rc ? fail_in(t, err, rc, dbs[db].name) : STORE_OK;
}

int store_del(store_txn *t, store_db db, rl_str key, rl_str val, rl_err *err)
{
    MDB_val k = val_of(key), v = val_of(val);
    int rc = mdb_del(t->txn, t->s->dbi[db], &k, val.p ? &v : NULL);
    if (rc == MDB_NOTFOUND)
        return STORE_NOTFOUND;
    return rc ? fail_in(t, err, rc, dbs[db].name) : STORE_OK;
}

int store_drop(store_txn *t, store_db db, rl_err *err)
{
    int rc = mdb_drop(t->txn, t->s->dbi[db], 0);
    return rc ? fail_in(t, err, rc, dbs[db].name) : STORE_OK;
}

int store_next_seq(store_txn *t, store_db db, uint64_t *seq, rl_err *err)
{
    MDB_cursor *c;
    int rc = mdb_cursor_open(t->txn, t->s->dbi[db], &c);
    if (rc)
        return fail_in(t, err, rc, dbs[db].name);
    MDB_val k, v;
    rc = mdb_cursor_get(c, &k, &v, MDB_LAST);
    mdb_cursor_close(c);
    if (rc == MDB_NOTFOUND) {
        *seq = 1;
        return STORE_OK;
    }
    if (rc)
        return fail_in(t, err, rc, dbs[db].name);
    if (k.mv_size != 8)
        return rl_err_set(err, STORE_E_CORRUPT, -1, "%s: key is not a sequence number",
                          dbs[db].name);
    *seq = rec_get_be64(k.mv_data) + 1;
    return STORE_OK;
}

int store_cursor_open(store_txn *t, store_db db, store_cursor **out, rl_err *err)
{
    store_cursor *c = malloc(sizeof *c);
    if (!c)
        return rl_err_set(err, STORE_E_IO, -1, "out of memory");
    int rc = mdb_cursor_open(t->txn, t->s->dbi[db], &c->cur);
    if (rc) {
        free(c);
        return fail_in(t, err, rc, dbs[db].name);
    }
    *out = c;
    return STORE_OK;
}

int store_cursor_get(store_cursor *c, store_move how, rl_str *key, rl_str *val)
{
    static const MDB_cursor_op ops[] = {
        [STORE_FIRST] = MDB_FIRST, [STORE_LAST] = MDB_LAST,         [STORE_NEXT] = MDB_NEXT,
        [STORE_PREV] = MDB_PREV,   [STORE_SEEK] = MDB_SET_RANGE,    [STORE_NEXT_DUP] = MDB_NEXT_DUP,
        [STORE_SET] = MDB_SET_KEY, [STORE_LAST_DUP] = MDB_LAST_DUP, [STORE_PREV_DUP] = MDB_PREV_DUP,
        [STORE_BOTH] = MDB_GET_BOTH, [STORE_BOTH_RANGE] = MDB_GET_BOTH_RANGE,
        [STORE_NEXT_KEY] = MDB_NEXT_NODUP,
    };
    bool keyed = how == STORE_SEEK || how == STORE_SET || how == STORE_BOTH ||
                 how == STORE_BOTH_RANGE;
    bool valued = how == STORE_BOTH || how == STORE_BOTH_RANGE;
    MDB_val k = keyed ? val_of(*key) : (MDB_val){ 0, NULL },
            v = valued ? val_of(*val) : (MDB_val){ 0, NULL };
    int rc = mdb_cursor_get(c->cur, &k, &v, ops[how]);
    if (rc == MDB_NOTFOUND)
        return STORE_NOTFOUND;
    if (rc)
        return STORE_E_IO;
    *key = str_of(k);
    *val = str_of(v);
    return STORE_OK;
}

int store_cursor_count(store_cursor *c, uint64_t *n)
{
    size_t k = 0;
    int rc = mdb_cursor_count(c->cur, &k);
    *n = k;
    return rc ? STORE_E_IO : STORE_OK;
}

void store_cursor_close(store_cursor *c)
{
    if (!c)
        return;
    mdb_cursor_close(c->cur);
    free(c);
}

int store_reader_check(store *s, int *cleared, rl_err *err)
{
    *cleared = 0;
    int rc = mdb_reader_check(s->env, cleared);
    if (rc != 0)
        return rl_err_set(err, STORE_E_IO, -1, "reader check: %s", mdb_strerror(rc));
    return STORE_OK;
}

static int count_reader(const char *msg, void *ctx)
{
    (void)msg;
    (*(unsigned *)ctx)++;
    return 0;
}

int store_usage_get(store_txn *t, store_usage *out, rl_err *err)
{
    MDB_envinfo info;
    MDB_stat st;
    MDB_cursor *c;
    memset(out, 0, sizeof *out);
    mdb_env_info(t->s->env, &info);
    mdb_env_stat(t->s->env, &st);
    out->map_bytes = info.me_mapsize;
    out->used_bytes = ((uint64_t)info.me_last_pgno + 1) * st.ms_psize;
    /* the free list (database 0): each record a list of page numbers whose
     * first word is its length, as LMDB's mdb_stat -f counts them */
    int rc = mdb_cursor_open(t->txn, 0, &c);
    if (rc)
        return rl_err_set(err, STORE_E_IO, rc, "store: %s", mdb_strerror(rc));
    uint64_t pages = 0;
    MDB_val k, v;
    while (mdb_cursor_get(c, &k, &v, MDB_NEXT) == 0)
        if (v.mv_size >= sizeof(size_t))
            pages += *(const size_t *)v.mv_data;
    mdb_cursor_close(c);
    out->reusable_bytes = pages * st.ms_psize;
    return 0;
}

unsigned store_readers(store *s)
{
    unsigned lines = 0;
    mdb_reader_list(s->env, count_reader, &lines);
    return lines ? lines - 1 : 0; /* the first line is a header, or "(no active readers)" */
}

int store_copy(store *s, const char *dest_dir, rl_err *err)
{
    /* LMDB copies from a read transaction of its own (a consistent
     * snapshot; the writer goes on), leaving out free pages */
    int rc = mdb_env_copy2(s->env, dest_dir, MDB_CP_COMPACT);
    if (rc != 0)
        return rl_err_set(err, STORE_E_IO, rc, "%s: copy: %s", dest_dir, mdb_strerror(rc));
    return STORE_OK;
}

int store_entries(store_txn *t, store_db db, uint64_t *n, rl_err *err)
{
    MDB_stat st;
    int rc = mdb_stat(t->txn, t->s->dbi[db], &st);
    if (rc != 0)
        return rl_err_set(err, STORE_E_IO, rc, "store: %s", mdb_strerror(rc));
    *n = st.ms_entries;
    return STORE_OK;
}

int store_grow(store *s, uint64_t ceiling, uint64_t *was, uint64_t *now, rl_err *err)
{
    MDB_envinfo info;
    pthread_rwlock_wrlock(&s->resize); /* every reader of this process is out */
    mdb_env_info(s->env, &info);
    *was = *now = info.me_mapsize;
    uint64_t want = info.me_mapsize * 2;
    if (want > ceiling)
        want = ceiling;
    int rc = 0;
    if (want > info.me_mapsize && (rc = mdb_env_set_mapsize(s->env, want)) == 0)
        *now = want;
    pthread_rwlock_unlock(&s->resize);
    if (rc != 0)
        return rl_err_set(err, STORE_E_IO, rc, "store: growing the map: %s", mdb_strerror(rc));
    if (*now == *was)
        return rl_err_set(err, STORE_E_FULL, -1, "the store's map is at its ceiling (%llu MiB): "
                          "raise <store max-map-size-mb>, or let retention remove more",
                          (unsigned long long)(ceiling >> 20));
    return STORE_OK;
}

int store_db_bytes(store_txn *t, store_db db, uint64_t *bytes, rl_err *err)
{
    MDB_stat st;
    int rc = mdb_stat(t->txn, t->s->dbi[db], &st);
    if (rc != 0)
        return rl_err_set(err, STORE_E_IO, rc, "store: %s", mdb_strerror(rc));
    *bytes = (uint64_t)(st.ms_branch_pages + st.ms_leaf_pages + st.ms_overflow_pages) *
             st.ms_psize;
    return STORE_OK;
}
