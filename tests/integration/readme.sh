#!/bin/sh
# The README cannot drift from the engine: every shell block it marks
# runnable (<!-- runnable --> before the fence) runs, as written, in a
# directory laid out as the README's reader has it (./build/radlink,
# examples/, routes/), against an engine started there on its embedded
# default. Only the fixed ports are swapped for the ones the system picked.
# Each block must exit 0; the first one's ACK is AA.
. "$(dirname "$0")/lib.sh"

W=$T/here
mkdir -p "$W/build"
ln -s "$RADLINK" "$W/build/radlink"
ln -s "$SRC/examples" "$W/examples"
ln -s "$SRC/routes" "$W/routes"

(cd "$W" && exec ./build/radlink serve --mllp auto --dicom auto --http auto) >"$T/engine.log" 2>&1 &
ENGINE_PID=$!
PIDS="$PIDS $ENGINE_PID"
ENGINE_LOG=$T/engine.log
engine_listening --data "$W/var"

# the blocks, one file each: the lines after a <!-- runnable --> fence
awk -v dir="$T" '
    /^<!-- runnable -->$/ { want = 1; next }
    want && /^```sh$/ { n++; on = 1; want = 0; f = sprintf("%s/block.%d.sh", dir, n); next }
    on && /^```$/ { on = 0; close(f); next }
    on { print > f }
    { want = 0 }
' "$SRC/README.md"
count=$(ls "$T"/block.*.sh 2>/dev/null | wc -l)
[ "$count" -ge 5 ] || fail "the README marks $count blocks runnable"
n=1
while [ -f "$T/block.$n.sh" ]; do
    sed -e "s/127\.0\.0\.1:2575/127.0.0.1:$PORT/g" -e "s/ 11112\$/ $DICOM_PORT/; s/ 11112 / $DICOM_PORT /g" \
        -e "s/127\.0\.0\.1:8080/127.0.0.1:$HTTP_PORT/g" "$T/block.$n.sh" >"$T/run.$n.sh"
    note "block $n: $(head -1 "$T/block.$n.sh")"
    set +e
    (cd "$W" && sh -e "$T/run.$n.sh") >"$T/out.$n" 2>&1
    RC=$?
    set -e
    [ "$RC" = 0 ] || fail "README block $n exits $RC: $(tail -15 "$T/out.$n")"
    n=$((n + 1))
done
expect_has "$(cat "$T/out.1")" "MSA|AA|MSG00001" "the tour's order is ACKed AA"
expect_has "$(cat "$T/out.2")" "Final Find Response (Success)" "the modality's query is answered"
expect_has "$(cat "$T/out.2")" "ACC1001" "with the order"
kill -TERM "$ENGINE_PID"
wait_exit "$ENGINE_PID" 15
echo "PASS"
