// The Modality Performed Procedure Step service, N-CREATE and N-SET
// (PS3.4 F.7): a request is checked here (mpps.cc holds the checks),
// converted to UTF-8 and handed to the engine, whose loop commits it; the
// response goes after the commit.
extern "C" {
#include "radlink/limits.h"
#include "radlink/log.h"
#include "radlink/util.h"
}
#include "radlink/dicom.h"

#include "check.h"
#include "mpps.h"
#include "scp.h"
#include "scp_mpps.h"

#include <cstring>
#include <memory>
#include <string>

#include "dcmtk/config/osconfig.h"
#include "dcmtk/dcmdata/dctk.h"
#include "dcmtk/dcmnet/diutil.h"

namespace rl_dicom {

namespace {

OFCondition mpps(Association &a, bool create, T_DIMSE_Message *msg,
                 T_ASC_PresentationContextID pres)
{
    ScpState &s = a.state();
    DcmDataset *raw = nullptr;
    T_ASC_PresentationContextID dpres = 0;
    bool has_data = create ? msg->msg.NCreateRQ.DataSetType != DIMSE_DATASET_NULL
                           : msg->msg.NSetRQ.DataSetType != DIMSE_DATASET_NULL;
    if (has_data) {
        OFCondition cond = a.receiveDIMSEDataset(&dpres, &raw);
        if (cond.bad())
            return cond;
    }
    std::unique_ptr<DcmDataset> ds(raw ? raw : new DcmDataset);
    dicom_mpps_req *r = new dicom_mpps_req();
    std::unique_ptr<dicom_mpps_req> own(r);
    const char *cls = create ? msg->msg.NCreateRQ.AffectedSOPClassUID
                             : msg->msg.NSetRQ.RequestedSOPClassUID;
    r->create = create;
    if (create && (msg->msg.NCreateRQ.opts & O_NCREATE_AFFECTEDSOPINSTANCEUID))
        OFStandard::strlcpy(r->sop_uid, msg->msg.NCreateRQ.AffectedSOPInstanceUID,
                            sizeof r->sop_uid);
    else if (create)
        dcmGenerateUniqueIdentifier(r->sop_uid, SITE_INSTANCE_UID_ROOT);
    else
        OFStandard::strlcpy(r->sop_uid, msg->msg.NSetRQ.RequestedSOPInstanceUID,
                            sizeof r->sop_uid);
    OFStandard::strlcpy(r->calling_ae, a.getPeerAETitle().c_str(), sizeof r->calling_ae);
    OFStandard::strlcpy(r->peer, a.getPeerIP().c_str(), sizeof r->peer);
    rl_mpps::Check chk{ 0, "" };
    if (std::strcmp(cls, UID_ModalityPerformedProcedureStepSOPClass) != 0)
        chk = { 0x0122, "only Modality Performed Procedure Step is served" };
    else if (!valid_uid(r->sop_uid))
        chk = { 0x0117, std::string("not a valid SOP Instance UID: ") + r->sop_uid };
    else if (create)
        chk = rl_mpps::check_create(ds.get());
    else
        chk = rl_mpps::check_set(ds.get());
    std::string bytes;
    if (!chk.status && ds->convertToUTF8().bad())
        chk = { 0x0110, "the data set's Specific Character Set cannot be read" };
    if (!chk.status) {
        ds->putAndInsertString(DCM_SpecificCharacterSet, "ISO_IR 192");
        if (!rl_mpps::encode(ds.get(), bytes))
            chk = { 0x0110, "the data set cannot be encoded" };
    }
    if (!chk.status) {
        r->dataset = rl_str{ bytes.data(), bytes.size() };
        s.cfg.on_mpps(s.cfg.ctx, r);
        chk = { r->status, r->why };
    }
    if (chk.status) {
        s.mpps_refused++;
        log_warn("dicom.mpps_refused", "calling=%s op=%s sop=%s status=0x%04x error=\"%s\"",
                 r->calling_ae, create ? "create" : "set", r->sop_uid, chk.status,
                 chk.why.c_str());
    } else {
        s.mpps++;
    }
    T_DIMSE_Message rsp;
    std::memset(&rsp, 0, sizeof rsp);
    DcmDataset detail;
    if (chk.status)
        detail.putAndInsertString(DCM_ErrorComment,
                                  chk.why.substr(0, RL_DICOM_ERROR_COMMENT_MAX).c_str());
    if (create) {
        rsp.CommandField = DIMSE_N_CREATE_RSP;
        T_DIMSE_N_CreateRSP &c = rsp.msg.NCreateRSP;
        c.MessageIDBeingRespondedTo = msg->msg.NCreateRQ.MessageID;
        c.DimseStatus = chk.status;
        c.DataSetType = DIMSE_DATASET_NULL;
        c.opts = O_NCREATE_AFFECTEDSOPCLASSUID | O_NCREATE_AFFECTEDSOPINSTANCEUID;
        OFStandard::strlcpy(c.AffectedSOPClassUID, cls, sizeof c.AffectedSOPClassUID);
        OFStandard::strlcpy(c.AffectedSOPInstanceUID, r->sop_uid,
                            sizeof c.AffectedSOPInstanceUID);
    } else {
        rsp.CommandField = DIMSE_N_SET_RSP;
        T_DIMSE_N_SetRSP &c = rsp.msg.NSetRSP;
        c.MessageIDBeingRespondedTo = msg->msg.NSetRQ.MessageID;
        c.DimseStatus = chk.status;
        c.DataSetType = DIMSE_DATASET_NULL;
        c.opts = O_NSET_AFFECTEDSOPCLASSUID | O_NSET_AFFECTEDSOPINSTANCEUID;
        OFStandard::strlcpy(c.AffectedSOPClassUID, cls, sizeof c.AffectedSOPClassUID);
        OFStandard::strlcpy(c.AffectedSOPInstanceUID, r->sop_uid,
                            sizeof c.AffectedSOPInstanceUID);
    }
    return a.sendDIMSEMessage(pres, &rsp, nullptr, chk.status ? &detail : nullptr);
}

OFCondition serve(Association &a, T_DIMSE_Message &msg, T_ASC_PresentationContextID pres)
{
    return mpps(a, msg.CommandField == DIMSE_N_CREATE_RQ, &msg, pres);
}

bool offered(const dicom_scp_cfg &cfg)
{
    return cfg.on_mpps != nullptr;
}

void accept(DcmSCPConfig &c, const OFList<OFString> &ts)
{
    c.addPresentationContext(UID_ModalityPerformedProcedureStepSOPClass, ts);
}

} // namespace

const Service mpps_service = {
    { DIMSE_N_CREATE_RQ, DIMSE_N_SET_RQ }, &ScpState::mpps_h, offered, accept, serve,
};

} // namespace rl_dicom
