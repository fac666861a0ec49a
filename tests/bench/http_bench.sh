#!/bin/sh
# /metrics scrape benchmark, in one run: radlink with a 100,000-message log
# (orders and ADTs sent over 16 MLLP connections by mllp_load, every ACK
# after its commit), scraped 50 times with curl, beside Orthanc's own
# Prometheus endpoint (/tools/metrics-prometheus, Debian's orthanc with an
# empty store) scraped the same way: the PACS's metrics a user already
# scrapes. Reports the median and worst scrape time, the scrape's size and
# the engine's resident memory (RSS) before and after. Then the console's
# message browser on that log, logged in as a viewer: the newest page, a
# page deep in the log, a PID-3 search that matches nothing (every message
# read and parsed: the worst case) and one that matches at once, and the
# overview (/api/status, with its last hour from the log); the RSS after.
# Usage: http_bench.sh [--smoke]
#   RADLINK, MLLP_LOAD: binaries (default under build/); WORK: scratch dir
set -eu
here=$(cd "$(dirname "$0")" && pwd)
smoke=0
if [ "${1:-}" = "--smoke" ]; then smoke=1; shift; fi
radlink=${RADLINK:-$here/../../build/radlink}
load=${MLLP_LOAD:-$here/../../build/tests/mllp_load}
work=${WORK:-$(mktemp -d)}/bench_http
rm -rf "$work"
mkdir -p "$work"
if [ $smoke = 1 ]; then conns=4 per=50 scrapes=5; else conns=16 per=6250 scrapes=50; fi
. "$here/lib.sh"
wait_http() { i=0; until curl -sf -o /dev/null "$1"; do i=$((i+1)); [ $i -lt 200 ] || { echo "$1 did not answer" >&2; exit 1; }; sleep 0.05; done; }
pids=""
trap 'for p in $pids; do kill $p 2>/dev/null || true; done' EXIT

# time_scrapes URL N: "median worst bytes" in ms and bytes
time_scrapes() {
    : >"$work/times"
    k=0
    while [ $k -lt "$2" ]; do
        curl -s -b "$work/jar" -o "$work/scrape" -w '%{time_total}\n' "$1" >>"$work/times"
        k=$((k + 1))
    done
    sort -n "$work/times" | awk -v bytes="$(wc -c <"$work/scrape")" \
        '{ t[NR] = $1 * 1000 } END { printf "%.2f %.2f %d\n", t[int((NR + 1) / 2)], t[NR], bytes }'
}

mkdir -m 700 "$work/var"
: >"$work/jar"
echo bench-pass-1 | "$radlink" user add bench --role viewer --data "$work/var" --password-stdin >/dev/null
"$radlink" serve --data "$work/var" --mllp auto --dicom 0 --http auto --workers 0 \
    --log-level warn >"$work/engine.log" 2>&1 &
epid=$!
pids="$pids $epid"
bench_ports "$work/var" "$work/engine.log" $epid
mp=$mport hp=$hport
wait_http "http://127.0.0.1:$hp/readyz"
# resident memory: all, and its parts: the process's own (anonymous) and the
# store's pages mapped from the file (page cache the kernel can drop)
rss() { awk '/^VmRSS/ { a = $2 } /^RssAnon/ { b = $2 } /^RssFile/ { c = $2 }
             END { printf "%d kB (own %d kB, store file pages %d kB)", a, b, c }' "/proc/$epid/status"; }
rss0=$(rss)
"$load" 127.0.0.1 "$mp" "$conns" "$per" | grep RESULT >"$work/load.txt"
logged=$(curl -s "http://127.0.0.1:$hp/metrics" | awk '/^radlink_messages_logged / { print $2 }')
[ "$logged" = $((conns * per)) ] || { echo "expected $((conns * per)) messages, the log has $logged" >&2; exit 1; }
read -r med worst bytes <<EOF
$(time_scrapes "http://127.0.0.1:$hp/metrics" "$scrapes")
EOF
rss1=$(rss)
H=http://127.0.0.1:$hp
curl -s -c "$work/jar" -H 'Content-Type: application/json' \
    --data '{"user": "bench", "password": "bench-pass-1"}' "$H/api/login" >/dev/null
read -r lmed lworst lbytes <<EOF
$(time_scrapes "$H/api/messages?limit=50" "$scrapes")
EOF
grep -q '"seq":'"$logged" "$work/scrape" || { echo "the newest page lacks message $logged" >&2; exit 1; }
read -r dmed dworst dbytes <<EOF
$(time_scrapes "$H/api/messages?limit=50&before=$((logged / 2))" "$scrapes")
EOF
searches=$((scrapes / 5 + 1))
read -r smed sworst sbytes <<EOF
$(time_scrapes "$H/api/messages?limit=50&q=PV1-3.1=NO-SUCH-WARD" "$searches")
EOF
scanned=$(python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(d["scanned"], len(d["messages"]))' "$work/scrape")
[ "$scanned" = "$logged 0" ] || { echo "the search read [$scanned], expected [$logged 0]" >&2; exit 1; }
read -r imed iworst ibytes <<EOF
$(time_scrapes "$H/api/messages?limit=50&q=PID-3.1=NO-SUCH-ID" "$searches")
EOF
scanned=$(python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(d["scanned"], len(d["messages"]), d["index"])' "$work/scrape")
[ "$scanned" = "0 0 patient" ] || { echo "the indexed search read [$scanned], expected [0 0 patient]" >&2; exit 1; }
read -r hmed hworst hbytes <<EOF
$(time_scrapes "$H/api/messages?limit=50&q=PID-3.1=0*" "$scrapes")
EOF
read -r omed_s oworst_s obytes_s <<EOF
$(time_scrapes "$H/api/status" "$scrapes")
EOF
rss2=$(rss)
curl -s "http://127.0.0.1:$hp/metrics" >"$work/final.txt"
if command -v promtool >/dev/null; then
    promtool check metrics <"$work/final.txt" >/dev/null 2>&1 ||
        { echo "promtool check metrics failed" >&2; exit 1; }
fi
kill "$epid"
wait "$epid" 2>/dev/null || true

# Orthanc's Prometheus endpoint, same machine, same run
# (Orthanc's metrics are on by default)
bench_orthanc "$work/orthanc"
op=$ohttp
read -r omed oworst obytes <<EOF
$(time_scrapes "http://127.0.0.1:$op/tools/metrics-prometheus" "$scrapes")
EOF

echo "log: $logged messages ($(cat "$work/load.txt"))"
echo "radlink /metrics: median $med ms, worst $worst ms over $scrapes scrapes, $bytes bytes"
echo "Orthanc /tools/metrics-prometheus (empty store): median $omed ms, worst $oworst ms, $obytes bytes"
awk -v a="$med" -v b="$omed" 'BEGIN { if (b > 0) printf "ratio radlink/Orthanc (median): %.2f\n", a / b }'
echo "radlink RSS at start: $rss0"
echo "radlink RSS after the load and the scrapes: $rss1"
echo "console message list, newest 50: median $lmed ms, worst $lworst ms ($lbytes bytes)"
echo "console message list, 50 from the middle of the log: median $dmed ms, worst $dworst ms"
echo "console search PV1-3.1=NO-SUCH-WARD (no index: all $logged messages read and parsed): median $smed ms, worst $sworst ms over $searches"
echo "console search PID-3.1=NO-SUCH-ID (the patient index: nothing read): median $imed ms, worst $iworst ms over $searches"
echo "console search PID-3.1=0* (50 hits, newest first): median $hmed ms, worst $hworst ms"
echo "console overview (/api/status): median $omed_s ms, worst $oworst_s ms"
echo "radlink RSS after the console's pages and searches: $rss2"
