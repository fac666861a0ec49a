#!/bin/sh
# Framing, limits and concurrency, driven by a raw-socket peer; then the log
# must hold the incomplete frame and the oversize one, and `radlink status`
# counts the junk between frames and the connections refused over the limit.
. "$(dirname "$0")/lib.sh"
cat >"$T/small.xml" <<XML
<radlink><mllp max-frame="4096"/></radlink>
XML
start_engine --config "$T/small.xml"
/usr/bin/python3 "$SRC/tests/integration/mllp_framing.py" "$PORT" || fail "framing cases"
# 18 bytes of an HTTP request before the first frame, 10 between two frames
wait_cmd 10 "^mllp refused .*, bytes outside frames 28$" "$RADLINK" status --data "$T/var"
stop_engine
expect_eq "$(msg_count accepted)" 1016 "accepted: 2 + 10 + 2 + 1000 + DUP1 + DUP1 reused"
expect_eq "$(msg_count duplicate)" 2 "two retransmissions"
expect_eq "$(msg_count rejected)" 2 "rejected: incomplete, oversize"
run_rc "$RADLINK" msg list --data "$T/var" --status rejected
expect_has "$OUT" "incomplete MLLP frame" "incomplete frame logged"
expect_has "$OUT" "frame larger than the limit" "oversize frame logged"
run_rc "$RADLINK" msg list --data "$T/var" --status accepted --limit 100000
expect_line "$OUT" "DUP1 .*warning: control ID reused \\(message [0-9]+ had other content\\)" "the reuse shown"

cat >"$T/limits.xml" <<XML
<radlink><mllp max-connections="3" idle-timeout="2"/></radlink>
XML
PORT= DICOM_PORT= HTTP_PORT= # ports the system picks again
start_engine --config "$T/limits.xml"
/usr/bin/python3 "$SRC/tests/integration/mllp_limits.py" "$PORT" || fail "limit cases"
run_rc "$RADLINK" status --data "$T/var"
expect_line "$OUT" "^mllp refused [1-9][0-9]* \\(over max-per-address 0\\)" "status counts the connection refused over max-connections"
stop_engine
echo ok
