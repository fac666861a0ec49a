/* The order mapping's recipes (engine/wl/mapping.c): for every worklist
 * attribute, where an order's value comes from (HL7 paths in order of
 * preference, a constant, a table, a default), compiled from the shipped IHE
 * defaults and the route file's <worklist-mapping> once per route set and
 * message type. The worklist action (apply.c) reads them. */
#ifndef RADLINK_WL_MAPPING_H
#define RADLINK_WL_MAPPING_H

#include "radlink/route.h"
#include "wl_internal.h"

/* Sources one attribute may name: a default row has at most four, a route
 * file's <attribute> a path and a fallback over them. */
#define WL_MAP_SOURCES 4

/* One attribute's recipe, resolved from the defaults and the route file. */
typedef struct wl_spec {
    const wl_model_attr *m;
    hl7_path src[WL_MAP_SOURCES];
    char srctext[WL_MAP_SOURCES][RL_WL_SOURCE_TEXT];
    int nsrc;
    const char *value, *deflt;
    int table;
    bool required;
    int too_long; /* ROUTE_LONG_* */
} wl_spec;

/* The recipes of every attribute for one message type: compiled from the
 * defaults and the route file once per route set (route_cache_*). */
typedef struct wl_spec_table {
    wl_spec specs[WL_MAX_ATTRS];
    size_t nspecs;
} wl_spec_table;

/* The recipes for ORM^O01 (omi false) or OMI^O23 in rs: compiled at the first
 * message of a route set and kept with it (route_cache_*), valid as long as
 * rs. NULL when out of memory. */
const wl_spec_table *wl_specs_for(const route_set *rs, bool omi);

#endif
