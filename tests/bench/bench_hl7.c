/* HL7 codec benchmark: parse + read PID-3, PID-5 and OBR-4 over a corpus, and
 * parse + decode every value. Driven by hl7_bench.sh, which runs python3-hl7
 * on the same corpus in the same run.
 *   bench_hl7 gen N FILE          write N synthetic messages, one per line
 *   bench_hl7 run FILE [SECONDS]  time the codec over FILE */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "gen_hl7.h"
#include "radlink/hl7.h"

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static volatile size_t sink;

static size_t read_fields(hl7_msg *m, const hl7_path *paths, int n)
{
    size_t total = 0;
    rl_err err;
    for (int i = 0; i < n; i++) {
        rl_str v;
        if (hl7_get(m, &paths[i], &v, &err) >= 0)
            total += v.n;
    }
    return total;
}

static size_t decode_all(hl7_msg *m)
{
    size_t total = 0;
    rl_err err;
    for (size_t i = 0; i < m->nsegs; i++) {
        unsigned nf = hl7_field_count(m, m->segs[i]);
        for (unsigned f = 3; f <= nf; f++) {
            rl_str fv, rv, cv, out;
            hl7_field(m, m->segs[i], f, &fv);
            unsigned nr = hl7_piece_count(fv, m->seps.rep);
            for (unsigned r = 1; r <= nr; r++) {
                hl7_piece(fv, m->seps.rep, r, &rv);
                unsigned nc = hl7_piece_count(rv, m->seps.comp);
                for (unsigned c = 1; c <= nc; c++) {
                    hl7_piece(rv, m->seps.comp, c, &cv);
                    if (hl7_decode(m, cv, &out, &err) == HL7_OK)
                        total += out.n;
                }
            }
        }
    }
    return total;
}

static int run(const char *file, double seconds)
{
    rl_buf b;
    rl_err err;
    rl_buf_init(&b, 0);
    if (rl_read_file(file, &b, &err) != 0) {
        fprintf(stderr, "%s\n", err.msg);
        return 1;
    }
    size_t cap = 1024, n = 0;
    rl_str *msgs = malloc(cap * sizeof *msgs);
    const char *p = b.data, *end = b.data + b.len;
    while (p < end) {
        const char *e = memchr(p, '\n', (size_t)(end - p));
        if (!e)
            e = end;
        if (e > p) {
            if (n == cap)
                msgs = realloc(msgs, (cap *= 2) * sizeof *msgs);
            msgs[n++] = (rl_str){ p, (size_t)(e - p) };
        }
        p = e + 1;
    }
    size_t bytes = b.len - n;
    hl7_path paths[3];
    hl7_path_parse(RL_STR("PID-3"), &paths[0], &err);
    hl7_path_parse(RL_STR("PID-5"), &paths[1], &err);
    hl7_path_parse(RL_STR("OBR-4"), &paths[2], &err);
    hl7_msg m;
    hl7_msg_init(&m, NULL);

    for (int mode = 0; mode < 2; mode++) {
        size_t done = 0, rounds = 0, failed = 0;
        double t0 = now_s(), t;
        do {
            for (size_t i = 0; i < n; i++) {
                if (hl7_parse(&m, msgs[i].p, msgs[i].n, &err) != HL7_OK) {
                    failed++;
                    continue;
                }
                sink += mode == 0 ? read_fields(&m, paths, 3) : decode_all(&m);
            }
            done += n;
            rounds++;
            t = now_s() - t0;
        } while (t < seconds);
        if (failed) {
            fprintf(stderr, "%zu messages failed to parse: %s\n", failed, err.msg);
            return 1;
        }
        double rate = (double)done / t, mbs = (double)bytes * (double)rounds / t / 1e6;
        printf("radlink %-34s %10.0f msg/s %8.1f MB/s (%zu messages x %zu rounds, %.2f s)\n",
               mode == 0 ? "parse + read PID-3, PID-5, OBR-4:" : "parse + decode every component:",
               rate, mbs, n, rounds, t);
        printf("RESULT mode=%s msgs_per_s=%.0f mb_per_s=%.1f avg_bytes=%.0f\n",
               mode == 0 ? "read3" : "decodeall", rate, mbs, (double)bytes / (double)n);
    }
    hl7_msg_free(&m);
    free(msgs);
    rl_buf_free(&b);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc == 4 && strcmp(argv[1], "gen") == 0) {
        rl_buf out;
        rl_buf_init(&out, 0);
        if (gen_hl7_corpus(&out, (unsigned)strtoul(argv[2], NULL, 10), 42) != 0)
            return 1;
        FILE *f = fopen(argv[3], "wb");
        if (!f || fwrite(out.data, 1, out.len, f) != out.len || fclose(f) != 0) {
            perror(argv[3]);
            return 1;
        }
        rl_buf_free(&out);
        return 0;
    }
    if ((argc == 3 || argc == 4) && strcmp(argv[1], "run") == 0)
        return run(argv[2], argc == 4 ? strtod(argv[3], NULL) : 2.0);
    fprintf(stderr, "usage: bench_hl7 gen N FILE | bench_hl7 run FILE [SECONDS]\n");
    return 2;
}
