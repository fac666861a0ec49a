// Instance files and a PACS, for the workers: correcting header attributes
// (only those that change, in the file's own character set, with the old
// values recorded in the file), associations to a peer (scu.h; sending
// with C-STORE is send.cc), asking the PACS what it holds (C-FIND) and to
// commit to what it was sent (N-ACTION), and writing IOCM rejection notes
// (dcmsr).
extern "C" {
#include "radlink/digest.h"
#include "radlink/limits.h"
#include "radlink/pn.h"
#include "radlink/util.h"
}
#include "radlink/dicom.h"

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <exception>
#include <memory>
#include <string>
#include <vector>

#include "charset.h"
#include "check.h"
#include "mpps.h"
#include "tags.h"
#include "scu.h"
#include "tls.h"
#include "dcmtk/config/osconfig.h"
#include "dcmtk/dcmdata/dctk.h"
#include "dcmtk/dcmnet/scu.h"
#include "dcmtk/dcmsr/dsrdoc.h"
#include "dcmtk/oflog/oflog.h"
#include "oflog.h"
#include "guard.h"

using rl_dicom::from_utf8;
using rl_dicom::key_of;
using rl_dicom::pn_groups_raw;
using rl_dicom::raw_of;
using rl_dicom::to_utf8;
using rl_dicom::utf8_of;

namespace rl_dicom {

std::string raw_of(DcmItem *item, const DcmTagKey &key, bool *present)
{
    OFString v;
    bool there = item && item->findAndGetOFStringArray(key, v).good();
    if (present)
        *present = there;
    return std::string(v.c_str(), v.length());
}

void utf8_of(DcmItem *ds, const DcmTagKey &key, char *out, size_t n)
{
    std::string v;
    if (!to_utf8(raw_of(ds, DCM_SpecificCharacterSet), raw_of(ds, key), v))
        v = "?";
    std::snprintf(out, n, "%s", v.c_str());
}

} // namespace rl_dicom

namespace {

void quiet()
{
    // DCMTK's own lines (association chatter, "PixelData encountered") go
    // into radlink's log, at debug
    rl_dicom::dcmtk_log_into_radlink();
}

void copy_uid(char (&out)[sizeof dicom_file_info::sop_uid], DcmItem *ds, const DcmTagKey &key)
{
    std::snprintf(out, sizeof out, "%s", raw_of(ds, key).c_str());
}

void read_info(DcmItem *ds, dicom_file_info *info)
{
    copy_uid(info->sop_class, ds, DCM_SOPClassUID);
    copy_uid(info->sop_uid, ds, DCM_SOPInstanceUID);
    copy_uid(info->series_uid, ds, DCM_SeriesInstanceUID);
    copy_uid(info->study_uid, ds, DCM_StudyInstanceUID);
}

// Requested Procedure ID lives in the Request Attributes Sequence of images.
DcmItem *where_for(DcmDataset *ds, uint32_t tag, bool create)
{
    if (tag != 0x00401001u)
        return ds;
    DcmItem *ra = nullptr;
    OFCondition c = create ? ds->findOrCreateSequenceItem(DCM_RequestAttributesSequence, ra, 0)
                           : ds->findAndGetSequenceItem(DCM_RequestAttributesSequence, ra, 0);
    return c.good() && ra ? ra : (create ? ds : nullptr);
}

bool is_pn(uint32_t tag)
{
    return DcmTag(key_of(tag)).getEVR() == EVR_PN;
}

std::string now_dt()
{
    char b[RL_DICOM_DT_MAX];
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    struct tm tm;
    localtime_r(&ts.tv_sec, &tm);
    size_t n = std::strftime(b, sizeof b, "%Y%m%d%H%M%S", &tm);
    char z[RL_DICOM_DT_MAX]; // its offset from UTC
    std::strftime(z, sizeof z, "%z", &tm);
    std::snprintf(b + n, sizeof b - n, ".%06ld%s", ts.tv_nsec / 1000, z);
    return b;
}

// One attribute to change: where it is, what it was, what it becomes.
struct Change {
    uint32_t tag;
    std::string value; // the RIS's, UTF-8
    std::string old_raw;
    bool present = false;
    std::string new_raw;
};

// The new bytes of a person name: the RIS's groups, and the groups of the
// image's name the RIS did not send kept byte for byte.
bool pn_new_raw(const std::string &scs, const std::string &old_raw, const std::string &value,
                std::string &out)
{
    std::vector<std::string> old = pn_groups_raw(old_raw);
    rl_str ris = rl_str_c(value.c_str());
    std::string g[PN_GROUPS];
    int last = 0;
    for (int i = 0; i < PN_GROUPS; i++) {
        rl_str r = pn_group(ris, i);
        if (r.n) {
            if (!from_utf8(scs, std::string(r.p, r.n), g[i]))
                return false;
        } else if (i > 0 && size_t(i) < old.size()) {
            g[i] = old[i];
        }
        if (!g[i].empty())
            last = i;
    }
    out.clear();
    for (int i = 0; i <= last; i++)
        out += (i ? "=" : "") + g[i];
    return true;
}

int correct(const char *in, const char *out, const dicom_change *ch, size_t n,
            const dicom_correct_opts *o, dicom_corrected *res, rl_err *err)
{
    quiet();
    std::memset(res, 0, sizeof *res);
    DcmFileFormat ff;
    OFCondition c = ff.loadFile(in);
    if (c.bad())
        return rl_err_set(err, DICOM_E_FILE, -1, "%s: %s", in, c.text());
    DcmDataset *ds = ff.getDataset();
    E_TransferSyntax xfer = ds->getOriginalXfer();
    read_info(ds, &res->was);
    res->now = res->was;
    std::string scs = raw_of(ds, DCM_SpecificCharacterSet);

    // what differs, compared in UTF-8 value by value (the file is not converted)
    std::vector<Change> todo;
    for (size_t i = 0; i < n; i++) {
        Change x;
        x.tag = ch[i].tag;
        x.value = ch[i].value;
        x.old_raw = raw_of(where_for(ds, x.tag, false), key_of(x.tag), &x.present);
        std::string old;
        bool readable = to_utf8(scs, x.old_raw, old);
        bool agree = readable && (is_pn(x.tag) ? pn_agree(rl_str_c(old.c_str()), rl_str_c(x.value.c_str()))
                                               : old == x.value);
        if (!agree)
            todo.push_back(x);
    }
    res->changed = unsigned(todo.size());
    if (todo.empty())
        return 0; // the file says what the RIS says: sent as it is

    // the new values in the file's character set; when one does not fit, the
    // file is converted to UTF-8 first (a file in ASCII only needs the label)
    bool fits = true;
    for (Change &x : todo)
        fits = fits && (is_pn(x.tag) ? pn_new_raw(scs, x.old_raw, x.value, x.new_raw)
                                     : from_utf8(scs, x.value, x.new_raw));
    if (!fits) {
        bool ascii_file = rl_dicom::plain_ascii(scs) &&
                          (scs.empty() || scs == "ISO_IR 6" || scs == "ISO 2022 IR 6");
        if (!ascii_file && ds->convertToUTF8().bad())
            return rl_err_set(err, DICOM_E_CHARSET, -1, "%s: a corrected value does not fit its "
                              "character set (%s), and the file cannot be converted to UTF-8",
                              in, scs.c_str());
        if (ascii_file)
            ds->putAndInsertString(DCM_SpecificCharacterSet, "ISO_IR 192");
        res->relabelled = true;
        scs = "ISO_IR 192";
        for (Change &x : todo) {
            x.old_raw = raw_of(where_for(ds, x.tag, false), key_of(x.tag), &x.present);
            if (is_pn(x.tag)) {
                rl_buf b;
                rl_buf_init(&b, 0);
                pn_merge(rl_str_c(x.old_raw.c_str()), rl_str_c(x.value.c_str()), &b);
                x.new_raw.assign(b.data ? b.data : "", b.len);
                rl_buf_free(&b);
            } else {
                x.new_raw = x.value;
            }
        }
    }

    // the old values, kept in the instance (PS3.3 C.12.1.1.9)
    DcmItem *orig = nullptr;
    c = ds->findOrCreateSequenceItem(DCM_OriginalAttributesSequence, orig, -2);
    DcmItem *mod = nullptr;
    if (c.good())
        c = orig->findOrCreateSequenceItem(DCM_ModifiedAttributesSequence, mod, 0);
    if (c.bad())
        return rl_err_set(err, DICOM_E_FILE, -1, "%s: Original Attributes Sequence: %s", in,
                          c.text());
    bool request_kept = false;
    for (const Change &x : todo) {
        if (x.tag == 0x00401001u) { // the whole Request Attributes Sequence as it was
            DcmElement *sq = nullptr;
            if (!request_kept && ds->findAndGetElement(DCM_RequestAttributesSequence, sq).good())
                mod->insert(static_cast<DcmElement *>(sq->clone()), OFTrue);
            request_kept = true;
            continue;
        }
        mod->putAndInsertString(key_of(x.tag), x.old_raw.c_str());
    }
    std::string system = o && o->modifying_system ? o->modifying_system : "radlink";
    orig->putAndInsertString(DCM_AttributeModificationDateTime, now_dt().c_str());
    orig->putAndInsertString(DCM_ModifyingSystem, system.c_str());
    orig->putAndInsertString(DCM_SourceOfPreviousValues, "");
    orig->putAndInsertString(DCM_ReasonForTheAttributeModification, "CORRECT");

    // an instance the PACS holds, corrected under IOCM, is a new instance
    if (o && o->new_uid_salt && (!o->new_uids_for || o->new_uids_for(o->ctx, res->was.sop_uid))) {
        char sop[sizeof dicom_file_info::sop_uid], series[sizeof dicom_file_info::series_uid];
        std::string a = std::string("sop:") + res->was.sop_uid + ":" + o->new_uid_salt;
        std::string b = std::string("series:") + res->was.series_uid + ":" + o->new_uid_salt;
        digest_uid_from_name(a.c_str(), sop);
        digest_uid_from_name(b.c_str(), series);
        mod->putAndInsertString(DCM_SOPInstanceUID, res->was.sop_uid);
        mod->putAndInsertString(DCM_SeriesInstanceUID, res->was.series_uid);
        ds->putAndInsertString(DCM_SOPInstanceUID, sop);
        ds->putAndInsertString(DCM_SeriesInstanceUID, series);
        std::snprintf(res->now.sop_uid, sizeof res->now.sop_uid, "%s", sop);
        std::snprintf(res->now.series_uid, sizeof res->now.series_uid, "%s", series);
    }
    for (const Change &x : todo) {
        c = where_for(ds, x.tag, true)->putAndInsertString(key_of(x.tag), x.new_raw.c_str());
        if (c.bad())
            return rl_err_set(err, DICOM_E_FILE, -1, "%s: (%04X,%04X): %s", in, x.tag >> 16,
                              x.tag & 0xffff, c.text());
        if (x.tag == 0x0020000Du)
            std::snprintf(res->now.study_uid, sizeof res->now.study_uid, "%s", x.value.c_str());
    }
    c = ff.saveFile(out, xfer == EXS_Unknown ? EXS_LittleEndianExplicit : xfer, EET_ExplicitLength,
                    EGL_recalcGL, EPD_noChange, 0, 0, EWM_updateMeta);
    if (c.bad())
        return rl_err_set(err, DICOM_E_FILE, -1, "%s: %s", out, c.text());
    return 0;
}

} // namespace

namespace rl_dicom {

// DcmSCU::useSecureConnection is protected in 3.6.7 (its public door is
// DcmTLSSCU, a class of its own, while radlink's SCUs derive from DcmSCU and
// DcmStorageSCU): reached through a member pointer named by a subclass.
namespace {
struct SecureDoor : DcmSCU {
    static OFCondition open(DcmSCU &s, DcmTransportLayer *l)
    {
        return (s.*(&SecureDoor::useSecureConnection))(l);
    }
};
} // namespace

// Who calls whom, and the timeouts, for every association radlink opens.
void peer_setup(DcmSCU &s, const char *calling_ae, const dicom_peer *to)
{
    setenv("TCP_NODELAY", "1", 0); /* see dicom_scp_start */
    quiet();
    s.setAETitle(calling_ae);
    s.setPeerAETitle(to->ae_title);
    s.setPeerHostName(to->host);
    s.setPeerPort(Uint16(to->port));
    s.setACSETimeout(30);
    s.setDIMSETimeout(60);
    s.setDIMSEBlockingMode(DIMSE_NONBLOCKING);
}

// The network, TLS when the peer wants it (DcmSCU takes the layer only once
// its network exists), and the association.
OFCondition associate(DcmSCU &s, const dicom_peer *to)
{
    OFCondition c = s.initNetwork();
    if (c.good() && to->tls.on) {
        std::string why;
        DcmTLSTransportLayer *l = rl_dicom::tls_client_layer(to->tls, why);
        if (!l)
            return makeOFCondition(OFM_dcmtls, 1, OF_error, ("TLS: " + why).c_str());
        c = SecureDoor::open(s, l);
    }
    if (c.good())
        c = s.negotiateAssociation();
    return c;
}

} // namespace rl_dicom

namespace {

using rl_dicom::associate;
using rl_dicom::peer_setup;

} // namespace

namespace rl_dicom {

// An association to the PACS for one service.
int open_scu(DcmSCU &s, const char *calling_ae, const dicom_peer *to, const char *sop_class,
             T_ASC_PresentationContextID *pres, rl_err *err)
{
    peer_setup(s, calling_ae, to);
    OFList<OFString> ts;
    ts.push_back(UID_LittleEndianExplicitTransferSyntax);
    ts.push_back(UID_LittleEndianImplicitTransferSyntax);
    s.addPresentationContext(sop_class, ts);
    OFCondition c = associate(s, to);
    if (c == NET_EC_NoAcceptablePresentationContexts || c == DUL_ASSOCIATIONREJECTED)
        return rl_err_set(err, DICOM_E_REFUSED, -1, "%s@%s:%u refuses %s from %s: %s",
                          to->ae_title, to->host, to->port,
                          dcmFindNameOfUID(sop_class, sop_class), calling_ae, c.text());
    /* reached, then aborted while negotiating: a peer that does not know
     * calling_ae, or does not let it use this service (Orthanc at its
     * defaults does so for a storage commitment or a C-FIND) */
    if (c == DUL_PEERABORTEDASSOCIATION)
        return rl_err_set(err, DICOM_E_REFUSED, -1, "%s@%s:%u aborts the association for %s "
                          "from %s (it does not know that AE title, or does not allow it this "
                          "service)", to->ae_title, to->host, to->port,
                          dcmFindNameOfUID(sop_class, sop_class), calling_ae);
    if (c.bad())
        return rl_err_set(err, DICOM_E_NET, -1, "%s@%s:%u: %s", to->ae_title, to->host, to->port,
                          c.text());
    *pres = s.findPresentationContextID(sop_class, "");
    if (*pres == 0) {
        s.releaseAssociation();
        return rl_err_set(err, DICOM_E_REFUSED, -1, "%s@%s:%u does not offer %s", to->ae_title,
                          to->host, to->port, dcmFindNameOfUID(sop_class, sop_class));
    }
    return 0;
}

} // namespace rl_dicom

namespace {

using rl_dicom::open_scu;

// C-FIND (Study Root) with q; each answer's data set to cb.
template <typename F>
int find(const char *calling_ae, const dicom_peer *to, DcmDataset &q, F cb, rl_err *err)
{
    DcmSCU s;
    T_ASC_PresentationContextID pres;
    int rc = open_scu(s, calling_ae, to, UID_FINDStudyRootQueryRetrieveInformationModel, &pres, err);
    if (rc)
        return rc;
    OFList<QRResponse *> answers;
    OFCondition c = s.sendFINDRequest(pres, &q, &answers);
    s.releaseAssociation();
    Uint16 last = 0xffff;
    for (QRResponse *r : answers) {
        if (r->m_dataset && (r->m_status == 0xff00 || r->m_status == 0xff01))
            rc = rc ? rc : cb(r->m_dataset);
        last = r->m_status;
        delete r;
    }
    if (c == DUL_PEERABORTEDASSOCIATION) /* accepted, then aborted at the request */
        return rl_err_set(err, DICOM_E_REFUSED, -1, "C-FIND at %s@%s:%u: it aborts the "
                          "association at the query (it does not let %s query it)", to->ae_title,
                          to->host, to->port, calling_ae);
    if (c.bad())
        return rl_err_set(err, DICOM_E_NET, -1, "C-FIND at %s@%s:%u: %s", to->ae_title, to->host,
                          to->port, c.text());
    if (last != 0)
        return rl_err_set(err, DICOM_E_REFUSED, -1, "C-FIND at %s@%s:%u: status 0x%04x (is "
                          "%s allowed to query it?)", to->ae_title, to->host, to->port, last,
                          calling_ae);
    return rc;
}

int find_studies(const char *calling_ae, const dicom_peer *to, const char *study_uid,
                 dicom_study_row *rows, size_t max, size_t *n, rl_err *err)
{
    *n = 0;
    DcmDataset q;
    q.putAndInsertString(DCM_SpecificCharacterSet, "ISO_IR 192");
    q.putAndInsertString(DCM_QueryRetrieveLevel, "STUDY");
    q.putAndInsertString(DCM_StudyInstanceUID, study_uid);
    const DcmTagKey keys[] = { DCM_PatientID, DCM_IssuerOfPatientID, DCM_PatientName,
                               DCM_PatientBirthDate, DCM_PatientSex, DCM_AccessionNumber,
                               DCM_NumberOfStudyRelatedInstances };
    for (const DcmTagKey &k : keys)
        q.insertEmptyElement(k);
    return find(calling_ae, to, q, [&](DcmDataset *a) {
        if (*n == max)
            return 0;
        dicom_study_row *r = &rows[(*n)++];
        std::memset(r, 0, sizeof *r);
        utf8_of(a, DCM_StudyInstanceUID, r->study_uid, sizeof r->study_uid);
        utf8_of(a, DCM_PatientID, r->patient_id, sizeof r->patient_id);
        utf8_of(a, DCM_IssuerOfPatientID, r->issuer, sizeof r->issuer);
        utf8_of(a, DCM_PatientName, r->patient_name, sizeof r->patient_name);
        utf8_of(a, DCM_PatientBirthDate, r->birth_date, sizeof r->birth_date);
        utf8_of(a, DCM_PatientSex, r->sex, sizeof r->sex);
        utf8_of(a, DCM_AccessionNumber, r->accession, sizeof r->accession);
        Sint32 k = 0;
        if (a->findAndGetSint32(DCM_NumberOfStudyRelatedInstances, k).good() && k > 0)
            r->instances = unsigned(k);
        return 0;
    }, err);
}

int find_instances(const char *calling_ae, const dicom_peer *to, const char *study_uid,
                   dicom_uid_visit cb, void *ctx, rl_err *err)
{
    DcmDataset q;
    q.putAndInsertString(DCM_QueryRetrieveLevel, "IMAGE");
    q.putAndInsertString(DCM_StudyInstanceUID, study_uid);
    q.insertEmptyElement(DCM_SeriesInstanceUID);
    q.insertEmptyElement(DCM_SOPInstanceUID);
    return find(calling_ae, to, q, [&](DcmDataset *a) {
        return cb(ctx, raw_of(a, DCM_SOPInstanceUID).c_str());
    }, err);
}

int commit_request(const char *calling_ae, const dicom_peer *to, const char *txn,
                   const dicom_ref *refs, size_t n, rl_err *err)
{
    DcmSCU s;
    T_ASC_PresentationContextID pres;
    int rc = open_scu(s, calling_ae, to, UID_StorageCommitmentPushModelSOPClass, &pres, err);
    if (rc)
        return rc;
    DcmDataset req;
    req.putAndInsertString(DCM_TransactionUID, txn);
    for (size_t i = 0; i < n; i++) {
        DcmItem *it = nullptr;
        if (req.findOrCreateSequenceItem(DCM_ReferencedSOPSequence, it, -2).good()) {
            it->putAndInsertString(DCM_ReferencedSOPClassUID, refs[i].sop_class);
            it->putAndInsertString(DCM_ReferencedSOPInstanceUID, refs[i].sop_uid);
        }
    }
    Uint16 status = 0xffff;
    OFCondition c = s.sendACTIONRequest(pres, UID_StorageCommitmentPushModelSOPInstance, 1, &req,
                                        status);
    s.releaseAssociation();
    if (c == DUL_PEERABORTEDASSOCIATION) /* accepted, then aborted at the request */
        return rl_err_set(err, DICOM_E_REFUSED, -1, "storage commitment request to %s@%s:%u: it "
                          "aborts the association at the request (it does not know %s as a "
                          "modality that may ask for it)", to->ae_title, to->host, to->port,
                          calling_ae);
    if (c.bad())
        return rl_err_set(err, DICOM_E_NET, -1, "storage commitment request to %s@%s:%u: %s",
                          to->ae_title, to->host, to->port, c.text());
    if (status != 0)
        return rl_err_set(err, DICOM_E_REFUSED, -1, "storage commitment request to %s@%s:%u: "
                          "status 0x%04x", to->ae_title, to->host, to->port, status);
    return 0;
}

// An SCU that sends N-CREATE and N-SET: DcmSCU 3.6.7 has no call for them,
// only its (protected) DIMSE message exchange.
class MppsScu : public DcmSCU {
public:
    OFCondition request(T_ASC_PresentationContextID pres, bool create, const char *uid,
                        DcmDataset *ds, Uint16 &status, std::string &comment)
    {
        T_DIMSE_Message msg;
        std::memset(&msg, 0, sizeof msg);
        if (create) {
            msg.CommandField = DIMSE_N_CREATE_RQ;
            T_DIMSE_N_CreateRQ &r = msg.msg.NCreateRQ;
            r.MessageID = 1;
            OFStandard::strlcpy(r.AffectedSOPClassUID, UID_ModalityPerformedProcedureStepSOPClass,
                                sizeof r.AffectedSOPClassUID);
            OFStandard::strlcpy(r.AffectedSOPInstanceUID, uid, sizeof r.AffectedSOPInstanceUID);
            r.opts = O_NCREATE_AFFECTEDSOPINSTANCEUID;
            r.DataSetType = DIMSE_DATASET_PRESENT;
        } else {
            msg.CommandField = DIMSE_N_SET_RQ;
            T_DIMSE_N_SetRQ &r = msg.msg.NSetRQ;
            r.MessageID = 1;
            OFStandard::strlcpy(r.RequestedSOPClassUID, UID_ModalityPerformedProcedureStepSOPClass,
                                sizeof r.RequestedSOPClassUID);
            OFStandard::strlcpy(r.RequestedSOPInstanceUID, uid, sizeof r.RequestedSOPInstanceUID);
            r.DataSetType = DIMSE_DATASET_PRESENT;
        }
        OFCondition c = sendDIMSEMessage(pres, &msg, ds);
        if (c.bad())
            return c;
        T_DIMSE_Message rsp;
        T_ASC_PresentationContextID rpres = 0;
        DcmDataset *detail = nullptr;
        c = receiveDIMSECommand(&rpres, &rsp, &detail);
        std::unique_ptr<DcmDataset> keep(detail);
        if (c.bad())
            return c;
        if (rsp.CommandField != (create ? DIMSE_N_CREATE_RSP : DIMSE_N_SET_RSP))
            return DIMSE_BADCOMMANDTYPE;
        status = create ? rsp.msg.NCreateRSP.DimseStatus : rsp.msg.NSetRSP.DimseStatus;
        T_DIMSE_DataSetType has = create ? rsp.msg.NCreateRSP.DataSetType
                                         : rsp.msg.NSetRSP.DataSetType;
        if (has != DIMSE_DATASET_NULL) { // the attributes it set: not needed
            DcmDataset *body = nullptr;
            c = receiveDIMSEDataset(&rpres, &body);
            delete body;
            if (c.bad())
                return c;
        }
        OFString text;
        if (detail && detail->findAndGetOFString(DCM_ErrorComment, text).good())
            comment.assign(text.c_str(), text.length());
        return EC_Normal;
    }
};

int mpps_send(const char *calling_ae, const dicom_peer *to, bool create, const char *uid,
              rl_str dataset, uint16_t *status, char *comment, size_t commentn, rl_err *err)
{
    DcmDataset ds;
    if (!rl_mpps::decode(dataset.p, dataset.n, ds))
        return rl_err_set(err, DICOM_E_FILE, -1, "the stored MPPS data set does not decode");
    MppsScu s;
    T_ASC_PresentationContextID pres;
    int rc = open_scu(s, calling_ae, to, UID_ModalityPerformedProcedureStepSOPClass, &pres, err);
    if (rc)
        return rc;
    Uint16 st = 0xffff;
    std::string text;
    OFCondition c = s.request(pres, create, uid, &ds, st, text);
    if (c.good())
        s.releaseAssociation();
    else
        s.abortAssociation();
    if (c.bad())
        return rl_err_set(err, DICOM_E_NET, -1, "N-%s to %s@%s:%u: %s", create ? "CREATE" : "SET",
                          to->ae_title, to->host, to->port, c.text());
    *status = st;
    std::snprintf(comment, commentn, "%s", text.c_str());
    return 0;
}

int write_rejection(const char *path, const char *like, const char *code, const char *meaning,
                    const dicom_ref *refs, size_t n, const char *salt, dicom_file_info *kos,
                    rl_err *err)
{
    quiet();
    DcmFileFormat orig;
    OFCondition c = orig.loadFileUntilTag(like, EXS_Unknown, EGL_noChange, DCM_MaxReadLength,
                                          ERM_autoDetect, DCM_PixelData);
    if (c.bad())
        return rl_err_set(err, DICOM_E_FILE, -1, "%s: %s", like, c.text());
    DcmDataset *o = orig.getDataset();
    std::string study = raw_of(o, DCM_StudyInstanceUID);
    DSRDocument doc(DSRTypes::DT_KeyObjectSelectionDocument);
    doc.createNewSeriesInStudy(study.c_str());
    DSRDocumentTree &tree = doc.getTree();
    tree.addContentItem(DSRTypes::RT_isRoot, DSRTypes::VT_Container);
    tree.getCurrentContentItem().setConceptName(DSRCodedEntryValue(code, "DCM", meaning));
    for (size_t i = 0; i < n; i++) {
        // an image as IMAGE; an SR, a PDF, any other object as COMPOSITE
        bool image = dcmIsImageStorageSOPClassUID(refs[i].sop_class);
        tree.addContentItem(DSRTypes::RT_contains, image ? DSRTypes::VT_Image : DSRTypes::VT_Composite,
                            i == 0 ? DSRTypes::AM_belowCurrent : DSRTypes::AM_afterCurrent);
        if (image)
            tree.getCurrentContentItem().setImageReference(
                DSRImageReferenceValue(refs[i].sop_class, refs[i].sop_uid));
        else
            tree.getCurrentContentItem().setCompositeReference(
                DSRCompositeReferenceValue(refs[i].sop_class, refs[i].sop_uid));
        doc.getCurrentRequestedProcedureEvidence().addItem(study.c_str(), refs[i].series_uid,
                                                           refs[i].sop_class, refs[i].sop_uid);
    }
    DcmFileFormat ff;
    DcmDataset *ds = ff.getDataset();
    c = doc.write(*ds);
    if (c.bad())
        return rl_err_set(err, DICOM_E_FILE, -1, "rejection note: %s", c.text());
    // the patient and study as the PACS holds them: copied byte for byte
    const DcmTagKey same[] = { DCM_SpecificCharacterSet, DCM_PatientName, DCM_PatientID,
                               DCM_IssuerOfPatientID, DCM_PatientBirthDate, DCM_PatientSex,
                               DCM_StudyDate, DCM_StudyTime, DCM_AccessionNumber,
                               DCM_ReferringPhysicianName, DCM_StudyID };
    for (const DcmTagKey &k : same) {
        DcmElement *e = nullptr;
        if (o->findAndGetElement(k, e).good() && e)
            ds->insert(static_cast<DcmElement *>(e->clone()), OFTrue);
    }
    if (salt) { // a note made again for the same attempt is the same note
        char sop[sizeof dicom_file_info::sop_uid], series[sizeof dicom_file_info::series_uid];
        digest_uid_from_name((std::string("kos:") + study + ":" + salt).c_str(), sop);
        digest_uid_from_name((std::string("kos-series:") + study + ":" + salt).c_str(), series);
        ds->putAndInsertString(DCM_SOPInstanceUID, sop);
        ds->putAndInsertString(DCM_SeriesInstanceUID, series);
    }
    read_info(ds, kos);
    c = ff.saveFile(path, EXS_LittleEndianExplicit, EET_ExplicitLength, EGL_recalcGL, EPD_noChange,
                    0, 0, EWM_updateMeta);
    if (c.bad())
        return rl_err_set(err, DICOM_E_FILE, -1, "%s: %s", path, c.text());
    return 0;
}

} // namespace

// ---- the C face: no exception crosses it ----

using rl_dicom::guard;

extern "C" int dicom_correct_file(const char *in, const char *out, const dicom_change *ch,
                                  size_t n, const dicom_correct_opts *o, dicom_corrected *res,
                                  rl_err *err)
{
    return guard(in, err, [&] { return correct(in, out, ch, n, o, res, err); });
}

namespace rl_dicom {

bool load_complete(DcmFileFormat &ff, const char *path, std::string &why, bool &unreadable)
{
    // values longer than this stay in the file; the parser still walks over
    // them, so a value shorter than its declared length is found
    OFCondition c = ff.loadFile(path, EXS_Unknown, EGL_noChange, 4096, ERM_autoDetect);
    unreadable = c.bad();
    if (c.bad()) {
        why = std::string("the data set is incomplete or cannot be read: ") + c.text();
        return false;
    }
    DcmDataset *ds = ff.getDataset();
    DcmElement *px = nullptr;
    if (ds->findAndGetElement(DCM_PixelData, px).bad() || !px)
        return true;
    if (DcmXfer(ds->getOriginalXfer()).isEncapsulated() || px->getLength() == DCM_UndefinedLength)
        return true; // compressed: fragments, checked by the codec that reads them
    Uint16 rows = 0, cols = 0, spp = 1, bits = 0;
    Sint32 frames = 1;
    ds->findAndGetUint16(DCM_Rows, rows);
    ds->findAndGetUint16(DCM_Columns, cols);
    ds->findAndGetUint16(DCM_SamplesPerPixel, spp);
    ds->findAndGetUint16(DCM_BitsAllocated, bits);
    if (ds->findAndGetSint32(DCM_NumberOfFrames, frames).bad() || frames < 1)
        frames = 1;
    unsigned long long need =
        (static_cast<unsigned long long>(rows) * cols * (spp ? spp : 1) * bits * Uint32(frames) +
         7) / 8;
    if (px->getLength() < need) {
        why = "pixel data of " + std::to_string(px->getLength()) + " bytes, " +
              std::to_string(need) + " declared (" + std::to_string(rows) + " rows, " +
              std::to_string(cols) + " columns, " + std::to_string(spp) + " samples, " +
              std::to_string(bits) + " bits, " + std::to_string(frames) + " frames)";
        return false;
    }
    return true;
}

} // namespace rl_dicom

extern "C" int dicom_file_check(const char *path, rl_err *err)
{
    quiet();
    try {
        DcmFileFormat ff;
        std::string why;
        bool unreadable = false;
        if (!rl_dicom::load_complete(ff, path, why, unreadable))
            return rl_err_set(err, DICOM_E_FILE, -1, "%s: %s", path, why.c_str());
        return 0;
    } catch (const std::exception &e) {
        return rl_err_set(err, DICOM_E_INTERNAL, -1, "%s: %s", path, e.what());
    } catch (...) {
        return rl_err_set(err, DICOM_E_INTERNAL, -1, "%s: an unknown exception", path);
    }
}

extern "C" int dicom_file_info_read(const char *path, dicom_file_info *info, rl_err *err)
{
    quiet();
    try {
        DcmFileFormat ff;
        OFCondition c = ff.loadFileUntilTag(path, EXS_Unknown, EGL_noChange, DCM_MaxReadLength,
                                            ERM_autoDetect, DCM_PixelData);
        if (c.bad())
            return rl_err_set(err, DICOM_E_FILE, -1, "%s: %s", path, c.text());
        read_info(ff.getDataset(), info);
        return 0;
    } catch (const std::exception &e) {
        return rl_err_set(err, DICOM_E_INTERNAL, -1, "%s: %s", path, e.what());
    } catch (...) {
        return rl_err_set(err, DICOM_E_INTERNAL, -1, "%s: an unknown exception", path);
    }
}

extern "C" int dicom_mpps_send(const char *calling_ae, const dicom_peer *to, bool create,
                               const char *sop_uid, rl_str dataset, uint16_t *status,
                               char *comment, size_t commentn, rl_err *err)
{
    return guard(create ? "N-CREATE" : "N-SET", err, [&] {
        return mpps_send(calling_ae, to, create, sop_uid, dataset, status, comment, commentn, err);
    });
}

extern "C" int dicom_find_studies(const char *calling_ae, const dicom_peer *to,
                                  const char *study_uid, dicom_study_row *rows, size_t max,
                                  size_t *n, rl_err *err)
{
    return guard("C-FIND", err, [&] { return find_studies(calling_ae, to, study_uid, rows, max, n, err); });
}

extern "C" int dicom_find_instances(const char *calling_ae, const dicom_peer *to,
                                    const char *study_uid, dicom_uid_visit cb, void *ctx,
                                    rl_err *err)
{
    return guard("C-FIND", err, [&] { return find_instances(calling_ae, to, study_uid, cb, ctx, err); });
}

extern "C" int dicom_commit_request(const char *calling_ae, const dicom_peer *to,
                                    const char *txn_uid, const dicom_ref *refs, size_t n,
                                    rl_err *err)
{
    return guard("N-ACTION", err, [&] { return commit_request(calling_ae, to, txn_uid, refs, n, err); });
}

extern "C" int dicom_write_rejection(const char *path, const char *like, const char *code,
                                     const char *meaning, const dicom_ref *refs, size_t n,
                                     const char *salt, dicom_file_info *kos, rl_err *err)
{
    return guard(path, err, [&] { return write_rejection(path, like, code, meaning, refs, n, salt, kos, err); });
}
