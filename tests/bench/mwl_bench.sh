#!/bin/sh
# Worklist C-FIND latency: radlink beside DCMTK's wlmscpfs serving the same
# worklist (radlink wl export), in the same run, with DCMTK's findscu as the
# modality. A findscu run costs ~100 ms whatever the server (process start,
# dictionary, association), so each figure is net of that floor: the same
# query against an empty worklist on the same server.
# Usage: mwl_bench.sh [--smoke]
#   RADLINK  the radlink binary (default build/radlink)   WORK  scratch dir
set -eu
here=$(cd "$(dirname "$0")" && pwd)
sizes="1000 10000"
runs=10
if [ "${1:-}" = "--smoke" ]; then sizes=200; runs=2; fi
radlink=${RADLINK:-$here/../../build/radlink}
work=${WORK:-$(mktemp -d)}/bench_mwl
rm -rf "$work"
mkdir -p "$work"
. "$here/lib.sh"

# A modality's query: its station, today's date, the usual return keys.
cat >"$work/q.dump" <<'DUMP'
(0008,0005) CS [ISO_IR 100]
(0008,0050) SH []
(0010,0010) PN []
(0010,0020) LO []
(0010,0030) DA []
(0010,0040) CS []
(0020,000d) UI []
(0032,1060) LO []
(0040,0100) SQ (Sequence with undefined length)
(fffe,e000) na (Item with undefined length)
(0008,0060) CS []
(0040,0001) AE [ST0007]
(0040,0002) DA [20261124]
(0040,0003) TM []
(0040,0009) SH []
(fffe,e00d) na (ItemDelimitationItem)
(fffe,e0dd) na (SequenceDelimitationItem)
(0040,1001) SH []
DUMP
dump2dcm "$work/q.dump" "$work/q.dcm" 2>/dev/null

# ms per query over $runs findscu runs against port $1
time_q() {
    t0=$(now_ms)
    k=0
    while [ $k -lt $runs ]; do
        findscu -W -aec RADLINK 127.0.0.1 "$1" "$work/q.dcm" >"$work/last.out" 2>&1 || { echo "findscu failed" >&2; cat "$work/last.out" >&2; exit 1; }
        k=$((k + 1))
    done
    echo $(( ($(now_ms) - t0) / runs ))
}

start_radlink() { # DATA -> sets RP (dicom port) and RPID
    "$radlink" serve --http 0 --data "$1" --mllp auto --dicom auto >"$1.log" 2>&1 &
    RPID=$!
    bench_ports "$1" "$1.log" $RPID
    RP=$rport MP=$mport
}
start_wlm() { # DIR -> WP WPID
    for attempt in 1 2 3 4 5; do
        WP=$(port)
        wlmscpfs -dfp "$1" "$WP" >"$1.log" 2>&1 &
        WPID=$!
        bench_up $WPID echoscu -aec RADLINK 127.0.0.1 "$WP" && return 0
    done
    echo "wlmscpfs did not start: $(tail -3 "$1.log")" >&2
    exit 1
}

# floors: empty worklists
start_radlink "$work/empty"
r0=$(time_q "$RP")
kill "$RPID"; wait "$RPID" 2>/dev/null || true
mkdir -p "$work/empty_wl/RADLINK"
: >"$work/empty_wl/RADLINK/lockfile"
start_wlm "$work/empty_wl"
w0=$(time_q "$WP")
kill "$WPID"; wait "$WPID" 2>/dev/null || true
echo "floor (empty worklist, one findscu run): radlink ${r0} ms, wlmscpfs ${w0} ms"

for n in $sizes; do
    # n orders over 50 stations and 10 days: ~n/500 match the query
    /usr/bin/python3 - "$n" "$work/orders.$n.hl7" <<'PY'
import sys
n, path = int(sys.argv[1]), sys.argv[2]
with open(path, 'w', newline='') as f:
    for i in range(n):
        st, day = i % 50, 20 + (i // 50) % 10
        f.write('MSH|^~\\&|RIS|GENHOSP|RADLINK|RAD|20261123101500||ORM^O01^ORM_O01|B%d|P|2.5.1\r'
                'PID|1||P%d^^^GENHOSP^MR||PATIENT%d^TEST||19700412|F\r'
                'ORC|NW|O%d|F%d||SC||^^^202611%02d0900^^R\r'
                'OBR|1|O%d|F%d|PROC^PROCEDURE^LOCAL||||||||||||||A%d|RP%d|S%d|ST%04d|||CT|||'
                '^^^202611%02d0900^^R\n' % (i, i, i, i, i, day, i, i, i, i, i, st, day))
PY
    start_radlink "$work/wl$n"
    "$radlink" send --to "127.0.0.1:$MP" "$work/orders.$n.hl7" >/dev/null
    rn=$(time_q "$RP")
    matches=$(grep -c 'Find Response: [0-9]* (Pending)' "$work/last.out" || true)
    "$radlink" wl export --data "$work/wl$n" "$work/export$n/RADLINK" >/dev/null
    kill "$RPID"; wait "$RPID" 2>/dev/null || true
    start_wlm "$work/export$n"
    wn=$(time_q "$WP")
    wmatches=$(grep -c 'Find Response: [0-9]* (Pending)' "$work/last.out" || true)
    kill "$WPID"; wait "$WPID" 2>/dev/null || true
    [ "$matches" = "$wmatches" ] || { echo "servers disagree: radlink $matches, wlmscpfs $wmatches matches" >&2; exit 1; }
    rnet=$((rn - r0)); wnet=$((wn - w0))
    [ $rnet -ge 1 ] || rnet=1
    echo "$n entries, $matches matches: radlink ${rnet} ms, wlmscpfs ${wnet} ms net per query ($((wnet / rnet))x)"
done
