// The Storage service, C-STORE (PS3.4 B): a received instance is written to
// a temporary file in the incoming directory, read whole, its header
// indexed in UTF-8, and handed to the engine, which files it; success is
// answered only after the engine committed it.
extern "C" {
#include "radlink/limits.h"
#include "radlink/log.h"
#include "radlink/study.h"
#include "radlink/util.h"
}
#include "radlink/dicom.h"

#include "charset.h"
#include "check.h"
#include "scp.h"
#include "scp_store.h"
#include "tags.h"

#include <sys/statvfs.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
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
        if (unreadable && disk_full(s)) {
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
                      a.getPeerAETitle().c_str());
        std::snprintf(in->peer, sizeof in->peer, "%s", a.getPeerIP().c_str());
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
        char w[RL_DICOM_REFUSAL_MAX] = "";
        int rc = s.cfg.on_instance(s.cfg.ctx, in, tmp, nullptr, w, sizeof w);
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
    delete in;
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
