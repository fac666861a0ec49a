// The Modality Worklist SCP over DCMTK: DcmThreadSCP workers, one per
// association, run by the accepting threads of accept.cc answering C-ECHO and MWL C-FIND from the LMDB
// worklist. The C core does the matching (engine/wl/match.c); wl_dataset.cc
// turns DICOM datasets into wl_query values and wl_entry records back into
// DICOM datasets; this file handles character sets: a request is converted to
// UTF-8 before matching; the responses are in the request's character set
// when that can hold them, in ISO_IR 192 (UTF-8) otherwise.
extern "C" {
#include "radlink/limits.h"
#include "radlink/log.h"
#include "radlink/metrics.h"
#include "radlink/store.h"
#include "radlink/util.h"
#include "radlink/wl.h"
}
#include "radlink/dicom.h"

#include "accept.h"
#include "charset.h"
#include "check.h"
#include "mpps.h"
#include "tags.h"
#include "tls.h"
#include "wl_dataset.h"

#include <sys/statvfs.h>
#include <unistd.h>

#include <atomic>
#include <cstring>
#include <exception>
#include <chrono>
#include <cstring>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "dcmtk/config/osconfig.h"
#include "dcmtk/dcmdata/dctk.h"
#include "dcmtk/dcmnet/diutil.h"
#include "dcmtk/dcmnet/scpthrd.h"
#include "dcmtk/oflog/oflog.h"

using rl_dicom::key_of;

namespace {

struct Shared {
    dicom_scp_cfg cfg;
    std::atomic<unsigned long> associations{ 0 }, finds{ 0 }, echoes{ 0 }, refused{ 0 },
        cancelled{ 0 }, matches{ 0 }, stored{ 0 }, store_failed{ 0 }, seq{ 0 }, reports{ 0 },
        mpps{ 0 }, mpps_refused{ 0 }, hidden{ 0 };
    metrics_hist find_h{}, store_h{}, mpps_h{}; // request to last response
};

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

Shared *g_shared = nullptr; // one SCP per process

// A UID: digits and dots, 64 characters at most, no empty component (so
// never "." or "..", which also keeps spool paths inside the spool).
bool valid_uid(const char *u)
{
    size_t n = std::strlen(u);
    if (n == 0 || n > 64 || u[0] == '.' || u[n - 1] == '.')
        return false;
    for (size_t i = 0; i < n; i++) {
        if (u[i] == '.' && u[i + 1] == '.')
            return false;
        if (u[i] != '.' && (u[i] < '0' || u[i] > '9'))
            return false;
    }
    return true;
}

struct Collect {
    DcmDataset *req;
    std::vector<DcmDataset *> *out;
    unsigned max;
    bool overflow;
};

// Is the step's status one the configuration keeps out of answers?
bool hidden(const wl_entry *e)
{
    const char *hide = g_shared->cfg.mwl_hide;
    rl_str st = wl_sps(e, WL_SPS_STATUS);
    if (!hide[0] || !st.n)
        return false;
    for (const char *p = hide; *p;) {
        while (*p == ' ')
            p++;
        size_t n = std::strcspn(p, " ");
        if (n && n == st.n && std::memcmp(p, st.p, n) == 0)
            return true;
        p += n;
    }
    return false;
}

int collect(void *ctx, rl_str, const wl_entry *e)
{
    auto *c = static_cast<Collect *>(ctx);
    if (hidden(e)) {
        g_shared->hidden++;
        return 0;
    }
    if (c->out->size() >= c->max) {
        c->overflow = true;
        return 1;
    }
    auto *rsp = new DcmDataset;
    rl_dicom::write_answer(e, c->req, rsp);
    c->out->push_back(rsp);
    return 0;
}

class MwlWorker : public DcmThreadSCP {
public:
    MwlWorker() = default;

protected:
    void alert(const char *what)
    {
        const dicom_scp_cfg &c = g_shared->cfg;
        if (c.on_alert)
            c.on_alert(c.ctx, getPeerIP().c_str(), getPeerAETitle().c_str(), what);
    }

    OFBool checkCalledAETitleAccepted(const OFString &calledAE) override
    {
        if (calledAE == g_shared->cfg.ae_title)
            return OFTrue;
        log_warn("dicom.refused", "calling=%s called=%s reason=\"called AE title is not %s\"",
                 getPeerAETitle().c_str(), calledAE.c_str(), g_shared->cfg.ae_title);
        g_shared->refused++;
        alert(("association refused: called AE title " + std::string(calledAE.c_str()) +
               " is not " + g_shared->cfg.ae_title).c_str());
        return OFFalse;
    }

    OFBool checkCallingAETitleAccepted(const OFString &callingAE) override
    {
        const dicom_scp_cfg &c = g_shared->cfg;
        if (c.n_allowed == 0)
            return OFTrue;
        for (size_t i = 0; i < c.n_allowed; i++)
            if (callingAE == c.allowed[i])
                return OFTrue;
        log_warn("dicom.refused", "calling=%s reason=\"not in the allowed calling AE titles\"",
                 callingAE.c_str());
        g_shared->refused++;
        alert(("association refused: calling AE title " + std::string(callingAE.c_str()) +
               " is not allowed").c_str());
        return OFFalse;
    }

    void notifyAssociationAcknowledge() override
    {
        g_shared->associations++;
        log_info("dicom.association", "calling=%s called=%s", getPeerAETitle().c_str(),
                 getCalledAETitle().c_str());
    }

    OFCondition handleIncomingCommand(T_DIMSE_Message *msg,
                                      const DcmPresentationContextInfo &info) override
    {
        // an exception must not end the engine from a DCMTK thread: the
        // association is aborted instead
        try {
            const auto cf = msg->CommandField;
            Timed timed{ cf == DIMSE_C_FIND_RQ                              ? &g_shared->find_h
                         : cf == DIMSE_C_STORE_RQ                           ? &g_shared->store_h
                         : cf == DIMSE_N_CREATE_RQ || cf == DIMSE_N_SET_RQ ? &g_shared->mpps_h
                                                                            : nullptr };
            if (msg->CommandField == DIMSE_C_FIND_RQ)
                return handleFind(msg->msg.CFindRQ, info.presentationContextID);
            if (msg->CommandField == DIMSE_C_STORE_RQ && g_shared->cfg.on_instance)
                return handleStore(msg->msg.CStoreRQ, info.presentationContextID);
            if (msg->CommandField == DIMSE_N_EVENT_REPORT_RQ && g_shared->cfg.on_commit_report)
                return handleReport(msg->msg.NEventReportRQ, info.presentationContextID);
            if (msg->CommandField == DIMSE_N_CREATE_RQ && g_shared->cfg.on_mpps)
                return handleMpps(true, msg, info.presentationContextID);
            if (msg->CommandField == DIMSE_N_SET_RQ && g_shared->cfg.on_mpps)
                return handleMpps(false, msg, info.presentationContextID);
            if (msg->CommandField == DIMSE_C_ECHO_RQ)
                g_shared->echoes++;
            return DcmThreadSCP::handleIncomingCommand(msg, info);
        } catch (const std::exception &e) {
            log_error("dicom.exception", "calling=%s error=\"%s\"", getPeerAETitle().c_str(),
                      e.what());
        } catch (...) {
            log_error("dicom.exception", "calling=%s error=\"unknown\"", getPeerAETitle().c_str());
        }
        return DIMSE_BADMESSAGE;
    }

private:
    // A value as UTF-8; bytes that cannot be decoded become '?'.
    static void utf8_field(DcmItem *item, const OFString &scs, uint32_t tag, char *out, size_t n)
    {
        OFString raw;
        item->findAndGetOFStringArray(key_of(tag), raw);
        std::string v, r(raw.c_str(), raw.length());
        if (!rl_dicom::to_utf8(std::string(scs.c_str(), scs.length()), r, v)) {
            v = r;
            for (char &c : v)
                if ((unsigned char)c >= 0x80 || c == '\x1b')
                    c = '?';
        }
        std::snprintf(out, n, "%s", v.c_str());
    }

    // A storage commitment report from a PACS (PS3.4 J.3.3): answered, and
    // handed to the engine, which gives it to the worker that asked.
    // DCMTK's handleEVENTREPORTRequest answers without the Affected SOP
    // Class and Instance UIDs; Orthanc, for one, calls such a response
    // "badly formatted" (PS3.7 10.1.1.1.2: they echo the request's).
    OFCondition handleReport(T_DIMSE_N_EventReportRQ &rq, T_ASC_PresentationContextID pres)
    {
        if (rq.DataSetType == DIMSE_DATASET_NULL)
            return DIMSE_BADMESSAGE;
        DcmDataset *raw = nullptr;
        T_ASC_PresentationContextID dpres = 0;
        OFCondition cond = receiveDIMSEDataset(&dpres, &raw);
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
        cond = sendDIMSEMessage(pres, &rsp, nullptr);
        if (cond.bad() || dpres != pres)
            return cond;
        Uint16 event = rq.EventTypeID;
        g_shared->reports++;
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
            char b[16];
            std::snprintf(b, sizeof b, " %04x\n", why);
            lines += std::string("failed ") + sop.c_str() + b;
        }
        log_info("dicom.commit_report", "calling=%s txn=%s event=%u", getPeerAETitle().c_str(),
                 txn.c_str(), event);
        g_shared->cfg.on_commit_report(g_shared->cfg.ctx, txn.c_str(), lines.c_str());
        return cond;
    }

    // MPPS N-CREATE / N-SET (PS3.4 F.7): checked here, committed by the
    // engine's loop (the response goes after the commit).
    OFCondition handleMpps(bool create, T_DIMSE_Message *msg, T_ASC_PresentationContextID pres)
    {
        DcmDataset *raw = nullptr;
        T_ASC_PresentationContextID dpres = 0;
        bool has_data = create ? msg->msg.NCreateRQ.DataSetType != DIMSE_DATASET_NULL
                               : msg->msg.NSetRQ.DataSetType != DIMSE_DATASET_NULL;
        if (has_data) {
            OFCondition cond = receiveDIMSEDataset(&dpres, &raw);
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
        OFStandard::strlcpy(r->calling_ae, getPeerAETitle().c_str(), sizeof r->calling_ae);
        OFStandard::strlcpy(r->peer, getPeerIP().c_str(), sizeof r->peer);
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
            g_shared->cfg.on_mpps(g_shared->cfg.ctx, r);
            chk = { r->status, r->why };
        }
        if (chk.status) {
            g_shared->mpps_refused++;
            log_warn("dicom.mpps_refused", "calling=%s op=%s sop=%s status=0x%04x error=\"%s\"",
                     r->calling_ae, create ? "create" : "set", r->sop_uid, chk.status,
                     chk.why.c_str());
        } else {
            g_shared->mpps++;
        }
        T_DIMSE_Message rsp;
        std::memset(&rsp, 0, sizeof rsp);
        DcmDataset detail;
        if (chk.status)
            detail.putAndInsertString(DCM_ErrorComment, chk.why.substr(0, 64).c_str());
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
        return sendDIMSEMessage(pres, &rsp, nullptr, chk.status ? &detail : nullptr);
    }

    OFCondition storeStatus(T_ASC_PresentationContextID pres, T_DIMSE_C_StoreRQ &rq,
                            Uint16 status, const std::string &why)
    {
        DcmDataset detail;
        if (!why.empty())
            detail.putAndInsertString(DCM_ErrorComment, why.substr(0, 64).c_str());
        return sendSTOREResponse(pres, rq.MessageID, rq.AffectedSOPClassUID,
                                 rq.AffectedSOPInstanceUID, status,
                                 why.empty() ? nullptr : &detail);
    }

    // The file system of the incoming directory has (almost) no room left.
    static bool disk_full()
    {
        struct statvfs v;
        return statvfs(g_shared->cfg.incoming_dir, &v) == 0 &&
               (unsigned long long)v.f_bavail * v.f_frsize < RL_DISK_LOW_BYTES;
    }

    static std::string disk_full_text()
    {
        return "out of resources: the disk holding the spool is full";
    }

    OFCondition handleStore(T_DIMSE_C_StoreRQ &rq, T_ASC_PresentationContextID pres)
    {
        char tmp[700];
        std::snprintf(tmp, sizeof tmp, "%s/%ld-%lu.part", g_shared->cfg.incoming_dir,
                      long(getpid()), g_shared->seq.fetch_add(1));
        OFCondition cond = receiveSTORERequest(rq, pres, OFString(tmp));
        if (cond.bad()) {
            std::remove(tmp);
            g_shared->store_failed++;
            std::string why = disk_full() ? disk_full_text()
                                          : std::string("cannot write: ") + cond.text();
            log_warn("dicom.store_failed", "calling=%s sop=%s error=\"%s\"",
                     getPeerAETitle().c_str(), rq.AffectedSOPInstanceUID, why.c_str());
            if (cond == DIMSE_RECEIVEFAILED || cond == DUL_PEERABORTEDASSOCIATION)
                return cond;
            return storeStatus(pres, rq, STATUS_STORE_Refused_OutOfResources, why);
        }
        study_inst *in = new study_inst();
        in->received_us = rl_now_us();
        std::string why;
        Uint16 status = STATUS_Success;
        DcmFileFormat ff;
        bool unreadable = false;
        // the whole data set, before success: an instance that cannot be
        // read whole now would fail every job of its study later
        if (!rl_dicom::load_complete(ff, tmp, why, unreadable)) {
            status = unreadable ? STATUS_STORE_Error_CannotUnderstand
                                : STATUS_STORE_Error_DataSetDoesNotMatchSOPClass;
            // DCMTK may not report a write that failed for want of space:
            // the file is then short, and the fault is ours, not the peer's
            if (unreadable && disk_full()) {
                status = STATUS_STORE_Refused_OutOfResources;
                why = disk_full_text();
            }
        } else {
            DcmDataset *ds = ff.getDataset();
            // names in whatever character set: UTF-8 in the index, value by
            // value (the file itself is kept as it came)
            OFString scs;
            ds->findAndGetOFStringArray(DCM_SpecificCharacterSet, scs);
            for (int i = 0; i < STUDY_F_COUNT; i++) {
                if (!study_field_tag[i])
                    continue;
                utf8_field(ds, scs, study_field_tag[i], in->f[i], sizeof in->f[i]);
            }
            DcmItem *ra = nullptr; // modalities put the request in a sequence
            if (!in->f[STUDY_F_RP_ID][0] &&
                ds->findAndGetSequenceItem(DCM_RequestAttributesSequence, ra, 0).good() && ra)
                utf8_field(ra, scs, 0x00401001u, in->f[STUDY_F_RP_ID], sizeof in->f[0]);
            std::snprintf(in->f[STUDY_F_CALLING_AE], sizeof in->f[0], "%s",
                          getPeerAETitle().c_str());
            std::snprintf(in->peer, sizeof in->peer, "%s", getPeerIP().c_str());
            const int uids[] = { STUDY_F_SOP_UID, STUDY_F_STUDY_UID, STUDY_F_SERIES_UID };
            for (int u : uids)
                if (status == STATUS_Success && in->f[u][0] && !valid_uid(in->f[u])) {
                    status = STATUS_STORE_Error_DataSetDoesNotMatchSOPClass;
                    why = std::string("not a valid UID: ") + in->f[u];
                }
            if (status != STATUS_Success) {
                /* refused below */
            } else if (std::strcmp(in->f[STUDY_F_SOP_UID], rq.AffectedSOPInstanceUID) != 0) {
                status = STATUS_STORE_Error_DataSetDoesNotMatchSOPClass;
                why = "SOP Instance UID differs from the request's";
            } else if (!in->f[STUDY_F_STUDY_UID][0]) {
                status = STATUS_STORE_Error_DataSetDoesNotMatchSOPClass;
                why = "no Study Instance UID";
            }
        }
        if (status == STATUS_Success) {
            char w[300] = "";
            int rc = g_shared->cfg.on_instance(g_shared->cfg.ctx, in, tmp, w, sizeof w);
            if (rc == 1) {
                status = 0x0111; // duplicate SOP instance (PS3.7 C.4)
                why = w;
            } else if (rc != 0) {
                status = STATUS_STORE_Refused_OutOfResources;
                why = w;
            }
        }
        if (status != STATUS_Success) {
            std::remove(tmp);
            g_shared->store_failed++;
            log_warn("dicom.store_refused", "calling=%s sop=%s status=0x%04x error=\"%s\"",
                     getPeerAETitle().c_str(), rq.AffectedSOPInstanceUID, status, why.c_str());
        } else {
            g_shared->stored++;
        }
        delete in;
        return storeStatus(pres, rq, status, status == STATUS_Success ? "" : why);
    }

    OFCondition fail(T_DIMSE_C_FindRQ &rq, T_ASC_PresentationContextID pres, Uint16 status,
                     const char *why)
    {
        // the reason can quote the query's values (a name): debug level only
        log_warn("dicom.find_failed", "calling=%s status=0x%04x", getPeerAETitle().c_str(), status);
        log_debug("dicom.find_failed_reason", "calling=%s error=\"%s\"", getPeerAETitle().c_str(),
                  why);
        DcmDataset detail;
        detail.putAndInsertString(DCM_ErrorComment, std::string(why).substr(0, 64).c_str());
        return sendFINDResponse(pres, rq.MessageID, rq.AffectedSOPClassUID, nullptr, status,
                                &detail);
    }

    OFCondition handleFind(T_DIMSE_C_FindRQ &rq, T_ASC_PresentationContextID pres)
    {
        DcmDataset *raw = nullptr;
        OFCondition cond = receiveFINDRequest(rq, pres, raw);
        if (cond.bad())
            return cond;
        g_shared->finds++;
        std::unique_ptr<DcmDataset> req(raw);
        if (std::strcmp(rq.AffectedSOPClassUID, UID_FINDModalityWorklistInformationModel) != 0)
            return fail(rq, pres, STATUS_FIND_Refused_SOPClassNotSupported,
                        "only the Modality Worklist information model is served");
        // who asked for what, recorded before anything is answered
        const dicom_scp_cfg &sc = g_shared->cfg;
        std::string asked_bytes;
        if (sc.on_query &&
            (!rl_mpps::encode(req.get(), asked_bytes) ||
             sc.on_query(sc.ctx, getPeerAETitle().c_str(), getPeerIP().c_str(),
                         rq.AffectedSOPClassUID,
                         rl_str{ asked_bytes.data(), asked_bytes.size() }) != 0))
            return fail(rq, pres, STATUS_FIND_Failed_UnableToProcess,
                        "the query could not be recorded in the audit trail");
        OFString asked;
        req->findAndGetOFStringArray(DCM_SpecificCharacterSet, asked);
        if (req->convertToUTF8().bad())
            return fail(rq, pres, STATUS_FIND_Failed_UnableToProcess,
                        "the query's Specific Character Set cannot be read");

        wl_query *q = new wl_query();
        std::vector<std::string> text;
        text.reserve(WL_MAX_ATTRS);
        q->n = 0;
        q->icase_names = g_shared->cfg.icase_names;
        rl_dicom::read_query(req.get(), q, text);
        for (size_t i = 0; i < q->n; i++) {
            char why[160];
            if (!wl_key_valid(&q->k[i], why, sizeof why)) {
                delete q;
                return fail(rq, pres, STATUS_FIND_Error_DataSetDoesNotMatchSOPClass, why);
            }
        }

        std::vector<DcmDataset *> found;
        Collect col{ req.get(), &found, g_shared->cfg.max_responses, false };
        store_txn *t = nullptr;
        rl_err err;
        int rc = store_begin(g_shared->cfg.st, nullptr, false, &t, &err);
        wl_plan plan;
        if (rc == STORE_OK) {
            rc = wl_find(t, q, collect, &col, &plan, &err);
            store_abort(t);
        }
        delete q;
        if (rc != STORE_OK) {
            for (auto *d : found)
                delete d;
            return fail(rq, pres, STATUS_FIND_Failed_UnableToProcess, err.msg);
        }
        log_info("dicom.find", "calling=%s matches=%zu%s index=%c", getPeerAETitle().c_str(),
                 found.size(), col.overflow ? "+" : "", plan.kind ? plan.kind : '-');
        g_shared->matches += found.size();

        // Answer in the query's character set when it holds the data.
        std::string target = asked.c_str();
        if (target.find('\\') != std::string::npos)
            target = target.substr(0, target.find('\\'));
        bool cancelled = false;
        for (size_t i = 0; i < found.size(); i++) {
            DcmDataset *rsp = found[i];
            rsp->putAndInsertString(DCM_SpecificCharacterSet, "ISO_IR 192");
            if (target != "ISO_IR 192") {
                DcmDataset trial(*rsp);
                if (trial.convertCharacterSet(target.c_str(), 0).good()) {
                    *rsp = trial;
                    // every answer says its character set: empty for the
                    // default repertoire
                    if (target.empty())
                        rsp->insertEmptyElement(DCM_SpecificCharacterSet, OFTrue);
                    else
                        rsp->putAndInsertString(DCM_SpecificCharacterSet, target.c_str());
                }
            }
            if (!cancelled) {
                cond = sendFINDResponse(pres, rq.MessageID, rq.AffectedSOPClassUID, rsp,
                                        STATUS_FIND_Pending_MatchesAreContinuing);
                if (cond.bad())
                    cancelled = true; // the association is gone
                else if (checkForCANCEL(pres, rq.MessageID).good()) {
                    cancelled = true;
                    g_shared->cancelled++;
                    log_info("dicom.find_cancelled", "calling=%s after=%zu",
                             getPeerAETitle().c_str(), i + 1);
                    cond = sendFINDResponse(pres, rq.MessageID, rq.AffectedSOPClassUID, nullptr,
                                            STATUS_FIND_Cancel_MatchingTerminatedDueToCancelRequest);
                }
            }
        }
        for (auto *d : found)
            delete d;
        if (cancelled)
            return cond;
        if (col.overflow) {
            char why[64];
            std::snprintf(why, sizeof why, "more than %u matches: narrow the query",
                          g_shared->cfg.max_responses);
            return fail(rq, pres, STATUS_FIND_Refused_OutOfResources, why);
        }
        return sendFINDResponse(pres, rq.MessageID, rq.AffectedSOPClassUID, nullptr,
                                STATUS_FIND_Success);
    }
};

} // namespace

struct dicom_scp {
    Shared shared;
    DcmSharedSCPConfig config;
    std::unique_ptr<DcmTLSTransportLayer> tls_layer;
    std::unique_ptr<rl_dicom::Acceptor> plain, tls; // either may be absent
};

extern "C" const char *dicom_version(void)
{
    return OFFIS_DCMTK_VERSION_STRING;
}

static void configure(DcmSCPConfig &c, const dicom_scp_cfg *cfg)
{
    c.setAETitle(cfg->ae_title);
    c.setDIMSEBlockingMode(DIMSE_NONBLOCKING);
    c.setDIMSETimeout(cfg->dimse_timeout_s ? cfg->dimse_timeout_s : 60);
    c.setACSETimeout(cfg->assoc_timeout_s ? cfg->assoc_timeout_s : 10);
    c.setHostLookupEnabled(OFFalse);
    OFList<OFString> ts;
    ts.push_back(UID_LittleEndianExplicitTransferSyntax);
    ts.push_back(UID_BigEndianExplicitTransferSyntax);
    ts.push_back(UID_LittleEndianImplicitTransferSyntax);
    c.addPresentationContext(UID_VerificationSOPClass, ts);
    c.addPresentationContext(UID_FINDModalityWorklistInformationModel, ts);
    if (cfg->on_instance) {
        // storage: the common compressed syntaxes and the uncompressed ones,
        // kept as they arrive. The compressed ones come first: DCMTK accepts
        // the first of this list that the sender proposes, and a sender
        // proposing a lossless syntax beside the uncompressed ones would
        // otherwise decompress its file for us.
        OFList<OFString> sts;
        static const char *more[] = { UID_DeflatedExplicitVRLittleEndianTransferSyntax,
                                      UID_JPEGProcess1TransferSyntax,
                                      UID_JPEGProcess2_4TransferSyntax,
                                      UID_JPEGProcess14SV1TransferSyntax,
                                      UID_JPEGLSLosslessTransferSyntax,
                                      UID_JPEGLSLossyTransferSyntax,
                                      UID_JPEG2000LosslessOnlyTransferSyntax,
                                      UID_JPEG2000TransferSyntax, UID_RLELosslessTransferSyntax };
        for (const char *u : more)
            sts.push_back(u);
        for (const OFString &u : ts)
            sts.push_back(u);
        for (int i = 0; i < numberOfDcmLongSCUStorageSOPClassUIDs; i++)
            c.addPresentationContext(dcmLongSCUStorageSOPClassUIDs[i], sts);
    }
    if (cfg->on_mpps)
        c.addPresentationContext(UID_ModalityPerformedProcedureStepSOPClass, ts);
    if (cfg->on_commit_report) {
        // a PACS reporting on storage commitment plays the SCP of the SOP
        // class from its own association (the requestor in the SCP role)
        c.addPresentationContext(UID_StorageCommitmentPushModelSOPClass, ts, ASC_SC_ROLE_SCP);
        c.setAlwaysAcceptDefaultRole(OFTrue);
    }
}

static int scp_start(const dicom_scp_cfg *cfg, dicom_scp **out, rl_err *err)
{
    if (g_shared)
        return rl_err_set(err, DICOM_E_CONFIG, -1, "the DICOM SCP is already running");
    if (!dcmDataDict.isDictionaryLoaded())
        return rl_err_set(err, DICOM_E_CONFIG, -1, "the DICOM data dictionary is not loaded");
    if (!cfg->port && !cfg->tls.on)
        return rl_err_set(err, DICOM_E_CONFIG, -1, "the DICOM listener has no port");
    OFLog::configure(OFLogger::ERROR_LOG_LEVEL); // DCMTK's chatter is not our log
    /* DCMTK reads TCP_NODELAY for each association and defaults to Nagle,
     * which costs ~90 ms per C-STORE against delayed ACKs: turn it off unless
     * the administrator said otherwise. */
    setenv("TCP_NODELAY", "1", 0);
    std::unique_ptr<dicom_scp> s(new dicom_scp);
    s->shared.cfg = *cfg;
    configure(*s->config, cfg);
    rl_dicom::accept_opts o;
    o.bind = cfg->bind;
    o.max_active = cfg->max_associations ? cfg->max_associations : 16;
    o.per_address = cfg->max_per_address ? cfg->max_per_address : o.max_active;
    o.assoc_timeout_s = cfg->assoc_timeout_s ? cfg->assoc_timeout_s : 10;
    o.max_pdu = s->config->getMaxReceivePDULength();
    DcmSharedSCPConfig shared = s->config;
    if (cfg->on_alert) {
        dicom_scp_cfg *c = &s->shared.cfg;
        o.on_tls_failed = [c](const char *addr, const char *why) {
            c->on_alert(c->ctx, addr, "", why);
        };
    }
    auto serve = [shared](T_ASC_Association *assoc) {
        MwlWorker w;
        w.setSharedConfig(shared);
        w.run(assoc); // the worker drops and frees the association when it goes
    };
    g_shared = &s->shared;
    std::string why;
    if (cfg->tls.on) {
        s->tls_layer = rl_dicom::tls_layer(true, cfg->tls, why);
        if (!s->tls_layer) {
            g_shared = nullptr;
            return rl_err_set(err, DICOM_E_CONFIG, -1, "DICOM TLS: %s", why.c_str());
        }
    }
    if (cfg->port) {
        o.name = "dicom";
        o.port = cfg->port;
        o.fd = cfg->fd;
        s->plain = rl_dicom::Acceptor::start(o, serve, why);
        if (!s->plain) {
            g_shared = nullptr;
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
            g_shared = nullptr;
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
        g_shared = nullptr;
        return rl_err_set(err, DICOM_E_INTERNAL, -1, "DICOM listener: %s", e.what());
    } catch (...) {
        g_shared = nullptr;
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
    g_shared = nullptr;
    delete s;
}

extern "C" void dicom_scp_status(dicom_scp *s, rl_buf *out)
{
    if (!s)
        return;
    const Shared &c = s->shared;
    rl_buf_printf(out, "dicom associations %lu echoes %lu finds %lu matches %lu stored %lu "
                  "store-failures %lu refused %lu cancelled %lu commitment-reports %lu "
                  "mpps %lu mpps-refused %lu hidden %lu\n",
                  c.associations.load(), c.echoes.load(), c.finds.load(), c.matches.load(),
                  c.stored.load(), c.store_failed.load(), c.refused.load(), c.cancelled.load(),
                  c.reports.load(), c.mpps.load(), c.mpps_refused.load(), c.hidden.load());
    for (const auto *a : { s->plain.get(), s->tls.get() })
        if (a)
            rl_buf_printf(out,
                          "dicom %s port %u: refused busy %lu, over max-per-address %lu, "
                          "failed before the association request %lu\n",
                          a == s->tls.get() ? "tls" : "plain", a->port(), a->stats().busy.load(),
                          a->stats().per_address.load(), a->stats().failed.load());
}

extern "C" void dicom_scp_metrics(dicom_scp *s, rl_buf *out)
{
    if (!s)
        return;
    Shared &c = s->shared;
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
        char labels[96] = "";
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
        char labels[48] = "";
        metrics_label(labels, sizeof labels, "service", rl_str_c(h.svc));
        metrics_hist_write(out, "radlink_dicom_request_seconds", labels, h.h);
    }
}
