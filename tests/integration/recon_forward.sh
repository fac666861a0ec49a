#!/bin/sh
# Studies no order claims, with a real PACS (Orthanc) behind radlink. Held
# (<recon unmatched="hold" forward-after="1h">): the PACS gets nothing, the
# exception list shows the study and its age; `recon forward` sends one as it
# is. With a forward-after of seconds (a new policy, picked up at the next start) the
# held study and a new one are sent as they came, unchanged at the PACS; an
# order that comes later claims the forwarded study.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/mwl_lib.sh"
start_orthanc pacs false
config() {
    cat >"$T/cfg.xml" <<XML
<radlink>
  <dicom><pacs ae="ORTHANC" host="127.0.0.1" port="$ORTHANC_DICOM" commit-timeout="10"/></dicom>
  <jobs workers="1" study-stable="$STABLE"/>
  <recon unmatched="hold" forward-after="$1"/>
  <routes file="$SRC/routes/default.xml"/>
</radlink>
XML
}
config 1h
start_engine --config "$T/cfg.xml"
wait_workers 1 10
held_at_pacs() { orthanc "/studies" | /usr/bin/python3 -c 'import json,sys; print(len(json.load(sys.stdin)))'; }

note "two studies without an order: held, on the exception list with their age"
# beside them, a study its order claims, stored in the same association:
# once it is at the PACS, the held ones were as stable as it and are due
# nothing for an hour
orm F1 NW M1 S1 CT CT01 202611240930 'DOE^JANE' P1 >"$T/o.hl7"
send_hl7 "$T/o.hl7"
expect_has "$(cat "$T/o.hl7.out")" "MSA|AA|F1" "the order of the matched study"
make_study "$T/o1" 1 2 1.2.993.1 X1 Q1 'NOBODY^ONE' US
make_study "$T/o2" 1 1 1.2.993.2 X2 Q2 'NOBODY^TWO' US
make_study "$T/m1" 1 1 1.2.993.3 M1 P1 'DOE^JANE' CT
run_rc storescu -aec RADLINK 127.0.0.1 "$DICOM_PORT" "$T"/o1/*.dcm "$T"/o2/*.dcm "$T/m1/i1.dcm"
expect_rc 0 "storescu"
wait_cmd 30 "^ *[0-9]+ +done +study .* 1\.2\.993\.3 " "$RADLINK" jobs list --data "$T/var"
expect_eq "$(orthanc_tags 1.2.993.3 SOPInstanceUID)" "1.2.993.3.1.1" "the matched study is at the PACS"
run_rc "$RADLINK" recon list --data "$T/var" --unmatched
expect_line "$OUT" "^1\.2\.993\.1 +unmatched +Q1 .* [0-9]+s NOBODY\^ONE" "the first, with its age"
expect_line "$OUT" "^1\.2\.993\.2 +unmatched +Q2 " "the second"
run_rc "$RADLINK" jobs list --data "$T/var" --state pending
expect_line "$OUT" "^ *[0-9]+ +pending +study .* 1\.2\.993\.1 " "the first waits"
expect_line "$OUT" "^ *[0-9]+ +pending +study .* 1\.2\.993\.2 " "the second waits"
expect_eq "$(held_at_pacs)" 1 "the PACS has nothing of them"

note "recon forward sends one as it is"
run_rc "$RADLINK" recon forward --data "$T/var" 1.2.993.1
expect_rc 0 "recon forward"
expect_line "$OUT" "^study 1\.2\.993\.1: job [0-9]+ sends it as it is, without an order, to ORTHANC$" "the answer"
J=$(printf '%s\n' "$OUT" | sed -n 's/.*job \([0-9]*\) sends.*/\1/p')
wait_job "$J" done 30
run_rc "$RADLINK" jobs show --data "$T/var" "$J"
expect_has "$OUT" "committed and verified" "verified at the PACS"
run_rc "$RADLINK" recon show --data "$T/var" 1.2.993.1
expect_line "$OUT" "^  state +forwarded" "the study is forwarded"
expect_eq "$(orthanc_tags 1.2.993.1 PatientName | uniq)" "NOBODY^ONE" "the PACS holds it as it came"
expect_eq "$(orthanc_tags 1.2.993.1 SOPInstanceUID | wc -l)" 2 "both instances"
expect_eq "$(held_at_pacs)" 2 "and nothing else held"
expect_eq "$(orthanc_tags 1.2.993.2 SOPInstanceUID)" "" "the second stays held"
run_rc "$RADLINK" recon forward --data "$T/var" 9.9.9
expect_rc 1 "an unknown study"
expect_has "$ERR" "no study 9.9.9" "says so"

note "a matched study is not forwarded by hand"
wait_cmd 10 "^  state +(matched|corrected)" "$RADLINK" recon show --data "$T/var" 1.2.993.3
run_rc "$RADLINK" recon forward --data "$T/var" 1.2.993.3
expect_rc 1 "recon forward of a matched study"
expect_has "$ERR" "recon forward is for studies no order claims" "says why"
stop_engine

# forward-after is scaled: "held at first" is read right after the store,
# and must be read before the policy's time has passed, however slow the run
AFTER=$(scaled 5)
note "forward-after=${AFTER}s: the held study goes at the next start, a new one after ${AFTER} s"
config "${AFTER}s"
start_engine --config "$T/cfg.xml"
wait_workers 1 10
wait_cmd 30 "^  state +forwarded" "$RADLINK" recon show --data "$T/var" 1.2.993.2
expect_eq "$(orthanc_tags 1.2.993.2 PatientName)" "NOBODY^TWO" "the held study, as it came"
make_study "$T/o4" 1 1 1.2.993.4 X4 Q4 'NOBODY^FOUR' MR
run_rc storescu -aec RADLINK 127.0.0.1 "$DICOM_PORT" "$T/o4/i1.dcm"
expect_rc 0 "storescu"
run_rc "$RADLINK" recon show --data "$T/var" 1.2.993.4
expect_line "$OUT" "^  state +unmatched" "held at first"
wait_cmd 30 "^  state +forwarded" "$RADLINK" recon show --data "$T/var" 1.2.993.4
expect_eq "$(orthanc_tags 1.2.993.4 PatientName)" "NOBODY^FOUR" "then sent as it came"

note "its order comes later: the forwarded study is reconciled"
orm F2 NW X4 S4 MR MR01 202611240930 'NOBODY^FOUR' Q4 >"$T/late.hl7"
send_hl7 "$T/late.hl7"
expect_has "$(cat "$T/late.hl7.out")" "MSA|AA|F2" "the late order"
run_rc "$RADLINK" recon show --data "$T/var" 1.2.993.4
expect_has "$OUT" "order        accession X4" "claimed by its order"
stop_engine
note "ok"
