/* DICOM route programs (engine/route/dprog.c): what one <send> does to an
 * instance, as self-contained bytes (radlink/route_dicom.h describes the
 * format), made when the file is loaded and run at sending. */
#ifndef RADLINK_ROUTE_DPROG_H
#define RADLINK_ROUTE_DPROG_H

#include "route_internal.h"

/* The program of send s of route r (r's coercions, then s's; the tables
 * they look up inlined) into out (emptied first, its cap set to
 * RL_ROUTE_DICOM_PROG_MAX): 0, or ROUTE_E_LOAD with why in err
 * (longer than RL_ROUTE_DICOM_PROG_MAX, more than RL_ROUTE_DICOM_PROG_OPS
 * coercions). */
int rt_dprog_encode(const rt_droute *r, const rt_dsend *s, rl_buf *out, rl_err *err);

/* A program decoded: its strings and tables in its own arena. */
typedef struct rt_dprog {
    rl_arena arena;
    const char *route, *to;
    route_ts ts;
    rt_table *tables;
    size_t ntables;
    rt_dop *ops;
    size_t nops;
} rt_dprog;

/* Decode and check every byte of bytes: 0, or ROUTE_E_PROG with why in err
 * (truncated, corrupt, another format version); free p either way. */
int rt_dprog_decode(rl_str bytes, rt_dprog *p, rl_err *err);
void rt_dprog_free(rt_dprog *p);

#endif
