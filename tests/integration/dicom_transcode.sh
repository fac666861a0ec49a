#!/bin/sh
# A DICOM route's <send transfer-syntax>: pydicom's real files (native,
# RLE, JPEG-LS, JPEG 2000 lossless and lossy, lossy JPEG baseline, colour,
# multi-frame) converted by the adapter (dsconv, over dicom_ds_io and
# dicom_ds_save) to each syntax a route may ask for:
# - the file is in the syntax asked, or, for a lossy image asked for a
#   lossless one, decompressed to Explicit VR Little Endian, still saying
#   Lossy Image Compression 01, with a note;
# - lossless conversions decode to the very pixels of the original
#   (dicom_pixels.py: pydicom, gdcmconv for JPEG-LS);
# - dciodvfy finds no error in the converted file that it did not find in
#   the original;
# - what cannot be converted (JPEG-LS or JPEG 2000 of 32-bit samples) fails
#   with the reason, and no file is written;
# - coercions travel with the conversion: the new value, the old one in the
#   Original Attributes Sequence (reason COERCE), in the new syntax.
# Usage: dicom_transcode.sh DSCONV
. "$(dirname "$0")/lib.sh"
DSCONV=${1:?the dsconv binary}
PYD=$(/usr/bin/python3 -c 'import pydicom.data, os; print(os.path.dirname(pydicom.data.__file__))')/test_files
[ -d "$PYD" ] || fail "pydicom's test files are missing (python3-pydicom)"
CHECK="/usr/bin/python3 $SRC/tests/integration/dicom_pixels.py"

uid_of() {
    case $1 in
    explicit-little) echo 1.2.840.10008.1.2.1 ;;
    jpeg-ls-lossless) echo 1.2.840.10008.1.2.4.80 ;;
    jpeg2000-lossless) echo 1.2.840.10008.1.2.4.90 ;;
    rle) echo 1.2.840.10008.1.2.5 ;;
    esac
}

# dciodvfy's error lines of a file, sorted (its warnings are the files' own)
iod_errors() { dciodvfy "$1" 2>&1 | grep '^Error' | sort -u || true; }

# convert NAME lossless|lossy: NAME.dcm to every syntax, each checked
convert() {
    name=$1 kind=$2
    iod_errors "$PYD/$name.dcm" >"$T/$name.orig.err"
    for ts in explicit-little jpeg-ls-lossless jpeg2000-lossless rle; do
        out=$T/$name.$ts.dcm
        run_rc "$DSCONV" "$PYD/$name.dcm" "$out" "$ts"
        expect_rc 0 "$name to $ts"
        want=$(uid_of "$ts")
        if [ "$kind" = lossy ]; then
            want=1.2.840.10008.1.2.1
            expect_line "$OUT" "^lossy yes$" "$name to $ts: said lossy"
            [ "$ts" = explicit-little ] ||
                expect_line "$OUT" "^note lossy .*: decompressed, not re-encoded as " "$name to $ts: the note"
        else
            expect_line "$OUT" "^lossy no$" "$name to $ts: lossless"
            expect_line "$OUT" "^note $" "$name to $ts: nothing to note"
        fi
        expect_line "$OUT" "^ts $want$" "$name to $ts: dicom_saved's syntax"
        run_rc $CHECK "$PYD/$name.dcm" "$out" "$want" "$kind"
        expect_rc 0 "$name to $ts: $ERR"
        note "$OUT"
        iod_errors "$out" >"$T/$name.$ts.err"
        new=$(comm -13 "$T/$name.orig.err" "$T/$name.$ts.err")
        [ -z "$new" ] || fail "$name to $ts: dciodvfy errors the original has not: $new"
    done
}

note "lossless sources: every target decodes to the same pixels"
for f in CT_small MR_small MR_small_RLE MR_small_jp2klossless MR_small_jpeg_ls_lossless \
         SC_rgb_rle SC_rgb_rle_2frame SC_rgb_rle_16bit; do
    convert "$f" lossless
done

note "lossy sources (JPEG baseline, JPEG 2000 irreversible): decompressed at most"
for f in SC_rgb_jpeg_dcmtk JPEG2000 693_J2KI; do
    convert "$f" lossy
done

note "ROUTE_TS_KEEP keeps the stored syntax, compressed or not"
run_rc "$DSCONV" "$PYD/MR_small_jpeg_ls_lossless.dcm" "$T/keep.dcm" keep
expect_rc 0 "keep"
expect_line "$OUT" "^ts 1.2.840.10008.1.2.4.80$" "keep: JPEG-LS stays"
run_rc $CHECK "$PYD/MR_small_jpeg_ls_lossless.dcm" "$T/keep.dcm" 1.2.840.10008.1.2.4.80 lossless
expect_rc 0 "keep: $ERR"

note "what a codec cannot hold fails with the reason, writing nothing"
run_rc "$DSCONV" "$PYD/SC_rgb_rle_32bit.dcm" "$T/32.jls.dcm" jpeg-ls-lossless
expect_rc 2 "32-bit samples to JPEG-LS"
expect_has "$ERR" "cannot convert RLE Lossless to JPEG-LS Lossless" "the reason"
[ ! -e "$T/32.jls.dcm" ] || fail "a file was written for a failed conversion"
run_rc "$DSCONV" "$PYD/SC_rgb_rle_32bit.dcm" "$T/32.j2k.dcm" jpeg2000-lossless
expect_rc 2 "32-bit samples to JPEG 2000"
expect_has "$ERR" "Bits Allocated 32" "the reason"

note "coercions with a conversion: new values, the old ones recorded (COERCE)"
run_rc "$DSCONV" "$PYD/CT_small.dcm" "$T/coerced.dcm" jpeg2000-lossless \
    --set "InstitutionName=General Hospital" --set "RequestAttributesSequence/AccessionNumber=ACC42" \
    --remove "OtherPatientIDsSequence/PatientID"
expect_rc 0 "coerce and convert"
expect_line "$OUT" "^changed 3$" "three attributes recorded"
run_rc /usr/bin/python3 -c '
import sys, pydicom
ds = pydicom.dcmread(sys.argv[1])
o = ds.OriginalAttributesSequence[-1]
m = o.ModifiedAttributesSequence[0]
print(ds.file_meta.TransferSyntaxUID, ds.InstitutionName, ds.RequestAttributesSequence[0].AccessionNumber,
      "PatientID" in ds.OtherPatientIDsSequence[0], o.ReasonForTheAttributeModification, o.ModifyingSystem,
      m.InstitutionName, [i.PatientID for i in m.OtherPatientIDsSequence], len(m.RequestAttributesSequence))
' "$T/coerced.dcm"
expect_rc 0 "pydicom reads the coerced file: $ERR"
expect_eq "$OUT" "1.2.840.10008.1.2.4.90 General Hospital ACC42 False COERCE radlink JFK IMAGING CENTER ['ABCD1234', '1234ABCD'] 0" \
    "what pydicom reads"
run_rc $CHECK "$PYD/CT_small.dcm" "$T/coerced.dcm" 1.2.840.10008.1.2.4.90 lossless
expect_rc 0 "the coerced file's pixels: $ERR"

note "a value too long for its attribute: refused, nothing written"
run_rc "$DSCONV" "$PYD/CT_small.dcm" "$T/long.dcm" keep --set "StationName=CT_EMERGENCY_0001"
expect_rc 3 "a 17-character SH"
expect_has "$ERR" "StationName: 'CT_EMERGENCY_0001' is longer than 16 characters (SH)" "the reason"
[ ! -e "$T/long.dcm" ] || fail "a file was written for a refused value"
echo "PASS"
