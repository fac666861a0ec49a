// Sending instance files with C-STORE (radlink/dicom.h, dicom_send_files):
// each file is proposed in its own transfer syntax, alone in its
// presentation context, and each SOP class in the uncompressed ones in
// another; a node that refuses the first gets the file decompressed (every
// codec of transcode.h, JPEG 2000 included), and the report says which
// files went so. (DcmStorageSCU, left to decompress, would put the
// uncompressed syntaxes in the file's own context, and a node such as
// Orthanc then picks them for every file.)
extern "C" {
#include "radlink/dicom.h"
#include "radlink/limits.h"
#include "radlink/util.h"
}

#include <cstdio>
#include <cstring>
#include <exception>
#include <map>
#include <set>
#include <string>
#include <utility>

#include "scu.h"
#include "transcode.h"
#include "dcmtk/config/osconfig.h"
#include "dcmtk/dcmdata/dctk.h"
#include "dcmtk/dcmnet/dstorscu.h"

namespace {

// PS3.6 Table A-1's names of the syntaxes a modality or a node uses.
std::string ts_name(const std::string &uid)
{
    static const std::pair<const char *, const char *> names[] = {
        { "1.2.840.10008.1.2", "Implicit VR Little Endian" },
        { "1.2.840.10008.1.2.1", "Explicit VR Little Endian" },
        { "1.2.840.10008.1.2.2", "Explicit VR Big Endian" },
        { "1.2.840.10008.1.2.1.99", "Deflated Explicit VR Little Endian" },
        { "1.2.840.10008.1.2.4.50", "JPEG Baseline (Process 1)" },
        { "1.2.840.10008.1.2.4.51", "JPEG Extended (Process 2 & 4)" },
        { "1.2.840.10008.1.2.4.57", "JPEG Lossless, Non-Hierarchical (Process 14)" },
        { "1.2.840.10008.1.2.4.70", "JPEG Lossless, Non-Hierarchical, First-Order Prediction" },
        { "1.2.840.10008.1.2.4.80", "JPEG-LS Lossless Image Compression" },
        { "1.2.840.10008.1.2.4.81", "JPEG-LS Lossy (Near-Lossless) Image Compression" },
        { "1.2.840.10008.1.2.4.90", "JPEG 2000 Image Compression (Lossless Only)" },
        { "1.2.840.10008.1.2.4.91", "JPEG 2000 Image Compression" },
        { "1.2.840.10008.1.2.5", "RLE Lossless" },
    };
    for (const auto &n : names)
        if (uid == n.first)
            return n.second;
    DcmXfer x(uid.c_str());
    return x.getXfer() == EXS_Unknown ? uid : x.getXferName();
}

bool uncompressed(E_TransferSyntax x)
{
    return x == EXS_LittleEndianImplicit || x == EXS_LittleEndianExplicit ||
           x == EXS_BigEndianExplicit;
}

class Sender : public DcmStorageSCU {
public:
    unsigned ok = 0, failed = 0, fallbacks = 0;
    std::string first_error;
    // (syntax sent in, the file's syntax) -> instances
    std::map<std::pair<std::string, std::string>, unsigned> fell;
    std::set<std::string> classes; // SOP classes of the files

    // after DcmStorageSCU's own contexts: one per SOP class in the
    // uncompressed syntaxes, which a refused compressed file goes in
    OFCondition add_fallbacks()
    {
        OFList<OFString> plain;
        plain.push_back(UID_LittleEndianExplicitTransferSyntax);
        plain.push_back(UID_LittleEndianImplicitTransferSyntax);
        OFCondition c = EC_Normal;
        for (const std::string &cls : classes)
            if (c.good())
                c = addPresentationContext(cls.c_str(), plain);
        return c;
    }

protected:
    OFCondition checkSOPInstance(const OFString &cls, const OFString &sop, const OFString &ts,
                                 const OFBool check) override
    {
        OFCondition c = DcmStorageSCU::checkSOPInstance(cls, sop, ts, check);
        if (c.good())
            classes.insert(cls.c_str());
        return c;
    }

    // DcmSCU 3.6.7 does not convert a data set to the syntax its
    // presentation context was accepted in when it is given the context:
    // the file goes decompressed here, by the registered codecs
    OFCondition sendSTORERequest(const T_ASC_PresentationContextID asked, const OFFilename &file,
                                 DcmDataset *ds, Uint16 &status, const OFString &move_ae,
                                 const Uint16 move_id) override
    {
        T_ASC_PresentationContextID pres = asked;
        if (ds && pres) {
            OFString as, ts;
            findPresentationContext(pres, as, ts);
            if (ts.empty()) { // the node refused the file's own syntax
                OFString cls;
                ds->findAndGetOFString(DCM_SOPClassUID, cls);
                T_ASC_PresentationContextID alt =
                    findPresentationContextID(cls, UID_LittleEndianExplicitTransferSyntax);
                if (!alt)
                    alt = findPresentationContextID(cls, UID_LittleEndianImplicitTransferSyntax);
                if (alt) {
                    pres = alt;
                    findPresentationContext(pres, as, ts);
                }
            }
            E_TransferSyntax net = DcmXfer(ts.c_str()).getXfer();
            if (!ts.empty() && !ds->canWriteXfer(net, ds->getCurrentXfer()))
                ds->chooseRepresentation(net, nullptr); // DIMSE names the failure
        }
        return DcmStorageSCU::sendSTORERequest(pres, file, ds, status, move_ae, move_id);
    }

    void notifySOPInstanceSent(const TransferEntry &e) override
    {
        if (e.RequestSent && (e.ResponseStatusCode == 0 || (e.ResponseStatusCode & 0xf000) == 0xb000)) {
            ok++;
            E_TransferSyntax file = DcmXfer(e.TransferSyntaxUID.c_str()).getXfer();
            if (!uncompressed(file) && e.NetworkTransferSyntax != file) {
                fallbacks++;
                fell[{ DcmXfer(e.NetworkTransferSyntax).getXferID(), e.TransferSyntaxUID.c_str() }]++;
            }
            return;
        }
        failed++;
        if (first_error.empty()) {
            char b[RL_DICOM_SEND_ERROR_MAX];
            std::snprintf(b, sizeof b, "%s: %s status 0x%04x", e.SOPInstanceUID.c_str(),
                          e.RequestSent ? "C-STORE" : "not sent", e.ResponseStatusCode);
            first_error = b;
        }
    }
};

// "3 sent as Explicit VR Little Endian: AI refused JPEG 2000 Image
// Compression (Lossless Only)", one part per pair of syntaxes.
void report(const Sender &s, const dicom_peer *to, dicom_send_report *rep)
{
    rep->sent = s.ok;
    rep->fallbacks = s.fallbacks;
    std::string note;
    for (const auto &f : s.fell)
        note += (note.empty() ? "" : "; ") + std::to_string(f.second) + " sent as " +
                ts_name(f.first.first) + ": " + to->ae_title + " refused " + ts_name(f.first.second);
    std::snprintf(rep->note, sizeof rep->note, "%s", note.c_str());
}

int send_files(const char *calling_ae, const dicom_peer *to, const char *const *files, size_t n,
               dicom_send_report *rep, rl_err *err)
{
    rl_dicom::codecs_register();
    Sender s;
    rl_dicom::peer_setup(s, calling_ae, to);
    // each file alone in its own syntax (add_fallbacks gives the others); a
    // lossy image decompressed still says Lossy Image Compression 01
    s.setDecompressionMode(DcmStorageSCU::DM_never);
    s.setAllowIllegalProposalMode(OFTrue);
    for (size_t i = 0; i < n; i++) {
        OFCondition c = s.addDicomFile(files[i], ERM_fileOnly, OFFalse);
        if (c.bad())
            return rl_err_set(err, DICOM_E_FILE, -1, "%s: %s", files[i], c.text());
    }
    OFCondition c = s.addPresentationContexts();
    if (c.good())
        c = s.add_fallbacks();
    if (c.good())
        c = rl_dicom::associate(s, to);
    if (c.bad())
        return rl_err_set(err, DICOM_E_NET, -1, "%s@%s:%u: %s", to->ae_title, to->host, to->port,
                          c.text());
    c = s.sendSOPInstances();
    s.releaseAssociation();
    if (rep)
        report(s, to, rep);
    if (c.bad() && s.ok + s.failed < n)
        return rl_err_set(err, DICOM_E_NET, -1, "%s@%s:%u: %s", to->ae_title, to->host, to->port,
                          c.text());
    if (s.failed)
        return rl_err_set(err, DICOM_E_REFUSED, -1, "%s@%s:%u: %u of %zu refused (%s)",
                          to->ae_title, to->host, to->port, s.failed, n, s.first_error.c_str());
    return 0;
}

} // namespace

extern "C" int dicom_send_files(const char *calling_ae, const dicom_peer *to,
                                const char *const *files, size_t n, dicom_send_report *rep,
                                rl_err *err)
{
    if (rep)
        std::memset(rep, 0, sizeof *rep);
    try {
        return send_files(calling_ae, to, files, n, rep, err);
    } catch (const std::exception &e) {
        return rl_err_set(err, DICOM_E_INTERNAL, -1, "C-STORE: %s", e.what());
    } catch (...) {
        return rl_err_set(err, DICOM_E_INTERNAL, -1, "C-STORE: an unknown exception");
    }
}
