/* The floor for one-connection ingest: a plain LMDB loop, one small put per
 * synced commit, with LMDB's default durability (what radlink's store uses).
 * The key is a growing sequence number (an append, LMDB's cheapest write) and
 * the value the size of a typical order. Run beside radlink in the same
 * benchmark, on the same file system.
 *   lmdb_plain DIR WARMUP COMMITS
 * Prints "RESULT commits=N seconds=S commits_per_s=R write_bytes_per_commit=B
 * disk_bytes_per_commit=D" (D from the block device stat file named by
 * $DISK_STAT, 0 without it). */
#include <lmdb.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

static long long write_bytes(void)
{
    FILE *f = fopen("/proc/self/io", "r");
    char line[128];
    long long v = 0;
    while (f && fgets(line, sizeof line, f))
        if (strncmp(line, "write_bytes:", 12) == 0)
            v = strtoll(line + 12, NULL, 10);
    if (f)
        fclose(f);
    return v;
}

static long long disk_sectors(void)
{
    const char *path = getenv("DISK_STAT");
    FILE *f = path ? fopen(path, "r") : NULL;
    long long v[7] = { 0 };
    for (int i = 0; f && i < 7; i++)
        if (fscanf(f, "%lld", &v[i]) != 1)
            break;
    if (f)
        fclose(f);
    return v[6];
}

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static int put(MDB_env *env, MDB_dbi dbi, uint64_t i, char *val)
{
    MDB_txn *t;
    unsigned char k[8];
    for (int b = 0; b < 8; b++)
        k[b] = (unsigned char)(i >> (56 - 8 * b));
    MDB_val key = { 8, k }, v = { 330, val };
    if (mdb_txn_begin(env, NULL, 0, &t) || mdb_put(t, dbi, &key, &v, MDB_APPEND))
        return -1;
    return mdb_txn_commit(t);
}

int main(int argc, char **argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: lmdb_plain DIR WARMUP COMMITS\n");
        return 2;
    }
    long warm = strtol(argv[2], NULL, 10), n = strtol(argv[3], NULL, 10);
    mkdir(argv[1], 0700);
    MDB_env *env;
    MDB_txn *t;
    MDB_dbi dbi;
    if (mdb_env_create(&env) || mdb_env_set_mapsize(env, 1ull << 30) ||
        mdb_env_open(env, argv[1], 0, 0600) || mdb_txn_begin(env, NULL, 0, &t) ||
        mdb_dbi_open(t, NULL, 0, &dbi) || mdb_txn_commit(t)) {
        fprintf(stderr, "lmdb_plain: cannot open %s\n", argv[1]);
        return 1;
    }
    char val[330];
    memset(val, 'x', sizeof val);
    uint64_t i = 1;
    for (long k = 0; k < warm; k++)
        if (put(env, dbi, i++, val))
            return 1;
    long long w0 = write_bytes(), d0 = disk_sectors();
    double t0 = now();
    for (long k = 0; k < n; k++)
        if (put(env, dbi, i++, val))
            return 1;
    double s = now() - t0;
    printf("RESULT commits=%ld seconds=%.3f commits_per_s=%.0f write_bytes_per_commit=%lld "
           "disk_bytes_per_commit=%lld\n", n, s, (double)n / s, (write_bytes() - w0) / (n ? n : 1),
           (disk_sectors() - d0) * 512 / (n ? n : 1));
    mdb_env_close(env);
    return 0;
}
