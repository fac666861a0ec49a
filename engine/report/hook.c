/* The `report` route action (radlink/report.h): an ORU^R01 or MDM^T02 read
 * into a report, linked to its study, or kept waiting for it. A message
 * that cannot be made a report is refused with AE and the reason. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "radlink/hl7.h"
#include "radlink/report.h"
#include "radlink/route.h"
#include "radlink/store.h"
#include "radlink/study.h"

static int first_uid(void *ctx, rl_str uid)
{
    snprintf(ctx, RL_UID_SIZE, "%.*s", (int)uid.n, uid.p);
    return 1;
}

/* The study the report is for: its Study Instance UID when radlink holds
 * that study, else a study of its accession; "" when none yet. */
static int find_study(route_env *env, const report *r, char study[RL_UID_SIZE])
{
    study[0] = '\0';
    if (!env->txn)
        return STORE_OK;
    if (r->study_uid[0]) {
        study_rec s;
        int rc = study_get(env->txn, rl_str_c(r->study_uid), &s, &env->store_err);
        if (rc == STORE_OK)
            snprintf(study, RL_UID_SIZE, "%s", r->study_uid);
        if (rc != STORE_NOTFOUND && rc != STORE_OK)
            return rc;
        if (rc == STORE_OK)
            return STORE_OK;
    }
    if (!r->accession[0])
        return STORE_OK;
    return study_index_each(env->txn, 'A', rl_str_c(r->accession), first_uid, study,
                            &env->store_err);
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

static void trace_report(rl_buf *trace, const report *r, const char *study)
{
    if (!trace)
        return;
    rl_buf_printf(trace, "      accession %s, %s, %zu text%s in %zu section%s%s\n",
                  r->accession[0] ? r->accession : "(none)",
                  r->status == REPORT_PRELIMINARY ? "preliminary"
                  : r->status == REPORT_CORRECTED ? "corrected"
                                                  : "final",
                  r->ntexts, r->ntexts == 1 ? "" : "s", r->nsections,
                  r->nsections == 1 ? "" : "s", r->pdf.n ? ", a PDF" : "");
    if (study[0])
        rl_buf_printf(trace, "      for study %s\n", study);
    else
        rl_buf_add_c(trace, "      no study of it yet: it waits for one\n");
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

int report_hook(route_env *env, hl7_msg *m, rl_buf *trace)
{
    report *r = calloc(1, sizeof *r);
    rl_arena a;
    rl_arena_init(&a, 1 << 16, 0);
    rl_err err;
    int rc = r ? report_from_hl7(m, &a, r, &err) : rl_err_set(&err, RL_E_NOMEM, -1, "out of memory");
    if (rc) {
        rc = refuse(env, &err);
        goto out;
    }
    char study[RL_UID_SIZE];
    if (find_study(env, r, study) < 0) {
        rc = ROUTE_E_STORE;
        goto out;
    }
    trace_report(trace, r, study);
    if (env->dry_run || !env->txn)
        goto out;
    char ctl[RL_LO_SIZE];
    control_id(m, ctl, sizeof ctl);
    report_rec rec = { .seq = env->msg_seq, .state = study[0] ? REPORT_LINKED : REPORT_WAITING,
                       .status = (char)r->status, .received_us = env->now_us,
                       .accession = rl_str_c(r->accession), .study_uid = rl_str_c(study),
                       .control_id = rl_str_c(ctl), .ntexts = (uint32_t)r->ntexts,
                       .pdf = r->pdf.n > 0 };
    if (report_put(env->txn, &rec, &env->store_err) != STORE_OK)
        rc = ROUTE_E_STORE;
    /* the engine's spool (hook_ctx): the report joins its study's files */
    if (rc == 0 && study[0] && env->hook_ctx &&
        report_file(env->txn, env->hook_ctx, env->msg_seq, r, rl_str_c(study), env->now_us,
                    &env->store_err) != 0)
        rc = ROUTE_E_STORE;
out:
    rl_arena_free(&a);
    free(r);
    return rc;
}
