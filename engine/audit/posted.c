/* Audit events the loop stores for others: DICOM Instances Transferred for
 * what the C-STORE SCP received (one event per study, sender and address in
 * a turn, not one per image: a CT of 500 slices sent on one association is
 * one event with its count), and events DICOM threads rendered (audit_cmd). */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "radlink/audit.h"
#include "radlink/audit_post.h"
#include "radlink/cmd.h"
#include "radlink/limits.h"
#include "radlink/receive.h"

typedef struct group {
    const study_inst *first;
    const char *cls[AUDIT_SOP_CLASSES - 1];
    unsigned n[AUDIT_SOP_CLASSES - 1];
    size_t nsop;
    unsigned other; /* instances of further SOP classes: one entry without UID */
} group;

static bool same(const study_inst *a, const study_inst *b)
{
    return !strcmp(a->f[STUDY_F_STUDY_UID], b->f[STUDY_F_STUDY_UID]) &&
           !strcmp(a->f[STUDY_F_CALLING_AE], b->f[STUDY_F_CALLING_AE]) &&
           !strcmp(a->peer, b->peer);
}

static void count(group *g, const char *cls)
{
    for (size_t i = 0; i < g->nsop; i++)
        if (!strcmp(g->cls[i], cls)) {
            g->n[i]++;
            return;
        }
    if (g->nsop < AUDIT_SOP_CLASSES - 1) {
        g->cls[g->nsop] = cls;
        g->n[g->nsop++] = 1;
    } else {
        g->other++;
    }
}

int audit_instances_received(store_txn *t, const cmd *cmds, rl_err *err)
{
    size_t n = 0, cap = 0;
    group *gs = NULL;
    int rc = STORE_OK;
    for (const cmd *c = cmds; c; c = cmd_next(c)) {
        if (c->kind != CMD_INSTANCE || c->q.status != 0 || c->duplicate)
            continue;
        const study_inst *in = c->u.instance.in;
        size_t i = 0;
        while (i < n && !same(gs[i].first, in))
            i++;
        if (i == n) {
            if (n == cap) {
                size_t nc = cap ? cap * 2 : 8;
                group *g = realloc(gs, nc * sizeof *g);
                if (!g) {
                    free(gs);
                    return rl_err_set(err, RL_E_NOMEM, -1, "audit: out of memory");
                }
                gs = g;
                cap = nc;
            }
            memset(&gs[n], 0, sizeof gs[n]);
            gs[n++].first = in;
        }
        count(&gs[i], in->f[STUDY_F_SOP_CLASS]);
    }
    for (size_t i = 0; rc == STORE_OK && i < n; i++) {
        const study_inst *in = gs[i].first;
        audit_event ev = { .kind = AUDIT_INSTANCES_TRANSFERRED, .action = 'C',
                           .patient_id = in->f[STUDY_F_PATIENT_ID],
                           .patient_name = in->f[STUDY_F_PATIENT_NAME],
                           .study_uid = in->f[STUDY_F_STUDY_UID],
                           .accession = in->f[STUDY_F_ACCESSION] };
        for (size_t k = 0; k < gs[i].nsop; k++) {
            ev.sop[k].uid = gs[i].cls[k];
            ev.sop[k].n = gs[i].n[k];
        }
        ev.nsop = gs[i].nsop;
        if (gs[i].other)
            ev.sop[ev.nsop++].n = gs[i].other;
        char addr[RL_PEER_TEXT_MAX];
        audit_received_from(&ev, in->f[STUDY_F_CALLING_AE], in->peer, addr, sizeof addr);
        rc = audit_record(t, &ev, err);
    }
    free(gs);
    return rc;
}

cmd *audit_cmd(const audit_event *ev)
{
    rl_buf facts;
    rl_buf_init(&facts, 0);
    audit_ready r;
    cmd *c = NULL;
    if (audit_prepare(ev, &r, &facts) == 0 && (c = calloc(1, sizeof *c + facts.len + 1))) {
        char *text = (char *)(c + 1);
        if (facts.len)
            memcpy(text, facts.data, facts.len);
        r.facts = (rl_str){ text, facts.len };
        c->kind = CMD_AUDIT;
        c->u.audit = r;
    }
    rl_buf_free(&facts);
    return c;
}

int audit_dicom_query(void *ctx, const char *calling_ae, const char *peer, const char *sop_class,
                      rl_str identifier)
{
    receiver *r = ctx;
    audit_event ev = { .kind = AUDIT_QUERY, .action = 'E', .query = identifier,
                       .query_sop_class = sop_class };
    char addr[RL_PEER_TEXT_MAX];
    audit_received_from(&ev, calling_ae, peer, addr, sizeof addr);
    cmd *c = audit_cmd(&ev);
    if (!c)
        return RL_E_NOMEM;
    int rc = cmdq_call(r->q, &c->q);
    free(c);
    return rc;
}

static pthread_mutex_t alert_lock = PTHREAD_MUTEX_INITIALIZER;
static int64_t alert_second;
static unsigned alert_count;
static unsigned long alert_skipped;

static bool alert_due(unsigned long *skipped)
{
    int64_t s = rl_mono_ms() / 1000;
    pthread_mutex_lock(&alert_lock);
    if (s != alert_second) {
        alert_second = s;
        alert_count = 0;
    }
    bool due = alert_count < RL_AUDIT_ALERTS_PER_S;
    if (due) {
        alert_count++;
        *skipped = alert_skipped;
        alert_skipped = 0;
    } else {
        alert_skipped++;
    }
    pthread_mutex_unlock(&alert_lock);
    return due;
}

cmd *audit_alert_cmd(audit_type type, const char *peer, const char *user, const char *what)
{
    unsigned long skipped;
    if (!alert_due(&skipped))
        return NULL;
    char text[RL_AUDIT_ALERT_TEXT], addr[RL_PEER_TEXT_MAX];
    snprintf(text, sizeof text, "%.300s", what);
    if (skipped)
        snprintf(text, sizeof text, "%.300s (and %lu more alerts not recorded one by one)", what,
                 skipped);
    audit_addr(peer, addr, sizeof addr);
    audit_event ev = { .kind = AUDIT_SECURITY_ALERT, .type = type, .action = 'E', .outcome = 4,
                       .outcome_text = text, .object_id = addr[0] ? addr : user,
                       .object_desc = text };
    ev.party[0] = (audit_party){ .user_id = user && *user ? user : addr, .address = addr,
                                 .requestor = true };
    ev.party[1] = (audit_party){ .user_id = audit_source_id() };
    ev.nparty = 2;
    return audit_cmd(&ev);
}

void audit_dicom_alert(void *ctx, const char *peer, const char *calling_ae, const char *what)
{
    receiver *r = ctx;
    cmd *c = audit_alert_cmd(AUDIT_T_NODE_AUTH, peer, calling_ae, what);
    if (c)
        cmdq_post(r->q, &c->q); /* refused after the close: freed there */
}
