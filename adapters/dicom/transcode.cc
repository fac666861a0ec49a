// Transfer syntax conversion (transcode.h): which codecs, and the rule
// that a lossy image is never labelled lossless (routes/README.md, "<send>:
// transfer syntax").
#include "transcode.h"

#include <cstdio>
#include <mutex>

#include "j2k.h"
#include "dcmtk/dcmdata/dcpixseq.h"
#include "dcmtk/dcmdata/dcpxitem.h"
#include "dcmtk/dcmdata/dcrledrg.h"
#include "dcmtk/dcmdata/dcrleerg.h"
#include "dcmtk/dcmdata/dcrlerp.h"
#include "dcmtk/dcmjpeg/djdecode.h"
#include "dcmtk/dcmjpls/djdecode.h"
#include "dcmtk/dcmjpls/djencode.h"
#include "dcmtk/dcmjpls/djrparam.h"

namespace rl_dicom {

namespace {

E_TransferSyntax target_of(route_ts ts)
{
    switch (ts) {
    case ROUTE_TS_EXPLICIT_LITTLE: return EXS_LittleEndianExplicit;
    case ROUTE_TS_JPEG_LS_LOSSLESS: return EXS_JPEGLSLossless;
    case ROUTE_TS_JPEG2000_LOSSLESS: return EXS_JPEG2000LosslessOnly;
    case ROUTE_TS_RLE: return EXS_RLELossless;
    default: return EXS_Unknown;
    }
}

// PS3.3 C.7.6.1.1.5.1: the method a lossy transfer syntax used.
const char *lossy_method(E_TransferSyntax x)
{
    switch (x) {
    case EXS_JPEGProcess1: case EXS_JPEGProcess2_4: case EXS_JPEGProcess3_5:
    case EXS_JPEGProcess6_8: case EXS_JPEGProcess7_9: case EXS_JPEGProcess10_12:
    case EXS_JPEGProcess11_13: case EXS_JPEGProcess15: case EXS_JPEGProcess16_18:
    case EXS_JPEGProcess17_19: case EXS_JPEGProcess20_22: case EXS_JPEGProcess21_23:
    case EXS_JPEGProcess24_26: case EXS_JPEGProcess25_27:
        return "ISO_10918_1";
    case EXS_JPEGLSLossy: return "ISO_14495_1";
    case EXS_JPEG2000: case EXS_JPEG2000MulticomponentLosslessOnly: case EXS_JPEG2000Multicomponent:
        return "ISO_15444_1";
    default: return nullptr;
    }
}

bool said_lossy(DcmItem *ds)
{
    OFString v;
    return ds->findAndGetOFString(DCM_LossyImageCompression, v).good() && v == "01";
}

// The compressed bytes of the pixel data, for the ratio ("" when native).
unsigned long long compressed_bytes(DcmDataset *ds)
{
    DcmElement *e = nullptr;
    DcmPixelSequence *seq = nullptr;
    if (ds->findAndGetElement(DCM_PixelData, e).bad() || !e ||
        static_cast<DcmPixelData *>(e)->getEncapsulatedRepresentation(ds->getCurrentXfer(), nullptr,
                                                                      seq).bad() || !seq)
        return 0;
    unsigned long long n = 0;
    for (unsigned long i = 1; i < seq->card(); i++) {
        DcmPixelItem *it = nullptr;
        if (seq->getItem(it, i).good())
            n += it->getLength();
    }
    return n;
}

unsigned long long native_bytes(DcmDataset *ds)
{
    Uint16 rows = 0, cols = 0, spp = 1, bits = 0;
    Sint32 frames = 1;
    ds->findAndGetUint16(DCM_Rows, rows);
    ds->findAndGetUint16(DCM_Columns, cols);
    ds->findAndGetUint16(DCM_SamplesPerPixel, spp);
    ds->findAndGetUint16(DCM_BitsAllocated, bits);
    if (ds->findAndGetSint32(DCM_NumberOfFrames, frames).bad() || frames < 1)
        frames = 1;
    return (unsigned long long)rows * cols * spp * ((bits + 7) / 8) * unsigned(frames);
}

// Decompressed, a lossy image keeps saying it was lossy: 01, with the
// method and the ratio when the data set did not give them (PS3.3
// C.7.6.1.1.5: once lossy, Lossy Image Compression is never reset).
void keep_lossy_said(DcmDataset *ds, E_TransferSyntax was, unsigned long long compressed)
{
    if (!said_lossy(ds))
        ds->putAndInsertString(DCM_LossyImageCompression, "01");
    const char *method = lossy_method(was);
    if (method && !ds->tagExistsWithValue(DCM_LossyImageCompressionMethod))
        ds->putAndInsertString(DCM_LossyImageCompressionMethod, method);
    unsigned long long native = native_bytes(ds);
    if (compressed && native && !ds->tagExistsWithValue(DCM_LossyImageCompressionRatio)) {
        char r[32];
        std::snprintf(r, sizeof r, "%.2f", double(native) / double(compressed));
        ds->putAndInsertString(DCM_LossyImageCompressionRatio, r);
    }
}

bool change(DcmDataset *ds, E_TransferSyntax from, E_TransferSyntax to, std::string &why)
{
    OFCondition c;
    if (to == EXS_JPEGLSLossless) {
        DJLSRepresentationParameter lossless(0, OFTrue);
        c = ds->chooseRepresentation(to, &lossless);
    } else if (to == EXS_RLELossless) {
        DcmRLERepresentationParameter rle;
        c = ds->chooseRepresentation(to, &rle);
    } else {
        c = ds->chooseRepresentation(to, nullptr);
    }
    if (c.good() && !ds->canWriteXfer(to))
        c = EC_CannotChangeRepresentation;
    if (c.bad()) {
        why = std::string("cannot convert ") + DcmXfer(from).getXferName() + " to " +
              DcmXfer(to).getXferName() + ": " + c.text();
        return false;
    }
    ds->removeAllButCurrentRepresentations();
    return true;
}

} // namespace

void codecs_register()
{
    static std::once_flag once;
    std::call_once(once, [] {
        DJDecoderRegistration::registerCodecs(EDC_photometricInterpretation, EUC_never);
        DJLSDecoderRegistration::registerCodecs(EJLSUC_never);
        // raw, not "cooked" through DicomImage: the stored values as they are
        DJLSEncoderRegistration::registerCodecs(0, 0, 0, 0, OFFalse, 0, OFTrue, EJLSUC_never);
        DcmRLEDecoderRegistration::registerCodecs(OFFalse);
        DcmRLEEncoderRegistration::registerCodecs(OFFalse);
        j2k_register();
    });
}

bool transcode(DcmDataset *ds, route_ts ts, Transcoded &out, std::string &why)
{
    codecs_register();
    E_TransferSyntax from = ds->getCurrentXfer();
    if (from == EXS_Unknown)
        from = ds->getOriginalXfer();
    if (from == EXS_Unknown)
        from = EXS_LittleEndianExplicit;
    DcmXfer src(from);
    out.lossy = src.isLossy() || said_lossy(ds);
    out.xfer = from;
    E_TransferSyntax to = target_of(ts);
    if (ts == ROUTE_TS_KEEP || to == from)
        return true;
    if (to == EXS_Unknown) {
        why = "unknown transfer syntax";
        return false;
    }
    bool pixels = ds->tagExists(DCM_PixelData);
    if (out.lossy && pixels) {
        // never labelled lossless: decompressed, at most
        unsigned long long compressed = src.isEncapsulated() ? compressed_bytes(ds) : 0;
        if (src.isEncapsulated() && !change(ds, from, EXS_LittleEndianExplicit, why))
            return false;
        keep_lossy_said(ds, from, compressed);
        out.xfer = EXS_LittleEndianExplicit;
        if (to != EXS_LittleEndianExplicit)
            out.note = std::string("lossy ") + (src.isLossy() ? src.getXferName() : "pixel data") +
                       ": decompressed, not re-encoded as " + DcmXfer(to).getXferName();
        return true;
    }
    if (!change(ds, from, to, why))
        return false;
    out.xfer = to;
    return true;
}

} // namespace rl_dicom
