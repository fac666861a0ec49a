#!/bin/sh
# Backup and restore, in one run: a data directory of 1,000,000 messages
# (orders and ADTs over 16 MLLP connections by mllp_load) and 100,000
# instances (storescu, 4 associations, files made by pydicom), backed up by
# `radlink backup` while the engine runs, beside what an administrator
# would script by hand on the same data: LMDB's `mdb_copy -c` of the store
# and `cp -a` of the spool (no checksums, no manifest, no consistency
# between the two). Reports the time and size of each, and the restore and
# check times.
# Usage: backup_bench.sh [--smoke]
#   RADLINK, MLLP_LOAD: binaries (default under build/); WORK: scratch dir
set -eu
export TCP_NODELAY=1
here=$(cd "$(dirname "$0")" && pwd)
radlink=${RADLINK:-$here/../../build/radlink}
load=${MLLP_LOAD:-$here/../../build/tests/mllp_load}
work=${WORK:-$(mktemp -d)}/bench_backup
rm -rf "$work"
mkdir -p "$work"
if [ "${1:-}" = "--smoke" ]; then conns=4 per=250 inst=200; else conns=16 per=62500 inst=100000; fi
. "$here/lib.sh"
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", (b - a) / 1000 }'; }
mb() { du -sm "$1" | awk '{ print $1 }'; }
pids=""
trap 'for p in $pids; do kill $p 2>/dev/null || true; done' EXIT

# the instances: 4 directories, studies of 100 instances each
"$here/../data/make_dicom.sh" "$work/t.dcm" 1.2.993.1.1 1.2.993.1 1.2.993.1.1 A1 P1 'DOE^JANE' CT
/usr/bin/python3 - "$work" "$inst" <<'EOF'
import os, sys
import pydicom
work, n = sys.argv[1], int(sys.argv[2])
t = pydicom.dcmread(os.path.join(work, "t.dcm"))
for a in range(4):
    os.makedirs(os.path.join(work, "in%d" % a), exist_ok=True)
for i in range(n):
    a = i % 4
    t.SOPInstanceUID = "1.2.993.%d.1.%d" % (a, i)
    t.file_meta.MediaStorageSOPInstanceUID = t.SOPInstanceUID
    t.StudyInstanceUID = "1.2.993.%d.%d" % (a, i // 400)
    t.SeriesInstanceUID = t.StudyInstanceUID + ".1"
    t.save_as(os.path.join(work, "in%d" % a, "i%d.dcm" % i), write_like_original=True)
EOF

mkdir -m 700 "$work/var"
"$radlink" serve --data "$work/var" --mllp auto --dicom auto --http 0 --workers 0 \
    --log-level warn >"$work/engine.log" 2>&1 &
epid=$!
pids="$pids $epid"
bench_ports "$work/var" "$work/engine.log" $epid
mp=$mport dp=$rport
t0=$(now_ms)
"$load" 127.0.0.1 "$mp" "$conns" "$per" | grep RESULT >"$work/load.txt"
t1=$(now_ms)
spids=""
for a in 0 1 2 3; do
    storescu -aec RADLINK +sd 127.0.0.1 "$dp" "$work/in$a" >"$work/store$a.log" 2>&1 &
    spids="$spids $!"
done
failed=0
for p in $spids; do wait "$p" || failed=1; done
t2=$(now_ms)
[ $failed = 0 ] || { echo "storescu failed: $(cat "$work"/store*.log | tail -5)" >&2; exit 1; }

# radlink backup while the engine runs
b0=$(now_ms)
"$radlink" backup --data "$work/var" "$work/bak" >"$work/backup.txt"
b1=$(now_ms)
grep -q "^instances $inst$" "$work/bak/MANIFEST" ||
    { echo "the backup holds $(grep '^instances' "$work/bak/MANIFEST"), expected $inst" >&2; exit 1; }
grep -q "^messages $((conns * per))$" "$work/bak/MANIFEST" ||
    { echo "the backup holds $(grep '^messages' "$work/bak/MANIFEST"), expected $((conns * per))" >&2; exit 1; }
# by hand: mdb_copy -c and cp -a, same data, same engine running
h0=$(now_ms)
mkdir -p "$work/hand/store"
mdb_copy -c "$work/var/store" "$work/hand/store"
cp -a "$work/var/spool" "$work/hand/spool"
sync
h1=$(now_ms)
kill "$epid"
wait "$epid" 2>/dev/null || true
r0=$(now_ms)
"$radlink" restore "$work/bak" --data "$work/restored" >/dev/null
r1=$(now_ms)
"$radlink" check --data "$work/restored" >"$work/check.txt"
r2=$(now_ms)

echo "data: $(cat "$work/load.txt"); $inst instances in $(secs "$t1" "$t2") s"
echo "store $(mb "$work/var/store") MB, spool $(mb "$work/var/spool") MB"
echo "radlink backup (engine running): $(secs "$b0" "$b1") s, $(mb "$work/bak") MB (store $(mb "$work/bak/store") MB, compacted; with checksums and manifest)"
echo "mdb_copy -c + cp -a (by hand): $(secs "$h0" "$h1") s, $(mb "$work/hand") MB"
awk -v a="$b0" -v b="$b1" -v c="$h0" -v d="$h1" 'BEGIN { if (d > c) printf "ratio radlink/by hand: %.2f\n", (b - a) / (d - c) }'
echo "radlink restore: $(secs "$r0" "$r1") s (every checksum verified first); radlink check: $(secs "$r1" "$r2") s"
