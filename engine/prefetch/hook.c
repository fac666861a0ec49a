/* The `prefetch` route action (radlink/prefetch.h, prefetch_hook): an order
 * wants its priors moved, or no longer does. */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "radlink/hl7.h"
#include "radlink/job.h"
#include "radlink/prefetch.h"
#include "radlink/route.h"
#include "radlink/wl.h"

static rl_str field(hl7_msg *m, const char *seg, unsigned f, unsigned comp)
{
    hl7_path p = { .seg_idx = 1, .field = f, .rep = 1, .comp = comp };
    snprintf(p.seg, sizeof p.seg, "%s", seg);
    rl_str v = { "", 0 };
    rl_err e;
    if (hl7_get(m, &p, &v, &e) < 0 || hl7_classify(v) != HL7_VALUE)
        return (rl_str){ "", 0 };
    return v;
}

/* The accession as orders carry it: OBR-18, else ORC-3, else OBR-3. */
static void accession_of(hl7_msg *m, char *out, size_t n)
{
    rl_str v = field(m, "OBR", 18, 1);
    if (!v.n)
        v = field(m, "ORC", 3, 1);
    if (!v.n)
        v = field(m, "OBR", 3, 1);
    snprintf(out, n, "%.*s", (int)(v.n < n ? v.n : n - 1), v.p);
}

/* The n digits of v at off as a number. */
static bool digits(rl_str v, size_t off, size_t n, int *out)
{
    uint64_t x;
    if (off + n > v.n || !rl_str_to_u64((rl_str){ v.p + off, n }, 9999, &x))
        return false;
    *out = (int)x;
    return true;
}

/* The scheduled start of the order's first step (the worklist entry the
 * worklist action just wrote), local time, in microseconds; 0 when none. */
static int take_start(void *ctx, rl_str key, const wl_entry *e)
{
    (void)key;
    int64_t *us = ctx;
    rl_str d = wl_sps(e, WL_SPS_DATE), t = wl_sps(e, WL_SPS_TIME);
    if (d.n != 8)
        return 1;
    struct tm tm = { 0 };
    if (!digits(d, 0, 4, &tm.tm_year) || !digits(d, 4, 2, &tm.tm_mon) ||
        !digits(d, 6, 2, &tm.tm_mday))
        return 1;
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    if (t.n >= 4 && (!digits(t, 0, 2, &tm.tm_hour) || !digits(t, 2, 2, &tm.tm_min)))
        return 1;
    if (t.n >= 6 && !digits(t, 4, 2, &tm.tm_sec))
        return 1;
    tm.tm_isdst = -1;
    time_t s = mktime(&tm);
    *us = s == (time_t)-1 ? 0 : (int64_t)s * 1000000;
    return 1;
}

int prefetch_hook(route_env *env, hl7_msg *m, rl_buf *trace)
{
    const route_prefetch_opts *p = env->prefetch;
    if (!p)
        return ROUTE_OK;
    rl_str ctl = field(m, "ORC", 1, 1);
    bool want = rl_str_eq_c(ctl, "NW");
    bool cancel = rl_str_eq_c(ctl, "CA") || rl_str_eq_c(ctl, "DC") || rl_str_eq_c(ctl, "OC");
    char acc[RL_LO_SIZE], subject[RL_JOB_SUBJECT_MAX + 1];
    accession_of(m, acc, sizeof acc);
    if (!want && !cancel) {
        if (trace)
            rl_buf_printf(trace, "      ORC-1 %.*s: no prefetch (NW wants one, CA/DC/OC cancel "
                          "it)\n", RL_STR_FMT(ctl));
        return ROUTE_OK;
    }
    if (!acc[0] || prefetch_subject(acc, p->from, p->to, subject, sizeof subject) != 0) {
        route_warn(env, "prefetch: no accession (OBR-18, ORC-3, OBR-3) to prefetch for");
        if (trace)
            rl_buf_add_c(trace, "      no accession: no prefetch\n");
        return ROUTE_OK;
    }
    bool act = env->txn && !env->dry_run;
    /* the body part the order names, for a rule that wants the same */
    char body[RL_LO_SIZE];
    rl_str bp = field(m, "OBR", 15, 4);
    if (!bp.n)
        bp = field(m, "OBR", 46, 1);
    snprintf(body, sizeof body, "%.*s", (int)(bp.n < sizeof body ? bp.n : sizeof body - 1), bp.p);
    if (act && prefetch_body_put(env->txn, acc, cancel ? NULL : body, &env->store_err) != STORE_OK)
        return ROUTE_E_STORE;
    if (cancel) {
        unsigned n = 0;
        if (act && job_cancel_waiting(env->txn, "prefetch", rl_str_c(subject),
                                      RL_STR("cancelled: the order was cancelled or discontinued"),
                                      env->now_us, &n, &env->store_err) != STORE_OK)
            return ROUTE_E_STORE;
        if (trace)
            rl_buf_printf(trace, "      the prefetch of %s from %s to %s is cancelled%s\n", acc,
                          p->from, p->to, act ? "" : " (if one waits)");
        return ROUTE_OK;
    }
    int64_t due = env->now_us;
    if (p->lead_s && env->txn) {
        int64_t start = 0;
        rl_str a = rl_str_c(acc);
        if (wl_scan(env->txn, 'A', a, a, take_start, &start, &env->store_err) < 0)
            return ROUTE_E_STORE;
        if (start && start - p->lead_s * 1000000 > due)
            due = start - p->lead_s * 1000000;
    }
    uint64_t id = 0;
    bool created = false;
    if (act && job_want(env->txn, "prefetch", rl_str_c(subject), due, env->now_us, &id, &created,
                        &env->store_err) != STORE_OK)
        return ROUTE_E_STORE;
    if (trace) {
        char when[RL_HL7_TS_TEXT_MAX] = "now";
        if (due > env->now_us)
            rl_time_hl7(due, when, sizeof when);
        rl_buf_printf(trace, "      priors of accession %s from %s to %s (at most %u), due %s%s\n",
                      acc, p->from, p->to, p->max, when, act ? "" : " (dry run: no job)");
        if (body[0])
            rl_buf_printf(trace, "      body part %s (OBR-15.4 or OBR-46)\n", body);
        if (act)
            rl_buf_printf(trace, "      job %llu%s\n", (unsigned long long)id,
                          created ? "" : " (waiting already)");
    }
    return ROUTE_OK;
}
