#!/bin/sh
# Held slots: hosts holding silent connections must not lock the RIS, the
# modalities or the operator out. 1,000 connections from 50 addresses
# (127.0.0.2-51, held_slots.py) hold partial MLLP frames, silent DICOM
# connections, half-open TLS handshakes (MLLP and DICOM) and HTTP requests
# without their end, reconnecting whenever they are closed; meanwhile the
# RIS sends orders (mllp_send), a modality queries the worklist (findscu)
# and checks the link (echoscu), an operator asks the console (curl): each
# kind's median answer comes within a second (scaled for slow builds),
# every order is on the worklist afterwards, and `radlink status` shows the pressure and what
# was shed. Then the same with allow-from set: the attackers are closed at
# accept, counted, and audited once per address a minute.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/mwl_lib.sh"

# under attack the median answer of each kind must come within a second
# (scaled for slow builds), or within four times the slowest answer of the
# same engine unloaded when the machine is that slow: a peer locked out
# waits for a stress timeout (2 s and more) every time, where a loaded
# machine slows a few answers; no single answer may take HARD_MS
BASE_MS=$(($(scaled 1) * 1000))
HARD_MS=$(($(scaled 10) * 1000))
LIMIT_MS=$HARD_MS
P=$T/pki
make_pki "$P" radlink
DTLS=$(free_port)

# config ALLOW: the engine's file; ALLOW (may be empty) is every listener's allow-from
config() {
    a=${1:+ allow-from=\"$1\"}
    cat >"$T/cfg.xml" <<XML
<radlink>
  <mllp$a>
    <listen bind="127.0.0.1" port="auto"/>
    <listen bind="127.0.0.1" port="auto">
      <tls cert="$P/radlink.pem" key="$P/radlink.key"/>
    </listen>
  </mllp>
  <dicom bind="127.0.0.1"$a>
    <tls port="$DTLS" cert="$P/radlink.pem" key="$P/radlink.key"/>
  </dicom>
  <http$a/>
</radlink>
XML
}

query all <<'DUMP'
(0008,0050) SH []
(0010,0010) PN []
(0040,0100) SQ (Sequence with undefined length)
(fffe,e000) na (Item with undefined length)
(0008,0060) CS []
(0040,0009) SH []
(fffe,e00d) na (ItemDelimitationItem)
(fffe,e0dd) na (SequenceDelimitationItem)
DUMP

now_ms() { date +%s%3N; }
# timed KIND WHAT CMD...: run CMD, which must succeed within HARD_MS; its
# time goes to $T/took.KIND for check_took
timed() {
    kind=$1 what=$2
    shift 2
    t0=$(now_ms)
    run_rc "$@"
    took=$(($(now_ms) - t0))
    expect_rc 0 "$what"
    [ "$took" -le "$HARD_MS" ] || fail "$what took $took ms (limit $HARD_MS ms)"
    echo "$took" >>"$T/took.$kind"
    TOOK_MAX=$((took > TOOK_MAX ? took : TOOK_MAX))
}
# check_took: each kind's median answer since the last check within LIMIT_MS
check_took() {
    for f in "$T"/took.*; do
        m=$(sort -n "$f" | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }')
        [ "$m" -le "$LIMIT_MS" ] ||
            fail "${f##*took.}: median answer $m ms (limit $LIMIT_MS ms): $(tr '\n' ' ' <"$f")"
    done
    rm -f "$T"/took.*
}
# serve_all N: order N from the RIS, a worklist query, an echo, the console
serve_all() {
    orm "C$1" NW "A$1" "S$1" CT CT01 202612071000 'DOE^JANE' >"$T/o$1.hl7"
    timed order "order $1 ACKed" mllp_send --loose --file "$T/o$1.hl7" --port "$PORT" 127.0.0.1
    expect_has "$OUT" "MSA|AA|C$1" "order $1 accepted"
    timed find "C-FIND" findscu -W -aec RADLINK 127.0.0.1 "$DICOM_PORT" "$T/all.dcm"
    timed echo "C-ECHO" echoscu -aec RADLINK 127.0.0.1 "$DICOM_PORT"
    timed health "the console" curl -sf -o /dev/null "http://127.0.0.1:$HTTP_PORT/healthz"
    timed page "the console's page" curl -sf -o /dev/null "http://127.0.0.1:$HTTP_PORT/"
}
status() { "$RADLINK" status --data "$T/var"; }

# attack SECONDS: the attackers, 1,000 connections from 50 addresses
attack() {
    /usr/bin/python3 "$SRC/tests/integration/held_slots.py" "$T/attack" \
        "mllp:$PORT:400" "tls:$MLLP_TLS:100" "dicom:$DICOM_PORT:300" "tls:$DTLS:50" \
        "tls-part:$DTLS:50" "http:$HTTP_PORT:100" --addrs 50 --seconds "$1" &
    ATTACK_PID=$!
    PIDS="$PIDS $ATTACK_PID"
    wait_until 60 "[ -s '$T/attack' ] && awk '{exit !(\$4 >= 1000)}' '$T/attack'"
}
stop_attack() {
    kill -TERM "$ATTACK_PID" 2>/dev/null || true
    wait "$ATTACK_PID" 2>/dev/null || true
}

config ""
start_engine --config "$T/cfg.xml"
MLLP_TLS=$(status | sed -n 's/^listening mllp [^,]*, 127\.0\.0\.1:\([0-9]*\) tls,.*/\1/p')
[ -n "$MLLP_TLS" ] || fail "status names the MLLP TLS listener: $(status)"

note "unloaded: the RIS, the modality and the console are answered"
TOOK_MAX=0
serve_all 0
note "unloaded: slowest answer $TOOK_MAX ms"
LIMIT_MS=$((4 * TOOK_MAX > BASE_MS ? 4 * TOOK_MAX : BASE_MS))
rm -f "$T"/took.*

note "1,000 hostile connections from 50 addresses: every listener under pressure"
attack 600
wait_cmd 30 "^listener mllp: 256 of 256 connections open, .*pressure yes" status
wait_cmd 30 "^listener dicom: .*pressure yes" status
wait_cmd 30 "^listener http: 64 of 64 .*pressure yes" status
TOOK_MAX=0
for i in 1 2 3 4 5 6 7 8 9 10; do
    serve_all "$i"
done
note "under attack: slowest answer $TOOK_MAX ms; attackers: $(cat "$T/attack")"
check_took
S=$(status)
expect_line "$S" "^listener mllp: .*evicted [1-9][0-9]*," "status counts the MLLP evictions"
expect_line "$S" "^listener dicom: .*closed waiting [1-9][0-9]*," \
    "status counts the silent DICOM connections closed by the stress timeout"
wait_cmd 30 "^dicom tls port $DTLS: .*failed before the association request [1-9]" status
expect_line "$S" "^listener http: .*evicted [1-9][0-9]*," "status counts the HTTP evictions"
M=$(curl -sf "http://127.0.0.1:$HTTP_PORT/metrics")
expect_line "$M" '^radlink_listener_pressure\{listener="mllp"\} 1$' "/metrics shows the pressure"
expect_line "$M" '^radlink_listener_evicted_total\{listener="mllp"\} [1-9]' "/metrics counts evictions"
stop_attack

note "nothing accepted is lost: the eleven orders are on the worklist"
find_wl "$DICOM_PORT" all
expect_eq "$(echo "$MATCHES" | wc -w)" 11 "the worklist holds every order"
note "the pressure ends with the attack"
wait_cmd 60 "^listener mllp: .*pressure no" status
wait_cmd 60 "^listener dicom: .*pressure no" status
stop_engine

note "allow-from: the attackers are closed at accept, counted and audited"
config "127.0.0.1 ::1"
# the alerts before (half-open TLS handshakes that failed under the first
# attack, more of them on a slow machine) are not this part's
alerts_before=$("$RADLINK" audit list --data "$T/var" --type 'security alert' --limit 1000000 |
    awk '$1 ~ /^[0-9]+$/ { s = $1 } END { print s + 0 }')
start_engine --config "$T/cfg.xml"
MLLP_TLS=$(status | sed -n 's/^listening mllp [^,]*, 127\.0\.0\.1:\([0-9]*\) tls,.*/\1/p')
attack 600
TOOK_MAX=0
for i in 11 12 13; do
    serve_all "$i"
done
check_took
S=$(status)
expect_line "$S" "^listener mllp: [0-9]+ of 256 connections open, 0 not yet identified, pressure no; .*denied by allow-from [1-9]" \
    "MLLP: the attackers hold nothing, their connections are denied"
wait_cmd 30 "^listener dicom: 0 of 512 .*pressure no; .*denied by allow-from [1-9]" status
wait_cmd 30 "^listener dicom-tls: 0 of 512 .*denied by allow-from [1-9]" status
wait_cmd 30 "^listener http: 0 of 64 .*denied by allow-from [1-9]" status
stop_attack
find_wl "$DICOM_PORT" all
expect_eq "$(echo "$MATCHES" | wc -w)" 14 "the worklist holds every order"
note "audited once per address a minute for each listener, not once per connection"
# this part's security alerts about 127.0.0.2 (their BY column)
alerts_of_2() {
    "$RADLINK" audit list --data "$T/var" --type 'security alert' --limit 1000000 |
        awk -v s="$alerts_before" '$1 ~ /^[0-9]+$/ && $1 > s && index($0, "@127.0.0.2 ")' | wc -l
}
i=0
until [ "$(alerts_of_2)" -ge 1 ]; do
    i=$((i + 1))
    [ $i -le $(($(scaled 30) * 10)) ] || fail "127.0.0.2's denial was not audited"
    sleep 0.1
done
run_rc "$RADLINK" audit list --data "$T/var" --type 'security alert' --limit 1000000
expect_rc 0 "audit list"
n=$(alerts_of_2)
[ "$n" -ge 1 ] && [ "$n" -le 4 ] ||
    fail "127.0.0.2 is audited 1 to 4 times (MLLP, DICOM, DICOM TLS, HTTP), not $n: $OUT"
stop_engine
echo "PASS held_slots"
