/* Transforms of a route (engine/route/xform.c): applied per message, and the
 * format checks the loader makes for them. */
#ifndef RADLINK_ROUTE_XFORM_H
#define RADLINK_ROUTE_XFORM_H

#include "route_internal.h"

int rt_xform_apply(const route_set *rs, const rt_xform *x, hl7_msg *m, rl_buf *trace,
                   char *why, size_t whyn);
const char *rt_xform_name(rt_tkind k);
/* Checks a date format (yyyy MM dd HH mm ss and literals); 0 or -1. */
int rt_datefmt_check(const char *fmt);
/* Checks a name format ({family} {given} {middle} {suffix} {prefix} {degree}). */
int rt_namefmt_check(const char *fmt, char *bad, size_t badn);

#endif
