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
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

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

// What the associations of one send did.
struct Tally {
    unsigned ok = 0, failed = 0, fallbacks = 0;
    std::string first_error;
    // (syntax sent in, the file's syntax) -> instances
    std::map<std::pair<std::string, std::string>, unsigned> fell;

    void add(const Tally &o)
    {
        ok += o.ok;
        failed += o.failed;
        fallbacks += o.fallbacks;
        if (first_error.empty())
            first_error = o.first_error;
        for (const auto &f : o.fell)
            fell[f.first] += f.second;
    }
};

class Sender : public DcmStorageSCU {
public:
    Tally t;
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
            t.ok++;
            E_TransferSyntax file = DcmXfer(e.TransferSyntaxUID.c_str()).getXfer();
            if (!uncompressed(file) && e.NetworkTransferSyntax != file) {
                t.fallbacks++;
                t.fell[{ DcmXfer(e.NetworkTransferSyntax).getXferID(), e.TransferSyntaxUID.c_str() }]++;
            }
            return;
        }
        t.failed++;
        if (t.first_error.empty()) {
            char b[RL_DICOM_SEND_ERROR_MAX];
            std::snprintf(b, sizeof b, "%s: %s status 0x%04x", e.SOPInstanceUID.c_str(),
                          e.RequestSent ? "C-STORE" : "not sent", e.ResponseStatusCode);
            t.first_error = b;
        }
    }
};

// "3 sent as Explicit VR Little Endian: AI refused JPEG 2000 Image
// Compression (Lossless Only)", one part per pair of syntaxes.
void report(const Tally &s, const dicom_peer *to, dicom_send_report *rep)
{
    rep->sent = s.ok;
    rep->fallbacks = s.fallbacks;
    std::string note;
    for (const auto &f : s.fell)
        note += (note.empty() ? "" : "; ") + std::to_string(f.second) + " sent as " +
                ts_name(f.first.first) + ": " + to->ae_title + " refused " + ts_name(f.first.second);
    std::snprintf(rep->note, sizeof rep->note, "%s", note.c_str());
}

// One association's share of a send: files [from, to) of the list.
struct Part {
    Sender s;
    size_t from = 0, to = 0;
    bool associated = false;
    bool unfit = false;  // the node accepts none of the part's presentation contexts
    std::string net_error; // the network's failure
};

// Run in a thread of its own when a send has several parts: everything it
// touches is its own (the process-wide set-up is done before the threads).
void run_part(Part &p, const dicom_peer *to)
{
    try {
        OFCondition c = p.s.addPresentationContexts();
        if (c.good())
            c = p.s.add_fallbacks();
        if (c.good())
            c = rl_dicom::associate(p.s, to);
        if (c.bad()) {
            p.unfit = c == NET_EC_NoAcceptablePresentationContexts;
            p.net_error = c.text();
            return;
        }
        p.associated = true;
        c = p.s.sendSOPInstances();
        p.s.releaseAssociation();
        if (c.bad() && p.s.t.ok + p.s.t.failed < p.to - p.from)
            p.net_error = c.text();
    } catch (const std::exception &e) {
        p.net_error = e.what();
    } catch (...) {
        p.net_error = "an unknown exception";
    }
}

// The part of files [from, upto), its files read before any association
// opens: one file DCMTK cannot read stops the whole send before anything is
// sent (bad says which, and no part is made).
std::unique_ptr<Part> new_part(const char *calling_ae, const dicom_peer *to,
                               const char *const *files, size_t from, size_t upto,
                               std::string &bad)
{
    auto p = std::make_unique<Part>();
    rl_dicom::peer_setup(p->s, calling_ae, to);
    // each file alone in its own syntax (add_fallbacks gives the others); a
    // lossy image decompressed still says Lossy Image Compression 01
    p->s.setDecompressionMode(DcmStorageSCU::DM_never);
    p->s.setAllowIllegalProposalMode(OFTrue);
    p->from = from;
    p->to = upto;
    for (size_t i = from; i < upto; i++) {
        OFCondition c = p->s.addDicomFile(files[i], ERM_fileOnly, OFFalse);
        if (c.bad()) {
            bad = std::string(files[i]) + ": " + c.text();
            return nullptr;
        }
    }
    return p;
}

// The parts at once, one thread each; a part whose thread cannot start
// runs here. Every thread started is joined, whatever happens.
void run_parallel(std::vector<std::unique_ptr<Part>> &parts, const dicom_peer *to)
{
    std::vector<std::thread> threads;
    threads.reserve(parts.size());
    size_t started = 0;
    for (; started < parts.size(); started++) {
        try {
            threads.emplace_back(run_part, std::ref(*parts[started]), to);
        } catch (...) {
            break;
        }
    }
    for (size_t i = started; i < parts.size(); i++)
        run_part(*parts[i], to);
    for (auto &t : threads)
        t.join();
}

int send_files(const char *calling_ae, const dicom_peer *to, const char *const *files, size_t n,
               dicom_send_report *rep, rl_err *err)
{
    rl_dicom::codecs_register();
    size_t k = to->associations > 1 ? to->associations : 1;
    if (k > RL_SEND_ASSOCIATIONS_MAX)
        k = RL_SEND_ASSOCIATIONS_MAX;
    if (k > n / RL_SEND_PER_ASSOC_MIN)
        k = n / RL_SEND_PER_ASSOC_MIN ? n / RL_SEND_PER_ASSOC_MIN : 1;
    std::vector<std::unique_ptr<Part>> parts;
    std::string bad;
    for (size_t i = 0; i < k; i++) { // contiguous shares, in the caller's order
        parts.push_back(new_part(calling_ae, to, files, n * i / k, n * (i + 1) / k, bad));
        if (!parts.back())
            return rl_err_set(err, DICOM_E_FILE, -1, "%s", bad.c_str());
    }
    if (k == 1) {
        run_part(*parts[0], to);
    } else {
        run_parallel(parts, to);
        // a node that took an association and sent through it but refused
        // another (a limit per calling AE): each refused part goes over an
        // association of its own now, one after another, until one fails
        bool took = false;
        for (auto &p : parts)
            took = took || (p->associated && p->net_error.empty());
        for (auto &p : parts) {
            if (!took || p->associated || p->unfit)
                continue;
            p = new_part(calling_ae, to, files, p->from, p->to, bad);
            if (!p)
                return rl_err_set(err, DICOM_E_FILE, -1, "%s", bad.c_str());
            run_part(*p, to);
            took = p->associated;
        }
    }
    Tally all;
    for (auto &p : parts)
        all.add(p->s.t);
    if (rep)
        report(all, to, rep);
    for (auto &p : parts)
        if (!p->net_error.empty())
            return rl_err_set(err, DICOM_E_NET, -1, "%s@%s:%u: %s", to->ae_title, to->host,
                              to->port, p->net_error.c_str());
    if (all.failed)
        return rl_err_set(err, DICOM_E_REFUSED, -1, "%s@%s:%u: %u of %zu refused (%s)",
                          to->ae_title, to->host, to->port, all.failed, n,
                          all.first_error.c_str());
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
