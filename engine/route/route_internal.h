/* The compiled form of a route file, shared by the loader and the evaluator:
 * types only. What each part does with it is declared by the part (table.h,
 * cond.h, xform.h, trace.h), so the route module's files depend on each
 * other one way: load and eval above xform, cond and table, trace below. */
#ifndef RADLINK_ROUTE_INTERNAL_H
#define RADLINK_ROUTE_INTERNAL_H

#include <stdatomic.h>

#include <regex.h>

#include "radlink/route.h"

typedef struct rt_table {
    const char *name;
    int line;
    const char **keys, **vals;
    size_t n;
    uint32_t *slots; /* open addressing: entry index + 1, 0 = empty */
    size_t nslots;
    const char *deflt; /* NULL when none */
    bool icase;
} rt_table;

/* A date operand: a fixed 14-digit timestamp, or now/today plus an offset. */
typedef struct rt_date {
    char fixed[RL_HL7_TS_TEXT_MAX];
    enum { D_FIXED, D_NOW, D_TODAY } base;
    int64_t offset_s;
} rt_date;

typedef enum rt_ckind {
    C_EQUALS, C_IN, C_MATCHES, C_EXISTS, C_EMPTY, C_NULL, C_BEFORE, C_AFTER, C_ALL, C_ANY, C_NOT
} rt_ckind;

typedef struct rt_cond {
    rt_ckind kind;
    int line;
    hl7_path path;
    const char *ptext;
    const char *value;
    const char **values;
    size_t nvalues;
    bool icase;
    regex_t re;
    bool has_re;
    rt_date date;
    struct rt_cond *kids;
    size_t nkids;
} rt_cond;

typedef enum rt_tkind { T_SET, T_COPY, T_MAP, T_DELETE, T_CASE, T_DATE, T_NAME } rt_tkind;

typedef struct rt_xform {
    rt_tkind kind;
    int line;
    hl7_path path, to;
    const char *ptext, *totext;
    bool has_to;
    bool all_segments; /* delete: a segment name without [n] removes every one */
    const char *value;
    int table;
    const char *deflt; /* map: default when the table has no entry */
    int casemode;      /* 0 upper, 1 lower, 2 title */
    const char *from_fmt, *fmt;
} rt_xform;

typedef enum rt_akind { A_FORWARD, A_REJECT, A_ACCEPT, A_LOG, A_HOOK } rt_akind;

typedef struct rt_action {
    rt_akind kind;
    int line;
    int dest; /* index into dests, -1 when optional and not defined */
    const char *dest_name;
    char code[RL_ACK_CODE_SIZE];
    int errcode;
    const char *text;
    int level;
    route_hook_kind hook;
} rt_action;

typedef struct rt_match {
    const char *type, *version, *app, *fac; /* fnmatch patterns, NULL = any */
    int line;
} rt_match;

typedef struct rt_route {
    const char *name;
    int line;
    bool cont;
    rt_match *matches;
    size_t nmatches;
    rt_cond *when; /* all must hold */
    size_t nwhen;
    rt_xform *xf;
    size_t nxf;
    rt_action *acts;
    size_t nacts;
} rt_route;

struct route_set {
    rl_arena arena; /* every string and array below */
    char source[RL_CFG_PATH_MAX];
    char sha256[RL_SHA256_HEX_SIZE];
    rl_str text; /* the file as loaded (arena) */
    route_dest *dests;
    size_t ndests;
    rt_table *tables;
    size_t ntables;
    rt_route *routes;
    size_t nroutes;
    route_wl_attr *wl;
    size_t nwl;
    route_wl_station *stations;
    size_t nstations;
    route_mpps_status mpps;
    route_patient_id patient;
    bool wl_ihe;
    bool default_accept;
    char default_code[RL_ACK_CODE_SIZE];
    const char *default_text;
    /* what action modules derive from the set once (route_cache_*) */
    _Atomic(void *) cache[ROUTE_CACHE_SLOTS];
    void (*cache_free[ROUTE_CACHE_SLOTS])(void *);
};

#endif
