/* The dispatcher's part of the loop's turn (engine/job/dispatcher.h): in the
 * turn's transaction, record the outcomes workers reported and start due jobs
 * while workers have credit; after the commit, send the started attempts or
 * offer everything again. Each job in a nested transaction of its own. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "radlink/audit.h"
#include "radlink/job_msg.h"
#include "radlink/log.h"
#include "radlink/prefetch.h"
#include "radlink/recon_job.h"
#include "radlink/study.h"
#include "dispatcher.h"
#include "frames.h"

bool dispatch_pending(const dispatcher *d, int64_t now_us)
{
    if (!d || now_us < d->retry_after_us)
        return false;
    for (size_t i = 0; i < d->nout; i++)
        if (d->out[i].not_before_us <= now_us)
            return true;
    return dispatch_credit(d) > 0 && (!d->next_due_us || d->next_due_us <= now_us);
}

/* Run f in a nested transaction of t: its changes stay only if it succeeds. */
typedef int (*nested_fn)(dispatcher *d, store_txn *t, void *arg, rl_err *err);

static int nested(dispatcher *d, store_txn *t, nested_fn f, void *arg, rl_err *err)
{
    store_txn *child;
    int rc = store_begin(NULL, t, true, &child, err);
    if (rc)
        return rc;
    rc = f(d, child, arg, err);
    if (rc == STORE_OK)
        return store_commit(child, err);
    store_abort(child);
    return rc;
}

/* A study's instances going to the PACS (PS3.15 A.5.3.2 and A.5.3.4), and
 * its headers corrected (A.5.3.3), in the transaction that records it:
 * radlink the requestor and source, each PACS a destination. */
static int audit_transfer(dispatcher *d, store_txn *t, uint64_t job_id, audit_kind kind,
                          char action, unsigned instances, const char *failed, rl_err *err)
{
    job j;
    int rc = job_get(t, job_id, &j, err);
    if (rc != STORE_OK)
        return rc;
    /* the study, and the node the job sent it to (the destination) */
    rl_str us, node;
    recon_job_split(j.subject, &us, &node);
    char uid[RL_JOB_SUBJECT_MAX + 1];
    snprintf(uid, sizeof uid, "%.*s", RL_STR_FMT(us));
    char ae[RL_AE_TITLE_SIZE];
    snprintf(ae, sizeof ae, "%.*s", RL_STR_FMT(node));
    node = rl_str_c(ae);
    study_rec s;
    if ((rc = study_get(t, rl_str_c(uid), &s, err)) != STORE_OK)
        return rc == STORE_NOTFOUND ? STORE_OK : rc;
    if (!instances)
        instances = s.instances;
    char pid[RL_LO_SIZE], name[RL_PN_SIZE], acc[RL_LO_SIZE];
    snprintf(pid, sizeof pid, "%.*s", RL_STR_FMT(s.f[STUDY_F_PATIENT_ID]));
    snprintf(name, sizeof name, "%.*s", RL_STR_FMT(s.f[STUDY_F_PATIENT_NAME]));
    snprintf(acc, sizeof acc, "%.*s", RL_STR_FMT(s.f[STUDY_F_ACCESSION]));
    audit_event ev = { .kind = kind, .action = action, .outcome = failed ? 4 : 0,
                       .outcome_text = failed, .patient_id = pid, .patient_name = name,
                       .study_uid = uid, .accession = acc,
                       .sop = { { NULL, instances } }, .nsop = kind != AUDIT_INSTANCES_ACCESSED };
    ev.party[ev.nparty++] = (audit_party){ .user_id = audit_source_id(), .requestor = true,
                                           .role = kind == AUDIT_INSTANCES_ACCESSED
                                                       ? AUDIT_ROLE_NONE : AUDIT_ROLE_SOURCE };
    for (size_t i = 0; kind != AUDIT_INSTANCES_ACCESSED && i < d->cfg.n_pacs &&
                       ev.nparty < AUDIT_PARTIES; i++)
        if (!node.n || rl_str_eq_c(node, d->cfg.pacs[i].ae_title))
            ev.party[ev.nparty++] = (audit_party){ .user_id = d->cfg.pacs[i].ae_title,
                                                   .address = d->cfg.pacs[i].host,
                                                   .role = AUDIT_ROLE_DESTINATION };
    return audit_record(t, &ev, err);
}

/* Is job id of kind? */
static bool kind_is(store_txn *t, uint64_t id, const char *kind)
{
    job j;
    rl_err e;
    return job_get(t, id, &j, &e) == STORE_OK && rl_str_eq_c(j.kind, kind);
}

/* A study job's outcome says whether its node refused storage commitment:
 * remembered per node for `radlink status`. */
static void note_commit(dispatcher *d, rl_str subject, const outcome *o)
{
    rl_str uid, ae;
    if (!recon_job_split(subject, &uid, &ae))
        return;
    for (size_t i = 0; i < d->cfg.n_pacs; i++)
        if (rl_str_eq_c(ae, d->cfg.pacs[i].ae_title))
            d->no_commit_job[i] = strstr(o->text, "storage commitment refused") ? o->job : 0;
}

/* A prefetch is over: done, and the body part its order named dropped. */
static int prefetch_over(store_txn *t, const outcome *o, rl_str subject, int64_t now,
                         rl_err *err)
{
    int rc = job_done(t, o->job, o->attempt, rl_str_c(o->text), now, NULL, err);
    rl_str acc, from, to;
    char a[RL_LO_SIZE];
    if (rc == STORE_OK && prefetch_subject_split(subject, &acc, &from, &to)) {
        snprintf(a, sizeof a, "%.*s", (int)(acc.n < sizeof a ? acc.n : sizeof a - 1), acc.p);
        rc = prefetch_body_put(t, a, NULL, err);
    }
    return rc;
}

static int apply_outcome(dispatcher *d, store_txn *t, void *arg, rl_err *err)
{
    outcome *o = arg;
    int64_t now = rl_now_us();
    if (o->what == O_DONE || o->what == O_UNVERIFIED) {
        /* its kind ("study", "prefetch") and subject, read once and copied (a
         * write ends the views) */
        job j;
        rl_err e;
        char kind[16], subject[RL_JOB_SUBJECT_MAX + 1];
        kind[0] = subject[0] = '\0';
        if (job_get(t, o->job, &j, &e) == STORE_OK) {
            snprintf(kind, sizeof kind, "%.*s", RL_STR_FMT(j.kind));
            snprintf(subject, sizeof subject, "%.*s", RL_STR_FMT(j.subject));
        }
        if (o->what == O_DONE && !strcmp(kind, "prefetch"))
            return prefetch_over(t, o, rl_str_c(subject), now, err);
        if (!strcmp(kind, "study"))
            note_commit(d, rl_str_c(subject), o);
        unsigned changes = 0;
        int rc = recon_job_done(t, o->job, o->attempt, o->what == O_DONE, rl_str_c(o->text),
                                d->cfg.work_root, d->cfg.recv, now, &changes, err);
        if (rc == STORE_OK && changes)
            rc = audit_transfer(d, t, o->job, AUDIT_INSTANCES_ACCESSED, 'U', 0, NULL, err);
        if (rc == STORE_OK)
            rc = audit_transfer(d, t, o->job, AUDIT_INSTANCES_TRANSFERRED, 'R', 0,
                                o->what == O_DONE ? NULL : o->text, err);
        return rc;
    }
    job j;
    int rc = job_fail(t, o->job, o->attempt, rl_str_c(o->text), d->cfg.max_attempts, now, &j,
                      err);
    if (rc == STORE_OK)
        log_warn(j.state == JOB_DEAD ? "jobs.dead" : "jobs.failed",
                 "job=%llu attempt=%u retry_in_s=%lld error=\"%s\"", (unsigned long long)o->job,
                 o->attempt, j.state == JOB_DEAD ? -1LL : (long long)((j.due_us - now) / 1000000),
                 o->text);
    return rc;
}

typedef struct start_arg {
    uint64_t job;
    int w;
    rl_arena arena;
    job_msg msg;
    rl_buf encoded;
    bool started;
} start_arg;

/* A prefetch job: the configuration's nodes, the routes' rule. */
static int start_prefetch(dispatcher *d, store_txn *t, start_arg *a, const char *who,
                          rl_err *err)
{
    prefetch_node nodes[RL_MAX_PACS];
    for (size_t i = 0; i < d->cfg.n_pacs; i++) {
        prefetch_node *n = &nodes[i];
        memset(n, 0, sizeof *n);
        snprintf(n->peer.ae_title, sizeof n->peer.ae_title, "%s", d->cfg.pacs[i].ae_title);
        snprintf(n->peer.host, sizeof n->peer.host, "%s", d->cfg.pacs[i].host);
        n->peer.port = d->cfg.pacs[i].port;
        n->peer.tls = d->cfg.pacs[i].tls;
        n->peer.associations = d->cfg.pacs[i].associations;
        n->get = d->cfg.pacs[i].get;
        n->timeout_s = d->cfg.pacs[i].query_timeout_s;
        n->max_answers = d->cfg.pacs[i].max_answers;
    }
    int rc = prefetch_job_start(t, a->job, who, nodes, d->cfg.n_pacs,
                                d->cfg.routes ? *d->cfg.routes : NULL, d->cfg.work_root,
                                rl_now_us(), &a->msg, &a->arena, &a->started, err);
    if (rc == STORE_OK && a->started)
        rc = job_msg_encode(&a->msg, &a->encoded, err);
    return rc;
}

static int start_job(dispatcher *d, store_txn *t, void *arg, rl_err *err)
{
    start_arg *a = arg;
    if (kind_is(t, a->job, "prefetch")) {
        char who[sizeof "worker  ()" + RL_NUM_TEXT_MAX + RL_WORKER_NAME_SIZE];
        snprintf(who, sizeof who, "worker %d (%s)", a->w,
                 d->w[a->w].name[0] ? d->w[a->w].name : "?");
        return start_prefetch(d, t, a, who, err);
    }
    job_peer pacs[RL_MAX_PACS];
    for (size_t i = 0; i < d->cfg.n_pacs; i++)
        pacs[i] = (job_peer){ rl_str_c(d->cfg.pacs[i].ae_title), rl_str_c(d->cfg.pacs[i].host),
                              d->cfg.pacs[i].port, d->cfg.pacs[i].update,
                              d->cfg.pacs[i].verify, d->cfg.pacs[i].reject,
                              d->cfg.pacs[i].commit_timeout_s, d->cfg.pacs[i].tls.on,
                              rl_str_c(d->cfg.pacs[i].tls.ca), rl_str_c(d->cfg.pacs[i].tls.cert),
                              rl_str_c(d->cfg.pacs[i].tls.key), d->cfg.pacs[i].node,
                              d->cfg.pacs[i].associations };
    char who[sizeof "worker  ()" + RL_NUM_TEXT_MAX + RL_WORKER_NAME_SIZE];
    snprintf(who, sizeof who, "worker %d (%s)", a->w, d->w[a->w].name[0] ? d->w[a->w].name : "?");
    int rc = recon_job_start(t, a->job, who, pacs, d->cfg.n_pacs, d->cfg.work_root, rl_now_us(),
                             &a->msg, &a->arena, &a->started, err);
    /* de-identification derives UIDs from the site's secret */
    if (rc == STORE_OK && a->started && a->msg.n_progs)
        a->msg.secret = (rl_str){ (const char *)d->cfg.deid_secret, sizeof d->cfg.deid_secret };
    /* a message that cannot be encoded undoes the start with the rest */
    if (rc == STORE_OK && a->started)
        rc = job_msg_encode(&a->msg, &a->encoded, err);
    if (rc == STORE_OK && a->started)
        rc = audit_transfer(d, t, a->job, AUDIT_BEGIN_TRANSFER, 'E', (unsigned)a->msg.n_files,
                            NULL, err);
    return rc;
}

/* Errors that say nothing about the job itself: it is tried again later
 * rather than given up. */
static bool transient(int rc)
{
    return rc == RL_E_NOMEM || rc == RL_E_SYS || rc == STORE_E_IO || rc == STORE_E_FULL;
}

/* A job that cannot even start (its study record does not decode, its
 * message passes RL_JOB_MSG_MAX) is dead with the reason, not retried each turn. */
typedef struct bury_arg {
    uint64_t job;
    const char *why;
} bury_arg;

static int bury(dispatcher *d, store_txn *t, void *arg, rl_err *err)
{
    (void)d;
    bury_arg *b = arg;
    job j;
    int rc = job_get(t, b->job, &j, err);
    if (rc == STORE_OK && j.state != JOB_RUNNING)
        rc = job_start(t, b->job, "the engine", 0, 0, rl_now_us(), &j, err);
    if (rc == STORE_OK)
        rc = job_fail(t, b->job, j.attempts, rl_str_c(b->why), 1, rl_now_us(), NULL, err);
    return rc;
}

static void push_start(dispatcher *d, int w, start_arg *a)
{
    rl_buf *msg = &a->encoded;
    if (d->nstarts == d->capstarts) {
        size_t cap = d->capstarts ? d->capstarts * 2 : 8;
        start *n = realloc(d->starts, cap * sizeof *n);
        if (!n) {
            rl_buf_free(msg); /* never sent: its lease never exists, the job is
                               * taken back at the next start */
            return;
        }
        d->starts = n;
        d->capstarts = cap;
    }
    d->starts[d->nstarts++] = (start){ w, a->msg.id, a->msg.attempt, *msg };
    rl_buf_init(msg, RL_JOB_MSG_MAX); /* the bytes are the start's now */
}

/* A DONE that could not be recorded RL_JOB_OUTCOME_TRIES times becomes a
 * failed attempt (retried by a new one); an outcome that cannot be recorded
 * at all is dropped, and its job stays RUNNING until the engine's next start
 * takes it back (job_recover). */
static void give_up(dispatcher *d, outcome *o, const char *why)
{
    if (o->what == O_DONE) {
        rl_buf b;
        rl_buf_init(&b, RL_JOB_TEXT_MAX);
        rl_buf_printf(&b, "its result could not be recorded (%s); the worker said: %s", why,
                      o->text);
        char *t = malloc(b.len + 1);
        if (t) {
            memcpy(t, b.data ? b.data : "", b.len);
            t[b.len] = '\0';
            free(o->text);
            o->text = t;
            o->what = O_FAIL;
            o->tries = 0;
            o->not_before_us = 0;
        }
        rl_buf_free(&b);
        if (t)
            return;
    }
    log_error("jobs.stuck", "job=%llu attempt=%u error=\"%s\" reason=\"its outcome could not "
              "be recorded; the job stays running until the engine restarts\"",
              (unsigned long long)o->job, o->attempt, why);
    (void)d;
    o->recorded = true; /* dropped with the turn */
}

static void record_outcomes(dispatcher *d, store_txn *t, int64_t now_us, rl_err *err)
{
    for (size_t i = 0; i < d->nout; i++) {
        outcome *o = &d->out[i];
        bool again = true;
        while (again && !o->recorded && o->not_before_us <= now_us) {
            again = false;
            int rc = nested(d, t, apply_outcome, o, err);
            const char *what = o->what == O_DONE   ? "done"
                               : o->what == O_FAIL ? "failed"
                               : o->what == O_LOST ? "lost"
                                                   : "unverified";
            if (rc == JOB_E_STALE) { /* a superseded attempt: it changes nothing */
                d->late++;
                log_warn("jobs.late", "job=%llu attempt=%u outcome=%s reason=\"%s\"",
                         (unsigned long long)o->job, o->attempt, what, err->msg);
                o->recorded = true;
            } else if (rc == STORE_OK) {
                if (o->what == O_DONE)
                    log_info("jobs.done", "job=%llu attempt=%u result=\"%s\"",
                             (unsigned long long)o->job, o->attempt, o->text);
                if (o->what == O_UNVERIFIED) /* the text may quote what the PACS shows */
                    log_warn("jobs.unverified", "job=%llu attempt=%u hint=\"radlink jobs show "
                             "%llu\"", (unsigned long long)o->job, o->attempt,
                             (unsigned long long)o->job);
                o->what == O_DONE ? d->done++ : o->what == O_UNVERIFIED ? d->unverified++
                                                                        : d->failed++;
                o->recorded = true;
            } else {
                log_error("jobs.store", "job=%llu attempt=%u outcome=%s try=%u code=\"%s\" "
                          "error=\"%s\"", (unsigned long long)o->job, o->attempt, what,
                          o->tries + 1, rl_strerror(rc), err->msg);
                if (++o->tries < RL_JOB_OUTCOME_TRIES) {
                    o->not_before_us = now_us + (int64_t)o->tries * 1000000;
                } else {
                    give_up(d, o, err->msg);
                    again = true; /* a DONE turned FAIL is tried at once */
                }
            }
        }
    }
}

int dispatch_apply(dispatcher *d, store_txn *t, int64_t now_us, rl_err *err)
{
    if (!d || now_us < d->retry_after_us)
        return STORE_OK;
    record_outcomes(d, t, now_us, err);
    /* start due jobs while some worker has credit (credit is spent when the
     * attempt is sent, after the commit: count this turn's starts here) */
    int spent[RL_WORKERS_MAX] = { 0 };
    d->next_due_us = 0;
    for (unsigned guard = 0; guard < 1000; guard++) {
        int wi = -1;
        for (int i = 0; i < RL_WORKERS_MAX; i++)
            if (d->w[i].used && d->w[i].credit - spent[i] > 0 &&
                (wi < 0 || d->w[i].credit - spent[i] > d->w[wi].credit - spent[wi]))
                wi = i;
        uint64_t id;
        int64_t due;
        int rc = job_next_due(t, &id, &due, err);
        if (rc == STORE_NOTFOUND) {
            d->next_due_us = INT64_MAX;
            break;
        }
        if (rc) {
            log_error("jobs.store", "error=\"%s\"", err->msg);
            d->next_due_us = now_us + 1000000; /* look again in a second */
            break;
        }
        if (due > now_us) {
            d->next_due_us = due;
            break;
        }
        if (wi < 0)
            break; /* due now, nobody free: READY brings the next turn */
        start_arg a = { .job = id, .w = wi };
        rl_arena_init(&a.arena, 64 * 1024, RL_JOB_MSG_MAX * 2u);
        rl_buf_init(&a.encoded, RL_JOB_MSG_MAX);
        rc = nested(d, t, start_job, &a, err);
        bool stop = false;
        if (rc == STORE_OK && a.started) {
            spent[wi]++;
            log_info("jobs.dispatch", "job=%llu subject=%.*s worker=%d attempt=%u instances=%zu",
                     (unsigned long long)id, RL_STR_FMT(a.msg.subject), wi, a.msg.attempt,
                     a.msg.n_files);
            push_start(d, wi, &a);
        } else if (rc == STORE_OK) {
            log_info("jobs.done", "job=%llu result=\"nothing left to send\"",
                     (unsigned long long)id);
        } else if (transient(rc)) {
            /* the disk, the map or memory: the job waits, unchanged */
            log_error("jobs.store", "job=%llu code=\"%s\" error=\"cannot start: %s\" "
                      "retry_in_s=1", (unsigned long long)id, rl_strerror(rc), err->msg);
            d->next_due_us = now_us + 1000000;
            stop = true;
        } else {
            char why[sizeof "cannot start: " + sizeof err->msg];
            snprintf(why, sizeof why, "cannot start: %s", err->msg);
            bury_arg b = { id, why };
            if (nested(d, t, bury, &b, err) != STORE_OK) {
                log_error("jobs.store", "job=%llu error=\"%s\"", (unsigned long long)id, why);
                d->next_due_us = now_us + 1000000;
                stop = true;
            } else {
                log_error("jobs.dead", "job=%llu error=\"%s\"", (unsigned long long)id, why);
            }
        }
        rl_buf_free(&a.encoded);
        rl_arena_free(&a.arena);
        if (stop)
            break;
    }
    return STORE_OK;
}

void dispatch_after_commit(dispatcher *d, bool committed)
{
    if (!d)
        return;
    if (!committed) {
        /* nothing of the turn happened: its outcomes are offered again
         * (recording a DONE is idempotent: copies it already moved into the
         * spool are simply not found a second time) */
        for (size_t i = 0; i < d->nout; i++)
            d->out[i].recorded = false;
        for (size_t i = 0; i < d->nstarts; i++)
            rl_buf_free(&d->starts[i].msg);
        d->nstarts = 0;
        d->retry_after_us = rl_now_us() + 1000000;
        d->next_due_us = 0;
        return;
    }
    d->retry_after_us = 0;
    /* the outcomes recorded: their work directories go */
    size_t keep = 0;
    for (size_t i = 0; i < d->nout; i++) {
        outcome *o = &d->out[i];
        if (!o->recorded) {
            d->out[keep++] = *o;
            continue;
        }
        recon_work_remove(d->cfg.work_root, o->job, o->attempt);
        free(o->text);
    }
    d->nout = keep;
    for (size_t i = 0; i < d->nstarts; i++) {
        start *s = &d->starts[i];
        worker *w = &d->w[s->w];
        const char *fr[2] = { "JOB", s->msg.data ? s->msg.data : "" };
        size_t ln[2] = { 3, s->msg.len };
        if (w->used && frames_send(w->sock, w->id, w->idn, fr, ln, 2) == 0) {
            w->credit--;
            d->dispatched++;
        }
        /* sent or not, the attempt runs in the store: a lease that hears
         * nothing expires and the attempt fails */
        dispatch_add_lease(d, s->job, s->attempt, s->w);
        rl_buf_free(&s->msg);
    }
    d->nstarts = 0;
    /* sending may have consumed ZeroMQ's readiness signal */
    dispatch_drain(d, d->router);
    if (d->tcp)
        dispatch_drain(d, d->tcp);
}
