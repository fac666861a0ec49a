/* What the loaders of a route file share (engine/route/lutil.c): the
 * loader's state, its errors, the set's arena, and the file's tables. The
 * HL7 part (load.c) and the DICOM part (dload.c) both build on it. */
#ifndef RADLINK_ROUTE_LUTIL_H
#define RADLINK_ROUTE_LUTIL_H

#include "radlink/xdoc.h"
#include "route_internal.h"

typedef struct rt_loader {
    route_set *rs;
    const char *file;
    char dir[RL_CFG_PATH_MAX]; /* of the route file, for table files */
    rl_buf *errors;
    int bad;
    const route_load_opts *o; /* may be NULL */
} rt_loader;

/* Append "file:line: <element>: message" for n; the file is then refused. */
void rt_lerr(rt_loader *L, const xmlNode *n, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* A copy of s in the set's arena (NULL for NULL). */
const char *rt_ldup(rt_loader *L, const char *s);
/* n zeroed bytes from the set's arena (at least one). */
void *rt_lalloc(rt_loader *L, size_t n);
/* Element children of n named name (all of them when name is NULL). */
size_t rt_lcount(const xmlNode *n, const char *name);
/* Is ae a DICOM node (a <pacs> or <node>) of the engine config the loader
 * was given? False when it was given none. */
bool rt_lnode(const rt_loader *L, const char *ae);
/* Attribute name is "true" or "1". */
bool rt_lbool(const xmlNode *n, const char *name);
/* A <table> element into the set's next table (the caller reserved room for
 * every table of the file); a name given twice is an error. */
void rt_load_table(rt_loader *L, const xmlNode *n);

#endif
