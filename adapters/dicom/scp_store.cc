// The Storage service, C-STORE (PS3.4 B): a received instance is written to
// a temporary file in the incoming directory, read whole, shown to the
// engine's on_dataset step (<on-receive> routes, which may change it: the
// file is then rewritten), its header indexed in UTF-8, and handed to the
// engine, which files it; success is answered only after the engine
// committed it.
extern "C" {
#include "radlink/limits.h"
#include "radlink/log.h"
#include "radlink/study.h"
#include "radlink/util.h"
}
#include "radlink/dicom.h"

#include "charset.h"
#include "check.h"
#include "ds.h"
#include "scp.h"
#include "scp_store.h"
#include "tags.h"

#include <sys/statvfs.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>

#include "dcmtk/config/osconfig.h"
#include "dcmtk/dcmdata/dctk.h"
#include "dcmtk/dcmnet/diutil.h"

namespace rl_dicom {

namespace {

// A value as UTF-8; bytes that cannot be decoded become '?'.
void utf8_field(DcmItem *item, const OFString &scs, uint32_t tag, char *out, size_t n)
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

OFCondition store_status(Association &a, T_ASC_PresentationContextID pres,
                         T_DIMSE_C_StoreRQ &rq, Uint16 status, const std::string &why)
{
    DcmDataset detail;
    if (!why.empty())
        detail.putAndInsertString(DCM_ErrorComment,
                                  why.substr(0, RL_DICOM_ERROR_COMMENT_MAX).c_str());
    return a.sendSTOREResponse(pres, rq.MessageID, rq.AffectedSOPClassUID,
                               rq.AffectedSOPInstanceUID, status,
                               why.empty() ? nullptr : &detail);
}

// The file system of the incoming directory has (almost) no room left.
bool disk_full(const ScpState &s)
{
    struct statvfs v;
    return statvfs(s.cfg.incoming_dir, &v) == 0 &&
           (unsigned long long)v.f_bavail * v.f_frsize < RL_DISK_LOW_BYTES;
}

std::string disk_full_text()
{
    return "out of resources: the disk holding the spool is full";
}

// What the engine's on_dataset step left for on_instance: handed over by
// take(), else given to cookie_free (a refusal, an error, an exception).
class Cookie {
public:
    explicit Cookie(const dicom_scp_cfg &cfg) : cfg_(cfg) {}
    Cookie(const Cookie &) = delete;
    Cookie &operator=(const Cookie &) = delete;
    ~Cookie()
    {
        if (p_ && cfg_.cookie_free)
            cfg_.cookie_free(p_);
    }
    void **slot() { return &p_; }
    void *take()
    {
        void *q = p_;
        p_ = nullptr;
        return q;
    }

private:
    const dicom_scp_cfg &cfg_;
    void *p_ = nullptr;
};

// The index fields of a data set, in UTF-8 whatever its character set
// (the file itself keeps its own), and who sent it.
void index_fields(Association &a, DcmDataset *ds, study_inst *in)
{
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
    std::snprintf(in->f[STUDY_F_CALLING_AE], sizeof in->f[0], "%s", a.getPeerAETitle().c_str());
    std::snprintf(in->peer, sizeof in->peer, "%s", a.getPeerIP().c_str());
}

// The UIDs the spool and the index are keyed by: valid, a study, and (as
// received) the SOP Instance UID the request named (PS3.4 B.2.3).
Uint16 check_uids(const study_inst *in, const char *rq_sop, std::string &why)
{
    const int uids[] = { STUDY_F_SOP_UID, STUDY_F_STUDY_UID, STUDY_F_SERIES_UID };
    for (int u : uids)
        if (in->f[u][0] && !valid_uid(in->f[u])) {
            why = std::string("not a valid UID: ") + in->f[u];
            return STATUS_STORE_Error_DataSetDoesNotMatchSOPClass;
        }
    if (rq_sop && std::strcmp(in->f[STUDY_F_SOP_UID], rq_sop) != 0) {
        why = "SOP Instance UID differs from the request's";
        return STATUS_STORE_Error_DataSetDoesNotMatchSOPClass;
    }
    if (!in->f[STUDY_F_STUDY_UID][0]) {
        why = "no Study Instance UID";
        return STATUS_STORE_Error_DataSetDoesNotMatchSOPClass;
    }
    return STATUS_Success;
}

struct DsFree {
    void operator()(dicom_ds *d) const { dicom_ds_free(d); }
};

// The engine's on_dataset step (radlink/dicom.h): when it changed the data
// set and keeps the changes, the received file is replaced by it (its transfer syntax kept, the
// old values in one Original Attributes Sequence item, reason COERCE;
// written beside it and renamed, so a failed write leaves the received
// file whole) and the index fields are taken from it again.
Uint16 on_dataset(Association &a, DcmFileFormat &ff, const char *tmp, study_inst *in,
                  Cookie &cookie, std::string &why)
{
    ScpState &s = a.state();
    if (!s.cfg.on_dataset)
        return STATUS_Success;
    std::unique_ptr<dicom_ds, DsFree> d(ds_borrow(ff));
    bool keep = s.cfg.on_dataset(s.cfg.ctx, d.get(), a.getPeerAETitle().c_str(),
                                 a.getCalledAETitle().c_str(), cookie.slot());
    if (!keep || dicom_ds_changed(d.get()) == 0)
        return STATUS_Success; // the file and in as received

    std::string fresh = std::string(tmp) + ".new";
    rl_err err;
    rl_err_clear(&err);
    int rc = dicom_ds_save(d.get(), fresh.c_str(), ROUTE_TS_KEEP, "COERCE", nullptr, &err);
    if (rc == 0 && std::rename(fresh.c_str(), tmp) != 0)
        rc = rl_err_set(&err, DICOM_E_FILE, -1, "%s: %s", tmp, std::strerror(errno));
    if (rc != 0) {
        std::remove(fresh.c_str());
        why = disk_full(s) ? disk_full_text()
                           : std::string("cannot write the changed instance: ") + err.msg;
        // 0110: processing failure (PS3.7 C.4); the peer may send it again
        return disk_full(s) ? STATUS_STORE_Refused_OutOfResources : Uint16(0x0110);
    }
    std::memset(in->f, 0, sizeof in->f);
    index_fields(a, ff.getDataset(), in);
    // the routes may have changed the UIDs: still ones the spool can hold
    return check_uids(in, nullptr, why);
}

// Read the received file whole, index and check it, and let on_dataset
// change it: STATUS_Success when the engine may have it.
Uint16 take_in(Association &a, T_DIMSE_C_StoreRQ &rq, const char *tmp, study_inst *in,
               Cookie &cookie, std::string &why)
{
    ScpState &s = a.state();
    DcmFileFormat ff;
    bool unreadable = false;
    // the whole data set, before success: an instance that cannot be
    // read whole now would fail every job of its study later
    if (!rl_dicom::load_complete(ff, tmp, why, unreadable)) {
        // DCMTK may not report a write that failed for want of space:
        // the file is then short, and the fault is ours, not the peer's
        if (unreadable && disk_full(s)) {
            why = disk_full_text();
            return STATUS_STORE_Refused_OutOfResources;
        }
        return unreadable ? STATUS_STORE_Error_CannotUnderstand
                          : STATUS_STORE_Error_DataSetDoesNotMatchSOPClass;
    }
    index_fields(a, ff.getDataset(), in);
    Uint16 status = check_uids(in, rq.AffectedSOPInstanceUID, why);
    if (status == STATUS_Success)
        status = on_dataset(a, ff, tmp, in, cookie, why);
    return status;
}

OFCondition store(Association &a, T_DIMSE_C_StoreRQ &rq, T_ASC_PresentationContextID pres)
{
    ScpState &s = a.state();
    char tmp[sizeof s.cfg.incoming_dir + RL_PATH_SUFFIX_MAX]; // "/PID-SEQ.part"
    std::snprintf(tmp, sizeof tmp, "%s/%ld-%lu.part", s.cfg.incoming_dir,
                  long(getpid()), s.seq.fetch_add(1));
    OFCondition cond = a.receiveSTORERequest(rq, pres, OFString(tmp));
    if (cond.bad()) {
        std::remove(tmp);
        s.store_failed++;
        std::string why = disk_full(s) ? disk_full_text()
                                       : std::string("cannot write: ") + cond.text();
        log_warn("dicom.store_failed", "calling=%s sop=%s error=\"%s\"",
                 a.getPeerAETitle().c_str(), rq.AffectedSOPInstanceUID, why.c_str());
        if (cond == DIMSE_RECEIVEFAILED || cond == DUL_PEERABORTEDASSOCIATION)
            return cond;
        return store_status(a, pres, rq, STATUS_STORE_Refused_OutOfResources, why);
    }
    std::unique_ptr<study_inst> in(new study_inst());
    in->received_us = rl_now_us();
    Cookie cookie(s.cfg);
    std::string why;
    Uint16 status = take_in(a, rq, tmp, in.get(), cookie, why);
    if (status == STATUS_Success) {
        char w[RL_DICOM_REFUSAL_MAX] = "";
        int rc = s.cfg.on_instance(s.cfg.ctx, in.get(), tmp, cookie.take(), w, sizeof w);
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
        s.store_failed++;
        log_warn("dicom.store_refused", "calling=%s sop=%s status=0x%04x error=\"%s\"",
                 a.getPeerAETitle().c_str(), rq.AffectedSOPInstanceUID, status, why.c_str());
    } else {
        s.stored++;
    }
    return store_status(a, pres, rq, status, status == STATUS_Success ? "" : why);
}

OFCondition serve(Association &a, T_DIMSE_Message &msg, T_ASC_PresentationContextID pres)
{
    return store(a, msg.msg.CStoreRQ, pres);
}

bool offered(const dicom_scp_cfg &cfg)
{
    return cfg.on_instance != nullptr;
}

// Every storage SOP class, in the common compressed syntaxes and the
// uncompressed ones, kept as they arrive. The compressed ones come first:
// DCMTK accepts the first of this list that the sender proposes, and a
// sender proposing a lossless syntax beside the uncompressed ones would
// otherwise decompress its file for us.
void accept(DcmSCPConfig &c, const OFList<OFString> &ts)
{
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

} // namespace

const Service store_service = {
    { DIMSE_C_STORE_RQ, DIMSE_NOTHING }, &ScpState::store_h, offered, accept, serve,
};

} // namespace rl_dicom
