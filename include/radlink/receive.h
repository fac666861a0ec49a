/* Filing received DICOM instances (engine/study/receive.c): the SCP's
 * on_instance callback. */
#ifndef RADLINK_RECEIVE_H
#define RADLINK_RECEIVE_H

#include <stdbool.h>

#include "radlink/study.h"

typedef struct receiver {
    store *st;
    char spool[1024];      /* absolute DATA/spool */
    bool refuse_duplicates;
    /* run in the instance's transaction after indexing (reconciliation) */
    int (*after_store)(void *ctx, store_txn *t, const study_inst *in, rl_err *err);
    void *after_ctx;
} receiver;

int study_receive(void *ctx, const study_inst *in, const char *tmp, char *why, size_t whyn);

#endif
