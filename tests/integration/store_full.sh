#!/bin/sh
# A full store: messages get AR saying so and naming the setting that bounds
# the store, nothing accepted before is lost, and the engine keeps running
# and counts the refused commits (radlink status); its log says so once a
# second, with a count of the ones in between. Below its ceiling
# (<store max-map-size-mb>) the map grows itself instead: a 1 MiB map takes
# 1,500 messages of 3 kB, every one answered AA.
. "$(dirname "$0")/lib.sh"
H=$DATA/hl7
cat >"$T/tiny.xml" <<XML
<radlink><store map-size-mb="1" max-map-size-mb="1"/></radlink>
XML
start_engine --config "$T/tiny.xml"
# a reader that holds its snapshot (its output fills a pipe nobody reads)
# keeps every page freed from then on from being used again: the store stays
# full once it is, whatever else ends meanwhile
/usr/bin/python3 - "$T/many.hl7" "$H/adt_a08.hl7" <<'PY'
import sys
m = open(sys.argv[2]).read().strip('\r\n')
with open(sys.argv[1], 'w') as f:
    for i in range(150):
        f.write(m.replace('MSG00002', 'B%d' % i) + '\r\n')
PY
run_rc "$RADLINK" send --quiet --batch --to "127.0.0.1:$PORT" "$T/many.hl7"
expect_rc 0 "150 messages in one batch"
"$RADLINK" audit list --xml --data "$T/var" --limit 100000 | sleep 86400 &
PIDS="$PIDS $!"
wait_cmd 10 "^store readers [1-9]" "$RADLINK" status --data "$T/var"
i=0
ar=""
while [ $i -lt 2000 ]; do
    i=$((i + 1))
    sed "s/MSG00002/FULL$i/; s/JANET/JANET$(printf '%03000d' 0)/" "$H/adt_a08.hl7" >"$T/m.hl7"
    run_rc "$RADLINK" send --to "127.0.0.1:$PORT" "$T/m.hl7"
    if [ "$RC" != 0 ]; then ar=$OUT; break; fi
done
t0=$(date +%s)
kept=$((i - 1 + 150))
expect_has "$ar" "MSA|AR|FULL$i|message not stored, try again later" "AR when full after $i messages"
expect_has "$ar" "max-map-size-mb" "the AR names the setting that bounds the store"
wait_cmd 10 "^turns [0-9]+, commits [0-9]+, commit failures 1," "$RADLINK" status --data "$T/var"
# senders retrying against a full store: every one refused with AR
k=0
while [ $k -lt 40 ]; do
    k=$((k + 1))
    sed "s/MSG00002/AGAIN$k/; s/JANET/JANET$(printf '%03000d' 0)/" "$H/adt_a08.hl7" >"$T/m.hl7"
    run_rc "$RADLINK" send --to "127.0.0.1:$PORT" "$T/m.hl7"
    expect_has "$OUT" "MSA|AR|AGAIN$k|message not stored" "a retry against the full store"
done
# the log says it once a second: time passing is what is tested here (the
# next refusal, a second on, is said again with the count of those between)
sleep 1.1
sed "s/MSG00002/LAST/; s/JANET/JANET$(printf '%03000d' 0)/" "$H/adt_a08.hl7" >"$T/m.hl7"
run_rc "$RADLINK" send --to "127.0.0.1:$PORT" "$T/m.hl7"
expect_has "$OUT" "MSA|AR|LAST|message not stored" "the last retry"
elapsed=$(($(date +%s) - t0))
wait_cmd 10 "^turns [0-9]+, commits [0-9]+, commit failures 42," "$RADLINK" status --data "$T/var"
expect_line "$("$RADLINK" status --data "$T/var")" "^engine +running, pid $ENGINE_PID$" "the engine keeps running"
# the log is what is tested here: how often it says the store is full
wait_until 10 "grep -q 'store.commit_failed .*repeated=[1-9]' '$ENGINE_LOG'"
lines=$(grep -c "store.commit_failed" "$ENGINE_LOG")
[ "$lines" -lt 42 ] && [ "$lines" -le $((elapsed + 2)) ] ||
    fail "42 refused commits in $elapsed s logged $lines times: not once a second"
said=$(sed -n 's/.*store.commit_failed .*repeated=\([0-9]*\)$/\1/p' "$ENGINE_LOG" | awk -v n="$lines" '{ n += $1 } END { print n }')
expect_eq "$said" 42 "each refused commit is in the log, said or counted"
stop_engine
expect_eq "$(msg_count accepted)" "$kept" "everything accepted before is kept"

note "below its ceiling the map grows itself: no AR"
cat >"$T/grow.xml" <<XML
<radlink><store map-size-mb="1" max-map-size-mb="512"/></radlink>
XML
PORT= DICOM_PORT= HTTP_PORT=
mv "$T/var" "$T/var-full"
start_engine --config "$T/grow.xml"
/usr/bin/python3 - "$T/many.hl7" <<'EOF'
import sys
with open(sys.argv[1], "w", newline="") as f:
    for i in range(1500):
        f.write("MSH|^~\\&|RIS|GENHOSP|RADLINK|RAD|20261124||ADT^A08|G%d|P|2.5.1\r"
                "PID|1||P%d^^^GENHOSP^MR||DOE^JANE%s\r\n" % (i, i, "X" * 3000))
EOF
run_rc mllp_send --loose --file "$T/many.hl7" --port "$PORT" 127.0.0.1
expect_eq "$(printf '%s\n' "$OUT" | grep -c 'MSA|AA')" 1500 "1500 messages of 3 kB into a 1 MiB map: all AA"
map=$(curl -s "http://127.0.0.1:$HTTP_PORT/metrics" | awk '/^radlink_store_map_bytes / { print $2 }')
[ "$map" -gt 8388608 ] && [ "$map" -le 536870912 ] || fail "the map did not grow past the messages' size, within its ceiling: $map"
run_rc "$RADLINK" status --data "$T/var"
expect_line "$OUT" "^messages +1500 in the log" "all 1500 in the log"
expect_line "$OUT" ", commit failures 0," "no commit refused"
stop_engine
echo ok
