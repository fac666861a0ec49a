#!/bin/sh
# Hot reload: `radlink routes reload` and SIGHUP load the route file anew. A
# valid file takes over between two messages; a file with errors is refused,
# its errors are reported, and the running routes stay. `radlink status`
# shows the active file's checksum and load time, and the last reload.
. "$(dirname "$0")/lib.sh"

R=$T/routes.xml
write_accept() {
    cat >"$R" <<XML
<routes><route name="take"><match type="ORM^O01"/><accept/></route></routes>
XML
}
write_closed() {
    cat >"$R" <<XML
<routes>
  <route name="closed"><match type="ORM^O01"/><reject code="AE" text="interface closed"/></route>
</routes>
XML
}
# order CTRL: one order, its ACK on stdout; an engine that does not answer
# fails it within a limit
order() {
    printf 'MSH|^~\\&|RIS|RAD|RADLINK|HOSP|20261122093000||ORM^O01|%s|P|2.5.1\rPID|1||1\r\n' "$1" >"$T/m.txt"
    timeout "$(scaled 10)" mllp_send --loose --file "$T/m.txt" --port "$PORT" 127.0.0.1
}

note "the example in routes/README.md is valid"
awk '/^```xml/ {n++; if (n == 1) {on = 1; next}} /^```/ {on = 0} on' "$SRC/routes/README.md" >"$T/readme.xml"
run_rc "$RADLINK" routes check "$T/readme.xml"
expect_rc 0 "the README's example file: $ERR"
expect_has "$OUT" "routes        1: orders" "the README's example has its route"
run_rc "$RADLINK" routes check "$SRC/routes/default.xml"
expect_rc 0 "the shipped routes"
run_rc "$RADLINK" routes check --config "$SRC/examples/radlink.xml" "$SRC/examples/routes.xml"
expect_rc 0 "the example config and routes: $ERR"
expect_has "$OUT" "destinations  1: results" "the example config's destination reaches the routes"

run_rc "$RADLINK" routes reload --data "$T/nothing"
expect_rc 1 "reload without an engine"
expect_has "$ERR" "no engine runs" "reload says no engine runs"

write_accept
start_engine --routes "$R"
expect_has "$(order R1)" "MSA|AA|R1" "first set accepts"
SHA1=$(sha256sum "$R" | cut -c1-64)
run_rc "$RADLINK" status --data "$T/var"
expect_has "$OUT" "engine        running, pid $ENGINE_PID" "status: running"
expect_has "$OUT" "sha256      $SHA1" "status: checksum of the active file"
expect_line "$OUT" "^  loaded +20[0-9-]+ [0-9:]+$" "status: load time"

note "routes reload with a valid file"
write_closed
SHA2=$(sha256sum "$R" | cut -c1-64)
run_rc "$RADLINK" routes reload --data "$T/var"
expect_rc 0 "routes reload"
expect_has "$OUT" "reloaded" "reload reports success"
OUT2=$(order R2)
expect_has "$OUT2" "MSA|AE|R2" "the new set is active"
expect_has "$OUT2" "interface closed" "the new set's text"
run_rc "$RADLINK" status --data "$T/var"
expect_has "$OUT" "sha256      $SHA2" "status: new checksum"
expect_has "$OUT" "last reload ok" "status: last reload ok"

note "routes reload with errors: refused, the running set stays"
printf '<routes>\n<route name="x"><forward to="nowhere"/></route>\n<route name="x"/>\n</routes>\n' >"$R"
run_rc "$RADLINK" routes reload --data "$T/var"
expect_rc 1 "reload of a bad file"
expect_has "$ERR" "routes.xml:2: <forward>: unknown destination 'nowhere'" "reload prints file:line"
expect_has "$ERR" "the running routes stay" "reload says the set stays"
expect_has "$ERR" "routes.xml:3: <route>: route name 'x' is used twice" "and every error, not only the first"
expect_has "$(order R3)" "MSA|AE|R3" "still the previous valid set"
run_rc "$RADLINK" status --data "$T/var"
expect_has "$OUT" "sha256      $SHA2" "status keeps the active checksum"
expect_has "$OUT" "last reload FAILED" "status shows the failed reload"

note "SIGHUP"
write_accept
kill -HUP "$ENGINE_PID"
wait_cmd 10 "^  sha256 +$SHA1$" "$RADLINK" status --data "$T/var"
expect_has "$(order R4)" "MSA|AA|R4" "SIGHUP made the file active"

note "reloads under load: every message gets exactly one answer from one set"
i=1
: >"$T/many.txt"
while [ $i -le 300 ]; do
    printf 'MSH|^~\\&|RIS|RAD|RADLINK|HOSP|20261122093000||ORM^O01|L%d|P|2.5.1\rPID|1||1\r\n' $i >>"$T/many.txt"
    i=$((i + 1))
done
mllp_send --loose --file "$T/many.txt" --port "$PORT" 127.0.0.1 >"$T/many.out" &
SENDER=$!
PIDS="$PIDS $SENDER"
k=0
while [ $k -lt 10 ]; do
    if [ $((k % 2)) = 0 ]; then write_closed; else write_accept; fi
    kill -HUP "$ENGINE_PID"
    sleep 0.05
    k=$((k + 1))
done
wait_exit "$SENDER" 60
expect_rc 0 "mllp_send of 300 orders during reloads"
AA=$(grep -a -c 'MSA|AA|L' "$T/many.out")
AE=$(grep -a -c 'MSA|AE|L' "$T/many.out")
expect_eq $((AA + AE)) 300 "300 answers (AA $AA, AE $AE)"
kill -0 "$ENGINE_PID" || fail "engine died during reloads"

note "a reload reads the file off the loop: a file that takes its time stalls no ACK"
# the running routes refuse orders; the next file takes them; the route
# file becomes a pipe nothing writes to yet, so reading it blocks
write_closed
run_rc "$RADLINK" routes reload --data "$T/var"
expect_rc 0 "the closed routes run"
write_accept
cp "$R" "$T/next.xml"
rm -f "$R"
mkfifo "$R"
"$RADLINK" routes reload --data "$T/var" >"$T/reload.out" 2>&1 &
RELOADER=$!
PIDS="$PIDS $RELOADER"
# the writer: once a reader has the pipe open (a non-blocking open for
# writing fails with ENXIO until then), it holds it open without writing, so
# the engine's read waits, and writes the file only when $T/go appears
/usr/bin/python3 -c 'import errno, os, sys, time
path, secs, content, go = sys.argv[1], float(sys.argv[2]), sys.argv[3], sys.argv[4]
deadline = time.time() + secs
while True:
    try:
        fd = os.open(path, os.O_WRONLY | os.O_NONBLOCK)
        break
    except OSError as e:
        if e.errno != errno.ENXIO or time.time() > deadline:
            print("no reader:", e, flush=True)
            sys.exit(1)
        time.sleep(0.05)
print("a reader has it open", flush=True)
while not os.path.exists(go):
    time.sleep(0.05)
os.set_blocking(fd, True)
os.write(fd, open(content, "rb").read())
os.close(fd)' "$R" "$(scaled 20)" "$T/next.xml" "$T/go" >"$T/writer.out" 2>&1 &
WRITER=$!
PIDS="$PIDS $WRITER"
wait_for "$T/writer.out" "a reader has it open" 20
kill -0 "$RELOADER" 2>/dev/null || fail "the reload answered before its file was read: $(cat "$T/reload.out")"
# the engine's read of the route file waits for the writer; orders are
# answered meanwhile (each within a limit: a loop stalled by the read
# would not answer at all)
for n in 1 2 3 4 5; do
    order "SLOW$n" >"$T/slow$n.out" || fail "no answer to SLOW$n while the reload reads its file"
    expect_has "$(cat "$T/slow$n.out")" "MSA|AE|SLOW$n" "answered by the running routes while the file is read"
done
kill -0 "$RELOADER" 2>/dev/null || fail "the reload answered before its file was read: $(cat "$T/reload.out")"
touch "$T/go"
wait_exit "$WRITER" 10
expect_rc 0 "the writer wrote the next routes: $(cat "$T/writer.out")"
wait_exit "$RELOADER" 10
expect_eq "$RC" 0 "the reload succeeded once the file came: $(cat "$T/reload.out")"
expect_has "$(cat "$T/reload.out")" "reloaded (engine pid" "the reload says so"
order AFTER >"$T/after.out"
expect_has "$(cat "$T/after.out")" "MSA|AA|AFTER" "the new routes answer"
rm -f "$R"
write_accept

stop_engine
note "ok"
