/* The `worklist` route action (engine/wl/apply.c): applies an ORM^O01 or
 * OMI^O23 to the worklist in env->txn, through the route file's mapping. */
#ifndef RADLINK_WL_HOOK_H
#define RADLINK_WL_HOOK_H

#include "radlink/patient.h"
#include "radlink/prefetch.h"
#include "radlink/report.h"
#include "radlink/route.h"

int wl_hook(route_env *env, hl7_msg *m, rl_buf *trace);

/* The route actions this engine carries out (the others answer AE). */
static inline route_hook_fn engine_hook(route_hook_kind k)
{
    return k == ROUTE_HOOK_WORKLIST  ? wl_hook
           : k == ROUTE_HOOK_PATIENT ? patient_hook
           : k == ROUTE_HOOK_REPORT  ? report_hook
           : k == ROUTE_HOOK_PREFETCH ? prefetch_hook
                                     : NULL;
}

#endif
