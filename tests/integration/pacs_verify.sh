#!/bin/sh
# A real PACS (Orthanc, from Debian) behind radlink: a correction made before
# the PACS ever had the study goes in place, with the old values recorded in
# the instances, and is verified (storage commitment, then C-FIND: the PACS
# shows what the RIS says). A later correction (an ADT rename) that Orthanc
# silently ignores - it keeps the instances it has by default - is not called
# done: the job is unverified, with what the PACS shows and what to do.
# Orthanc with "OverwriteInstances": true takes the resent instance.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/mwl_lib.sh"
MK=$DATA/make_dicom.sh
start_orthanc pacs1 false
P1=$ORTHANC_DICOM
cat >"$T/cfg.xml" <<XML
<radlink>
  <dicom><pacs ae="ORTHANC" host="127.0.0.1" port="$P1" commit-timeout="10"/></dicom>
  <jobs workers="1" study-stable="$STABLE"/>
  <routes file="$SRC/routes/default.xml"/>
</radlink>
XML
start_engine --config "$T/cfg.xml"
wait_workers 1 10
orm O1 NW A1 S1 CT CT01 202611240930 'DOE^JANE' P1 >"$T/o.hl7"
send_hl7 "$T/o.hl7"
expect_has "$(cat "$T/o.hl7.out")" "MSA|AA|O1" "the order"

note "a misspelt study the PACS never had: corrected in place, sent, verified"
make_study "$T/s1" 1 2 1.2.994.1 A1 P1 'DOE^JAEN'
run_rc storescu -aec RADLINK 127.0.0.1 "$DICOM_PORT" "$T/s1/i1.dcm" "$T/s1/i2.dcm"
expect_rc 0 "storescu"
wait_job 1 done 30
run_rc "$RADLINK" jobs show --data "$T/var" 1
expect_has "$OUT" "2 instances, 2 corrected, sent to ORTHANC@127.0.0.1:$P1 (2, committed and verified)" "the job's result"
expect_eq "$(orthanc_tags 1.2.994.1 PatientName | uniq)" "DOE^JANE" "Orthanc holds the corrected name"
orthanc_file 1.2.994.1 1.2.994.1.1.1 "$T/at_pacs.dcm"
D=$(dcmdump "$T/at_pacs.dcm")
expect_has "$D" "(0400,0561) SQ" "an Original Attributes Sequence"
expect_has "$D" "(0010,0010) PN [DOE^JAEN]" "with the old name"
expect_has "$D" "(0400,0565) CS [CORRECT]" "the reason"
expect_has "$D" "(0400,0563) LO [radlink]" "the modifying system"
expect_has "$D" "(0008,0005) CS [ISO_IR 192]" "the character set kept"
run_rc "$RADLINK" recon show --data "$T/var" 1.2.994.1
expect_line "$OUT" "^  state +corrected" "the study is corrected"

note "an ADT rename: Orthanc keeps what it has; the job is unverified, not done"
printf 'MSH|^~\\&|RIS|GENHOSP|RADLINK|RAD|20261124110000||ADT^A08|AD1|P|2.5.1\rEVN|A08|20261124110000\rPID|1||P1^^^GENHOSP^MR||DOE^JOAN||19700412|F\r' >"$T/a08.hl7"
send_hl7 "$T/a08.hl7"
expect_has "$(cat "$T/a08.hl7.out")" "MSA|AA|AD1" "the ADT"
wait_job 2 unverified 40
run_rc "$RADLINK" jobs list --data "$T/var" --state unverified
expect_line "$OUT" "^ *2 +unverified" "listed as unverified"
run_rc "$RADLINK" jobs show --data "$T/var" 2
expect_has "$OUT" "PatientName=DOE^JANE (should be DOE^JOAN)" "what the PACS shows"
expect_has "$OUT" 'update="iocm"' "and what to do"
expect_eq "$(orthanc_tags 1.2.994.1 PatientName | uniq)" "DOE^JANE" "Orthanc indeed kept the old name"
run_rc "$RADLINK" recon show --data "$T/var" 1.2.994.1
expect_line "$OUT" "^  state +unverified" "the study says so too"

note "Orthanc's storage commitment jobs all succeeded (it took radlink's N-EVENT-REPORT answers)"
orthanc "/jobs?expand" | /usr/bin/python3 -c '
import json, sys
jobs = [j for j in json.load(sys.stdin) if j["Type"] == "StorageCommitmentScp"]
bad = [j["State"] + ": " + j.get("ErrorDescription", "") + " " + j.get("ErrorDetails", "") for j in jobs if j["State"] != "Success"]
print(len(jobs), "; ".join(bad))' >"$T/jobs.txt"
expect_eq "$(cat "$T/jobs.txt")" "2 " "two commitment jobs, none failed"
stop_engine
note "ok"
