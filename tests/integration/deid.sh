#!/bin/sh
# De-identification (PS3.15 Annex E, routes/README.md <deidentify>) of real
# files nobody here wrote (pydicom's test data: CT, MR, an RT plan with deep
# sequences, an ECG with private blocks inside sequences) and of synthetic
# ones holding every attribute Table E.1-1 names (deid_synth.py: DOE^JANE,
# no real person), through deid_apply, the driver that calls
# dicom_ds_deidentify as a <send> does. What comes out is judged by
# deid_check.py, written apart from the C++ code, by dciodvfy (no error the
# original did not have) and by what a user would look for in the file.
# Usage: deid.sh DEID_APPLY
. "$(dirname "$0")/lib.sh"
APPLY=${1:?usage: deid.sh DEID_APPLY}
PYD=/usr/lib/python3/dist-packages/pydicom/data/test_files
[ -d "$PYD" ] || skip "python3-pydicom's test files are missing (make deps installs python3-pydicom)"
command -v dciodvfy >/dev/null || skip "dciodvfy (dicom3tools) is missing"
PY=/usr/bin/python3
TABLE=$SRC/adapters/dicom/deid_table.tsv
CHECK="$PY $SRC/tests/integration/deid_check.py"
KEEP="RADLINK TEST KEEP"
ALL="retain-longitudinal-dates retain-patient-characteristics retain-device-identity retain-institution-identity retain-uids clean-descriptions"

head -c 32 /dev/urandom >"$T/k1"
head -c 32 /dev/urandom >"$T/k2"
$PY "$SRC/tests/integration/deid_synth.py" "$TABLE" "$PYD/CT_small.dcm" "$T" || fail "deid_synth.py"
for f in CT_small MR_small rtplan waveform_ecg JPGExtended; do cp "$PYD/$f.dcm" "$T/"; done

# get FILE KEYWORD: the attribute's value as pydicom prints it, "<absent>" or "<empty>".
get() {
    $PY - "$1" "$2" <<'PY'
import sys, pydicom
ds = pydicom.dcmread(sys.argv[1], force=True)
e = ds.data_element(sys.argv[2]) if sys.argv[2] in ds else None
print("<absent>" if e is None else "<empty>" if e.value in (None, "", b"", []) else e.value)
PY
}

# deid NAME OUT [deid_apply options]: de-identify $T/NAME.dcm into $T/OUT.dcm.
deid() {
    in=$1 out=$2
    shift 2
    run_rc "$APPLY" "$T/$in.dcm" "$T/$out.dcm" "$T/k1" "$@"
    expect_rc 0 "deid_apply $in $*"
}

# check NAME OUT [deid_check options]
check() {
    in=$1 out=$2
    shift 2
    run_rc $CHECK check "$TABLE" "$T/$in.dcm" "$T/$out.dcm" "$@"
    [ "$RC" = 0 ] || fail "$in -> $out $*: deid_check.py found:
$OUT"
    note "$in -> $out $*: $OUT"
}

# valid NAME OUT: dciodvfy reports no error on OUT that it did not on NAME.
# Its one exception, made by the table itself: Table E.1-1 removes the
# Clinical Trial Protocol Ethics Committee Approval Number (X) and gives its
# Committee Name a dummy (D), while PS3.3 C.7.1.3 has the name only with
# the number (Type 1C).
valid() {
    dciodvfy "$T/$1.dcm" 2>&1 | grep '^Error' | sort -u >"$T/$1.errors" || true
    dciodvfy "$T/$2.dcm" 2>&1 | grep '^Error' | sort -u >"$T/$2.errors" || true
    new=$(comm -13 "$T/$1.errors" "$T/$2.errors" |
        grep -v 'condition unsatisfied.*Element=<ClinicalTrialProtocolEthicsCommitteeName>' || true)
    [ -z "$new" ] || fail "dciodvfy: $2 has errors $1 had not:
$new"
}

note "the basic profile on real files and synthetic ones: table, validity"
for f in CT_small MR_small rtplan waveform_ecg synthetic ct_oas; do
    deid "$f" "$f.basic"
    check "$f" "$f.basic"
    valid "$f" "$f.basic"
done
# Nothing that names the synthetic patient is left anywhere in the file.
# (Not the bare words DOE and JANE: the references Referenced and Source
# Image Sequence hold are kept with their UIDs replaced (X/Z/U*), and
# deid_synth.py's items carry a Code Meaning naming her, which the table
# does not name; deid_check.py checked that it is kept as it was.)
for w in "DOE^JANE" "Jane Doe" PID12345 ACC98765 OTHER777 19700101 "GENERAL HOSPITAL" DOE_WS; do
    ! grep -aq "$w" "$T/synthetic.basic.dcm" || fail "synthetic.basic.dcm still holds [$w]"
done
expect_eq "$(get "$T/synthetic.basic.dcm" PatientIdentityRemoved)" YES "Patient Identity Removed"
expect_eq "$(get "$T/synthetic.basic.dcm" PatientName)" "<empty>" "Patient's Name (Z)"
expect_eq "$(get "$T/synthetic.basic.dcm" OtherPatientIDs)" "<absent>" "Other Patient IDs (X)"
sop=$(get "$T/synthetic.basic.dcm" SOPInstanceUID)
expect_line "$sop" '^2\.25\.[0-9]{1,39}$' "SOP Instance UID replaced by a 2.25 UID"
[ ${#sop} -le 64 ] || fail "SOP Instance UID [$sop] is longer than 64"

note "each option keeps what it should, private blocks of a creator named"
for o in $ALL "$ALL"; do
    name=$(echo "$o" | tr ' ' '+' | cut -c1-40)
    deid synthetic "syn.$name" --options "$o" --keep-private "$KEEP"
    check synthetic "syn.$name" --options "$o" --keep-private "$KEEP"
    valid synthetic "syn.$name"
done
O=$T/syn.
expect_eq "$(get "${O}retain-longitudinal-dates.dcm" StudyDate)" 20240102 "Study Date with retain-longitudinal-dates"
expect_not_has "$(get "$T/synthetic.basic.dcm" StudyDate)" 20240102 "Study Date without the option"
expect_eq "$(get "${O}retain-patient-characteristics.dcm" PatientSex)" F "Patient's Sex with retain-patient-characteristics"
expect_eq "$(get "$T/synthetic.basic.dcm" PatientSex)" "<empty>" "Patient's Sex without the option"
serial=$(get "$T/synthetic.dcm" DeviceSerialNumber)
expect_eq "$(get "${O}retain-device-identity.dcm" DeviceSerialNumber)" "$serial" "Device Serial Number with retain-device-identity"
expect_not_has "$(get "$T/synthetic.basic.dcm" DeviceSerialNumber)" "$serial" "Device Serial Number without the option"
expect_eq "$(get "${O}retain-institution-identity.dcm" InstitutionName)" "GENERAL HOSPITAL" "Institution Name with retain-institution-identity"
expect_not_has "$(get "$T/synthetic.basic.dcm" InstitutionName)" "GENERAL HOSPITAL" "Institution Name without the option (X/Z/D: a dummy)"
expect_eq "$(get "${O}retain-uids.dcm" SOPInstanceUID)" "$(get "$T/synthetic.dcm" SOPInstanceUID)" "SOP Instance UID with retain-uids"
desc=$(get "${O}clean-descriptions.dcm" StudyDescription)
expect_eq "$desc" "CT for" "Study Description cleaned of the name, ID and birth date"
# The creator kept and its elements are there, the other creator's are not.
run_rc $PY -c 'import sys, pydicom
ds = pydicom.dcmread(sys.argv[1])
print(ds[0x00090010].value, ds[0x00091001].value, 0x00090011 in ds, 0x00091101 in ds, 0x00191001 in ds)' \
    "${O}retain-longitudinal-dates.dcm"
expect_eq "$OUT" "RADLINK TEST KEEP kept private text False False False" "private blocks with --keep-private"
# Without --keep-private no private element is left (deid_check.py checked each).

note "UIDs: the same original gives the same new one in every file and run, another secret another"
deid CT_small CT_small.again
run_rc $CHECK mapping "$T/CT_small.dcm" "$T/CT_small.basic.dcm" "$T/ct_oas.dcm" "$T/ct_oas.basic.dcm" \
    "$T/CT_small.dcm" "$T/CT_small.again.dcm" "$T/synthetic.dcm" "$T/synthetic.basic.dcm" \
    "$T/MR_small.dcm" "$T/MR_small.basic.dcm"
[ "$RC" = 0 ] || fail "UID mapping: $OUT"
note "$OUT"
expect_eq "$(get "$T/CT_small.basic.dcm" StudyInstanceUID)" "$(get "$T/ct_oas.basic.dcm" StudyInstanceUID)" \
    "one study in two files stays one study"
run_rc "$APPLY" "$T/CT_small.dcm" "$T/CT_small.k2.dcm" "$T/k2"
expect_rc 0 "deid_apply with another secret"
run_rc $CHECK differ "$T/CT_small.dcm" "$T/CT_small.basic.dcm" "$T/CT_small.k2.dcm"
[ "$RC" = 0 ] || fail "UIDs with two secrets: $OUT"
note "$OUT"

note "an instance that may hold burned-in text is refused, and nothing is written"
for c in "bia_yes|Burned In Annotation is YES" "xa|absent on an XA image" \
    "JPGExtended|absent on a secondary capture"; do
    f=${c%%|*} why=${c#*|}
    run_rc "$APPLY" "$T/$f.dcm" "$T/$f.out.dcm" "$T/k1"
    expect_rc 3 "deid_apply $f (DICOM_E_BURNED_IN)"
    expect_has "$ERR" "$why" "the reason $f is refused"
    [ ! -e "$T/$f.out.dcm" ] || fail "$f.out.dcm was written though refused"
done

note "without a secret nothing is de-identified"
run_rc "$APPLY" "$T/CT_small.dcm" "$T/nosecret.dcm" "$T/k1" --no-secret
expect_rc 2 "deid_apply without a secret"
[ ! -e "$T/nosecret.dcm" ] || fail "nosecret.dcm was written"
echo "PASS"
