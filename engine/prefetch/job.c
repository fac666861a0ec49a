/* Prefetch jobs (radlink/prefetch.h): kind "prefetch", subject
 * "ACCESSION@TO<FROM". The dispatcher reads the order as the worklist holds
 * it when the job starts (its patient after any merge; gone when it was
 * cancelled) and the route file's <prefetch> rule; the worker runs
 * prefetch_run with them. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "radlink/job.h"
#include "radlink/job_msg.h"
#include "radlink/prefetch.h"
#include "radlink/recon_job.h"
#include "radlink/route.h"
#include "radlink/store.h"
#include "radlink/wl.h"

int prefetch_subject(const char *accession, const char *from, const char *to, char *out,
                     size_t n)
{
    int k = snprintf(out, n, "%s@%s<%s", accession, to, from);
    return k < 0 || (size_t)k >= n ? -1 : 0;
}

bool prefetch_subject_split(rl_str subject, rl_str *accession, rl_str *from, rl_str *to)
{
    const char *at = memchr(subject.p, '@', subject.n);
    if (!at)
        return false;
    const char *end = subject.p + subject.n;
    const char *lt = memchr(at, '<', (size_t)(end - at));
    if (!lt)
        return false;
    *accession = (rl_str){ subject.p, (size_t)(at - subject.p) };
    *to = (rl_str){ at + 1, (size_t)(lt - at - 1) };
    *from = (rl_str){ lt + 1, (size_t)(end - lt - 1) };
    return true;
}

/* ---- the body part an order named ---- */

static rl_str body_key(char *buf, size_t n, rl_str accession)
{
    static const char prefix[] = "prefetch-body";
    size_t k = sizeof prefix; /* with its NUL */
    size_t a = accession.n < n - k ? accession.n : n - k;
    memcpy(buf, prefix, k);
    memcpy(buf + k, accession.p, a);
    return (rl_str){ buf, k + a };
}

int prefetch_body_put(store_txn *t, const char *accession, const char *body, rl_err *err)
{
    char k[RL_LO_SIZE + 32];
    rl_str key = body_key(k, sizeof k, rl_str_c(accession));
    int rc = body && body[0] ? store_put(t, STORE_META, key, rl_str_c(body), 0, err)
                             : store_del(t, STORE_META, key, (rl_str){ NULL, 0 }, err);
    return rc == STORE_NOTFOUND ? STORE_OK : rc;
}

int prefetch_body_get(store_txn *t, rl_str accession, char *out, size_t n, rl_err *err)
{
    char k[RL_LO_SIZE + 32];
    rl_str v;
    out[0] = '\0';
    int rc = store_get(t, STORE_META, body_key(k, sizeof k, accession), &v, err);
    if (rc == STORE_OK)
        snprintf(out, n, "%.*s", (int)(v.n < n ? v.n : n - 1), v.p);
    return rc == STORE_NOTFOUND ? STORE_OK : rc;
}

/* ---- the dispatcher's side ---- */

/* The order's first worklist entry, its values kept in the arena. */
typedef struct order_of {
    rl_arena *a;
    bool found;
    const char *patient_id, *issuer, *modality, *procedure, *study_uid, *date;
} order_of;

static const char *adup(rl_arena *a, rl_str v)
{
    return rl_arena_dup(a, v.p ? v.p : "", v.n);
}

static rl_str attr(const wl_entry *e, const char *keyword)
{
    const wl_model_attr *m = wl_model_find(keyword);
    const rl_str *v = m ? wl_get_attr(e, m->tags, m->depth) : NULL;
    return v ? *v : (rl_str){ "", 0 };
}

static int take(void *ctx, rl_str key, const wl_entry *e)
{
    (void)key;
    order_of *o = ctx;
    o->found = true;
    o->patient_id = adup(o->a, wl_top(e, WL_PATIENT_ID));
    o->issuer = adup(o->a, attr(e, "IssuerOfPatientID"));
    o->modality = adup(o->a, wl_sps(e, WL_MODALITY));
    o->procedure = adup(o->a, attr(e, "RequestedProcedureCodeSequence/CodeValue"));
    o->study_uid = adup(o->a, wl_top(e, WL_STUDY_UID));
    o->date = adup(o->a, wl_sps(e, WL_SPS_DATE));
    return 1;
}

static int add_set(job_msg *m, rl_arena *a, const char *keyword, const char *value)
{
    if (m->n_sets == RL_JOB_SETS_MAX)
        return -1;
    m->sets[m->n_sets++] = (job_set){ 0, rl_str_c(keyword), rl_str_c(adup(a, rl_str_c(value))) };
    return 0;
}

/* Done at once, saying why (the order is gone, nothing to do). */
static int done_now(store_txn *t, uint64_t id, const char *worker, const char *why, int64_t now_us,
                    rl_err *err)
{
    job j;
    int rc = job_start(t, id, worker, 0, 0, now_us, &j, err);
    return rc ? rc : job_done(t, id, j.attempts, rl_str_c(why), now_us, NULL, err);
}

int prefetch_job_start(store_txn *t, uint64_t job_id, const char *worker,
                       const prefetch_node *nodes, size_t n_nodes, const route_set *rs,
                       const char *work_root, int64_t now_us, job_msg *msg, rl_arena *a,
                       bool *started, rl_err *err)
{
    *started = false;
    memset(msg, 0, sizeof *msg);
    job j;
    int rc = job_get(t, job_id, &j, err);
    if (rc)
        return rc;
    const char *subject = rl_arena_dup(a, j.subject.p, j.subject.n);
    rl_str acc, from, to;
    if (!subject || !prefetch_subject_split(rl_str_c(subject), &acc, &from, &to))
        return done_now(t, job_id, worker, "not a prefetch subject", now_us, err);
    const char *accession = adup(a, acc), *from_ae = adup(a, from), *to_ae = adup(a, to);
    order_of o = { .a = a };
    if ((rc = wl_scan(t, 'A', acc, acc, take, &o, err)) != STORE_OK)
        return rc;
    if (!o.found) {
        rc = prefetch_body_put(t, accession, NULL, err);
        return rc ? rc : done_now(t, job_id, worker,
                                  "cancelled: the order is no longer on the worklist", now_us, err);
    }
    const prefetch_node *f = NULL, *d = NULL;
    for (size_t i = 0; i < n_nodes; i++) {
        if (!strcmp(nodes[i].peer.ae_title, from_ae))
            f = &nodes[i];
        if (!strcmp(nodes[i].peer.ae_title, to_ae))
            d = &nodes[i];
    }
    if (!f || !d)
        return rl_err_set(err, JOB_E_STATE, -1, "no DICOM node '%s' in the configuration: add it "
                          "back as a <pacs> or <node>, then retry the job", !f ? from_ae : to_ae);
    /* the rule as the route file says it now (its defaults when the
     * <prefetch> is gone from it) */
    const route_prefetch_opts *p = rs ? route_prefetch_find(rs, from_ae, to_ae) : NULL;
    prefetch_rule r;
    prefetch_rule_default(&r);
    /* the body part: the route file's table from the procedure code, else
     * what the order's message named */
    char named[RL_LO_SIZE];
    if ((rc = prefetch_body_get(t, acc, named, sizeof named, err)) != STORE_OK)
        return rc;
    const char *body = named;
    if (p) {
        r.max = p->max;
        r.within_s = p->within_s;
        r.modality = (prefetch_modality)p->modality;
        snprintf(r.modalities, sizeof r.modalities, "%s", p->modalities ? p->modalities : "");
        r.same_body_part = p->same_body_part;
        const char *b = p->body_table >= 0 ? route_table_get(rs, p->body_table,
                                                             rl_str_c(o.procedure))
                                           : NULL;
        if (b && b[0])
            body = b;
    }
    char num[4][RL_NUM_TEXT_MAX];
    snprintf(num[0], sizeof num[0], "%u", r.max);
    snprintf(num[1], sizeof num[1], "%lld", (long long)r.within_s);
    snprintf(num[2], sizeof num[2], "%d", (int)r.modality);
    snprintf(num[3], sizeof num[3], "%u", f->max_answers);
    msg->kind = RL_STR("prefetch");
    msg->subject = rl_str_c(subject);
    const char *kv[][2] = {
        { "patient_id", o.patient_id }, { "issuer", o.issuer }, { "accession", accession },
        { "study_uid", o.study_uid }, { "modality", o.modality }, { "body_part", body },
        { "date", o.date }, { "max", num[0] }, { "within", num[1] }, { "rule_modality", num[2] },
        { "modalities", r.modalities }, { "same_body_part", r.same_body_part ? "1" : "0" },
        { "max_answers", num[3] },
    };
    for (size_t i = 0; i < sizeof kv / sizeof kv[0]; i++)
        if (add_set(msg, a, kv[i][0], kv[i][1] ? kv[i][1] : "") != 0)
            return rl_err_set(err, RL_E_LIMIT, -1, "a prefetch message with too many values");
    /* the archive and the destination, with how to retrieve */
    const prefetch_node *two[2] = { f, d };
    for (int i = 0; i < 2; i++) {
        const prefetch_node *x = two[i];
        msg->pacs[msg->n_pacs++] = (job_peer){
            rl_str_c(adup(a, rl_str_c(x->peer.ae_title))), rl_str_c(adup(a, rl_str_c(x->peer.host))),
            x->peer.port, x->get, 0, 0, x->timeout_s, x->peer.tls.on,
            rl_str_c(adup(a, rl_str_c(x->peer.tls.ca))), rl_str_c(adup(a, rl_str_c(x->peer.tls.cert))),
            rl_str_c(adup(a, rl_str_c(x->peer.tls.key))), true, x->peer.associations };
    }
    job run;
    if ((rc = job_start(t, job_id, worker, 0, 0, now_us, &run, err)) != STORE_OK)
        return rc;
    char wd[RL_WORK_PATH_MAX];
    recon_work_dir(work_root, job_id, run.attempts, wd, sizeof wd);
    msg->work_dir = rl_str_c(adup(a, rl_str_c(wd)));
    msg->id = job_id;
    msg->attempt = run.attempts;
    *started = true;
    return STORE_OK;
}

/* ---- the worker's side ---- */

static const char *set_of(const job_msg *m, const char *keyword, char *buf, size_t n)
{
    for (size_t i = 0; i < m->n_sets; i++)
        if (rl_str_eq_c(m->sets[i].keyword, keyword)) {
            snprintf(buf, n, "%.*s", (int)m->sets[i].value.n, m->sets[i].value.p);
            return buf;
        }
    buf[0] = '\0';
    return buf;
}

static void node_from(const job_peer *p, prefetch_node *n)
{
    memset(n, 0, sizeof *n);
    snprintf(n->peer.ae_title, sizeof n->peer.ae_title, "%.*s", RL_STR_FMT(p->ae_title));
    snprintf(n->peer.host, sizeof n->peer.host, "%.*s", RL_STR_FMT(p->host));
    n->peer.port = p->port;
    n->peer.tls.on = p->tls;
    snprintf(n->peer.tls.ca, sizeof n->peer.tls.ca, "%.*s", RL_STR_FMT(p->tls_ca));
    snprintf(n->peer.tls.cert, sizeof n->peer.tls.cert, "%.*s", RL_STR_FMT(p->tls_cert));
    snprintf(n->peer.tls.key, sizeof n->peer.tls.key, "%.*s", RL_STR_FMT(p->tls_key));
    n->get = p->update != 0;
    n->timeout_s = p->commit_timeout_s;
    n->peer.associations = p->associations;
}

int prefetch_job_run(const job_msg *m, const char *calling_ae, rl_buf *result)
{
    if (m->n_pacs != 2) {
        rl_buf_add_c(result, "a prefetch job names an archive and a destination");
        return JOB_E_ATTEMPT;
    }
    prefetch_node from, to;
    node_from(&m->pacs[0], &from);
    node_from(&m->pacs[1], &to);
    prefetch_rule r;
    prefetch_rule_default(&r);
    char v[RL_LO_SIZE];
    uint64_t x;
    if (rl_str_to_u64(rl_str_c(set_of(m, "max", v, sizeof v)), RL_PREFETCH_MAX, &x))
        r.max = (unsigned)x;
    if (rl_str_to_u64(rl_str_c(set_of(m, "within", v, sizeof v)), INT64_MAX, &x))
        r.within_s = (int64_t)x;
    if (rl_str_to_u64(rl_str_c(set_of(m, "rule_modality", v, sizeof v)), PREFETCH_MOD_LIST, &x))
        r.modality = (prefetch_modality)x;
    set_of(m, "modalities", r.modalities, sizeof r.modalities);
    r.same_body_part = !strcmp(set_of(m, "same_body_part", v, sizeof v), "1");
    if (rl_str_to_u64(rl_str_c(set_of(m, "max_answers", v, sizeof v)), RL_QUERY_ANSWERS_MAX, &x))
        from.max_answers = (unsigned)x;
    if (!r.max || r.max > RL_PREFETCH_MAX)
        r.max = 3;
    prefetch_order o;
    memset(&o, 0, sizeof o);
    set_of(m, "patient_id", o.patient_id, sizeof o.patient_id);
    set_of(m, "issuer", o.issuer, sizeof o.issuer);
    set_of(m, "accession", o.accession, sizeof o.accession);
    set_of(m, "study_uid", o.study_uid, sizeof o.study_uid);
    set_of(m, "modality", o.modality, sizeof o.modality);
    set_of(m, "body_part", o.body_part, sizeof o.body_part);
    set_of(m, "date", o.date, sizeof o.date);
    char wd[RL_WORK_PATH_MAX];
    snprintf(wd, sizeof wd, "%.*s", RL_STR_FMT(m->work_dir));
    if (mkdir(wd, 0700) != 0 && errno != EEXIST) {
        rl_buf_printf(result, "%s: %s", wd, strerror(errno));
        return JOB_E_ATTEMPT;
    }
    rl_buf report;
    rl_buf_init(&report, 0);
    prefetch_outcome out;
    rl_err err;
    int rc = prefetch_run(calling_ae, &from, &to, &r, &o, wd, false, &report, &out, &err);
    rmdir(wd);
    rl_buf_free(&report);
    if (rc) {
        rl_buf_add_c(result, err.msg);
        return JOB_E_ATTEMPT;
    }
    rl_buf_printf(result, "%zu relevant of %zu at %s, %zu already at %s, %zu moved (%u instances, "
                  "verified)%s", out.relevant, out.answered, from.peer.ae_title, out.present,
                  to.peer.ae_title, out.moved, out.instances,
                  out.capped ? "; the archive answered more studies than were considered" : "");
    return 0;
}
