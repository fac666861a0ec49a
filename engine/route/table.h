/* Lookup tables of a route set (engine/route/table.c): built and filled by
 * the loader, read by the transforms and the worklist mapping. */
#ifndef RADLINK_ROUTE_TABLE_H
#define RADLINK_ROUTE_TABLE_H

#include "route_internal.h"

/* Hash t's entries (allocated from rs's arena); errors go to errors as
 * "file:line: message". */
int rt_table_build(route_set *rs, rt_table *t, rl_buf *errors, const char *file);
/* The value for key, or NULL (the table's default is the caller's). */
const char *rt_table_lookup(const rt_table *t, rl_str key);
/* Fill t from a CSV file of key,value lines (the first skipped with header). */
int rt_table_load_csv(route_set *rs, rt_table *t, const char *csv_path, bool header,
                      char *why, size_t whyn);

#endif
