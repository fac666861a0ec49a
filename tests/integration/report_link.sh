#!/bin/sh
# The `report` route action, with the engine: an ORU^R01 is read and kept
# once, linked to its study, or waiting for it until a study of its
# accession arrives (storescu); a report that cannot be one is refused with
# AE and the reason in ERR; `routes test` shows the decision; a
# retransmission makes no second report.
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

start_engine --routes "$T/routes.xml" --workers 0

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

note "a report for a study radlink holds: linked at once"
oru R2 A1 C >"$T/r2.hl7"
send_hl7 "$T/r2.hl7"
expect_has "$(cat "$T/r2.hl7.out")" "MSA|AA|R2" "the corrected report is taken"
run_rc "$RADLINK" recon show --data "$T/var" 1.2.997.1
expect_line "$OUT" "^ *[0-9]+ +A1 +corrected +1\.2\.997\.1 " "the corrected report, linked"

note "a report that cannot be one: AE, the reason in ERR, nothing kept"
oru R3 A3 X >"$T/r3.hl7"
send_hl7 "$T/r3.hl7"
expect_has "$(cat "$T/r3.hl7.out")" "MSA|AE|R3" "refused"
expect_has "$(cat "$T/r3.hl7.out")" "OBR-25 is 'X'" "ERR says why"
run_rc "$RADLINK" recon list --data "$T/var" --reports
expect_not_has "$OUT" " A3 " "nothing kept"
stop_engine
echo "PASS"
