#!/bin/sh
# Correction jobs end to end: images that disagree with the RIS are corrected
# by a `radlink worker` process and sent to a PACS (DCMTK's storescp) with
# C-STORE; a study that agrees is sent unchanged. The PACS being down makes
# the job fail and back off and succeed once it is up; a job failing too often
# is dead until `radlink jobs retry --dead`; a killed worker is started again.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/mwl_lib.sh"
MK=$DATA/make_dicom.sh
PACS_PORT=$(free_port)
mkdir -p "$T/pacs"
start_pacs() {
    storescp -aet PACS --output-directory "$T/pacs" "$PACS_PORT" >"$T/pacs.log" 2>&1 &
    PACS_PID=$!
    PIDS="$PIDS $PACS_PID"
    i=0
    until /usr/bin/python3 -c "import socket; socket.create_connection(('127.0.0.1',$PACS_PORT),1)" 2>/dev/null; do
        i=$((i + 1)); [ $i -le 50 ] || fail "storescp did not start"; sleep 0.1
    done
}

# storescp is no PACS: it can neither commit to what it holds nor be asked
printf '<radlink><dicom><pacs ae="PACS" host="127.0.0.1" port="%s" verify="none"/></dicom><jobs workers="1" max-attempts="3" study-stable="1"/></radlink>\n' "$PACS_PORT" >"$T/cfg.xml"
start_engine --config "$T/cfg.xml" --pacs "PACS@127.0.0.1:$PACS_PORT"
wait_workers 1 10
{ orm O1 NW A1 S1 CT CT01 202611240930 'DOE^JANE' P1; orm O2 NW A2 S2 CT CT01 202611241030 'ROE^ANNA' P2; } >"$T/o.hl7"
send_hl7 "$T/o.hl7"

note "the PACS is down: the correction job fails and backs off"
$MK "$T/bad.dcm" 1.2.996.1.1 1.2.996.1 1.2.996.1.1 A1 WRONG 'DOE^JANET' CT 20261124 19700412 F RPA1
run_rc storescu -aec RADLINK 127.0.0.1 "$DICOM_PORT" "$T/bad.dcm"
expect_rc 0 "stored"
wait_job 1 failed 15
run_rc "$RADLINK" jobs show --data "$T/var" 1
expect_line "$OUT" "^  attempts +1$" "one attempt"
expect_has "$OUT" "last error  sending:" "says what failed"
expect_line "$OUT" "^  not before " "and when it goes again"
[ -z "$(ls "$T/var/spool/work")" ] || fail "a failed attempt leaves no file: $(ls -R "$T/var/spool/work")"
expect_has "$(dcmdump "$T/var/spool/1.2.996.1/1.2.996.1.1/1.2.996.1.1.dcm")" "[DOE^JANET]" \
    "the spool keeps what was received until the PACS has the correction"

note "the PACS comes up: the corrected study arrives"
start_pacs
wait_job 1 done 20
F=$(ls "$T/pacs"/*1.2.996.1.1* 2>/dev/null | head -1)
[ -n "$F" ] || fail "nothing arrived at the PACS: $(ls "$T/pacs")"
expect_has "$(dcmdump "$F")" "[DOE^JANE]" "the PACS has the corrected name"
expect_has "$(dcmdump "$F")" "(0010,0020) LO [P1]" "and the corrected patient ID"
expect_has "$(dcmdump "$T/var/spool/1.2.996.1/1.2.996.1.1/1.2.996.1.1.dcm")" "[DOE^JANE]" \
    "the spool holds the corrected file once the PACS has it"
run_rc "$RADLINK" recon show --data "$T/var" 1.2.996.1
expect_line "$OUT" "^  state +corrected" "the study is corrected"
expect_line "$OUT" "^  PatientName +DOE\^JANE$" "its index holds the corrected name"
expect_has "$OUT" "PatientName            'DOE^JANET' -> 'DOE^JANE', job 1, disagreed with the RIS (order or patient record)" "the change is recorded"
[ -z "$(ls "$T/var/spool/work")" ] || fail "the work directory is cleared"

note "a study that agrees is sent as it is"
$MK "$T/ok.dcm" 1.2.996.2.1 1.2.996.2 1.2.996.2.1 A2 P2 'ROE^ANNA' CT 20261124 19700412 F RPA2
run_rc storescu -aec RADLINK 127.0.0.1 "$DICOM_PORT" "$T/ok.dcm"
wait_job 2 done 15
expect_has "$("$RADLINK" jobs show --data "$T/var" 2)" "1 instance, sent to PACS@127.0.0.1:$PACS_PORT (1)" "forwarded"

note "a killed worker is started again"
WPID=$("$RADLINK" status --data "$T/var" | sed -n 's/^local worker 0 pid \([0-9]*\),.*/\1/p')
[ -n "$WPID" ] || fail "status names the local worker's pid: $("$RADLINK" status --data "$T/var")"
kill -9 "$WPID"
wait_cmd 10 "^local worker 0 pid [0-9]+, restarted 1 times$" "$RADLINK" status --data "$T/var"
wait_workers 1 10

note "failing too often: dead, until retried"
kill "$PACS_PID"; wait "$PACS_PID" 2>/dev/null || true
$MK "$T/bad3.dcm" 1.2.996.3.1 1.2.996.3 1.2.996.3.1 A1 P1 'DOE^X' CT 20261124 19700412 F RPA1
run_rc storescu -aec RADLINK 127.0.0.1 "$DICOM_PORT" "$T/bad3.dcm"
wait_job 3 dead 40
run_rc "$RADLINK" jobs list --data "$T/var" --state dead
expect_line "$OUT" "^3 +dead +study +3 " "listed as dead after 3 attempts"
start_pacs
run_rc "$RADLINK" jobs retry --data "$T/var" --dead
expect_has "$OUT" "1 job back in line" "retry --dead"
wait_job 3 done 20

note "a killed engine leaves no worker behind, and starts again on its ports"
kill -9 "$ENGINE_PID"
wait "$ENGINE_PID" 2>/dev/null || true
i=0
while pgrep -f "worker --connect ipc://$(realpath "$T/var")" >/dev/null; do
    i=$((i + 1)); [ $i -le 50 ] || fail "workers outlived the engine"; sleep 0.1
done
start_engine --config "$T/cfg.xml" --pacs "PACS@127.0.0.1:$PACS_PORT"
stop_engine
note "ok"
