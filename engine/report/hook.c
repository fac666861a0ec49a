/* The `report` route action (radlink/report.h): an ORU^R01 or MDM^T02 read
 * into a report, linked to its study, or kept waiting for it. A message
 * that cannot be made a report is refused with AE and the reason. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "radlink/err.h"
#include "radlink/hl7.h"
#include "radlink/mpps.h"
#include "radlink/patient_id.h"
#include "radlink/report.h"
#include "radlink/route.h"
#include "radlink/store.h"
#include "radlink/study.h"
#include "radlink/wl.h"

static int first_uid(void *ctx, rl_str uid)
{
    snprintf(ctx, RL_UID_SIZE, "%.*s", (int)uid.n, uid.p);
    return 1;
}

/* The order radlink holds for the report: its worklist entries by
 * accession (the first one's Study Instance UID, which the modality was
 * told to use). */
typedef struct order {
    unsigned entries;
    char study_uid[RL_UID_SIZE];
} order;

static int take_entry(void *ctx, rl_str key, const wl_entry *e)
{
    (void)key;
    order *o = ctx;
    rl_str uid = wl_top(e, WL_STUDY_UID);
    if (!o->entries++)
        snprintf(o->study_uid, sizeof o->study_uid, "%.*s", (int)uid.n, uid.p);
    return 0;
}

static int study_exists(route_env *env, const char *uid, bool *yes)
{
    study_rec s;
    int rc = study_get(env->txn, rl_str_c(uid), &s, &env->store_err);
    *yes = rc == STORE_OK;
    return rc == STORE_NOTFOUND ? STORE_OK : rc;
}

/* The study the report is for: its Study Instance UID when radlink holds
 * that study, else a study of its accession, else the study its order
 * fixed; "" when none yet. o gets the order. */
static int find_study(route_env *env, const report *r, char study[RL_UID_SIZE], order *o)
{
    study[0] = '\0';
    memset(o, 0, sizeof *o);
    if (!env->txn)
        return STORE_OK;
    bool yes = false;
    int rc = STORE_OK;
    if (r->study_uid[0] && (rc = study_exists(env, r->study_uid, &yes)) == STORE_OK && yes)
        snprintf(study, RL_UID_SIZE, "%s", r->study_uid);
    if (rc != STORE_OK || !r->accession[0])
        return rc;
    rl_str acc = rl_str_c(r->accession);
    rc = wl_scan(env->txn, 'A', acc, acc, take_entry, o, &env->store_err);
    if (rc == STORE_OK && !study[0])
        rc = study_index_each(env->txn, 'A', acc, first_uid, study, &env->store_err);
    if (rc == STORE_OK && !study[0] && o->study_uid[0] &&
        (rc = study_exists(env, o->study_uid, &yes)) == STORE_OK && yes)
        snprintf(study, RL_UID_SIZE, "%s", o->study_uid);
    return rc;
}

/* The refusal: the reason in the ERR segment, the field blamed by code. */
static int refuse(route_env *env, const rl_err *err)
{
    env->fail_errcode = strstr(err->msg, "OBR-25") ? HL7_ERR_TABLE_VALUE
                        : strstr(err->msg, "no ") == err->msg ? HL7_ERR_REQUIRED_MISSING
                                                              : HL7_ERR_DATA_TYPE;
    snprintf(env->fail_text, sizeof env->fail_text, "report: %.*s",
             (int)sizeof env->fail_text - 9, err->msg);
    return ROUTE_E_ACTION;
}

static const char *status_name(report_status s)
{
    return s == REPORT_PRELIMINARY ? "preliminary" : s == REPORT_CORRECTED ? "corrected" : "final";
}

static void trace_report(rl_buf *trace, const report *r, const char *study, const order *o,
                         const route_report_opts *opt)
{
    if (!trace)
        return;
    rl_buf_printf(trace, "      accession %s, %s, %zu text%s in %zu section%s%s\n",
                  r->accession[0] ? r->accession : "(none)", status_name(r->status),
                  r->ntexts, r->ntexts == 1 ? "" : "s", r->nsections,
                  r->nsections == 1 ? "" : "s", r->pdf.n ? ", a PDF" : "");
    bool sr = r->ntexts && !(r->pdf.n && opt->pdf_only);
    rl_buf_printf(trace, "      makes %s%s%s\n",
                  !sr ? "" : r->nnums ? "an Enhanced SR" : "a Basic Text SR",
                  sr && r->pdf.n ? " and " : "", r->pdf.n ? "an Encapsulated PDF" : "");
    if (study[0])
        rl_buf_printf(trace, "      for study %s\n", study);
    else if (o->entries)
        rl_buf_add_c(trace, "      its order is on the worklist, its study not here yet: it "
                            "waits for it\n");
    else
        rl_buf_printf(trace, "      no order and no study of it: %s\n",
                      opt->unmatched == ROUTE_REPORT_REFUSE ? "refused (unmatched=\"refuse\")"
                                                            : "held until its study arrives");
}

/* MSH-10, for the record. */
static void control_id(hl7_msg *m, char *out, size_t n)
{
    hl7_path p = { .seg = "MSH", .seg_idx = 1, .field = 10 };
    rl_str v = { "", 0 };
    rl_err e;
    if (hl7_get(m, &p, &v, &e) < 0)
        v = (rl_str){ "", 0 };
    snprintf(out, n, "%.*s", (int)(v.n < n ? v.n : n - 1), v.p);
}

/* The patient: the PID-3 repetition the route file's <patient-id> picks. */
static void pick_patient(route_env *env, hl7_msg *m, report *r)
{
    unsigned rep = patient_id_rep(m, "PID", 3, env->rs ? route_patient(env->rs) : NULL);
    hl7_path p = { .seg = "PID", .seg_idx = 1, .field = 3, .rep = rep, .comp = 1 };
    rl_str v = { "", 0 };
    rl_err e;
    if (rep && hl7_get_rep(m, &p, rep, &v, &e) >= 0 && hl7_classify(v) == HL7_VALUE)
        snprintf(r->patient_id, sizeof r->patient_id, "%.*s", (int)v.n, v.p);
}

/* A report names its patient; the study radlink holds for it must be that
 * patient's (as the RIS corrected it): a report filed into another
 * patient's study is refused, never kept. */
static int same_patient(route_env *env, const report *r, const char *study)
{
    study_rec s;
    int rc = study_get(env->txn, rl_str_c(study), &s, &env->store_err);
    if (rc != STORE_OK)
        return rc == STORE_NOTFOUND ? 0 : ROUTE_E_STORE;
    rl_str pid = s.f[STUDY_F_PATIENT_ID];
    if (!r->patient_id[0] || !pid.n || rl_str_eq(pid, rl_str_c(r->patient_id)))
        return 0;
    env->fail_errcode = HL7_ERR_UNKNOWN_KEY;
    snprintf(env->fail_text, sizeof env->fail_text, "report: PID-3 names patient '%.64s', but "
             "the study of accession '%.64s' is patient '%.*s': a report is not filed into "
             "another patient's study", r->patient_id, r->accession, (int)(pid.n > 64 ? 64 : pid.n),
             pid.p);
    return ROUTE_E_ACTION;
}

/* <report complete-step="true">: a final report completes its order. */
static int complete_step(route_env *env, const report *r, const order *o, rl_buf *trace)
{
    if (!env->report || !env->report->complete_step || r->status == REPORT_PRELIMINARY ||
        !o->entries)
        return STORE_OK;
    unsigned done = 0, queued = 0;
    bool act = env->txn && !env->dry_run;
    int rc = act ? mpps_complete_order(env->txn, env->rs, rl_str_c(r->accession), env->now_us,
                                       &done, &queued, &env->store_err)
                 : STORE_OK;
    env->forwarded += queued;
    if (trace && act)
        rl_buf_printf(trace, "      %u worklist step%s completed, %u status message%s to the "
                      "order filler\n", done, done == 1 ? "" : "s", queued,
                      queued == 1 ? "" : "s");
    else if (trace)
        rl_buf_add_c(trace, "      its worklist steps would be completed\n");
    return rc;
}

int report_hook(route_env *env, hl7_msg *m, rl_buf *trace)
{
    static const route_report_opts defaults = { .unmatched = ROUTE_REPORT_HOLD };
    const route_report_opts *opt = env->report ? env->report : &defaults;
    const report_ctx *cx = env->hook_ctx;
    if (opt->optional && cx && !cx->pacs) {
        if (trace)
            rl_buf_add_c(trace, "      no <pacs> is configured: not kept as a report "
                                "(optional=\"true\")\n");
        return ROUTE_OK;
    }
    report *r = calloc(1, sizeof *r);
    rl_arena a;
    rl_arena_init(&a, 1 << 16, 0);
    rl_err err;
    int rc = r ? report_from_hl7(m, &a, r, &err) : rl_err_set(&err, RL_E_NOMEM, -1, "out of memory");
    if (rc) {
        rc = refuse(env, &err);
        goto out;
    }
    pick_patient(env, m, r);
    char study[RL_UID_SIZE];
    order o;
    if (find_study(env, r, study, &o) < 0) {
        rc = ROUTE_E_STORE;
        goto out;
    }
    if (study[0] && (rc = same_patient(env, r, study)) != 0)
        goto out;
    trace_report(trace, r, study, &o, opt);
    bool unmatched = !study[0] && !o.entries;
    if (unmatched && opt->unmatched == ROUTE_REPORT_REFUSE && env->txn) {
        env->fail_errcode = HL7_ERR_UNKNOWN_KEY;
        snprintf(env->fail_text, sizeof env->fail_text, "report: no order and no study of "
                 "accession '%.64s' (nor of the Study Instance UID it names)", r->accession);
        rc = ROUTE_E_ACTION;
        goto out;
    }
    if (complete_step(env, r, &o, trace) != STORE_OK) {
        rc = ROUTE_E_STORE;
        goto out;
    }
    if (env->dry_run || !env->txn)
        goto out;
    char ctl[RL_LO_SIZE];
    control_id(m, ctl, sizeof ctl);
    uint8_t opts = (uint8_t)((opt->pdf_only ? REPORT_OPT_PDF_ONLY : 0) |
                             (opt->iocm ? REPORT_OPT_IOCM : 0) |
                             (r->nnums ? REPORT_OPT_ENHANCED : 0));
    report_rec rec = { .seq = env->msg_seq,
                       .state = study[0] ? REPORT_LINKED : unmatched ? REPORT_HELD : REPORT_WAITING,
                       .status = (char)r->status, .received_us = env->now_us,
                       .accession = rl_str_c(r->accession),
                       .study_uid = rl_str_c(study[0] ? study : r->study_uid),
                       .control_id = rl_str_c(ctl), .ntexts = (uint32_t)r->ntexts,
                       .pdf = r->pdf.n > 0, .opts = opts };
    if (report_put(env->txn, &rec, &env->store_err) != STORE_OK)
        rc = ROUTE_E_STORE;
    /* the report joins its study's files in the engine's spool; one the
     * DICOM object cannot hold is refused (the transaction is not kept, so
     * nothing of it is half-filed or sent) */
    if (rc == 0 && study[0] && cx &&
        report_file(env->txn, cx, env->rs, env->msg_seq, r, opts, rl_str_c(study), env->now_us,
                    &env->store_err) != 0)
        rc = env->store_err.code == DICOM_E_VALUE ? refuse(env, &env->store_err) : ROUTE_E_STORE;
out:
    rl_arena_free(&a);
    free(r);
    return rc;
}
