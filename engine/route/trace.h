/* How a value is shown in a dry-run trace (engine/route/trace.c): the lowest
 * file of the route module, used by the conditions and the transforms. */
#ifndef RADLINK_ROUTE_TRACE_H
#define RADLINK_ROUTE_TRACE_H

#include "radlink/util.h"

/* Append v (of kind hl7_kind: absent, null or a value) to trace, quoted and
 * shortened. */
void rt_trace_value(rl_buf *trace, rl_str v, int kind);

#endif
