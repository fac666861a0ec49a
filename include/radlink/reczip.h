/* Compression of stored records with dictionaries trained on the store's own
 * records: message log records (msglog.h) and worklist entries (wl.h). Such
 * records are a few hundred bytes that repeat their senders' segments, field
 * layouts, codes and attribute tags; alone each compresses to about half,
 * against a dictionary to a sixth or less.
 *
 * Each family of records ("msg", "wl") has its dictionaries in STORE_META, so
 * a backup carries them:
 *   "<family>.zdict"             -> u32 id of the dictionary new records use
 *   "<family>.zdict.<id, hex>"   -> the dictionary's bytes (never removed:
 *                                   records written with it may remain)
 * A family's first dictionary is trained from RECZIP_SAMPLES records when it
 * holds a multiple of that many; records before that, and records that do
 * not train, are compressed without one. A record is one Zstandard frame; the
 * frame names its dictionary by its id, a hash of the dictionary's bytes. */
#ifndef RADLINK_RECZIP_H
#define RADLINK_RECZIP_H

#include "radlink/store.h"
#include "radlink/util.h"

/* Records a dictionary is trained from, and the most bytes taken from them. */
#define RECZIP_SAMPLES 1000u
#define RECZIP_SAMPLE_BYTES (4u * 1024u * 1024u)
/* Size of a trained dictionary, and the compression level. */
#define RECZIP_DICT_BYTES (16u * 1024u)
#define RECZIP_LEVEL 3
/* The most text a record may decompress to (a corrupt frame may claim more). */
#define RECZIP_PLAIN_MAX (2ull * 256u * 1024u * 1024u + 1024u * 1024u)

/* Whether a family holding `count` records should first train its dictionary. */
bool reczip_due(store_txn *t, const char *family, uint64_t count);

/* The text of one stored record (its frame decompressed or as it is), for
 * training: STORE_OK with *text set, or an error for a record to pass over. */
typedef int (*reczip_text_fn)(store_txn *t, rl_str val, rl_buf *scratch, rl_str *text);
/* Train a dictionary from up to RECZIP_SAMPLES records of db (the last ones)
 * and make it the one the family's new records use. Records that train
 * nothing (too few or too alike) leave the family without one: STORE_OK
 * either way. */
int reczip_train(store_txn *t, const char *family, store_db db, reczip_text_fn text,
                 rl_err *err);

/* Compress plain, appending one frame to out. */
int reczip_pack(store_txn *t, const char *family, rl_str plain, rl_buf *out, rl_err *err);
/* Decompress frame z into out (reset first). A thread's decompression context
 * is kept for its next call. */
int reczip_unpack(store_txn *t, const char *family, rl_str z, rl_buf *out, rl_err *err);
/* The same in two steps: the size frame z decompresses to, then into dst. */
int reczip_frame_size(rl_str z, size_t *n, rl_err *err);
int reczip_unpack_to(store_txn *t, const char *family, rl_str z, char *dst, size_t n, rl_err *err);

#endif
