/* The words of `radlink status` only the running engine knows: its
 * counters, its listeners, workers, senders and shipper. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "engine.h"
#include "radlink/alert.h"
#include "radlink/limits.h"
#include "radlink/log.h"
#include "radlink/version.h"

/* Where the listeners listen: the ports the system picked for those given as
 * auto, as a user (and a test) connects to them. */
static void listening(const engine *e, rl_buf *out)
{
    const cfg *c = e->cfg;
    rl_buf_add_c(out, "listening mllp");
    for (unsigned i = 0; i < c->n_mllp; i++)
        rl_buf_printf(out, "%s %s:%u%s", i ? "," : "", c->mllp[i].bind, e->mllp_port[i],
                      c->mllp[i].tls ? " tls" : "");
    if (e->dicom)
        rl_buf_printf(out, ", dicom %s:%u", c->dicom_bind[0] ? c->dicom_bind : "*",
                      e->dicom_port);
    if (e->dicom && c->dicom_tls.on)
        rl_buf_printf(out, " tls %u", c->dicom_tls.port);
    if (e->http)
        rl_buf_printf(out, ", http %s:%u%s", c->http.l.bind, e->http_port,
                      c->http.l.tls ? " tls" : "");
    rl_buf_add_ch(out, '\n');
}

int engine_status(engine *e, rl_buf *out)
{
    rl_buf_printf(out, "engine pid %ld, up %lld s, radlink %s\n", (long)getpid(),
                  (long long)((rl_now_us() - e->started_us) / 1000000), RADLINK_VERSION);
    listening(e, out);
    mllp_stats ms;
    mllp_server_stats(e->srv, &ms);
    rl_buf_printf(out, "mllp connections %u open, %llu accepted; messages accepted %llu, error "
                  "%llu, rejected %llu, duplicate %llu\n", ms.open,
                  (unsigned long long)ms.accepted, (unsigned long long)e->counts[MSG_ACCEPTED],
                  (unsigned long long)e->counts[MSG_ERROR],
                  (unsigned long long)e->counts[MSG_REJECTED],
                  (unsigned long long)e->counts[MSG_DUPLICATE]);
    rl_buf_printf(out, "mllp refused %llu (over max-per-address %llu), frames over the memory "
                  "budget %llu, frame buffers %zu bytes, bytes outside frames %llu\n",
                  (unsigned long long)ms.refused, (unsigned long long)ms.refused_per_address,
                  (unsigned long long)ms.over_budget, ms.buffered,
                  (unsigned long long)ms.junk_bytes);
    listener_row rows[RL_LISTENER_ROWS];
    unsigned nrows = engine_listener_rows(e, rows);
    for (unsigned i = 0; i < nrows; i++) {
        const listener_row *r = &rows[i];
        if (strcmp(r->name, "mllp") == 0)
            rl_buf_printf(out, "listener mllp: %u of %u connections open, %u not yet "
                          "identified, pressure %s; evicted %lu, closed by the stress timeout "
                          "%lu, denied by allow-from %lu\n", r->open, r->max, r->unidentified,
                          r->pressure ? "yes" : "no", r->evicted, r->stress_closed, r->denied);
        else
            rl_buf_printf(out, "listener %s: %u of %u connections waiting for their first "
                          "message, pressure %s; evicted %lu, closed waiting %lu, denied by "
                          "allow-from %lu\n", r->name, r->unidentified, r->max,
                          r->pressure ? "yes" : "no", r->evicted, r->stress_closed, r->denied);
    }
    rl_buf_add_c(out, "hl7 accepted with irregularities:");
    for (int k = 0; k < INGEST_TOL_COUNT; k++)
        rl_buf_printf(out, "%s %s %llu", k ? "," : "", ingest_tolerance_name(k),
                      (unsigned long long)e->tolerated[k]);
    rl_buf_add_ch(out, '\n');
    rl_buf_printf(out, "store readers %u, stale readers cleared %llu\n", store_readers(e->st),
                  (unsigned long long)e->readers_cleared);
    rl_buf_printf(out, "turns %llu, commits %llu, commit failures %llu, instances %llu\n",
                  (unsigned long long)e->turns, (unsigned long long)e->commits,
                  (unsigned long long)e->commit_failures, (unsigned long long)e->instances);
    rl_buf_printf(out, "retention removed messages %lu, worklist %lu, jobs %lu, studies %lu, "
                  "instances %lu, audit %lu\n", e->retained[0], e->retained[1], e->retained[2],
                  e->retained[3], e->retained[4], e->retained[5]);
    dicom_scp_status(e->dicom, out);
    workers_status(e->wk, out);
    audit_ship_status(e->ship, out);
    alert_runner_status(e->alerts, out);
    dispatch_status(e->jobs, out);
    forwarder_status(e->fwd, out);
    return 0;
}
