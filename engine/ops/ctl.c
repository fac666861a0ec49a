/* Operators' state changes (radlink/ctl.h), one implementation for the
 * engine's control socket and for the CLI without an engine. */
#include "radlink/ctl.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "radlink/hl7.h"
#include "radlink/job.h"
#include "radlink/limits.h"
#include "radlink/queue.h"
#include "radlink/recon.h"
#include "radlink/wl.h"

/* ---- queue retry | park ---- */

static int requeue(store_txn *t, const char *dest, uint64_t qseq, int64_t now_us, rl_err *err)
{
    queue_item it;
    int rc = queue_get(t, dest, qseq, &it, err);
    if (rc != STORE_OK)
        return rc;
    /* copy what we rewrite: views die at the write */
    rl_buf payload, why;
    rl_buf_init(&payload, 0);
    rl_buf_init(&why, 0);
    rl_buf_add_str(&payload, it.payload);
    rl_buf_printf(&why, "retried by an administrator after: %.*s", RL_STR_FMT(it.last_error));
    it.payload = rl_buf_view(&payload);
    it.last_error = rl_buf_view(&why);
    it.state = QUEUE_PENDING;
    it.attempts = 0;
    it.next_us = now_us;
    rc = queue_update(t, &it, err);
    rl_buf_free(&payload);
    rl_buf_free(&why);
    return rc;
}

typedef struct parked {
    uint64_t *qseqs;
    size_t n, cap, seen;
} parked;

static int collect_parked(void *ctx, const queue_item *it)
{
    parked *p = ctx;
    p->seen++;
    if (it->state != QUEUE_PARKED)
        return 0;
    if (p->n == p->cap) {
        size_t cap = p->cap ? p->cap * 2 : 64;
        uint64_t *q = realloc(p->qseqs, cap * sizeof *q);
        if (!q)
            return 1;
        p->qseqs = q;
        p->cap = cap;
    }
    p->qseqs[p->n++] = it->qseq;
    return 0;
}

static int queue_retry(ctl_env *env, store_txn *t, const char *dest, const char *which,
                       rl_buf *out)
{
    rl_err err;
    parked p = { 0 };
    int rc;
    if (strcmp(which, "--all") == 0) {
        rc = queue_each(t, dest, collect_parked, &p, &err);
        if (rc == STORE_OK && p.seen == 0) {
            rl_buf_printf(out, "nothing is queued for destination '%s' (see 'radlink queue "
                          "list')\n", dest);
            return 1;
        }
    } else {
        uint64_t qseq;
        if (!rl_str_to_u64(rl_str_c(which), UINT64_MAX, &qseq)) {
            rl_buf_printf(out, "'%s' is not a queue number (QSEQ in 'radlink queue list')\n",
                          which);
            return 2;
        }
        queue_item it;
        rc = queue_get(t, dest, qseq, &it, &err);
        if (rc == STORE_NOTFOUND) {
            rl_buf_printf(out, "no message %llu in the queue of %s\n", (unsigned long long)qseq,
                          dest);
            return 1;
        }
        if (rc == STORE_OK && it.state != QUEUE_PARKED) {
            rl_buf_printf(out, "message %llu of %s is not parked: it is waiting for delivery "
                          "already\n", (unsigned long long)qseq, dest);
            return 1;
        }
        if (rc == STORE_OK)
            collect_parked(&p, &it);
    }
    for (size_t i = 0; rc == STORE_OK && i < p.n; i++)
        rc = requeue(t, dest, p.qseqs[i], env->now_us, &err);
    size_t n = p.n;
    free(p.qseqs);
    if (rc != STORE_OK) {
        rl_buf_printf(out, "%s\n", err.msg);
        return 1;
    }
    env->kick_senders = true;
    rl_buf_printf(out, "%zu message%s of %s back in the queue\n", n, n == 1 ? "" : "s", dest);
    return 0;
}

static int queue_park(ctl_env *env, store_txn *t, const char *dest, const char *which,
                      rl_buf *out)
{
    uint64_t qseq;
    if (!rl_str_to_u64(rl_str_c(which), UINT64_MAX, &qseq)) {
        rl_buf_printf(out, "'%s' is not a queue number (QSEQ in 'radlink queue list')\n", which);
        return 2;
    }
    rl_err err;
    queue_item it;
    int rc = queue_get(t, dest, qseq, &it, &err);
    if (rc == STORE_NOTFOUND) {
        rl_buf_printf(out, "no message %llu in the queue of %s\n", (unsigned long long)qseq, dest);
        return 1;
    }
    if (rc == STORE_OK && it.state != QUEUE_PENDING) {
        rl_buf_printf(out, "message %llu of %s is parked already\n", (unsigned long long)qseq,
                      dest);
        return 1;
    }
    rl_buf payload, why;
    rl_buf_init(&payload, 0);
    rl_buf_init(&why, 0);
    if (rc == STORE_OK) {
        rl_buf_add_str(&payload, it.payload);
        rl_buf_printf(&why, "parked by an administrator%s%.*s", it.last_error.n ? " after: " : "",
                      RL_STR_FMT(it.last_error));
        it.payload = rl_buf_view(&payload);
        it.last_error = rl_buf_view(&why);
        it.state = QUEUE_PARKED;
        rc = queue_update(t, &it, &err);
    }
    rl_buf_free(&payload);
    rl_buf_free(&why);
    if (rc != STORE_OK) {
        rl_buf_printf(out, "%s\n", err.msg);
        return 1;
    }
    env->kick_senders = true;
    rl_buf_printf(out, "message %llu of %s parked; the next one goes ('radlink queue retry %s "
                  "%llu' puts it back)\n", (unsigned long long)qseq, dest, dest,
                  (unsigned long long)qseq);
    return 0;
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

static int jobs_retry(ctl_env *env, store_txn *t, const char *which, rl_buf *out)
{
    rl_err err;
    dead d = { 0 };
    int rc = STORE_OK;
    if (strcmp(which, "--dead") == 0) {
        rc = job_each(t, 1, take_dead, &d, &err);
    } else {
        uint64_t id;
        if (!rl_str_to_u64(rl_str_c(which), UINT64_MAX, &id)) {
            rl_buf_printf(out, "'%s' is not a job ID\n", which);
            return 2;
        }
        d.ids = malloc(sizeof *d.ids);
        if (!d.ids) {
            rl_buf_add_c(out, "out of memory\n");
            return 1;
        }
        d.ids[d.n++] = id;
    }
    for (size_t i = 0; rc == STORE_OK && i < d.n; i++) {
        uint64_t as;
        rc = job_retry(t, d.ids[i], env->now_us, &as, &err);
        if (rc == STORE_OK && as != d.ids[i])
            rl_buf_printf(out, "job %llu: its study has job %llu waiting already; that one "
                          "runs now\n", (unsigned long long)d.ids[i], (unsigned long long)as);
    }
    size_t n = d.n;
    free(d.ids);
    if (rc != STORE_OK) {
        rl_buf_printf(out, "%s\n", err.msg);
        return 1;
    }
    rl_buf_printf(out, "%zu job%s back in line\n", n, n == 1 ? "" : "s");
    return 0;
}

/* ---- recon link ---- */

typedef struct first_key {
    char key[WL_KEY_MAX];
    size_t n;
    char modality[17]; /* the order's (its first step's) */
} first_key;

static int first(void *ctx, rl_str key, const wl_entry *e)
{
    first_key *f = ctx;
    f->n = key.n < sizeof f->key ? key.n : sizeof f->key;
    memcpy(f->key, key.p, f->n);
    rl_str m = wl_sps(e, WL_MODALITY);
    snprintf(f->modality, sizeof f->modality, "%.*s", (int)(m.n < 16 ? m.n : 16), m.p);
    return 1;
}

/* The modalities of a study's instances, "MR\\PR" style, and whether one of
 * its image modalities is want. Presentation states, key objects, reports,
 * registrations and documents go with any modality's images. */
typedef struct mods {
    store_txn *t;
    const char *want;
    char list[128];
    bool agree, images;
} mods;

static bool derived(const char *m)
{
    static const char *const d[] = { "PR", "KO", "SR", "REG", "DOC", "FID", "SEG", "" };
    for (size_t i = 0; i < sizeof d / sizeof *d; i++)
        if (strcmp(m, d[i]) == 0)
            return true;
    return false;
}

static bool in_list(const char *list, const char *m)
{
    size_t n = strlen(m);
    for (const char *p = list; *p;) {
        const char *e = strchr(p, '\\');
        size_t l = e ? (size_t)(e - p) : strlen(p);
        if (l == n && memcmp(p, m, n) == 0)
            return true;
        if (!e)
            break;
        p = e + 1;
    }
    return false;
}

static int one_modality(void *ctx, rl_str sop)
{
    mods *ms = ctx;
    study_inst *in = malloc(sizeof *in);
    rl_err err;
    if (in && study_get_instance(ms->t, sop, in, &err) == STORE_OK) {
        const char *m = in->f[STUDY_F_MODALITY];
        if (!derived(m)) {
            ms->images = true;
            ms->agree |= strcmp(m, ms->want) == 0;
        }
        size_t n = strlen(m), l = strlen(ms->list);
        if (n && !in_list(ms->list, m) && l + n + 2 < sizeof ms->list)
            snprintf(ms->list + l, sizeof ms->list - l, "%s%s", l ? "\\" : "", m);
    }
    free(in);
    return 0;
}

/* Another study that matched the order (the administrator is told). */
typedef struct claim_ctx {
    const char *self;
    char other[128];
} claim_ctx;

static int note_claimed(void *ctx, rl_str uid)
{
    claim_ctx *c = ctx;
    if (rl_str_eq_c(uid, c->self))
        return 0;
    snprintf(c->other, sizeof c->other, "%.*s", (int)(uid.n < 127 ? uid.n : 127), uid.p);
    return 1;
}

static int recon_link(ctl_env *env, store_txn *t, const char *study, const char *accession,
                      bool force, rl_buf *out)
{
    rl_err err;
    wl_query *q = calloc(1, sizeof *q);
    first_key fk = { .n = 0 };
    int rc = STORE_OK;
    if (!q) {
        rl_buf_add_c(out, "out of memory\n");
        return 1;
    }
    wl_query_add(q, 0, WL_ACCESSION, "SH", rl_str_c(accession));
    rc = wl_find(t, q, first, &fk, NULL, &err);
    free(q);
    if (rc == STORE_OK && !fk.n) {
        rl_buf_printf(out, "no worklist entry with accession number %s\n", accession);
        return 1;
    }
    study_rec s;
    if (rc == STORE_OK && (rc = study_get(t, rl_str_c(study), &s, &err)) == STORE_NOTFOUND) {
        rl_buf_printf(out, "no study %s\n", study);
        return 1;
    }
    /* an RT dose is not the MR the order asked for: an administrator says so
     * explicitly (--force) or links another order */
    mods ms = { .t = t, .want = fk.modality };
    if (rc == STORE_OK)
        rc = study_index_each(t, 'I', rl_str_c(study), one_modality, &ms, &err);
    if (rc == STORE_OK && fk.modality[0] && ms.images && !ms.agree && !force) {
        rl_buf_printf(out, "study %s holds %s images, the order %s is for %s: not linked "
                      "(--force links it anyway)\n", study, ms.list, accession, fk.modality);
        return 1;
    }
    claim_ctx cl = { .self = study };
    rl_str k = { fk.key, fk.n };
    if (rc == STORE_OK)
        rc = study_index_each(t, 'M', k, note_claimed, &cl, &err);
    recon_out ro;
    if (rc == STORE_OK)
        rc = recon_study(t, rl_str_c(study), &k, &ro, &err);
    if (rc == STORE_OK)
        rc = recon_schedule(t, rl_str_c(study), &ro, env->now_us, &err);
    if (rc != STORE_OK) {
        rl_buf_printf(out, "%s\n", err.msg);
        return 1;
    }
    rl_buf_printf(out, "study %s linked to accession %s: %s, %u discrepanc%s\n", study, accession,
                  recon_state_name(ro.state), ro.discrepancies,
                  ro.discrepancies == 1 ? "y" : "ies");
    if (cl.other[0])
        rl_buf_printf(out, "note: study %s matched this order too\n", cl.other);
    return 0;
}

/* ---- recon forward ---- */

static int recon_forward(ctl_env *env, store_txn *t, const char *study, rl_buf *out)
{
    rl_err err;
    study_rec s;
    int rc = study_get(t, rl_str_c(study), &s, &err);
    if (rc == STORE_NOTFOUND) {
        rl_buf_printf(out, "no study %s\n", study);
        return 1;
    }
    if (rc != STORE_OK) {
        rl_buf_printf(out, "%s\n", err.msg);
        return 1;
    }
    if (s.state != RECON_UNMATCHED && s.state != RECON_FORWARDED) {
        rl_buf_printf(out, "study %s is %s: its jobs send it as the RIS says (radlink jobs "
                      "list); recon forward is for studies no order claims\n", study,
                      recon_state_name(s.state));
        return 1;
    }
    recon_policy p;
    recon_policy_load(t, &p);
    if (!p.n_pacs) {
        rl_buf_add_c(out, "no PACS to forward to: configure <dicom><pacs>\n");
        return 1;
    }
    uint64_t id;
    bool created;
    rc = job_want(t, "study", rl_str_c(study), env->now_us, env->now_us, &id, &created, &err);
    if (rc == STORE_OK)
        rc = job_due_by(t, id, env->now_us, env->now_us, &err);
    if (rc != STORE_OK) {
        rl_buf_printf(out, "%s\n", err.msg);
        return 1;
    }
    rl_buf_printf(out, "study %s: job %llu sends it as it is, without an order\n", study,
                  (unsigned long long)id);
    return 0;
}

/* ---- msg replay ---- */

static int msg_replay(ctl_env *env, store_txn *t, int argc, char **argv, rl_buf *out)
{
    uint64_t seq;
    if (argc < 3 || !rl_str_to_u64(rl_str_c(argv[2]), UINT64_MAX, &seq)) {
        rl_buf_add_c(out, "expected one message number (SEQ)\n");
        return 2;
    }
    bool quiet = false;
    for (int i = 3; i < argc; i++) {
        if (strcmp(argv[i], "--quiet") == 0)
            quiet = true;
        if (strcmp(argv[i], "--dry-run") == 0)
            env->dry = true;
    }
    if (!env->ing || !env->routes) {
        rl_buf_add_c(out, "no routes to replay with\n");
        return 1;
    }
    rl_buf ack, trace;
    rl_buf_init(&ack, 0);
    rl_buf_init(&trace, 0);
    ingest_result res = { .ack = &ack };
    rl_err err;
    int rc = ingest_replay(env->ing, t, seq, env->routes, &res, quiet ? NULL : &trace, &err);
    int status;
    if (rc == STORE_OK) {
        rl_buf_add_str(out, rl_buf_view(&trace));
        rl_buf_printf(out, "message %llu %s with %s as message %llu: %s",
                      (unsigned long long)seq, env->dry ? "would be replayed" : "replayed",
                      route_source(env->routes), (unsigned long long)res.seq,
                      msglog_status_name(res.status));
        if (res.forwarded)
            rl_buf_printf(out, ", %u forward%s %s", res.forwarded,
                          res.forwarded == 1 ? "" : "s", env->dry ? "would be queued" : "queued");
        rl_buf_add_c(out, "\nACK:\n");
        for (size_t i = 0; i < ack.len; i++)
            rl_buf_add_ch(out, ack.data[i] == '\r' ? '\n' : ack.data[i]);
        /* a replay the routes refuse is logged like a refused message: it is
         * kept, and the exit status says it was refused */
        status = res.status == MSG_ACCEPTED ? 0 : 1;
        env->keep = !env->dry;
        env->kick_senders |= res.forwarded > 0 && !env->dry;
    } else {
        rl_buf_printf(out, "%s\n", err.msg);
        status = 1;
    }
    rl_buf_free(&ack);
    rl_buf_free(&trace);
    return status;
}

/* ---- wl put: entries read from worklist files by `radlink wl import` ---- */

static int unhex(const char *h, rl_buf *out)
{
    size_t n = strlen(h);
    if (n % 2)
        return -1;
    for (size_t i = 0; i < n; i += 2) {
        int v = 0;
        for (int k = 0; k < 2; k++) {
            char c = h[i + (size_t)k];
            int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
            if (d < 0)
                return -1;
            v = v << 4 | d;
        }
        if (rl_buf_add_ch(out, (char)v) != 0)
            return -1;
    }
    return 0;
}

static int wl_put_one(ctl_env *env, store_txn *t, rl_str rec, bool replace, bool dry,
                      rl_buf *out, bool *taken)
{
    *taken = false;
    wl_entry *e = malloc(sizeof *e), *old = malloc(sizeof *old);
    int status = 0;
    rl_err err;
    if (!e || !old || wl_decode(rec, e) != STORE_OK || !e->source.n) {
        rl_buf_add_c(out, e && old ? "a worklist entry that does not decode\n"
                                   : "out of memory\n");
        free(e), free(old);
        return 2;
    }
    char kb[WL_KEY_MAX];
    rl_str key = { kb, wl_key_of(e, kb, sizeof kb) };
    rl_str acc = wl_top(e, WL_ACCESSION), rp = wl_top(e, WL_RP_ID), sps = wl_sps(e, WL_SPS_ID);
    rl_buf_printf(out, "%.*s: accession %.*s procedure %.*s step %.*s ", RL_STR_FMT(e->source),
                  RL_STR_FMT(acc), RL_STR_FMT(rp), RL_STR_FMT(sps));
    int rc = wl_get(t, key, old, &err);
    if (rc == STORE_OK && !replace) {
        rl_buf_add_c(out, "not taken: on the worklist already (");
        if (old->msg_seq)
            rl_buf_printf(out, "from message %llu", (unsigned long long)old->msg_seq);
        else
            rl_buf_printf(out, "imported from %.*s", RL_STR_FMT(old->source));
        rl_buf_add_c(out, "); --replace writes over it\n");
        status = 1;
    } else if (rc == STORE_OK || rc == STORE_NOTFOUND) {
        bool existed = rc == STORE_OK;
        e->created_us = existed ? old->created_us : env->now_us;
        e->updated_us = env->now_us;
        e->msg_seq = 0;
        unsigned found = 0;
        rc = dry ? STORE_OK : wl_put(t, e, &err);
        if (rc == STORE_OK && !dry) /* images may have come before the entry */
            rc = recon_new_order(t, acc, wl_top(e, WL_PATIENT_ID), &found, &err);
        if (rc == STORE_OK) {
            rl_buf_printf(out, "%s%s (%zu attributes)", dry ? "would be " : "",
                          existed ? "replaced" : "written", e->n);
            if (found)
                rl_buf_printf(out, "; %u stud%s received before it now matched", found,
                              found == 1 ? "y" : "ies");
            rl_buf_add_ch(out, '\n');
            *taken = true;
        }
    }
    if (rc != STORE_OK && rc != STORE_NOTFOUND && status == 0) {
        rl_buf_printf(out, "not taken: %s\n", err.msg);
        status = 1;
    }
    free(e), free(old);
    return status;
}

static int wl_put_req(ctl_env *env, store_txn *t, int argc, char **argv, rl_buf *out)
{
    bool replace = false, dry = false;
    int i = 2, status = 0;
    for (; i < argc && argv[i][0] == '-'; i++) {
        if (!strcmp(argv[i], "--replace"))
            replace = true;
        else if (!strcmp(argv[i], "--dry-run"))
            dry = true;
        else {
            rl_buf_printf(out, "wl put: unknown option '%s'\n", argv[i]);
            return 2;
        }
    }
    rl_buf rec;
    rl_buf_init(&rec, RL_CTL_REQUEST_MAX);
    unsigned taken = 0;
    for (; i < argc; i++) {
        rl_buf_reset(&rec);
        bool ok;
        int s = unhex(argv[i], &rec) != 0 ? 2
                : wl_put_one(env, t, rl_buf_view(&rec), replace, dry, out, &ok);
        if (s == 2) {
            rl_buf_printf(out, "wl put: argument %d is not an encoded worklist entry\n", i);
            rl_buf_free(&rec);
            env->keep = false;
            return 2;
        }
        taken += ok;
        if (s > status)
            status = s;
    }
    rl_buf_free(&rec);
    /* the entries taken are kept even when others were not */
    env->keep = taken > 0 && !dry;
    return status;
}

/* ---- hl7 decide: the engine's answer to a message, nothing kept ---- */

static void add_lines(rl_buf *out, rl_str text, const char *indent, bool raw)
{
    size_t start = 0;
    for (size_t i = 0; i <= text.n; i++) {
        if (i < text.n && text.p[i] != '\r' && text.p[i] != '\n')
            continue;
        if (i > start) {
            rl_buf_add_c(out, indent);
            rl_buf_add(out, text.p + start, i - start);
            rl_buf_add_ch(out, raw ? '\r' : '\n');
        }
        start = i + 1;
    }
}

static rl_str trim_eol(rl_str v)
{
    while (v.n && (v.p[v.n - 1] == '\r' || v.p[v.n - 1] == '\n'))
        v.n--;
    return v;
}

static int hl7_decide(ctl_env *env, store_txn *t, int argc, char **argv, rl_buf *out)
{
    bool trace_on = false, raw = false;
    int i = 2;
    for (; i < argc && argv[i][0] == '-'; i++) {
        if (!strcmp(argv[i], "--trace"))
            trace_on = true;
        else if (!strcmp(argv[i], "--raw"))
            raw = true;
        else if (!strcmp(argv[i], "--routes") && i + 1 < argc)
            i++; /* loaded by the caller into env->routes */
        else
            break;
    }
    if (i + 1 != argc) {
        rl_buf_add_c(out, "hl7 decide: expected options and one message (hex)\n");
        return 2;
    }
    if (!env->ing || !env->routes) {
        rl_buf_add_c(out, "no routes to decide with\n");
        return 1;
    }
    rl_buf msg, ack, trace, after;
    rl_buf_init(&msg, 0);
    rl_buf_init(&ack, 0);
    rl_buf_init(&trace, 0);
    rl_buf_init(&after, 0);
    int status = 2;
    store_txn *child;
    rl_err err;
    if (unhex(argv[i], &msg) != 0) {
        rl_buf_add_c(out, "hl7 decide: the message is not hex\n");
    } else if (store_begin(NULL, t, true, &child, &err) != STORE_OK) {
        rl_buf_printf(out, "%s\n", err.msg);
        status = 1;
    } else {
        /* exactly what a received frame goes through, then undone */
        ingest_input in = { INGEST_FRAME, rl_buf_view(&msg), "dry run", "", "", env->now_us };
        ingest_result res = { .ack = &ack };
        int rc = ingest_run(env->ing, child, &in, env->routes, &res, trace_on ? &trace : NULL,
                            &err);
        if (rc == STORE_OK && trace_on && res.status == MSG_ACCEPTED)
            hl7_serialize(&env->ing->msg, &after);
        store_abort(child);
        if (rc != STORE_OK) {
            rl_buf_printf(out, "%s\n", err.msg);
            status = 1;
        } else {
            status = strcmp(res.ack_code, "AA") != 0;
            if (trace_on) {
                rl_buf_add_c(out, "(a dry run: what follows is undone, nothing is sent)\n");
                rl_buf_add_str(out, rl_buf_view(&trace));
                if (after.len && !rl_str_eq(trim_eol(rl_buf_view(&after)),
                                            trim_eol(rl_buf_view(&msg)))) {
                    rl_buf_add_c(out, "message after transforms:\n");
                    add_lines(out, rl_buf_view(&after), "  ", false);
                }
                rl_buf_printf(out, "%s; ACK that would be sent:\n",
                              res.status == MSG_DUPLICATE ? "a retransmission"
                                                          : msglog_status_name(res.status));
                add_lines(out, rl_buf_view(&ack), "  ", false);
            } else {
                add_lines(out, rl_buf_view(&ack), "", raw);
            }
        }
    }
    rl_buf_free(&msg);
    rl_buf_free(&ack);
    rl_buf_free(&trace);
    rl_buf_free(&after);
    env->dry = true;
    return status;
}

bool ctl_is_store_verb(int argc, char **argv)
{
    if (argc < 2)
        return false;
    return (!strcmp(argv[0], "queue") && (!strcmp(argv[1], "retry") || !strcmp(argv[1], "park"))) ||
           (!strcmp(argv[0], "jobs") && !strcmp(argv[1], "retry")) ||
           (!strcmp(argv[0], "recon") && (!strcmp(argv[1], "link") || !strcmp(argv[1], "forward"))) ||
           (!strcmp(argv[0], "msg") && !strcmp(argv[1], "replay")) ||
           (!strcmp(argv[0], "wl") && !strcmp(argv[1], "put")) ||
           (!strcmp(argv[0], "hl7") && !strcmp(argv[1], "decide"));
}

static int dispatch(ctl_env *env, store_txn *t, int argc, char **argv, rl_buf *out)
{
    if (argc == 4 && !strcmp(argv[0], "queue") && !strcmp(argv[1], "retry"))
        return queue_retry(env, t, argv[2], argv[3], out);
    if (argc == 4 && !strcmp(argv[0], "queue") && !strcmp(argv[1], "park"))
        return queue_park(env, t, argv[2], argv[3], out);
    if (argc == 3 && !strcmp(argv[0], "jobs") && !strcmp(argv[1], "retry"))
        return jobs_retry(env, t, argv[2], out);
    if ((argc == 4 || (argc == 5 && !strcmp(argv[4], "--force"))) && !strcmp(argv[0], "recon") &&
        !strcmp(argv[1], "link"))
        return recon_link(env, t, argv[2], argv[3], argc == 5, out);
    if (argc == 3 && !strcmp(argv[0], "recon") && !strcmp(argv[1], "forward"))
        return recon_forward(env, t, argv[2], out);
    if (argc >= 3 && !strcmp(argv[0], "msg") && !strcmp(argv[1], "replay"))
        return msg_replay(env, t, argc, argv, out);
    if (argc >= 2 && !strcmp(argv[0], "wl") && !strcmp(argv[1], "put"))
        return wl_put_req(env, t, argc, argv, out);
    if (argc >= 3 && !strcmp(argv[0], "hl7") && !strcmp(argv[1], "decide"))
        return hl7_decide(env, t, argc, argv, out);
    rl_buf_add_c(out, "not a request this engine takes\n");
    return 2;
}

int ctl_apply(ctl_env *env, store_txn *t, int argc, char **argv, rl_buf *out)
{
    env->keep = false;
    env->dry = false;
    int status = dispatch(env, t, argc, argv, out);
    if (status == 0 && !env->dry && !(argc >= 2 && !strcmp(argv[0], "wl") && !strcmp(argv[1], "put")))
        env->keep = true;
    if (env->dry)
        env->keep = false;
    return status;
}
