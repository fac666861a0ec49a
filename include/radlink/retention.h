/* Retention (engine/retention.c): what the engine removes, by age or size,
 * so that the store and the spool stay bounded. */
#ifndef RADLINK_RETENTION_H
#define RADLINK_RETENTION_H

#include <stdbool.h>
#include <stdint.h>

#include "radlink/cfg.h"
#include "radlink/store.h"

typedef struct retention_result {
    unsigned long messages, worklist, jobs, studies, instances, audit;
    bool more; /* the budget ran out: another pass soon */
} retention_result;

/* One pass in t: at most budget removals. The spool files of the instances
 * removed are appended to unlink_paths (NUL-terminated each), to delete once
 * t is committed. */
int retention_pass(store_txn *t, const cfg *c, int64_t now_us, unsigned budget,
                   rl_buf *unlink_paths, retention_result *out, rl_err *err);
/* Whether r removes anything at all. */
bool retention_on(const cfg_retention *r);

#endif
