#!/bin/sh
# C-STORE ingest: DCMTK's storescu sends the same N instances over one
# association to radlink (spooled, fsynced, indexed and reconciled before each
# success response) and to DCMTK's storescp (written to a directory, no fsync,
# no index), in the same run. Usage: store_bench.sh [--smoke]
#   RADLINK  the radlink binary (default build/radlink)   WORK  scratch dir
set -eu
# DCMTK defaults to Nagle's algorithm (TCP_NODELAY=0): ~90 ms per instance
# against delayed ACKs. radlink turns it off for itself; the peers get it too.
export TCP_NODELAY=1
here=$(cd "$(dirname "$0")" && pwd)
n=500
[ "${1:-}" = "--smoke" ] && n=20
radlink=${RADLINK:-$here/../../build/radlink}
work=${WORK:-$(mktemp -d)}/bench_store
rm -rf "$work"
mkdir -p "$work/in" "$work/scp"
port() { /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_up() { i=0; until /usr/bin/python3 -c "import socket; socket.create_connection(('127.0.0.1',$1),1)" 2>/dev/null; do i=$((i+1)); [ $i -lt 100 ] || { echo "server on $1 did not start" >&2; exit 1; }; sleep 0.05; done; }
now_ms() { date +%s%3N; }

# one template instance, then N copies with their own SOP Instance UIDs
"$here/../data/make_dicom.sh" "$work/t.dcm" 1.2.994.1.1 1.2.994.1 1.2.994.1.1 A1 P1 'DOE^JANE' CT
i=1
while [ $i -le $n ]; do
    cp "$work/t.dcm" "$work/in/i$i.dcm"
    dcmodify -nb -m "(0008,0018)=1.2.994.1.1.$i" -m "(0020,000d)=1.2.994.$((i % 10))" "$work/in/i$i.dcm" >/dev/null 2>&1
    i=$((i + 1))
done

rp=$(port); mp=$(port)
"$radlink" serve --data "$work/var" --mllp "$mp" --dicom "$rp" --workers 0 >"$work/radlink.log" 2>&1 &
rpid=$!
wait_up "$rp"
t0=$(now_ms)
storescu -aec RADLINK 127.0.0.1 "$rp" "$work"/in/*.dcm >"$work/r.out" 2>&1 || { cat "$work/r.out" >&2; exit 1; }
rt=$(( $(now_ms) - t0 ))
kill "$rpid"; wait "$rpid" 2>/dev/null || true
stored=$(grep -c "dicom.stored" "$work/radlink.log" || true)
[ "$stored" = "$n" ] || { echo "radlink stored $stored of $n" >&2; exit 1; }

sp=$(port)
storescp --output-directory "$work/scp" "$sp" >"$work/storescp.log" 2>&1 &
spid=$!
wait_up "$sp"
t0=$(now_ms)
storescu 127.0.0.1 "$sp" "$work"/in/*.dcm >"$work/s.out" 2>&1 || { cat "$work/s.out" >&2; exit 1; }
st=$(( $(now_ms) - t0 ))
kill "$spid"; wait "$spid" 2>/dev/null || true
[ $rt -ge 1 ] || rt=1
[ $st -ge 1 ] || st=1
echo "$n instances over one association (storescu):"
echo "radlink (spool + fsync + index + reconcile per instance): $rt ms, $((n * 1000 / rt)) instances/s"
echo "storescp (files only, no fsync):                          $st ms, $((n * 1000 / st)) instances/s"
