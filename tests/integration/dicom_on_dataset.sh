#!/bin/sh
# The DICOM listener's on_dataset step (radlink/dicom.h), as <on-receive>
# routes use it: storescu sends pydicom's files to the listener (dscp, the
# storage service with an on_dataset that sets attributes); what was filed
# holds the new values, the old ones in one Original Attributes Sequence
# item with reason COERCE (dcmdump), in the transfer syntax it came in and
# with the very same pixels (dicom_pixels.py); the index fields are the
# changed data set's (a new Study Instance UID). An instance the step left
# without a Study Instance UID is refused (storescu sees the failure) and
# its cookie is freed, not leaked: dscp exits 0 only when every cookie was
# handed to on_instance or freed.
# Usage: dicom_on_dataset.sh DSCP
. "$(dirname "$0")/lib.sh"
DSCP=${1:?the dscp binary}
for tool in storescu dcmdump gdcmconv; do
    command -v $tool >/dev/null || skip "no $tool (dcmtk, libgdcm-tools)"
done
/usr/bin/python3 -c 'import pydicom, numpy, PIL' 2>/dev/null ||
    skip "no pydicom, numpy or Pillow (python3-pydicom, python3-numpy, python3-pil)"
PYD=$(/usr/bin/python3 -c 'import pydicom.data, os; print(os.path.dirname(pydicom.data.__file__))')/test_files
CHECK="/usr/bin/python3 $SRC/tests/integration/dicom_pixels.py"
NEW_STUDY=1.2.826.0.1.3680043.10.543.7

mkdir -p "$T/in" "$T/filed"
"$DSCP" "$T/in" "$T/filed" --set StationName=CT_ER --set StudyInstanceUID=$NEW_STUDY \
    >"$T/dscp.out" 2>"$T/dscp.err" &
DSCP_PID=$!
PIDS="$PIDS $DSCP_PID"
wait_for "$T/dscp.out" "^port " 10
PORT=$(sed -n 's/^port //p' "$T/dscp.out")

sop() { dcmdump +P 0008,0018 "$1" 2>/dev/null | sed -n 's/.*\[\(.*\)\].*/\1/p'; }
# dcmdump's lines for TAG, with their path through sequences
dump() { dcmdump -q +p +s +P "$2" "$1" 2>/dev/null; }
ts_of() { dcmdump -M +P 0002,0010 "$1" 2>/dev/null | sed -n 's/.*=\([A-Za-z0-9]*\).*/\1/p'; }

# receive NAME TS_NAME TS_UID STORESCU_OPTION: send, then check what was filed
receive() {
    name=$1 tsname=$2 tsuid=$3 opt=$4
    note "$name ($tsname) through on_dataset"
    orig=$PYD/$name.dcm
    uid=$(sop "$orig")
    old_station=$(dump "$orig" StationName | sed -n 's/.*\[\(.*\)\].*/\1/p')
    old_study=$(dump "$orig" StudyInstanceUID | sed -n 's/.*\[\(.*\)\].*/\1/p')
    run_rc storescu $opt -aet CT_ER -aec DSCP 127.0.0.1 "$PORT" "$orig"
    expect_rc 0 "storescu $name"
    f=$T/filed/$uid.dcm
    [ -f "$f" ] || fail "nothing filed for $name: $(ls "$T/filed")"
    n=$((n + 1))
    expect_eq "$(grep -c "^stored " "$T/dscp.out")" $n "instances filed"
    expect_eq "$(grep "^stored " "$T/dscp.out" | tail -1)" \
        "stored $uid study $NEW_STUDY cookie CT_ER->DSCP" \
        "on_instance indexed the changed study and got the cookie"
    expect_eq "$(dump "$f" StationName)" "$(printf '%s\n%s' \
        "(0008,1010) SH [CT_ER]                                  #   6, 1 StationName" \
        "$(dump "$orig" StationName | sed 's/^/(0400,0561).(0400,0550)./')")" \
        "dcmdump of the new and the old Station Name"
    expect_line "$(dump "$f" StudyInstanceUID)" "^\(0020,000d\) UI \[$NEW_STUDY\]" "new study"
    expect_line "$(dump "$f" StudyInstanceUID)" \
        "^\(0400,0561\)\.\(0400,0550\)\.\(0020,000d\) UI \[$old_study\]" "old study kept"
    expect_eq "$(dump "$f" OriginalAttributesSequence | grep -c '^(0400,0561) SQ')" 1 \
        "one Original Attributes Sequence"
    expect_line "$(dump "$f" ReasonForTheAttributeModification)" "CS \[COERCE\]" "reason"
    expect_line "$(dump "$f" ModifyingSystem)" "LO \[radlink\]" "modifying system"
    expect_eq "$(ts_of "$f")" "$tsname" "the transfer syntax it came in"
    [ -n "$old_station" ] || fail "$name has no Station Name to change"
    run_rc $CHECK "$orig" "$f" "$tsuid" lossless
    expect_rc 0 "pixels of $name: $ERR"
    note "$OUT"
    rm "$f" # pydicom's MR files share one SOP Instance UID
}
n=0

receive CT_small LittleEndianExplicit 1.2.840.10008.1.2.1 ""
receive MR_small_jpeg_ls_lossless JPEGLSLossless 1.2.840.10008.1.2.4.80 -xt
receive MR_small_jp2klossless JPEG2000LosslessOnly 1.2.840.10008.1.2.4.90 -xv

note "an instance on_dataset leaves without a study: refused, its cookie freed"
run_rc storescu -v -aet NOSTUDY -aec DSCP 127.0.0.1 "$PORT" "$PYD/CT_small.dcm"
expect_has "$OUT$ERR" "Received Store Response (Error: DataSetDoesNotMatchSOPClass)" \
    "storescu sees the refusal"
expect_eq "$(ls "$T/filed")" "" "nothing filed"
expect_line "$(cat "$T/dscp.out")" "^freed NOSTUDY->DSCP$" "the cookie went to cookie_free"
expect_eq "$(ls "$T/in")" "" "no temporary file left behind"

kill -TERM "$DSCP_PID"
wait_exit "$DSCP_PID" 20
expect_rc 0 "dscp: $(cat "$T/dscp.err")"
echo "PASS"
