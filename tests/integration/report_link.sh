#!/bin/sh
# The `report` route action, with the engine and Orthanc as the PACS: an
# ORU^R01 is read and kept once, linked to its study, or waiting for it
# until a study of its accession arrives (storescu); then its Basic Text SR
# is in the study at the PACS (Orthanc's REST API, dsrdump of its file),
# sent and verified by the study's job; a report that cannot be one is
# refused with AE and the reason in ERR; `routes test` shows the decision;
# a retransmission makes no second report.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/mwl_lib.sh"
sed 's|<forward to="results" optional="true"/>|<report/>\n    <forward to="results" optional="true"/>|' \
    "$SRC/routes/default.xml" >"$T/routes.xml"

# oru CONTROL ACCESSION STATUS: an ORU^R01 as a reporting system sends it
oru() {
    printf '%s\r' \
      "MSH|^~\\&|RIS|GENHOSP|RADLINK|RAD|20261124110000||ORU^R01^ORU_R01|$1|P|2.5.1" \
      'PID|1||P1^^^GENHOSP^MR||DOE^JANE||19700412|F' \
      "ORC|RE|O$2|F$2" \
      "OBR|1|O$2|F$2|PCT^CT Chest^LOCAL|||20261124093012|||||||||||$2|RP$2|||20261124103000|||$3|||||||RAD1&SMITH&JOHN" \
      'OBX|1|TX|&GDT|1|The lungs are clear.\.br\No effusion.||||||F' \
      'OBX|2|TX|&IMP|1|No acute finding.||||||F'
    printf '\n'
}

note "routes test: the decision for a report, by the code the engine runs"
oru R0 A9 F >"$T/r0.hl7"
run_rc "$RADLINK" routes test --data "$T/var" "$T/routes.xml" "$T/r0.hl7"
expect_rc 0 "routes test"
expect_has "$OUT" "accession A9, final, 2 texts in 2 sections" "the report read"
expect_has "$OUT" "no study of it yet: it waits for one" "its study"

start_orthanc pacs true
cat >"$T/cfg.xml" <<XML
<radlink>
  <dicom><pacs ae="ORTHANC" host="127.0.0.1" port="$ORTHANC_DICOM" commit-timeout="10"/></dicom>
  <jobs workers="1" study-stable="1"/>
  <routes file="$T/routes.xml"/>
</radlink>
XML
orm O1 NW A1 S1 CT CT01 202611240930 'DOE^JANE' P1 >"$T/o1.hl7"
start_engine --config "$T/cfg.xml"
wait_workers 1 10
send_hl7 "$T/o1.hl7"
expect_has "$(cat "$T/o1.hl7.out")" "MSA|AA|O1" "the order"

note "a report before its study: kept, waiting"
oru R1 A1 F >"$T/r1.hl7"
send_hl7 "$T/r1.hl7"
expect_has "$(cat "$T/r1.hl7.out")" "MSA|AA|R1" "the report is taken"
run_rc "$RADLINK" recon list --data "$T/var" --reports
expect_line "$OUT" "^ *[0-9]+ +A1 +final +\(waiting\) " "recon list --reports shows it waiting"

note "a retransmission makes no second report"
send_hl7 "$T/r1.hl7"
run_rc "$RADLINK" recon list --data "$T/var" --reports
expect_eq "$(printf '%s\n' "$OUT" | grep -c ' A1 ')" 1 "one report for A1"

note "its study arrives: the report is the study's"
make_study "$T/s1" 1 1 1.2.997.1 A1 P1 'DOE^JANE' CT
run_rc storescu -aec RADLINK 127.0.0.1 "$DICOM_PORT" "$T/s1/i1.dcm"
expect_rc 0 "storescu"
wait_cmd 30 "^ *[0-9]+ +A1 +final +1\.2\.997\.1 " "$RADLINK" recon show --data "$T/var" 1.2.997.1
run_rc "$RADLINK" recon list --data "$T/var" --reports
expect_not_has "$OUT" " A1 " "no longer waiting"
note "the SR is in the study at the PACS, sent and verified by the study's job"
sr_at_pacs() {
    curl -sf -X POST "http://127.0.0.1:$ORTHANC_HTTP/tools/find" \
        -d '{"Level":"Instance","Query":{"StudyInstanceUID":"1.2.997.1","Modality":"SR"}}' |
        /usr/bin/python3 -c 'import json,sys; print(len(json.load(sys.stdin)))'
}
# wait_srs N: until the PACS holds N SRs in the study
wait_srs() {
    i=0
    until [ "$(sr_at_pacs)" = "$1" ]; do
        i=$((i + 1))
        [ $i -le $(($(scaled 90) * 10)) ] ||
            fail "$(sr_at_pacs) SRs in the study at the PACS, not $1: $("$RADLINK" jobs list --data "$T/var")"
        sleep 0.1
    done
}
wait_srs 1
expect_eq "$(sr_at_pacs)" 1 "one SR in the study at the PACS"
id=$(curl -sf -X POST "http://127.0.0.1:$ORTHANC_HTTP/tools/find" \
        -d '{"Level":"Instance","Query":{"StudyInstanceUID":"1.2.997.1","Modality":"SR"}}' |
     /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)[0])')
curl -sf "http://127.0.0.1:$ORTHANC_HTTP/instances/$id/file" -o "$T/sr.dcm" || fail "the SR's file"
run_rc dsrdump +U8 +Pl "$T/sr.dcm"
expect_rc 0 "dsrdump reads the SR the PACS holds: $ERR"
for want in 'Completion Flag *: COMPLETE' 'Verification Flag *: VERIFIED' 'SMITH\^JOHN' \
    'The lungs are clear\.' 'No effusion\.' 'No acute finding\.' 'DOE\^JANE'; do
    expect_line "$OUT" "$want" "the SR at the PACS"
done
errors=$(dciodvfy "$T/sr.dcm" 2>&1 | grep '^Error' || true)
[ -z "$errors" ] || fail "dciodvfy finds errors in the SR radlink made: $errors"
wait_cmd 60 "^ *[0-9]+ +done +study .*1\.2\.997\.1 .*committed and verified" \
    "$RADLINK" jobs list --data "$T/var"

note "a report for a study radlink holds: linked at once"
oru R2 A1 C >"$T/r2.hl7"
send_hl7 "$T/r2.hl7"
expect_has "$(cat "$T/r2.hl7.out")" "MSA|AA|R2" "the corrected report is taken"
run_rc "$RADLINK" recon show --data "$T/var" 1.2.997.1
expect_line "$OUT" "^ *[0-9]+ +A1 +corrected +1\.2\.997\.1 " "the corrected report, linked"

note "the corrected report is a second SR at the PACS, naming the first as its predecessor"
wait_srs 2
first=$(dcmdump +P 0008,0018 "$T/sr.dcm" | sed -n 's/.*UI \[\([^]]*\)\].*/\1/p' | head -1)
for id in $(curl -sf -X POST "http://127.0.0.1:$ORTHANC_HTTP/tools/find" \
        -d '{"Level":"Instance","Query":{"StudyInstanceUID":"1.2.997.1","Modality":"SR"}}' |
        /usr/bin/python3 -c 'import json,sys; print(" ".join(json.load(sys.stdin)))'); do
    curl -sf "http://127.0.0.1:$ORTHANC_HTTP/instances/$id/file" -o "$T/sr2.dcm"
    dsrdump +U8 "$T/sr2.dcm" | grep -q 'Completion Flag *: COMPLETE' || fail "dsrdump of an SR"
    dcmdump "$T/sr2.dcm" | grep -q "PredecessorDocumentsSequence" && break
done
second=$(dcmdump +P 0008,0018 "$T/sr2.dcm" | sed -n 's/.*UI \[\([^]]*\)\].*/\1/p' | head -1)
[ "$second" != "$first" ] || fail "no SR at the PACS has a Predecessor Documents Sequence"
pred=$(dcmdump "$T/sr2.dcm" | sed -n '/PredecessorDocumentsSequence/,/SequenceDelimitationItem/p')
expect_has "$pred" "$first" "the corrected SR names the first one as its predecessor"
expect_line "$(dsrdump +U8 "$T/sr2.dcm")" "Completion Flag *: COMPLETE" "the corrected SR"

note "a report that cannot be one: AE, the reason in ERR, nothing kept"
oru R3 A3 X >"$T/r3.hl7"
send_hl7 "$T/r3.hl7"
expect_has "$(cat "$T/r3.hl7.out")" "MSA|AE|R3" "refused"
expect_has "$(cat "$T/r3.hl7.out")" "OBR-25 is 'X'" "ERR says why"
run_rc "$RADLINK" recon list --data "$T/var" --reports
expect_not_has "$OUT" " A3 " "nothing kept"
stop_engine
echo "PASS"
