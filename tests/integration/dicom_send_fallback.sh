#!/bin/sh
# dicom_send_files falls back: a node (DCMTK's storescp +x=) that accepts
# only the uncompressed syntaxes still gets JPEG-LS, RLE,
# JPEG 2000 and lossy JPEG files, decompressed, and the report counts them
# and names what the node refused; the file it stored holds the original's
# pixels (lossless) or still says Lossy Image Compression 01. A node that
# takes JPEG-LS (storescp +xt) gets the file as it is: no fallback. What
# each node stored is read back with dcmdump (its transfer syntax) and
# pydicom (its pixels, dicom_pixels.py).
# Usage: dicom_send_fallback.sh DSEND
. "$(dirname "$0")/lib.sh"
DSEND=${1:?the dsend binary}
for tool in storescp echoscu dcmdump gdcmconv; do
    command -v $tool >/dev/null || skip "no $tool (dcmtk, libgdcm-tools)"
done
/usr/bin/python3 -c 'import pydicom, numpy, PIL' 2>/dev/null ||
    skip "no pydicom, numpy or Pillow (python3-pydicom, python3-numpy, python3-pil)"
PYD=$(/usr/bin/python3 -c 'import pydicom.data, os; print(os.path.dirname(pydicom.data.__file__))')/test_files
CHECK="/usr/bin/python3 $SRC/tests/integration/dicom_pixels.py"
ELE=1.2.840.10008.1.2.1

# storescp NAME ARGS...: a storage SCP titled NAME storing into $T/NAME, on
# a port free now (storescp cannot bind one the system picks), up once it
# answers C-ECHO. Sets SCP_PORT.
storescp_up() {
    name=$1
    shift
    mkdir -p "$T/$name"
    SCP_PORT=$(free_port)
    storescp -aet "$name" -od "$T/$name" "$@" "$SCP_PORT" >"$T/$name.log" 2>&1 &
    PIDS="$PIDS $!"
    wait_until 10 "echoscu -aec $name 127.0.0.1 $SCP_PORT >/dev/null 2>&1"
}

# the one file NAME stored for SOP UID (pydicom's MR files share one SOP
# Instance UID: each step starts with an empty directory)
stored() { grep -l "$2" "$T/$1"/* 2>/dev/null | head -1; }
empty() { rm -f "$T/$1"/*; }
sop() { dcmdump +P 0008,0018 "$1" 2>/dev/null | sed -n 's/.*\[\(.*\)\].*/\1/p'; }
# the Transfer Syntax UID dcmdump reads in a stored file's meta header
ts_of() { dcmdump -M +P 0002,0010 "$1" 2>/dev/null | sed -n 's/.*=\([A-Za-z0-9]*\).*/\1/p'; }

storescp_up AI +x=  # uncompressed syntaxes only (storescp's default, said)
AI_PORT=$SCP_PORT

note "JPEG-LS to a node that takes uncompressed only: sent decompressed, one fallback"
run_rc "$DSEND" RADLINK AI 127.0.0.1 "$AI_PORT" "$PYD/MR_small_jpeg_ls_lossless.dcm"
expect_rc 0 "dsend: $ERR"
expect_line "$OUT" "^sent 1$" "sent"
expect_line "$OUT" "^fallbacks 1$" "one fallback"
expect_line "$OUT" "^note 1 sent as Explicit VR Little Endian: AI refused JPEG-LS Lossless Image Compression$" "the note"
f=$(stored AI "$(sop "$PYD/MR_small_jpeg_ls_lossless.dcm")")
[ -n "$f" ] || fail "AI holds no file of the instance: $(ls "$T/AI")"
expect_eq "$(ts_of "$f")" LittleEndianExplicit "dcmdump of AI's file"
run_rc $CHECK "$PYD/MR_small_jpeg_ls_lossless.dcm" "$f" $ELE lossless
expect_rc 0 "AI's file: $ERR"
note "$OUT"

note "RLE, JPEG 2000 and native files in one association: the compressed ones fall back"
empty AI
run_rc "$DSEND" RADLINK AI 127.0.0.1 "$AI_PORT" "$PYD/SC_rgb_rle_2frame.dcm" \
    "$PYD/MR_small_jp2klossless.dcm" "$PYD/CT_small.dcm"
expect_eq "$(ls "$T/AI" | wc -l)" 3 "AI stored three files"
expect_rc 0 "dsend: $ERR"
expect_line "$OUT" "^sent 3$" "sent"
expect_line "$OUT" "^fallbacks 2$" "two fallbacks (CT_small was uncompressed)"
expect_has "$OUT" "1 sent as Explicit VR Little Endian: AI refused JPEG 2000 Image Compression (Lossless Only)" "the note"
expect_has "$OUT" "1 sent as Explicit VR Little Endian: AI refused RLE Lossless" "the note"
for n in SC_rgb_rle_2frame MR_small_jp2klossless; do
    f=$(stored AI "$(sop "$PYD/$n.dcm")")
    expect_eq "$(ts_of "$f")" LittleEndianExplicit "dcmdump of AI's $n"
    run_rc $CHECK "$PYD/$n.dcm" "$f" $ELE lossless
    expect_rc 0 "AI's $n: $ERR"
    note "$OUT"
done

note "a lossy JPEG: decompressed, still saying it is lossy"
empty AI
run_rc "$DSEND" RADLINK AI 127.0.0.1 "$AI_PORT" "$PYD/SC_rgb_jpeg_dcmtk.dcm"
expect_rc 0 "dsend: $ERR"
expect_line "$OUT" "^fallbacks 1$" "one fallback"
expect_has "$OUT" "AI refused JPEG Baseline (Process 1)" "the note"
f=$(stored AI "$(sop "$PYD/SC_rgb_jpeg_dcmtk.dcm")")
run_rc $CHECK "$PYD/SC_rgb_jpeg_dcmtk.dcm" "$f" $ELE lossy
expect_rc 0 "AI's lossy file: $ERR"

note "a node that takes JPEG-LS gets it as it is"
storescp_up JLS +xt
run_rc "$DSEND" RADLINK JLS 127.0.0.1 "$SCP_PORT" "$PYD/MR_small_jpeg_ls_lossless.dcm"
expect_rc 0 "dsend: $ERR"
expect_line "$OUT" "^fallbacks 0$" "no fallback"
expect_line "$OUT" "^note $" "nothing to note"
f=$(stored JLS "$(sop "$PYD/MR_small_jpeg_ls_lossless.dcm")")
expect_eq "$(ts_of "$f")" JPEGLSLossless "dcmdump of JLS's file"
run_rc $CHECK "$PYD/MR_small_jpeg_ls_lossless.dcm" "$f" 1.2.840.10008.1.2.4.80 lossless
expect_rc 0 "JLS's file: $ERR"
echo "PASS"
