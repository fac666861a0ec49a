#!/bin/sh
# The built-in routes (routes/default.xml) do what their comments say, each
# asserted on what a sender and an administrator see: an order without a
# patient ID is AE naming the field; one without a station AE title is AA,
# written without a station (found by modality and date) and with a warning
# in the log; a merge of a patient radlink has never seen is recorded, AA
# with a warning; results and MDM documents go to the destination called
# "results" (queued while it is down); anything else is accepted and logged.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/mwl_lib.sh"

hold_port DOWN
cat >"$T/radlink.xml" <<XML
<radlink>
  <destinations><destination name="results" host="127.0.0.1" port="$DOWN"/></destinations>
</radlink>
XML
start_engine --config "$T/radlink.xml"
seq_of() { "$RADLINK" msg list --data "$T/var" | awk -v c="$1" '$0 ~ " "c" " {print $1; exit}'; }

note "orders: without a patient ID, AE naming the field"
orm D1 NW ACC1 S1 CT CT01 202612060930 'DOE^JANE' P1 | sed 's/PID|1||P1^^^GENHOSP^MR|/PID|1|||/' >"$T/d1.hl7"
grep -q 'PID|1|||' "$T/d1.hl7" || fail "the fixture has no PID-3"
send_hl7 "$T/d1.hl7"
expect_has "$(cat "$T/d1.hl7.out")" "MSA|AE|D1" "AE"
expect_has "$(cat "$T/d1.hl7.out")" "PID" "the ERR names the patient's field"

note "orders: without a station AE title, AA with a warning, found by modality and date"
orm D2 NW ACC2 S2 CT '' 202612060930 'DOE^JANE' P2 >"$T/d2.hl7"
send_hl7 "$T/d2.hl7"
expect_has "$(cat "$T/d2.hl7.out")" "MSA|AA|D2" "AA"
run_rc "$RADLINK" msg show --data "$T/var" "$(seq_of D2)"
expect_has "$OUT" "no station AE title" "the log says the warning"
run_rc "$RADLINK" wl list --data "$T/var"
expect_has "$OUT" "ACC2" "the step is on the worklist"

note "patients: a merge of a patient radlink has never seen is recorded, AA with a warning"
printf 'MSH|^~\\&|RIS|GENHOSP|RADLINK|RAD|20261206090000||ADT^A40^ADT_A39|D3|P|2.5.1\rEVN|A40|20261206\rPID|1||P8^^^GENHOSP^MR||NEW^NAME\rMRG|P9^^^GENHOSP^MR\r\n' >"$T/d3.hl7"
send_hl7 "$T/d3.hl7"
expect_has "$(cat "$T/d3.hl7.out")" "MSA|AA|D3" "AA"
run_rc "$RADLINK" msg show --data "$T/var" "$(seq_of D3)"
expect_has "$OUT" "warning" "with a warning in the log"

note "results and MDM documents: queued for \"results\" while it is down"
printf 'MSH|^~\\&|RIS|GENHOSP|RADLINK|RAD|20261206090000||ORU^R01|D4|P|2.5.1\rPID|1||P2^^^GENHOSP^MR||DOE^JANE\rOBR|1|OACC2|FACC2|P1^PROC|||20261206091500|||||||||||ACC2||||||F\rOBX|1|TX|IMP^Impression||No acute finding.||||||F\r\n' >"$T/d4.hl7"
printf 'MSH|^~\\&|RIS|GENHOSP|RADLINK|RAD|20261206090000||MDM^T02|D5|P|2.5.1\rEVN|T02|20261206\rPID|1||P2^^^GENHOSP^MR||DOE^JANE\rTXA|1|RAD|TX|20261206091500||||||||DOC1|||ACC2||AU\rOBX|1|TX|IMP^Impression||No acute finding.||||||F\r\n' >"$T/d5.hl7"
send_hl7 "$T/d4.hl7"
send_hl7 "$T/d5.hl7"
expect_has "$(cat "$T/d4.hl7.out")" "MSA|AA|D4" "the result is AA"
expect_has "$(cat "$T/d5.hl7.out")" "MSA|AA|D5" "the document is AA"
wait_cmd 10 "^\(2 pending, 0 parked\)$" "$RADLINK" queue list --data "$T/var" --dest results

note "everything else: accepted and logged"
printf 'MSH|^~\\&|RIS|GENHOSP|RADLINK|RAD|20261206090000||SIU^S12|D6|P|2.5.1\rSCH|1\r\n' >"$T/d6.hl7"
send_hl7 "$T/d6.hl7"
expect_has "$(cat "$T/d6.hl7.out")" "MSA|AA|D6" "AA"
run_rc "$RADLINK" msg list --data "$T/var" --type SIU
expect_line "$OUT" " accepted +AA +SIU\^S12 +D6 " "in the log, accepted"
stop_engine
echo "PASS"
