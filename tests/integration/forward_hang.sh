#!/bin/sh
# A downstream that takes a message and never answers it (its ack-timeout is
# 30 s, scaled) must not stall intake: a route reload that moves the
# destination returns at once, RIS messages sent meanwhile are ACKed at once,
# the queue goes to the new destination, and shutdown does not wait for the
# hanging exchange. "At once" is a generous bound (5 s for a reload or a
# shutdown, 3 s for an ACK, scaled), far below the hang. Downstreams are python3-hl7's asyncio MLLP server
# (mllp_sink.py); the latency is measured by a RIS-like client.
. "$(dirname "$0")/lib.sh"
HANG=$(free_port)
GOOD=$(free_port)
while [ "$GOOD" = "$HANG" ]; do GOOD=$(free_port); done
sink() { # sink PORT LOG [options]
    p=$1 log=$2
    shift 2
    /usr/bin/python3 "$SRC/tests/integration/mllp_sink.py" "$p" "$log" "$@" >"$log.out" 2>&1 &
    PIDS="$PIDS $!"
    wait_for "$log.out" ready 10
}
routes() { # routes PORT
    cat >"$T/routes.xml" <<XML
<?xml version="1.0"?>
<routes>
  <destination name="reports" host="127.0.0.1" port="$1" ack-timeout="$HANG_S" max-retry-delay="1"/>
  <route name="orders"><match type="ORM^O01"/><forward to="reports"/></route>
</routes>
XML
}
order() {
    printf 'MSH|^~\\&|RIS|RAD|RADLINK|HOSP|20261122093000||ORM^O01|%s|P|2.5.1\rPID|1||P1^^^HOSP^MR||DOE^JANE||19700304|F\rORC|NW|O%s\rOBR|1|O%s||CT^CT chest^L|||20261122101500\r\n' "$1" "$1" "$1" >"$T/$1.hl7"
    mllp_send --loose --file "$T/$1.hl7" --port "$PORT" 127.0.0.1
}
ms() { date +%s%3N; }
HANG_S=$(scaled 30)   # the hanging exchange's ack-timeout
QUICK_MS=$(($(scaled 5) * 1000)) # a reload or a shutdown that did not wait for it
ACK_MS=$(($(scaled 3) * 1000))   # an ACK that did not wait for it

sink "$HANG" "$T/hang.log" --silent H1,H3
sink "$GOOD" "$T/good.log"
routes "$HANG"
start_engine --routes "$T/routes.xml"

note "a message the destination takes and never answers"
expect_has "$(order H1)" "MSA|AA|H1" "accepted and queued"
wait_for "$T/hang.log" H1 10
wait_cmd 10 "^sender reports .* sending$" "$RADLINK" status --data "$T/var"

note "a reload that moves the destination, while RIS messages keep coming"
/usr/bin/python3 "$SRC/tests/integration/ack_latency.py" "$PORT" "$(scaled 3)" L >"$T/lat.out" 2>&1 &
LAT=$!
PIDS="$PIDS $LAT"
wait_for "$T/lat.out" ready 10
# its orders flow (H1 is the first message accepted)
wait_cmd 10 "messages accepted ([3-9]|[1-9][0-9]+)," "$RADLINK" status --data "$T/var"
routes "$GOOD"
t0=$(ms)
run_rc "$RADLINK" routes reload --data "$T/var"
took=$(( $(ms) - t0 ))
kill -0 "$LAT" 2>/dev/null || fail "the RIS stopped sending before the reload returned: it did not send during it"
expect_rc 0 "reload"
expect_has "$OUT" "reloaded" "the engine took the new file"
[ "$took" -lt "$QUICK_MS" ] || fail "routes reload took $took ms: it waited for the hanging exchange"
wait_exit "$LAT" 20
expect_rc 0 "the latency client"
R=$(tail -1 "$T/lat.out")
note "ingest during the reload: $R; routes reload answered in $took ms"
expect_has "$R" "non_aa=0" "every message got AA"
max=$(echo "$R" | sed -n 's/.*max_ms=\([0-9]*\).*/\1/p')
[ "$max" -lt "$ACK_MS" ] || fail "an ACK took $max ms during the reload"
N=$(echo "$R" | sed -n 's/^messages=\([0-9]*\).*/\1/p')

note "the queue goes to the new destination, in order"
wait_cmd 20 "^\\(0 pending, 0 parked\\)$" "$RADLINK" queue list --data "$T/var"
expect_eq "$(head -1 "$T/good.log")" H1 "the message caught in the hanging exchange goes first"
expect_eq "$(grep -c '^L' "$T/good.log")" "$N" "then every message sent during the reload"

note "shutdown does not wait for a hanging exchange"
routes "$HANG"
run_rc "$RADLINK" routes reload --data "$T/var"
expect_rc 0 "reload back to the hanging destination"
expect_has "$(order H3)" "MSA|AA|H3" "accepted"
wait_for "$T/hang.log" H3 10
t0=$(ms)
stop_engine
took=$(( $(ms) - t0 ))
[ "$took" -lt "$QUICK_MS" ] || fail "shutdown took $took ms: it waited for the hanging exchange"
PORT= DICOM_PORT= HTTP_PORT= # ports the system picks again
start_engine --routes "$T/routes.xml"
run_rc "$RADLINK" queue list --data "$T/var"
expect_has "$OUT" "(1 pending, 0 parked)" "the unanswered message is still queued after the restart"
stop_engine
note "ok"
