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
} dispatch_cfg;

typedef struct dispatcher dispatcher;

dispatcher *dispatcher_start(const dispatch_cfg *cfg, rl_err *err);
void dispatcher_stop(dispatcher *d);

/* `radlink worker`: connect to endpoint, take jobs until SIGTERM/SIGINT.
 * calling_ae is the AE title the worker sends to the PACS with. */
int worker_run(const char *endpoint, const char *calling_ae);

#endif
