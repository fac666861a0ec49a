/* The job dispatcher (engine/job/dispatch.c) and the worker process
 * (engine/job/worker.c): jobs written to LMDB, handed over ZeroMQ to
 * `radlink worker` processes. See radlink/job.h for the records. */
#ifndef RADLINK_DISPATCH_H
#define RADLINK_DISPATCH_H

#include "radlink/dicom.h"
#include "radlink/store.h"

#define DISPATCH_MAX_PACS 8

typedef struct dispatch_cfg {
    store *st;
    char endpoint[700];          /* ipc://DATA/jobs.sock */
    dicom_peer pacs[DISPATCH_MAX_PACS];
    size_t n_pacs;
    unsigned max_attempts;       /* then the job is dead (default 5) */
    /* remote workers: a tcp endpoint; with a key pair, ZeroMQ CURVE and only
     * the listed worker public keys get in (Z85, 40 characters) */
    char tcp_endpoint[256];
    char public_key[41], secret_key[41];
    char worker_keys[32][41];
    size_t n_worker_keys;
} dispatch_cfg;

typedef struct dispatcher dispatcher;

dispatcher *dispatcher_start(const dispatch_cfg *cfg, rl_err *err);
void dispatcher_stop(dispatcher *d);

/* `radlink worker`: connect to endpoint, take jobs until SIGTERM/SIGINT.
 * calling_ae is the AE title the worker sends to the PACS with. */
typedef struct worker_keys {
    char server_public[41];      /* the engine's public key ("" = no CURVE) */
    char public_key[41], secret_key[41];
} worker_keys;
int worker_run(const char *endpoint, const char *calling_ae, const worker_keys *keys);

/* A key file written by `radlink keygen`: "public-key Z85" and "secret-key Z85"
 * lines. 0, or -1 with the reason. */
int keyfile_read(const char *path, char pub[41], char sec[41], rl_err *err);

#endif
