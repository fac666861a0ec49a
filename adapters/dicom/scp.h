// The DICOM SCP split by service, as DCMTK's dcmwlm keeps its network side
// (WlmActivityManager) apart from its data side (WlmDataSource): scp.cc
// accepts, negotiates and dispatches each command; scp_find.cc,
// scp_store.cc, scp_mpps.cc and scp_commit.cc answer one service each, and
// see the association only through Association. What they share is here.
#ifndef RADLINK_DICOM_SCP_H
#define RADLINK_DICOM_SCP_H

extern "C" {
#include "radlink/metrics.h"
}
#include "radlink/dicom.h"

#include <atomic>

#include "dcmtk/config/osconfig.h"
#include "dcmtk/dcmnet/scpthrd.h"

namespace rl_dicom {

// What every association of one SCP shares: the configuration (copied at
// start, read only after), counters for `radlink status` and /metrics, and
// each service's latency. Counters and histograms are safe from any thread.
struct ScpState {
    dicom_scp_cfg cfg;
    std::atomic<unsigned long> associations{ 0 }, finds{ 0 }, echoes{ 0 }, refused{ 0 },
        cancelled{ 0 }, matches{ 0 }, stored{ 0 }, store_failed{ 0 }, seq{ 0 }, reports{ 0 },
        mpps{ 0 }, mpps_refused{ 0 }, hidden{ 0 };
    metrics_hist find_h{}, store_h{}, mpps_h{}; // request to last response
};

// One association, served in the thread that received it (accept.h). It
// checks the AE titles, answers C-ECHO (PS3.4 A) and hands every other
// command to its service (scp.cc); a service calls DCMTK's DIMSE functions
// through it. The state is borrowed: it outlives every association.
class Association : public DcmThreadSCP {
public:
    explicit Association(ScpState &state) : state_(state) {}
    ScpState &state() { return state_; }

    // what the services call (protected in DcmSCP)
    using DcmSCP::checkForCANCEL;
    using DcmSCP::receiveDIMSEDataset;
    using DcmSCP::receiveFINDRequest;
    using DcmSCP::receiveSTORERequest;
    using DcmSCP::sendDIMSEMessage;
    using DcmSCP::sendFINDResponse;
    using DcmSCP::sendSTOREResponse;

protected:
    OFBool checkCalledAETitleAccepted(const OFString &calledAE) override;
    OFBool checkCallingAETitleAccepted(const OFString &callingAE) override;
    void notifyAssociationAcknowledge() override;
    OFCondition handleIncomingCommand(T_DIMSE_Message *msg,
                                      const DcmPresentationContextInfo &info) override;

private:
    void alert(const char *what);
    ScpState &state_;
};

// A service of the SCP, declared once in its own file (scp_find.h,
// scp_store.h, scp_mpps.h, scp_commit.h): the commands it answers, the
// SOP classes it accepts (its presentation contexts), whether this
// configuration offers it. scp.cc derives both the negotiation and the
// dispatch from these: a command goes to the service that answers it, and
// the service checks the request's SOP class (C-FIND and MPPS refuse
// another with a status and a log event of their own).
struct Service {
    T_DIMSE_Command requests[2];     // the commands it answers (DIMSE_NOTHING: none)
    metrics_hist ScpState::*latency; // request to last response; NULL: not measured
    bool (*offered)(const dicom_scp_cfg &cfg); // NULL: always
    // its presentation contexts; ts: the uncompressed transfer syntaxes
    void (*accept)(DcmSCPConfig &c, const OFList<OFString> &ts);
    // answers one request (msg's CommandField is one of requests); a bad
    // condition ends the association
    OFCondition (*serve)(Association &a, T_DIMSE_Message &msg, T_ASC_PresentationContextID pres);
};

} // namespace rl_dicom

#endif
