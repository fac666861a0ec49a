/* radlink trace ACCESSION | --patient ID | --study UID: the story of an
 * order, a patient or a study in time order, gathered from every record
 * that names it: HL7 messages (by the message indexes), worklist entries,
 * MPPS, studies and their reconciliation, jobs with each attempt, reports,
 * and the audit events about the patient. Each line names the record it
 * comes from and how to look at it (the CLI's command, the console's page).
 *
 * What is related: an accession's own messages, entries, studies (by the
 * study index) and their jobs and reports; a study's accession, and then as
 * for that accession; a patient's messages (PID-3 and MRG-1), and the
 * orders and studies they and the worklist name. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "msgfind_crit.h"
#include "ops_internal.h"
#include "radlink/audit.h"
#include "radlink/dicom.h"
#include "radlink/job.h"
#include "radlink/mpps.h"
#include "radlink/msgidx.h"
#include "radlink/msglog.h"
#include "radlink/prefetch.h"
#include "radlink/rec.h"
#include "radlink/recon.h"
#include "radlink/report.h"
#include "radlink/study.h"
#include "radlink/users.h"
#include "radlink/wl.h"

#define TRACE_SET_MAX 64         /* accessions, patients, studies followed */
#define TRACE_MSGS_MAX 2000      /* messages of one story */
#define TRACE_TEXT_MAX 600
#define TRACE_AUDIT_READ_MAX 20000 /* audit events read for one patient of a story */
#define TRACE_AUDIT_SLACK_US (60ll * 1000000)

typedef struct tevent {
    int64_t us;
    size_t n;  /* in order of finding: the tie-break after the kind's rank */
    char what[12];
    char ref[RL_UID_SIZE + 16];  /* the record: "message 12", "study 1.2.3" */
    char link[RL_UID_SIZE + 24]; /* the console's page: "/message/12" */
    char text[TRACE_TEXT_MAX];
} tevent;

typedef struct strset {
    char v[TRACE_SET_MAX][RL_UID_SIZE];
    size_t n;
} strset;

typedef struct story {
    op_call *c;
    store_txn *t;
    strset acc, pat, study;
    uint64_t *msgs;
    size_t nmsgs;
    tevent *ev;
    size_t nev, cap;
    int64_t first_us, last_us;
    bool from_patient;
    bool cut;  /* a bound was reached: not everything is shown */
} story;

static bool set_has(const strset *s, rl_str v)
{
    for (size_t i = 0; i < s->n; i++)
        if (rl_str_eq_c(v, s->v[i]))
            return true;
    return false;
}

static void set_add(story *st, strset *s, rl_str v)
{
    if (!v.n || v.n >= RL_UID_SIZE || set_has(s, v))
        return;
    if (s->n == TRACE_SET_MAX) {
        st->cut = true;
        return;
    }
    memcpy(s->v[s->n], v.p, v.n);
    s->v[s->n++][v.n] = '\0';
}

static void add_event(story *st, int64_t us, const char *what, const char *link,
                      const char *fmt, ...) __attribute__((format(printf, 5, 6)));

/* ref is "WHAT ID": the link's last part is the ID */
static void add_event(story *st, int64_t us, const char *what, const char *link,
                      const char *fmt, ...)
{
    if (!us)
        return;
    if (st->nev == st->cap) {
        size_t cap = st->cap ? st->cap * 2 : 64;
        tevent *nv = realloc(st->ev, cap * sizeof *nv);
        if (!nv) {
            st->cut = true;
            return;
        }
        st->ev = nv;
        st->cap = cap;
    }
    tevent *e = &st->ev[st->nev];
    e->n = st->nev++;
    e->us = us;
    snprintf(e->what, sizeof e->what, "%s", what);
    snprintf(e->link, sizeof e->link, "%s", link);
    /* "/message/12" -> "message 12"; the console's worklist page is /wl/ */
    const char *id = strchr(link + 1, '/');
    bool wl = !strncmp(link, "/wl/", 4);
    snprintf(e->ref, sizeof e->ref, "%.*s %s", wl ? 8 : id ? (int)(id - link - 1) : 0,
             wl ? "worklist" : link + 1, id ? id + 1 : link);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(e->text, sizeof e->text, fmt, ap);
    va_end(ap);
    if (!st->first_us || us < st->first_us)
        st->first_us = us;
    if (us > st->last_us)
        st->last_us = us;
}

/* ---- messages ---- */

static void add_msg(story *st, uint64_t seq)
{
    for (size_t i = 0; i < st->nmsgs; i++)
        if (st->msgs[i] == seq)
            return;
    if (st->nmsgs == TRACE_MSGS_MAX) {
        st->cut = true;
        return;
    }
    st->msgs[st->nmsgs++] = seq;
}

/* Every message under the index keys crit names. */
static void msgs_of(story *st, crit *c)
{
    rl_err err;
    crit_stream s;
    if (crit_resolve(st->t, c, &err) != STORE_OK || c->broad ||
        crit_stream_open(st->t, c, 1, UINT64_MAX, &s, &err) != STORE_OK) {
        crit_free(c);
        return;
    }
    for (uint64_t seq; (seq = crit_stream_next(&s)) != 0;)
        add_msg(st, seq);
    crit_stream_close(&s);
    crit_free(c);
}

static void msgs_by(story *st, char kind, const char *value)
{
    crit c;
    if (kind == 'I')
        crit_patient(&c, value);
    else
        crit_glob(&c, kind, "", value);
    msgs_of(st, &c);
}

/* A patient's messages tell their studies. */
static void follow_messages(story *st)
{
    hl7_msg m;
    hl7_msg_init(&m, &(hl7_limits){ .max_bytes = 256u << 20 });
    msgidx_keys k;
    msgidx_keys_init(&k);
    msglog_rec r = MSGLOG_REC_INIT;
    for (size_t i = 0; i < st->nmsgs; i++) {
        rl_err err;
        if (msglog_get(st->t, st->msgs[i], &r, &err) != STORE_OK)
            continue;
        msgidx_of_record(&r, &m, &k);
        size_t pos = 0;
        rl_str key;
        while (msgidx_keys_next(&k, &pos, &key)) {
            rl_str v = { key.p + 1, key.n - 1 };
            /* the orders are the worklist's and the studies' (an ORM's
                 * placer and filler numbers are not orders of their own) */
            if (key.p[0] == 'U')
                set_add(st, &st->study, v);
        }
    }
    msglog_rec_free(&r);
    msgidx_keys_free(&k);
    hl7_msg_free(&m);
}

static void message_events(story *st)
{
    msglog_rec r = MSGLOG_REC_INIT;
    for (size_t i = 0; i < st->nmsgs; i++) {
        rl_err err;
        if (msglog_get(st->t, st->msgs[i], &r, &err) != STORE_OK)
            continue;
        char link[32];
        snprintf(link, sizeof link, "/message/%llu", (unsigned long long)r.seq);
        rl_str why = r.error.n ? r.error : r.outcome;
        add_event(st, r.recv_us, "hl7", link, "%.*s %s (%.*s) from %.*s/%.*s, MSH-10 %.*s%s%.*s",
                  RL_STR_FMT(r.type), msglog_status_name(r.status), RL_STR_FMT(r.ack_code),
                  RL_STR_FMT(r.app), RL_STR_FMT(r.fac), RL_STR_FMT(r.ctrl), why.n ? ": " : "",
                  (int)(why.n > 300 ? 300 : why.n), why.p);
        report_rec rep;
        if (report_get(st->t, r.seq, &rep, &err) == STORE_OK)
            add_event(st, r.recv_us, "report", link, "report %c of accession %.*s: %s%s%.*s",
                      rep.status ? rep.status : '?', RL_STR_FMT(rep.accession),
                      report_state_name(rep.state), rep.study_uid.n ? ", study " : "",
                      RL_STR_FMT(rep.study_uid));
    }
    msglog_rec_free(&r);
}

/* ---- the worklist ---- */

static int study_uid_of(void *ctx, rl_str uid);

static int wl_one(void *ctx, rl_str key, const wl_entry *e)
{
    story *st = ctx;
    rl_str acc = wl_top(e, WL_ACCESSION);
    set_add(st, &st->pat, wl_top(e, WL_PATIENT_ID));
    /* the studies this order claimed (their own UID may differ from the entry's) */
    char k[RL_WL_KEY_MAX];
    if (key.n <= sizeof k) {
        memcpy(k, key.p, key.n);
        study_index_each(st->t, 'M', (rl_str){ k, key.n }, study_uid_of, st, &(rl_err){ 0 });
    }
    if (st->from_patient)
        set_add(st, &st->acc, acc);
    char link[RL_UID_SIZE + 16];
    snprintf(link, sizeof link, "/wl/%.*s", RL_STR_FMT(acc));
    add_event(st, e->created_us, "worklist", link, "entry %.*s/%.*s/%.*s created%s%.*s",
              RL_STR_FMT(acc), RL_STR_FMT(wl_top(e, WL_RP_ID)), RL_STR_FMT(wl_sps(e, WL_SPS_ID)),
              e->source.n ? " from " : "", RL_STR_FMT(e->source));
    char byw[48] = "";
    if (e->msg_seq)
        snprintf(byw, sizeof byw, " by message %llu", (unsigned long long)e->msg_seq);
    add_event(st, e->updated_us, "worklist", link, "entry %.*s/%.*s/%.*s now %.*s%s: %.*s at "
              "%.*s, %.*s", RL_STR_FMT(acc), RL_STR_FMT(wl_top(e, WL_RP_ID)),
              RL_STR_FMT(wl_sps(e, WL_SPS_ID)),
              RL_STR_FMT(wl_sps(e, WL_SPS_STATUS)), byw, RL_STR_FMT(wl_sps(e, WL_MODALITY)),
              RL_STR_FMT(wl_sps(e, WL_STATION_AE)), RL_STR_FMT(wl_sps(e, WL_SPS_DATE)));
    return 0;
}

static void worklist_of(story *st, uint32_t tag, const char *value)
{
    wl_query *q = calloc(1, sizeof *q);
    if (!q)
        return;
    wl_query_add(q, 0, tag, tag == WL_ACCESSION ? "SH" : "LO", rl_str_c(value));
    rl_err err;
    wl_find(st->t, q, wl_one, st, NULL, &err);
    free(q);
}

/* ---- studies ---- */

static int study_uid_of(void *ctx, rl_str uid)
{
    story *st = ctx;
    set_add(st, &st->study, uid);
    return 0;
}

static int note_line(void *ctx, rl_str kw, rl_str image, rl_str ris)
{
    rl_buf *b = ctx;
    rl_buf_printf(b, "%s%.*s '%.*s' -> '%.*s'", b->len ? "; " : "", RL_STR_FMT(kw),
                  RL_STR_FMT(image), RL_STR_FMT(ris));
    return 0;
}

/* The instances of a study, by the AE title that sent them. */
typedef struct senders {
    story *st;
    struct {
        char ae[RL_STUDY_FIELD_SIZE], modality[RL_STUDY_FIELD_SIZE];
        int64_t first_us;
        unsigned n;
    } by[8];
    size_t n;
    unsigned read;
} senders;

static int instance_one(void *ctx, rl_str sop)
{
    senders *s = ctx;
    study_inst *in = malloc(sizeof *in);
    rl_err err;
    if (!in || ++s->read > TRACE_MSGS_MAX * 10 ||
        study_get_instance(s->st->t, sop, in, &err) != STORE_OK) {
        free(in);
        return s->read > TRACE_MSGS_MAX * 10;
    }
    size_t i = 0;
    while (i < s->n && strcmp(s->by[i].ae, in->f[STUDY_F_CALLING_AE]))
        i++;
    if (i == s->n && s->n < sizeof s->by / sizeof *s->by) {
        snprintf(s->by[i].ae, sizeof s->by[i].ae, "%s", in->f[STUDY_F_CALLING_AE]);
        snprintf(s->by[i].modality, sizeof s->by[i].modality, "%s", in->f[STUDY_F_MODALITY]);
        s->by[i].first_us = in->received_us;
        s->by[i].n = 0;
        s->n++;
    }
    if (i < s->n) {
        s->by[i].n++;
        if (in->received_us < s->by[i].first_us)
            s->by[i].first_us = in->received_us;
    }
    free(in);
    return 0;
}

static void study_events(story *st, const char *uid)
{
    study_rec s;
    rl_err err;
    if (study_get(st->t, rl_str_c(uid), &s, &err) != STORE_OK)
        return;
    set_add(st, &st->acc, s.f[STUDY_F_ACCESSION]);
    set_add(st, &st->pat, s.f[STUDY_F_PATIENT_ID]);
    char link[RL_UID_SIZE + 16];
    snprintf(link, sizeof link, "/study/%s", uid);
    uint32_t total = s.instances;
    senders *who = calloc(1, sizeof *who);
    if (who) {
        who->st = st;
        study_index_each(st->t, 'I', rl_str_c(uid), instance_one, who, &err);
        for (size_t i = 0; i < who->n; i++)
            add_event(st, who->by[i].first_us, "study", link, "%u of its %u instance%s received "
                      "from %s (%s), the first at this time", who->by[i].n, (unsigned)total,
                      total == 1 ? "" : "s", who->by[i].ae, who->by[i].modality);
        free(who);
    }

    rl_buf notes;
    rl_buf_init(&notes, 0);
    recon_note_each(s.note, note_line, &notes);
    add_event(st, s.updated_us, "recon", link, "%s%s%.*s%s%.*s%s%.*s",
              recon_state_name(s.state), s.matched.n ? ", order " : "",
              (int)strcspn(s.matched.p ? s.matched.p : "", ""), s.matched.p ? s.matched.p : "",
              notes.len ? "; discrepancies: " : "", (int)notes.len, notes.data ? notes.data : "",
              s.dests.n ? "; goes to " : "", RL_STR_FMT(s.dests));
    rl_buf_free(&notes);
}

/* ---- MPPS ---- */

typedef struct mpps_walk {
    story *st;
    dicom_mpps_info *info;
} mpps_walk;

static int mpps_one(void *ctx, rl_str uid)
{
    mpps_walk *w = ctx;
    story *st = w->st;
    mpps_rec m;
    rl_err err;
    char link[RL_UID_SIZE + 16];
    snprintf(link, sizeof link, "/mpps/%.*s", RL_STR_FMT(uid));
    for (size_t i = 0; i < st->nev; i++)
        if (!strcmp(st->ev[i].link, link))
            return 0; /* named by two of the story's orders */
    if (mpps_get(st->t, uid, &m, &err) != STORE_OK)
        return 0;
    rl_err ierr;
    bool read = dicom_mpps_info_read(m.dataset, w->info, &ierr) == 0;
    add_event(st, m.created_us, "mpps", link, "IN PROGRESS from %.*s%s%s",
              RL_STR_FMT(m.calling_ae), read ? ": " : "", read ? w->info->modality : "");
    if (m.updated_us != m.created_us)
        add_event(st, m.updated_us, "mpps", link, "%s%s%u series, %u images",
                  mpps_state_name(m.state), read ? ": " : "", read ? w->info->series : 0,
                  read ? w->info->instances : 0);
    return 0;
}

/* The MPPS of the story's orders (the MPPS index by accession). */
static void mpps_events(story *st)
{
    mpps_walk w = { st, malloc(sizeof *w.info) };
    rl_err err;
    for (size_t i = 0; w.info && i < st->acc.n; i++)
        mpps_each_of_accession(st->t, rl_str_c(st->acc.v[i]), mpps_one, &w, &err);
    free(w.info);
}

/* ---- jobs ---- */

/* "2026-12-07T00:49:59.283501Z" (rl_time_iso) -> microseconds; 0 if not that. */
static int64_t iso_us(const char *p)
{
    static const int at[] = { 0, 5, 8, 11, 14, 17, 20 }, len[] = { 4, 2, 2, 2, 2, 2, 6 };
    int v[7];
    for (int f = 0; f < 7; f++) {
        v[f] = 0;
        for (int i = 0; i < len[f]; i++) {
            char c = p[at[f] + i];
            if (c < '0' || c > '9')
                return 0;
            v[f] = v[f] * 10 + (c - '0');
        }
    }
    struct tm tm = { .tm_year = v[0] - 1900, .tm_mon = v[1] - 1, .tm_mday = v[2],
                     .tm_hour = v[3], .tm_min = v[4], .tm_sec = v[5] };
    return (int64_t)timegm(&tm) * 1000000 + v[6];
}

static int job_one(void *ctx, const job *j)
{
    story *st = ctx;
    rl_str acc, from, to, uid = j->subject;
    const char *at = memchr(j->subject.p, '@', j->subject.n);
    bool prefetch = rl_str_eq_c(j->kind, "prefetch");
    if (prefetch) {
        if (!prefetch_subject_split(j->subject, &acc, &from, &to) || !set_has(&st->acc, acc))
            return 0;
    } else {
        if (at)
            uid.n = (size_t)(at - j->subject.p);
        if (!set_has(&st->study, uid))
            return 0;
    }
    char link[32];
    snprintf(link, sizeof link, "/job/%llu", (unsigned long long)j->id);
    add_event(st, j->created_us, prefetch ? "prefetch" : "job", link, "%.*s job for %.*s",
              RL_STR_FMT(j->kind), RL_STR_FMT(j->subject));
    for (size_t i = 0, start = 0; i < j->history.n; i++) {
        if (j->history.p[i] != '\n')
            continue;
        char line[TRACE_TEXT_MAX];
        snprintf(line, sizeof line, "%.*s", (int)(i - start), j->history.p + start);
        char *sp = strchr(line, ' ');
        add_event(st, iso_us(line), prefetch ? "prefetch" : "job", link, "%s", sp ? sp + 1 : line);
        start = i + 1;
    }
    if (!j->history.n || j->state != JOB_DONE)
        add_event(st, j->updated_us, prefetch ? "prefetch" : "job", link, "%s%s%.*s",
                  job_state_name(j->state), j->last_error.n ? ": " : "",
                  RL_STR_FMT(j->last_error));
    return 0;
}

/* ---- audit ---- */

/* The events about the story's patients (the audit index, 'E'), within
 * its time and a minute either side. */
static void audit_events(story *st)
{
    /* the audit trail is an administrator's (audit list) */
    if (!st->pat.n || !st->first_us || (st->c->role && st->c->role < USERS_ADMIN))
        return;
    int64_t from = st->first_us - TRACE_AUDIT_SLACK_US, until = st->last_us + TRACE_AUDIT_SLACK_US;
    size_t npat = st->pat.n;
    for (size_t i = 0; i < npat; i++) {
        crit c;
        crit_glob(&c, 'E', "audit", st->pat.v[i]);
        rl_err err;
        crit_stream s;
        if (crit_resolve(st->t, &c, &err) == STORE_OK && !c.broad &&
            crit_stream_open(st->t, &c, 1, UINT64_MAX, &s, &err) == STORE_OK) {
            unsigned read = 0;
            for (uint64_t seq; (seq = crit_stream_next(&s)) != 0;) {
                if (++read > TRACE_AUDIT_READ_MAX) {
                    st->cut = true;
                    break;
                }
                unsigned char key[RL_BE64_BYTES];
                rec_be64(seq, key);
                rl_str v;
                audit_rec r;
                if (store_get(st->t, STORE_AUDIT, (rl_str){ (char *)key, sizeof key }, &v, &err) !=
                        STORE_OK || audit_decode(st->t, seq, v, &r) != STORE_OK)
                    continue;
                if (r.time_us < from)
                    break; /* newest first: the rest is older */
                if (r.time_us > until)
                    continue;
                char link[32];
                snprintf(link, sizeof link, "/audit/%llu", (unsigned long long)seq);
                add_event(st, r.time_us, "audit", link, "%s (%u)%s%c", audit_kind_name(r.code),
                          (unsigned)r.code, r.action ? ", action " : "", r.action ? r.action : ' ');
            }
            crit_stream_close(&s);
        }
        crit_free(&c);
    }
}

/* ---- the story ---- */

/* At the same time, in the order things follow from each other. */
static int rank(const char *what)
{
    static const char *const order[] = { "hl7", "report", "worklist", "mpps", "study", "recon",
                                         "job", "prefetch", "audit" };
    for (size_t i = 0; i < sizeof order / sizeof *order; i++)
        if (!strcmp(what, order[i]))
            return (int)i;
    return 99;
}

static int by_time(const void *a, const void *b)
{
    const tevent *x = a, *y = b;
    if (x->us != y->us)
        return x->us < y->us ? -1 : 1;
    int rx = rank(x->what), ry = rank(y->what);
    if (rx != ry)
        return rx - ry;
    return x->n < y->n ? -1 : x->n > y->n;
}

static void gather(story *st)
{
    for (size_t i = 0; i < st->study.n && st->from_patient == false && !st->acc.n; i++)
        study_events(st, st->study.v[i]); /* from a study: its accession first */
    if (st->from_patient) {
        msgs_by(st, 'I', st->pat.v[0]);
        follow_messages(st);
        worklist_of(st, WL_PATIENT_ID, st->pat.v[0]);
        study_index_each(st->t, 'P', rl_str_c(st->pat.v[0]), study_uid_of, st, &(rl_err){ 0 });
    }
    for (size_t i = 0; i < st->acc.n; i++) {
        msgs_by(st, 'A', st->acc.v[i]);
        if (!st->from_patient)
            worklist_of(st, WL_ACCESSION, st->acc.v[i]);
        study_index_each(st->t, 'A', rl_str_c(st->acc.v[i]), study_uid_of, st, &(rl_err){ 0 });
    }
    size_t known = st->nev; /* a study's events, when it was the subject, are in already */
    for (size_t i = 0; i < st->study.n; i++) {
        msgs_by(st, 'U', st->study.v[i]);
        bool done = false;
        char link[RL_UID_SIZE + 16];
        snprintf(link, sizeof link, "/study/%s", st->study.v[i]);
        for (size_t e = 0; e < known; e++)
            done |= !strcmp(st->ev[e].link, link);
        if (!done)
            study_events(st, st->study.v[i]);
    }
    message_events(st);
    mpps_events(st);
    rl_err err;
    for (size_t i = 0; i < st->study.n; i++)
        job_each_about(st->t, rl_str_c(st->study.v[i]), job_one, st, &err);
    for (size_t i = 0; i < st->acc.n; i++) /* prefetches */
        job_each_about(st->t, rl_str_c(st->acc.v[i]), job_one, st, &err);
    audit_events(st);
    if (st->nev)
        qsort(st->ev, st->nev, sizeof *st->ev, by_time);
}

static const view_field T_TIME = { "time", "TIME", 19, 0, NULL, VIEW_ISO };
static const view_field T_WHAT = { "what", "WHAT", 8 };
static const view_field T_REF = { "ref", "RECORD", 24 };
static const view_field T_LINK = { "link" };
static const view_field T_TEXT = { "text", "WHAT HAPPENED", 0 };
static const view_field *const trace_cols[] = { &T_TIME, &T_WHAT, &T_REF, &T_TEXT, NULL };

static void set_json(view *v, const char *key, const strset *s)
{
    json_t *a = json_array();
    for (size_t i = 0; i < s->n; i++)
        json_array_append_new(a, json_string(s->v[i]));
    view_json(v, key, a);
}

static void set_text(view *v, const char *label, const strset *s)
{
    view_printf(v, "%-11s", label);
    for (size_t i = 0; i < s->n; i++)
        view_printf(v, "%s%s", i ? ", " : "", s->v[i]);
    view_printf(v, "%s\n", s->n ? "" : "-");
}

int ops_trace(op_call *c)
{
    const char *acc = ops_str(c, "ACCESSION"), *pat = ops_str(c, "patient"),
               *uid = ops_str(c, "study");
    if (!!acc + !!pat + !!uid != 1)
        return view_fail(c->out, OP_USAGE, "give one of ACCESSION, --patient ID or --study UID");
    story *st = calloc(1, sizeof *st);
    uint64_t *msgs = malloc(TRACE_MSGS_MAX * sizeof *msgs);
    if (!st || !msgs) {
        free(st);
        free(msgs);
        return view_fail(c->out, OP_FAIL, "out of memory");
    }
    st->c = c;
    st->t = c->t;
    st->msgs = msgs;
    st->from_patient = pat != NULL;
    set_add(st, acc ? &st->acc : pat ? &st->pat : &st->study, rl_str_c(acc ? acc : pat ? pat : uid));
    int64_t t0 = rl_now_us();
    gather(st);
    int64_t took = rl_now_us() - t0;
    view *v = c->out;
    view_printf(v, "trace of %s %s\n", acc ? "accession" : pat ? "patient" : "study",
                acc ? acc : pat ? pat : uid);
    set_text(v, "orders", &st->acc);
    set_text(v, "patients", &st->pat);
    set_text(v, "studies", &st->study);
    set_json(v, "accessions", &st->acc);
    set_json(v, "patients", &st->pat);
    set_json(v, "studies", &st->study);
    view_printf(v, "\n");
    view_list(v, "events", trace_cols);
    for (size_t i = 0; i < st->nev; i++) {
        tevent *e = &st->ev[i];
        view_row(v);
        view_time(v, &T_TIME, e->us);
        view_cstr(v, &T_WHAT, e->what);
        view_cstr(v, &T_REF, e->ref);
        view_cstr(v, &T_LINK, e->link);
        view_cstr(v, &T_TEXT, e->text);
        view_row_end(v);
    }
    view_list_end(v);
    view_json(v, "cut", json_boolean(st->cut));
    view_json(v, "trace_ms", json_real((double)took / 1000.0));
    if (st->cut)
        view_printf(v, "(not everything: the story is longer than radlink trace shows at once)\n");
    bool found = st->nev > 0;
    if (!found)
        view_printf(v, "nothing in the store names it\n");
    free(st->ev);
    free(msgs);
    free(st);
    return found ? OP_OK : OP_NOTFOUND;
}
