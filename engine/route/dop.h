/* DICOM route coercions on an instance (engine/route/dop.c): reading values
 * and running one coercion, through the caller's route_dcm_io, either at
 * once (a program at sending) or into a plan of pending changes (the
 * <on-receive> routes: every change computed and checked against the
 * dictionary before the first one reaches the instance). */
#ifndef RADLINK_ROUTE_DOP_H
#define RADLINK_ROUTE_DOP_H

#include "route_internal.h"

typedef struct rt_dplan rt_dplan;

/* Where reads and writes go. */
typedef struct rt_dacc {
    const route_dcm_io *io;
    void *ds;
    rt_dplan *plan;               /* NULL: changes go to ds at once */
    const route_dicom_dict *dict; /* with a plan: checks every value planned (may be NULL) */
    const char *route;            /* the route whose coercion runs, for the plan's errors */
} rt_dacc;

/* The values an attribute has: one per element found (every item of the
 * sequences on the way), spaces around them (DICOM's padding) removed, each
 * cut to RL_ROUTE_MATCH_VALUE - 1 bytes, at most RL_ROUTE_DICOM_VALUES. */
typedef struct rt_dvals {
    size_t n;
    size_t off[RL_ROUTE_DICOM_VALUES], len[RL_ROUTE_DICOM_VALUES];
    bool cut[RL_ROUTE_DICOM_VALUES];
    rl_buf buf; /* the values, each NUL-terminated */
} rt_dvals;

/* Read p's values into v (initialized here; rt_dvals_free after): 0, or the
 * io's negative code (err says what could not be read). */
int rt_dvals_get(rt_dacc *a, const rt_dpath *p, rt_dvals *v, rl_err *err);
static inline rl_str rt_dvals_at(const rt_dvals *v, size_t i)
{
    return (rl_str){ v->buf.data + v->off[i], v->len[i] };
}
void rt_dvals_free(rt_dvals *v);
/* Append v to trace as conditions show it: (absent), "X" or ["X", "Y"]. */
void rt_dvals_trace(rl_buf *trace, const rt_dvals *v);

/* Run op through a. trace (may be NULL) gets "      LABEL: BEFORE -> AFTER".
 * 0; ROUTE_E_COERCE when the instance cannot take it (err: the reason, without
 * the op's label); DICOM_E_BURNED_IN from <deidentify>; or the io's negative
 * code when reading failed. */
int rt_dop_run(const rt_dop *op, rt_dacc *a, rl_buf *trace, rl_err *err);
/* "set InstitutionName", "copy StationName -> InstitutionalDepartmentName",
 * "map BodyPartExamined (table 'parts')" into out. */
void rt_dop_label(const rt_dop *op, char *out, size_t n);
/* One line describing op as a program lists it, after indent spaces. */
void rt_dop_list(const rt_dop *op, int indent, rl_buf *trace);
const char *rt_dop_name(rt_dkind k);
/* <deidentify options>: the name of option bit i (route_deid_option), or
 * NULL past the last. */
#define RT_DEID_OPTIONS 6
const char *rt_deid_option_name(unsigned i);

/* A plan of pending changes, and applying it to ds through io in the order
 * planned. apply returns 0 (*applied: changes made), or the io's code with
 * err naming the route, the coercion, its line and the reason; then ds may
 * hold the changes before it. */
rt_dplan *rt_dplan_new(void);
void rt_dplan_free(rt_dplan *pl);
size_t rt_dplan_count(const rt_dplan *pl);
int rt_dplan_apply(const rt_dplan *pl, const route_dcm_io *io, void *ds, unsigned *applied,
                   rl_err *err);

#endif
