/* Conditions of a route (engine/route/cond.c): evaluated per message, and
 * the date operands the loader compiles for them. */
#ifndef RADLINK_ROUTE_COND_H
#define RADLINK_ROUTE_COND_H

#include "route_internal.h"

bool rt_cond_eval(const rt_cond *c, hl7_msg *m, int64_t now_us, rl_buf *trace, int depth);
const char *rt_cond_name(rt_ckind k);
/* A date operand: YYYYMMDD[HHMM[SS]], now or today, with an optional offset
 * (today-7d); false when text is none. */
bool rt_date_parse(const char *text, rt_date *d);
/* Compile a <matches> regex (POSIX extended, no subexpression reports):
 * 0, or ROUTE_E_LOAD with why in err (back-references, which can take
 * unbounded time, or regcomp's reason). On 0 the caller regfree()s re. */
int rt_regex_compile(const char *text, bool icase, regex_t *re, rl_err *err);
/* Does v match? Tested on its first RL_ROUTE_MATCH_VALUE - 1 bytes. */
bool rt_regex_match(const regex_t *re, rl_str v);
/* HL7 DTM to 14 digits (month/day padded 01, time 00); false if not a date. */
bool rt_dtm_norm(rl_str v, char out[RL_HL7_TS_TEXT_MAX]);

#endif
