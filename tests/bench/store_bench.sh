#!/bin/sh
# C-STORE ingest, in one run: DCMTK's storescu sends N instances over 1
# association, and over 4 parallel associations (N each), to radlink (each
# instance spooled and synced, indexed and reconciled in a group commit
# before its success response) and to DCMTK's storescp (files written to a
# directory, nothing synced, nothing indexed; --fork for the parallel run).
# It reports instances/s for each, and how many fdatasync/fsync/syncfs calls
# radlink makes per instance (counted in a separate run under strace).
# Usage: store_bench.sh [--smoke]
#   RADLINK  the radlink binary (default build/radlink)   WORK  scratch dir
set -eu
# DCMTK defaults to Nagle's algorithm (TCP_NODELAY=0): ~90 ms per instance
# against delayed ACKs. radlink turns it off for itself; the peers get it too.
export TCP_NODELAY=1
here=$(cd "$(dirname "$0")" && pwd)
n=500
count=100
[ "${1:-}" = "--smoke" ] && n=20 && count=10
radlink=${RADLINK:-$here/../../build/radlink}
work=${WORK:-$(mktemp -d)}/bench_store
rm -rf "$work"
mkdir -p "$work"
. "$here/lib.sh"

# 4 sets of N instances (set A: its own SOP UIDs, 10 studies of one patient)
"$here/../data/make_dicom.sh" "$work/t.dcm" 1.2.994.1.1 1.2.994.1 1.2.994.1.1 A1 P1 'DOE^JANE' CT
for a in 1 2 3 4; do
    mkdir -p "$work/in$a"
    i=1
    while [ $i -le $n ]; do
        cp "$work/t.dcm" "$work/in$a/i$i.dcm"
        dcmodify -nb -m "(0008,0018)=1.2.994.$a.1.$i" -m "(0020,000d)=1.2.994.$a.$((i % 10))" \
            "$work/in$a/i$i.dcm" >/dev/null 2>&1
        i=$((i + 1))
    done
done

# send PORT AE SETS...: storescu per set in parallel; prints milliseconds
send() {
    p=$1 ae=$2
    shift 2
    t0=$(now_ms)
    pids=""
    for a in "$@"; do
        storescu -aec "$ae" 127.0.0.1 "$p" "$work/in$a"/*.dcm >"$work/scu$a.out" 2>&1 &
        pids="$pids $!"
    done
    for pid in $pids; do wait "$pid" || { cat "$work"/scu*.out >&2; exit 1; }; done
    t=$(( $(now_ms) - t0 ))
    echo $(( t > 0 ? t : 1 ))
}

# radlink NAME SETS...: a fresh engine; prints milliseconds
radlink_run() {
    name=$1
    shift
    "$radlink" serve --http 0 --data "$work/$name" --mllp auto --dicom auto --workers 0 --log-level warn \
        >"$work/$name.log" 2>&1 &
    rpid=$!
    bench_ports "$work/$name" "$work/$name.log" $rpid
    rp=$rport
    t=$(send "$rp" RADLINK "$@")
    stored=$("$radlink" status --data "$work/$name" | sed -n 's/.*instances \([0-9]*\)$/\1/p')
    kill "$rpid"
    wait "$rpid" 2>/dev/null || true
    [ "$stored" = $(( n * $# )) ] || { echo "radlink stored $stored of $(( n * $# ))" >&2; exit 1; }
    echo "$t"
}

# storescp NAME SETS...: prints milliseconds
storescp_run() {
    name=$1
    shift
    mkdir -p "$work/$name"
    for attempt in 1 2 3 4 5; do
        sp=$(port)
        storescp --fork --output-directory "$work/$name" "$sp" >"$work/$name.log" 2>&1 &
        spid=$!
        bench_up $spid echoscu 127.0.0.1 "$sp" && break
    done
    kill -0 "$spid" 2>/dev/null || { echo "storescp did not start: $(tail -3 "$work/$name.log")" >&2; exit 1; }
    t=$(send "$sp" ANY-SCP "$@")
    kill "$spid"
    wait "$spid" 2>/dev/null || true
    echo "$t"
}

r1=$(radlink_run r1 1)
r4=$(radlink_run r4 1 2 3 4)
s1=$(storescp_run s1 1)
s4=$(storescp_run s4 1 2 3 4)

# syncs per instance, counted under strace (slower: a separate run)
"$radlink" serve --http 0 --data "$work/sy" --mllp auto --dicom auto --workers 0 --log-level warn \
    >"$work/sy.log" 2>&1 &
rpid=$!
bench_ports "$work/sy" "$work/sy.log" $rpid
rp=$rport
for a in 1 2 3 4; do mkdir -p "$work/c$a"; ls "$work/in$a" | head -n "$count" | while read -r f; do cp "$work/in$a/$f" "$work/c$a/"; done; done
strace -f -c -e trace=fdatasync,fsync,syncfs -p "$rpid" -o "$work/sy.strace" 2>/dev/null &
sp=$!
sleep 0.5
pids=""
for a in 1 2 3 4; do
    storescu -aec RADLINK 127.0.0.1 "$rp" "$work/c$a"/*.dcm >/dev/null 2>&1 &
    pids="$pids $!"
done
for pid in $pids; do wait "$pid"; done
commits=$("$radlink" status --data "$work/sy" | sed -n 's/^turns [0-9]*, commits \([0-9]*\),.*/\1/p')
kill -INT "$sp"
wait "$sp" 2>/dev/null || true
kill "$rpid"
wait "$rpid" 2>/dev/null || true
calls=$(awk '$NF ~ /^(fdatasync|fsync|syncfs)$/ {s += $4} END {print s + 0}' "$work/sy.strace")
syncs=$(awk "BEGIN{printf \"%.2f\", $calls / ($count * 4)}")
percommit=$(awk "BEGIN{printf \"%.1f\", ($count * 4) / $commits}")

rate() { echo $(( $1 * 1000 / $2 )); }
echo "C-STORE, $n instances per association (storescu), same machine, same run:"
printf '%-62s %10s %10s\n' "" "1 assoc" "4 assoc"
printf '%-62s %10s %10s\n' "radlink: spooled + synced, indexed, reconciled, then the response" \
    "$(rate "$n" "$r1")/s" "$(rate $((n * 4)) "$r4")/s"
printf '%-62s %10s %10s\n' "storescp: files only, nothing synced or indexed" \
    "$(rate "$n" "$s1")/s" "$(rate $((n * 4)) "$s4")/s"
echo "radlink, 4 associations: $syncs fdatasync/fsync/syncfs calls per instance (one syncfs of"
echo "the spool and one LMDB commit per turn), $percommit instances per LMDB commit"
