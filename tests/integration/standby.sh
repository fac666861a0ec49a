#!/bin/sh
# Failover on one machine: an active engine and a standby (`serve
# --standby`) on the same data directory and ports. Four senders that retry
# as a RIS does (python3-hl7's MLLPClient) send while the active engine is
# killed with SIGKILL: the standby takes the data directory's lock, starts
# within seconds, the senders' retries are answered by it, and every
# message ever answered AA is in its log. The takeover time is printed.
. "$(dirname "$0")/lib.sh"

start_engine --workers 0
ACTIVE=$ENGINE_PID
"$RADLINK" serve --data "$T/var" --mllp "$PORT" --dicom "$DICOM_PORT" --http "$HTTP_PORT" \
    --workers 0 --standby >"$T/standby.log" 2>&1 &
STANDBY=$!
PIDS="$PIDS $STANDBY"
wait_for "$T/standby.log" "serve.standby" 10
sleep 0.3
expect_not_has "$(cat "$T/standby.log")" "serve.start " "the standby waits"
kill -0 "$STANDBY" || fail "the standby exited: $(cat "$T/standby.log")"

note "four retrying senders; the active engine is killed with SIGKILL mid-way"
/usr/bin/python3 "$DATA/retry_sender.py" 127.0.0.1 "$PORT" 4 400 "$T/acked.txt" 60 >"$T/sender.out" 2>&1 &
SENDER=$!
PIDS="$PIDS $SENDER"
i=0
until [ "$(curl -s "http://127.0.0.1:$HTTP_PORT/metrics" | awk '/^radlink_messages_logged / { print $2 }')" -ge 200 ] 2>/dev/null; do
    i=$((i + 1)); [ $i -lt 200 ] || fail "the senders did not get going"; sleep 0.05
done
before=$(curl -s "http://127.0.0.1:$HTTP_PORT/metrics" | awk '/^radlink_messages_logged / { print $2 }')
t0=$(date +%s%3N)
kill -9 "$ACTIVE"
i=0
until curl -sf -o /dev/null "http://127.0.0.1:$HTTP_PORT/readyz"; do
    i=$((i + 1)); [ $i -lt 500 ] || fail "the standby did not take over: $(tail -5 "$T/standby.log")"; sleep 0.01
done
t1=$(date +%s%3N)
echo "takeover: $((t1 - t0)) ms from SIGKILL to /readyz 200 ($before messages logged before)"
[ $((t1 - t0)) -lt 5000 ] || fail "the takeover took $((t1 - t0)) ms"
expect_has "$(cat "$T/standby.log")" "serve.took_over" "the standby says it took over"
wait "$SENDER" || fail "senders: $(cat "$T/sender.out")"
expect_has "$(cat "$T/sender.out")" "answered AA: 1600" "every message answered AA in the end"

note "every message answered AA is in the log the standby serves"
ENGINE_PID=$STANDBY
stop_engine
run_rc "$RADLINK" msg list --data "$T/var" --limit 100000
awk 'NR > 1 { print $7 }' "$T/out" | sort -u >"$T/logged.txt"
sort -u "$T/acked.txt" >"$T/acked.sorted"
missing=$(comm -23 "$T/acked.sorted" "$T/logged.txt" | head -5)
[ -z "$missing" ] || fail "answered AA but not in the log: $missing"
expect_eq "$(wc -l <"$T/acked.sorted")" 1600 "1600 control IDs answered"

note "a standby told to stop while it waits exits 0"
start_engine --workers 0
"$RADLINK" serve --data "$T/var" --mllp "$PORT" --dicom "$DICOM_PORT" --http "$HTTP_PORT" \
    --workers 0 --standby >"$T/standby2.log" 2>&1 &
S2=$!
PIDS="$PIDS $S2"
wait_for "$T/standby2.log" "serve.standby" 10
kill -TERM "$S2"
set +e
wait "$S2"
RC=$?
set -e
expect_rc 0 "a stopped standby"
expect_not_has "$(cat "$T/standby2.log")" "serve.start " "it never served"
stop_engine
echo "PASS"
