/* What the HTTP listener asks the engine's loop over the control socket:
 * the counters only the loop keeps (messages, ACK latency, connections,
 * workers, DICOM), its health, and the destinations it sends to. The loop
 * owns these numbers; asking it keeps them free of locks. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine.h"
#include "radlink/http.h"
#include "radlink/limits.h"
#include "radlink/msglog.h"
#include "radlink/metrics.h"
#include "radlink/route.h"

struct msg_series {
    char listener[RL_LISTENER_TEXT_MAX], type[RL_MSG_TYPE_TEXT_MAX];
    int status;
    uint64_t n;
};

void engine_count_messages(engine *e, const char *listener, const char *type, int status,
                           unsigned n)
{
    if (!n)
        return;
    if (!e->series && !(e->series = calloc(RL_METRICS_MSG_SERIES, sizeof *e->series)))
        return;
    const char *ty = type && type[0] ? type : "none";
    struct msg_series *other = NULL;
    for (size_t i = 0; i < e->nseries; i++) {
        struct msg_series *s = &e->series[i];
        if (s->status != status || strcmp(s->listener, listener) != 0)
            continue;
        if (strcmp(s->type, ty) == 0) {
            s->n += n;
            return;
        }
        if (strcmp(s->type, "other") == 0)
            other = s;
    }
    /* a new series; the last slots of a full table go to "other" */
    if (e->nseries + 8 >= RL_METRICS_MSG_SERIES) {
        if (other) {
            other->n += n;
            return;
        }
        if (e->nseries >= RL_METRICS_MSG_SERIES)
            return;
        ty = "other";
    }
    struct msg_series *s = &e->series[e->nseries++];
    snprintf(s->listener, sizeof s->listener, "%s", listener);
    snprintf(s->type, sizeof s->type, "%s", ty);
    s->status = status;
    s->n = n;
}

unsigned engine_listener_rows(engine *e, listener_row *rows)
{
    unsigned n = 0;
    if (e->srv) {
        mllp_stats ms;
        mllp_server_stats(e->srv, &ms);
        rows[n++] = (listener_row){ "mllp", ms.unidentified, ms.open, ms.max_conns, ms.pressure,
                                    ms.evicted, ms.stress_closed, ms.denied };
    }
    net_gate_stats g[3];
    const char *names[3];
    unsigned nd = dicom_scp_gates(e->dicom, g, names, 2);
    if (e->http)
        http_gate_stats(e->http, &g[nd]), names[nd++] = "http";
    for (unsigned i = 0; i < nd && n < RL_LISTENER_ROWS; i++)
        rows[n++] = (listener_row){ names[i], g[i].waiting, g[i].waiting, g[i].max_waiting,
                                    g[i].pressure, g[i].evicted, g[i].timed_out, g[i].denied };
    return n;
}

/* Each listener's pressure and what it shed. */
static void listener_metrics(engine *e, rl_buf *out)
{
    listener_row rows[RL_LISTENER_ROWS];
    unsigned n = engine_listener_rows(e, rows);
    struct { const char *name, *type, *help; } m[] = {
        { "radlink_listener_pressure", "gauge",
          "1 while more than half of a listener's connections are open (the unidentified get "
          "the stress timeout)" },
        { "radlink_listener_unidentified", "gauge",
          "connections that have not yet sent a complete first message" },
        { "radlink_listener_evicted_total", "counter",
          "unidentified connections closed to admit a new one" },
        { "radlink_listener_closed_waiting_total", "counter",
          "unidentified connections closed by their timeout (the stress timeout under pressure)" },
        { "radlink_listener_denied_total", "counter",
          "connections closed at accept: not in allow-from" },
    };
    for (size_t k = 0; k < sizeof m / sizeof m[0]; k++) {
        metrics_head(out, m[k].name, m[k].type, m[k].help);
        for (unsigned i = 0; i < n; i++) {
            char labels[RL_METRICS_NAME_MAX] = "";
            metrics_label(labels, sizeof labels, "listener", rl_str_c(rows[i].name));
            double v = k == 0   ? rows[i].pressure
                       : k == 1 ? rows[i].unidentified
                       : k == 2 ? (double)rows[i].evicted
                       : k == 3 ? (double)rows[i].stress_closed
                                : (double)rows[i].denied;
            metrics_value(out, m[k].name, labels, v);
        }
    }
}

int engine_metrics(engine *e, rl_buf *out)
{
    metrics_head(out, "radlink_messages_total", "counter",
                 "HL7 messages committed, by listener, message type and outcome");
    for (size_t i = 0; i < e->nseries; i++) {
        const struct msg_series *s = &e->series[i];
        char labels[RL_METRICS_MSG_LABELS_MAX] = "";
        metrics_label(labels, sizeof labels, "listener", rl_str_c(s->listener));
        metrics_label(labels, sizeof labels, "type", rl_str_c(s->type));
        metrics_label(labels, sizeof labels, "outcome",
                      rl_str_c(msglog_status_name((msglog_status)s->status)));
        metrics_value(out, "radlink_messages_total", labels, (double)s->n);
    }
    metrics_head(out, "radlink_ack_latency_seconds", "histogram",
                 "time from an HL7 frame's arrival to its ACK, committed first");
    metrics_hist_write(out, "radlink_ack_latency_seconds", "", &e->ack_h);
    metrics_head(out, "radlink_store_commit_seconds", "histogram",
                 "time a turn's store commit takes: the pages it writes and the syncs");
    metrics_hist_write(out, "radlink_store_commit_seconds", "", &e->commit_h);
    mllp_stats ms;
    mllp_server_stats(e->srv, &ms);
    metrics_head(out, "radlink_mllp_connections", "gauge", "MLLP connections open");
    metrics_value(out, "radlink_mllp_connections", "", ms.open);
    metrics_head(out, "radlink_mllp_connections_accepted_total", "counter",
                 "MLLP connections accepted");
    metrics_value(out, "radlink_mllp_connections_accepted_total", "", (double)ms.accepted);
    metrics_head(out, "radlink_mllp_connections_refused_total", "counter",
                 "MLLP connections refused (limits)");
    metrics_value(out, "radlink_mllp_connections_refused_total", "", (double)ms.refused);
    metrics_head(out, "radlink_mllp_tls_failures_total", "counter", "failed MLLP TLS handshakes");
    metrics_value(out, "radlink_mllp_tls_failures_total", "", (double)ms.tls_failures);
    metrics_head(out, "radlink_commits_total", "counter", "store transactions committed");
    metrics_value(out, "radlink_commits_total", "", (double)e->commits);
    metrics_head(out, "radlink_commit_failures_total", "counter",
                 "store transactions that failed (everything in them refused)");
    metrics_value(out, "radlink_commit_failures_total", "", (double)e->commit_failures);
    unsigned connected, running;
    dispatch_counts(e->jobs, &connected, &running);
    metrics_head(out, "radlink_workers", "gauge", "workers connected to the engine (local and "
                 "remote)");
    metrics_value(out, "radlink_workers", "", connected);
    metrics_head(out, "radlink_workers_local", "gauge", "local worker processes running");
    metrics_value(out, "radlink_workers_local", "", workers_alive(e->wk));
    metrics_head(out, "radlink_jobs_running", "gauge", "jobs a worker is running now");
    metrics_value(out, "radlink_jobs_running", "", running);
    dicom_scp_metrics(e->dicom, out);
    listener_metrics(e, out);
    static const char *const kinds[RL_RETENTION_KINDS] = { "messages", "worklist", "jobs",
                                                           "studies",  "instances", "audit" };
    metrics_head(out, "radlink_retention_removed_total", "counter",
                 "records retention removed since the engine started, by kind");
    for (int k = 0; k < RL_RETENTION_KINDS; k++) {
        char label[RL_METRICS_NAME_MAX];
        snprintf(label, sizeof label, "kind=\"%s\"", kinds[k]);
        metrics_value(out, "radlink_retention_removed_total", label, (double)e->retained[k]);
    }
    metrics_head(out, "radlink_start_time_seconds", "gauge", "when the engine started");
    metrics_value(out, "radlink_start_time_seconds", "", (double)(e->started_us / 1000000));
    return 0;
}

int engine_health(engine *e, rl_buf *out)
{
    int bad = 0;
    store_txn *t;
    rl_err err;
    if (store_begin(e->st, NULL, false, &t, &err) == STORE_OK) {
        store_abort(t);
        rl_buf_add_c(out, "store ok\n");
    } else {
        rl_buf_printf(out, "store unreadable: %s\n", err.msg);
        bad++;
    }
    mllp_stats ms;
    mllp_server_stats(e->srv, &ms);
    if (!e->srv || e->stop_signal) {
        rl_buf_add_c(out, "mllp not listening (stopping)\n");
        bad++;
    } else {
        rl_buf_printf(out, "mllp listening on %u port%s, %u connection%s\n", e->cfg->n_mllp,
                      e->cfg->n_mllp == 1 ? "" : "s", ms.open, ms.open == 1 ? "" : "s");
    }
    if (e->cfg->dicom_port || e->cfg->dicom_tls.on) {
        if (e->dicom && !dicom_scp_stopped(e->dicom))
            rl_buf_add_c(out, "dicom listening\n");
        else {
            rl_buf_add_c(out, "dicom not listening\n");
            bad++;
        }
    }
    if (e->routes)
        rl_buf_printf(out, "routes %s (%zu)\n", route_source(e->routes), route_count(e->routes));
    else {
        rl_buf_add_c(out, "routes not loaded\n");
        bad++;
    }
    return bad ? 1 : 0;
}

int engine_destinations(engine *e, rl_buf *out)
{
    size_t n = 0;
    const route_dest *d = e->routes ? route_dests(e->routes, &n) : NULL;
    for (size_t i = 0; i < n; i++)
        rl_buf_printf(out, "%s\n", d[i].name);
    for (size_t i = 0; i < e->n_mpps_dests; i++)
        rl_buf_printf(out, "%s\n", e->mpps_dests[i].name);
    return 0;
}

int engine_facts(engine *e, rl_buf *out)
{
    unsigned connected, running;
    dispatch_counts(e->jobs, &connected, &running);
    /* the workers the engine runs, or one when only remote workers serve */
    unsigned expected = e->cfg->workers ? e->cfg->workers : e->cfg->jobs_listen[0] ? 1 : 0;
    rl_buf_printf(out, "workers_expected %u\nworkers_connected %u\nworkers_lost %lu\n", expected,
                  connected, dispatch_lost_workers(e->jobs));
    if (e->ship) {
        char why[200];
        int64_t since = audit_ship_down_since(e->ship, why, sizeof why);
        rl_buf_printf(out, "audit_down_us %lld\naudit_where %s:%u\naudit_why %s\n",
                      (long long)since, e->cfg->audit.host, e->cfg->audit.port, why);
    }
    return 0;
}
