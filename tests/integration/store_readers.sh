#!/bin/sh
# LMDB reader slots of CLI readers: one whose output is closed mid-read
# (`radlink msg list | head -1`) ends its transaction (it used to die of
# SIGPIPE and leave its slot, pinning an old snapshot while the file grew);
# one killed outright has its slot cleared: by the next process that opens
# the store (here `radlink status` itself), and by the engine every 10 s.
# What a user sees: `radlink status`.
. "$(dirname "$0")/lib.sh"
start_engine
i=0
while [ $i -lt 1200 ]; do
    printf 'MSH|^~\\&|RIS|GENHOSP|RADLINK|RAD|20261124090000||ADT^A08^ADT_A01|R%d|P|2.5.1\rEVN|A08|20261124\rPID|1||P%d^^^GENHOSP^MR||DOE^JANE\r\n' $i $i
    i=$((i + 1))
done >"$T/many.hl7"
run_rc "$RADLINK" send --quiet --to "127.0.0.1:$PORT" "$T/many.hl7"
expect_rc 0 "1200 messages sent"

note "a reader whose output closes: no slot left behind"
"$RADLINK" msg list --data "$T/var" --limit 100000 | head -1 >/dev/null
run_rc "$RADLINK" status --data "$T/var"
expect_has "$OUT" "store readers 0," "no reader slot in use"

note "a reader killed mid-read: its slot is cleared"
mkfifo "$T/pipe"
"$RADLINK" msg list --data "$T/var" --limit 100000 >"$T/pipe" &
READER=$!
exec 3<"$T/pipe" # opened, never read: the reader blocks with its transaction open
sleep 1
run_rc "$RADLINK" status --data "$T/var"
expect_has "$OUT" "store readers 1," "the blocked reader holds a slot"
kill -9 "$READER"
wait "$READER" 2>/dev/null || true
exec 3<&-
wait_cmd 20 "store readers 0," "$RADLINK" status --data "$T/var"
stop_engine
