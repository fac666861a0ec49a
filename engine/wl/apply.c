/* The `worklist` route action: an ORM^O01 or OMI^O23 order becomes Modality
 * Worklist entries, one per Scheduled Procedure Step (each OBR of an ORM, each
 * IPC of an OMI), through the mapping of the route file's <worklist-mapping>
 * over the shipped IHE Radiology Scheduled Workflow defaults.
 *
 *   ORC-1 NW, XO          create or replace the entries
 *   ORC-1 SC              status change: replace, or remove when ORC-5 / OBR-25
 *                         says completed, cancelled or discontinued
 *   ORC-1 CA, DC, OC, OD, CR
 *                         remove (the entry leaves the worklist); an order the
 *                         worklist does not hold is AE
 *
 * Paths to ORC, OBR, ZDS, IPC and TQ1 address the segments of the order group
 * being applied, so OBR-18 is the accession of the OBR at hand. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "radlink/audit.h"
#include "radlink/patient_id.h"
#include "radlink/recon.h"
#include "radlink/wl_hl7.h"
#include "radlink/wl_hook.h"
#include "mapping.h"
#include "wl_internal.h"

/* The segments of one Scheduled Procedure Step: occurrence numbers, 0 = none. */
typedef struct unit {
    unsigned orc, obr, zds, ipc, tq1;
} unit;

typedef struct apply_ctx {
    route_env *env;
    hl7_msg *m;
    rl_buf *trace;
    rl_arena arena;
    const wl_spec_table *t;
    bool omi;
    unsigned nsteps, step; /* steps in the message, and the one at hand (1-based) */
    int pid_rep;           /* PID-3's repetition that names the patient; -1: not yet chosen */
} apply_ctx;

static int fail(apply_ctx *c, int errcode, const hl7_path *at, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int fail(apply_ctx *c, int errcode, const hl7_path *at, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int rc = route_failv(c->env, errcode, at, "worklist", fmt, ap);
    va_end(ap);
    return rc;
}

/* Point a path at the order group's own segment. */
static hl7_path rebase(const hl7_path *p, const unit *u)
{
    hl7_path q = *p;
    unsigned idx = !strcmp(q.seg, "ORC") ? u->orc
                   : !strcmp(q.seg, "OBR") ? u->obr
                   : !strcmp(q.seg, "ZDS") ? u->zds
                   : !strcmp(q.seg, "IPC") ? u->ipc
                   : !strcmp(q.seg, "TQ1") ? u->tq1
                                           : (unsigned)-1;
    if (idx != (unsigned)-1)
        q.seg_idx = idx ? idx : 999999; /* the group has none: absent */
    return q;
}

static rl_str keep(apply_ctx *c, rl_str v)
{
    char *p = rl_arena_dup(&c->arena, v.p ? v.p : "", v.n);
    return (rl_str){ p ? p : "", p ? v.n : 0 };
}

static rl_str get_at(apply_ctx *c, hl7_path p)
{
    rl_str v;
    rl_err err;
    int k = hl7_get(c->m, &p, &v, &err);
    if (k != HL7_VALUE)
        return (rl_str){ "", 0 };
    while (v.n && v.p[v.n - 1] == ' ')
        v.n--;
    return keep(c, v);
}

static rl_str person_name(apply_ctx *c, hl7_path p)
{
    if (p.comp) /* the analyst named a component: take it as it is */
        return get_at(c, p);
    rl_buf b;
    rl_buf_init(&b, 0);
    wl_hl7_pn(c->m, p, &b);
    rl_str out = keep(c, rl_buf_view(&b));
    rl_buf_free(&b);
    return out;
}

static size_t digits(rl_str v)
{
    size_t d = 0;
    while (d < v.n && v.p[d] >= '0' && v.p[d] <= '9')
        d++;
    return d;
}

/* Convert an HL7 value to the attribute's VR; "" when it has no such part
 * (a date without time) or no DICOM meaning (a priority, a modality);
 * sets *bad when the value cannot be one at all. */
static rl_str convert(apply_ctx *c, const wl_model_attr *m, rl_str v, bool *bad)
{
    *bad = false;
    if (!v.n)
        return v;
    if (!strcmp(m->vr, "DA")) {
        if (digits(v) < 8) {
            *bad = true;
            return v;
        }
        return keep(c, (rl_str){ v.p, 8 });
    }
    if (!strcmp(m->vr, "TM")) {
        size_t d = digits(v);
        if (d >= 12) /* a DTM: the time after the date */
            return keep(c, (rl_str){ v.p + 8, d - 8 > 6 ? 6 : d - 8 });
        if (d == 8) /* a date alone: no time */
            return (rl_str){ "", 0 };
        if (d == 4 || d == 6)
            return v;
        *bad = true;
        return v;
    }
    if (!strcmp(m->keyword, "PatientSex"))
        return wl_hl7_sex(v);
    if (!strcmp(m->keyword, "RequestedProcedurePriority"))
        return wl_hl7_priority(v);
    if (!strcmp(m->keyword, "Modality"))
        return wl_hl7_modality(v);
    return v;
}

/* Every repetition of the field at p, joined with DICOM's '\' (an AE title
 * with several values: OBR-21~...). */
static rl_str all_reps(apply_ctx *c, hl7_path p)
{
    unsigned n = hl7_rep_count(c->m, &p);
    if (n <= 1 || p.rep)
        return get_at(c, p);
    rl_buf b;
    rl_buf_init(&b, 0);
    for (unsigned r = 1; r <= n && r <= 16; r++) {
        hl7_path q = p;
        q.rep = r;
        rl_str v = get_at(c, q);
        if (!v.n)
            continue;
        if (b.len)
            rl_buf_add_ch(&b, '\\');
        rl_buf_add_str(&b, v);
    }
    rl_str out = keep(c, rl_buf_view(&b));
    rl_buf_free(&b);
    return out;
}

/* The value of one attribute for one unit, and where it came from. A
 * source whose value means nothing here (a section "RAD" for the modality)
 * is passed over for the next; a malformed one sets *bad. */
static void resolve(apply_ctx *c, const wl_spec *s, const unit *u, rl_str *out, const char **from,
                    hl7_path *at, rl_str *bad_value)
{
    *out = (rl_str){ "", 0 };
    *from = NULL;
    *bad_value = (rl_str){ NULL, 0 };
    if (s->value) {
        *out = rl_str_c(s->value);
        *from = "constant";
        return;
    }
    for (int i = 0; i < s->nsrc && !out->n; i++) {
        hl7_path p = rebase(&s->src[i], u);
        /* PID-3 without a repetition: the one that names the patient (the
         * route file's <patient-id>, else MR, PI, the first with an ID);
         * none has an ID: PID-2 */
        if (!strcmp(p.seg, "PID") && p.field == 3 && !p.rep) {
            if (c->pid_rep < 0)
                c->pid_rep = (int)patient_id_rep(c->m, "PID", 3, route_patient(c->env->rs));
            if (c->pid_rep)
                p.rep = (unsigned)c->pid_rep;
            else
                p.field = 2;
        }
        rl_str v = !strcmp(s->m->vr, "PN") && !p.comp ? person_name(c, p)
                   : !strcmp(s->m->vr, "AE")              ? all_reps(c, p)
                                                       : get_at(c, p);
        if (!v.n)
            continue;
        if (s->table >= 0) {
            const char *t = route_table_get(c->env->rs, s->table, v);
            if (t)
                v = rl_str_c(t);
        }
        bool bad;
        rl_str cv = convert(c, s->m, v, &bad);
        if (bad) {
            if (!bad_value->p) {
                *bad_value = v;
                *at = p;
                *from = s->srctext[i];
            }
            continue;
        }
        if (!cv.n && (!strcmp(s->m->keyword, "Modality") ||
                      !strcmp(s->m->keyword, "RequestedProcedurePriority"))) {
            if (!bad_value->p) {
                *bad_value = v;
                *at = p;
                *from = s->srctext[i];
            }
            continue;
        }
        *out = cv;
        *from = s->srctext[i];
        *at = p;
        *bad_value = (rl_str){ NULL, 0 };
    }
    if (!out->n && s->deflt) {
        *out = rl_str_c(s->deflt);
        *from = "default";
    }
}

/* ORC-5 / OBR-25: does the order no longer belong on the worklist? */
static bool finished(apply_ctx *c, const unit *u, rl_str *status)
{
    hl7_path p = { .seg = "ORC", .seg_idx = u->orc ? u->orc : 999999, .field = 5 };
    rl_str s = get_at(c, p);
    *status = s;
    if (s.n == 2 && (!memcmp(s.p, "CM", 2) || !memcmp(s.p, "CA", 2) || !memcmp(s.p, "DC", 2) ||
                     !memcmp(s.p, "ER", 2)))
        return true;
    hl7_path r = { .seg = "OBR", .seg_idx = u->obr ? u->obr : 999999, .field = 25 };
    rl_str rs = get_at(c, r);
    if (rs.n == 1 && (rs.p[0] == 'F' || rs.p[0] == 'C' || rs.p[0] == 'X')) {
        *status = rs;
        return true;
    }
    return false;
}

/* Order Record (PS3.15 A.5.3.9): the step created, updated or removed, in
 * the message's transaction; the sender as requestor. */
static int audit_order(apply_ctx *c, const wl_entry *e, char action)
{
    route_env *env = c->env;
    if (env->dry_run)
        return 0;
    hl7_path app = { .seg = "MSH", .seg_idx = 1, .field = 3, .comp = 1 };
    hl7_path fac = { .seg = "MSH", .seg_idx = 1, .field = 4, .comp = 1 };
    rl_str a = get_at(c, app), f = get_at(c, fac);
    rl_str pid = wl_top(e, WL_PATIENT_ID), pn = wl_top(e, WL_PATIENT_NAME),
           uid = wl_top(e, WL_STUDY_UID), acc = wl_top(e, WL_ACCESSION);
    char user[RL_AUDIT_USER_SIZE], addr[RL_PEER_TEXT_MAX], p[RL_LO_SIZE], n[RL_PN_SIZE];
    char u[RL_UID_SIZE], ac[RL_LO_SIZE];
    snprintf(user, sizeof user, "%.*s|%.*s", (int)(a.n > 64 ? 64 : a.n), a.p,
             (int)(f.n > 64 ? 64 : f.n), f.p);
    snprintf(p, sizeof p, "%.*s", (int)pid.n, pid.p);
    snprintf(n, sizeof n, "%.*s", (int)pn.n, pn.p);
    snprintf(u, sizeof u, "%.*s", (int)uid.n, uid.p);
    snprintf(ac, sizeof ac, "%.*s", (int)acc.n, acc.p);
    audit_event ev = { .kind = AUDIT_ORDER, .action = action, .time_us = env->now_us,
                       .patient_id = p, .patient_name = n, .study_uid = u, .accession = ac };
    audit_received_from(&ev, user, env->peer, addr, sizeof addr);
    return audit_record(env->txn, &ev, &env->store_err) == STORE_OK ? 0 : ROUTE_E_STORE;
}

static bool is_cancel(rl_str control)
{
    return rl_str_eq(control, RL_STR("CA")) || rl_str_eq(control, RL_STR("DC")) ||
           rl_str_eq(control, RL_STR("OC")) || rl_str_eq(control, RL_STR("OD")) ||
           rl_str_eq(control, RL_STR("CR"));
}

/* ORC-1 must be an order control the worklist acts on. */
static int check_control(apply_ctx *c, const unit *u, rl_str control)
{
    static const char *const known[] = { "NW", "XO", "SC", "CA", "DC", "OC", "OD", "CR" };
    bool ok = false;
    for (size_t i = 0; i < sizeof known / sizeof *known; i++)
        ok |= rl_str_eq(control, rl_str_c(known[i]));
    if (ok)
        return 0;
    hl7_path orc1 = { .seg = "ORC", .seg_idx = u->orc ? u->orc : 1, .field = 1 };
    return fail(c, HL7_ERR_TABLE_VALUE, &orc1,
                "order control (ORC-1) '%.*s' is not one the worklist handles (NW, XO, SC, "
                "CA, DC, OC, OD, CR)", (int)(control.n > 10 ? 10 : control.n), control.p);
}

/* A source value that is no date, time, modality or priority: AE when the
 * attribute is required and nothing else gave a value, else a warning. */
static int report_bad(apply_ctx *c, const wl_spec *s, rl_str v, rl_str bad, const char *from,
                      const hl7_path *at, bool removing)
{
    const char *what = !strcmp(s->m->vr, "DA")   ? "a date"
                       : !strcmp(s->m->vr, "TM") ? "a time"
                       : !strcmp(s->m->keyword, "Modality") ? "a DICOM modality"
                       : !strcmp(s->m->keyword, "RequestedProcedurePriority")
                           ? "a priority (S, A, P, R, T, C, L or a DICOM term)"
                           : "usable";
    if (!v.n && s->required && !removing)
        return fail(c, HL7_ERR_DATA_TYPE, at, "%s: %s '%.*s' is not %s", s->m->keyword, from,
                    (int)(bad.n > 40 ? 40 : bad.n), bad.p, what);
    route_warn(c->env, "%s: %s '%.*s' is not %s, %s", s->m->keyword, from,
               (int)(bad.n > 24 ? 24 : bad.n), bad.p, what,
               v.n ? "another source used" : "left out");
    return 0;
}

/* A required attribute without a value: AE naming where it was looked for. */
static int report_missing(apply_ctx *c, const wl_spec *s, const unit *u)
{
    if (!s->nsrc)
        return fail(c, HL7_ERR_REQUIRED_MISSING, NULL, "%s is required and has no value",
                    s->m->keyword);
    hl7_path at = rebase(&s->src[0], u);
    return fail(c, HL7_ERR_REQUIRED_MISSING, &at, "%s is required and %s%s is empty",
                s->m->keyword, s->srctext[0], s->nsrc > 1 ? " (and its fallbacks)" : "");
}

/* A value longer than DICOM allows: refused (AE), cut or left out, as the
 * route file says (by default: refused when it identifies, else left out). */
static int fit_length(apply_ctx *c, const wl_spec *s, rl_str *v, const char *from,
                      const hl7_path *where)
{
    size_t len = wl_value_len(s->m, *v);
    if (!s->m->max_len || len <= s->m->max_len)
        return 0;
    int how = s->too_long;
    if (how == ROUTE_LONG_DEFAULT)
        how = s->required || s->m->tags[0] == WL_ACCESSION ? ROUTE_LONG_REFUSE : ROUTE_LONG_OMIT;
    if (how == ROUTE_LONG_REFUSE)
        return fail(c, HL7_ERR_DATA_TYPE, where,
                    "%s '%.*s'%s%s has %zu characters, more than the %u DICOM allows",
                    s->m->keyword, (int)(v->n > 40 ? 40 : v->n), v->p, from ? " from " : "",
                    from ? from : "", len, s->m->max_len);
    if (how == ROUTE_LONG_CUT && strcmp(s->m->vr, "AE") && strcmp(s->m->vr, "CS")) {
        *v = rl_utf8_cut(*v, s->m->max_len);
        route_warn(c->env, "%s%s%s cut to %u characters", s->m->keyword, from ? " from " : "",
                   from ? from : "", s->m->max_len);
    } else {
        route_warn(c->env, "%s%s%s left out: %zu characters, more than the %u DICOM allows",
                   s->m->keyword, from ? " from " : "", from ? from : "", len, s->m->max_len);
        *v = (rl_str){ "", 0 };
    }
    return 0;
}

/* Every attribute's value for the step into vals, every problem reported:
 * a refused order names all of them at once. A cancellation needs only the
 * key. Returns ROUTE_E_ACTION when one was refused. */
static int resolve_all(apply_ctx *c, const unit *u, bool removing, rl_str *vals)
{
    int rc = 0;
    for (size_t i = 0; i < c->t->nspecs; i++) {
        const wl_spec *s = &c->t->specs[i];
        rl_str v, bad;
        hl7_path at;
        const char *from;
        memset(&at, 0, sizeof at);
        resolve(c, s, u, &v, &from, &at, &bad);
        const hl7_path *where = from && strcmp(from, "constant") && strcmp(from, "default") ? &at
                                                                                          : NULL;
        int r = bad.p ? report_bad(c, s, v, bad, from, &at, removing) : 0;
        if (r)
            rc = r;
        if (!v.n && s->required) {
            if (!bad.p && !removing)
                rc = report_missing(c, s, u);
            continue;
        }
        r = fit_length(c, s, &v, from, where);
        if (r) {
            rc = r;
            continue;
        }
        vals[i] = v;
    }
    return rc;
}

/* A code sequence item only when it is complete (value, scheme and
 * meaning): a modality cannot use half a code. */
static void drop_partial_codes(apply_ctx *c, rl_str *vals)
{
    static const uint32_t code_seqs[2] = { WL_TAG(0x0032, 0x1064), WL_TAG(0x0040, 0x0008) };
    for (int q = 0; q < 2; q++) {
        int have = 0;
        for (size_t i = 0; i < c->t->nspecs; i++) {
            const wl_model_attr *m = c->t->specs[i].m;
            bool in = m->depth >= 2 && m->tags[m->depth - 2] == code_seqs[q] &&
                      strcmp(m->vr, "SQ") != 0;
            have += in && vals[i].n;
        }
        if (!have || have >= 3)
            continue;
        for (size_t i = 0; i < c->t->nspecs; i++) {
            const wl_model_attr *m = c->t->specs[i].m;
            if (m->depth >= 2 && m->tags[m->depth - 2] == code_seqs[q])
                vals[i] = (rl_str){ "", 0 };
        }
        route_warn(c->env, "%s left empty: its code lacks a %s", q ? "ScheduledProtocolCodeSequence"
                   : "RequestedProcedureCodeSequence", have == 2 ? "part (the coding scheme, "
                   "most often: map CodingSchemeDesignator)" : "value, scheme or meaning");
    }
}

/* The order's number: the accession, else the placer's. Procedure and step
 * IDs the RIS did not send are derived from it. */
static int derive_ids(apply_ctx *c, const unit *u, wl_entry *e)
{
    int rc = 0;
    rl_str ident = wl_top(e, WL_ACCESSION);
    if (!ident.n) {
        hl7_path p1 = { .seg = "ORC", .seg_idx = u->orc ? u->orc : 999999, .field = 2, .comp = 1 };
        hl7_path p2 = { .seg = "OBR", .seg_idx = u->obr ? u->obr : 999999, .field = 2, .comp = 1 };
        ident = get_at(c, p1);
        if (!ident.n)
            ident = get_at(c, p2);
        if (ident.n)
            route_warn(c->env, "no accession number (OBR-18, ORC-3 and OBR-3 are empty): the "
                       "entry is keyed by the placer order number");
        else
            rc = fail(c, HL7_ERR_REQUIRED_MISSING, NULL,
                      "the order has no number: OBR-18, ORC-3, OBR-3, ORC-2 and OBR-2 are empty");
    }
    if (!ident.n || (wl_top(e, WL_RP_ID).n && wl_sps(e, WL_SPS_ID).n))
        return rc;
    char id[RL_LO_SIZE];
    rl_str base = rl_utf8_chars(ident) > 16 ? (rl_str){ ident.p + ident.n - 16, 16 } : ident;
    if (c->nsteps > 1) /* several steps of one order: numbered */
        snprintf(id, sizeof id, "%.*s.%u", (int)(base.n > 12 ? 12 : base.n),
                 base.p + (base.n > 12 ? base.n - 12 : 0), c->step);
    else
        snprintf(id, sizeof id, "%.*s", (int)base.n, base.p);
    rl_str idv = keep(c, rl_str_c(id));
    uint32_t rp = WL_RP_ID, sp[2] = { WL_SPS_SEQ, WL_SPS_ID };
    if (!wl_top(e, WL_RP_ID).n)
        wl_set_attr(e, &rp, 1, idv);
    if (!wl_sps(e, WL_SPS_ID).n)
        wl_set_attr(e, sp, 2, idv);
    return rc;
}

/* The key a <station> rule looks up: the modality, the procedure code, or
 * the value at its path. */
static rl_str station_key(apply_ctx *c, const unit *u, const wl_entry *e,
                          const route_wl_station *st)
{
    if (st->by == ROUTE_STATION_MODALITY)
        return wl_sps(e, WL_MODALITY);
    if (st->by != ROUTE_STATION_PROCEDURE)
        return get_at(c, rebase(&st->path, u));
    uint32_t rc1[2] = { WL_TAG(0x0032, 0x1064), WL_TAG(0x0008, 0x0100) };
    uint32_t pc1[3] = { WL_SPS_SEQ, WL_TAG(0x0040, 0x0008), WL_TAG(0x0008, 0x0100) };
    const rl_str *k1 = wl_get_attr(e, rc1, 2), *k2 = wl_get_attr(e, pc1, 3);
    rl_str key = k1 && k1->n ? *k1 : k2 ? *k2 : (rl_str){ "", 0 };
    if (!key.n) { /* no complete code: the raw procedure code */
        hl7_path p4 = { .seg = "OBR", .seg_idx = u->obr ? u->obr : 999999, .field = 4, .comp = 1 };
        key = get_at(c, p4);
    }
    return key;
}

/* The station: OBR-21 (IPC-9), else the file's <station> rules. */
static void assign_station(apply_ctx *c, const unit *u, wl_entry *e)
{
    if (wl_sps(e, WL_STATION_AE).n)
        return;
    size_t nst = 0;
    const route_wl_station *st = route_wl_stations(c->env->rs, &nst);
    rl_str ae = { "", 0 };
    for (size_t i = 0; i < nst && !ae.n; i++) {
        rl_str key = station_key(c, u, e, &st[i]);
        const char *t = key.n && st[i].table >= 0
                            ? route_table_get(c->env->rs, st[i].table, key) : NULL;
        if (!t)
            t = st[i].deflt;
        if (t)
            ae = keep(c, rl_str_c(t));
    }
    uint32_t sa[2] = { WL_SPS_SEQ, WL_STATION_AE };
    if (ae.n)
        wl_set_attr(e, sa, 2, ae);
    else
        route_warn(c->env, "no station AE title (OBR-21 is empty and no <station> rule gave "
                   "one): modalities find this step by modality and date");
}

/* The step as an entry: its values, the derived IDs and the station. */
static int build_entry(apply_ctx *c, const unit *u, rl_str control, wl_entry *e)
{
    rl_str *vals = calloc(c->t->nspecs ? c->t->nspecs : 1, sizeof *vals);
    if (!vals)
        return fail(c, HL7_ERR_INTERNAL, NULL, "out of memory");
    int rc = resolve_all(c, u, is_cancel(control), vals);
    drop_partial_codes(c, vals);
    for (size_t i = 0; i < c->t->nspecs && !rc; i++)
        if (vals[i].n && wl_set_attr(e, c->t->specs[i].m->tags, c->t->specs[i].m->depth,
                                     vals[i]) != 0)
            rc = fail(c, HL7_ERR_INTERNAL, NULL, "too many attributes");
    free(vals);
    int r = derive_ids(c, u, e);
    if (r)
        rc = r;
    assign_station(c, u, e);
    return rc;
}

/* The step leaves the worklist (cancelled, or finished by its status). */
static int remove_step(apply_ctx *c, const unit *u, const wl_entry *e, rl_str key,
                       rl_str control, bool cancel, const char *what)
{
    route_env *env = c->env;
    int r = env->dry_run ? STORE_OK : wl_remove(env->txn, key, &env->store_err);
    if (r < 0)
        return ROUTE_E_STORE;
    if (r == STORE_NOTFOUND && cancel) { /* a completed step may be gone already */
        hl7_path orc1 = { .seg = "ORC", .seg_idx = u->orc, .field = 1 };
        return fail(c, HL7_ERR_UNKNOWN_KEY, &orc1, "%.*s for %s, which is not on the worklist",
                    (int)control.n, control.p, what);
    }
    if (c->trace)
        rl_buf_printf(c->trace, "      %.*s %s: %s\n", (int)control.n, control.p, what,
                      env->dry_run ? "would leave the worklist" : "removed");
    return r == STORE_OK ? audit_order(c, e, 'D') : 0;
}

/* What a step on the worklist always carries: its Study Instance UID (from
 * the order, else made from its identity), its status and the type 2
 * sequences of the MWL identifier. */
static void complete_entry(apply_ctx *c, wl_entry *e, rl_str status)
{
    route_env *env = c->env;
    if (!wl_top(e, WL_STUDY_UID).n) {
        hl7_path fac = { .seg = "MSH", .seg_idx = 1, .field = 4, .comp = 1 };
        uint32_t tag = WL_STUDY_UID;
        char uid[RL_UID_SIZE];
        wl_order_uid(get_at(c, fac), wl_top(e, WL_ACCESSION), wl_top(e, WL_RP_ID), uid);
        wl_set_attr(e, &tag, 1, keep(c, rl_str_c(uid)));
    }
    uint32_t st[2] = { WL_SPS_SEQ, WL_SPS_STATUS };
    rl_str sstat = status.n == 2 && !memcmp(status.p, "IP", 2) ? RL_STR("STARTED")
                                                               : RL_STR("SCHEDULED");
    if (!wl_sps(e, WL_SPS_STATUS).n)
        wl_set_attr(e, st, 2, sstat);
    uint32_t rs = WL_TAG(0x0008, 0x1110), rp = WL_TAG(0x0008, 0x1120);
    wl_set_attr(e, &rs, 1, (rl_str){ "", 0 });
    wl_set_attr(e, &rp, 1, (rl_str){ "", 0 });
    e->updated_us = env->now_us;
    e->created_us = env->now_us;
    e->msg_seq = env->msg_seq;
}

/* Write the entry (keeping an older one's creation time), reconcile the
 * studies that came before their order, and audit it. *existed says whether
 * it replaced one. */
static int write_step(apply_ctx *c, wl_entry *e, rl_str key, bool *existed)
{
    route_env *env = c->env;
    *existed = false;
    if (env->dry_run)
        return 0;
    wl_entry *old = malloc(sizeof *old);
    if (!old)
        return fail(c, HL7_ERR_INTERNAL, NULL, "out of memory");
    int g = wl_get(env->txn, key, old, &env->store_err);
    if (g == STORE_OK) {
        *existed = true;
        e->created_us = old->created_us;
    }
    free(old);
    if (g < 0 || wl_put(env->txn, e, &env->store_err) != STORE_OK)
        return ROUTE_E_STORE;
    unsigned found = 0; /* images may have come before their order */
    if (recon_new_order(env->txn, wl_top(e, WL_ACCESSION), wl_top(e, WL_PATIENT_ID), &found,
                        &env->store_err) != STORE_OK)
        return ROUTE_E_STORE;
    if (found && c->trace)
        rl_buf_printf(c->trace, "      %u stud%s received before this order now matched\n",
                      found, found == 1 ? "y" : "ies");
    return audit_order(c, e, *existed ? 'U' : 'C') != 0 ? ROUTE_E_STORE : 0;
}

static void trace_written(apply_ctx *c, const wl_entry *e, rl_str control, const char *what,
                          bool existed)
{
    rl_str mod = wl_sps(e, WL_MODALITY), ae = wl_sps(e, WL_STATION_AE),
           d = wl_sps(e, WL_SPS_DATE), t = wl_sps(e, WL_SPS_TIME);
    rl_buf_printf(c->trace, "      %.*s %s: %s (%.*s at %.*s, %.*s %.*s, %zu attributes)\n",
                  (int)control.n, control.p, what,
                  c->env->dry_run ? "would be written" : existed ? "replaced" : "created",
                  (int)mod.n, mod.p, (int)ae.n, ae.p, (int)d.n, d.p, (int)t.n, t.p, e->n);
}

/* One Scheduled Procedure Step of the order: built as an entry, then
 * removed from the worklist or written to it as ORC-1 and the status say. */
static int apply_step(apply_ctx *c, const unit *u, rl_str control, wl_entry *e)
{
    int rc = build_entry(c, u, control, e);
    if (rc)
        return rc;
    rl_str acc = wl_top(e, WL_ACCESSION), rpid = wl_top(e, WL_RP_ID), spsid = wl_sps(e, WL_SPS_ID);
    char kb[WL_KEY_MAX];
    rl_str key = { kb, wl_key_of(e, kb, sizeof kb) };
    char what[RL_WL_STEP_IDS_TEXT];
    snprintf(what, sizeof what, "accession %.*s procedure %.*s step %.*s", (int)acc.n, acc.p,
             (int)rpid.n, rpid.p, (int)spsid.n, spsid.p);
    rl_str status;
    bool done = finished(c, u, &status), cancel = is_cancel(control);
    if (cancel || done)
        return remove_step(c, u, e, key, control, cancel, what);
    complete_entry(c, e, status);
    bool existed;
    rc = write_step(c, e, key, &existed);
    if (rc)
        return rc;
    if (c->trace)
        trace_written(c, e, control, what, existed);
    return 0;
}

static int apply_unit(apply_ctx *c, const unit *u, rl_str control)
{
    int rc = check_control(c, u, control);
    if (rc)
        return rc;
    wl_entry *e = calloc(1, sizeof *e);
    if (!e)
        return fail(c, HL7_ERR_INTERNAL, NULL, "out of memory");
    rc = apply_step(c, u, control, e);
    free(e);
    return rc;
}

int wl_hook(route_env *env, hl7_msg *m, rl_buf *trace)
{
    apply_ctx *c = calloc(1, sizeof *c);
    if (!c) {
        snprintf(env->fail_text, sizeof env->fail_text, "worklist: out of memory");
        return ROUTE_E_ACTION;
    }
    c->env = env;
    c->m = m;
    c->trace = trace;
    c->pid_rep = -1;
    rl_arena_init(&c->arena, 8192, 0);
    hl7_path t1 = { .seg = "MSH", .seg_idx = 1, .field = 9, .comp = 1 };
    hl7_path t2 = { .seg = "MSH", .seg_idx = 1, .field = 9, .comp = 2 };
    rl_str type = get_at(c, t1), trig = get_at(c, t2);
    int rc = 0;
    if (rl_str_eq(type, RL_STR("OMI")) && rl_str_eq(trig, RL_STR("O23")))
        c->omi = true;
    else if (!(rl_str_eq(type, RL_STR("ORM")) && rl_str_eq(trig, RL_STR("O01"))))
        rc = fail(c, HL7_ERR_UNSUPPORTED_EVENT, &t1, "takes ORM^O01 or OMI^O23, not %.*s^%.*s",
                  (int)type.n, type.p, (int)trig.n, trig.p);
    if (!rc && !(c->t = wl_specs_for(env->rs, c->omi)))
        rc = fail(c, HL7_ERR_INTERNAL, NULL, "out of memory");
    /* Walk the segments: ORC opens an order group; in an ORM each OBR is a
     * step, in an OMI each IPC under an OBR is. An OMI without IPC (many
     * RIS send one) is read like an ORM: each OBR is a step. */
    unsigned n_ipc_all = 0, n_obr_all = 0;
    for (size_t i = 1; i < m->nsegs; i++) {
        n_ipc_all += hl7_seg_is(m->segs[i], "IPC");
        n_obr_all += hl7_seg_is(m->segs[i], "OBR");
    }
    bool by_ipc = c->omi && n_ipc_all > 0;
    c->nsteps = by_ipc ? n_ipc_all : n_obr_all;
    unit u = { 0 };
    unsigned n_orc = 0, n_obr = 0, n_zds = 0, n_ipc = 0, n_tq1 = 0, steps = 0;
    rl_str control = { "", 0 };
    for (size_t i = 1; !rc && i <= m->nsegs; i++) {
        rl_str seg = i < m->nsegs ? m->segs[i] : (rl_str){ "END", 3 };
        bool end = i == m->nsegs;
        if (hl7_seg_is(seg, "ZDS")) {
            u.zds = ++n_zds;
            continue;
        }
        /* an ORM step is complete when the next OBR, ORC or the end comes */
        if (!by_ipc && u.obr && (end || hl7_seg_is(seg, "OBR") || hl7_seg_is(seg, "ORC"))) {
            c->step = steps + 1;
            rc = apply_unit(c, &u, control);
            steps++;
            u.obr = 0;
            u.zds = 0;
        }
        if (end)
            break;
        if (hl7_seg_is(seg, "ORC")) {
            u = (unit){ .orc = ++n_orc };
            hl7_path p = { .seg = "ORC", .seg_idx = n_orc, .field = 1 };
            control = get_at(c, p);
        } else if (hl7_seg_is(seg, "TQ1")) {
            u.tq1 = ++n_tq1;
        } else if (hl7_seg_is(seg, "OBR")) {
            u.obr = ++n_obr;
            u.zds = 0;
        } else if (hl7_seg_is(seg, "IPC") && by_ipc) {
            u.ipc = ++n_ipc;
            c->step = steps + 1;
            rc = apply_unit(c, &u, control);
            steps++;
        }
    }
    if (!rc && steps == 0)
        rc = fail(c, HL7_ERR_REQUIRED_MISSING, NULL, "the order has no OBR segment%s",
                  n_orc ? "" : " (and no ORC)");
    rl_arena_free(&c->arena);
    free(c);
    return rc;
}
