/* Entries read from worklist files (`radlink wl import`), checked and
 * completed the way an order's entry is (radlink/wl.h). */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "wl_internal.h"

static void warn(rl_buf *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void warn(rl_buf *w, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    if (w->len)
        rl_buf_add_c(w, "; ");
    rl_buf_vprintf(w, fmt, ap);
    va_end(ap);
}

static void drop(wl_entry *e, size_t i)
{
    memmove(&e->a[i], &e->a[i + 1], (e->n - i - 1) * sizeof e->a[0]);
    e->n--;
}

static bool is_key(const wl_attr *a)
{
    return (a->depth == 1 && (a->path[0] == WL_ACCESSION || a->path[0] == WL_RP_ID ||
                              a->path[0] == WL_PATIENT_ID || a->path[0] == WL_PATIENT_NAME)) ||
           (a->depth == 2 && a->path[0] == WL_SPS_SEQ &&
            (a->path[1] == WL_SPS_ID || a->path[1] == WL_MODALITY || a->path[1] == WL_SPS_DATE));
}

static bool is_date(rl_str v)
{
    if (v.n != 8)
        return false;
    for (size_t i = 0; i < 8; i++)
        if (v.p[i] < '0' || v.p[i] > '9')
            return false;
    return true;
}

int wl_import_prepare(wl_entry *e, rl_arena *a, rl_buf *warnings, rl_err *err)
{
    /* lengths as DICOM counts them: what identifies the step refuses the
     * file, anything else is left out */
    for (size_t i = 0; i < e->n;) {
        const wl_model_attr *m = wl_model_by_path(e->a[i].path, e->a[i].depth);
        size_t len = m ? wl_value_len(m, e->a[i].value) : 0;
        if (!m || !m->max_len || len <= m->max_len) {
            i++;
            continue;
        }
        if (is_key(&e->a[i]))
            return rl_err_set(err, WL_E_ENTRY, -1,
                              "%s has %zu characters, more than the %u DICOM allows",
                              m->keyword, len, m->max_len);
        warn(warnings, "%s left out: %zu characters, more than the %u DICOM allows", m->keyword,
             len, m->max_len);
        drop(e, i);
    }
    /* what a modality needs */
    static const struct {
        uint32_t tag;
        bool sps;
        const char *keyword;
    } need[] = { { WL_PATIENT_ID, false, "PatientID" },
                 { WL_PATIENT_NAME, false, "PatientName" },
                 { WL_MODALITY, true, "Modality" },
                 { WL_SPS_DATE, true, "ScheduledProcedureStepStartDate" } };
    char missing[sizeof need / sizeof *need * RL_WL_KEYWORD_SIZE] = "";
    size_t k = 0;
    for (size_t i = 0; i < sizeof need / sizeof *need; i++) {
        rl_str v = need[i].sps ? wl_sps(e, need[i].tag) : wl_top(e, need[i].tag);
        if (!v.n)
            k += (size_t)snprintf(missing + k, sizeof missing - k, "%s%s", k ? ", " : "",
                                  need[i].keyword);
    }
    if (k)
        return rl_err_set(err, WL_E_ENTRY, -1, "%s %s empty or absent", missing,
                          strchr(missing, ',') ? "are" : "is");
    rl_str date = wl_sps(e, WL_SPS_DATE);
    if (!is_date(date))
        return rl_err_set(err, WL_E_ENTRY, -1,
                          "ScheduledProcedureStepStartDate '%.*s' is not a date (YYYYMMDD)",
                          (int)(date.n > 20 ? 20 : date.n), date.p);
    /* the key: procedure and step IDs derived as for an order without them */
    rl_str acc = wl_top(e, WL_ACCESSION), rp = wl_top(e, WL_RP_ID), sps = wl_sps(e, WL_SPS_ID);
    if (!acc.n && !rp.n && !sps.n)
        return rl_err_set(err, WL_E_ENTRY, -1, "no AccessionNumber, RequestedProcedureID or "
                          "ScheduledProcedureStepID: nothing identifies the step");
    uint32_t rp_tag = WL_RP_ID, sps_path[2] = { WL_SPS_SEQ, WL_SPS_ID };
    if (!rp.n) {
        rp = acc.n ? acc : sps;
        wl_set_attr(e, &rp_tag, 1, rp);
        warn(warnings, "RequestedProcedureID taken from the %s", acc.n ? "accession number"
                                                                       : "step ID");
    }
    if (!sps.n) {
        wl_set_attr(e, sps_path, 2, rp);
        warn(warnings, "ScheduledProcedureStepID taken from the requested procedure ID");
    }
    if (!wl_top(e, WL_STUDY_UID).n) {
        char uid[RL_UID_SIZE];
        wl_order_uid((rl_str){ "", 0 }, acc, rp, uid);
        char *p = rl_arena_dup(a, uid, strlen(uid));
        uint32_t t = WL_STUDY_UID;
        if (!p || wl_set_attr(e, &t, 1, (rl_str){ p, strlen(p) }) != 0)
            return rl_err_set(err, RL_E_LIMIT, -1, "out of memory or attributes");
        warn(warnings, "no StudyInstanceUID: one made from the accession number");
    }
    uint32_t st[2] = { WL_SPS_SEQ, WL_SPS_STATUS };
    if (!wl_sps(e, WL_SPS_STATUS).n)
        wl_set_attr(e, st, 2, RL_STR("SCHEDULED"));
    /* type 2 sequences the MWL identifier always carries */
    uint32_t rs = WL_TAG(0x0008, 0x1110), rpq = WL_TAG(0x0008, 0x1120);
    if (!wl_get_attr(e, &rs, 1))
        wl_set_attr(e, &rs, 1, (rl_str){ "", 0 });
    if (!wl_get_attr(e, &rpq, 1) && wl_set_attr(e, &rpq, 1, (rl_str){ "", 0 }) != 0)
        return rl_err_set(err, RL_E_LIMIT, -1, "more than %d worklist attributes",
                          WL_MAX_ATTRS);
    return 0;
}
