/* jobs list|show|retry: the correction and forwarding jobs. list and show
 * read beside the engine; retry puts jobs back in line in its turn. */
#include <stdlib.h>
#include <string.h>

#include "ops_internal.h"
#include "radlink/job.h"
#include "radlink/prefetch.h"
#include "radlink/recon_job.h"

/* ---- the view of a job ---- */

static const view_field J_ID = { "id", "ID", 6 };
static const view_field J_STATE = { "state", "STATE", 10 }; /* "unverified" */
static const view_field J_KIND = { "kind", "KIND", 6 };
static const view_field J_ATTEMPTS = { "attempts", "ATTEMPTS", 8 };
static const view_field J_UPDATED = { "updated", "UPDATED", 19 };
static const view_field J_STUDY = { "study_uid", "STUDY", 40 };
static const view_field J_TO = { "destination", "TO", 16 };
static const view_field J_NOTE = { NULL, "RESULT / LAST ERROR", 0, 100 };
static const view_field J_NOTE_WIDE = { NULL, "RESULT / LAST ERROR", 0, 0 }; /* --wide */
static const view_field J_CREATED = { "created" };
static const view_field J_NOT_BEFORE = { "not_before" };
static const view_field J_WORKER = { "worker" };
static const view_field J_RESULT = { "result" };
static const view_field J_ERROR = { "last_error" };
static const view_field *const job_cols[] = { &J_ID, &J_STATE, &J_KIND, &J_ATTEMPTS,
                                              &J_UPDATED, &J_STUDY, &J_TO, &J_NOTE, NULL };
static const view_field *const job_cols_wide[] = { &J_ID, &J_STATE, &J_KIND, &J_ATTEMPTS,
                                                   &J_UPDATED, &J_STUDY, &J_TO, &J_NOTE_WIDE,
                                                   NULL };

/* the detail's text lines */
static const view_field JD_KIND = { NULL, NULL, 0, 0, "kind" };
static const view_field JD_STUDY = { NULL, NULL, 0, 0, "study" };
static const view_field JD_TO = { NULL, NULL, 0, 0, "to" };
static const view_field JD_STATE = { NULL, NULL, 0, 0, "state" };
static const view_field JD_ATTEMPTS = { NULL, NULL, 0, 0, "attempts" };
static const view_field JD_CREATED = { NULL, NULL, 0, 0, "created" };
static const view_field JD_UPDATED = { NULL, NULL, 0, 0, "updated" };
static const view_field JD_NOT_BEFORE = { NULL, NULL, 0, 0, "not before" };
static const view_field JD_RUNNING_ON = { NULL, NULL, 0, 0, "running on" };
static const view_field JD_LAST_RUN_ON = { NULL, NULL, 0, 0, "last run on" };
static const view_field JD_RESULT = { NULL, NULL, 0, 0, "result", VIEW_OMIT_EMPTY };
static const view_field JD_UNVERIFIED = { NULL, NULL, 0, 0, "unverified" };
static const view_field JD_LAST_ERROR = { NULL, NULL, 0, 0, "last error" };

static bool waiting(const job *j)
{
    return j->state == JOB_PENDING || j->state == JOB_FAILED;
}

/* Every field of a job: the row's columns, the detail's lines, the JSON. */
static void job_fields(view *v, const job *j, const view_field *note)
{
    view_u64(v, &J_ID, j->id);
    view_cstr(v, &J_STATE, job_state_name(j->state));
    view_str(v, &J_KIND, j->kind);
    view_u64(v, &J_ATTEMPTS, j->attempts);
    view_time(v, &J_UPDATED, j->updated_us);
    /* a study job's subject is "UID@NODE": the study, and where it goes; a
     * prefetch's "ACCESSION@TO<FROM": the order, and the two nodes */
    rl_str uid, to, acc, from;
    bool per_node = recon_job_split(j->subject, &uid, &to);
    rl_str to_text = per_node && !to.n ? RL_STR("(spool only)") : per_node ? to : RL_STR("every PACS");
    char order[RL_LO_SIZE + 16], dest[2 * RL_AE_TITLE_SIZE + 16];
    if (rl_str_eq_c(j->kind, "prefetch") && prefetch_subject_split(j->subject, &acc, &from, &to)) {
        snprintf(order, sizeof order, "accession %.*s", (int)(acc.n < RL_LO_SIZE ? acc.n : RL_LO_SIZE),
                 acc.p);
        snprintf(dest, sizeof dest, "%.*s<-%.*s", (int)(to.n < 17 ? to.n : 17), to.p,
                 (int)(from.n < 17 ? from.n : 17), from.p);
        uid = rl_str_c(order);
        to_text = rl_str_c(dest);
    }
    view_str(v, &J_STUDY, uid);
    view_str(v, &J_TO, to_text);
    view_str(v, note, j->state == JOB_RUNNING ? j->worker
                         : j->state == JOB_DONE  ? j->result
                                                 : j->last_error);
    view_time(v, &J_CREATED, j->created_us);
    view_time(v, &J_NOT_BEFORE, waiting(j) ? j->due_us : 0);
    view_str(v, &J_WORKER, j->worker);
    view_str(v, &J_RESULT, j->result);
    view_str(v, &J_ERROR, j->last_error);
    /* text lines of the detail */
    view_str(v, &JD_KIND, j->kind);
    view_str(v, &JD_STUDY, uid);
    view_str(v, &JD_TO, to_text);
    view_cstr(v, &JD_STATE, job_state_name(j->state));
    view_u64(v, &JD_ATTEMPTS, j->attempts);
    view_time(v, &JD_CREATED, j->created_us);
    view_time(v, &JD_UPDATED, j->updated_us);
    if (waiting(j))
        view_time(v, &JD_NOT_BEFORE, j->due_us);
    if (j->worker.n)
        view_str(v, j->state == JOB_RUNNING ? &JD_RUNNING_ON : &JD_LAST_RUN_ON, j->worker);
    view_str(v, &JD_RESULT, j->result);
    if (j->last_error.n)
        view_str(v, j->state == JOB_UNVERIFIED ? &JD_UNVERIFIED : &JD_LAST_ERROR, j->last_error);
}

/* ---- jobs list ---- */

typedef struct list_ctx {
    view *v;
    int state; /* 0: any */
    const char *kind; /* NULL: any */
    uint64_t limit, shown, next;
    const view_field *note; /* cut at 100 bytes, or whole (--wide) */
} list_ctx;

static int list_one(void *ctx, const job *j)
{
    list_ctx *l = ctx;
    if (l->state && (int)j->state != l->state)
        return 0;
    if (l->kind && !rl_str_eq_c(j->kind, l->kind))
        return 0;
    if (l->shown >= l->limit) {
        l->next = j->id;
        return 1;
    }
    l->shown++;
    view_row(l->v);
    job_fields(l->v, j, l->note);
    view_row_end(l->v);
    return 0;
}

int ops_jobs_list(op_call *c)
{
    const char *state = ops_str(c, "state");
    bool json = view_is_json(c->out);
    list_ctx l = { .v = c->out, .state = state ? (int)job_state_parse(state) : 0,
                   .kind = ops_str(c, "kind"),
                   .limit = ops_u64(c, "limit", json ? RL_API_LIST_DEFAULT * 2 : UINT64_MAX),
                   .note = ops_flag(c, "wide") ? &J_NOTE_WIDE : &J_NOTE };
    view_list(c->out, "jobs", l.note == &J_NOTE ? job_cols : job_cols_wide);
    rl_err err;
    int rc = job_each(c->t, ops_u64(c, "from", 1), list_one, &l, &err);
    view_list_end(c->out);
    if (rc != STORE_OK)
        return ops_store_fail(c->out, &err);
    view_json(c->out, "next_from", l.next ? json_integer((json_int_t)l.next) : json_null());
    view_printf(c->out, "(%llu job%s%s)\n", (unsigned long long)l.shown, l.shown == 1 ? "" : "s",
                l.next ? "; more after --limit" : "");
    return OP_OK;
}

/* ---- jobs show ---- */

/* The job a request names: OP_OK, or OP_NOTFOUND said. */
static int job_of(op_call *c, uint64_t id, job *j)
{
    rl_err err;
    int rc = job_get(c->t, id, j, &err);
    if (rc == STORE_NOTFOUND)
        return view_fail(c->out, OP_NOTFOUND, "no job %llu", (unsigned long long)id);
    return rc == STORE_OK ? OP_OK : ops_store_fail(c->out, &err);
}

int ops_jobs_show(op_call *c)
{
    uint64_t id = ops_u64(c, "ID", 0);
    job j;
    int st = job_of(c, id, &j);
    if (st != OP_OK)
        return st;
    view_printf(c->out, "job %llu\n", (unsigned long long)id);
    view_detail(c->out, 11);
    job_fields(c->out, &j, &J_NOTE_WIDE);
    view_detail_end(c->out);
    /* each attempt's end, the newest last: what a retry changed */
    view_json(c->out, "history", view_jstr(j.history));
    if (j.history.n)
        ops_text_block(c->out, "history", j.history);
    /* a study job sends the study's reports too: each with its state */
    rl_str uid, to;
    if (rl_str_eq_c(j.kind, "study")) {
        recon_job_split(j.subject, &uid, &to);
        char study[RL_UID_SIZE];
        snprintf(study, sizeof study, "%.*s", (int)(uid.n < RL_UID_SIZE ? uid.n : RL_UID_SIZE - 1),
                 uid.p);
        ops_study_reports(c, rl_str_c(study));
    }
    return OP_OK;
}

/* ---- jobs retry ---- */

typedef struct dead {
    uint64_t *ids;
    size_t n, cap;
} dead;

static int take_dead(void *ctx, const job *j)
{
    dead *d = ctx;
    if (j->state != JOB_DEAD)
        return 0;
    if (d->n == d->cap) {
        size_t cap = d->cap ? d->cap * 2 : 64;
        uint64_t *n = realloc(d->ids, cap * sizeof *n);
        if (!n)
            return 1;
        d->ids = n;
        d->cap = cap;
    }
    d->ids[d->n++] = j->id;
    return 0;
}

/* The jobs retry takes: every dead one (--dead), or ID. */
static int retry_targets(op_call *c, dead *d)
{
    rl_err err;
    if (ops_flag(c, "dead")) {
        if (job_each(c->t, 1, take_dead, d, &err) != STORE_OK)
            return ops_store_fail(c->out, &err);
        return OP_OK;
    }
    if (!ops_has(c, "ID"))
        return view_fail(c->out, OP_USAGE, "expected a job ID, or --dead");
    uint64_t id = ops_u64(c, "ID", 0);
    job j;
    int st = job_of(c, id, &j);
    if (st != OP_OK)
        return st;
    d->ids = malloc(sizeof *d->ids);
    if (!d->ids)
        return view_fail(c->out, OP_FAIL, "out of memory");
    d->ids[d->n++] = id;
    return OP_OK;
}

int ops_jobs_retry(op_call *c)
{
    dead d = { 0 };
    int status = retry_targets(c, &d);
    rl_err err;
    int rc = STORE_OK;
    for (size_t i = 0; status == OP_OK && rc == STORE_OK && i < d.n; i++) {
        uint64_t as;
        rc = job_retry(c->t, d.ids[i], c->now_us, &as, &err);
        if (rc == STORE_OK && as != d.ids[i])
            view_printf(c->out, "job %llu: its study has job %llu waiting already; that one "
                        "runs now\n", (unsigned long long)d.ids[i], (unsigned long long)as);
    }
    size_t n = d.n;
    free(d.ids);
    if (status != OP_OK)
        return status;
    if (rc != STORE_OK)
        return ops_store_fail(c->out, &err);
    view_printf(c->out, "%zu job%s back in line\n", n, n == 1 ? "" : "s");
    return OP_OK;
}
