/* The `patient` route action: ADT updates and merges (radlink/patient.h). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "radlink/log.h"
#include "radlink/audit.h"
#include "radlink/patient.h"
#include "radlink/patient_id.h"
#include "radlink/rec.h"
#include "radlink/recon.h"
#include "radlink/study.h"
#include "radlink/wl.h"
#include "radlink/wl_hl7.h"

#define PATIENT_VERSION 1

typedef struct ident {
    char id[RL_PATIENT_ID_SIZE], issuer[RL_PATIENT_ID_SIZE];
} ident;

typedef struct adt {
    route_env *env;
    hl7_msg *m;
    rl_buf *trace;
    char event[RL_HL7_CODE_SIZE];
    ident who, prior;
    char name[RL_PATIENT_NAME_SIZE], birth[RL_DATE_TEXT_MAX], sex[sizeof "O"];
    unsigned wl_changed, studies;
} adt;

static int fail(adt *a, int code, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int fail(adt *a, int code, const char *field, const char *fmt, ...)
{
    hl7_path at;
    rl_err err;
    bool has_at = field && hl7_path_parse(rl_str_c(field), &at, &err) == HL7_OK;
    va_list ap;
    va_start(ap, fmt);
    int rc = route_failv(a->env, code, has_at ? &at : NULL, "patient", fmt, ap);
    va_end(ap);
    return rc;
}

static void get(adt *a, const char *path, char *out, size_t n)
{
    hl7_path p;
    rl_err err;
    rl_str v;
    out[0] = '\0';
    if (hl7_path_parse(rl_str_c(path), &p, &err) == HL7_OK && hl7_get(a->m, &p, &v, &err) ==
                                                                   HL7_VALUE)
        snprintf(out, n, "%.*s", (int)(v.n < n ? v.n : n - 1), v.p);
}

static size_t key_of(const ident *w, char *out, size_t n)
{
    return (size_t)snprintf(out, n, "%s%c%s", w->issuer, 0, w->id);
}

int patient_get(store_txn *t, rl_str issuer, rl_str id, patient_rec *out, rl_err *err)
{
    char k[RL_ID_KEY_MAX];
    if (issuer.n + id.n + 2 > sizeof k)
        return STORE_NOTFOUND;
    memcpy(k, issuer.p, issuer.n);
    k[issuer.n] = '\0';
    memcpy(k + issuer.n + 1, id.p, id.n);
    rl_str v;
    int rc = store_get(t, STORE_PATIENT, (rl_str){ k, issuer.n + 1 + id.n }, &v, err);
    if (rc)
        return rc;
    rec_reader r;
    rec_reader_init(&r, v.p, v.n);
    if (rec_get_u8(&r) != PATIENT_VERSION)
        return rl_err_set(err, STORE_E_VERSION, -1, "patient record version");
    out->updated_us = (int64_t)rec_get_u64(&r);
    out->msg_seq = rec_get_u64(&r);
    out->name = rec_get_str(&r);
    out->birth = rec_get_str(&r);
    out->sex = rec_get_str(&r);
    out->merged_into = rec_get_str(&r);
    return rec_ok(&r) ? STORE_OK : rl_err_set(err, STORE_E_CORRUPT, -1, "patient record");
}

static int put_patient(adt *a, const ident *w, rl_str merged_into)
{
    char k[RL_ID_KEY_MAX];
    size_t kn = key_of(w, k, sizeof k);
    rl_buf b;
    rl_buf_init(&b, 0);
    rec_put_u8(&b, PATIENT_VERSION);
    rec_put_u64(&b, (uint64_t)a->env->now_us);
    rec_put_u64(&b, a->env->msg_seq);
    rec_put_cstr(&b, a->name);
    rec_put_cstr(&b, a->birth);
    rec_put_cstr(&b, a->sex);
    rec_put_str(&b, merged_into);
    int rc = store_put(a->env->txn, STORE_PATIENT, (rl_str){ k, kn }, rl_buf_view(&b), 0,
                       &a->env->store_err);
    rl_buf_free(&b);
    return rc;
}

/* ---- worklist entries and studies of an identity ---- */

typedef struct keys {
    char (*k)[WL_KEY_MAX];
    size_t *n;
    size_t count, cap;
    const char *issuer;
    bool oom; /* the list stopped short: out of memory */
} keys;

static int add_key(keys *ks, rl_str v)
{
    if (ks->count == ks->cap) {
        size_t cap = ks->cap ? ks->cap * 2 : 16;
        void *nk = realloc(ks->k, cap * sizeof *ks->k), *nn = realloc(ks->n, cap * sizeof *ks->n);
        if (nk)
            ks->k = nk;
        if (nn)
            ks->n = nn;
        if (!nk || !nn) {
            ks->oom = true;
            return 1;
        }
        ks->cap = cap;
    }
    size_t n = v.n < WL_KEY_MAX ? v.n : WL_KEY_MAX;
    ks->n[ks->count] = n;
    memcpy(ks->k[ks->count], v.p, n);
    ks->count++;
    return 0;
}

static int take_entry(void *ctx, rl_str key, const wl_entry *e)
{
    keys *ks = ctx;
    rl_str iss = wl_top(e, WL_TAG(0x0010, 0x0021));
    /* another issuer's patient with the same number is someone else */
    if (ks->issuer[0] && iss.n && !rl_str_eq(iss, rl_str_c(ks->issuer)))
        return 0;
    return add_key(ks, key);
}

static int take_study(void *ctx, rl_str uid)
{
    return add_key(ctx, uid);
}

/* Rewrite the worklist entries of `from` with the patient's data (and the
 * surviving identity). */
static int update_entries(adt *a, const ident *from)
{
    route_env *env = a->env;
    keys ks = { .issuer = from->issuer };
    rl_err *err = &env->store_err;
    int rc = wl_scan(env->txn, 'P', rl_str_c(from->id), rl_str_c(from->id), take_entry, &ks, err);
    if (rc == STORE_OK && ks.oom)
        rc = rl_err_set(err, RL_E_NOMEM, -1, "out of memory");
    wl_entry *e = malloc(sizeof *e);
    rl_arena ar;
    rl_arena_init(&ar, 4096, 0);
    /* out of memory is said, not skipped: the transaction aborts and the
     * sender gets an error ACK, rather than entries left with the old patient */
    if (rc == STORE_OK && !e)
        rc = rl_err_set(err, RL_E_NOMEM, -1, "out of memory");
    for (size_t i = 0; rc == STORE_OK && i < ks.count; i++) {
        rc = wl_get(env->txn, (rl_str){ ks.k[i], ks.n[i] }, e, err);
        if (rc == STORE_NOTFOUND) {
            rc = STORE_OK;
            continue;
        }
        if (rc == STORE_OK && wl_entry_own(e, &ar) != 0)
            rc = rl_err_set(err, RL_E_NOMEM, -1, "out of memory");
        if (rc)
            break;
        uint32_t t;
        t = WL_PATIENT_ID, wl_set_attr(e, &t, 1, rl_str_c(a->who.id));
        if (a->who.issuer[0])
            t = WL_TAG(0x0010, 0x0021), wl_set_attr(e, &t, 1, rl_str_c(a->who.issuer));
        if (a->name[0])
            t = WL_PATIENT_NAME, wl_set_attr(e, &t, 1, rl_str_c(a->name));
        if (a->birth[0])
            t = WL_TAG(0x0010, 0x0030), wl_set_attr(e, &t, 1, rl_str_c(a->birth));
        if (a->sex[0])
            t = WL_TAG(0x0010, 0x0040), wl_set_attr(e, &t, 1, rl_str_c(a->sex));
        e->updated_us = env->now_us;
        e->msg_seq = env->msg_seq;
        rc = wl_put(env->txn, e, err);
        a->wl_changed++;
    }
    rl_arena_free(&ar);
    free(e);
    free(ks.k);
    free(ks.n);
    return rc;
}

/* Is the study someone of this issuer's (an issuer missing on either side
 * does not tell them apart)? */
static bool same_issuer(const study_rec *s, const ident *of)
{
    rl_str iss = s->f[STUDY_F_ISSUER];
    return !iss.n || !of->issuer[0] || rl_str_eq(iss, rl_str_c(of->issuer));
}

/* Reconcile the stored studies of an identity again; after a merge, a study
 * no order claims is moved to the surviving identity. */
static int recheck_studies(adt *a, const ident *of, bool merged)
{
    keys ks = { .issuer = "" };
    rl_err *err = &a->env->store_err;
    int rc = study_index_each(a->env->txn, 'P', rl_str_c(of->id), take_study, &ks, err);
    if (rc == STORE_OK && ks.oom)
        rc = rl_err_set(err, RL_E_NOMEM, -1, "out of memory");
    for (size_t i = 0; rc == STORE_OK && i < ks.count; i++) {
        recon_out out;
        study_rec s;
        rl_str uid = { ks.k[i], ks.n[i] };
        rc = study_get(a->env->txn, uid, &s, err);
        if (rc)
            break;
        if (!same_issuer(&s, of))
            continue;
        char key[WL_KEY_MAX];
        size_t kn = s.matched.n < sizeof key ? s.matched.n : sizeof key;
        memcpy(key, s.matched.p, kn);
        rl_str lk = { key, kn };
        rc = recon_study(a->env->txn, uid, kn ? &lk : NULL, &out, err);
        if (rc == STORE_NOTFOUND && kn)
            rc = recon_study(a->env->txn, uid, NULL, &out, err);
        if (rc == STORE_OK && merged && out.state == RECON_UNMATCHED) {
            /* a merged study that no order claims takes the surviving identity */
            recon_identity who = { a->who.id, a->who.issuer, a->name, a->birth, a->sex };
            rc = recon_move(a->env->txn, uid, &who, &out, err);
        }
        if (rc == STORE_OK)
            rc = recon_schedule(a->env->txn, uid, &out, a->env->now_us, err);
        a->studies++;
        if (a->trace)
            rl_buf_printf(a->trace, "      study %.*s: %s, %u discrepanc%s\n", (int)uid.n, uid.p,
                          recon_state_name(out.state), out.discrepancies,
                          out.discrepancies == 1 ? "y" : "ies");
    }
    free(ks.k);
    free(ks.n);
    return rc;
}

static int known(adt *a, const ident *w, bool *yes)
{
    patient_rec p;
    rl_err *err = &a->env->store_err;
    int rc = patient_get(a->env->txn, rl_str_c(w->issuer), rl_str_c(w->id), &p, err);
    *yes = rc == STORE_OK;
    if (rc < 0 || *yes)
        return rc < 0 ? rc : STORE_OK;
    keys ks = { .issuer = w->issuer };
    rc = wl_scan(a->env->txn, 'P', rl_str_c(w->id), rl_str_c(w->id), take_entry, &ks, err);
    if (rc == STORE_OK && ks.oom)
        rc = rl_err_set(err, RL_E_NOMEM, -1, "out of memory");
    *yes = ks.count > 0;
    free(ks.k);
    free(ks.n);
    if (rc || *yes)
        return rc;
    keys ss = { .issuer = "" };
    rc = study_index_each(a->env->txn, 'P', rl_str_c(w->id), take_study, &ss, err);
    if (rc == STORE_OK && ss.oom)
        rc = rl_err_set(err, RL_E_NOMEM, -1, "out of memory");
    *yes = false;
    for (size_t i = 0; rc == STORE_OK && i < ss.count && !*yes; i++) {
        study_rec s;
        if (study_get(a->env->txn, (rl_str){ ss.k[i], ss.n[i] }, &s, err) == STORE_OK)
            *yes = same_issuer(&s, w);
    }
    free(ss.k);
    free(ss.n);
    return rc;
}

/* The ADT to every PACS with update="hl7", through its destination. */
static int forward_to_pacs(adt *a, unsigned *n)
{
    recon_policy p;
    recon_policy_load(a->env->txn, &p);
    size_t nd;
    const route_dest *d = route_dests(a->env->rs, &nd);
    for (unsigned i = 0; i < p.n_pacs; i++) {
        if (p.pacs[i].update != PACS_UPDATE_HL7)
            continue;
        const route_dest *to = NULL;
        for (size_t k = 0; k < nd && !to; k++)
            if (!strcmp(d[k].name, p.pacs[i].hl7_dest))
                to = &d[k];
        if (!to)
            return fail(a, HL7_ERR_INTERNAL, NULL, "the PACS's HL7 destination '%s' is not "
                        "defined", p.pacs[i].hl7_dest);
        int rc = route_forward(a->env, to, a->m);
        if (rc != ROUTE_OK)
            return rc;
        (*n)++;
    }
    return ROUTE_OK;
}

/* Patient Record (PS3.15 A.5.3.12) for w, in the message's transaction. */
static int audit_patient(adt *a, const ident *w, const char *name, char action)
{
    char app[RL_LO_SIZE], fac[RL_LO_SIZE], user[RL_AUDIT_USER_SIZE], addr[RL_PEER_TEXT_MAX];
    get(a, "MSH-3.1", app, sizeof app);
    get(a, "MSH-4.1", fac, sizeof fac);
    snprintf(user, sizeof user, "%s|%s", app, fac);
    audit_event ev = { .kind = AUDIT_PATIENT, .action = action, .time_us = a->env->now_us,
                       .patient_id = w->id, .patient_name = name };
    audit_received_from(&ev, user, a->env->peer, addr, sizeof addr);
    return audit_record(a->env->txn, &ev, &a->env->store_err) == STORE_OK ? ROUTE_OK
                                                                          : ROUTE_E_STORE;
}

/* The event (MSH-9, else EVN-1): an update (A01 A04 A05 A08 A28 A31) or a
 * merge (A40 A47 A34); anything else is AE. */
static int read_event(adt *a, bool *merge)
{
    char type[RL_HL7_CODE_SIZE];
    get(a, "MSH-9.1", type, sizeof type);
    get(a, "MSH-9.2", a->event, sizeof a->event);
    if (!a->event[0])
        get(a, "EVN-1", a->event, sizeof a->event);
    static const char *const updates[] = { "A01", "A04", "A05", "A08", "A28", "A31" };
    static const char *const merges[] = { "A40", "A47", "A34" };
    bool update = false;
    *merge = false;
    for (size_t i = 0; i < sizeof updates / sizeof *updates; i++)
        update |= strcmp(a->event, updates[i]) == 0;
    for (size_t i = 0; i < sizeof merges / sizeof *merges; i++)
        *merge |= strcmp(a->event, merges[i]) == 0;
    if (strcmp(type, "ADT") != 0 || (!update && !*merge))
        return fail(a, HL7_ERR_UNSUPPORTED_EVENT, "MSH-9",
                    "takes ADT A01, A04, A05, A08, A28, A31, A34, A40 or A47, not %s^%s", type,
                    a->event);
    return ROUTE_OK;
}

/* The patient: PID-3's repetition the rule picks, else PID-2. */
static void read_who(adt *a, const route_patient_id *rule)
{
    char path[RL_HL7_PATH_TEXT];
    unsigned rep = patient_id_rep(a->m, "PID", 3, rule);
    snprintf(path, sizeof path, "PID-3[%u].1", rep);
    get(a, rep ? path : "PID-2.1", a->who.id, sizeof a->who.id);
    snprintf(path, sizeof path, "PID-3[%u].4.1", rep);
    get(a, rep ? path : "PID-2.4.1", a->who.issuer, sizeof a->who.issuer);
}

/* Name (PID-5 as a DICOM PN), birth date (PID-7's date) and sex (PID-8). */
static void read_demographics(adt *a)
{
    rl_buf nb;
    rl_buf_init(&nb, 0);
    hl7_path p;
    rl_err err;
    if (hl7_path_parse(RL_STR("PID-5"), &p, &err) == HL7_OK)
        wl_hl7_pn(a->m, p, &nb);
    snprintf(a->name, sizeof a->name, "%.*s",
             (int)(nb.len < sizeof a->name - 1 ? nb.len : sizeof a->name - 1),
             nb.data ? nb.data : "");
    rl_buf_free(&nb);
    char b[sizeof "YYYYMMDDHHMMSS.SSSS+ZZZZ"], s[RL_HL7_CODE_SIZE];
    get(a, "PID-7", b, sizeof b);
    if (strlen(b) >= 8)
        snprintf(a->birth, sizeof a->birth, "%.8s", b);
    get(a, "PID-8", s, sizeof s);
    if (s[0])
        snprintf(a->sex, sizeof a->sex, "%.*s", (int)wl_hl7_sex(rl_str_c(s)).n,
                 wl_hl7_sex(rl_str_c(s)).p);
}

/* A merge's prior identity (MRG-1's repetition the rule picks; its issuer,
 * else the surviving one's): required, and not the surviving patient. */
static int read_prior(adt *a, const route_patient_id *rule)
{
    char path[RL_HL7_PATH_TEXT];
    unsigned mrep = patient_id_rep(a->m, "MRG", 1, rule);
    snprintf(path, sizeof path, "MRG-1[%u].1", mrep ? mrep : 1);
    get(a, path, a->prior.id, sizeof a->prior.id);
    snprintf(path, sizeof path, "MRG-1[%u].4.1", mrep ? mrep : 1);
    get(a, path, a->prior.issuer, sizeof a->prior.issuer);
    if (!a->prior.issuer[0])
        snprintf(a->prior.issuer, sizeof a->prior.issuer, "%s", a->who.issuer);
    if (!a->prior.id[0])
        return fail(a, HL7_ERR_REQUIRED_MISSING, "MRG-1", "%s needs the prior patient ID in "
                    "MRG-1", a->event);
    if (!strcmp(a->prior.id, a->who.id) && !strcmp(a->prior.issuer, a->who.issuer))
        return fail(a, HL7_ERR_DATA_TYPE, "MRG-1", "MRG-1 names the same patient as PID-3");
    return ROUTE_OK;
}

/* A prior patient radlink has never seen: AE when the rule refuses it, else
 * the merge is kept with a warning. */
static int check_prior(adt *a, const route_patient_id *rule)
{
    bool yes;
    if (known(a, &a->prior, &yes) < 0)
        return ROUTE_E_STORE;
    if (!yes && rule->refuse_unknown_prior)
        return fail(a, HL7_ERR_UNKNOWN_KEY, "MRG-1",
                    "%s: prior patient %s%s%s is not known (no ADT, order or study): nothing "
                    "changed", a->event, a->prior.id, a->prior.issuer[0] ? " of " : "",
                    a->prior.issuer);
    if (!yes) /* at go-live every merge names an older patient: record it */
        route_warn(a->env, "%s: prior patient %s%s%s was not known: the surviving patient is "
                   "recorded and the merge kept", a->event, a->prior.id,
                   a->prior.issuer[0] ? " of " : "", a->prior.issuer);
    return ROUTE_OK;
}

/* Everything the message says, checked; nothing written yet. */
static int read_adt(adt *a, const route_patient_id *rule, bool *merge)
{
    int rc = read_event(a, merge);
    read_who(a, rule);
    if (rc == ROUTE_OK && !a->who.id[0])
        rc = fail(a, HL7_ERR_REQUIRED_MISSING, "PID-3", "no patient ID: PID-3 and PID-2 are "
                  "empty");
    if (rc == ROUTE_OK)
        read_demographics(a);
    if (rc == ROUTE_OK && *merge)
        rc = read_prior(a, rule);
    if (rc == ROUTE_OK && *merge && !a->env->dry_run)
        rc = check_prior(a, rule);
    return rc;
}

/* A merge: the prior record keeps its data and says where it went; its
 * worklist entries and studies move to the surviving identity. */
static int store_prior(adt *a)
{
    route_env *env = a->env;
    char into[RL_ID_KEY_MAX];
    size_t n = key_of(&a->who, into, sizeof into);
    char save_name[sizeof a->name], save_birth[sizeof a->birth], save_sex[sizeof a->sex];
    patient_rec old;
    snprintf(save_name, sizeof save_name, "%s", a->name);
    snprintf(save_birth, sizeof save_birth, "%s", a->birth);
    snprintf(save_sex, sizeof save_sex, "%s", a->sex);
    if (patient_get(env->txn, rl_str_c(a->prior.issuer), rl_str_c(a->prior.id), &old,
                    &env->store_err) == STORE_OK) {
        snprintf(a->name, sizeof a->name, "%.*s", RL_STR_FMT(old.name));
        snprintf(a->birth, sizeof a->birth, "%.*s", RL_STR_FMT(old.birth));
        snprintf(a->sex, sizeof a->sex, "%.*s", RL_STR_FMT(old.sex));
    }
    int rc = put_patient(a, &a->prior, (rl_str){ into, n }) != STORE_OK ? ROUTE_E_STORE
                                                                         : ROUTE_OK;
    snprintf(a->name, sizeof a->name, "%s", save_name);
    snprintf(a->birth, sizeof a->birth, "%s", save_birth);
    snprintf(a->sex, sizeof a->sex, "%s", save_sex);
    if (rc == ROUTE_OK && update_entries(a, &a->prior) != STORE_OK)
        rc = ROUTE_E_STORE;
    if (rc == ROUTE_OK && recheck_studies(a, &a->prior, true) != STORE_OK)
        rc = ROUTE_E_STORE;
    return rc;
}

/* In the message's transaction: the audit events, the patient record (and
 * a merge's prior one), the worklist entries and the studies again. */
static int store_adt(adt *a, bool merge)
{
    route_env *env = a->env;
    patient_rec had;
    int g = patient_get(env->txn, rl_str_c(a->who.issuer), rl_str_c(a->who.id), &had,
                        &env->store_err);
    if (g < 0 || audit_patient(a, &a->who, a->name, g == STORE_OK ? 'U' : 'C') != ROUTE_OK ||
        (merge && audit_patient(a, &a->prior, "", 'D') != ROUTE_OK))
        return ROUTE_E_STORE;
    if (put_patient(a, &a->who, (rl_str){ "", 0 }) != STORE_OK)
        return ROUTE_E_STORE;
    if (merge && store_prior(a) != ROUTE_OK)
        return ROUTE_E_STORE;
    if (update_entries(a, &a->who) != STORE_OK)
        return ROUTE_E_STORE;
    if (recheck_studies(a, &a->who, false) != STORE_OK)
        return ROUTE_E_STORE;
    return ROUTE_OK;
}

static void trace_adt(const adt *a, bool merge, unsigned to_pacs)
{
    rl_buf *trace = a->trace;
    if (merge)
        rl_buf_printf(trace, "      %s: patient %s%s%s merged into %s%s%s", a->event,
                      a->prior.id, a->prior.issuer[0] ? "/" : "", a->prior.issuer, a->who.id,
                      a->who.issuer[0] ? "/" : "", a->who.issuer);
    else
        rl_buf_printf(trace, "      %s: patient %s%s%s (%s, %s, %s)", a->event, a->who.id,
                      a->who.issuer[0] ? "/" : "", a->who.issuer, a->name, a->birth, a->sex);
    if (a->env->dry_run)
        rl_buf_add_c(trace, ": would be written\n");
    else
        rl_buf_printf(trace, ": %u worklist entr%s updated, %u stud%s reconciled again\n",
                      a->wl_changed, a->wl_changed == 1 ? "y" : "ies", a->studies,
                      a->studies == 1 ? "y" : "ies");
    if (to_pacs)
        rl_buf_printf(trace, "      forwarded to %u PACS HL7 listener%s (update=\"hl7\")\n",
                      to_pacs, to_pacs == 1 ? "" : "s");
}

int patient_hook(route_env *env, hl7_msg *m, rl_buf *trace)
{
    adt *a = calloc(1, sizeof *a);
    if (!a)
        return ROUTE_E_STORE;
    a->env = env;
    a->m = m;
    a->trace = trace;
    bool merge;
    int rc = read_adt(a, route_patient(env->rs), &merge);
    if (rc == ROUTE_OK && !env->dry_run)
        rc = store_adt(a, merge);
    /* IHE PIR: a PACS that takes patient updates as HL7 gets this one (the
     * images it holds are then not sent again) */
    unsigned to_pacs = 0;
    bool pir = !strcmp(a->event, "A08") || !strcmp(a->event, "A40") || !strcmp(a->event, "A47");
    if (rc == ROUTE_OK && !env->dry_run && pir && a->studies)
        rc = forward_to_pacs(a, &to_pacs);
    if (rc == ROUTE_OK && trace)
        trace_adt(a, merge, to_pacs);
    free(a);
    return rc;
}
