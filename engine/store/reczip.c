/* Compression of stored records with trained dictionaries (radlink/reczip.h). */
#include "radlink/reczip.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zdict.h>
#include <zstd.h>

#include "radlink/limits.h"

#define KEY_MAX 48
/* Dictionaries one process keeps ready for one store: a store trains one. */
#define CACHED_MAX 8

typedef struct cached {
    uint32_t id;
    size_t n;
    char *bytes; /* the stored bytes the dictionaries below were made from */
    ZSTD_CDict *cdict;
    ZSTD_DDict *ddict;
} cached;

typedef struct codec {
    pthread_mutex_t lock;
    ZSTD_CCtx *cctx; /* under lock */
    cached dict[CACHED_MAX];
    unsigned ndict;
} codec;

static void *codec_make(void)
{
    codec *c = calloc(1, sizeof *c);
    if (c)
        pthread_mutex_init(&c->lock, NULL);
    return c;
}

static void codec_drop(void *p)
{
    codec *c = p;
    for (unsigned i = 0; i < c->ndict; i++) {
        ZSTD_freeCDict(c->dict[i].cdict);
        ZSTD_freeDDict(c->dict[i].ddict);
        free(c->dict[i].bytes);
    }
    ZSTD_freeCCtx(c->cctx);
    pthread_mutex_destroy(&c->lock);
    free(c);
}

/* One decompression context per thread, freed when the thread ends. */
static pthread_key_t dctx_key;
static pthread_once_t dctx_once = PTHREAD_ONCE_INIT;

static void dctx_drop(void *d)
{
    ZSTD_freeDCtx(d);
}

static void dctx_key_make(void)
{
    pthread_key_create(&dctx_key, dctx_drop);
}

static ZSTD_DCtx *thread_dctx(void)
{
    pthread_once(&dctx_once, dctx_key_make);
    ZSTD_DCtx *d = pthread_getspecific(dctx_key);
    if (!d && (d = ZSTD_createDCtx()) != NULL && pthread_setspecific(dctx_key, d) != 0) {
        ZSTD_freeDCtx(d);
        d = NULL;
    }
    return d;
}

static codec *codec_of(store_txn *t)
{
    return store_slot_get(store_txn_store(t), STORE_SLOT_RECZIP, codec_make, codec_drop);
}

static void current_key(const char *family, char key[KEY_MAX])
{
    snprintf(key, KEY_MAX, "%.16s.zdict", family);
}

static void dict_key(const char *family, uint32_t id, char key[KEY_MAX])
{
    snprintf(key, KEY_MAX, "%.16s.zdict.%08x", family, (unsigned)id);
}

/* The dictionary id, ready: from the cache, or read from the store and made
 * ready on first use; NULL when the store has no such dictionary. The id
 * alone names the bytes: dict_store never stores a dictionary under an id
 * the cache holds with other bytes (one trained in a transaction that was
 * then aborted). Called with c->lock held. */
static cached *dict_ready(codec *c, store_txn *t, const char *family, uint32_t id, rl_err *err)
{
    for (unsigned i = 0; i < c->ndict; i++)
        if (c->dict[i].id == id)
            return &c->dict[i];
    char key[KEY_MAX];
    dict_key(family, id, key);
    rl_str v;
    if (store_get(t, STORE_META, rl_str_c(key), &v, err) != STORE_OK)
        return NULL;
    if (c->ndict == CACHED_MAX) { /* entries never move: a reader may be using one */
        rl_err_set(err, STORE_E_CORRUPT, -1, "more than %d %s dictionaries", CACHED_MAX, family);
        return NULL;
    }
    cached d = { .id = id, .n = v.n, .bytes = malloc(v.n ? v.n : 1) };
    if (d.bytes) {
        memcpy(d.bytes, v.p, v.n);
        d.cdict = ZSTD_createCDict(d.bytes, d.n, RECZIP_LEVEL);
        d.ddict = ZSTD_createDDict(d.bytes, d.n);
    }
    if (!d.cdict || !d.ddict) {
        ZSTD_freeCDict(d.cdict);
        ZSTD_freeDDict(d.ddict);
        free(d.bytes);
        rl_err_set(err, STORE_E_IO, -1, "%s dictionary %08x: out of memory", family, (unsigned)id);
        return NULL;
    }
    c->dict[c->ndict] = d;
    return &c->dict[c->ndict++];
}

static uint32_t current_id(store_txn *t, const char *family)
{
    char key[KEY_MAX];
    current_key(family, key);
    rl_str v;
    rl_err err;
    if (store_get(t, STORE_META, rl_str_c(key), &v, &err) != STORE_OK || v.n != 4)
        return 0;
    const unsigned char *b = (const unsigned char *)v.p;
    return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
}

bool reczip_due(store_txn *t, const char *family, uint64_t count)
{
    return count >= RECZIP_SAMPLES && count % RECZIP_SAMPLES == 0 && current_id(t, family) == 0;
}

/* Whether the cache holds id with bytes other than dict's. */
static bool id_taken(store_txn *t, uint32_t id, const char *dict, size_t n)
{
    codec *c = codec_of(t);
    if (!c)
        return true;
    bool taken = false;
    pthread_mutex_lock(&c->lock);
    for (unsigned i = 0; i < c->ndict; i++)
        taken |= c->dict[i].id == id && (c->dict[i].n != n || memcmp(c->dict[i].bytes, dict, n));
    pthread_mutex_unlock(&c->lock);
    return taken;
}

/* Make dict (n bytes) the family's dictionary. */
static int dict_store(store_txn *t, const char *family, const char *dict, size_t n, rl_err *err)
{
    uint32_t id = (uint32_t)ZDICT_getDictID(dict, n);
    if (id == 0 || id_taken(t, id, dict, n))
        return STORE_OK; /* no dictionary yet: the next multiple trains again */
    char key[KEY_MAX];
    dict_key(family, id, key);
    int rc = store_put(t, STORE_META, rl_str_c(key), (rl_str){ (char *)dict, n }, 0, err);
    unsigned char be[4] = { (unsigned char)(id >> 24), (unsigned char)(id >> 16),
                            (unsigned char)(id >> 8), (unsigned char)id };
    current_key(family, key);
    if (rc == STORE_OK)
        rc = store_put(t, STORE_META, rl_str_c(key), (rl_str){ (char *)be, sizeof be }, 0, err);
    return rc;
}

int reczip_train(store_txn *t, const char *family, store_db db, reczip_text_fn text_of,
                 rl_err *err)
{
    store_cursor *c;
    int rc = store_cursor_open(t, db, &c, err);
    if (rc)
        return rc;
    rl_buf samples, scratch;
    rl_buf_init(&samples, RECZIP_SAMPLE_BYTES);
    rl_buf_init(&scratch, 0);
    size_t sizes[RECZIP_SAMPLES];
    unsigned n = 0;
    rl_str k, v, text;
    store_move how = STORE_LAST;
    while (n < RECZIP_SAMPLES && store_cursor_get(c, how, &k, &v) == STORE_OK) {
        how = STORE_PREV;
        if (text_of(t, v, &scratch, &text) != STORE_OK)
            continue; /* a record that does not decode teaches nothing */
        if (rl_buf_add_str(&samples, text))
            break;
        sizes[n++] = text.n;
    }
    store_cursor_close(c);
    rl_buf_free(&scratch);
    char dict[RECZIP_DICT_BYTES];
    size_t dn = n ? ZDICT_trainFromBuffer(dict, sizeof dict, samples.data, sizes, n) : 0;
    rl_buf_free(&samples);
    if (n == 0 || ZDICT_isError(dn))
        return STORE_OK; /* too few or too alike: no dictionary yet */
    return dict_store(t, family, dict, dn, err);
}

int reczip_pack(store_txn *t, const char *family, rl_str plain, rl_buf *out, rl_err *err)
{
    codec *c = codec_of(t);
    if (!c)
        return rl_err_set(err, STORE_E_IO, -1, "out of memory");
    size_t bound = ZSTD_compressBound(plain.n);
    if (rl_buf_reserve(out, bound))
        return rl_err_set(err, STORE_E_ARG, -1, "%s record too large", family);
    uint32_t id = current_id(t, family);
    pthread_mutex_lock(&c->lock);
    int rc = STORE_OK;
    cached *d = id ? dict_ready(c, t, family, id, err) : NULL;
    if (id && !d) {
        char why[RL_ERR_MSG_MAX];
        snprintf(why, sizeof why, "%s", err->msg);
        rc = rl_err_set(err, STORE_E_CORRUPT, -1, "%s dictionary %08x: %s", family, (unsigned)id,
                        why);
    }
    if (rc == STORE_OK && !c->cctx && !(c->cctx = ZSTD_createCCtx()))
        rc = rl_err_set(err, STORE_E_IO, -1, "out of memory");
    size_t z = 0;
    if (rc == STORE_OK) {
        char *dst = out->data + out->len;
        z = d ? ZSTD_compress_usingCDict(c->cctx, dst, bound, plain.p, plain.n, d->cdict)
              : ZSTD_compressCCtx(c->cctx, dst, bound, plain.p, plain.n, RECZIP_LEVEL);
        if (ZSTD_isError(z))
            rc = rl_err_set(err, STORE_E_IO, -1, "%s compression: %s", family, ZSTD_getErrorName(z));
    }
    pthread_mutex_unlock(&c->lock);
    if (rc == STORE_OK)
        out->len += z;
    return rc;
}

int reczip_frame_size(rl_str z, size_t *n, rl_err *err)
{
    unsigned long long got = ZSTD_getFrameContentSize(z.p, z.n);
    if (got == ZSTD_CONTENTSIZE_ERROR || got == ZSTD_CONTENTSIZE_UNKNOWN || got > RECZIP_PLAIN_MAX)
        return rl_err_set(err, STORE_E_CORRUPT, -1, "not a frame this store writes");
    *n = (size_t)got;
    return STORE_OK;
}

int reczip_unpack_to(store_txn *t, const char *family, rl_str z, char *dst, size_t n, rl_err *err)
{
    ZSTD_DCtx *dctx = thread_dctx();
    if (!dctx)
        return rl_err_set(err, STORE_E_IO, -1, "out of memory");
    uint32_t id = ZSTD_getDictID_fromFrame(z.p, z.n);
    ZSTD_DDict *dd = NULL;
    if (id) {
        codec *c = codec_of(t);
        if (!c)
            return rl_err_set(err, STORE_E_IO, -1, "out of memory");
        pthread_mutex_lock(&c->lock);
        cached *d = dict_ready(c, t, family, id, err);
        dd = d ? d->ddict : NULL; /* entries never move nor go while the store is open */
        pthread_mutex_unlock(&c->lock);
        if (!dd)
            return rl_err_set(err, STORE_E_CORRUPT, -1, "its dictionary %s %08x is not in the store",
                              family, (unsigned)id);
    }
    size_t got = dd ? ZSTD_decompress_usingDDict(dctx, dst, n, z.p, z.n, dd)
                    : ZSTD_decompressDCtx(dctx, dst, n, z.p, z.n);
    if (ZSTD_isError(got) || got != n)
        return rl_err_set(err, STORE_E_CORRUPT, -1, "%s",
                          ZSTD_isError(got) ? ZSTD_getErrorName(got) : "short frame");
    return STORE_OK;
}

int reczip_unpack(store_txn *t, const char *family, rl_str z, rl_buf *out, rl_err *err)
{
    rl_buf_reset(out);
    size_t n = 0;
    int rc = reczip_frame_size(z, &n, err);
    if (rc)
        return rc;
    if (rl_buf_reserve(out, n ? n : 1))
        return rl_err_set(err, STORE_E_IO, -1, "out of memory");
    rc = reczip_unpack_to(t, family, z, out->data, n, err);
    if (rc == STORE_OK)
        out->len = n;
    return rc;
}
