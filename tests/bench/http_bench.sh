#!/bin/sh
# /metrics scrape benchmark, in one run: radlink with a 100,000-message log
# (orders and ADTs sent over 16 MLLP connections by mllp_load, every ACK
# after its commit), scraped 50 times with curl, beside Orthanc's own
# Prometheus endpoint (/tools/metrics-prometheus, Debian's orthanc with an
# empty store) scraped the same way: the PACS's metrics a user already
# scrapes. Reports the median and worst scrape time, the scrape's size and
# the engine's resident memory (RSS) before and after.
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
port() { /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_http() { i=0; until curl -sf -o /dev/null "$1"; do i=$((i+1)); [ $i -lt 200 ] || { echo "$1 did not answer" >&2; exit 1; }; sleep 0.05; done; }
pids=""
trap 'for p in $pids; do kill $p 2>/dev/null || true; done' EXIT

# time_scrapes URL N: "median worst bytes" in ms and bytes
time_scrapes() {
    : >"$work/times"
    k=0
    while [ $k -lt "$2" ]; do
        curl -s -o "$work/scrape" -w '%{time_total}\n' "$1" >>"$work/times"
        k=$((k + 1))
    done
    sort -n "$work/times" | awk -v bytes="$(wc -c <"$work/scrape")" \
        '{ t[NR] = $1 * 1000 } END { printf "%.2f %.2f %d\n", t[int((NR + 1) / 2)], t[NR], bytes }'
}

mp=$(port) hp=$(port)
mkdir -m 700 "$work/var"
"$radlink" serve --data "$work/var" --mllp "$mp" --dicom 0 --http "$hp" --workers 0 \
    --log-level warn >"$work/engine.log" 2>&1 &
epid=$!
pids="$pids $epid"
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
curl -s "http://127.0.0.1:$hp/metrics" >"$work/final.txt"
if command -v promtool >/dev/null; then
    promtool check metrics <"$work/final.txt" >/dev/null 2>&1 ||
        { echo "promtool check metrics failed" >&2; exit 1; }
fi
kill "$epid"
wait "$epid" 2>/dev/null || true

# Orthanc's Prometheus endpoint, same machine, same run
op=$(port) od=$(port)
mkdir -p "$work/orthanc/db"
cat >"$work/orthanc/orthanc.json" <<EOF
{ "Name": "bench", "StorageDirectory": "$work/orthanc/db", "IndexDirectory": "$work/orthanc/db",
  "HttpPort": $op, "DicomPort": $od, "RemoteAccessAllowed": false, "AuthenticationEnabled": false,
  "MetricsEnabled": true, "Plugins": [] }
EOF
Orthanc "$work/orthanc/orthanc.json" >"$work/orthanc.log" 2>&1 &
pids="$pids $!"
wait_http "http://127.0.0.1:$op/system"
read -r omed oworst obytes <<EOF
$(time_scrapes "http://127.0.0.1:$op/tools/metrics-prometheus" "$scrapes")
EOF

echo "log: $logged messages ($(cat "$work/load.txt"))"
echo "radlink /metrics: median $med ms, worst $worst ms over $scrapes scrapes, $bytes bytes"
echo "Orthanc /tools/metrics-prometheus (empty store): median $omed ms, worst $oworst ms, $obytes bytes"
awk -v a="$med" -v b="$omed" 'BEGIN { if (b > 0) printf "ratio radlink/Orthanc (median): %.2f\n", a / b }'
echo "radlink RSS at start: $rss0"
echo "radlink RSS after the load and the scrapes: $rss1"
