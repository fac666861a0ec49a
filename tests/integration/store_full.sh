#!/bin/sh
# A full store: messages get AR saying so, nothing accepted before is lost,
# and the engine keeps running and says what is wrong. Below its ceiling
# (<store max-map-size-mb>) the map grows itself instead: a 1 MiB map takes
# 1,500 messages of 3 kB, every one answered AA.
. "$(dirname "$0")/lib.sh"
H=$DATA/hl7
cat >"$T/tiny.xml" <<XML
<radlink><store map-size-mb="1" max-map-size-mb="1"/></radlink>
XML
start_engine --config "$T/tiny.xml"
i=0
ar=""
while [ $i -lt 2000 ]; do
    i=$((i + 1))
    sed "s/MSG00002/FULL$i/; s/JANET/JANET$(printf '%03000d' 0)/" "$H/adt_a08.hl7" >"$T/m.hl7"
    run_rc "$RADLINK" send --to "127.0.0.1:$PORT" "$T/m.hl7"
    if [ "$RC" != 0 ]; then ar=$OUT; break; fi
done
expect_has "$ar" "MSA|AR|FULL$i|message not stored, try again later" "AR when full after $i messages"
expect_has "$(cat "$ENGINE_LOG")" "max-map-size-mb" "the log says what to do"
# senders retrying against a full store: said once a second, with a count
k=0
while [ $k -lt 40 ]; do
    k=$((k + 1))
    sed "s/MSG00002/AGAIN$k/; s/JANET/JANET$(printf '%03000d' 0)/" "$H/adt_a08.hl7" >"$T/m.hl7"
    "$RADLINK" send --quiet --to "127.0.0.1:$PORT" "$T/m.hl7" || true
done
sleep 1.1
sed "s/MSG00002/LAST/; s/JANET/JANET$(printf '%03000d' 0)/" "$H/adt_a08.hl7" >"$T/m.hl7"
"$RADLINK" send --quiet --to "127.0.0.1:$PORT" "$T/m.hl7" || true
lines=$(grep -c "store.commit_failed" "$ENGINE_LOG")
[ "$lines" -le 12 ] || fail "41 refused commits logged $lines times: not rate-limited"
expect_line "$(cat "$ENGINE_LOG")" "store.commit_failed .*repeated=[1-9][0-9]*" "the ones in between counted"
kill -0 "$ENGINE_PID" || fail "engine died"
kept=$((i - 1))
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
expect_line "$(cat "$ENGINE_LOG")" "store.grown map_mb=[0-9]+ was_mb=1 ceiling_mb=512" "the log says the map grew"
map=$(curl -s "http://127.0.0.1:$HTTP_PORT/metrics" | awk '/^radlink_store_map_bytes / { print $2 }')
[ "$map" -gt 8388608 ] || fail "the map did not grow past the messages' size: $map"
stop_engine
echo ok
