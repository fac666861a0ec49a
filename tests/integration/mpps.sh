#!/bin/sh
# Modality Performed Procedure Step end to end: dcmjs-dimse's N-CREATE and
# N-SET as the modality (tests/js/mpps_scu.js), DCMTK's findscu reading the
# worklist, python3-hl7's MLLP server as the RIS that receives the status
# messages. Also every refusal PS3.4 F.7 asks for, the exception list, and
# DISCONTINUED.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/mwl_lib.sh"
. "$(dirname "$0")/mpps_lib.sh"

SINK_PORT=$(free_port)
/usr/bin/python3 "$SRC/tests/integration/mllp_sink.py" "$SINK_PORT" "$T/sink.log" >"$T/sink.out" 2>&1 &
PIDS="$PIDS $!"
wait_for "$T/sink.out" ready 10
cat >"$T/cfg.xml" <<XML
<radlink>
  <destinations><destination name="ris" host="127.0.0.1" port="$SINK_PORT"/></destinations>
</radlink>
XML
start_engine --config "$T/cfg.xml"

# orders: the station is OBR-21; the study UID radlink makes is read back
orm O1 NW A1 S1 CT CT01 202611240930 'DOE^JANE' P1 >"$T/o1.hl7"
orm O2 NW A2 S2 CT CT01 202611241000 'ROE^RICHARD' P2 >"$T/o2.hl7"
send_hl7 "$T/o1.hl7"
send_hl7 "$T/o2.hl7"
expect_has "$(cat "$T/o1.hl7.out" "$T/o2.hl7.out")" "MSA|AA|O2" "orders accepted"
study_of() { "$RADLINK" wl show --data "$T/var" "$1" | awk '$2 == "StudyInstanceUID" {print $3}'; }
S1=$(study_of A1) S2=$(study_of A2)
[ -n "$S1" ] || fail "no study UID for A1"

query steps <<'DUMP'
(0008,0050) SH []
(0040,0100) SQ (Sequence with undefined length)
(fffe,e000) na (Item with undefined length)
(0040,0001) AE [CT01]
(0040,0009) SH []
(0040,0020) CS []
(fffe,e00d) na (ItemDelimitationItem)
(fffe,e0dd) na (SequenceDelimitationItem)
DUMP
status_of() { # status_of ACCESSION: the SPS status findscu shows
    find_wl "$DICOM_PORT" steps
    awk -v a="[$1]" '/Find Response: [0-9]+ \(Pending\)/ {r=0}
        /\(0008,0050\)/ && index($0, a) {r=1}
        r && /\(0040,0020\)/ {match($0, /\[[^]]*\]/); s = substr($0, RSTART+1, RLENGTH-2); sub(/ +$/, "", s); print s; exit}' "$T/steps.rsp"
}
expect_eq "$(status_of A1)" "SCHEDULED" "the step is scheduled"


note "N-CREATE IN PROGRESS: committed, the step STARTED, IP to the RIS"
{ echo '['; create 1.2.826.0.1.3680043.2.1125.9.1 A1 RPA1 S1 "$S1"; echo ']'; } >"$T/c1.json"
mpps c1
expect_has "$OUT" "create 1.2.826.0.1.3680043.2.1125.9.1 0000" "N-CREATE succeeds"
expect_eq "$(status_of A1)" "STARTED" "the worklist step is STARTED"
wait_for "$T/sink.log.full" "ORC|SC|OA1|FA1||IP" 10
expect_has "$(cat "$T/sink.log.full")" "OBR|1|OA1|FA1|PA1^PROC A1^LOCAL|||20261124093500" "OBR-7 is the performed start"
expect_has "$(cat "$T/sink.log.full")" "OBX|1|ST|110180^Study Instance UID^DCM||$S1" "the study UID in an OBX"
expect_has "$(grep '^OBR' "$T/sink.log.full")" "|A1|RPA1|S1|" "OBR-18/19/20 from the order"

note "refusals: duplicate 0111, not IN PROGRESS 0106, type 1 missing 0120, unknown 0112, not settable 0105"
{ echo '['; create 1.2.826.0.1.3680043.2.1125.9.1 A1 RPA1 S1 "$S1"; echo ','
  create 1.2.826.0.1.3680043.2.1125.9.2 A2 RPA2 S2 "$S2" COMPLETED; echo ','
  create 1.2.826.0.1.3680043.2.1125.9.3 A2 RPA2 S2 "$S2" 'IN PROGRESS' ''; echo ','
  finish 1.2.826.0.1.3680043.2.1125.9.99 COMPLETED; echo ','
  echo '{"op": "set", "uid": "1.2.826.0.1.3680043.2.1125.9.1", "dataset": {"PatientName": "X^Y"}}'
  echo ']'; } >"$T/bad.json"
mpps bad
expect_line "$OUT" "^create 1.2.826.0.1.3680043.2.1125.9.1 0111 " "a second N-CREATE of one instance"
expect_line "$OUT" "^create 1.2.826.0.1.3680043.2.1125.9.2 0106 .*IN PROGRESS" "created COMPLETED"
expect_line "$OUT" "^create 1.2.826.0.1.3680043.2.1125.9.3 0121 .*Modality" "an empty Modality"
expect_line "$OUT" "^set 1.2.826.0.1.3680043.2.1125.9.99 0112 " "N-SET of an unknown step"
expect_line "$OUT" "^set 1.2.826.0.1.3680043.2.1125.9.1 0105 .*PatientName" "PatientName may not be set"
expect_eq "$(status_of A2)" "SCHEDULED" "nothing refused changed the worklist"

note "N-SET COMPLETED: the step leaves the worklist's answers, CM to the RIS"
{ echo '['; finish 1.2.826.0.1.3680043.2.1125.9.1 COMPLETED; echo ']'; } >"$T/s1.json"
mpps s1
expect_has "$OUT" "set 1.2.826.0.1.3680043.2.1125.9.1 0000" "N-SET COMPLETED succeeds"
wait_for "$T/sink.log.full" "ORC|SC|OA1|FA1||CM" 10
expect_eq "$(status_of A1)" "" "a COMPLETED step is not answered (mwl-hide)"
run_rc "$RADLINK" wl show --data "$T/var" A1
expect_line "$OUT" "ScheduledProcedureStepStatus +COMPLETED" "but the entry says COMPLETED"
mpps s1
expect_line "$OUT" "^set 1.2.826.0.1.3680043.2.1125.9.1 0110 .*COMPLETED" "a COMPLETED step may not be updated"

note "DISCONTINUED, and a step radlink does not know: the exception list"
{ echo '['; create 1.2.826.0.1.3680043.2.1125.9.4 A2 RPA2 S2 "$S2"; echo ','
  finish 1.2.826.0.1.3680043.2.1125.9.4 DISCONTINUED; echo ','
  create 1.2.826.0.1.3680043.2.1125.9.5 UNKNOWN9 RP9 S9 1.2.3.4.5; echo ']'; } >"$T/c2.json"
mpps c2
expect_eq "$(echo "$OUT" | grep -c ' 0000 ')" 3 "all three succeed"
wait_for "$T/sink.log.full" "ORC|SC|OA2|FA2||DC" 10
run_rc "$RADLINK" mpps list --data "$T/var"
expect_rc 0 "mpps list"
expect_line "$OUT" "^1.2.826.0.1.3680043.2.1125.9.1 +COMPLETED +CT +CT01 .* A1/RPA1/S1" "list: COMPLETED, its step"
expect_line "$OUT" "^1.2.826.0.1.3680043.2.1125.9.4 +DISCONTINUED " "list: DISCONTINUED"
run_rc "$RADLINK" mpps list --data "$T/var" --unmatched
expect_line "$OUT" "^1.2.826.0.1.3680043.2.1125.9.5 +IN PROGRESS .*not on the worklist" "the unknown step is on the exception list"
expect_has "$OUT" "(1 step on the exception list)" "and only it"
run_rc "$RADLINK" mpps show --data "$T/var" 1.2.826.0.1.3680043.2.1125.9.1
expect_has "$OUT" "state        COMPLETED" "show: the state"
expect_has "$OUT" "(0040,0340) SQ" "show: the merged data set has the performed series"
expect_eq "$(grep -c '^MSH' "$T/sink.log.full")" 4 "four status messages: IP, CM, IP, DC"

stop_engine
note "ok"
