/* The compiled form of a route file, shared by the loader and the evaluator:
 * types only. What each part does with it is declared by the part (table.h,
 * cond.h, xform.h, trace.h), so the route module's files depend on each
 * other one way: load and eval above xform, cond and table, trace below. */
#ifndef RADLINK_ROUTE_INTERNAL_H
#define RADLINK_ROUTE_INTERNAL_H

#include <stdatomic.h>

#include <regex.h>

#include "radlink/route.h"
#include "radlink/route_dicom.h"

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
    route_report_opts report; /* ROUTE_HOOK_REPORT */
    route_prefetch_opts prefetch; /* ROUTE_HOOK_PREFETCH */
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

/* ---- DICOM routes (radlink/route_dicom.h) ---- */

/* An attribute as the file names it: the dictionary's parse, and the text
 * written (for traces and errors). */
typedef struct rt_dpath {
    dicom_path p;
    const char *text;
} rt_dpath;

typedef enum rt_dckind {
    DC_EQUALS, DC_IN, DC_TABLE, DC_MATCHES, DC_PRESENT, DC_ABSENT, DC_ALL, DC_ANY, DC_NOT
} rt_dckind;

typedef struct rt_dcond {
    rt_dckind kind;
    int line;
    rt_dpath at;
    const char *value;     /* equals, matches: as written */
    const char **values;   /* in */
    size_t nvalues;
    const rt_table *table; /* table */
    bool icase;
    regex_t re;
    bool has_re;
    struct rt_dcond *kids; /* all, any, not */
    size_t nkids;
} rt_dcond;

/* A coercion. A program (dprog.c) carries the same fields. */
typedef enum rt_dkind {
    DOP_SET, DOP_SET_FROM, DOP_SET_TABLE, DOP_COPY, DOP_REMOVE, DOP_MAP, DOP_DATE, DOP_NAME,
    DOP_DEID, DOP_KINDS
} rt_dkind;

typedef struct rt_dop {
    rt_dkind kind;
    int line;
    rt_dpath target;       /* what it writes or removes */
    rt_dpath src;          /* what it reads: SET_FROM, SET_TABLE, COPY, MAP, DATE, NAME */
    const char *value;     /* SET: the constant; SET_TABLE, MAP: default="...", or NULL */
    const rt_table *table; /* SET_TABLE, MAP */
    const char *from_fmt;  /* DATE */
    const char *fmt;       /* DATE, NAME */
    route_deid deid;       /* DEID */
} rt_dop;

typedef struct rt_dmatch {
    const char *modality, *calling, *called; /* fnmatch patterns, NULL = any */
    const char *sop_text;                    /* sop-class as written, or NULL */
    const char **sop;                        /* its UIDs (or UID patterns) */
    size_t nsop;
    int line;
} rt_dmatch;

typedef struct rt_dsend {
    const char *to; /* the node's AE title */
    route_ts ts;
    int line;
    rt_dop *ops;    /* the send's own coercions */
    size_t nops;
    rl_str prog;    /* its program, made at load: the route's coercions, then these */
} rt_dsend;

/* An <on-receive> (no sends, never stops the others) or a <dicom-route>. */
typedef struct rt_droute {
    const char *name;
    int line;
    bool cont;
    rt_dmatch *matches;
    size_t nmatches;
    rt_dcond *when; /* all must hold */
    size_t nwhen;
    rt_dop *ops;
    size_t nops;
    rt_dsend *sends;
    size_t nsends;
} rt_droute;

typedef struct rt_dicom {
    bool present; /* the file has <dicom-routes> */
    bool hold;    /* default="hold" */
    rt_droute *recv;
    size_t nrecv;
    rt_droute *routes;
    size_t nroutes;
    rt_dpath modality, sop_class; /* (0008,0060), (0008,0016), as <match> reads them */
    const route_dicom_dict *dict; /* the loader's, kept: it checks what <on-receive> writes */
} rt_dicom;

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
    rt_dicom dicom;
    /* what action modules derive from the set once (route_cache_*) */
    _Atomic(void *) cache[ROUTE_CACHE_SLOTS];
    void (*cache_free[ROUTE_CACHE_SLOTS])(void *);
};

#endif
