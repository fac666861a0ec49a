// A report as an Encapsulated PDF (PS3.3 A.45.1): the PDF an ORU's OBX of
// type ED carried, byte for byte (padded to an even length as pdf2dcm
// does, its own length in Encapsulated Document Length), in a DOC series of
// the study, titled with the report's title and (18748-4, LN).
extern "C" {
#include "radlink/report.h"
}
#include "radlink/dicom.h"

#include <cstring>
#include <string>

#include "report_ds.h"

namespace rl_dicom {

namespace {

// OB's longest value (PS3.5 6.2: 2^32 - 2 bytes, even).
const size_t ob_max = 0xfffffffeu;

OFCondition put(DcmItem *ds, const DcmTagKey &k, const std::string &v)
{
    return ds->putAndInsertOFStringArray(k, OFString(v.data(), v.size()));
}

int check_pdf(const report *r, rl_err *err)
{
    if (r->pdf.n == 0 || !r->pdf.p)
        return rl_err_set(err, DICOM_E_VALUE, -1, "no PDF to encapsulate: the report has none");
    if (r->pdf.n < 5 || std::memcmp(r->pdf.p, "%PDF-", 5) != 0)
        return rl_err_set(err, DICOM_E_VALUE, -1,
                          "the document is not a PDF (it does not start with \"%%PDF-\")");
    if (r->pdf.n > ob_max - 1)
        return rl_err_set(err, DICOM_E_VALUE, -1, "a PDF of %zu bytes, longer than OB allows",
                          r->pdf.n);
    return 0;
}

OFCondition put_document(DcmItem *ds, const report *r)
{
    size_t n = r->pdf.n + (r->pdf.n & 1); // odd: one NUL after the %EOF, as pdf2dcm pads
    Uint8 *buf = nullptr;
    OFCondition c = ds->putAndInsertUint8Array(DCM_EncapsulatedDocument, nullptr, 0);
    DcmElement *e = nullptr;
    if (c.good())
        c = ds->findAndGetElement(DCM_EncapsulatedDocument, e);
    if (c.good())
        c = e->createUint8Array(static_cast<Uint32>(n), buf);
    if (c.bad())
        return c;
    std::memcpy(buf, r->pdf.p, r->pdf.n);
    if (n > r->pdf.n)
        buf[r->pdf.n] = 0;
    return ds->putAndInsertUint32(DCM_EncapsulatedDocumentLength, static_cast<Uint32>(r->pdf.n));
}

OFCondition put_module(DcmItem *ds, const report *r, report_text &t)
{
    bool verified = r->status != REPORT_PRELIMINARY && r->observer_name[0];
    std::string title = r->title[0] ? r->title : "Diagnostic Imaging Report";
    OFCondition c = put(ds, DCM_SOPClassUID, UID_EncapsulatedPDFStorage);
    if (c.good())
        c = put(ds, DCM_Modality, "DOC");
    if (c.good()) // SC Equipment: made on a workstation, as pdf2dcm says
        c = put(ds, DCM_ConversionType, "WSD");
    if (c.good()) // a report names the patient on its pages
        c = put(ds, DCM_BurnedInAnnotation, "YES");
    if (c.good())
        c = ds->insertEmptyElement(DCM_AcquisitionDateTime);
    if (c.good())
        c = put(ds, DCM_DocumentTitle, t.enc("the title", title));
    if (c.good())
        c = report_put_code(ds, DCM_ConceptNameCodeSequence, "18748-4", "LN",
                            "Diagnostic Imaging Report");
    if (c.good())
        c = put(ds, DCM_VerificationFlag, verified ? "VERIFIED" : "UNVERIFIED");
    if (c.good())
        c = put(ds, DCM_MIMETypeOfEncapsulatedDocument, "application/pdf");
    if (c.good())
        c = put_document(ds, r);
    return c;
}

} // namespace

int report_build_pdf(const report *r, const dicom_report_study *s, report_text &t,
                     DcmFileFormat &ff, rl_err *err)
{
    int rc = check_pdf(r, err);
    if (rc)
        return rc;
    DcmDataset *ds = ff.getDataset();
    OFCondition c = report_put_common(ds, r, s, t);
    if (c.good())
        c = put_module(ds, r, t);
    if (c.bad())
        return rl_err_set(err, DICOM_E_VALUE, -1, "the encapsulated PDF: %s", c.text());
    return 0;
}

} // namespace rl_dicom
