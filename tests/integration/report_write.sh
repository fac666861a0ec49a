#!/bin/sh
# Reports into the PACS (dicom_report_write, through the report_write tool),
# read back as a user's tools show them:
# - a final report (two sections, several texts, a name with Latin-1
#   accents): dsrdump shows the title, the sections and every text, FINAL,
#   COMPLETE, VERIFIED by the observer with his ID; the file is in
#   ISO_IR 100 with Latin-1 bytes; dcmdump shows the Referenced Request
#   Sequence and the evidence grouped by series;
# - a preliminary one: PRELIMINARY, PARTIAL, UNVERIFIED, no observer;
# - a corrected one with an addendum in Greek: ISO_IR 192, the predecessor
#   named;
# - a PDF: dcm2pdf gives back the very bytes (odd length: the pad byte does
#   not come back), Modality DOC, the MIME type, the title;
# - dciodvfy finds no error in any of them;
# - what cannot be written is refused with the reason, and no file is left.
# Usage: report_write.sh REPORT_WRITE
. "$(dirname "$0")/lib.sh"
RW=${1:?the report_write binary}
for tool in dsrdump dcmdump dcm2pdf dciodvfy; do
    command -v $tool >/dev/null 2>&1 || skip "$tool is missing (dcmtk, dicom3tools)"
done

U=1.2.826.0.1.3680043.10.4242
CT=1.2.840.10008.5.1.4.1.1.2
cat >"$T/study.txt" <<EOF
study.study_uid=$U.1
study.study_date=20240102
study.study_time=100000
study.study_id=S1001
study.accession=ACC1001
study.referring=SMITH^JOHN
study.patient_id=PID1001
study.issuer=HOSP
study.patient_name=DOE^JANE
study.birth_date=19700101
study.sex=F
study.requested_procedure=RP1001
study.series_uid=$U.2
study.series_number=900
evidence=$CT $U.10 $U.11
evidence=$CT $U.10 $U.12
evidence=$CT $U.20 $U.21
EOF
cat "$T/study.txt" - >"$T/final.txt" <<'EOF'
status=F
accession=ACC1001
placer=PL1001
filler=FL1001
patient_id=PID1001
patient_name=DOE^JANE
observer_name=Bûc^Jérôme
observer_id=RAD42
observed_date=20240102
observed_time=101500
content_date=20240102
content_time=113000
title=CT Chest
procedure=CTCHEST^99RIS^CT chest with contrast
section=findings^18782-3^LN^Radiology Study observation
text=The lungs are clear.\nNo pleural effusion.
text=
text=Sternum and ribs intact; no fracture à signaler.
section=impression
text=No acute disease.
EOF

# dciodvfy's error lines (its warnings, e.g. on the private coding scheme
# "99RIS" of the RIS's codes, are not failures: PS3.16 8 allows 99 schemes)
iod_errors() { dciodvfy "$1" 2>&1 | grep -a '^Error' || true; }
check_iod() {
    e=$(iod_errors "$1")
    [ -z "$e" ] || fail "$2: dciodvfy: $e"
}
sr_dump() { dsrdump +U8 +Pc +Pl "$1"; }
scs_of() { dcmdump +P 0008,0005 "$1" | sed -n 's/.*CS \[\([^]]*\)\].*/\1/p'; }

note "a final report: two sections, its texts, verified by Bûc^Jérôme"
run_rc "$RW" "$T/final.txt" "$T/final.dcm" study.sop_uid=$U.3
expect_rc 0 "the final report"
run_rc sr_dump "$T/final.dcm"
expect_rc 0 "dsrdump reads it: $ERR"
expect_line "$OUT" '^Basic Text SR Document$' "the SOP class"
expect_line "$OUT" '^Patient +: DOE\^JANE \(F, 1970-01-01, #PID1001:HOSP\)$' "the patient"
expect_line "$OUT" '^Preliminary Flag +: FINAL$' "preliminary flag"
expect_line "$OUT" '^Completion Flag +: COMPLETE$' "completion flag"
expect_line "$OUT" '^Verification Flag +: VERIFIED$' "verification flag"
expect_line "$OUT" '^Verifying Observers : 2024-01-02 11:30:00, Bûc\^Jérôme \(RAD42,99RIS,"Bûc\^Jérôme"\), radlink$' \
    "the verifying observer, his ID, when"
expect_line "$OUT" '^Content Date/Time +: 2024-01-02 11:30:00$' "content date and time"
expect_line "$OUT" '^<CONTAINER:\(18748-4,LN,"CT Chest"\)=SEPARATE>$' "the title"
expect_line "$OUT" '^  <has obs context PNAME:\(121008,DCM,"Person Observer Name"\)="Bûc\^Jérôme">$' "the observer"
expect_line "$OUT" '^  <has concept mod CODE:\(121058,DCM,"Procedure reported"\)=\(CTCHEST,99RIS,"CT chest with contrast"\)>$' \
    "the procedure reported"
expect_line "$OUT" '^  <contains CONTAINER:\(121070,DCM,"Findings"\)=SEPARATE>$' "the findings section"
expect_line "$OUT" '^    <contains TEXT:\(18782-3,LN,"Radiology Study observation"\)="The lungs are clear.\\r\\nNo pleural effusion.">$' \
    "a text with a line break (CR LF), named by its OBX-3"
expect_line "$OUT" '^    <contains TEXT:\(18782-3,LN,"Radiology Study observation"\)="Sternum and ribs intact; no fracture à signaler.">$' \
    "a Latin-1 text"
expect_line "$OUT" '^  <contains CONTAINER:\(121072,DCM,"Impressions"\)=SEPARATE>$' "the impression section"
expect_line "$OUT" '^    <contains TEXT:\(121073,DCM,"Impression"\)="No acute disease.">$' "the impression"
n=$(printf '%s\n' "$OUT" | grep -c '<contains TEXT')
expect_eq "$n" 3 "texts written (the blank one left out)"
expect_eq "$(scs_of "$T/final.dcm")" "ISO_IR 100" "Latin-1 holds every value"
LC_ALL=C grep -q "$(printf 'B\373c^J\351r\364me')" "$T/final.dcm" || fail "the observer's name is not in Latin-1 bytes"
LC_ALL=C grep -q "$(printf '\303\273')" "$T/final.dcm" && fail "UTF-8 bytes in an ISO_IR 100 file"
run_rc dcmdump +P 0040,a370 "$T/final.dcm"
for want in "UI \[$U.1\].*StudyInstanceUID" "SH \[ACC1001\].*AccessionNumber" "SH \[RP1001\].*RequestedProcedureID" \
    "LO \[PL1001\].*PlacerOrderNumber" "LO \[FL1001\].*FillerOrderNumber" "LO \[CT chest with contrast\].*RequestedProcedureDescription"; do
    expect_line "$OUT" "$want" "the Referenced Request Sequence"
done
run_rc dcmdump +P 0040,a375 "$T/final.dcm"
expect_line "$OUT" "ReferencedSeriesSequence" "the evidence"
expect_eq "$(printf '%s\n' "$OUT" | grep -c 'SeriesInstanceUID')" 2 "the evidence's series"
expect_eq "$(printf '%s\n' "$OUT" | grep -c 'ReferencedSOPInstanceUID')" 3 "the evidence's instances"
expect_line "$OUT" "Sequence with explicit length #=2\).*ReferencedSOPSequence" "two instances in the first series"
run_rc dcmdump +P 0008,0060 +P 0020,000e +P 0008,0018 +P 0020,0011 "$T/final.dcm"
expect_line "$OUT" 'CS \[SR\]' "Modality SR"
expect_line "$OUT" "UI \[$U.2\]" "the series given"
expect_line "$OUT" "UI \[$U.3\]" "the SOP Instance UID given"
expect_line "$OUT" 'IS \[900\]' "the series number"
check_iod "$T/final.dcm" "the final report"

note "a preliminary report: PARTIAL, UNVERIFIED"
run_rc "$RW" "$T/final.txt" "$T/prelim.dcm" status=P study.sop_uid=$U.4
expect_rc 0 "the preliminary report"
run_rc sr_dump "$T/prelim.dcm"
expect_line "$OUT" '^Preliminary Flag +: PRELIMINARY$' "preliminary flag"
expect_line "$OUT" '^Completion Flag +: PARTIAL$' "completion flag"
expect_line "$OUT" '^Verification Flag +: UNVERIFIED$' "verification flag"
expect_not_has "$OUT" "Verifying Observers" "no verifying observer"
check_iod "$T/prelim.dcm" "the preliminary report"

note "a corrected report with an addendum in Greek: UTF-8, its predecessor named"
run_rc "$RW" "$T/final.txt" "$T/corr.dcm" status=C study.sop_uid=$U.5 \
    "predecessor=1.2.840.10008.5.1.4.1.1.88.11 $U.2 $U.3" section=addendum "text=Προσθήκη: χωρίς αλλαγές."
expect_rc 0 "the corrected report"
run_rc sr_dump "$T/corr.dcm"
expect_line "$OUT" '^Completion Flag +: COMPLETE$' "completion flag"
expect_line "$OUT" '^Verification Flag +: VERIFIED$' "verification flag"
expect_line "$OUT" '^Predecessor Docs +: 1$' "the predecessor"
expect_line "$OUT" '^  <contains CONTAINER:\(121078,DCM,"Addendum"\)=SEPARATE>$' "the addendum section"
expect_line "$OUT" '^    <contains TEXT:\(121078,DCM,"Addendum"\)="Προσθήκη: χωρίς αλλαγές.">$' "the Greek text"
expect_line "$OUT" '="Sternum and ribs intact; no fracture à signaler.">$' "the Latin-1 text, now in UTF-8"
expect_line "$OUT" 'Bûc\^Jérôme \(RAD42,99RIS' "the observer"
expect_eq "$(scs_of "$T/corr.dcm")" "ISO_IR 192" "beyond Latin-1: UTF-8"
run_rc dcmdump +P 0040,a360 "$T/corr.dcm"
expect_line "$OUT" "UI \[$U.3\].*ReferencedSOPInstanceUID" "the predecessor's instance"
expect_line "$OUT" "UI \[$U.2\].*SeriesInstanceUID" "the predecessor's series"
expect_line "$OUT" "UI =BasicTextSRStorage" "the predecessor's class"
check_iod "$T/corr.dcm" "the corrected report"

note "a PDF: the same bytes back"
# a minimal one-page PDF, 193 bytes (odd: DICOM pads it)
printf '%%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 200 200]>>endobj\ntrailer<</Root 1 0 R>>\n%%%%EOF\n' >"$T/report.pdf"
expect_eq "$(($(wc -c <"$T/report.pdf") % 2))" 1 "an odd-length PDF"
run_rc "$RW" "$T/final.txt" "$T/pdf.dcm" kind=pdf pdf="$T/report.pdf" study.series_uid=$U.6 study.sop_uid=$U.7
expect_rc 0 "the PDF"
run_rc dcm2pdf "$T/pdf.dcm" "$T/back.pdf"
expect_rc 0 "dcm2pdf: $ERR"
cmp "$T/report.pdf" "$T/back.pdf" || fail "dcm2pdf's PDF differs from the one written"
run_rc dcmdump "$T/pdf.dcm"
for want in 'UI =EncapsulatedPDFStorage.*SOPClassUID' 'CS \[DOC\].*Modality' 'CS \[YES\].*BurnedInAnnotation' \
    'LO \[application/pdf\].*MIMETypeOfEncapsulatedDocument' 'ST \[CT Chest\].*DocumentTitle' \
    'SH \[18748-4\].*CodeValue' 'CS \[VERIFIED\].*VerificationFlag' 'SH \[ACC1001\].*AccessionNumber' \
    "UI \[$U.1\].*StudyInstanceUID" 'UL 193 .*EncapsulatedDocumentLength' 'CS \[ISO_IR 100\]'; do
    expect_line "$OUT" "$want" "the PDF's attributes"
done
check_iod "$T/pdf.dcm" "the PDF"

note "an ORU^R01 as a reporting system sends it, read as the engine reads it (report_from_hl7)"
# Latin-1 (MSH-18 8859/1), several OBX per section, \.br\ and repetitions,
# a numeric OBX (an Enhanced SR's NUM), the observer in OBR-32
printf '%s\r' \
  'MSH|^~\&|RIS|GENHOSP|RADLINK|RAD|20261124110000||ORU^R01^ORU_R01|RPT1|P|2.5.1||||||8859/1' \
  'PID|1||PID1001^^^HOSP^MR||DOE^JANE||19700101|F' \
  'ORC|RE|PL1001|FL1001' \
  'OBR|1|PL1001|FL1001|CTCHEST^CT Chest^99RIS|||20240102101500|||||||||||ACC1001|RP1001|||20240102113000|||F|||||||RAD42&B'"$(printf '\373')"'c&J'"$(printf '\351')"'r'"$(printf '\364')"'me' \
  'OBX|1|TX|&GDT|1|The lungs are clear.\.br\No pleural effusion.||||||F' \
  'OBX|2|NM|VOL^Lesion volume^99RIS|1|73.5|mL^milliliter^UCUM|||||F' \
  'OBX|3|TX|&GDT|2|Heart size normal.~Mediastinum unremarkable.||||||F' \
  'OBX|4|TX|&IMP|1|No acute finding.||||||F' >"$T/oru.hl7"
run_rc "$RW" "$T/study.txt" "$T/oru.dcm" hl7="$T/oru.hl7" study.sop_uid=$U.30
expect_rc 0 "an SR from the ORU: $ERR"
run_rc dsrdump +U8 +Pc +Pl +Ps "$T/oru.dcm"
for want in 'Completion Flag *: COMPLETE' 'Verification Flag *: VERIFIED' 'Bûc\^Jérôme' \
    'The lungs are clear\.' 'No pleural effusion\.' 'Heart size normal\.' \
    'Mediastinum unremarkable\.' 'No acute finding\.' 'Impression' 'Finding'; do
    expect_line "$OUT" "$want" "the ORU's SR"
done
expect_line "$OUT" '^Enhanced SR Document' "a numeric OBX makes an Enhanced SR"
expect_line "$OUT" 'NUM:\(VOL,99RIS,"Lesion volume"\)="73\.5" \(mL,UCUM,"milliliter"\)' \
    "the number in its section, with its units"
check_iod "$T/oru.dcm" "the ORU's Enhanced SR"
B64=$(base64 -w0 "$T/report.pdf")
printf '%s\r' \
  'MSH|^~\&|RIS|GENHOSP|RADLINK|RAD|20261124110000||ORU^R01^ORU_R01|RPT2|P|2.5.1' \
  'PID|1||PID1001^^^HOSP^MR||DOE^JANE||19700101|F' \
  'OBR|1|PL1001|FL1001|CTCHEST^CT Chest^99RIS|||20240102101500|||||||||||ACC1001|RP1001|||20240102113000|||F' \
  "OBX|1|ED|PDF^Report^99RIS||RIS^AP^PDF^Base64^$B64||||||F" >"$T/oru_pdf.hl7"
run_rc "$RW" "$T/study.txt" "$T/oru_pdf.dcm" hl7="$T/oru_pdf.hl7" kind=pdf study.sop_uid=$U.31
expect_rc 0 "a PDF from the ORU's OBX ED: $ERR"
run_rc dcm2pdf "$T/oru_pdf.dcm" "$T/oru_back.pdf"
expect_rc 0 "dcm2pdf: $ERR"
cmp "$T/report.pdf" "$T/oru_back.pdf" || fail "the PDF the ORU carried does not come back identical"
printf '%s\r' \
  'MSH|^~\&|RIS|GENHOSP|RADLINK|RAD|20261124110000||ORU^R01^ORU_R01|RPT3|P|2.5.1' \
  'PID|1||PID1001||DOE^JANE' \
  'OBR|1|PL1001|FL1001|CTCHEST|||||||||||||||||||||X' \
  'OBX|1|TX|&GDT||text' >"$T/oru_bad.hl7"
run_rc "$RW" "$T/study.txt" "$T/none.dcm" hl7="$T/oru_bad.hl7" study.sop_uid=$U.32
expect_rc 1 "an ORU whose OBR-25 is unknown"
expect_has "$ERR" "OBR-25 is 'X'" "the reason names the field"

note "an MDM^T02 (no OBR): TXA-15 the accession, TXA-17 AU final, TXA-22 the authenticator"
printf '%s\r' \
  'MSH|^~\&|DICT|GENHOSP|RADLINK|RAD|20261124110000||MDM^T02^MDM_T02|DOC1|P|2.5.1||||||UNICODE UTF-8' \
  'EVN|T02|20261124110000' \
  'PID|1||PID1001^^^HOSP^MR||DOE^JANE||19700101|F' \
  'PV1|1|O' \
  'TXA|1|RAD|TX|20240102101500||20240102113000||||||DOC1||PL1001|ACC1001||AU|||||RAD7^Nørgaard^Åse' \
  'OBX|1|TX|IMP^Impression^99RIS||Ingen akut sygdom.||||||F' >"$T/mdm.hl7"
run_rc "$RW" "$T/study.txt" "$T/mdm.dcm" hl7="$T/mdm.hl7" study.sop_uid=$U.33
expect_rc 0 "an SR from the MDM: $ERR"
run_rc sr_dump "$T/mdm.dcm"
for want in '^Basic Text SR Document' 'Completion Flag *: COMPLETE' 'Verification Flag *: VERIFIED' \
    'Nørgaard\^Åse' 'Ingen akut sygdom\.' 'Impressions'; do
    expect_line "$OUT" "$want" "the MDM's SR"
done
check_iod "$T/mdm.dcm" "the MDM's SR"
sed 's/|AU|/|CA|/' "$T/mdm.hl7" >"$T/mdm_ca.hl7"
run_rc "$RW" "$T/study.txt" "$T/none.dcm" hl7="$T/mdm_ca.hl7" study.sop_uid=$U.34
expect_rc 1 "a cancelled document"
expect_has "$ERR" "TXA-17 is CA" "the reason names the field"

note "refused, with the reason, nothing written"
run_rc "$RW" "$T/study.txt" "$T/none.dcm" study.sop_uid=$U.8 section=findings "text="
expect_rc 1 "a report without text"
expect_has "$ERR" "no text to write" "the reason"
printf 'not a PDF\n' >"$T/fake.pdf"
run_rc "$RW" "$T/final.txt" "$T/none.dcm" kind=pdf pdf="$T/fake.pdf" study.sop_uid=$U.8
expect_rc 1 "a PDF that is none"
expect_has "$ERR" 'does not start with "%PDF-"' "the reason"
run_rc "$RW" "$T/final.txt" "$T/none.dcm" kind=pdf study.sop_uid=$U.8
expect_rc 1 "no PDF"
expect_has "$ERR" "no PDF to encapsulate" "the reason"
run_rc "$RW" "$T/final.txt" "$T/none.dcm" study.sop_uid=1.2.x
expect_rc 1 "a SOP Instance UID that is none"
expect_has "$ERR" '"1.2.x" is not a UID' "the reason"
run_rc "$RW" "$T/final.txt" "$T/none.dcm" study.sop_uid=$U.8 "text=$(printf 'bad \377 byte')"
expect_rc 1 "a text that is not UTF-8"
expect_has "$ERR" "a text is not UTF-8" "the reason"
[ ! -e "$T/none.dcm" ] || fail "a file was written for a refused report"
echo "PASS"
