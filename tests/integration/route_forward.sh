#!/bin/sh
# Routing and forwarding end to end: a real engine loads a route file, takes
# orders from python3-hl7's mllp_send, transforms and forwards them to a
# downstream built on python3-hl7's asyncio MLLP server (mllp_sink.py).
# The downstream is down at first: every message is ACKed once it is queued
# durably; when it comes up, all arrive once, in order. A message the
# downstream answers with AR is parked, listed, and delivered again on
# `radlink queue retry`, and nothing overtakes it meanwhile (ordered="false"
# lets later ones pass); one it answers AE is sent again with backoff, and
# parked after `retries` sends. Rejects from routes carry AE and an ERR segment.
. "$(dirname "$0")/lib.sh"

# the downstream's port, held all along by a bound socket that never listens
# (mllp_sink.py --hold): a downstream that is down, which no other test can
# take, until a sink listens there beside it (--held: SO_REUSEPORT; the
# socket of lib.sh's hold_port cannot be shared so)
/usr/bin/python3 "$SRC/tests/integration/mllp_sink.py" --hold >"$T/held" &
PIDS="$PIDS $!"
wait_until 10 "[ -s '$T/held' ]"
DOWN=$(cat "$T/held")
SINK_LOG=$T/sink.log
cat >"$T/routes.xml" <<XML
<?xml version="1.0"?>
<routes default="reject" default-code="AR" default-text="this interface takes orders only">
  <destination name="ris" host="127.0.0.1" port="$DOWN" ack-timeout="3" max-retry-delay="1"
               retries="2"/>
  <table name="modality" default="OT">
    <entry key="CTCHEST" value="CT"/>
  </table>
  <route name="test-patients">
    <match type="ORM^O01"/>
    <when><equals path="PID-3.1" value="TEST"/></when>
    <reject code="AE" text="test patients are not forwarded"/>
  </route>
  <route name="orders">
    <match type="ORM^O01"/>
    <transform>
      <map path="OBR-4.1" table="modality" to="OBR-24"/>
      <case path="PID-5" to="upper"/>
    </transform>
    <forward to="ris"/>
  </route>
</routes>
XML

order() { # order CTRL PID3
    printf 'MSH|^~\\&|RIS|RAD|RADLINK|HOSP|20261122093000||ORM^O01|%s|P|2.5.1\rPID|1||%s^^^HOSP^MR||doe^jane||19700304|F\rORC|NW|O%s\rOBR|1|O%s||CTCHEST^CT chest^L|||20261122101500\r\n' "$1" "$2" "$1" "$1"
}

start_sink() {
    /usr/bin/python3 "$SRC/tests/integration/mllp_sink.py" "$DOWN" "$SINK_LOG" --held "$@" \
        >"$T/sink.out" 2>&1 &
    SINK_PID=$!
    PIDS="$PIDS $SINK_PID"
    wait_for "$T/sink.out" "ready $DOWN" 10
}
stop_sink() { kill "$SINK_PID"; wait_exit "$SINK_PID" 10; }
# queue_empty: nothing left for the downstream (every message it logged was
# answered, so no more will come)
queue_empty() {
    wait_cmd "$1" "^\(0 pending, 0 parked\)$" "$RADLINK" queue list --data "$T/var" --dest ris
}

note "routes check"
run_rc "$RADLINK" routes check "$T/routes.xml"
expect_rc 0 "routes check"
expect_has "$OUT" "routes        2: test-patients, orders" "check lists the routes"

start_engine --routes "$T/routes.xml"

note "downstream down: 20 orders are ACKed AA once queued"
: >"$T/orders.txt"
i=1
while [ $i -le 20 ]; do
    order "$(printf 'C%02d' $i)" "P$i" >>"$T/orders.txt"
    i=$((i + 1))
done
mllp_send --loose --file "$T/orders.txt" --port "$PORT" 127.0.0.1 >"$T/send1.out"
expect_eq "$(grep -a -c 'MSA|AA|' "$T/send1.out")" 20 "20 AA while the downstream is down"
run_rc "$RADLINK" queue list --data "$T/var" --dest ris
expect_rc 0 "queue list"
expect_has "$OUT" "(20 pending, 0 parked)" "all 20 queued"
wait_cmd 10 "^ris .*cannot connect" "$RADLINK" queue list --data "$T/var" --dest ris
run_rc "$RADLINK" status --data "$T/var"
expect_line "$OUT" "^queue +ris: 20 pending .*cannot connect" "status shows the backlog and why"
expect_has "$OUT" "$(sha256sum "$T/routes.xml" | cut -c1-64)" "status shows the route file checksum"

note "test patient: AE with ERR, nothing forwarded"
order C90 TEST >"$T/test.txt"
mllp_send --loose --file "$T/test.txt" --port "$PORT" 127.0.0.1 >"$T/send2.out"
expect_has "$(cat "$T/send2.out")" "MSA|AE|C90" "route reject is AE"
expect_has "$(cat "$T/send2.out")" "test patients are not forwarded" "AE carries the route's text"
expect_line "$(tr '\r' '\n' <"$T/send2.out")" "^ERR\|" "AE has an ERR segment"
printf 'MSH|^~\\&|RIS|RAD|RADLINK|HOSP|20261122||ADT^A08|C91|P|2.5.1\rPID|1||5\r' >"$T/adt.txt"
mllp_send --loose --file "$T/adt.txt" --port "$PORT" 127.0.0.1 >"$T/send3.out"
expect_has "$(cat "$T/send3.out")" "MSA|AR|C91" "no route: the file's default AR"

note "downstream up: all 20 arrive once, in order"
start_sink
queue_empty 20
expect_eq "$(tr '\n' ' ' <"$SINK_LOG")" "C01 C02 C03 C04 C05 C06 C07 C08 C09 C10 C11 C12 C13 C14 C15 C16 C17 C18 C19 C20 " "arrival order"
expect_has "$(cat "$SINK_LOG.full")" "DOE^JANE" "the forwarded message is the transformed one (case)"
expect_line "$(cat "$SINK_LOG.full")" "^OBR\|1\|OC01\|\|CTCHEST.*\|CT$" "map wrote OBR-24"

note "AR from the downstream parks the message; nothing overtakes it (ordered)"
stop_sink
start_sink --reject C22
printf '%s%s%s' "$(order C21 P21)" "$(order C22 P22)" "$(order C23 P23)" >"$T/three.txt"
mllp_send --loose --file "$T/three.txt" --port "$PORT" 127.0.0.1 >"$T/send4.out"
expect_eq "$(grep -a -c 'MSA|AA|' "$T/send4.out")" 3 "3 AA"
# C22 parked: C23 waits behind it, and the list and the status say so
wait_cmd 10 "^\(1 pending, 1 parked\)$" "$RADLINK" queue list --data "$T/var" --dest ris
run_rc "$RADLINK" queue list --data "$T/var" --dest ris
expect_line "$OUT" "^ris +[0-9]+ +parked .*queue retry \(parked\) +AR: " "C22 parked with the downstream's AR"
P22=$(printf '%s\n' "$OUT" | awk '$3 == "parked" {print $2}')
expect_line "$OUT" "^ris +[0-9]+ +pending .*behind parked $P22 " "C23 waits behind it"
wait_cmd 10 "^sender ris .*waiting behind parked message $P22" "$RADLINK" status --data "$T/var"
expect_line "$("$RADLINK" status --data "$T/var")" "^waiting +jobs dead 0, .*messages parked 1;" \
    "status counts what waits for a person"
expect_eq "$(grep -c -x 'C23' "$SINK_LOG" || true)" 0 "C23 not sent past the parked C22"
run_rc "$RADLINK" queue retry --data "$T/var" ris 99999
expect_rc 1 "retry of an unknown item"
stop_sink
start_sink
run_rc "$RADLINK" queue retry --data "$T/var" ris --all
expect_rc 0 "queue retry --all"
expect_has "$OUT" "1 message of ris back in the queue" "retry says what it did"
queue_empty 10
expect_eq "$(grep -c -x 'C22' "$SINK_LOG")" 2 "C22 refused once, delivered after the retry"
expect_eq "$(grep -c -x 'C21' "$SINK_LOG")" 1 "C21 once"
expect_eq "$(grep -c -x 'C23' "$SINK_LOG")" 1 "C23 once"
expect_eq "$(grep -x -E 'C2[23]' "$SINK_LOG" | tail -2 | tr '\n' ' ')" "C22 C23 " "C23 after C22"

note "AE from the downstream: sent again; a passing AE delivered, a lasting one parked after retries"
stop_sink
start_sink --ae C32 --ae-once C31
printf '%s%s%s' "$(order C31 P31)" "$(order C32 P32)" "$(order C33 P33)" >"$T/ae.txt"
mllp_send --loose --file "$T/ae.txt" --port "$PORT" 127.0.0.1 >"$T/send5.out"
expect_eq "$(grep -a -c 'MSA|AA|' "$T/send5.out")" 3 "3 AA"
wait_cmd 30 "^\(1 pending, 1 parked\)$" "$RADLINK" queue list --data "$T/var" --dest ris
expect_eq "$(grep -c -x 'C31' "$SINK_LOG")" 2 "C31: AE once, then delivered"
expect_eq "$(grep -c -x 'C32' "$SINK_LOG")" 2 "C32: sent twice (retries=2)"
expect_eq "$(grep -c -x 'C33' "$SINK_LOG" || true)" 0 "C33 waits behind C32"
run_rc "$RADLINK" queue list --data "$T/var" --state parked
expect_line "$OUT" "^ris +[0-9]+ +parked .* AE: .*\(parked after 2 sends\)" "C32 parked, said why"
stop_sink
start_sink
run_rc "$RADLINK" queue retry --data "$T/var" ris --all
queue_empty 10
expect_eq "$(grep -c -x 'C33' "$SINK_LOG")" 1 "C33 once, after C32"

note "ordered=\"false\": the sender moves past a parked message"
sed 's/retries="2"/retries="2" ordered="false"/' "$T/routes.xml" >"$T/unordered.xml"
cp "$T/routes.xml" "$T/routes.ordered"
cp "$T/unordered.xml" "$T/routes.xml"
run_rc "$RADLINK" routes reload --data "$T/var"
expect_rc 0 "routes reload"
stop_sink
start_sink --reject C42
printf '%s%s' "$(order C42 P42)" "$(order C43 P43)" >"$T/unordered.txt"
mllp_send --loose --file "$T/unordered.txt" --port "$PORT" 127.0.0.1 >"$T/send6.out"
wait_cmd 10 "^\(0 pending, 1 parked\)$" "$RADLINK" queue list --data "$T/var" --dest ris
expect_eq "$(grep -c -x 'C43' "$SINK_LOG")" 1 "C43 delivered past the parked C42"
stop_sink
start_sink
run_rc "$RADLINK" queue retry --data "$T/var" ris --all
queue_empty 10
cp "$T/routes.ordered" "$T/routes.xml"
run_rc "$RADLINK" routes reload --data "$T/var"
expect_rc 0 "routes reload (ordered again)"

note "msg replay with other routes"
cat >"$T/replay.xml" <<XML
<routes><route name="hold"><reject code="AE" text="on hold"/></route></routes>
XML
SEQ=$("$RADLINK" msg list --data "$T/var" --type 'ORM^O01' --limit 1 | awk 'NR==2 {print $1}')
run_rc "$RADLINK" msg replay --data "$T/var" --routes "$T/replay.xml" "$SEQ"
expect_rc 1 "replay refused by the given routes"
expect_has "$OUT" "route 'hold'" "replay prints the trace"
expect_line "$OUT" "replayed with .*replay.xml as message [0-9]+: error" "replay logs a new entry"
cp "$T/routes.xml" "$T/routes.running"
cp "$T/replay.xml" "$T/routes.xml" # edited on disk, not reloaded: not what runs
run_rc "$RADLINK" msg replay --data "$T/var" "$SEQ"
cp "$T/routes.running" "$T/routes.xml"
expect_rc 0 "replay with the routes the engine runs, not the edited file"
expect_has "$OUT" "1 forward queued" "replay forwards again"
expect_line "$OUT" "replayed with $T/routes.xml as message" "the engine's route file by default"
queue_empty 10

note "an operator parks a message the downstream never answers"
stop_sink
order C30 P30 >"$T/c30.txt"
mllp_send --loose --file "$T/c30.txt" --port "$PORT" 127.0.0.1 >"$T/send5.out"
wait_cmd 10 "^ris .*pending .*cannot connect" "$RADLINK" queue list --data "$T/var" --dest ris
Q30=$("$RADLINK" queue list --data "$T/var" --state pending | awk '$1 == "ris" {print $2; exit}')
[ -n "$Q30" ] || fail "C30 pending"
run_rc "$RADLINK" queue park --data "$T/var" ris "$Q30"
expect_rc 0 "queue park"
run_rc "$RADLINK" queue list --data "$T/var" --state parked
expect_has "$OUT" "parked by an administrator" "parked, with who did it"
run_rc "$RADLINK" queue park --data "$T/var" ris "$Q30"
expect_rc 1 "parking a parked message"
run_rc "$RADLINK" queue retry --data "$T/var" nosuch --all
expect_rc 1 "retry for a destination with nothing queued"
start_sink
run_rc "$RADLINK" queue retry --data "$T/var" ris "$Q30"
expect_rc 0 "retry the parked message"
queue_empty 10
expect_eq "$(grep -c -x 'C30' "$SINK_LOG")" 1 "C30 delivered once, after the retry"

stop_sink
stop_engine
note "ok"
