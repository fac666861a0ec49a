/* `radlink worker` (engine/job/worker.c): a process that takes jobs from the
 * engine's dispatcher over ZeroMQ (radlink/dispatch.h describes the frames)
 * and runs them, each attempt in a thread of its own. */
#ifndef RADLINK_WORKER_H
#define RADLINK_WORKER_H

#include "radlink/limits.h"

/* The worker's CURVE keys for a tcp endpoint (Z85, NUL-terminated). */
typedef struct worker_keys {
    char server_public[RL_CURVE_KEY_SIZE]; /* the engine's public key ("" = no CURVE) */
    char public_key[RL_CURVE_KEY_SIZE], secret_key[RL_CURVE_KEY_SIZE];
} worker_keys;

/* Connect to endpoint, take jobs until SIGTERM/SIGINT. calling_ae is the AE
 * title the worker sends to the PACS with. Returns 0, 1 when the endpoint is
 * unusable, or WORKER_ABANDONED when it stopped with an attempt still running
 * in its thread (then the process must end with _exit, without running
 * destructors under that thread). */
#define WORKER_ABANDONED 4
int worker_run(const char *endpoint, const char *calling_ae, const worker_keys *keys);

#endif
