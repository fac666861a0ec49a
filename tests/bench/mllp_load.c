/* MLLP load generator for the ingest benchmark: C connections, each sending M
 * messages and waiting for every ACK before the next (as a RIS does).
 *   mllp_load HOST PORT CONNECTIONS MESSAGES_PER_CONNECTION [FIRST]
 * Prints "RESULT msgs=N seconds=S msgs_per_s=R non_aa=K". Connection k's
 * message i is number k * 10^7 + FIRST + i (its MSH-10, patient and order
 * numbers come from it): a later run with another FIRST sends new messages.
 *   mllp_load --dump FILE CONNECTIONS MESSAGES_PER_CONNECTION [FIRST]
 * writes the same messages to FILE instead, one a line (segments end with
 * CR), connection after connection, for a peer to load the same data. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "gen_hl7.h"
#include "radlink/mllp.h"

static const char *host;
static unsigned port;
static int per_conn;
static unsigned first;
static int failures, non_aa;
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;

static void *run(void *arg)
{
    unsigned k = (unsigned)(size_t)arg, seed = 1000 + k;
    mllp_client *c;
    rl_err err;
    if (mllp_client_open(host, port, NULL, 10000, -1, &c, &err) != 0) {
        fprintf(stderr, "%s\n", err.msg);
        pthread_mutex_lock(&mu);
        failures++;
        pthread_mutex_unlock(&mu);
        return NULL;
    }
    rl_buf m, reply;
    rl_buf_init(&m, 0);
    rl_buf_init(&reply, 0);
    for (int i = 0; i < per_conn; i++) {
        rl_buf_reset(&m);
        rl_buf_reset(&reply);
        /* unique control IDs across connections: k * 10^7 + i */
        gen_hl7_message(&m, i % 10 < 6 ? 'O' : i % 10 < 9 ? 'A' : 'R',
                        k * 10000000u + first + (unsigned)i, &seed);
        if (mllp_client_exchange(c, rl_buf_view(&m), &reply, 30000, &err) != 0) {
            fprintf(stderr, "%s\n", err.msg);
            pthread_mutex_lock(&mu);
            failures++;
            pthread_mutex_unlock(&mu);
            break;
        }
        rl_buf_cstr(&reply);
        if (!strstr(reply.data, "MSA|AA|")) {
            pthread_mutex_lock(&mu);
            non_aa++;
            pthread_mutex_unlock(&mu);
        }
    }
    rl_buf_free(&m);
    rl_buf_free(&reply);
    mllp_client_close(c);
    return NULL;
}

/* The messages run() would send, into path. */
static int dump(const char *path, int conns)
{
    FILE *f = fopen(path, "w");
    if (!f) {
        perror(path);
        return 1;
    }
    rl_buf m;
    rl_buf_init(&m, 0);
    for (int k = 0; k < conns; k++) {
        unsigned seed = 1000 + (unsigned)k;
        for (int i = 0; i < per_conn; i++) {
            rl_buf_reset(&m);
            gen_hl7_message(&m, i % 10 < 6 ? 'O' : i % 10 < 9 ? 'A' : 'R',
                            (unsigned)k * 10000000u + first + (unsigned)i, &seed);
            fwrite(m.data, 1, m.len, f);
            fputc('\n', f);
        }
    }
    rl_buf_free(&m);
    return fclose(f) == 0 ? 0 : 1;
}

int main(int argc, char **argv)
{
    if (argc != 5 && argc != 6) {
        fprintf(stderr, "usage: mllp_load HOST PORT CONNECTIONS MESSAGES_PER_CONNECTION [FIRST]\n"
                        "       mllp_load --dump FILE CONNECTIONS MESSAGES_PER_CONNECTION [FIRST]\n");
        return 2;
    }
    per_conn = atoi(argv[4]);
    first = argc == 6 ? (unsigned)strtoul(argv[5], NULL, 10) : 0;
    if (!strcmp(argv[1], "--dump"))
        return dump(argv[2], atoi(argv[3]));
    host = argv[1];
    port = (unsigned)atoi(argv[2]);
    int conns = atoi(argv[3]);
    per_conn = atoi(argv[4]);
    pthread_t *t = calloc((size_t)conns, sizeof *t);
    struct timespec a, b;
    clock_gettime(CLOCK_MONOTONIC, &a);
    for (int k = 0; k < conns; k++)
        pthread_create(&t[k], NULL, run, (void *)(size_t)k);
    for (int k = 0; k < conns; k++)
        pthread_join(t[k], NULL);
    clock_gettime(CLOCK_MONOTONIC, &b);
    double s = (double)(b.tv_sec - a.tv_sec) + (double)(b.tv_nsec - a.tv_nsec) / 1e9;
    long total = (long)conns * per_conn;
    printf("RESULT msgs=%ld seconds=%.3f msgs_per_s=%.0f non_aa=%d failures=%d\n", total, s,
           (double)total / s, non_aa, failures);
    free(t);
    return failures ? 1 : 0;
}
