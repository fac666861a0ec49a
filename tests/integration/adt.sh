#!/bin/sh
# ADT through the built-in routes' `patient` action: an update carries the
# new name, birth date and sex to the worklist (queried with findscu) and
# re-checks stored studies (which then disagree with the RIS); A40 moves a
# prior identity's orders to the surviving patient; a merge naming an
# patient radlink has not seen is recorded (AE with <patient-id
# unknown-prior="refuse">); A47 changes an identifier; the patient is the
# PID-3 repetition with an ID (MR first), else PID-2.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/mwl_lib.sh"
MK=$DATA/make_dicom.sh

adt() { # adt CTRL EVENT PID NAME BIRTH SEX [MRG-1]
    printf 'MSH|^~\\&|ADT|GENHOSP|RADLINK|RAD|20261123110000||ADT^%s^ADT_A01|%s|P|2.5.1\rEVN|%s|20261123110000\rPID|1||%s^^^GENHOSP^MR||%s||%s|%s\rPV1|1|O\r' \
        "$2" "$1" "$2" "$3" "$4" "$5" "$6"
    [ -z "${7:-}" ] || printf 'MRG|%s^^^GENHOSP^MR\r' "$7"
    printf '\n'
}

start_engine
{ orm O1 NW A1 S1 CT CT01 202611240930 'DOE^JANE' P1; orm O2 NW A2 S2 MR MR01 202611250930 'DOE^J' P2; } >"$T/orders.hl7"
send_hl7 "$T/orders.hl7"
expect_eq "$(grep -a -c 'MSA|AA' "$T/orders.hl7.out")" 2 "orders accepted"
$MK "$T/i1.dcm" 1.2.998.1.1 1.2.998.1 1.2.998.1.1 A1 P1 'DOE^JANE' CT 20261124 19700412 F RPA1
run_rc storescu -aec RADLINK 127.0.0.1 "$DICOM_PORT" "$T/i1.dcm"
expect_rc 0 "images stored"
run_rc "$RADLINK" recon show --data "$T/var" 1.2.998.1
expect_line "$OUT" "^  state +matched" "images agree with the order"

note "A08: the update reaches the worklist and the stored study"
adt U1 A08 P1 'DOE^JANET^Q' 19700413 F >"$T/a08.hl7"
send_hl7 "$T/a08.hl7"
expect_has "$(cat "$T/a08.hl7.out")" "MSA|AA|U1" "A08 accepted"
run_rc "$RADLINK" wl show --data "$T/var" A1
expect_line "$OUT" "PatientName +DOE\\^JANET\\^Q" "the worklist has the new name"
expect_line "$OUT" "PatientBirthDate +19700413" "and the new birth date"
query by_pid <<'DUMP'
(0008,0050) SH []
(0010,0010) PN []
(0010,0020) LO [P1]
(0040,0100) SQ (Sequence with undefined length)
(fffe,e000) na (Item with undefined length)
(0040,0009) SH []
(fffe,e00d) na (ItemDelimitationItem)
(fffe,e0dd) na (SequenceDelimitationItem)
DUMP
find_wl "$DICOM_PORT" by_pid
expect_has "$(cat "$T/by_pid.rsp")" "DOE^JANET^Q" "a modality sees the new name"
run_rc "$RADLINK" recon show --data "$T/var" 1.2.998.1
expect_line "$OUT" "^  state +correct(ing|ed)" "the stored study disagreed and is (being) corrected"
expect_has "$OUT" "PatientName            'DOE^JANE' -> 'DOE^JANET^Q'" "name to correct"
expect_has "$OUT" "PatientBirthDate       '19700412' -> '19700413'" "birth date to correct"

note "A40 with an unknown prior patient: refused where the routes say so, else recorded"
adt M0 A40 P1 'DOE^JANET^Q' 19700413 F P99 >"$T/a40bad.hl7"
sed 's|<mpps-status|<patient-id unknown-prior="refuse"/>\n  <mpps-status|' "$SRC/routes/default.xml" >"$T/strict.xml"
run_rc "$RADLINK" routes test --data "$T/var" "$T/strict.xml" "$T/a40bad.hl7"
expect_rc 1 "unknown-prior=refuse"
expect_has "$OUT" "MSA|AE|M0" "unknown prior: AE"
expect_has "$OUT" "prior patient P99 of GENHOSP is not known" "says why"
send_hl7 "$T/a40bad.hl7"
expect_has "$(cat "$T/a40bad.hl7.out")" "MSA|AA|M0" "by default the merge is recorded"
run_rc "$RADLINK" msg list --data "$T/var" --type 'ADT^A40*'
expect_has "$OUT" "prior patient P99 of GENHOSP was not known: the surviving patient is recorded" "and said so"

note "A40: the prior identity's order moves to the surviving patient"
adt M1 A40 P1 'DOE^JANET^Q' 19700413 F P2 >"$T/a40.hl7"
send_hl7 "$T/a40.hl7"
expect_has "$(cat "$T/a40.hl7.out")" "MSA|AA|M1" "merge accepted"
run_rc "$RADLINK" wl show --data "$T/var" A2
expect_line "$OUT" "PatientID +P1$" "A2 now belongs to P1"
expect_line "$OUT" "PatientName +DOE\\^JANET\\^Q" "with the surviving patient's name"
run_rc "$RADLINK" wl list --data "$T/var" --patient P2
expect_has "$OUT" "(0 entries)" "nothing left under P2"

note "A47: an identifier change"
adt C1 A47 P5 'DOE^JANET^Q' 19700413 F P1 >"$T/a47.hl7"
send_hl7 "$T/a47.hl7"
expect_has "$(cat "$T/a47.hl7.out")" "MSA|AA|C1" "A47 accepted"
run_rc "$RADLINK" wl list --data "$T/var" --patient P5
expect_has "$OUT" "(2 entries)" "both orders under the new identifier"

note "A40 moves a study no order claims; a prior patient of another issuer is unknown"
$MK "$T/i44.dcm" 1.2.998.4.1 1.2.998.4 1.2.998.4.1 ZZ44 P44 'LOST^SOUL' US 20261201 19800101 M
run_rc storescu -aec RADLINK 127.0.0.1 "$DICOM_PORT" "$T/i44.dcm"
expect_rc 0 "an image without an order"
adt M4 A40 P5 'DOE^JANET^Q' 19700413 F P44 >"$T/a40u.hl7"
send_hl7 "$T/a40u.hl7"
expect_has "$(cat "$T/a40u.hl7.out")" "MSA|AA|M4" "merge of a patient known from images"
run_rc "$RADLINK" recon show --data "$T/var" 1.2.998.4
expect_line "$OUT" "^  state +correct(ing|ed)" "the study is moved by a correction"
expect_has "$OUT" "PatientID              'P44' -> 'P5'" "to the surviving patient ID"
printf 'MSH|^~\\&|ADT|GENHOSP|RADLINK|RAD|20261123110000||ADT^A40^ADT_A39|M5|P|2.5.1\rEVN|A40|20261123110000\rPID|1||P6^^^OTHER^MR||X^Y\rMRG|P5^^^OTHER^MR\r\n' >"$T/a40o.hl7"
send_hl7 "$T/a40o.hl7"
expect_has "$(cat "$T/a40o.hl7.out")" "MSA|AA|M5" "P5 of OTHER is not known (P5 of GENHOSP is): recorded"
run_rc "$RADLINK" wl list --data "$T/var" --patient P6
expect_has "$OUT" "(0 entries)" "GENHOSP's orders of P5 stay where they are"

note "the patient ID: the PID-3 repetition with an ID, MR first; else PID-2"
printf 'MSH|^~\\&|ADT|GENHOSP|RADLINK|RAD|20261123110000||ADT^A04^ADT_A01|R1|P|2.5.1\rEVN|A04|20261123110000\rPID|1||~123-45-6789^^^SSA^SS~P70^^^GENHOSP^MR||REP^SECOND\r\n' >"$T/rep.hl7"
printf 'MSH|^~\\&|ADT|GENHOSP|RADLINK|RAD|20261123110000||ADT^A04^ADT_A01|R2|P|2.5.1\rEVN|A04|20261123110000\rPID|1|P71^^^GENHOSP^MR|||ONLY^PIDTWO\r\n' >"$T/pid2.hl7"
cat "$T/rep.hl7" "$T/pid2.hl7" >"$T/ids.hl7"
run_rc "$RADLINK" routes test --data "$T/var" "$SRC/routes/default.xml" "$T/rep.hl7"
expect_has "$OUT" "A04: patient P70/GENHOSP (REP^SECOND" "the MR number, not the SSN"
send_hl7 "$T/ids.hl7"
expect_has "$(cat "$T/ids.hl7.out")" "MSA|AA|R1" "an ID in the third repetition"
expect_has "$(cat "$T/ids.hl7.out")" "MSA|AA|R2" "an ID only in PID-2"
orm O9 NW A9 S9 CT CT01 202611260930 'REP^SECOND' '~123-45-6789^^^SSA^SS~P70^^^GENHOSP^MR' >"$T/o9.hl7"
send_hl7 "$T/o9.hl7"
run_rc "$RADLINK" wl show --data "$T/var" A9
expect_line "$OUT" "PatientID +P70$" "the worklist takes the same identifier"
expect_line "$OUT" "IssuerOfPatientID +GENHOSP$" "and its issuer"

note "the trace shows the action"
adt N1 A04 P7 'NEW^PATIENT' 19900101 M >"$T/a04.hl7"
run_rc "$RADLINK" routes test "$SRC/routes/default.xml" "$T/a04.hl7"
expect_rc 0 "routes test of an A04"
expect_has "$OUT" "A04: patient P7/GENHOSP (NEW^PATIENT, 19900101, M): " "trace"
expect_has "$OUT" "(a dry run: what follows is undone, nothing is sent)" "said to be a dry run"
before=$(msg_count accepted)
run_rc "$RADLINK" routes test --data "$T/var" "$SRC/routes/default.xml" "$T/a04.hl7"
expect_rc 0 "routes test through the running engine"
expect_eq "$(msg_count accepted)" "$before" "a dry run logs nothing"
stop_engine
note "ok"
