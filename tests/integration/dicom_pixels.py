#!/usr/bin/python3
"""Compare a DICOM file radlink converted with the file it came from.

    dicom_pixels.py ORIGINAL CONVERTED EXPECTED_TS_UID lossless|lossy

- the converted file's Transfer Syntax UID is EXPECTED_TS_UID;
- lossless: both decode to identical pixel arrays (same shape, same values);
- lossy: the converted file still says Lossy Image Compression 01 and is
  not in a lossless compressed syntax (JPEG-LS lossless, JPEG 2000 lossless
  only, RLE, JPEG lossless).

Pixels are decoded by pydicom (numpy for native and RLE data, Pillow for JPEG
and JPEG 2000). pydicom in Debian 12 has no JPEG-LS decoder (that needs
pylibjpeg or python-gdcm), so a JPEG-LS file is first decoded to native by
gdcmconv --raw (GDCM's own CharLS, not the DCMTK copy radlink encodes with).
Pillow cannot decode JPEG 2000 of 16-bit colour: such a file is decoded by
gdcmconv --raw too, which the line says (GDCM also encoded it: that check
proves the file decodes to the same pixels, not that a second
implementation agrees).
Prints one line saying what was compared and by which decoders; exits 1
with the difference otherwise.
"""
import os
import subprocess
import sys
import tempfile

import numpy
import pydicom

JPEG_LS = {"1.2.840.10008.1.2.4.80", "1.2.840.10008.1.2.4.81"}
LOSSLESS_COMPRESSED = {"1.2.840.10008.1.2.4.80", "1.2.840.10008.1.2.4.90",
                       "1.2.840.10008.1.2.5", "1.2.840.10008.1.2.4.57",
                       "1.2.840.10008.1.2.4.70"}


def decode(path, tmp):
    """The pixel array of path, and who decoded it."""
    ds = pydicom.dcmread(path)
    ts = str(ds.file_meta.TransferSyntaxUID)
    if ts not in JPEG_LS:
        try:
            return ds, ds.pixel_array, "pydicom"
        except Exception as e:  # pylint: disable=broad-except
            if ts != "1.2.840.10008.1.2.4.90":
                raise
            why = f"gdcmconv --raw, then pydicom (pydicom: {e})"
    else:
        why = "gdcmconv --raw, then pydicom"
    raw = os.path.join(tmp, os.path.basename(path) + ".raw.dcm")
    subprocess.run(["gdcmconv", "--raw", path, raw], check=True)
    ds = pydicom.dcmread(raw)
    return ds, ds.pixel_array, why


def main():
    if len(sys.argv) != 5 or sys.argv[4] not in ("lossless", "lossy"):
        sys.exit(__doc__)
    orig, conv, want_ts, kind = sys.argv[1:]
    ds = pydicom.dcmread(conv)
    ts = str(ds.file_meta.TransferSyntaxUID)
    if ts != want_ts:
        sys.exit(f"{conv}: transfer syntax {ts}, expected {want_ts}")
    if kind == "lossy":
        if ds.get("LossyImageCompression") != "01":
            sys.exit(f"{conv}: a lossy image no longer says Lossy Image Compression 01 "
                     f"({ds.get('LossyImageCompression')!r})")
        if ts in LOSSLESS_COMPRESSED:
            sys.exit(f"{conv}: a lossy image labelled with the lossless syntax {ts}")
        print(f"lossy kept: {os.path.basename(conv)} {ts} Lossy Image Compression 01, "
              f"method {ds.get('LossyImageCompressionMethod', '-')}")
        return
    with tempfile.TemporaryDirectory() as tmp:
        ods, a, who_a = decode(orig, tmp)
        cds, b, who_b = decode(conv, tmp)
    if a.shape != b.shape:
        sys.exit(f"{conv}: shape {b.shape}, the original's {a.shape}")
    if not numpy.array_equal(a, b):
        diff = numpy.argwhere(a != b)
        sys.exit(f"{conv}: {len(diff)} pixel values differ, first at {tuple(diff[0])}: "
                 f"{a[tuple(diff[0])]} -> {b[tuple(diff[0])]}")
    if str(ods.PhotometricInterpretation) != str(cds.PhotometricInterpretation):
        # pydicom does no colour conversion: equal arrays in other models would be a lie
        sys.exit(f"{conv}: Photometric Interpretation {cds.PhotometricInterpretation}, "
                 f"the original's {ods.PhotometricInterpretation}")
    print(f"identical: {os.path.basename(conv)} {b.shape} {b.dtype} "
          f"(original decoded by {who_a}, converted by {who_b})")


if __name__ == "__main__":
    main()
