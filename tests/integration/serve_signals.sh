#!/bin/sh
# radlink serve starts on its defaults, prints version, config and data dir,
# and exits 0 on SIGTERM and on SIGINT; a bad config file is refused with
# file:line errors.
. "$(dirname "$0")/lib.sh"

for sig in TERM INT; do
    "$RADLINK" serve --http 0 --data "$T/var" --mllp auto --dicom auto >"$T/serve.$sig" 2>&1 &
    pid=$!
    PIDS="$PIDS $pid"
    wait_for "$T/serve.$sig" "data=$T/var"
    expect_has "$(cat "$T/serve.$sig")" "radlink 0." "version printed"
    expect_has "$(cat "$T/serve.$sig")" "config=embedded default" "config printed"
    kill -$sig $pid
    wait_exit $pid 10
    expect_eq "$RC" 0 "exit status after SIG$sig"
done

cat >"$T/bad.xml" <<'XML'
<radlink>
  <data dir="x"/>
  <mllp>
    <listen port="99999"/>
  </mllp>
  <bogus/>
</radlink>
XML
run_rc "$RADLINK" serve --http 0 --config "$T/bad.xml"
expect_rc 3 "bad config"
expect_has "$ERR" "bad.xml:4: " "line of the bad port"
expect_has "$ERR" "bad.xml:6: " "line of the unknown element"
echo "ok"
