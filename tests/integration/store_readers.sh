#!/bin/sh
# LMDB reader slots of CLI readers: one whose output is closed mid-read
# (`radlink msg list | head -1`) ends its transaction and exits (it used to
# die of SIGPIPE and leave its slot, pinning an old snapshot while the file
# grew); one killed outright has its slot cleared: by the
# engine every 10 s, and by the next process that opens the store (here
# `radlink status` itself). What a user sees: `radlink status`, and the
# reader table as LMDB's own mdb_stat -r lists it (it clears nothing).
. "$(dirname "$0")/lib.sh"
# slots: the pids holding a reader slot of the store
slots() { mdb_stat -r "$T/var/store" 2>/dev/null | awk '$1 ~ /^[0-9]+$/ { print $1 }'; }
start_engine
i=0
while [ $i -lt 1200 ]; do
    printf 'MSH|^~\\&|RIS|GENHOSP|RADLINK|RAD|20261124090000||ADT^A08^ADT_A01|R%d|P|2.5.1\rEVN|A08|20261124\rPID|1||P%d^^^GENHOSP^MR||DOE^JANE\r\n' $i $i
    i=$((i + 1))
done >"$T/many.hl7"
run_rc "$RADLINK" send --quiet --to "127.0.0.1:$PORT" "$T/many.hl7"
expect_rc 0 "1200 messages sent"

note "a reader whose output closes: it ends, and no slot is left behind"
{ sh -c 'echo $$ >"$1"; exec "$2" msg list --data "$3" --limit 100000' sh "$T/head.pid" "$RADLINK" "$T/var" &&
      echo 0 >"$T/head.rc" || echo $? >"$T/head.rc"; } | head -1 >/dev/null
[ "$(cat "$T/head.rc")" -lt 128 ] || fail "msg list whose output closed was killed by a signal: status $(cat "$T/head.rc")"
slots >"$T/slots"
grep -qx "$(cat "$T/head.pid")" "$T/slots" && fail "its reader slot is left: $(mdb_stat -r "$T/var/store")"
run_rc "$RADLINK" status --data "$T/var"
expect_has "$OUT" "store readers 0, stale readers cleared 0" "no reader slot in use, none to clear"

mkfifo "$T/pipe"
# reader: a msg list that blocks, its transaction open, on a pipe opened and
# never read (its output is more than a pipe holds); sets READER
reader() {
    "$RADLINK" msg list --data "$T/var" --limit 100000 >"$T/pipe" &
    READER=$!
    PIDS="$PIDS $READER"
    exec 3<"$T/pipe"
    wait_cmd 10 "store readers 1," "$RADLINK" status --data "$T/var"
    slots >"$T/slots"
    grep -qx "$READER" "$T/slots" || fail "the blocked reader has no slot: $(mdb_stat -r "$T/var/store")"
}
killed() {
    kill -9 "$READER"
    wait "$READER" 2>/dev/null || true
    exec 3<&-
}

note "a reader killed mid-read: the engine clears its slot"
reader
killed
# no radlink status meanwhile: it would clear the slot itself
wait_until 30 "! mdb_stat -r '$T/var/store' 2>/dev/null | awk '\$1 == \"$READER\" { f = 1 } END { exit !f }'"
wait_cmd 10 "^store readers 0, stale readers cleared 1$" "$RADLINK" status --data "$T/var"

note "a reader killed mid-read: the next radlink status clears its slot"
reader
killed
run_rc "$RADLINK" status --data "$T/var"
expect_has "$OUT" "store readers 0," "radlink status cleared the slot as it opened the store"
slots >"$T/slots"
grep -qx "$READER" "$T/slots" && fail "the killed reader's slot is left: $(mdb_stat -r "$T/var/store")"
stop_engine
