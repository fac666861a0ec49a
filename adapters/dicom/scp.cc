// The DICOM SCP's network side: the listeners and their pools of accepting
// threads (accept.h), TLS (tls.h), association negotiation (the called AE
// title, the allowed calling AE titles, the presentation contexts each
// service accepts), and the dispatch of every command to its service
// (scp.h); C-ECHO (PS3.4 A) is DCMTK's own. The C face of dicom_scp.
extern "C" {
#include "radlink/limits.h"
#include "radlink/log.h"
#include "radlink/metrics.h"
#include "radlink/util.h"
}
#include "radlink/dicom.h"

#include "accept.h"
#include "oflog.h"
#include "scp.h"
#include "scp_commit.h"
#include "scp_find.h"
#include "scp_mpps.h"
#include "scp_store.h"
#include "tls.h"

#include <chrono>
#include <cstdlib>
#include <exception>
#include <memory>
#include <string>

#include "dcmtk/config/osconfig.h"
#include "dcmtk/dcmdata/dctk.h"
#include "dcmtk/dcmnet/diutil.h"
#include "dcmtk/dcmnet/scpthrd.h"
#include "dcmtk/oflog/oflog.h"

using rl_dicom::Association;
using rl_dicom::ScpState;
using rl_dicom::Service;

namespace {

ScpState *g_state = nullptr; // one SCP per process

// Observes how long a command took, from its request to its last response.
struct Timed {
    metrics_hist *h;
    std::chrono::steady_clock::time_point t0 = std::chrono::steady_clock::now();
    ~Timed()
    {
        if (h)
            metrics_observe(h, std::chrono::duration_cast<std::chrono::microseconds>(
                                   std::chrono::steady_clock::now() - t0)
                                   .count());
    }
};

// The services after C-ECHO, in the order their presentation contexts are
// offered.
const Service *const services[] = { &rl_dicom::find_service, &rl_dicom::store_service,
                                    &rl_dicom::mpps_service, &rl_dicom::commit_service };

// The service that answers a command; NULL: DCMTK's own handling (C-ECHO,
// and the refusal of anything else).
const Service *service_for(T_DIMSE_Command cf)
{
    for (const Service *s : services)
        for (T_DIMSE_Command r : s->requests)
            if (r != DIMSE_NOTHING && r == cf)
                return s;
    return nullptr;
}

bool offered(const Service &s, const dicom_scp_cfg &cfg)
{
    return !s.offered || s.offered(cfg);
}

} // namespace

namespace rl_dicom {

void Association::alert(const char *what)
{
    const dicom_scp_cfg &c = state_.cfg;
    if (c.on_alert)
        c.on_alert(c.ctx, getPeerIP().c_str(), getPeerAETitle().c_str(), what);
}

OFBool Association::checkCalledAETitleAccepted(const OFString &calledAE)
{
    if (calledAE == state_.cfg.ae_title)
        return OFTrue;
    log_warn("dicom.refused", "calling=%s called=%s reason=\"called AE title is not %s\"",
             getPeerAETitle().c_str(), calledAE.c_str(), state_.cfg.ae_title);
    state_.refused++;
    alert(("association refused: called AE title " + std::string(calledAE.c_str()) +
           " is not " + state_.cfg.ae_title).c_str());
    return OFFalse;
}

OFBool Association::checkCallingAETitleAccepted(const OFString &callingAE)
{
    const dicom_scp_cfg &c = state_.cfg;
    if (c.n_allowed == 0)
        return OFTrue;
    for (size_t i = 0; i < c.n_allowed; i++)
        if (callingAE == c.allowed[i])
            return OFTrue;
    log_warn("dicom.refused", "calling=%s reason=\"not in the allowed calling AE titles\"",
             callingAE.c_str());
    state_.refused++;
    alert(("association refused: calling AE title " + std::string(callingAE.c_str()) +
           " is not allowed").c_str());
    return OFFalse;
}

void Association::notifyAssociationAcknowledge()
{
    state_.associations++;
    log_info("dicom.association", "calling=%s called=%s", getPeerAETitle().c_str(),
             getCalledAETitle().c_str());
}

OFCondition Association::handleIncomingCommand(T_DIMSE_Message *msg,
                                               const DcmPresentationContextInfo &info)
{
    // an exception must not end the engine from a DCMTK thread: the
    // association is aborted instead
    try {
        const Service *s = service_for(msg->CommandField);
        Timed timed{ s && s->latency ? &(state_.*(s->latency)) : nullptr };
        if (s && offered(*s, state_.cfg))
            return s->serve(*this, *msg, info.presentationContextID);
        if (msg->CommandField == DIMSE_C_ECHO_RQ)
            state_.echoes++;
        return DcmThreadSCP::handleIncomingCommand(msg, info);
    } catch (const std::exception &e) {
        log_error("dicom.exception", "calling=%s error=\"%s\"", getPeerAETitle().c_str(),
                  e.what());
    } catch (...) {
        log_error("dicom.exception", "calling=%s error=\"unknown\"", getPeerAETitle().c_str());
    }
    return DIMSE_BADMESSAGE;
}

} // namespace rl_dicom

struct dicom_scp {
    ScpState state;
    DcmSharedSCPConfig config;
    std::unique_ptr<DcmTLSTransportLayer> tls_layer;
    std::unique_ptr<rl_dicom::Acceptor> plain, tls; // either may be absent
};

extern "C" const char *dicom_version(void)
{
    return OFFIS_DCMTK_VERSION_STRING;
}

// The association's parameters, and the presentation contexts of C-ECHO and
// of every service the configuration offers, in the order of services[].
static void configure(DcmSCPConfig &c, const dicom_scp_cfg *cfg)
{
    c.setAETitle(cfg->ae_title);
    c.setDIMSEBlockingMode(DIMSE_NONBLOCKING);
    c.setDIMSETimeout(cfg->dimse_timeout_s ? cfg->dimse_timeout_s : RL_DICOM_TIMEOUT_DEFAULT_S);
    c.setACSETimeout(cfg->assoc_timeout_s ? cfg->assoc_timeout_s
                                        : RL_DICOM_ASSOC_TIMEOUT_DEFAULT_S);
    c.setHostLookupEnabled(OFFalse);
    OFList<OFString> ts;
    ts.push_back(UID_LittleEndianExplicitTransferSyntax);
    ts.push_back(UID_BigEndianExplicitTransferSyntax);
    ts.push_back(UID_LittleEndianImplicitTransferSyntax);
    c.addPresentationContext(UID_VerificationSOPClass, ts);
    for (const Service *svc : services)
        if (offered(*svc, *cfg))
            svc->accept(c, ts);
}

static int scp_start(const dicom_scp_cfg *cfg, dicom_scp **out, rl_err *err)
{
    if (g_state)
        return rl_err_set(err, DICOM_E_CONFIG, -1, "the DICOM SCP is already running");
    if (!dcmDataDict.isDictionaryLoaded())
        return rl_err_set(err, DICOM_E_CONFIG, -1, "the DICOM data dictionary is not loaded");
    if (!cfg->port && !cfg->tls.on)
        return rl_err_set(err, DICOM_E_CONFIG, -1, "the DICOM listener has no port");
    rl_dicom::dcmtk_log_into_radlink(); // DCMTK's chatter: radlink's log, at debug
    /* DCMTK reads TCP_NODELAY for each association and defaults to Nagle,
     * which costs ~90 ms per C-STORE against delayed ACKs: turn it off unless
     * the administrator said otherwise. */
    setenv("TCP_NODELAY", "1", 0);
    std::unique_ptr<dicom_scp> s(new dicom_scp);
    s->state.cfg = *cfg;
    configure(*s->config, cfg);
    rl_dicom::accept_opts o;
    o.bind = cfg->bind;
    o.max_active = cfg->max_associations ? cfg->max_associations
                                         : RL_DICOM_MAX_ASSOCIATIONS_DEFAULT;
    o.per_address = cfg->max_per_address ? cfg->max_per_address : o.max_active;
    o.assoc_timeout_s = cfg->assoc_timeout_s ? cfg->assoc_timeout_s
                                           : RL_DICOM_ASSOC_TIMEOUT_DEFAULT_S;
    o.stress_timeout_s = cfg->stress_timeout_s ? cfg->stress_timeout_s
                                             : RL_DICOM_STRESS_TIMEOUT_DEFAULT_S;
    o.max_waiting = cfg->max_connections ? cfg->max_connections
                                         : RL_DICOM_MAX_CONNECTIONS_DEFAULT;
    o.allow = &s->state.cfg.allow;
    o.max_pdu = s->config->getMaxReceivePDULength();
    DcmSharedSCPConfig shared = s->config;
    if (cfg->on_alert) {
        dicom_scp_cfg *c = &s->state.cfg;
        o.on_tls_failed = [c](const char *addr, const char *why) {
            c->on_alert(c->ctx, addr, "", why);
        };
        o.on_denied = [c](const char *addr) {
            c->on_alert(c->ctx, addr, "", "DICOM connection from an address not in allow-from");
        };
    }
    ScpState *state = &s->state;
    auto serve = [shared, state](T_ASC_Association *assoc) {
        Association w(*state);
        w.setSharedConfig(shared);
        w.run(assoc); // the worker drops and frees the association when it goes
    };
    g_state = &s->state;
    std::string why;
    if (cfg->tls.on) {
        s->tls_layer = rl_dicom::tls_layer(true, cfg->tls, why);
        if (!s->tls_layer) {
            g_state = nullptr;
            return rl_err_set(err, DICOM_E_CONFIG, -1, "DICOM TLS: %s", why.c_str());
        }
    }
    if (cfg->port) {
        o.name = "dicom";
        o.port = cfg->port;
        o.fd = cfg->fd;
        s->plain = rl_dicom::Acceptor::start(o, serve, why);
        if (!s->plain) {
            g_state = nullptr;
            return rl_err_set(err, DICOM_E_CONFIG, -1, "DICOM port %s:%u: %s",
                              cfg->bind[0] ? cfg->bind : "*", cfg->port, why.c_str());
        }
    }
    if (cfg->tls.on) {
        o.name = "dicom-tls";
        o.port = cfg->tls.port;
        o.fd = cfg->tls_fd;
        o.tls = s->tls_layer.get();
        s->tls = rl_dicom::Acceptor::start(o, serve, why);
        if (!s->tls) {
            s->plain.reset();
            g_state = nullptr;
            return rl_err_set(err, DICOM_E_CONFIG, -1, "DICOM TLS port %s:%u: %s",
                              cfg->bind[0] ? cfg->bind : "*", cfg->tls.port, why.c_str());
        }
    }
    log_info("dicom.listen",
             "bind=%s port=%u tls_port=%u verify_client=%s ae=%s allowed=%zu "
             "max_associations=%u max_per_address=%u association_timeout=%u max_responses=%u",
             cfg->bind[0] ? cfg->bind : "*", cfg->port, cfg->tls.on ? cfg->tls.port : 0,
             cfg->tls.on && cfg->tls.verify_peer ? "yes" : "no", cfg->ae_title, cfg->n_allowed,
             o.max_active, o.per_address, o.assoc_timeout_s, cfg->max_responses);
    *out = s.release();
    return 0;
}

extern "C" int dicom_bind(const char *bind, unsigned port, int *fd, rl_err *err)
{
    std::string why;
    *fd = rl_dicom::bind_socket(bind ? bind : "", port, why);
    if (*fd < 0)
        return rl_err_set(err, DICOM_E_CONFIG, -1, "DICOM port %s:%u: %s",
                          bind && *bind ? bind : "*", port, why.c_str());
    return 0;
}

extern "C" int dicom_scp_start(const dicom_scp_cfg *cfg, dicom_scp **out, rl_err *err)
{
    try {
        return scp_start(cfg, out, err);
    } catch (const std::exception &e) {
        g_state = nullptr;
        return rl_err_set(err, DICOM_E_INTERNAL, -1, "DICOM listener: %s", e.what());
    } catch (...) {
        g_state = nullptr;
        return rl_err_set(err, DICOM_E_INTERNAL, -1, "DICOM listener: an unknown exception");
    }
}

extern "C" void dicom_scp_stop_accepting(dicom_scp *s)
{
    if (!s)
        return;
    if (s->plain)
        s->plain->stop_accepting(); // the threads see it within a second
    if (s->tls)
        s->tls->stop_accepting();
}

extern "C" bool dicom_scp_stopped(dicom_scp *s)
{
    return !s || ((!s->plain || s->plain->stopped()) && (!s->tls || s->tls->stopped()));
}

extern "C" void dicom_scp_free(dicom_scp *s)
{
    if (!s)
        return;
    try {
        s->plain.reset(); // waits for its running associations
        s->tls.reset();
    } catch (...) {
        log_error("dicom.stop", "text=\"an exception while stopping the DICOM listener\"");
    }
    g_state = nullptr;
    delete s;
}

extern "C" void dicom_scp_status(dicom_scp *s, rl_buf *out)
{
    if (!s)
        return;
    const ScpState &c = s->state;
    rl_buf_printf(out, "dicom associations %lu echoes %lu finds %lu matches %lu stored %lu "
                  "store-failures %lu refused %lu cancelled %lu commitment-reports %lu "
                  "mpps %lu mpps-refused %lu hidden %lu\n",
                  c.associations.load(), c.echoes.load(), c.finds.load(), c.matches.load(),
                  c.stored.load(), c.store_failed.load(), c.refused.load(), c.cancelled.load(),
                  c.reports.load(), c.mpps.load(), c.mpps_refused.load(), c.hidden.load());
    for (const auto *a : { s->plain.get(), s->tls.get() }) {
        if (!a)
            continue;
        net_gate_stats g = a->gate_stats();
        const char *kind = a == s->tls.get() ? "tls" : "plain";
        rl_buf_printf(out,
                      "dicom %s port %u: refused busy %lu, over max-per-address %lu, "
                      "failed before the association request %lu\n",
                      kind, a->port(), a->stats().busy.load(),
                      a->stats().per_address.load() + g.refused,
                      a->stats().failed.load() + g.timed_out + g.not_protocol);
    }
}

extern "C" unsigned dicom_scp_gates(dicom_scp *s, net_gate_stats *out, const char **names,
                                    unsigned max)
{
    unsigned n = 0;
    if (!s)
        return 0;
    if (s->plain && n < max) {
        names[n] = "dicom";
        out[n++] = s->plain->gate_stats();
    }
    if (s->tls && n < max) {
        names[n] = "dicom-tls";
        out[n++] = s->tls->gate_stats();
    }
    return n;
}

extern "C" void dicom_scp_metrics(dicom_scp *s, rl_buf *out)
{
    if (!s)
        return;
    ScpState &c = s->state;
    metrics_head(out, "radlink_dicom_associations_total", "counter",
                 "DICOM associations accepted");
    metrics_value(out, "radlink_dicom_associations_total", "", double(c.associations.load()));
    metrics_head(out, "radlink_dicom_associations_refused_total", "counter",
                 "DICOM associations refused (AE title, busy, TLS)");
    unsigned long busy = 0;
    for (const auto *a : { s->plain.get(), s->tls.get() })
        if (a)
            busy += a->stats().busy.load() + a->stats().per_address.load() +
                    a->stats().failed.load();
    metrics_value(out, "radlink_dicom_associations_refused_total", "",
                  double(c.refused.load() + busy));
    metrics_head(out, "radlink_dicom_requests_total", "counter",
                 "DICOM requests by service and outcome");
    struct { const char *svc, *outcome; unsigned long n; } rows[] = {
        { "echo", "success", c.echoes.load() },
        { "find", "success", c.finds.load() },
        { "store", "success", c.stored.load() },
        { "store", "failure", c.store_failed.load() },
        { "mpps", "success", c.mpps.load() },
        { "mpps", "failure", c.mpps_refused.load() },
        { "commitment-report", "success", c.reports.load() },
    };
    for (const auto &r : rows) {
        char labels[RL_DICOM_METRIC_LABELS_MAX] = "";
        metrics_label(labels, sizeof labels, "service", rl_str_c(r.svc));
        metrics_label(labels, sizeof labels, "outcome", rl_str_c(r.outcome));
        metrics_value(out, "radlink_dicom_requests_total", labels, double(r.n));
    }
    metrics_head(out, "radlink_dicom_find_matches_total", "counter",
                 "worklist entries answered to C-FIND");
    metrics_value(out, "radlink_dicom_find_matches_total", "", double(c.matches.load()));
    metrics_head(out, "radlink_dicom_request_seconds", "histogram",
                 "time from a DICOM request to its last response");
    struct { const char *svc; metrics_hist *h; } hs[] = {
        { "find", &c.find_h }, { "store", &c.store_h }, { "mpps", &c.mpps_h } };
    for (const auto &h : hs) {
        char labels[RL_DICOM_METRIC_LABELS_MAX] = "";
        metrics_label(labels, sizeof labels, "service", rl_str_c(h.svc));
        metrics_hist_write(out, "radlink_dicom_request_seconds", labels, h.h);
    }
}
