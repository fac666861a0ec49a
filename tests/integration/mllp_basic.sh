#!/bin/sh
# The engine as an HL7 endpoint: python3-hl7's mllp_send and radlink send get
# AA for every message, bad messages get AR, everything is in the message log,
# and the log is readable while the engine runs and after it stopped.
. "$(dirname "$0")/lib.sh"
H=$DATA/hl7

start_engine

# python3-hl7's own client (a peer nobody here wrote), three messages, LF-separated
cat "$H/orm_o01_nw.hl7" "$H/adt_a08.hl7" "$H/oru_r01_20obx.hl7" | tr '\r' '\n' >"$T/three.txt"
mllp_send --loose --file "$T/three.txt" --port "$PORT" 127.0.0.1 >"$T/mllp_send.out"
expect_eq "$(grep -a -c 'MSA|AA|' "$T/mllp_send.out")" 3 "mllp_send: three AA"
expect_has "$(cat "$T/mllp_send.out")" "MSA|AA|MSG00003" "ACK echoes the ORU's MSH-10"

# radlink send: a batch file, one MSA line per message
run_rc "$RADLINK" send --to "127.0.0.1:$PORT" "$H/batch.hl7"
expect_rc 0 "radlink send batch"
expect_eq "$OUT" "MSA|AA|B0001
MSA|AA|B0002
MSA|AA|B0003" "one MSA per message"

# a malformed message: AR with the reason, exit 1, still logged
printf 'MSH|^~\\&|RIS|GENHOSP|RL|RAD|2026||ORM^O01|BAD1|P|2.5\rPI\r' >"$T/bad.hl7"
run_rc "$RADLINK" send --to "127.0.0.1:$PORT" "$T/bad.hl7"
expect_rc 1 "AR makes send fail"
expect_has "$OUT" "MSA|AR|BAD1|" "AR echoes MSH-10"
expect_has "$OUT" "truncated segment" "AR says why"

# an unsupported version
sed 's/|P|2\.5\r/|P|3.1\r/' "$H/adt_a08.hl7" >"$T/v3.hl7"
run_rc "$RADLINK" send --to "127.0.0.1:$PORT" "$T/v3.hl7"
expect_eq "$OUT" "MSA|AR|MSG00002" "unsupported version gets AR (text in ERR-8: MSH-12 says 3.1)"

# the log, read while the engine runs
run_rc "$RADLINK" msg list --data "$T/var"
expect_rc 0 "msg list"
expect_eq "$(echo "$OUT" | tail -n +2 | wc -l)" 8 "eight messages logged"
expect_eq "$(msg_count accepted)" 6 "six accepted"
expect_eq "$(msg_count rejected)" 2 "two rejected"
run_rc "$RADLINK" msg list --data "$T/var" --type 'ADT^A08'
expect_eq "$(echo "$OUT" | tail -n +2 | wc -l)" 5 "--type ADT^A08 (4 accepted, the v3.1 one rejected)"
run_rc "$RADLINK" msg list --data "$T/var" --type 'OR?' --since 1h --limit 1
expect_eq "$(echo "$OUT" | tail -n +2 | wc -l)" 1 "--limit"
seq=$("$RADLINK" msg list --data "$T/var" --status rejected | awk 'NR==2 {print $1}')
run_rc "$RADLINK" msg show --data "$T/var" "$seq"
expect_rc 0 "msg show"
expect_has "$OUT" "status       rejected (AR)" "show: outcome"
expect_has "$OUT" "error        byte" "show: the error"
expect_has "$OUT" "MSA|AR|BAD1" "show: the ACK that was sent"
run_rc "$RADLINK" msg list --data "$T/var" --status rejected
expect_has "$OUT" "MSH-12 version '3.1' is not one radlink reads" "unsupported version logged"
run_rc "$RADLINK" msg search --data "$T/var" 'PID-3.1=B*'
expect_rc 0 "msg search"
expect_eq "$(echo "$OUT" | tail -n +2 | awk '{print $7}' | tr '\n' ' ')" "B0001 B0002 B0003 " "search by wildcard"
run_rc "$RADLINK" msg search --data "$T/var" 'PID-3.1=NOPE'
expect_rc 1 "search without a match"
run_rc "$RADLINK" msg show --data "$T/var" 999
expect_rc 1 "unknown message"

# one engine per data directory
run_rc "$RADLINK" serve --http 0 --data "$T/var" --mllp auto --dicom 0
expect_rc 1 "second engine on the same data"
expect_has "$ERR" "is in use by another radlink serve (pid $ENGINE_PID)" "says which process"

stop_engine
expect_has "$(cat "$ENGINE_LOG")" "serve.stop accepted=6" "shutdown summary"
run_rc "$RADLINK" msg list --data "$T/var" --status accepted
expect_eq "$(echo "$OUT" | tail -n +2 | wc -l)" 6 "log readable after stop"
echo ok
