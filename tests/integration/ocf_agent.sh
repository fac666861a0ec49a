#!/bin/sh
# The OCF resource agent Pacemaker runs radlink with (deploy/ocf/radlink),
# driven as Pacemaker drives it: its exit codes for start, monitor, stop and
# validate-all, its meta-data (well-formed XML), and an engine killed under
# it seen as not running, then started again on the same store.
. "$(dirname "$0")/lib.sh"
. "$SRC/tests/integration/mwl_lib.sh"
RA=$SRC/deploy/ocf/radlink
PORT=$(free_port) DICOM_PORT=$(free_port) HTTP_PORT=$(free_port)
cat >"$T/radlink.xml" <<XML
<radlink>
  <data dir="$T/var"/>
  <mllp><listen port="$PORT"/></mllp>
  <dicom port="$DICOM_PORT"/>
  <http port="$HTTP_PORT"/>
  <jobs workers="0"/>
</radlink>
XML
# the data directory is there, as a cluster's shared storage is once mounted
# (a <data dir> that is not there is refused: an empty store never serves)
mkdir -m 700 "$T/var"
export OCF_RESKEY_binary="$RADLINK" OCF_RESKEY_config="$T/radlink.xml" OCF_RESKEY_user=""
export OCF_RESKEY_readyz="http://127.0.0.1:$HTTP_PORT/readyz" OCF_RESKEY_pidfile="$T/ra.pid"
export OCF_RESKEY_logfile="$T/ra.log"
ra() { set +e; "$RA" "$1" >"$T/ra.out" 2>&1; RC=$?; set -e; }

ra meta-data
expect_rc 0 "meta-data"
run_rc xmllint --noout "$T/ra.out"
expect_rc 0 "the meta-data is well-formed XML: $ERR"
ra validate-all
expect_rc 0 "validate-all"
ra monitor
expect_rc 7 "monitor before start: not running"
ra start
expect_rc 0 "start: $(cat "$T/ra.out") $(tail -3 "$T/ra.log")"
ra monitor
expect_rc 0 "monitor: running and ready"
orm C1 NW 9001 S1 CT CT01 202611241000 'DOE^JANE' P1 >"$T/m.hl7"
send_hl7 "$T/m.hl7"
expect_has "$(cat "$T/m.hl7.out")" "MSA|AA|C1" "the engine the agent started answers"
EP=$(cat "$T/ra.pid")
kill -9 "$EP"
# the process is gone (or a zombie nobody reaped yet), as ps would show
wait_until 10 "! kill -0 $EP 2>/dev/null || [ \"\$(awk '{ print \$3 }' /proc/$EP/stat 2>/dev/null)\" = Z ]"
ra monitor
expect_rc 7 "an engine killed under the agent: not running (Pacemaker recovers it)"
ra start
expect_rc 0 "started again"
ra monitor
expect_rc 0 "monitor: running and ready again"
orm C2 NW 9002 S2 CT CT01 202611241100 'ROE^ANNA' P2 >"$T/m2.hl7"
send_hl7 "$T/m2.hl7"
expect_has "$(cat "$T/m2.hl7.out")" "MSA|AA|C2" "the engine started again answers"
run_rc "$RADLINK" msg list --data "$T/var"
expect_line "$OUT" " C1 " "the message answered before the kill is there"
ra start
expect_rc 0 "start when running: done already"
ra stop
expect_rc 0 "stop"
ra monitor
expect_rc 7 "monitor after stop"
ra stop
expect_rc 0 "stop when stopped"
OCF_RESKEY_config="$T/missing.xml" ra validate-all
expect_rc 6 "validate-all without the configuration: not configured"
echo "PASS"
