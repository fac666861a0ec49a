#!/bin/sh
# Alerts, measured in one run:
#   - the time from a condition starting to the first e-mail received: 20
#     destinations that are down, one message sent to each in turn, the
#     queue-depth rule firing for it, the mail taken by Debian's
#     python3-aiosmtpd with STARTTLS and authentication (as a department's
#     relay would ask); median and worst over the 20, with <alerts every="1s">
#     (the default, 30 s, adds up to 30 s of waiting for the next look);
#   - the cost of the rules to ingest: mllp_load at 16 connections on the
#     built-in routes, without <alerts> and with 20 rules looked at every
#     second (every kind: queues, jobs, studies, reports, certificates, store,
#     disk, audit, workers), same run, same machine.
# Usage: alert_bench.sh [--smoke]
#   RADLINK, MLLP_LOAD: binaries (default under build/); WORK: scratch dir
set -eu
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
smoke=0
if [ "${1:-}" = "--smoke" ]; then smoke=1; shift; fi
radlink=${RADLINK:-$here/../../build/radlink}
load=${MLLP_LOAD:-$here/../../build/tests/mllp_load}
work=${WORK:-$(mktemp -d)}/bench_alert
rm -rf "$work"
mkdir -p "$work"
pids=""
trap 'for p in $pids; do kill -9 $p 2>/dev/null || true; done' EXIT
if [ $smoke = 1 ]; then
    alerts=3 conns=4 per=50 warmper=25
else
    alerts=20 conns=16 per=1000 warmper=1000
fi
wait_file() { # wait_file SECONDS CONDITION
    w=0
    until sh -c "$2"; do
        w=$((w + 1))
        [ $w -lt $(($1 * 20)) ] || { echo "timed out: $2" >&2; exit 1; }
        sleep 0.05
    done
}

# ---- the time to the first mail ----
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$work/smtp.key" -out "$work/smtp.pem" \
    -days 30 -subj "/CN=localhost" -addext "subjectAltName=IP:127.0.0.1" 2>/dev/null
printf 'bench-pass\n' >"$work/pass"
mkdir -p "$work/sinks"
/usr/bin/python3 "$here/../integration/alert_sinks.py" "$work/sinks" "$work/smtp.pem" \
    "$work/smtp.key" radlink bench-pass token >"$work/sinks.log" 2>&1 &
pids="$pids $!"
wait_file 20 "[ -s '$work/sinks/ports' ]"
smtp=$(sed -n 's/^smtp //p' "$work/sinks/ports")
# the destinations: ports bound and never listening (down), held all along
/usr/bin/python3 -c 'import socket, sys, time
socks = []
for i in range(int(sys.argv[1])):
    s = socket.socket(); s.bind(("127.0.0.1", 0)); socks.append(s)
print(" ".join(str(s.getsockname()[1]) for s in socks), flush=True)
time.sleep(86400)' "$alerts" >"$work/held" &
pids="$pids $!"
wait_file 10 "[ -s '$work/held' ]"
{
    echo '<?xml version="1.0"?><routes>'
    i=1
    for p in $(cat "$work/held"); do
        echo "<destination name=\"d$i\" host=\"127.0.0.1\" port=\"$p\" ack-timeout=\"5\" max-retry-delay=\"60\"/>"
        i=$((i + 1))
    done
    i=1
    while [ $i -le $alerts ]; do
        echo "<route name=\"r$i\"><match type=\"ORM^O01\"/><when><equals path=\"MSH-5\" value=\"D$i\"/></when><forward to=\"d$i\"/></route>"
        i=$((i + 1))
    done
    echo '</routes>'
} >"$work/routes.xml"
cat >"$work/alerts.xml" <<XML
<radlink><log level="warn"/><jobs workers="0"/>
  <alerts every="1s">
    <email url="smtp://127.0.0.1:$smtp" from="radlink@bench.test" to="admin@bench.test"
           user="radlink" password-file="$work/pass" ca="$work/smtp.pem"/>
    <rule on="queue-depth" over="0"/>
  </alerts>
</radlink>
XML
"$radlink" serve --http 0 --dicom 0 --data "$work/lat" --mllp auto --config "$work/alerts.xml" \
    --routes "$work/routes.xml" >"$work/lat.log" 2>&1 &
lpid=$!
pids="$pids $lpid"
bench_ports "$work/lat" "$work/lat.log" $lpid
: >"$work/latencies"
i=1
while [ $i -le $alerts ]; do
    printf 'MSH|^~\\&|RIS|RAD|D%d|HOSP|20261206093000||ORM^O01|B%d|P|2.5.1\rPID|1||BENCH%d^^^HOSP^MR||DOE^JANE\rORC|NW|O%d\rOBR|1|O%d||CT^CT\r' \
        $i $i $i $i $i >"$work/m$i.hl7"
    # a random moment in the rules' second: the condition starts whenever it does
    /usr/bin/python3 -c 'import random, time; time.sleep(random.random())'
    t0=$(now_ms)
    mllp_send --loose --file "$work/m$i.hl7" --port "$mport" 127.0.0.1 >"$work/m$i.out"
    grep -q 'MSA|AA' "$work/m$i.out" || { echo "message $i not ACKed AA" >&2; exit 1; }
    wait_file 60 "grep -l 'FIRING: queue-depth d$i[^0-9]' '$work'/sinks/mail/*.eml 2>/dev/null | grep -q ."
    got=$(grep -l "FIRING: queue-depth d$i[^0-9]" "$work"/sinks/mail/*.eml | head -1)
    t1=$(sed -n 's/^X-Received-Ms: \([0-9]*\).*/\1/p' "$got")
    echo $((t1 - t0)) >>"$work/latencies"
    i=$((i + 1))
done
kill -TERM "$lpid"
wait "$lpid" || true
lat=$(sort -n "$work/latencies" | awk '{v[NR]=$1} END {m = NR % 2 ? v[(NR+1)/2] : (v[NR/2]+v[NR/2+1])/2; printf "%d %d %d", m, v[1], v[NR]}')
set -- $lat
echo "time from a destination's queue starting to grow to the first e-mail received"
echo "($alerts alerts, <alerts every=\"1s\">, SMTP with STARTTLS and authentication):"
echo "  median $1 ms, best $2 ms, worst $3 ms"

# ---- the rules' cost to ingest ----
rules() {
    for r in 'queue-depth" over="1000' 'queue-depth" over="100" for="5m' 'queue-age" older="30m' \
             'queue-age" older="4h' 'parked" over="0' 'parked" over="10' 'dead-jobs' \
             'dead-jobs" over="10' 'unverified-jobs' 'unverified-jobs" over="10' \
             'unmatched" older="1d' 'unmatched" older="4h' 'waiting-reports" older="1d' \
             'waiting-reports" older="4h' 'certificate" within="30d' 'certificate" within="7d' \
             'store-use" over="90' 'disk-use" over="99' 'audit-down" older="15m' 'worker-lost'; do
        echo "<rule on=\"$r\"/>"
    done
}
ingest() { # ingest NAME WITH_RULES: msgs/s at $conns connections
    d=$work/$1
    {
        echo '<radlink><log level="warn"/><jobs workers="0"/>'
        if [ "$2" = 1 ]; then
            echo "<alerts every=\"1s\"><syslog socket=\"$work/no.sock\"/>"
            rules
            echo '</alerts>'
        fi
        echo '</radlink>'
    } >"$d.xml"
    "$radlink" serve --http 0 --dicom 0 --data "$d" --mllp auto --config "$d.xml" >"$d.log" 2>&1 &
    ipid=$!
    pids="$pids $ipid"
    bench_ports "$d" "$d.log" $ipid
    p=$mport
    "$load" 127.0.0.1 "$p" "$conns" "$warmper" >/dev/null
    r=$("$load" 127.0.0.1 "$p" "$conns" "$per" | grep RESULT)
    kill -TERM "$ipid"
    wait "$ipid" || true
    case "$r" in *"non_aa=0 failures=0"*) ;; *) echo "not every message got AA: $r" >&2; exit 1;; esac
    echo "$r" | sed -n 's/.*msgs_per_s=\([0-9]*\).*/\1/p'
}
[ "$(rules | wc -l)" = 20 ] || { echo "not 20 rules" >&2; exit 1; }
none=$(ingest plain 0)
with=$(ingest rules 1)
none2=$(ingest plain2 0)
with2=$(ingest rules2 1)
echo "MLLP ingest at $conns connections (built-in routes), two runs each, alternated:"
echo "  without <alerts>:             $none, $none2 msg/s"
echo "  with 20 rules every second:   $with, $with2 msg/s"
[ "$none" -gt 0 ] && [ "$with" -gt 0 ] || { echo "no figures" >&2; exit 1; }
echo "  ratio (with / without, best of two): $(awk "BEGIN{a=$with>$with2?$with:$with2; b=$none>$none2?$none:$none2; printf \"%.3f\", a/b}")"
