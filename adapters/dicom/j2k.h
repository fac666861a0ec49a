// JPEG 2000 for DCMTK (whose 3.6.7 has no codec for it): a decoder of
// JPEG 2000 Image Compression (Lossless Only) and JPEG 2000 Image
// Compression, and an encoder of the lossless one, each a DcmCodec over
// GDCM's JPEG 2000 codec (OpenJPEG). Registered in DcmCodecList, they let
// the rest of the adapter treat JPEG 2000 as DCMTK's own codecs: a data
// set's chooseRepresentation converts, DcmStorageSCU decompresses.
#ifndef RADLINK_DICOM_J2K_H
#define RADLINK_DICOM_J2K_H

namespace rl_dicom {

// Register both codecs (DcmCodecList) for the life of the process.
// Not thread-safe: transcode.h's codecs_register calls it once.
void j2k_register();

} // namespace rl_dicom

#endif
