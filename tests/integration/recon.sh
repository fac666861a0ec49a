#!/bin/sh
# Reconciliation end to end: orders over MLLP, images over C-STORE (DCMTK's
# storescu). A study is matched by accession, by study UID or by patient +
# date + modality; disagreeing headers become discrepancies; a study without
# an order goes to the exception list; an administrator links it by hand.
# The fallback never takes an order another study has, nor guesses between
# two; a link to an order for another modality needs --force.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/mwl_lib.sh"
MK=$DATA/make_dicom.sh

start_engine --workers 0 # reconciliation only: no job runs, states stay as found
{
    orm R1 NW A1 S1 CT CT01 202611240930 'DOE^JANE' P1 | sed 's/\r$//'
    printf 'ZDS|1.2.999.5^RADLINK^Application^DICOM\r\n'
    orm R2 NW A2 S2 MR MR01 202611250800 'ROE^ANNA' P2
} >"$T/orders.hl7"
send_hl7 "$T/orders.hl7"
expect_eq "$(grep -a -c 'MSA|AA' "$T/orders.hl7.out")" 2 "orders accepted"

store() { run_rc storescu -aec RADLINK 127.0.0.1 "$DICOM_PORT" "$@"; expect_rc 0 "storescu $*"; }

note "agreeing images: matched by accession"
$MK "$T/ok.dcm" 1.2.999.5.1.1 1.2.999.5 1.2.999.5.1 A1 P1 'DOE^JANE' CT 20261124 19700412 F RPA1
store "$T/ok.dcm"
run_rc "$RADLINK" recon show --data "$T/var" 1.2.999.5
expect_rc 0 "recon show"
expect_line "$OUT" "^  state +matched" "matched"
expect_has "$OUT" "order        accession A1, procedure RPA1, step S1" "the order it matched"

note "disagreeing images: discrepancies"
$MK "$T/bad.dcm" 1.2.999.6.1.1 1.2.999.6 1.2.999.6.1 A1 WRONG 'DOE^JANET' CT 20261124 19700412 M RPA1
store "$T/bad.dcm"
run_rc "$RADLINK" recon show --data "$T/var" 1.2.999.6
expect_line "$OUT" "^  state +correcting" "marked for correction"
expect_has "$OUT" "PatientID              'WRONG' -> 'P1'" "patient ID discrepancy"
expect_has "$OUT" "PatientName            'DOE^JANET' -> 'DOE^JANE'" "name discrepancy"
expect_has "$OUT" "PatientSex             'M' -> 'F'" "sex discrepancy"
expect_has "$OUT" "StudyInstanceUID       '1.2.999.6' -> '1.2.999.5'" "the order fixed the study UID"
run_rc "$RADLINK" recon list --data "$T/var"
expect_line "$OUT" "^1\.2\.999\.6 +correcting .* 1 +4 " "four discrepancies in the list"

note "no accession: matched by patient, date and modality"
$MK "$T/noacc.dcm" 1.2.999.7.1.1 1.2.999.7 1.2.999.7.1 '' P2 'ROE^ANNA' MR 20261125
store "$T/noacc.dcm"
run_rc "$RADLINK" recon show --data "$T/var" 1.2.999.7
expect_has "$OUT" "order        accession A2" "found by patient+date+modality"
expect_has "$OUT" "AccessionNumber        '' -> 'A2'" "the missing accession is a discrepancy"

note "no order at all: the exception list"
$MK "$T/orphan.dcm" 1.2.999.8.1.1 1.2.999.8 1.2.999.8.1 ZZZ P9 'NOBODY^KNOWN' US 20261201
store "$T/orphan.dcm"
run_rc "$RADLINK" recon list --data "$T/var" --unmatched
expect_line "$OUT" "^1\.2\.999\.8 +unmatched .* 1 +0 [0-9]+s NOBODY\^KNOWN" "on the exception list, with its age"
expect_has "$OUT" "(1 study without an order)" "only that one"
run_rc "$RADLINK" recon list --data "$T/var"
expect_has "$OUT" "(4 studies)" "all studies"

note "an administrator links it: not to an order for another modality, unless forced"
run_rc "$RADLINK" recon link --data "$T/var" 1.2.999.8 A2
expect_rc 1 "an US study onto an MR order"
expect_has "$ERR" "study 1.2.999.8 holds US images, the order A2 is for MR: not linked (--force links it anyway)" "says why"
run_rc "$RADLINK" recon show --data "$T/var" 1.2.999.8
expect_line "$OUT" "^  state +unmatched" "still on the exception list"
run_rc "$RADLINK" recon link --data "$T/var" --force 1.2.999.8 A2
expect_rc 0 "recon link --force"
expect_has "$OUT" "linked to accession A2: correcting" "link result"
expect_has "$OUT" "note: study 1.2.999.7 matched this order too" "the administrator is told who else has it"
run_rc "$RADLINK" recon show --data "$T/var" 1.2.999.8
expect_has "$OUT" "PatientID              'P9' -> 'P2'" "compared with the linked order"
run_rc "$RADLINK" recon link --data "$T/var" 1.2.999.8 NOSUCH
expect_rc 1 "link to an unknown accession"
expect_has "$ERR" "no worklist entry with accession number NOSUCH" "says why"
run_rc "$RADLINK" recon show --data "$T/var" 9.9.9
expect_rc 1 "unknown study"

note "a second unordered study of the same patient, day and modality: not onto the taken order"
$MK "$T/second.dcm" 1.2.999.11.1.1 1.2.999.11 1.2.999.11.1 '' P2 'ROE^ANNA' MR 20261125
store "$T/second.dcm"
run_rc "$RADLINK" recon show --data "$T/var" 1.2.999.11
expect_line "$OUT" "^  state +unmatched" "on the exception list, not matched to A2"
expect_line "$OUT" "^  A2 +taken: matched by study 1\.2\.999\.7$" "the taken order is named"
run_rc "$RADLINK" recon list --data "$T/var"
expect_line "$OUT" "^1\.2\.999\.11 +unmatched" "unmatched in the list"

note "two orders of one patient, day and modality: the administrator chooses"
{
    orm R4 NW A4 S4 MR MR01 202611270800 'TWO^ORDERS' P4 | sed 's/\r$//'
    orm R5 NW A5 S5 MR MR01 202611271400 'TWO^ORDERS' P4
} >"$T/two.hl7"
send_hl7 "$T/two.hl7"
expect_eq "$(grep -a -c 'MSA|AA' "$T/two.hl7.out")" 2 "both orders"
$MK "$T/which.dcm" 1.2.999.12.1.1 1.2.999.12 1.2.999.12.1 '' P4 'TWO^ORDERS' MR 20261127
store "$T/which.dcm"
run_rc "$RADLINK" recon show --data "$T/var" 1.2.999.12
expect_line "$OUT" "^  state +unmatched" "neither order is taken by guess"
expect_line "$OUT" "^  A4 +candidate: step S4, MR .*at 0800" "the first candidate"
expect_line "$OUT" "^  A5 +candidate: step S5, MR .*at 1400" "the second candidate"
run_rc "$RADLINK" recon list --data "$T/var" --unmatched
expect_line "$OUT" "^1\.2\.999\.12 +unmatched +P4 .* 1 +2 [0-9]+s TWO\^ORDERS" "two candidates and the study's age"
run_rc "$RADLINK" recon link --data "$T/var" 1.2.999.12 A5
expect_rc 0 "the administrator's choice"
expect_has "$OUT" "linked to accession A5: correcting, 2 discrepancies" "matched to A5 (its accession and procedure ID to fill in)"

note "images before their order: matched when the order comes"
$MK "$T/early.dcm" 1.2.999.9.1.1 1.2.999.9 1.2.999.9.1 A3 P3 'EARLY^BIRD' CT 20261126 19700412 F RPA3
store "$T/early.dcm"
run_rc "$RADLINK" recon show --data "$T/var" 1.2.999.9
expect_line "$OUT" "^  state +unmatched" "no order yet"
orm R3 NW A3 S3 CT CT01 202611261000 'EARLY^BIRD' P3 >"$T/late.hl7"
send_hl7 "$T/late.hl7"
expect_has "$(cat "$T/late.hl7.out")" "MSA|AA|R3" "the late order"
run_rc "$RADLINK" recon show --data "$T/var" 1.2.999.9
expect_line "$OUT" "^  state +matched" "matched once the order came"
expect_has "$OUT" "order        accession A3, procedure RPA3, step S3" "by its accession"

note "an instance sent again under another study leaves the first"
$MK "$T/moved.dcm" 1.2.999.5.1.1 1.2.999.10 1.2.999.10.1 A1 P1 'DOE^JANE' CT 20261124 19700412 F RPA1
store "$T/moved.dcm"
run_rc "$RADLINK" recon list --data "$T/var"
expect_line "$OUT" "^1\.2\.999\.5 .* 0 +0 " "the first study has no instance left"
expect_line "$OUT" "^1\.2\.999\.10 .* 1 +1 " "the second has it (and a study UID that is not the order's)"
[ -z "$(find "$T/var/spool/1.2.999.5" -name '*.dcm')" ] || fail "the old spool file is gone"
stop_engine
note "ok"
