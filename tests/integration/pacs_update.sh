#!/bin/sh
# How a correction reaches a PACS that already holds the study, per PACS
# (<pacs update>), against Orthanc from Debian, and what verification says:
# - iocm: a rejection note (Key Object Selection, 113038) for the instances
#   the PACS holds, then corrected copies with new SOP and series UIDs;
#   radlink records old -> new. Orthanc does not act on rejection notes, and
#   the job says so (unverified, not done).
# - hl7: the ADT goes to the PACS's HL7 listener through a destination and
#   the images it holds are not sent again; a PACS that does not apply it is
#   reported.
# - resend to Orthanc with "OverwriteInstances": true: verified.
# - a PACS that cannot reach radlink for its storage commitment report: the
#   job says what to declare.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/mwl_lib.sh"
A08='MSH|^~\\&|RIS|GENHOSP|RADLINK|RAD|20261124110000||ADT^A08|%s|P|2.5.1\rEVN|A08|20261124110000\rPID|1||P1^^^GENHOSP^MR||%s||19700412|F\r'

# engine PACS-ATTRIBUTES [EXTRA-CONFIG]: a fresh engine whose PACS is the
# Orthanc started last; one order for P1 (DOE^JANE), and a misspelt study
# of N instances corrected and sent before the PACS had it.
engine() {
    [ -n "${ENGINE_PID:-}" ] && stop_engine
    rm -rf "$T/var"
    cat >"$T/cfg.xml" <<XML
<radlink>
  <dicom><pacs ae="ORTHANC" host="127.0.0.1" port="$ORTHANC_DICOM" $1/></dicom>
  <jobs workers="1" study-stable="$STABLE"/>
  ${2:-}
</radlink>
XML
    start_engine --config "$T/cfg.xml"
    wait_workers 1 10
    orm O1 NW A1 S1 CT CT01 202611240930 'DOE^JANE' P1 >"$T/o.hl7"
    send_hl7 "$T/o.hl7"
}
first_send() { # first_send STUDY-UID N: the misspelt study, corrected and verified
    make_study "$T/$1" 1 "$2" "$1" A1 P1 'DOE^JAEN'
    run_rc storescu -aec RADLINK 127.0.0.1 "$DICOM_PORT" "$T/$1"/*.dcm
    expect_rc 0 "storescu"
    wait_job 1 done 30
}
rename() { # rename CONTROL NAME: an ADT^A08 for P1
    printf "$A08" "$1" "$2" >"$T/$1.hl7"
    send_hl7 "$T/$1.hl7"
    expect_has "$(cat "$T/$1.hl7.out")" "MSA|AA|$1" "the ADT"
}

note "iocm: a rejection note and new instances; Orthanc keeps showing the rejected ones"
start_orthanc iocm false
engine 'update="iocm" verify="commit+find" commit-timeout="10"'
first_send 1.2.993.1 2
expect_eq "$(orthanc_tags 1.2.993.1 SOPInstanceUID | tr '\n' ' ')" "1.2.993.1.1.1 1.2.993.1.1.2 " "Orthanc holds the study"
rename AD1 'DOE^JOAN'
wait_job 2 unverified 40
run_rc "$RADLINK" jobs show --data "$T/var" 2
expect_has "$OUT" "it still shows 2 of the 2 instances the rejection note rejected" "Orthanc ignores IOCM"
expect_eq "$(orthanc_tags 1.2.993.1 SOPInstanceUID | wc -l)" 5 "2 old, 2 new, 1 rejection note"
KOS=$(curl -sf -X POST "http://127.0.0.1:$ORTHANC_HTTP/tools/find" \
        -d '{"Level":"Instance","Query":{"StudyInstanceUID":"1.2.993.1","Modality":"KO"}}' |
      /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)[0])')
orthanc "/instances/$KOS/file" >"$T/kos.dcm"
D=$(dcmdump "$T/kos.dcm")
expect_has "$D" "=KeyObjectSelectionDocumentStorage" "a Key Object Selection document"
expect_has "$D" "(0008,0100) SH [113038]" "titled Incorrect Modality Worklist Entry"
expect_has "$D" "1.2.993.1.1.1]" "referencing the first rejected instance"
expect_has "$D" "1.2.993.1.1.2]" "and the second"
expect_has "$D" "(0010,0010) PN [DOE^JANE]" "under the patient as the PACS has it"
NEW=$(orthanc_tags 1.2.993.1 SOPInstanceUID | grep '^2\.25\.' | wc -l)
expect_eq "$NEW" 3 "the new instances (and the note) have UUID-derived UIDs"
for s in $(orthanc_tags 1.2.993.1 SOPInstanceUID | grep '^2\.25\.'); do
    orthanc_file 1.2.993.1 "$s" "$T/new.dcm"
    dcmdump "$T/new.dcm" | grep -q "KeyObjectSelection" && continue
    expect_has "$(dcmdump +P 0010,0010 "$T/new.dcm" | head -1)" "[DOE^JOAN]" "a new instance has the new name"
done
run_rc "$RADLINK" recon show --data "$T/var" 1.2.993.1
expect_line "$OUT" "SOPInstanceUID +'1\.2\.993\.1\.1\.1' -> '2\.25\.[0-9]+', job 2, IOCM" "radlink records old -> new"

note "hl7: the ADT goes to the PACS's HL7 listener, the images are not sent again"
start_orthanc hl7 false
SINK_PORT=$(free_port)
/usr/bin/python3 "$SRC/tests/integration/mllp_sink.py" "$SINK_PORT" "$T/sink.log" >"$T/sink.out" 2>&1 &
PIDS="$PIDS $!"
wait_for "$T/sink.out" ready 10
engine 'update="hl7" hl7-destination="pacs-adt" verify="find"' \
    "<destinations><destination name=\"pacs-adt\" host=\"127.0.0.1\" port=\"$SINK_PORT\"/></destinations>"
first_send 1.2.993.2 2
rename AD2 'DOE^JOAN'
wait_for "$T/sink.log" AD2 10
wait_job 2 unverified 40
run_rc "$RADLINK" jobs show --data "$T/var" 2
expect_has "$OUT" "PatientName=DOE^JANE (should be DOE^JOAN)" "Orthanc has no HL7 listener to apply it"
expect_has "$OUT" "has not applied the ADT forwarded to its HL7 listener" "and the job says what to check"
expect_eq "$(orthanc_tags 1.2.993.2 PatientName | uniq)" "DOE^JANE" "the images were not sent again"
expect_eq "$(orthanc_tags 1.2.993.2 SOPInstanceUID | wc -l)" 2 "no new instances"

note "resend to Orthanc that overwrites: the resent instance replaces the old, verified"
start_orthanc overwrite true
engine 'update="resend" commit-timeout="10"'
first_send 1.2.993.3 1
rename AD3 'DOE^JOAN'
wait_job 2 done 40
expect_eq "$(orthanc_tags 1.2.993.3 PatientName)" "DOE^JOAN" "Orthanc holds the new name"
run_rc "$RADLINK" recon show --data "$T/var" 1.2.993.3
expect_line "$OUT" "^  state +corrected" "corrected"

note "a PACS that cannot send its commitment report: unverified, with what to declare"
hold_port NOWHERE # where Orthanc thinks radlink listens: nobody does
start_orthanc noreport false "$NOWHERE"
engine 'commit-timeout="3"'
make_study "$T/s4" 1 1 1.2.993.4 A1 P1 'DOE^JANE'
run_rc storescu -aec RADLINK 127.0.0.1 "$DICOM_PORT" "$T/s4/i1.dcm"
wait_job 1 unverified 30
run_rc "$RADLINK" jobs show --data "$T/var" 1
expect_has "$OUT" "no storage commitment report within 3 s" "says what did not come"
expect_has "$OUT" "must know that AE" "and what to declare"
stop_engine
note "ok"
