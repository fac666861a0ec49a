/* Lookup tables of a route set (engine/route/table.c): built and filled by
 * the loader, read by the transforms and the worklist mapping. */
#ifndef RADLINK_ROUTE_TABLE_H
#define RADLINK_ROUTE_TABLE_H

#include "radlink/limits.h"
#include "route_internal.h"

/* Hash t's entries (the slots from arena a: a route set's, or a decoded DICOM
 * program's): 0, or ROUTE_E_LOAD with the reason (a key given twice) in err. */
int rt_table_build(rl_arena *a, rt_table *t, rl_err *err);
/* The value for key, or NULL (the table's default is the caller's). */
const char *rt_table_lookup(const rt_table *t, rl_str key);
/* Fill t from a CSV file of key,value lines (the first skipped with header),
 * at most RL_ROUTE_TABLE_FILE_MAX bytes: 0, or ROUTE_E_LOAD with the reason
 * in err. */
int rt_table_load_csv(route_set *rs, rt_table *t, const char *csv_path, bool header,
                      rl_err *err);

#endif
