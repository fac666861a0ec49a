#!/bin/sh
# radlink trace: "where is my study?" in one answer. An order comes in (ORM,
# python3-hl7's mllp_send), its modality performs it (MPPS through
# dcmjs-dimse) and sends images that disagree with the RIS (storescu); the
# worker corrects them and sends them to Orthanc as the PACS; the report
# (ORU) follows. `radlink trace ACCESSION` tells it all in time order, each
# line naming its record; --patient and --study tell the same story from
# their end; the console's API gives the same lines as JSON, and an
# operator (not an administrator) gets them without the audit trail.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/mwl_lib.sh"
. "$(dirname "$0")/mpps_lib.sh"
MK=$DATA/make_dicom.sh

start_orthanc pacs false
cat >"$T/cfg.xml" <<XML
<radlink>
  <dicom><pacs ae="ORTHANC" host="127.0.0.1" port="$ORTHANC_DICOM" verify="find"/></dicom>
  <jobs workers="1" study-stable="$STABLE"/>
  <http session-idle="1h"/>
</radlink>
XML
run_rc sh -c "echo 'pass-ann-123' | '$RADLINK' user add ann --role operator --data '$T/var' --password-stdin"
expect_rc 0 "user add ann"
start_engine --config "$T/cfg.xml"
wait_workers 1 10
{ orm O1 NW A1 S1 CT CT01 202611240930 'DOE^JANE' P1; orm O2 NW A2 S2 MR MR01 202611241030 'ROE^ANNA' P2; } >"$T/o.hl7"
send_hl7 "$T/o.hl7"
expect_eq "$(grep -c 'MSA|AA' "$T/o.hl7.out")" 2 "two orders"

note "the modality performs A1 (MPPS) and sends images whose name disagrees"
{ echo '['; create 1.2.826.0.1.3680043.2.1125.9.1 A1 RPA1 S1 1.2.996.1; echo ','
  finish 1.2.826.0.1.3680043.2.1125.9.1 COMPLETED; echo ']'; } >"$T/c.json"
mpps c
$MK "$T/i1.dcm" 1.2.996.1.1 1.2.996.1 1.2.996.1.1 A1 P1 'DOE^JANET' CT 20261124 19700412 F RPA1
run_rc storescu -aec RADLINK 127.0.0.1 "$DICOM_PORT" "$T/i1.dcm"
expect_rc 0 "stored"
wait_job 1 done 60
expect_eq "$(orthanc_tags 1.2.996.1 PatientName)" "DOE^JANE" "the PACS has the corrected study"

note "trace A1 before the report: the correction and its discrepancy"
run_rc "$RADLINK" trace --data "$T/var" A1
expect_rc 0 "trace: $ERR"
expect_line "$OUT" " recon +study 1\.2\.996\.1 +corrected.*PatientName 'DOE\^JANET' -> 'DOE\^JANE'" "reconciliation and its discrepancy"

note "the report"
printf 'MSH|^~\\&|RIS|GENHOSP|RADLINK|RAD|20261124110000||ORU^R01^ORU_R01|R1|P|2.5.1\rPID|1||P1^^^GENHOSP^MR||DOE^JANE||19700412|F\rORC|RE|OA1|FA1\rOBR|1|OA1|FA1|PCT^CT Chest^LOCAL|||20261124093012|||||||||||A1|RPA1|||20261124103000|||F\rOBX|1|TX|&IMP|1|No acute finding.||||||F\r\n' >"$T/r.hl7"
send_hl7 "$T/r.hl7"
expect_has "$(cat "$T/r.hl7.out")" "MSA|AA|R1" "the report is taken"

note "trace A1: the whole story, in time order"
run_rc "$RADLINK" trace --data "$T/var" A1
expect_rc 0 "trace: $ERR"
printf '%s\n' "$OUT" >"$T/trace.txt"
expect_line "$OUT" "^orders +A1$" "the order"
expect_line "$OUT" "^patients +P1$" "its patient"
expect_line "$OUT" "^studies +1\.2\.996\.1$" "its study"
expect_not_has "$OUT" "A2" "nothing of the other order"
# the kinds of line, in the order they happened
ORDER=$(printf '%s\n' "$OUT" | awk 'NR > 6 {print $2}' | awk '!seen[$0]++' | tr '\n' ' ')
case "$ORDER" in
    "hl7 "*) ;;
    *) fail "the story starts with the order message: [$ORDER]" ;;
esac
for k in worklist mpps study recon job report audit; do
    expect_has " $ORDER" " $k " "a $k line"
done
expect_line "$OUT" " hl7 +message 1 +ORM\^O01\^ORM_O01 accepted \(AA\) from RIS/GENHOSP, MSH-10 O1" "the order, its outcome"
expect_line "$OUT" " worklist +worklist A1 +entry A1/RPA1/S1 now COMPLETED" "the entry's state now"
expect_line "$OUT" " mpps +mpps 1\.2\.826\.0\.1\.3680043\.2\.1125\.9\.1 +IN PROGRESS from CT01" "MPPS started"
expect_line "$OUT" " mpps +mpps .* COMPLETED" "MPPS completed"
expect_line "$OUT" " study +study 1\.2\.996\.1 +1 of its 2 instances received from STORESCU \(CT\)" "the images, from which AE"
expect_line "$OUT" " study +study 1\.2\.996\.1 +1 of its 2 instances received from \(report\) \(SR\)" "and the report's SR"
expect_line "$OUT" " job +job 1 +attempt 1 on .*: done: " "the job's attempt, sent and verified"
expect_line "$OUT" " hl7 +message 3 +ORU\^R01\^ORU_R01 accepted" "the report's message"
expect_line "$OUT" " report +message 3 +report F of accession A1: linked" "and the report"
expect_line "$OUT" " audit +audit [0-9]+ +" "the audit events about the patient"
# times never go back
printf '%s\n' "$OUT" | awk 'NR > 6 {print $1}' | sort -c || fail "the lines are in time order"

note "the same story from the patient's and the study's end"
run_rc "$RADLINK" trace --data "$T/var" --patient P1
expect_rc 0 "trace --patient"
expect_line "$OUT" "^orders +A1$" "the patient's order"
expect_line "$OUT" " recon +study 1\.2\.996\.1 +matched, order A1" "and study"
run_rc "$RADLINK" trace --data "$T/var" --study 1.2.996.1
expect_rc 0 "trace --study"
expect_line "$OUT" "^orders +A1$" "the study's order"
expect_line "$OUT" " hl7 +message 1 +ORM" "and its order message"
expect_line "$OUT" " job +job 1 " "and its job"
expect_eq "$(printf '%s\n' "$OUT" | grep -c ' recon  *study 1\.2\.996\.1 ')" 1 "its reconciliation once"
run_rc "$RADLINK" trace --data "$T/var" NOSUCH
expect_rc 1 "nothing names NOSUCH"
expect_has "$OUT" "nothing in the store names it" "says so"
run_rc "$RADLINK" trace --data "$T/var" A1 --patient P1
expect_rc 2 "one subject at a time"

note "the API: the same lines, with the console's links; an operator sees no audit events"
H="http://127.0.0.1:$HTTP_PORT"
curl -s -c "$T/ann.jar" -H 'Content-Type: application/json' \
    --data '{"user": "ann", "password": "pass-ann-123"}' "$H/api/login" >/dev/null
curl -s -b "$T/ann.jar" "$H/api/trace/A1" >"$T/trace.json"
python3 - "$T/trace.json" <<'PY' || fail "the API's trace: $(head -c 600 "$T/trace.json")"
import json, sys
d = json.load(open(sys.argv[1]))
assert d["accessions"] == ["A1"] and d["studies"] == ["1.2.996.1"], d
whats = [e["what"] for e in d["events"]]
assert "audit" not in whats, whats
links = {e["link"] for e in d["events"]}
for l in ["/message/1", "/wl/A1", "/study/1.2.996.1", "/job/1"]:
    assert l in links, (l, links)
assert whats[0] == "hl7", whats
PY
stop_engine
echo PASS
