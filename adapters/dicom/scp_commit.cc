// Storage commitment reports (PS3.4 J.3.3): a PACS that radlink asked to
// commit to what it was sent (files.cc, N-ACTION) reports on an association
// of its own with N-EVENT-REPORT; the report is answered and handed to the
// engine, which gives it to the worker that asked.
extern "C" {
#include "radlink/log.h"
}
#include "radlink/dicom.h"

#include "scp.h"
#include "scp_commit.h"

#include <cstdio>
#include <cstring>
#include <memory>
#include <string>

#include "dcmtk/config/osconfig.h"
#include "dcmtk/dcmdata/dctk.h"
#include "dcmtk/dcmnet/diutil.h"

namespace rl_dicom {

namespace {

// DCMTK's handleEVENTREPORTRequest answers without the Affected SOP
// Class and Instance UIDs; Orthanc, for one, calls such a response
// "badly formatted" (PS3.7 10.1.1.1.2: they echo the request's).
OFCondition report(Association &a, T_DIMSE_N_EventReportRQ &rq, T_ASC_PresentationContextID pres)
{
    if (rq.DataSetType == DIMSE_DATASET_NULL)
        return DIMSE_BADMESSAGE;
    DcmDataset *raw = nullptr;
    T_ASC_PresentationContextID dpres = 0;
    OFCondition cond = a.receiveDIMSEDataset(&dpres, &raw);
    std::unique_ptr<DcmDataset> ds(raw);
    if (cond.bad() || !ds)
        return cond.bad() ? cond : DIMSE_BADDATA;
    T_DIMSE_Message rsp;
    std::memset(&rsp, 0, sizeof rsp);
    rsp.CommandField = DIMSE_N_EVENT_REPORT_RSP;
    T_DIMSE_N_EventReportRSP &r = rsp.msg.NEventReportRSP;
    r.MessageIDBeingRespondedTo = rq.MessageID;
    r.DimseStatus = dpres == pres ? STATUS_Success : STATUS_N_ProcessingFailure;
    r.DataSetType = DIMSE_DATASET_NULL;
    r.opts = O_NEVENTREPORT_AFFECTEDSOPCLASSUID | O_NEVENTREPORT_AFFECTEDSOPINSTANCEUID |
             O_NEVENTREPORT_EVENTTYPEID;
    OFStandard::strlcpy(r.AffectedSOPClassUID, rq.AffectedSOPClassUID,
                        sizeof r.AffectedSOPClassUID);
    OFStandard::strlcpy(r.AffectedSOPInstanceUID, rq.AffectedSOPInstanceUID,
                        sizeof r.AffectedSOPInstanceUID);
    r.EventTypeID = rq.EventTypeID;
    cond = a.sendDIMSEMessage(pres, &rsp, nullptr);
    if (cond.bad() || dpres != pres)
        return cond;
    ScpState &s = a.state();
    Uint16 event = rq.EventTypeID;
    s.reports++;
    OFString txn;
    ds->findAndGetOFString(DCM_TransactionUID, txn);
    std::string lines;
    DcmItem *it = nullptr;
    for (unsigned long i = 0;
         ds->findAndGetSequenceItem(DCM_ReferencedSOPSequence, it, long(i)).good() && it; i++) {
        OFString sop;
        it->findAndGetOFString(DCM_ReferencedSOPInstanceUID, sop);
        lines += std::string("ok ") + sop.c_str() + "\n";
    }
    for (unsigned long i = 0;
         ds->findAndGetSequenceItem(DCM_FailedSOPSequence, it, long(i)).good() && it; i++) {
        OFString sop;
        Uint16 why = 0;
        it->findAndGetOFString(DCM_ReferencedSOPInstanceUID, sop);
        it->findAndGetUint16(DCM_FailureReason, why);
        char b[sizeof " ffff\n"]; // a US as four hex digits
        std::snprintf(b, sizeof b, " %04x\n", why);
        lines += std::string("failed ") + sop.c_str() + b;
    }
    log_info("dicom.commit_report", "calling=%s txn=%s event=%u", a.getPeerAETitle().c_str(),
             txn.c_str(), event);
    s.cfg.on_commit_report(s.cfg.ctx, txn.c_str(), lines.c_str());
    return cond;
}

OFCondition serve(Association &a, T_DIMSE_Message &msg, T_ASC_PresentationContextID pres)
{
    return report(a, msg.msg.NEventReportRQ, pres);
}

bool offered(const dicom_scp_cfg &cfg)
{
    return cfg.on_commit_report != nullptr;
}

// A PACS reporting on storage commitment plays the SCP of the SOP class
// from its own association (the requestor in the SCP role).
void accept(DcmSCPConfig &c, const OFList<OFString> &ts)
{
    c.addPresentationContext(UID_StorageCommitmentPushModelSOPClass, ts, ASC_SC_ROLE_SCP);
    c.setAlwaysAcceptDefaultRole(OFTrue);
}

} // namespace

const Service commit_service = {
    { DIMSE_N_EVENT_REPORT_RQ, DIMSE_NOTHING }, nullptr, offered, accept, serve,
};

} // namespace rl_dicom
