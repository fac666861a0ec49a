#!/bin/sh
# A remote worker over tcp with ZeroMQ CURVE: `radlink keygen` makes the key
# pairs, the engine lets in only the listed worker keys, and the remote
# worker does a correction job; a worker with another key is refused; a tcp
# endpoint without keys may only listen on loopback.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/mwl_lib.sh"
MK=$DATA/make_dicom.sh

EPUB=$("$RADLINK" keygen "$T/engine.key" 2>/dev/null)
WPUB=$("$RADLINK" keygen "$T/worker.key" 2>"$T/hint")
"$RADLINK" keygen "$T/rogue.key" >/dev/null 2>&1
WKEY_XML=$(sed -n 's/^for a worker.s key, in the engine config ([^)]*): //p' "$T/hint")
expect_has "$WKEY_XML" "<worker-key public=" "keygen shows the config element, escaped for XML"
[ ${#EPUB} = 40 ] || fail "keygen prints a 40-character public key: $EPUB"
expect_eq "$(stat -c %a "$T/engine.key")" 600 "the key file is private"
run_rc "$RADLINK" keygen "$T/engine.key"
expect_rc 1 "keygen does not overwrite a key file"

JP=$(free_port)
cat >"$T/open.xml" <<XML
<radlink><jobs workers="0" listen="tcp://0.0.0.0:$JP"/></radlink>
XML
run_rc "$RADLINK" serve --http 0 --data "$T/x" --mllp auto --dicom 0 --config "$T/open.xml"
expect_rc 1 "a tcp endpoint open to the network without keys"
expect_has "$ERR" "without a key pair (radlink keygen) a tcp endpoint may only listen on 127.0.0.1" "says why"

cat >"$T/curve.xml" <<XML
<radlink>
  <jobs workers="0" listen="tcp://127.0.0.1:$JP" key-file="engine.key">
    $WKEY_XML
  </jobs>
</radlink>
XML
start_engine --config "$T/curve.xml"
"$RADLINK" worker --connect "tcp://127.0.0.1:$JP" --server-key "$EPUB" --key-file "$T/rogue.key" \
    >"$T/rogue.log" 2>&1 &
PIDS="$PIDS $!"
wait_for "$T/rogue.log" "worker.no_engine" 15
"$RADLINK" worker --connect "tcp://127.0.0.1:$JP" --server-key "$EPUB" --key-file "$T/worker.key" \
    >"$T/worker.log" 2>&1 &
WK=$!
PIDS="$PIDS $WK"
wait_workers 1 10
expect_not_has "$("$RADLINK" status --data "$T/var")" "worker 1 " "the rogue key never got in"

orm O1 NW A1 S1 CT CT01 202611240930 'DOE^JANE' P1 >"$T/o.hl7"
send_hl7 "$T/o.hl7"
$MK "$T/bad.dcm" 1.2.995.1.1 1.2.995.1 1.2.995.1.1 A1 P1 'DOE^JANET' CT 20261124 19700412 F RPA1
run_rc storescu -aec RADLINK 127.0.0.1 "$DICOM_PORT" "$T/bad.dcm"
expect_rc 0 "stored"
wait_job 1 done 20
expect_has "$("$RADLINK" status --data "$T/var")" "jobs dispatched 1 done 1" "done by the one worker that got in"
expect_has "$(dcmdump "$T/var/spool/1.2.995.1/1.2.995.1.1/1.2.995.1.1.dcm")" "[DOE^JANE]" "corrected by the remote worker"
kill "$WK"
stop_engine
note "ok"
