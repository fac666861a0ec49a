#!/bin/sh
# Real DICOM files nobody here wrote (pydicom's test data, Debian's
# python3-pydicom): every transfer syntax radlink takes, multi-frame, and
# names in Latin-1, UTF-8 and ISO 2022 (Japanese, Korean). Each is sent with
# DCMTK's dcmsend against an order that disagrees with it, corrected, sent to
# Orthanc and verified; then what Orthanc holds is compared with what was
# sent, with pydicom: the corrected values, and every other attribute, the
# pixel data, the transfer syntax and the character set unchanged. A name
# whose alphabetic group agrees with the RIS is left as it is.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/mwl_lib.sh"
PYD=/usr/lib/python3/dist-packages/pydicom/data
[ -d "$PYD/test_files" ] || fail "python3-pydicom's test files are missing (make deps installs python3-pydicom)"
start_orthanc pacs false
cat >"$T/cfg.xml" <<XML
<radlink>
  <dicom><pacs ae="ORTHANC" host="127.0.0.1" port="$ORTHANC_DICOM" commit-timeout="10"/></dicom>
  <jobs workers="2" study-stable="$STABLE"/>
</radlink>
XML
start_engine --config "$T/cfg.xml"
wait_workers 2 10

# FILE|RIS NAME|EXPECTED NAME AT THE PACS (empty: left as sent)|CHARSET AT THE PACS (empty: kept)
cat >"$T/cases" <<'CASES'
test_files/MR_small_implicit.dcm|CORRECTED^IMPLICIT|CORRECTED^IMPLICIT|
test_files/MR_small_bigendian.dcm|CORRECTED^BIGENDIAN|CORRECTED^BIGENDIAN|
test_files/JPEG-lossy.dcm|CORRECTED^JPEG|CORRECTED^JPEG|
test_files/SC_rgb_jpeg_dcmtk.dcm|CORRECTED^BASELINE|CORRECTED^BASELINE|
test_files/MR_small_jpeg_ls_lossless.dcm|CORRECTED^JPEGLS|CORRECTED^JPEGLS|
test_files/MR_small_jp2klossless.dcm|CORRECTED^J2K|CORRECTED^J2K|
test_files/MR_small_RLE.dcm|CORRECTED^RLE|CORRECTED^RLE|
test_files/image_dfl.dcm|CORRECTED^DEFLATE|CORRECTED^DEFLATE|
test_files/SC_rgb_rle_2frame.dcm|CORRECTED^MULTIFRAME|CORRECTED^MULTIFRAME|
charset_files/chrFren.dcm|Bûc^Jérôme|Bûc^Jérôme|
charset_files/chrX1.dcm|WANG^XIAODONG||
charset_files/chrH31.dcm|YAMADA^TARO|YAMADA^TARO=山田^太郎=やまだ^たろう|
charset_files/chrI2.dcm|HONG^GILDONG||
charset_files/chrJapMulti.dcm|YAMADA^TARO|YAMADA^TARO|
charset_files/chrArab.dcm|CORRECTED^ARABIC|CORRECTED^ARABIC|
CASES

note "each file with its own study and accession; an order that disagrees"
mkdir -p "$T/in"
k=0
: >"$T/orders.hl7"
while IFS='|' read -r f ris want cs; do
    k=$((k + 1))
    cp "$PYD/$f" "$T/in/f$k.dcm"
    # one study per file: the test files share UIDs among themselves
    dcmodify -nb -m "StudyInstanceUID=1.2.992.$k" -m "SeriesInstanceUID=1.2.992.$k.1" \
        -m "SOPInstanceUID=1.2.992.$k.1.1" -m "AccessionNumber=A$k" "$T/in/f$k.dcm" >/dev/null 2>&1 ||
        fail "dcmodify $f"
    pid=$(/usr/bin/python3 -c "import pydicom; print(pydicom.dcmread('$T/in/f$k.dcm').get('PatientID', '') or 'P$k')")
    echo "$pid" >"$T/pid$k"
    orm "O$k" NW "A$k" "S$k" CT CT01 202611240930 "$ris" "$pid" >>"$T/orders.hl7"
done <"$T/cases"
send_hl7 "$T/orders.hl7"
expect_eq "$(grep -a -c 'MSA|AA' "$T/orders.hl7.out")" "$k" "every order accepted"

note "sent with dcmsend; every job done and verified at Orthanc"
# dcmsend (DCMTK) proposes each file's own transfer syntax
run_rc dcmsend -aec RADLINK 127.0.0.1 "$DICOM_PORT" "$T"/in/*.dcm
expect_rc 0 "dcmsend: radlink takes every file"
wait_until 180 "[ \$('$RADLINK' jobs list --data '$T/var' | grep -Ec '^ *[0-9]+ +(done|unverified|dead)') -ge $k ]"
run_rc "$RADLINK" jobs list --data "$T/var" --state done
expect_eq "$(printf '%s\n' "$OUT" | grep -Ec '^ *[0-9]+ +done')" "$k" "every job done: $("$RADLINK" jobs list --data "$T/var")"
expect_eq "$(printf '%s\n' "$OUT" | grep -c 'committed and verified')" "$k" "every one verified at Orthanc"

note "what Orthanc holds: the corrections, and everything else as sent"
k=0
while IFS='|' read -r f ris want cs; do
    k=$((k + 1))
    orthanc_file "1.2.992.$k" "1.2.992.$k.1.1" "$T/held$k.dcm"
    set -- "PatientID=$(cat "$T/pid$k")" PatientBirthDate=19700412 PatientSex=F
    [ -n "$want" ] && set -- "$@" "PatientName=$want"
    [ -n "$cs" ] && set -- "$@" --charset "$cs"
    /usr/bin/python3 "$SRC/tests/integration/dicom_compare.py" "$T/in/f$k.dcm" "$T/held$k.dcm" "$@" ||
        fail "$f: Orthanc does not hold what it should"
done <"$T/cases"
stop_engine
note "ok"
