/* Transforms of a route (engine/route/xform.c): applied per message, and the
 * format checks the loader makes for them. */
#ifndef RADLINK_ROUTE_XFORM_H
#define RADLINK_ROUTE_XFORM_H

#include "route_internal.h"

/* Apply x to m in place: 0, or the failure (a negative code) with its reason
 * in err; a trace (may be NULL) gets what it did. */
int rt_xform_apply(const route_set *rs, const rt_xform *x, hl7_msg *m, rl_buf *trace,
                   rl_err *err);
const char *rt_xform_name(rt_tkind k);
/* Is fmt a date format (yyyy MM dd HH mm ss and literals)? */
bool rt_datefmt_valid(const char *fmt);
/* Checks a name format ({family} {given} {middle} {suffix} {prefix} {degree}):
 * 0, or ROUTE_E_LOAD naming the unknown part in err. */
int rt_namefmt_check(const char *fmt, rl_err *err);

#endif
