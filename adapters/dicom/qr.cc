// Query/retrieve, for prefetching priors (radlink/dicom.h, dicom_qr_*): the
// studies a node holds for a patient (C-FIND, Study Root, study level), a
// study moved by the node to another AE title (C-MOVE), or fetched into a
// directory (C-GET, the storage sub-operations on the same association).
extern "C" {
#include "radlink/util.h"
}
#include "radlink/dicom.h"

#include <cstdio>
#include <cstring>
#include <string>

#include "guard.h"
#include "scu.h"
#include "dcmtk/config/osconfig.h"
#include "dcmtk/dcmdata/dctk.h"
#include "dcmtk/dcmnet/scu.h"

namespace {

using rl_dicom::raw_of;
using rl_dicom::utf8_of;

const char *where(const dicom_peer *p, char *buf, size_t n)
{
    std::snprintf(buf, n, "%s@%s:%u", p->ae_title, p->host, p->port);
    return buf;
}

// A C-FIND that keeps at most max answers: the rest are counted, not kept.
struct CappedFind : DcmSCU {
    size_t max = 0, seen = 0;
    Uint16 last = 0xffff;
    dicom_qr_study *rows = nullptr;
    size_t *n = nullptr;

    OFCondition handleFINDResponse(const T_ASC_PresentationContextID, QRResponse *r,
                                   OFBool &wait) override
    {
        wait = OFTrue;
        last = r->m_status;
        if (r->m_dataset && (r->m_status == 0xff00 || r->m_status == 0xff01)) {
            if (seen++ < max)
                take(r->m_dataset, &rows[(*n)++]);
        }
        if (r->m_status != 0xff00 && r->m_status != 0xff01)
            wait = OFFalse;
        return EC_Normal;
    }

    static void take(DcmDataset *a, dicom_qr_study *s)
    {
        std::memset(s, 0, sizeof *s);
        utf8_of(a, DCM_StudyInstanceUID, s->study_uid, sizeof s->study_uid);
        utf8_of(a, DCM_AccessionNumber, s->accession, sizeof s->accession);
        utf8_of(a, DCM_StudyDate, s->study_date, sizeof s->study_date);
        utf8_of(a, DCM_StudyTime, s->study_time, sizeof s->study_time);
        utf8_of(a, DCM_ModalitiesInStudy, s->modalities, sizeof s->modalities);
        utf8_of(a, DCM_StudyDescription, s->description, sizeof s->description);
        utf8_of(a, DCM_BodyPartExamined, s->body_part, sizeof s->body_part);
        utf8_of(a, DCM_PatientID, s->patient_id, sizeof s->patient_id);
        utf8_of(a, DCM_IssuerOfPatientID, s->issuer, sizeof s->issuer);
        Sint32 k = 0;
        if (a->findAndGetSint32(DCM_NumberOfStudyRelatedInstances, k).good() && k > 0)
            s->instances = unsigned(k);
    }
};

// An association for one query/retrieve service, each response awaited
// timeout_s (0: peer_setup's 60 s).
int open_qr(DcmSCU &s, const char *calling_ae, const dicom_peer *to, const char *sop_class,
            unsigned timeout_s, T_ASC_PresentationContextID *pres, rl_err *err)
{
    int rc = rl_dicom::open_scu(s, calling_ae, to, sop_class, pres, err);
    if (rc == 0 && timeout_s)
        s.setDIMSETimeout(Uint32(timeout_s));
    return rc;
}

int qr_find(const char *calling_ae, const dicom_peer *to, const char *patient_id,
            const char *issuer, const char *study_uid, unsigned timeout_s, dicom_qr_study *rows,
            size_t max, size_t *n, size_t *total, rl_err *err)
{
    *n = 0;
    *total = 0;
    char at[320];
    CappedFind s;
    s.max = max;
    s.rows = rows;
    s.n = n;
    T_ASC_PresentationContextID pres;
    int rc = open_qr(s, calling_ae, to, UID_FINDStudyRootQueryRetrieveInformationModel, timeout_s,
                     &pres, err);
    if (rc)
        return rc;
    DcmDataset q;
    q.putAndInsertString(DCM_SpecificCharacterSet, "ISO_IR 192");
    q.putAndInsertString(DCM_QueryRetrieveLevel, "STUDY");
    q.putAndInsertString(DCM_PatientID, patient_id ? patient_id : "");
    if (issuer && issuer[0])
        q.putAndInsertString(DCM_IssuerOfPatientID, issuer);
    else
        q.insertEmptyElement(DCM_IssuerOfPatientID);
    q.putAndInsertString(DCM_StudyInstanceUID, study_uid ? study_uid : "");
    const DcmTagKey keys[] = { DCM_StudyDate, DCM_StudyTime, DCM_AccessionNumber,
                               DCM_ModalitiesInStudy, DCM_StudyDescription,
                               DCM_BodyPartExamined, DCM_NumberOfStudyRelatedInstances };
    for (const DcmTagKey &k : keys)
        q.insertEmptyElement(k);
    // no list of answers: handleFINDResponse keeps what it wants
    OFCondition c = s.sendFINDRequest(pres, &q, nullptr);
    Uint16 last = s.last;
    s.releaseAssociation();
    *total = s.seen;
    if (c == DIMSE_NODATAAVAILABLE || c == DUL_NETWORKCLOSED || c == DIMSE_READPDVFAILED)
        return rl_err_set(err, DICOM_E_NET, -1, "C-FIND at %s: no answer within %u s (%s)",
                          where(to, at, sizeof at), timeout_s ? timeout_s : 60, c.text());
    if (c.bad())
        return rl_err_set(err, DICOM_E_NET, -1, "C-FIND at %s: %s", where(to, at, sizeof at),
                          c.text());
    if (last != 0 && last != 0xffff)
        return rl_err_set(err, DICOM_E_REFUSED, -1, "C-FIND at %s: status 0x%04x (is %s allowed "
                          "to query it?)", where(to, at, sizeof at), last, calling_ae);
    return 0;
}

// The final response of a C-MOVE or C-GET: its status, counts and the
// Failed SOP Instance UID List.
void result_of(OFList<RetrieveResponse *> &rs, dicom_qr_result *res)
{
    for (RetrieveResponse *r : rs) {
        res->status = r->m_status;
        if (r->m_status != 0xff00) {
            res->completed = r->m_numberOfCompletedSubops;
            res->failed = r->m_numberOfFailedSubops;
            res->warning = r->m_numberOfWarningSubops;
            if (r->m_dataset)
                std::snprintf(res->failed_uids, sizeof res->failed_uids, "%s",
                              raw_of(r->m_dataset, DCM_FailedSOPInstanceUIDList).c_str());
        } else {
            res->completed = r->m_numberOfCompletedSubops;
        }
        delete r;
    }
    rs.clear();
}

// What a final status says, as the job and `radlink prefetch` print it.
int retrieve_outcome(const char *what, const dicom_peer *from, const char *dest,
                     const dicom_qr_result *res, rl_err *err)
{
    char at[320];
    where(from, at, sizeof at);
    switch (res->status) {
    case 0x0000:
        return 0;
    case 0xb000:
        return rl_err_set(err, DICOM_E_PARTIAL, -1, "%s from %s: %u instances failed, %u "
                          "completed (status 0xB000)%s%s", what, at, res->failed, res->completed,
                          res->failed_uids[0] ? "; failed: " : "", res->failed_uids);
    case 0xa801:
        return rl_err_set(err, DICOM_E_REFUSED, -1, "%s from %s: the archive does not know the "
                          "destination %s (status 0xA801, move destination unknown): declare "
                          "it there (AE title %s, its host and port), or set retrieve=\"get\" "
                          "on the archive's <node>", what, at, dest, dest);
    case 0xa701: case 0xa702:
        return rl_err_set(err, DICOM_E_REFUSED, -1, "%s from %s: out of resources (status "
                          "0x%04x)", what, at, res->status);
    default:
        if (std::strcmp(what, "C-MOVE") == 0 && res->completed == 0)
            return rl_err_set(err, DICOM_E_REFUSED, -1, "%s from %s: status 0x%04x, nothing "
                              "moved: an archive that does not know the destination %s refuses "
                              "so; declare it there (AE title %s, its host and port), or set "
                              "retrieve=\"get\" on the archive's <node>", what, at, res->status,
                              dest, dest);
        return rl_err_set(err, DICOM_E_REFUSED, -1, "%s from %s: status 0x%04x, %u completed, "
                          "%u failed", what, at, res->status, res->completed, res->failed);
    }
}

int qr_move(const char *calling_ae, const dicom_peer *from, const char *dest_ae,
            const char *study_uid, unsigned timeout_s, dicom_qr_result *res, rl_err *err)
{
    std::memset(res, 0, sizeof *res);
    res->status = 0xffff;
    DcmSCU s;
    T_ASC_PresentationContextID pres;
    int rc = open_qr(s, calling_ae, from, UID_MOVEStudyRootQueryRetrieveInformationModel,
                     timeout_s, &pres, err);
    if (rc)
        return rc;
    DcmDataset q;
    q.putAndInsertString(DCM_QueryRetrieveLevel, "STUDY");
    q.putAndInsertString(DCM_StudyInstanceUID, study_uid);
    OFList<RetrieveResponse *> rs;
    OFCondition c = s.sendMOVERequest(pres, dest_ae, &q, &rs);
    s.releaseAssociation();
    result_of(rs, res);
    char at[320];
    if (c.bad())
        return rl_err_set(err, DICOM_E_NET, -1, "C-MOVE of %s from %s: %s", study_uid,
                          where(from, at, sizeof at), c.text());
    return retrieve_outcome("C-MOVE", from, dest_ae, res, err);
}

// C-GET: the storage sub-operations come on this association; each file is
// written into the directory by DcmSCU's own handler (named by SOP class
// and instance).
int qr_get(const char *calling_ae, const dicom_peer *from, const char *study_uid,
           const char *dir, unsigned timeout_s, dicom_qr_result *res, rl_err *err)
{
    std::memset(res, 0, sizeof *res);
    res->status = 0xffff;
    DcmSCU s;
    rl_dicom::peer_setup(s, calling_ae, from);
    if (timeout_s)
        s.setDIMSETimeout(Uint32(timeout_s));
    OFList<OFString> ts;
    ts.push_back(UID_LittleEndianExplicitTransferSyntax);
    ts.push_back(UID_LittleEndianImplicitTransferSyntax);
    s.addPresentationContext(UID_GETStudyRootQueryRetrieveInformationModel, ts);
    // the storage classes the archive may send back, as SCP (PS3.4 C.4.3):
    // DCMTK's list of the common ones, within the 128 contexts a
    // negotiation holds
    for (int i = 0; i < numberOfDcmLongSCUStorageSOPClassUIDs && i < 120; i++)
        s.addPresentationContext(dcmLongSCUStorageSOPClassUIDs[i], ts, ASC_SC_ROLE_SCP);
    s.setStorageDir(dir);
    s.setStorageMode(DCMSCU_STORAGE_DISK);
    char at[320];
    OFCondition c = rl_dicom::associate(s, from);
    if (c.bad())
        return rl_err_set(err, c == DUL_ASSOCIATIONREJECTED ? DICOM_E_REFUSED : DICOM_E_NET, -1,
                          "C-GET at %s: %s", where(from, at, sizeof at), c.text());
    T_ASC_PresentationContextID pres =
        s.findPresentationContextID(UID_GETStudyRootQueryRetrieveInformationModel, "");
    if (!pres) {
        s.releaseAssociation();
        return rl_err_set(err, DICOM_E_REFUSED, -1, "%s does not offer C-GET (Study Root)",
                          where(from, at, sizeof at));
    }
    DcmDataset q;
    q.putAndInsertString(DCM_QueryRetrieveLevel, "STUDY");
    q.putAndInsertString(DCM_StudyInstanceUID, study_uid);
    OFList<RetrieveResponse *> rs;
    c = s.sendCGETRequest(pres, &q, &rs);
    s.releaseAssociation();
    result_of(rs, res);
    if (c.bad())
        return rl_err_set(err, DICOM_E_NET, -1, "C-GET of %s from %s: %s", study_uid,
                          where(from, at, sizeof at), c.text());
    return retrieve_outcome("C-GET", from, calling_ae, res, err);
}

int echo(const char *calling_ae, const dicom_peer *to, rl_err *err)
{
    DcmSCU s;
    T_ASC_PresentationContextID pres;
    int rc = rl_dicom::open_scu(s, calling_ae, to, UID_VerificationSOPClass, &pres, err);
    if (rc)
        return rc;
    OFCondition c = s.sendECHORequest(pres);
    s.releaseAssociation();
    char at[320];
    if (c == DUL_PEERABORTEDASSOCIATION)
        return rl_err_set(err, DICOM_E_REFUSED, -1, "C-ECHO at %s: it aborts the association",
                          where(to, at, sizeof at));
    if (c.bad())
        return rl_err_set(err, DICOM_E_NET, -1, "C-ECHO at %s: %s", where(to, at, sizeof at),
                          c.text());
    return 0;
}

} // namespace

extern "C" int dicom_echo(const char *calling_ae, const dicom_peer *to, rl_err *err)
{
    return rl_dicom::guard("C-ECHO", err, [&] { return echo(calling_ae, to, err); });
}

extern "C" int dicom_qr_find(const char *calling_ae, const dicom_peer *to, const char *patient_id,
                             const char *issuer, const char *study_uid, unsigned timeout_s,
                             dicom_qr_study *rows, size_t max, size_t *n, size_t *total,
                             rl_err *err)
{
    return rl_dicom::guard("C-FIND", err, [&] {
        return qr_find(calling_ae, to, patient_id, issuer, study_uid, timeout_s, rows, max, n,
                       total, err);
    });
}

extern "C" int dicom_qr_move(const char *calling_ae, const dicom_peer *from, const char *dest_ae,
                             const char *study_uid, unsigned timeout_s, dicom_qr_result *res,
                             rl_err *err)
{
    return rl_dicom::guard("C-MOVE", err, [&] {
        return qr_move(calling_ae, from, dest_ae, study_uid, timeout_s, res, err);
    });
}

extern "C" int dicom_qr_get(const char *calling_ae, const dicom_peer *from, const char *study_uid,
                            const char *dir, unsigned timeout_s, dicom_qr_result *res,
                            rl_err *err)
{
    return rl_dicom::guard("C-GET", err, [&] {
        return qr_get(calling_ae, from, study_uid, dir, timeout_s, res, err);
    });
}
