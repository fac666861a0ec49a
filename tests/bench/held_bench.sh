#!/bin/sh
# Held slots: what 1,000 hostile connections cost the peers radlink serves,
# in one run, on one machine. The same engine is measured quiet, then while
# held_slots.py (tests/integration) holds 1,000 connections from 50
# addresses: partial MLLP frames, half-open TLS handshakes, silent DICOM
# connections and unfinished HTTP requests, each reopened a tenth of a
# second after the engine closes it.
#   - ingest: mllp_load, 16 connections from 127.0.0.1, each waiting for
#     every ACK (the default routes: orders to the worklist, ADT, ORU);
#   - C-FIND: findscu against a worklist of 200 entries, mean and slowest of
#     the runs (each run includes findscu's own ~100 ms start);
#   - the console: curl's time for /healthz.
# Usage: held_bench.sh [--smoke]
#   RADLINK, MLLP_LOAD: binaries (default under build/); SRC: the source tree; WORK: scratch dir
set -eu
here=$(cd "$(dirname "$0")" && pwd)
smoke=0
if [ "${1:-}" = "--smoke" ]; then smoke=1; shift; fi
radlink=${RADLINK:-$here/../../build/radlink}
load=${MLLP_LOAD:-$here/../../build/tests/mllp_load}
src=${SRC:-$here/../..}
work=${WORK:-$(mktemp -d)}/bench_held
rm -rf "$work"
mkdir -p "$work"
. "$here/lib.sh"
if [ $smoke = 1 ]; then conns=4 per=50 runs=3 hostile=200; else conns=16 per=1000 runs=20 hostile=1000; fi
pids=""
trap 'for p in $pids; do kill -9 "$p" 2>/dev/null || true; done' EXIT

printf '<radlink><log level="warn"/><jobs workers="0"/></radlink>\n' >"$work/cfg.xml"
"$radlink" serve --data "$work/var" --config "$work/cfg.xml" --mllp auto --dicom auto \
    --http auto >"$work/radlink.log" 2>&1 &
pids="$pids $!"
bench_ports "$work/var" "$work/radlink.log" $!
dport=$rport
# a worklist to query: 200 orders (and the ADT and ORU of the mix)
"$load" 127.0.0.1 "$mport" 4 84 >/dev/null

cat >"$work/q.dump" <<'DUMP'
(0008,0050) SH []
(0010,0010) PN []
(0040,0100) SQ (Sequence with undefined length)
(fffe,e000) na (Item with undefined length)
(0008,0060) CS []
(0040,0009) SH []
(fffe,e00d) na (ItemDelimitationItem)
(fffe,e0dd) na (SequenceDelimitationItem)
DUMP
dump2dcm "$work/q.dump" "$work/q.dcm" 2>/dev/null

# The attackers run on this machine: their reconnecting takes CPU the engine
# would otherwise have (on a 2-core machine, much of one core).
# measure FIRST: "msgs_per_s find_mean_ms find_max_ms curl_ms", the messages'
# control IDs from FIRST on (new messages each time, never retransmissions)
measure() {
    r=$("$load" 127.0.0.1 "$mport" "$conns" "$per" "$1" | grep RESULT)
    case "$r" in *"non_aa=0 failures=0"*) ;; *) echo "not every message got AA: $r" >&2; exit 1;; esac
    rate=$(echo "$r" | sed -n 's/.*msgs_per_s=\([0-9.]*\).*/\1/p')
    sum=0 max=0 k=0
    while [ $k -lt $runs ]; do
        t0=$(now_ms)
        findscu -W -aec RADLINK 127.0.0.1 "$dport" "$work/q.dcm" >"$work/find.out" 2>&1 ||
            { echo "findscu failed: $(tail -3 "$work/find.out")" >&2; exit 1; }
        t=$(($(now_ms) - t0))
        sum=$((sum + t))
        [ $t -le $max ] || max=$t
        k=$((k + 1))
    done
    c=$(curl -sf -o /dev/null -w '%{time_total}' "http://127.0.0.1:$hport/healthz") ||
        { echo "the console did not answer" >&2; exit 1; }
    echo "$rate $((sum / runs)) $max $(awk "BEGIN{printf \"%.0f\", $c * 1000}")"
}

measure 100000 >/dev/null # warm-up: the store's file grows to its working size first
quiet=$(measure 200000)
/usr/bin/python3 "$src/tests/integration/held_slots.py" "$work/attack" \
    "mllp:$mport:$((hostile * 2 / 5))" "dicom:$dport:$((hostile * 2 / 5))" \
    "http:$hport:$((hostile / 5))" --addrs 50 &
apid=$!
pids="$pids $apid"
i=0
until [ -s "$work/attack" ] && awk -v n="$hostile" '{exit !($4 >= n)}' "$work/attack"; do
    i=$((i + 1))
    [ $i -lt 600 ] || { echo "the attackers did not connect: $(cat "$work/attack" 2>/dev/null)" >&2; exit 1; }
    sleep 0.1
done
held=$(measure 300000)
attack=$(cat "$work/attack")
listeners=$("$radlink" status --data "$work/var" | grep "^listener ")
kill -TERM "$apid"
wait "$apid" 2>/dev/null || true
after=$(measure 400000)

set -- $quiet; qr=$1 qf=$2 qm=$3 qc=$4
set -- $held; hr=$1 hf=$2 hm=$3 hc=$4
set -- $after; ar=$1 af=$2 am=$3 ac=$4
echo "Held slots: $hostile hostile connections from 50 addresses (2/5 partial MLLP frames,"
echo "2/5 silent DICOM connections, 1/5 unfinished HTTP requests), reopened when closed"
f='%-44s %10s %14s %14s %10s\n'
printf "$f" "" "ingest msg/s" "C-FIND mean ms" "C-FIND max ms" "console ms"
printf "$f" "radlink, no hostile connection" "$qr" "$qf" "$qm" "$qc"
printf "$f" "radlink, $hostile hostile connections kept up" "$hr" "$hf" "$hm" "$hc"
printf "$f" "radlink, no hostile connection (after)" "$ar" "$af" "$am" "$ac"
# the store grows run by run (and ingest slows with it): quiet is the mean
# of the runs before and after the attack
echo "under attack: ingest $(awk "BEGIN{printf \"%.2f\", 2*$hr/($qr+$ar)}")x of quiet ($conns connections)," \
     "C-FIND mean $(awk "BEGIN{printf \"%.2f\", 2*$hf/($qf+$af)}")x of quiet's time"
echo "attackers at the end: $attack"
echo "$listeners" | sed 's/^/while attacked: /'
