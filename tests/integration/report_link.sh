#!/bin/sh
# Reports into the PACS, with the engine and Orthanc as the PACS, python3-hl7's
# MLLP server as the order filler, DCMTK's storescu as the modality:
# - the shipped routes take ORU^R01 and MDM^T02 as reports (`routes test`);
# - a Latin-1 ORU with a PDF before its study: kept once, waiting; its final
#   report completes the worklist step and the order filler hears CM;
# - its study arrives: the SR (dsrdump: texts, accents, flags, observer) and
#   the PDF (dcm2pdf: the very bytes sent) are in the study at the PACS, both
#   valid to dciodvfy, sent and verified by the study's job;
# - a corrected report with a number: an Enhanced SR naming the first SR as
#   its predecessor, and (update="iocm") a rejection note for the first one;
# - an MDM^T02 for a study radlink holds: an SR at once;
# - a report for an accession nobody ordered: held, or AE with
#   unmatched="refuse"; one that cannot be a report, or names another
#   patient than its study's: AE, nothing kept.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/mwl_lib.sh"

SINK_PORT=$(free_port)
/usr/bin/python3 "$SRC/tests/integration/mllp_sink.py" "$SINK_PORT" "$T/sink.log" >"$T/sink.out" 2>&1 &
PIDS="$PIDS $!"
wait_for "$T/sink.out" ready 10

# the shipped routes, with the report action's options a site may set, a
# sender whose unmatched reports are refused, and a DICOM route for the
# reports' objects (they go where it says, coerced as it says)
sed -e 's|<report optional="true"/>|<report optional="true" update="iocm" complete-step="true"/>|' \
    -e 's|<route name="results">|<route name="strict"><match type="ORU^R01" application="STRICT"/><report unmatched="refuse"/></route>\n  <route name="results">|' \
    -e 's|^</routes>|<dicom-routes default="all"><dicom-route name="reports"><when keyword="Modality" in="SR DOC KO"/><send to="ORTHANC"><set keyword="InstitutionName" value="Reading Room"/></send></dicom-route></dicom-routes>\n</routes>|' \
    "$SRC/routes/default.xml" >"$T/routes.xml"
grep -q 'complete-step="true"' "$T/routes.xml" || fail "the shipped routes have no <report optional=\"true\"/>"

# oru CONTROL ACCESSION STATUS [APP]: an ORU^R01 as a reporting system sends it
oru() {
    printf '%s\r' \
      "MSH|^~\\&|${4:-RIS}|GENHOSP|RADLINK|RAD|20261124110000||ORU^R01^ORU_R01|$1|P|2.5.1" \
      'PID|1||P1^^^GENHOSP^MR||DOE^JANE||19700412|F' \
      "ORC|RE|O$2|F$2" \
      "OBR|1|O$2|F$2|PCT^CT Chest^LOCAL|||20261124093012|||||||||||$2|RP$2|||20261124103000|||$3|||||||RAD1&SMITH&JOHN" \
      'OBX|1|TX|&GDT|1|The lungs are clear.\.br\No effusion.||||||F' \
      'OBX|2|TX|&IMP|1|No acute finding.||||||F'
    printf '\n'
}

note "routes test: the shipped routes take ORU^R01 and MDM^T02 as reports"
oru R0 A9 F >"$T/r0.hl7"
run_rc "$RADLINK" routes test --data "$T/var" "$SRC/routes/default.xml" "$T/r0.hl7"
expect_rc 0 "routes test"
expect_has "$OUT" "accession A9, final, 2 texts in 2 sections" "the report read"
expect_has "$OUT" "makes a Basic Text SR" "what it makes"
expect_has "$OUT" "no order and no study of it: held until its study arrives" "its study"
printf '%s\r' 'MSH|^~\&|DICT|GENHOSP|RADLINK|RAD|20261124110000||MDM^T02^MDM_T02|D0|P|2.5.1' \
  'EVN|T02|20261124110000' 'PID|1||P1^^^GENHOSP^MR||DOE^JANE' \
  'TXA|1|RAD|TX|20261124093012||20261124103000||||||DOC0||OA9|A9||AU|||||RAD1^SMITH^JOHN' \
  'OBX|1|TX|IMP^Impression^99RIS||No acute finding.' >"$T/d0.hl7"
run_rc "$RADLINK" routes test --data "$T/var" "$SRC/routes/default.xml" "$T/d0.hl7"
expect_rc 0 "routes test of an MDM"
expect_has "$OUT" "accession A9, final, 1 text in 1 section" "the MDM read as a report"

start_orthanc pacs true
cat >"$T/cfg.xml" <<XML
<radlink>
  <dicom><pacs ae="ORTHANC" host="127.0.0.1" port="$ORTHANC_DICOM" commit-timeout="10"/></dicom>
  <destinations><destination name="ris" host="127.0.0.1" port="$SINK_PORT"/></destinations>
  <jobs workers="1" study-stable="$STABLE"/>
  <routes file="$T/routes.xml"/>
</radlink>
XML
oru R0 A9 F STRICT >"$T/r0s.hl7"
run_rc "$RADLINK" routes test --data "$T/var" --config "$T/cfg.xml" "$T/routes.xml" "$T/r0s.hl7"
expect_has "$OUT" 'refused (unmatched="refuse")' "unmatched=refuse, said by the dry run"
orm O1 NW A1 S1 CT CT01 202611240930 'DOE^JANE' P1 >"$T/o1.hl7"
orm O2 NW A2 S2 CT CT01 202611241000 'DOE^JANE' P1 >>"$T/o1.hl7"
start_engine --config "$T/cfg.xml"
wait_workers 1 10
send_hl7 "$T/o1.hl7"
expect_has "$(cat "$T/o1.hl7.out")" "MSA|AA|O2" "the orders"

note "a Latin-1 report with a PDF, before its study: kept, waiting; the step completed"
printf '%%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 200 200]>>endobj\ntrailer<</Root 1 0 R>>\n%%%%EOF\n' >"$T/report.pdf"
{ printf '%s\r' \
    'MSH|^~\&|RIS|GENHOSP|RADLINK|RAD|20261124110000||ORU^R01^ORU_R01|R1|P|2.5.1||||||8859/1' \
    'PID|1||P1^^^GENHOSP^MR||DOE^JANE||19700412|F' 'ORC|RE|OA1|FA1' \
    'OBR|1|OA1|FA1|PCT^CT Chest^LOCAL|||20261124093012|||||||||||A1|RPA1|||20261124103000|||F|||||||RAD1&Bûc&Jérôme' \
    'OBX|1|TX|&GDT|1|Poumons libres.\.br\Pas d'"'"'épanchement.||||||F' \
    'OBX|2|TX|&GDT|2|Cœur de taille normale.||||||F' \
    'OBX|3|TX|&IMP|1|Pas d'"'"'anomalie aiguë.||||||F' \
    "OBX|4|ED|PDF^Report^99RIS||RIS^AP^PDF^Base64^$(base64 -w0 "$T/report.pdf")||||||F"
  printf '\n'; } >"$T/r1.utf8"
# the texts in Latin-1, as MSH-18 says (the "œ" has no Latin-1 byte: "oe")
sed 's/œ/oe/' "$T/r1.utf8" | iconv -f UTF-8 -t ISO-8859-1 >"$T/r1.hl7" || fail "iconv"
send_hl7 "$T/r1.hl7"
expect_has "$(cat "$T/r1.hl7.out")" "MSA|AA|R1" "the report is taken"
run_rc "$RADLINK" recon list --data "$T/var" --reports
expect_line "$OUT" "^ *[0-9]+ +A1 +final +waiting +- +- " "recon list --reports shows it waiting"
wait_for "$T/sink.log.full" "ORC|SC|OA1|FA1||CM" 10
run_rc "$RADLINK" wl show --data "$T/var" A1
expect_line "$OUT" "ScheduledProcedureStepStatus +COMPLETED" "the final report completed the step"

note "a retransmission makes no second report"
send_hl7 "$T/r1.hl7"
run_rc "$RADLINK" recon list --data "$T/var" --reports
expect_eq "$(printf '%s\n' "$OUT" | grep -c ' A1 ')" 1 "one report for A1"
expect_eq "$(grep -c '||CM' "$T/sink.log.full")" 1 "one CM to the order filler"

note "its study arrives: the report is the study's, SR and PDF"
make_study "$T/s1" 1 1 1.2.997.1 A1 P1 'DOE^JANE' CT
run_rc storescu -aec RADLINK 127.0.0.1 "$DICOM_PORT" "$T/s1/i1.dcm"
expect_rc 0 "storescu"
wait_cmd 30 "^ *[0-9]+ +A1 +final +linked +SR\+PDF .*1\.2\.997\.1 " \
    "$RADLINK" recon show --data "$T/var" 1.2.997.1
run_rc "$RADLINK" recon list --data "$T/var" --reports
expect_not_has "$OUT" " A1 " "no longer waiting"

# at_pacs STUDY MODALITY: the Orthanc IDs of the study's instances of it
at_pacs() {
    curl -sf -X POST "http://127.0.0.1:$ORTHANC_HTTP/tools/find" \
        -d "{\"Level\":\"Instance\",\"Query\":{\"StudyInstanceUID\":\"$1\",\"Modality\":\"$2\"}}" |
        /usr/bin/python3 -c 'import json,sys; print(" ".join(json.load(sys.stdin)))'
}
# wait_pacs STUDY MODALITY N: until the PACS holds N such instances
wait_pacs() {
    i=0
    until [ "$(at_pacs "$1" "$2" | wc -w)" = "$3" ]; do
        i=$((i + 1))
        [ $i -le $(($(scaled 90) * 10)) ] ||
            fail "$(at_pacs "$1" "$2" | wc -w) $2 in $1 at the PACS, not $3: $("$RADLINK" jobs list --data "$T/var")"
        sleep 0.1
    done
}
# fetch ID FILE: an instance's file from the PACS
fetch() { curl -sf "http://127.0.0.1:$ORTHANC_HTTP/instances/$1/file" -o "$2" || fail "the file of $1"; }
iod_ok() {
    errors=$(dciodvfy "$1" 2>&1 | grep -a '^Error' || true)
    [ -z "$errors" ] || fail "dciodvfy finds errors in the $2 radlink made: $errors"
}
wait_pacs 1.2.997.1 SR 1
wait_pacs 1.2.997.1 DOC 1
fetch "$(at_pacs 1.2.997.1 SR)" "$T/sr.dcm"
run_rc dsrdump +U8 +Pl "$T/sr.dcm"
expect_rc 0 "dsrdump reads the SR the PACS holds: $ERR"
for want in 'Completion Flag *: COMPLETE' 'Verification Flag *: VERIFIED' 'Bûc\^Jérôme' \
    'Poumons libres\.' "Pas d'épanchement\." 'Coeur de taille normale\.' \
    "Pas d'anomalie aiguë\." 'DOE\^JANE'; do
    expect_line "$OUT" "$want" "the SR at the PACS"
done
expect_has "$(dcmdump +P 0008,0005 "$T/sr.dcm")" "ISO_IR 100" "Latin-1 text, Latin-1 SR"
expect_has "$(dcmdump +P 0008,0080 "$T/sr.dcm")" "Reading Room" "the DICOM route for reports sent it, coerced"
iod_ok "$T/sr.dcm" "SR"
fetch "$(at_pacs 1.2.997.1 DOC)" "$T/pdf.dcm"
run_rc dcm2pdf "$T/pdf.dcm" "$T/back.pdf"
expect_rc 0 "dcm2pdf: $ERR"
cmp "$T/report.pdf" "$T/back.pdf" || fail "the PDF at the PACS is not the one the ORU carried"
iod_ok "$T/pdf.dcm" "Encapsulated PDF"
wait_cmd 60 "^ *[0-9]+ +done +study .*1\.2\.997\.1 " "$RADLINK" jobs list --data "$T/var"
job=$("$RADLINK" jobs list --data "$T/var" | awk '$2 == "done" && $3 == "study" {print $1; exit}')
run_rc "$RADLINK" jobs show --data "$T/var" "$job"
expect_has "$OUT" "committed and verified" "the job verified it"
expect_line "$OUT" "^ *[0-9]+ +A1 +final +linked +SR\+PDF (sent|filed) " "jobs show lists the study's report"
wait_cmd 30 "^ *[0-9]+ +A1 +final +linked +SR\+PDF sent " \
    "$RADLINK" recon show --data "$T/var" 1.2.997.1

note "a corrected report with a number: an Enhanced SR, its predecessor, a rejection note"
{ oru R2 A1 C | tr -d '\n'
  printf 'OBX|3|NM|VOL^Nodule volume^99RIS|1|0.42|mL^milliliter^UCUM|||||F\r\n'; } >"$T/r2.hl7"
send_hl7 "$T/r2.hl7"
expect_has "$(cat "$T/r2.hl7.out")" "MSA|AA|R2" "the corrected report is taken"
run_rc "$RADLINK" recon show --data "$T/var" 1.2.997.1
expect_line "$OUT" "^ *[0-9]+ +A1 +corrected +linked +SR\+KOS " "the corrected report, linked"
wait_pacs 1.2.997.1 SR 2
wait_pacs 1.2.997.1 KO 1
first=$(dcmdump +P 0008,0018 "$T/sr.dcm" | sed -n 's/.*UI \[\([^]]*\)\].*/\1/p' | head -1)
firstpdf=$(dcmdump +P 0008,0018 "$T/pdf.dcm" | sed -n 's/.*UI \[\([^]]*\)\].*/\1/p' | head -1)
for id in $(at_pacs 1.2.997.1 SR); do
    fetch "$id" "$T/sr2.dcm"
    [ "$(dcmdump +P 0008,0018 "$T/sr2.dcm" | sed -n 's/.*UI \[\([^]]*\)\].*/\1/p' | head -1)" != "$first" ] && break
done
run_rc dsrdump +U8 +Pc +Pl "$T/sr2.dcm"
expect_line "$OUT" '^Enhanced SR Document' "a number makes an Enhanced SR"
expect_line "$OUT" 'NUM:\(VOL,99RIS,"Nodule volume"\)="0\.42" \(mL,UCUM,"milliliter"\)' "the number"
pred=$(dcmdump "$T/sr2.dcm" | sed -n '/PredecessorDocumentsSequence/,/SequenceDelimitationItem/p')
expect_has "$pred" "$first" "the corrected SR names the first one as its predecessor"
iod_ok "$T/sr2.dcm" "Enhanced SR"
fetch "$(at_pacs 1.2.997.1 KO)" "$T/kos.dcm"
run_rc dsrdump +Pc "$T/kos.dcm"
expect_line "$OUT" '113001,DCM,"Rejected for Quality Reasons"' "the rejection note's title"
kos=$(dcmdump "$T/kos.dcm")
expect_has "$kos" "$first" "the note rejects the first SR"
expect_has "$kos" "$firstpdf" "and the first PDF"
iod_ok "$T/kos.dcm" "rejection note"

note "an MDM^T02 for a study radlink holds: an SR at once"
make_study "$T/s2" 1 1 1.2.997.2 A2 P1 'DOE^JANE' CT
run_rc storescu -aec RADLINK 127.0.0.1 "$DICOM_PORT" "$T/s2/i1.dcm"
expect_rc 0 "storescu"
wait_cmd 30 "1\.2\.997\.2" "$RADLINK" recon list --data "$T/var"
sed -e 's/|D0|/|D2|/' -e 's/|OA9|A9|/|OA2|A2|/' "$T/d0.hl7" >"$T/d2.hl7"
send_hl7 "$T/d2.hl7"
expect_has "$(cat "$T/d2.hl7.out")" "MSA|AA|D2" "the MDM is taken"
wait_pacs 1.2.997.2 SR 1
fetch "$(at_pacs 1.2.997.2 SR)" "$T/sr3.dcm"
run_rc dsrdump +U8 +Pl "$T/sr3.dcm"
for want in 'Verification Flag *: VERIFIED' 'SMITH\^JOHN' 'No acute finding\.'; do
    expect_line "$OUT" "$want" "the MDM's SR at the PACS"
done
iod_ok "$T/sr3.dcm" "MDM's SR"

note "a report for an accession nobody ordered: held, or refused for a strict sender"
oru R4 A4 F >"$T/r4.hl7"
send_hl7 "$T/r4.hl7"
expect_has "$(cat "$T/r4.hl7.out")" "MSA|AA|R4" "held, not refused"
run_rc "$RADLINK" recon list --data "$T/var" --reports
expect_line "$OUT" "^ *[0-9]+ +A4 +final +held " "held on the exception list"
oru R5 A5 F STRICT >"$T/r5.hl7"
send_hl7 "$T/r5.hl7"
expect_has "$(cat "$T/r5.hl7.out")" "MSA|AE|R5" "refused (unmatched=refuse)"
expect_has "$(cat "$T/r5.hl7.out")" "no order and no study of accession 'A5'" "ERR says why"

note "a report that cannot be one: AE, the reason in ERR, nothing kept"
oru R3 A3 X >"$T/r3.hl7"
send_hl7 "$T/r3.hl7"
expect_has "$(cat "$T/r3.hl7.out")" "MSA|AE|R3" "refused"
expect_has "$(cat "$T/r3.hl7.out")" "OBR-25 is 'X'" "ERR says why"
oru R6 A2 F | sed 's/P1^^^GENHOSP/P9^^^GENHOSP/' >"$T/r6.hl7"
send_hl7 "$T/r6.hl7"
expect_has "$(cat "$T/r6.hl7.out")" "MSA|AE|R6" "a report naming another patient than its study's"
expect_has "$(cat "$T/r6.hl7.out")" "PID-3 names patient 'P9', but the study of accession 'A2' is patient 'P1'" \
    "ERR says why"
run_rc "$RADLINK" recon show --data "$T/var" 1.2.997.2
expect_eq "$(printf '%s\n' "$OUT" | grep -c ' A2 ')" 1 "the study keeps its one report"
run_rc "$RADLINK" recon list --data "$T/var" --reports
expect_not_has "$OUT" " A3 " "nothing kept"
expect_not_has "$OUT" " A5 " "nothing kept"
stop_engine
echo "PASS"
