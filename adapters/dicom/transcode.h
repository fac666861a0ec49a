// Transfer syntax conversion of a data set's pixel data, for dicom_ds_save
// and for sending decompressed: DCMTK's codecs (JPEG decoders, JPEG-LS,
// RLE) and JPEG 2000 through GDCM (j2k.h), registered once.
#ifndef RADLINK_DICOM_TRANSCODE_H
#define RADLINK_DICOM_TRANSCODE_H

extern "C" {
#include "radlink/route_dicom.h"
}

#include <string>

#include "dcmtk/config/osconfig.h"
#include "dcmtk/dcmdata/dctk.h"

namespace rl_dicom {

// Register every codec the adapter uses (DcmCodecList): once per process,
// from any thread, before anything decodes. Decoders keep the SOP Instance
// UID and convert a YCbCr JPEG to RGB (its Photometric Interpretation says
// so).
void codecs_register();

struct Transcoded {
    E_TransferSyntax xfer = EXS_Unknown; // to write ds in
    bool lossy = false;                  // its pixel data went through lossy compression
    std::string note;                    // what was done when it is not what was asked
};

// Convert ds's pixel data for ts (ROUTE_TS_KEEP: as it is). Lossless
// targets decode to the same pixels; a lossy image asked for a lossless
// syntax is only decompressed (Explicit VR Little Endian), and its Lossy
// Image Compression attributes say it was lossy (PS3.3 C.7.6.1.1.5).
// false with why when the pixel data cannot be converted.
bool transcode(DcmDataset *ds, route_ts ts, Transcoded &out, std::string &why);

} // namespace rl_dicom

#endif
