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
/* Reformat the date/time v read by from into out by fmt; false (out
 * unchanged) when v does not fit from, or fmt asks for a year v lacks. A
 * value may stop early (a date without its time), and need not have a year
 * (a DICOM TM). */
bool rt_date_reformat(rl_str v, const char *from, const char *fmt, rl_buf *out);
/* A person name's parts, in the order a name format names them. */
enum { RT_NAME_FAMILY, RT_NAME_GIVEN, RT_NAME_MIDDLE, RT_NAME_SUFFIX, RT_NAME_PREFIX,
       RT_NAME_DEGREE, RT_NAME_PARTS };
/* Fill fmt's {part}s from parts (decoded text) into out: runs of spaces
 * collapsed, punctuation left dangling by an empty part trimmed. */
void rt_name_build(const rl_str parts[RT_NAME_PARTS], const char *fmt, rl_buf *out);
/* Checks a name format ({family} {given} {middle} {suffix} {prefix} {degree}):
 * 0, or ROUTE_E_LOAD naming the unknown part in err. */
int rt_namefmt_check(const char *fmt, rl_err *err);

#endif
