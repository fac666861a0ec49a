#!/bin/sh
# Correction jobs end to end: images that disagree with the RIS are corrected
# by a `radlink worker` process and sent to the PACS (Orthanc) with C-STORE,
# verified as the engine does by default (storage commitment, then C-FIND); a
# study that agrees is sent unchanged. The PACS being down makes the job fail
# and back off and succeed once it is up; a job failing too often is dead
# until `radlink jobs retry --dead`; a killed worker is started again.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/mwl_lib.sh"
MK=$DATA/make_dicom.sh

start_orthanc pacs false
ORTHANC_PID=$(pgrep -f "^Orthanc $T/pacs/orthanc.json$")
[ -n "$ORTHANC_PID" ] || fail "no Orthanc process for $T/pacs/orthanc.json"
# pacs_down: Orthanc shut down (its REST API), and its DICOM port held bound,
# not listening, until it comes up again: down (a connection is refused at
# once), and no other test can take the port meanwhile. SO_REUSEADDR: the
# port's connections may linger in TIME_WAIT; a port the system picks for
# anyone else is never one bound already.
pacs_down() {
    curl -sf -X POST "http://127.0.0.1:$ORTHANC_HTTP/tools/shutdown" >/dev/null ||
        fail "Orthanc did not take the shutdown"
    wait_exit "$ORTHANC_PID" 30
    rm -f "$T/held.pacs"
    /usr/bin/python3 -c 'import socket, sys, time
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1])))
print("held", flush=True)
time.sleep(86400)' "$ORTHANC_DICOM" >"$T/held.pacs" 2>&1 &
    HOLDER=$!
    PIDS="$PIDS $HOLDER"
    wait_for "$T/held.pacs" held 10
}
# pacs_up: Orthanc again, on its ports and storage, told radlink's port again
# (what its REST API was told is not kept)
pacs_up() {
    kill "$HOLDER"
    wait "$HOLDER" 2>/dev/null || true
    Orthanc "$T/pacs/orthanc.json" >>"$T/pacs/orthanc.log" 2>&1 &
    ORTHANC_PID=$!
    PIDS="$PIDS $ORTHANC_PID"
    wait_until 20 "curl -sf http://127.0.0.1:$ORTHANC_HTTP/system >/dev/null"
    ORTHANC_PORT_OF_RADLINK=
    orthanc_knows_radlink
}

cat >"$T/cfg.xml" <<XML
<radlink>
  <dicom><pacs ae="ORTHANC" host="127.0.0.1" port="$ORTHANC_DICOM"/></dicom>
  <jobs workers="1" max-attempts="3" study-stable="$STABLE"/>
</radlink>
XML
start_engine --config "$T/cfg.xml"
wait_workers 1 10
{ orm O1 NW A1 S1 CT CT01 202611240930 'DOE^JANE' P1; orm O2 NW A2 S2 CT CT01 202611241030 'ROE^ANNA' P2; } >"$T/o.hl7"
send_hl7 "$T/o.hl7"
expect_eq "$(grep -c 'MSA|AA' "$T/o.hl7.out")" 2 "two orders"
SENT="sent to ORTHANC@127.0.0.1:$ORTHANC_DICOM"

note "the PACS is down: the correction job fails and backs off"
pacs_down
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

note "the PACS comes up: the corrected study arrives, and is verified there"
pacs_up
wait_job 1 done 30
run_rc "$RADLINK" jobs show --data "$T/var" 1
expect_has "$OUT" "1 instance, 1 corrected, $SENT (1, committed and verified)" "the job's result"
expect_eq "$(orthanc_tags 1.2.996.1 PatientName)" "DOE^JANE" "the PACS has the corrected name"
expect_eq "$(orthanc_tags 1.2.996.1 PatientID)" "P1" "and the corrected patient ID"
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
wait_job 2 done 30
expect_has "$("$RADLINK" jobs show --data "$T/var" 2)" "1 instance, $SENT (1, committed and verified)" "forwarded"
expect_eq "$(orthanc_tags 1.2.996.2 SOPInstanceUID)" "1.2.996.2.1" "the PACS holds it"
expect_eq "$(orthanc_tags 1.2.996.2 PatientName)" "ROE^ANNA" "unchanged"

note "a killed worker is started again"
WPID=$("$RADLINK" status --data "$T/var" | sed -n 's/^local worker 0 pid \([0-9]*\),.*/\1/p')
[ -n "$WPID" ] || fail "status names the local worker's pid: $("$RADLINK" status --data "$T/var")"
kill -9 "$WPID"
wait_cmd 10 "^local worker 0 pid [0-9]+, restarted 1 times$" "$RADLINK" status --data "$T/var"
NEW=$("$RADLINK" status --data "$T/var" | sed -n 's/^local worker 0 pid \([0-9]*\),.*/\1/p')
[ "$NEW" != "$WPID" ] || fail "the restarted worker has the killed one's pid"
# the engine saw the killed one end before it started the new one: its place
# at the dispatcher is gone already (no job can go to it), not after the
# worker timeout
run_rc "$RADLINK" status --data "$T/var"
! printf '%s\n' "$OUT" | grep -q "^worker [0-9]* pid $WPID on " || fail "the killed worker is still offered jobs: $OUT"
wait_cmd 10 "^worker [0-9]+ pid $NEW on " "$RADLINK" status --data "$T/var"

note "failing too often: dead, until retried"
pacs_down
$MK "$T/bad3.dcm" 1.2.996.3.1 1.2.996.3 1.2.996.3.1 A1 P1 'DOE^X' CT 20261124 19700412 F RPA1
run_rc storescu -aec RADLINK 127.0.0.1 "$DICOM_PORT" "$T/bad3.dcm"
wait_job 3 dead 40
run_rc "$RADLINK" jobs list --data "$T/var" --state dead
expect_line "$OUT" "^3 +dead +study +3 " "listed as dead after 3 attempts"
pacs_up
run_rc "$RADLINK" jobs retry --data "$T/var" --dead
expect_has "$OUT" "1 job back in line" "retry --dead"
wait_job 3 done 30
expect_eq "$(orthanc_tags 1.2.996.3 PatientName)" "DOE^JANE" "the PACS has the corrected study"

note "a killed engine leaves no worker behind, and starts again on its ports"
kill -9 "$ENGINE_PID"
wait "$ENGINE_PID" 2>/dev/null || true
# ([i]: the pattern does not match the shell that runs pgrep)
wait_until 5 "! pgrep -f 'worker --connect [i]pc://$(realpath "$T/var")' >/dev/null"
start_engine --config "$T/cfg.xml"
stop_engine
note "ok"
