#!/bin/sh
# MLLP against hostile or broken peers (mllp_hostile.py): per-address
# connection limits, an idle timer that junk bytes do not reset, and one
# memory budget for every frame in flight; what `radlink status` and the
# message log then say.
. "$(dirname "$0")/lib.sh"
cat >"$T/cfg.xml" <<XML
<radlink>
  <mllp max-per-address="4" idle-timeout="2" read-timeout="30" max-frame="4194304"
        max-buffered-mb="8"/>
</radlink>
XML
start_engine --config "$T/cfg.xml" --dicom 0
/usr/bin/python3 "$SRC/tests/integration/mllp_hostile.py" "$PORT" || fail "hostile peer cases"
run_rc "$RADLINK" status --data "$T/var"
expect_line "$OUT" "^mllp refused [1-9][0-9]* \(over max-per-address 1\), frames over the memory budget [1-3], frame buffers [0-9]+ bytes, bytes outside frames [0-9]+$" \
    "status counts the refusals and the frames over the budget"
run_rc "$RADLINK" msg list --data "$T/var" --status rejected
expect_has "$OUT" "frames in flight passed the memory budget" "a given-up frame is in the message log"
stop_engine
echo "PASS mllp_hostile"
