// JPEG 2000 through GDCM as DCMTK codecs (j2k.h): PS3.5 A.4.4. A frame's
// compressed fragments go to a gdcm::Image, GDCM's ImageChangeTransferSyntax
// converts it, and the result comes back as DCMTK's pixel data; the
// Photometric Interpretation GDCM reports (an RCT or ICT colour image
// decodes to RGB) is written back to the data set.
#include "j2k.h"

#include <cstring>
#include <string>

#include "dcmtk/config/osconfig.h"
#include "dcmtk/dcmdata/dccodec.h"
#include "dcmtk/dcmdata/dctk.h"
#include "dcmtk/dcmdata/dcpixseq.h"
#include "dcmtk/dcmdata/dcpxitem.h"
#include "dcmtk/dcmdata/dcswap.h"

#include "gdcmImage.h"
#include "gdcmImageChangeTransferSyntax.h"
#include "gdcmSequenceOfFragments.h"
#include "gdcmTrace.h"

namespace rl_dicom {

namespace {

OFCondition j2k_error(const std::string &why)
{
    return makeOFCondition(OFM_dcmdata, 900, OF_error, ("JPEG 2000: " + why).c_str());
}

// The Image Pixel module of the data set holding the pixel data.
struct Pixels {
    Uint16 rows = 0, cols = 0, spp = 1, bits = 0, stored = 0, high = 0, sign = 0, planar = 0;
    Sint32 frames = 1;
    OFString pi;
    size_t bytes = 0; // per sample

    OFCondition read(DcmItem *ds)
    {
        ds->findAndGetUint16(DCM_Rows, rows);
        ds->findAndGetUint16(DCM_Columns, cols);
        ds->findAndGetUint16(DCM_SamplesPerPixel, spp);
        ds->findAndGetUint16(DCM_BitsAllocated, bits);
        ds->findAndGetUint16(DCM_BitsStored, stored);
        ds->findAndGetUint16(DCM_HighBit, high);
        ds->findAndGetUint16(DCM_PixelRepresentation, sign);
        ds->findAndGetUint16(DCM_PlanarConfiguration, planar);
        ds->findAndGetOFString(DCM_PhotometricInterpretation, pi);
        if (ds->findAndGetSint32(DCM_NumberOfFrames, frames).bad() || frames < 1)
            frames = 1;
        if (bits != 8 && bits != 16)
            return j2k_error("Bits Allocated " + std::to_string(bits) + " (8 and 16 are supported)");
        if (!rows || !cols || !spp || !stored || stored > bits)
            return j2k_error("incomplete or inconsistent Image Pixel attributes");
        bytes = bits / 8;
        return EC_Normal;
    }

    size_t size() const { return size_t(rows) * cols * spp * bytes * size_t(frames); }

    // A gdcm::Image of these attributes, in transfer syntax ts.
    void describe(gdcm::Image &img, gdcm::TransferSyntax::TSType ts) const
    {
        img.SetNumberOfDimensions(frames > 1 ? 3 : 2);
        img.SetDimension(0, cols);
        img.SetDimension(1, rows);
        if (frames > 1)
            img.SetDimension(2, unsigned(frames));
        img.SetPixelFormat(gdcm::PixelFormat(spp, bits, stored, high, sign));
        img.SetPhotometricInterpretation(gdcm::PhotometricInterpretation(
            gdcm::PhotometricInterpretation::GetPIType(pi.c_str())));
        if (spp > 1)
            img.SetPlanarConfiguration(planar);
        img.SetTransferSyntax(ts);
    }
};

DcmItem *item_of(const DcmStack &objStack)
{
    DcmStack s(objStack);
    s.pop(); // the pixel data element
    DcmObject *o = s.top();
    return o && (o->ident() == EVR_dataset || o->ident() == EVR_item) ? static_cast<DcmItem *>(o)
                                                                       : nullptr;
}

// After a conversion: the colour model GDCM gives the pixels it produced.
bool update_colour(DcmItem *ds, const Pixels &px, const gdcm::Image &out)
{
    const char *pi = gdcm::PhotometricInterpretation::GetPIString(
        out.GetPhotometricInterpretation().GetType());
    bool changed = false;
    if (pi && px.pi != pi) {
        ds->putAndInsertString(DCM_PhotometricInterpretation, pi);
        changed = true;
    }
    if (px.spp > 1 && out.GetPlanarConfiguration() != px.planar) {
        ds->putAndInsertUint16(DCM_PlanarConfiguration, Uint16(out.GetPlanarConfiguration()));
        changed = true;
    }
    return changed;
}

bool convert(const gdcm::Image &in, gdcm::TransferSyntax::TSType to, gdcm::ImageChangeTransferSyntax &c)
{
    gdcm::Trace::SetWarning(false);
    gdcm::Trace::SetError(false);
    c.SetTransferSyntax(to);
    c.SetInput(in);
    return c.Change();
}

// Lossless JPEG 2000 defaults: nothing to choose.
class J2kParam : public DcmRepresentationParameter {
public:
    DcmRepresentationParameter *clone() const override { return new J2kParam(); }
    const char *className() const override { return "rl_dicom::J2kParam"; }
    OFBool operator==(const DcmRepresentationParameter &o) const override
    {
        return std::strcmp(o.className(), className()) == 0;
    }
};

class J2kCodecParam : public DcmCodecParameter {
public:
    DcmCodecParameter *clone() const override { return new J2kCodecParam(); }
    const char *className() const override { return "rl_dicom::J2kCodecParam"; }
};

bool is_j2k(E_TransferSyntax t)
{
    return t == EXS_JPEG2000LosslessOnly || t == EXS_JPEG2000;
}

bool is_native(E_TransferSyntax t)
{
    DcmXfer x(t);
    return !x.isEncapsulated() && x.getStreamCompression() == ESC_none;
}

// What neither codec does; DCMTK never asks once canChangeCoding said no.
class J2kBase : public DcmCodec {
public:
    OFCondition decode(const DcmRepresentationParameter *, DcmPixelSequence *, DcmPolymorphOBOW &,
                       const DcmCodecParameter *, const DcmStack &, OFBool &) const override
    {
        return EC_IllegalCall;
    }
    OFCondition decodeFrame(const DcmRepresentationParameter *, DcmPixelSequence *,
                            const DcmCodecParameter *, DcmItem *, Uint32, Uint32 &, void *, Uint32,
                            OFString &) const override
    {
        return EC_IllegalCall;
    }
    OFCondition encode(const Uint16 *, const Uint32, const DcmRepresentationParameter *,
                       DcmPixelSequence *&, const DcmCodecParameter *, DcmStack &,
                       OFBool &) const override
    {
        return EC_IllegalCall;
    }
    OFCondition encode(const E_TransferSyntax, const DcmRepresentationParameter *,
                       DcmPixelSequence *, const DcmRepresentationParameter *,
                       DcmPixelSequence *&, const DcmCodecParameter *, DcmStack &,
                       OFBool &) const override
    {
        return EC_IllegalCall;
    }
    OFCondition determineDecompressedColorModel(const DcmRepresentationParameter *,
                                                DcmPixelSequence *, const DcmCodecParameter *,
                                                DcmItem *, OFString &) const override
    {
        return EC_IllegalCall;
    }
};

class J2kDecoder : public J2kBase {
public:
    OFBool canChangeCoding(const E_TransferSyntax from, const E_TransferSyntax to) const override
    {
        return is_j2k(from) && is_native(to);
    }

    OFCondition decode(const DcmRepresentationParameter *, DcmPixelSequence *seq,
                       DcmPolymorphOBOW &out, const DcmCodecParameter *, const DcmStack &stack,
                       OFBool &removeOldRep) const override
    {
        DcmItem *ds = item_of(stack);
        if (!ds || !seq)
            return EC_InvalidTag;
        Pixels px;
        OFCondition c = px.read(ds);
        if (c.bad())
            return c;
        // GDCM's filters hold their input by its reference count: on the heap
        gdcm::SmartPointer<gdcm::Image> img = new gdcm::Image;
        px.describe(*img, current_ts(ds));
        gdcm::SmartPointer<gdcm::SequenceOfFragments> frags = new gdcm::SequenceOfFragments;
        for (unsigned long i = 1; i < seq->card(); i++) { // item 0: the offset table
            DcmPixelItem *it = nullptr;
            Uint8 *b = nullptr;
            if (seq->getItem(it, i).bad() || it->getUint8Array(b).bad())
                return j2k_error("unreadable fragment " + std::to_string(i));
            gdcm::Fragment f;
            f.SetByteValue(reinterpret_cast<const char *>(b), gdcm::VL(it->getLength()));
            frags->AddFragment(f);
        }
        gdcm::DataElement pd(gdcm::Tag(0x7fe0, 0x0010));
        pd.SetVR(gdcm::VR::OB);
        pd.SetValue(*frags);
        img->SetDataElement(pd);
        gdcm::ImageChangeTransferSyntax conv;
        if (!convert(*img, gdcm::TransferSyntax::ExplicitVRLittleEndian, conv))
            return j2k_error("the code stream does not decode");
        const gdcm::Image &res = conv.GetOutput();
        const gdcm::ByteValue *bv = res.GetDataElement().GetByteValue();
        if (!bv || bv->GetLength() < px.size())
            return j2k_error("decoded " + std::to_string(bv ? uint32_t(bv->GetLength()) : 0u) +
                             " bytes, the image needs " + std::to_string(px.size()));
        size_t total = px.size() + (px.size() & 1);
        Uint16 *data = nullptr;
        c = out.createUint16Array(Uint32(total / 2), data);
        if (c.bad())
            return c;
        std::memset(data, 0, total);
        std::memcpy(data, bv->GetPointer(), px.size());
        swapIfNecessary(gLocalByteOrder, EBO_LittleEndian, data, Uint32(total), sizeof(Uint16));
        removeOldRep = update_colour(ds, px, res);
        if (res.IsLossy()) { // PS3.3 C.7.6.1.1.5: once lossy, always said so
            OFString was;
            if (ds->findAndGetOFString(DCM_LossyImageCompression, was).bad() || was != "01")
                ds->putAndInsertString(DCM_LossyImageCompression, "01");
            if (!ds->tagExistsWithValue(DCM_LossyImageCompressionMethod))
                ds->putAndInsertString(DCM_LossyImageCompressionMethod, "ISO_15444_1");
        }
        return EC_Normal;
    }

    OFCondition determineDecompressedColorModel(const DcmRepresentationParameter *,
                                                DcmPixelSequence *, const DcmCodecParameter *,
                                                DcmItem *ds, OFString &model) const override
    {
        if (!ds || ds->findAndGetOFString(DCM_PhotometricInterpretation, model).bad())
            return EC_IllegalCall;
        if (model == "YBR_RCT" || model == "YBR_ICT")
            model = "RGB";
        return EC_Normal;
    }

private:
    // Both decode alike; the label only tells GDCM what to expect.
    static gdcm::TransferSyntax::TSType current_ts(DcmItem *ds)
    {
        bool lossy = ds->ident() == EVR_dataset &&
                     static_cast<DcmDataset *>(ds)->getOriginalXfer() == EXS_JPEG2000;
        return lossy ? gdcm::TransferSyntax::JPEG2000 : gdcm::TransferSyntax::JPEG2000Lossless;
    }
};

class J2kEncoder : public J2kBase {
public:
    OFBool canChangeCoding(const E_TransferSyntax from, const E_TransferSyntax to) const override
    {
        return is_native(from) && to == EXS_JPEG2000LosslessOnly;
    }

    OFCondition encode(const Uint16 *pixels, const Uint32 length, const DcmRepresentationParameter *,
                       DcmPixelSequence *&seq, const DcmCodecParameter *, DcmStack &stack,
                       OFBool &removeOldRep) const override
    {
        DcmItem *ds = item_of(stack);
        if (!ds)
            return EC_InvalidTag;
        Pixels px;
        OFCondition c = px.read(ds);
        if (c.bad())
            return c;
        if (length < px.size())
            return j2k_error("pixel data of " + std::to_string(length) + " bytes, the image needs " +
                             std::to_string(px.size()));
        std::string raw(reinterpret_cast<const char *>(pixels), px.size());
        if (px.bytes == 2) // to the little endian bytes GDCM reads
            swapIfNecessary(EBO_LittleEndian, gLocalByteOrder, &raw[0], Uint32(raw.size()), 2);
        gdcm::SmartPointer<gdcm::Image> img = new gdcm::Image;
        px.describe(*img, gdcm::TransferSyntax::ExplicitVRLittleEndian);
        gdcm::DataElement pd(gdcm::Tag(0x7fe0, 0x0010));
        pd.SetVR(px.bytes == 2 ? gdcm::VR::OW : gdcm::VR::OB);
        pd.SetByteValue(raw.data(), gdcm::VL(uint32_t(raw.size())));
        img->SetDataElement(pd);
        gdcm::ImageChangeTransferSyntax conv;
        if (!convert(*img, gdcm::TransferSyntax::JPEG2000Lossless, conv))
            return j2k_error("GDCM cannot encode this image losslessly");
        const gdcm::Image &res = conv.GetOutput();
        const gdcm::SequenceOfFragments *frags = res.GetDataElement().GetSequenceOfFragments();
        if (!frags || frags->GetNumberOfFragments() != size_t(px.frames))
            return j2k_error("the encoder gave no fragment per frame");
        DcmPixelSequence *out = new DcmPixelSequence(DcmTag(DCM_PixelData, EVR_OB));
        DcmPixelItem *table = new DcmPixelItem(DcmTag(DCM_Item, EVR_OB));
        out->insert(table);
        DcmOffsetList offsets;
        for (size_t i = 0; c.good() && i < frags->GetNumberOfFragments(); i++) {
            const gdcm::ByteValue *bv = frags->GetFragment(i).GetByteValue();
            if (!bv) {
                c = j2k_error("an empty fragment");
                break;
            }
            c = out->storeCompressedFrame(offsets, reinterpret_cast<Uint8 *>(
                                                       const_cast<char *>(bv->GetPointer())),
                                          bv->GetLength(), 0);
        }
        if (c.good())
            c = table->createOffsetTable(offsets);
        if (c.bad()) {
            delete out;
            return c;
        }
        seq = out;
        removeOldRep = update_colour(ds, px, res);
        return EC_Normal;
    }
};

J2kDecoder decoder;
J2kEncoder encoder;
J2kParam param;
J2kCodecParam codec_param;

} // namespace

void j2k_register()
{
    DcmCodecList::registerCodec(&decoder, &param, &codec_param);
    DcmCodecList::registerCodec(&encoder, &param, &codec_param);
}

} // namespace rl_dicom
