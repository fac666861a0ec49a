#!/bin/sh
# Failover on one machine: an active engine and a standby (`serve
# --standby`) on the same data directory and ports. While the active one
# serves, the standby waits: it tells its service manager so (sd_notify's
# STATUS, what `systemctl status` shows), listens on nothing, and `radlink
# status` names the active engine. Four senders that retry as a RIS does
# (python3-hl7's MLLPClient) send while the active engine is killed with
# SIGKILL: the standby takes the data directory's lock, starts within
# seconds, the senders' retries are answered by it, and every message ever
# answered AA is in its log. The takeover time is printed.
. "$(dirname "$0")/lib.sh"

# notify_socket NAME: a service manager's notification socket at $T/NAME.sock
# (systemd's NOTIFY_SOCKET); what the engine says there goes to $T/NAME.notify,
# one line each
notify_socket() {
    /usr/bin/python3 - "$T/$1.sock" >"$T/$1.notify" 2>&1 <<'PY' &
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
print("listening", flush=True)
while True:
    for line in s.recv(4096).decode().split("\n"):
        if line:
            print(line, flush=True)
PY
    PIDS="$PIDS $!"
    wait_for "$T/$1.notify" listening 10
}
# listening_pids: the pids that have a listening TCP socket (ss -p)
listening_pids() { ss -Hltnp | sed -n 's/.*pid=\([0-9]*\),.*/\1/p' | sort -u; }
# engine_pid: the engine `radlink status` names
engine_pid() { "$RADLINK" status --data "$T/var" | sed -n 's/^engine  *running, pid \([0-9]*\)$/\1/p'; }

start_engine --workers 0
ACTIVE=$ENGINE_PID
notify_socket standby
NOTIFY_SOCKET=$T/standby.sock "$RADLINK" serve --data "$T/var" --mllp "$PORT" --dicom "$DICOM_PORT" \
    --http "$HTTP_PORT" --workers 0 --standby >"$T/standby.log" 2>&1 &
STANDBY=$!
PIDS="$PIDS $STANDBY"

note "the standby waits; the active engine serves"
wait_for "$T/standby.notify" "^STATUS=standing by: another engine serves" 10
kill -0 "$STANDBY" || fail "the standby exited: $(cat "$T/standby.log")"
expect_not_has "$(cat "$T/standby.notify")" "READY=1" "the standby told its service manager it is not ready"
expect_eq "$(engine_pid)" "$ACTIVE" "radlink status names the active engine"
run_rc "$RADLINK" status --data "$T/var"
expect_line "$OUT" "^engine pid $ACTIVE, " "the active engine answers radlink status"
listening_pids >"$T/listeners"
grep -qx "$ACTIVE" "$T/listeners" || fail "the active engine listens on nothing: $(ss -Hltnp)"
grep -qx "$STANDBY" "$T/listeners" && fail "the standby listens: $(ss -Hltnp | grep "pid=$STANDBY,")"

note "four retrying senders; the active engine is killed with SIGKILL mid-way"
/usr/bin/python3 "$DATA/retry_sender.py" 127.0.0.1 "$PORT" 4 400 "$T/acked.txt" "$(scaled 60)" >"$T/sender.out" 2>&1 &
SENDER=$!
PIDS="$PIDS $SENDER"
wait_cmd 10 "^radlink_messages_logged ([2-9][0-9]{2}|[0-9]{4,})$" curl -s "http://127.0.0.1:$HTTP_PORT/metrics"
before=$(curl -s "http://127.0.0.1:$HTTP_PORT/metrics" | awk '/^radlink_messages_logged / { print $2 }')
t0=$(date +%s%3N)
kill -9 "$ACTIVE"
i=0
until curl -sf -o /dev/null "http://127.0.0.1:$HTTP_PORT/readyz"; do
    i=$((i + 1))
    [ $i -le $(($(scaled 10) * 100)) ] || fail "the standby did not take over: $(tail -5 "$T/standby.log")"
    sleep 0.01
done
t1=$(date +%s%3N)
echo "takeover: $((t1 - t0)) ms from SIGKILL to /readyz 200 ($before messages logged before)"
[ $((t1 - t0)) -lt $(($(scaled 5) * 1000)) ] || fail "the takeover took $((t1 - t0)) ms"
expect_eq "$(engine_pid)" "$STANDBY" "radlink status names the standby as the engine now"
run_rc "$RADLINK" status --data "$T/var"
expect_line "$OUT" "^engine pid $STANDBY, " "the standby answers radlink status"
wait_for "$T/standby.notify" "^READY=1" 10
wait_exit "$SENDER" 120
[ "$RC" = 0 ] || fail "senders: $(cat "$T/sender.out")"
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

note "a standby told to stop while it waits exits 0, having never served"
PORT= DICOM_PORT= HTTP_PORT= # ports the system picks again
start_engine --workers 0
notify_socket standby2
NOTIFY_SOCKET=$T/standby2.sock "$RADLINK" serve --data "$T/var" --mllp "$PORT" --dicom "$DICOM_PORT" \
    --http "$HTTP_PORT" --workers 0 --standby >"$T/standby2.log" 2>&1 &
S2=$!
PIDS="$PIDS $S2"
wait_for "$T/standby2.notify" "^STATUS=standing by" 10
kill -TERM "$S2"
wait_exit "$S2" 15
expect_rc 0 "a stopped standby"
expect_not_has "$(cat "$T/standby2.notify")" "READY=1" "it never told its service manager it serves"
expect_eq "$(engine_pid)" "$ENGINE_PID" "the active engine still serves"
stop_engine
echo "PASS"
