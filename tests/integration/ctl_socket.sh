#!/bin/sh
# The control socket: verbs that change state go through the running engine
# and get its answer; only root and the engine's own user may use it. A user
# who cannot even reach the socket is told so; one who reaches it (given the
# right to pass any file permission, so that neither where this tree lives
# nor the socket's mode stops it) is refused by the engine itself
# (SO_PEERCRED), and nothing changes either way. Without an engine the same
# verbs change the store directly.
. "$(dirname "$0")/lib.sh"
hold_port DOWN
cat >"$T/routes.xml" <<XML
<?xml version="1.0"?>
<routes>
  <destination name="ris" host="127.0.0.1" port="$DOWN" ack-timeout="2" max-retry-delay="1"/>
  <route name="orders"><match type="ORM^O01"/><forward to="ris"/></route>
</routes>
XML
printf 'MSH|^~\\&|RIS|RAD|RADLINK|HOSP|20261122093000||ORM^O01|C1|P|2.5.1\rPID|1||P1^^^HOSP^MR||DOE^JANE||19700304|F\rORC|NW|OC1\rOBR|1|OC1||CT^CT chest^L|||20261122101500\r\n' >"$T/c1.hl7"
start_engine --routes "$T/routes.xml"
expect_has "$(mllp_send --loose --file "$T/c1.hl7" --port "$PORT" 127.0.0.1)" "MSA|AA|C1" "queued"
Q=$("$RADLINK" queue list --data "$T/var" | awk '$1 == "ris" {print $2; exit}')

note "the engine's user: the engine does it and answers"
run_rc "$RADLINK" queue park --data "$T/var" ris "$Q"
expect_rc 0 "park through the engine"
expect_has "$OUT" "message $Q of ris parked" "the engine's answer"
run_rc "$RADLINK" queue park --data "$T/var" ris "$Q"
expect_rc 1 "parking it again"
expect_has "$ERR" "is parked already" "the engine's refusal, with the reason"
expect_eq "$(stat -c %a "$T/var/control.sock")" 600 "the socket is private"

AS_NOBODY="setpriv --reuid=nobody --regid=nogroup --clear-groups"
note "another user cannot reach the engine"
run_rc $AS_NOBODY "$RADLINK" queue retry --data "$T/var" ris "$Q"
expect_rc 1 "refused"
expect_has "$ERR" "only root and the engine's user may control the engine" "says who may"

note "another user who reaches the socket is refused by the engine"
# nobody with CAP_DAC_OVERRIDE: past every directory's and the socket's mode
PAST_MODES="$AS_NOBODY --inh-caps=+dac_override --ambient-caps=+dac_override"
run_rc $PAST_MODES "$RADLINK" queue retry --data "$T/var" ris "$Q"
expect_rc 1 "refused by the engine"
expect_has "$ERR" "not allowed: uid 65534 may not control this engine" "the engine's answer"
run_rc "$RADLINK" queue list --data "$T/var" --state parked
expect_has "$OUT" "parked by an administrator" "nothing changed"
run_rc $PAST_MODES "$RADLINK" routes reload --data "$T/var"
expect_rc 1 "a reload too"
expect_has "$ERR" "not allowed: uid 65534 may not control this engine" "by the engine too"

note "root may"
run_rc "$RADLINK" queue retry --data "$T/var" ris "$Q"
expect_rc 0 "retry through the engine"
expect_has "$OUT" "1 message of ris back in the queue" "the engine's answer"
stop_engine

note "without an engine the same verbs change the store"
run_rc "$RADLINK" queue park --data "$T/var" ris "$Q"
expect_rc 0 "park on the store"
expect_has "$OUT" "message $Q of ris parked" "the same words"
run_rc "$RADLINK" routes reload --data "$T/var"
expect_rc 1 "nothing to reload without an engine"
expect_has "$ERR" "no engine runs on data directory" "says so"

note "a data directory too deep for a socket path: the socket goes to a private directory"
DEEP=$T/$(printf '%070d' 0)/$(printf '%070d' 1)/var
mkdir -p "$DEEP"
"$RADLINK" serve --http 0 --dicom 0 --data "$DEEP" --mllp auto >"$T/deep.log" 2>&1 &
DEEP_PID=$!
PIDS="$PIDS $DEEP_PID"
wait_cmd 10 "live \(from the engine\)" "$RADLINK" status --data "$DEEP"
# $TMPDIR when it is set and short enough, else the system's (/tmp)
TMPD=${TMPDIR:-/tmp}
case "$TMPD" in /*) [ ${#TMPD} -le 32 ] || TMPD=/tmp ;; *) TMPD=/tmp ;; esac
SOCKDIR=$TMPD/radlink-$(id -u)
expect_eq "$(stat -c %a "$SOCKDIR")" 700 "only its owner may enter it"
[ -S "$(ls -d "$SOCKDIR"/*-control.sock | head -1)" ] || fail "the socket is there: $(ls "$SOCKDIR")"
# nobody may read the data directory (CAP_DAC_READ_SEARCH: this tree's
# location does not stop it) but not enter the socket's directory
PAST_READS="$AS_NOBODY --inh-caps=+dac_read_search --ambient-caps=+dac_read_search"
run_rc $PAST_READS "$RADLINK" routes reload --data "$DEEP"
expect_rc 1 "another user is refused there too"
run_rc "$RADLINK" status --data "$DEEP"
expect_not_has "$OUT" "last reload ok" "no reload happened"
kill -TERM "$DEEP_PID"
wait_exit "$DEEP_PID" 15
expect_eq "$RC" 0 "the engine stops cleanly"
note "ok"
