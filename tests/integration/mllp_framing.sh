#!/bin/sh
# Framing, limits and concurrency, driven by a raw-socket peer; then the log
# must hold the incomplete frame and the oversize one, and junk is counted.
. "$(dirname "$0")/lib.sh"
cat >"$T/small.xml" <<XML
<radlink><mllp max-frame="4096"/></radlink>
XML
start_engine --config "$T/small.xml"
/usr/bin/python3 "$SRC/tests/integration/mllp_framing.py" "$PORT" || fail "framing cases"
stop_engine
expect_eq "$(msg_count accepted)" 1015 "accepted: 2 + 10 + 2 + 1000 + DUP1"
expect_eq "$(msg_count duplicate)" 1 "one retransmission"
expect_eq "$(msg_count rejected)" 3 "rejected: incomplete, oversize, conflict"
run_rc "$RADLINK" msg list --data "$T/var" --status rejected
expect_has "$OUT" "incomplete MLLP frame" "incomplete frame logged"
expect_has "$OUT" "frame larger than the limit" "oversize frame logged"
expect_has "$OUT" "already used by message" "conflict logged"
expect_line "$(cat "$ENGINE_LOG")" 'mllp.close .*junk_bytes=(2[0-9])' "junk counted"

cat >"$T/limits.xml" <<XML
<radlink><mllp max-connections="3" idle-timeout="2"/></radlink>
XML
PORT=$(free_port)
start_engine --config "$T/limits.xml"
/usr/bin/python3 "$SRC/tests/integration/mllp_limits.py" "$PORT" || fail "limit cases"
stop_engine
expect_has "$(cat "$ENGINE_LOG")" "mllp.refused" "refusal logged"
expect_has "$(cat "$ENGINE_LOG")" 'reason="idle timeout"' "idle close logged"
echo ok
