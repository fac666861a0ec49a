#!/bin/sh
# MPPS forwarded to the PACS (<pacs mpps="true">): every N-CREATE and N-SET a
# modality sends (dcmjs-dimse's client, tests/js/mpps_scu.js) is replayed in
# order to the PACS's MPPS SCP (dcmjs-dimse's server, tests/js/mpps_pacs_scp.js,
# which keeps the steps as PS3.4 F.7 says: an N-SET before its N-CREATE
# would get 0112). A PACS that is down gets them when it is back, in order;
# one that refuses them parks them for `radlink queue retry`.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/mpps_lib.sh"

# The PACS's port is held for the whole test (mllp_sink.py --hold): while the
# PACS is down a connection is refused at once, and no other test can take
# the port meanwhile. Up, a proxy listens there beside the holder
# (slow_proxy.py --held, no delay) and passes each association on to one of
# two MPPS SCPs, on ports the system picked: one that takes the steps, one
# that refuses them. Both write the same log.
/usr/bin/python3 "$SRC/tests/integration/mllp_sink.py" --hold >"$T/held" &
PIDS="$PIDS $!"
wait_until 10 "[ -s '$T/held' ]"
PACS_PORT=$(cat "$T/held")
scp() { # scp NAME [refuse]: an MPPS SCP; its port in $T/NAME.port
    name=$1
    shift
    node "$SRC/tests/js/mpps_pacs_scp.js" 0 PACS "$T/pacs.log" "$@" >"$T/$name.out" 2>&1 &
    PIDS="$PIDS $!"
    wait_for "$T/$name.out" "^ready [0-9]" 10
    sed -n 's/^ready \([0-9]*\)$/\1/p' "$T/$name.out" >"$T/$name.port"
}
scp takes
scp refuses refuse
start_pacs() { # start_pacs [refuse]
    upstream=$(cat "$T/takes.port")
    [ "${1:-}" = refuse ] && upstream=$(cat "$T/refuses.port")
    : >"$T/proxy.out"
    /usr/bin/python3 "$SRC/tests/integration/slow_proxy.py" "$PACS_PORT" "$upstream" 0 --held \
        >"$T/proxy.out" 2>&1 &
    PACS_PID=$!
    PIDS="$PIDS $PACS_PID"
    wait_for "$T/proxy.out" "ready $PACS_PORT" 10
}
stop_pacs() { kill "$PACS_PID"; wait_exit "$PACS_PID" 10; }
# pacs_saw OP UID: the PACS's answer to that request (its last), or nothing
pacs_saw() {
    /usr/bin/python3 -c 'import json, sys
a = ""
for l in open(sys.argv[1]):
    r = json.loads(l)
    if r["op"] == sys.argv[2] and r["uid"] == sys.argv[3]:
        a = "%04x" % r["answer"]
print(a)' "$T/pacs.log" "$1" "$2"
}
wait_pacs() { # wait_pacs OP UID ANSWER
    i=0
    until [ "$(pacs_saw "$1" "$2")" = "$3" ]; do
        i=$((i + 1))
        [ $i -le $(($(scaled 30) * 10)) ] || fail "the PACS did not answer $1 $2 with $3: $(cat "$T/pacs.log"; "$RADLINK" queue list --data "$T/var")"
        sleep 0.1
    done
}
U=1.2.826.0.1.3680043.2.1125.8

start_pacs
cat >"$T/cfg.xml" <<XML
<radlink>
  <dicom><pacs ae="PACS" host="127.0.0.1" port="$PACS_PORT" verify="none" mpps="true"/></dicom>
</radlink>
XML
start_engine --config "$T/cfg.xml"

note "N-CREATE and N-SET reach the PACS, in order, from radlink's AE title"
{ echo '['; create $U.1 A1 RP1 S1 1.2.826.0.1.3680043.2.1125.7.1; echo ','
  finish $U.1 COMPLETED; echo ']'; } >"$T/u1.json"
mpps u1
expect_eq "$(echo "$OUT" | grep -c ' 0000 ')" 2 "the modality's two requests succeed"
wait_pacs set $U.1 0000
expect_eq "$(pacs_saw create $U.1)" "0000" "the PACS created the step"
first=$(head -1 "$T/pacs.log")
expect_has "$first" "\"op\":\"create\",\"uid\":\"$U.1\",\"called\":\"PACS\",\"calling\":\"RADLINK\"" "N-CREATE first, from RADLINK to PACS"
expect_has "$first" '"status":"IN PROGRESS"' "the N-CREATE's data set"
expect_has "$first" 'DOE^JANE' "the patient"
expect_has "$(sed -n 2p "$T/pacs.log")" '"op":"set"' "then the N-SET"
expect_has "$(sed -n 2p "$T/pacs.log")" '"status":"COMPLETED"' "the N-SET's data set"
wait_cmd 10 "^\\(0 pending, 0 parked\\)$" "$RADLINK" queue list --data "$T/var"

note "the PACS is down: the modality is answered, the PACS gets both when it is back"
stop_pacs
{ echo '['; create $U.2 A2 RP2 S2 1.2.826.0.1.3680043.2.1125.7.2; echo ','
  finish $U.2 DISCONTINUED; echo ']'; } >"$T/u2.json"
mpps u2
expect_eq "$(echo "$OUT" | grep -c ' 0000 ')" 2 "the modality is not kept waiting"
# the queue says what fails
wait_cmd 10 "^mpps:PACS +[0-9]+ +pending .*PACS@127.0.0.1:$PACS_PORT: .*refused" \
    "$RADLINK" queue list --data "$T/var"
start_pacs
wait_pacs set $U.2 0000
expect_eq "$(pacs_saw create $U.2)" "0000" "the N-CREATE went first"
wait_cmd 10 "^\\(0 pending, 0 parked\\)$" "$RADLINK" queue list --data "$T/var"

note "a PACS that refuses: parked with its status, sent again by an operator"
stop_pacs
start_pacs refuse
{ echo '['; create $U.3 A3 RP3 S3 1.2.826.0.1.3680043.2.1125.7.3; echo ']'; } >"$T/u3.json"
mpps u3
expect_has "$OUT" "create $U.3 0000" "the modality's N-CREATE succeeds"
wait_cmd 10 "^mpps:PACS +[0-9]+ +parked .*N-CREATE of $U.3: status 0x0110: refused for the test" \
    "$RADLINK" queue list --data "$T/var" --state parked
qseq=$("$RADLINK" queue list --data "$T/var" --state parked | awk '$1 == "mpps:PACS" {print $2; exit}')
stop_pacs
start_pacs
run_rc "$RADLINK" queue retry --data "$T/var" mpps:PACS "$qseq"
expect_rc 0 "queue retry"
wait_pacs create $U.3 0000
wait_cmd 10 "^\\(0 pending, 0 parked\\)$" "$RADLINK" queue list --data "$T/var"
run_rc "$RADLINK" status --data "$T/var"
expect_has "$OUT" "mpps:PACS" "status names the PACS's sender"
stop_engine
