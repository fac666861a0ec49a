// The Modality Worklist C-FIND service (PS3.4 K): each query is recorded for
// the audit trail, matched by the C core in one read transaction
// (engine/wl/match.c), and answered in the request's character set when
// that can hold the answers, in ISO_IR 192 (UTF-8) otherwise.
extern "C" {
#include "radlink/limits.h"
#include "radlink/log.h"
#include "radlink/store.h"
#include "radlink/util.h"
#include "radlink/wl.h"
}
#include "radlink/dicom.h"

#include "mpps.h"
#include "scp.h"
#include "scp_find.h"
#include "wl_dataset.h"

#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "dcmtk/config/osconfig.h"
#include "dcmtk/dcmdata/dctk.h"
#include "dcmtk/dcmnet/diutil.h"

namespace rl_dicom {

namespace {

struct Collect {
    ScpState *s;
    DcmDataset *req;
    std::vector<DcmDataset *> *out;
    unsigned max;
    bool overflow;
};

// Is the step's status one the configuration keeps out of answers?
bool hidden(const ScpState &s, const wl_entry *e)
{
    const char *hide = s.cfg.mwl_hide;
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
    if (hidden(*c->s, e)) {
        c->s->hidden++;
        return 0;
    }
    if (c->out->size() >= c->max) {
        c->overflow = true;
        return 1;
    }
    auto *rsp = new DcmDataset;
    write_answer(e, c->req, rsp);
    c->out->push_back(rsp);
    return 0;
}

OFCondition fail(Association &a, T_DIMSE_C_FindRQ &rq, T_ASC_PresentationContextID pres,
                 Uint16 status, const char *why)
{
    // the reason can quote the query's values (a name): debug level only
    log_warn("dicom.find_failed", "calling=%s status=0x%04x", a.getPeerAETitle().c_str(), status);
    log_debug("dicom.find_failed_reason", "calling=%s error=\"%s\"", a.getPeerAETitle().c_str(),
              why);
    DcmDataset detail;
    detail.putAndInsertString(DCM_ErrorComment,
                              std::string(why).substr(0, RL_DICOM_ERROR_COMMENT_MAX).c_str());
    return a.sendFINDResponse(pres, rq.MessageID, rq.AffectedSOPClassUID, nullptr, status,
                              &detail);
}

OFCondition find(Association &a, T_DIMSE_C_FindRQ &rq, T_ASC_PresentationContextID pres)
{
    ScpState &s = a.state();
    DcmDataset *raw = nullptr;
    OFCondition cond = a.receiveFINDRequest(rq, pres, raw);
    if (cond.bad())
        return cond;
    s.finds++;
    std::unique_ptr<DcmDataset> req(raw);
    if (std::strcmp(rq.AffectedSOPClassUID, UID_FINDModalityWorklistInformationModel) != 0)
        return fail(a, rq, pres, STATUS_FIND_Refused_SOPClassNotSupported,
                    "only the Modality Worklist information model is served");
    // who asked for what, recorded before anything is answered
    const dicom_scp_cfg &sc = s.cfg;
    std::string asked_bytes;
    if (sc.on_query &&
        (!rl_mpps::encode(req.get(), asked_bytes) ||
         sc.on_query(sc.ctx, a.getPeerAETitle().c_str(), a.getPeerIP().c_str(),
                     rq.AffectedSOPClassUID,
                     rl_str{ asked_bytes.data(), asked_bytes.size() }) != 0))
        return fail(a, rq, pres, STATUS_FIND_Failed_UnableToProcess,
                    "the query could not be recorded in the audit trail");
    OFString asked;
    req->findAndGetOFStringArray(DCM_SpecificCharacterSet, asked);
    if (req->convertToUTF8().bad())
        return fail(a, rq, pres, STATUS_FIND_Failed_UnableToProcess,
                    "the query's Specific Character Set cannot be read");

    wl_query *q = new wl_query();
    std::vector<std::string> text;
    text.reserve(WL_MAX_ATTRS);
    q->n = 0;
    q->icase_names = s.cfg.icase_names;
    read_query(req.get(), q, text);
    for (size_t i = 0; i < q->n; i++) {
        rl_err kerr;
        if (!wl_key_valid(&q->k[i], &kerr)) {
            delete q;
            return fail(a, rq, pres, STATUS_FIND_Error_DataSetDoesNotMatchSOPClass, kerr.msg);
        }
    }

    std::vector<DcmDataset *> found;
    Collect col{ &s, req.get(), &found, s.cfg.max_responses, false };
    store_txn *t = nullptr;
    rl_err err;
    int rc = store_begin(s.cfg.st, nullptr, false, &t, &err);
    wl_plan plan;
    if (rc == STORE_OK) {
        rc = wl_find(t, q, collect, &col, &plan, &err);
        store_abort(t);
    }
    delete q;
    if (rc != STORE_OK) {
        for (auto *d : found)
            delete d;
        return fail(a, rq, pres, STATUS_FIND_Failed_UnableToProcess, err.msg);
    }
    log_info("dicom.find", "calling=%s matches=%zu%s index=%c", a.getPeerAETitle().c_str(),
             found.size(), col.overflow ? "+" : "", plan.kind ? plan.kind : '-');
    s.matches += found.size();

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
            cond = a.sendFINDResponse(pres, rq.MessageID, rq.AffectedSOPClassUID, rsp,
                                      STATUS_FIND_Pending_MatchesAreContinuing);
            if (cond.bad())
                cancelled = true; // the association is gone
            else if (a.checkForCANCEL(pres, rq.MessageID).good()) {
                cancelled = true;
                s.cancelled++;
                log_info("dicom.find_cancelled", "calling=%s after=%zu",
                         a.getPeerAETitle().c_str(), i + 1);
                cond = a.sendFINDResponse(pres, rq.MessageID, rq.AffectedSOPClassUID, nullptr,
                                          STATUS_FIND_Cancel_MatchingTerminatedDueToCancelRequest);
            }
        }
    }
    for (auto *d : found)
        delete d;
    if (cancelled)
        return cond;
    if (col.overflow) {
        char why[RL_DICOM_ERROR_COMMENT_MAX];
        std::snprintf(why, sizeof why, "more than %u matches: narrow the query",
                      s.cfg.max_responses);
        return fail(a, rq, pres, STATUS_FIND_Refused_OutOfResources, why);
    }
    return a.sendFINDResponse(pres, rq.MessageID, rq.AffectedSOPClassUID, nullptr,
                              STATUS_FIND_Success);
}

OFCondition serve(Association &a, T_DIMSE_Message &msg, T_ASC_PresentationContextID pres)
{
    return find(a, msg.msg.CFindRQ, pres);
}

void accept(DcmSCPConfig &c, const OFList<OFString> &ts)
{
    c.addPresentationContext(UID_FINDModalityWorklistInformationModel, ts);
}

} // namespace

const Service find_service = {
    { DIMSE_C_FIND_RQ, DIMSE_NOTHING }, &ScpState::find_h, nullptr, accept, serve,
};

} // namespace rl_dicom
