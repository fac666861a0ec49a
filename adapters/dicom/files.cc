// Instance files: rewriting header attributes (correction jobs) and sending
// files to a PACS with C-STORE (DcmStorageSCU negotiates the presentation
// contexts from the files themselves).
extern "C" {
#include "radlink/util.h"
}
#include "radlink/dicom.h"

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <string>

#include "dcmtk/config/osconfig.h"
#include "dcmtk/dcmdata/dctk.h"
#include "dcmtk/dcmnet/dstorscu.h"
#include "dcmtk/oflog/oflog.h"

namespace {

DcmTagKey key_of(uint32_t t)
{
    return DcmTagKey(Uint16(t >> 16), Uint16(t & 0xffff));
}

class Sender : public DcmStorageSCU {
public:
    unsigned ok = 0, failed = 0;
    std::string first_error;

protected:
    void notifySOPInstanceSent(const TransferEntry &e) override
    {
        if (e.RequestSent && (e.ResponseStatusCode == 0 || (e.ResponseStatusCode & 0xf000) == 0xb000)) {
            ok++;
            return;
        }
        failed++;
        if (first_error.empty()) {
            char b[160];
            std::snprintf(b, sizeof b, "%s: %s status 0x%04x", e.SOPInstanceUID.c_str(),
                          e.RequestSent ? "C-STORE" : "not sent", e.ResponseStatusCode);
            first_error = b;
        }
    }
};

} // namespace

static void quiet()
{
    // DCMTK's own console lines (association chatter, "PixelData encountered")
    // are not the engine's log: errors only
    static bool done = false;
    if (!done)
        OFLog::configure(OFLogger::ERROR_LOG_LEVEL);
    done = true;
}

// The value of tag in item as UTF-8 text ("" when absent).
static std::string value_of(DcmItem *item, uint32_t tag)
{
    OFString v;
    item->findAndGetOFStringArray(key_of(tag), v);
    return std::string(v.c_str(), v.length());
}

// Requested Procedure ID lives in the Request Attributes Sequence of images.
static DcmItem *where_for(DcmDataset *ds, uint32_t tag, bool create)
{
    if (tag != 0x00401001u)
        return ds;
    DcmItem *ra = nullptr;
    OFCondition c = create ? ds->findOrCreateSequenceItem(DCM_RequestAttributesSequence, ra, 0)
                           : ds->findAndGetSequenceItem(DCM_RequestAttributesSequence, ra, 0);
    return c.good() && ra ? ra : (create ? ds : nullptr);
}

static int correct(const char *in, const char *out, const dicom_change *ch, size_t n,
                   unsigned *changed, rl_err *err)
{
    quiet();
    *changed = 0;
    DcmFileFormat ff;
    OFCondition c = ff.loadFile(in);
    if (c.bad())
        return rl_err_set(err, DICOM_E_FILE, -1, "%s: %s", in, c.text());
    DcmDataset *ds = ff.getDataset();
    E_TransferSyntax xfer = ds->getOriginalXfer();
    if (ds->convertToUTF8().bad()) // the values compared and set are UTF-8
        return rl_err_set(err, DICOM_E_CHARSET, -1, "%s: its character set cannot be converted",
                          in);
    for (size_t i = 0; i < n; i++) {
        DcmItem *where = where_for(ds, ch[i].tag, false);
        if (!where || value_of(where, ch[i].tag) != ch[i].value)
            (*changed)++;
    }
    if (!*changed)
        return 0; // the file says what the RIS says: sent as it is
    for (size_t i = 0; i < n; i++) {
        c = where_for(ds, ch[i].tag, true)->putAndInsertString(key_of(ch[i].tag), ch[i].value);
        if (c.bad())
            return rl_err_set(err, DICOM_E_FILE, -1, "%s: (%04X,%04X): %s", in, ch[i].tag >> 16,
                              ch[i].tag & 0xffff, c.text());
    }
    c = ff.saveFile(out, xfer == EXS_Unknown ? EXS_LittleEndianExplicit : xfer);
    if (c.bad())
        return rl_err_set(err, DICOM_E_FILE, -1, "%s: %s", out, c.text());
    return 0;
}

extern "C" int dicom_correct_file(const char *in, const char *out, const dicom_change *ch,
                                  size_t n, unsigned *changed, rl_err *err)
{
    try {
        return correct(in, out, ch, n, changed, err);
    } catch (const std::exception &e) {
        return rl_err_set(err, DICOM_E_INTERNAL, -1, "%s: %s", in, e.what());
    } catch (...) {
        return rl_err_set(err, DICOM_E_INTERNAL, -1, "%s: an unknown exception", in);
    }
}

static int send_files(const char *calling_ae, const dicom_peer *to, const char *const *files,
                      size_t n, rl_err *err)
{
    setenv("TCP_NODELAY", "1", 0); /* see dicom_scp_start */
    quiet();
    Sender s;
    s.setAETitle(calling_ae);
    s.setPeerAETitle(to->ae_title);
    s.setPeerHostName(to->host);
    s.setPeerPort(Uint16(to->port));
    s.setACSETimeout(30);
    s.setDIMSETimeout(60);
    s.setDIMSEBlockingMode(DIMSE_NONBLOCKING);
    for (size_t i = 0; i < n; i++) {
        OFCondition c = s.addDicomFile(files[i], ERM_fileOnly, OFFalse);
        if (c.bad())
            return rl_err_set(err, DICOM_E_FILE, -1, "%s: %s", files[i], c.text());
    }
    OFCondition c = s.addPresentationContexts();
    if (c.good())
        c = s.initNetwork();
    if (c.good())
        c = s.negotiateAssociation();
    if (c.bad())
        return rl_err_set(err, DICOM_E_NET, -1, "%s@%s:%u: %s", to->ae_title, to->host, to->port,
                          c.text());
    c = s.sendSOPInstances();
    s.releaseAssociation();
    if (c.bad() && s.ok + s.failed < n)
        return rl_err_set(err, DICOM_E_NET, -1, "%s@%s:%u: %s", to->ae_title, to->host, to->port,
                          c.text());
    if (s.failed)
        return rl_err_set(err, DICOM_E_REFUSED, -1, "%s@%s:%u: %u of %zu refused (%s)",
                          to->ae_title, to->host, to->port, s.failed, n, s.first_error.c_str());
    return 0;
}

extern "C" int dicom_send_files(const char *calling_ae, const dicom_peer *to,
                                const char *const *files, size_t n, rl_err *err)
{
    try {
        return send_files(calling_ae, to, files, n, err);
    } catch (const std::exception &e) {
        return rl_err_set(err, DICOM_E_INTERNAL, -1, "C-STORE: %s", e.what());
    } catch (...) {
        return rl_err_set(err, DICOM_E_INTERNAL, -1, "C-STORE: an unknown exception");
    }
}
