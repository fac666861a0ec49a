#!/bin/sh
# Ten million messages, in one run: radlink is filled over MLLP by the
# project's load client (16 connections, each waiting for every ACK; the
# default routes: orders write the worklist, ADT the patients; 60% ORM, 30%
# ADT, 10% ORU with 20 OBX) in ten steps, each step's rate said (it must not
# fall as the store grows). Then, through the JSON API as the console asks:
# search p50/p99 by patient, by accession and by a name prefix, a trace of
# an accession, and a search no index covers (the scan, for comparison);
# then `radlink backup`, `radlink check` (of the backup) and a restart.
# Beside it, Python's sqlite3 holds the same messages (the load client's
# --dump) with the same fields indexed and answers the same questions.
# Usage: msgstore_bench.sh [--smoke] [MESSAGES]   (default 10,000,000)
#   RADLINK, MLLP_LOAD: binaries (default under build/); WORK: scratch dir
#   DATA: where radlink's store and then SQLite's file are kept (default
#   WORK; a tmpfs shows what the engine itself sustains where the disk is
#   the limit: fsync costs nothing there). The backup, the messages' dump
#   and the logs stay in WORK; radlink's store is removed before SQLite's
#   fill when DATA is given, so both fit in turn.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
smoke=0
if [ "${1:-}" = "--smoke" ]; then smoke=1; shift; fi
total=${1:-10000000}
queries=200
if [ $smoke = 1 ]; then total=3200 queries=20; fi
conns=16
per=$((total / conns / 10)) # messages per connection and step
total=$((per * conns * 10))
radlink=${RADLINK:-$here/../../build/radlink}
load=${MLLP_LOAD:-$here/../../build/tests/mllp_load}
work=${WORK:-$(mktemp -d)}/bench_msgstore
rm -rf "$work"
mkdir -p "$work"
data=$work/var
if [ -n "${DATA:-}" ]; then
    data=$DATA/bench_msgstore
    rm -rf "$data"
    mkdir -p "$DATA"
fi
pids=""
trap 'for p in $pids; do kill -9 $p 2>/dev/null || true; done' EXIT
printf 'pass-bench-123\n' | "$radlink" user add bench --role admin --data "$data" --password-stdin >/dev/null
serve() {
    t0=$(now_ms)
    "$radlink" serve --data "$data" --mllp auto --dicom 0 --http auto --workers 0 \
        --log-level warn >>"$work/radlink.log" 2>&1 &
    engine=$!
    pids="$pids $engine"
    bench_ports "$data" "$work/radlink.log" $engine
    started_ms=$(( $(now_ms) - t0 ))
}
serve

echo "msgstore: $total messages (16 connections x $per x 10 steps)"
step=0 rates="" t_all=$(now_ms)
: >"$work/sample"
while [ $step -lt 10 ]; do
    first=$((step * per))
    out=$("$load" 127.0.0.1 "$mport" $conns $per $first)
    case "$out" in *"non_aa=0 failures=0"*) ;; *) echo "radlink refused messages: $out" >&2; exit 1;; esac
    r=$(printf '%s\n' "$out" | sed -n 's/.*msgs_per_s=\([0-9]*\).*/\1/p')
    rates="$rates${rates:+,}$r"
    # each tenth as it ends: a long fill shows its trend before it is over
    echo "tenth $((step + 1)): $r msg/s, store $(stat -c %s "$data/store/data.mdb") bytes"
    "$load" --dump "$work/dump.part" $conns $per $first
    cat "$work/dump.part" >>"$work/dump.hl7"
    # message numbers to ask about: connection k's message i is k * 10^7 + first + i
    /usr/bin/python3 -c "import random,sys; r=random.Random($step)
for _ in range(50): print(r.randrange($conns) * 10000000 + $first + r.randrange($per) // 10 * 10)" >>"$work/sample"
    step=$((step + 1))
done
rm -f "$work/dump.part"
fill_s=$(( ($(now_ms) - t_all) / 1000 ))
# the dump's time is not the engine's: the rate is the load client's
echo "RESULT radlink_fill msgs=$total tenths=$rates"
bytes=$(stat -c %s "$data/store/data.mdb")
echo "RESULT radlink_size bytes=$bytes bytes_per_msg=$((bytes / total))"
/usr/bin/python3 "$here/msgstore_py.py" api "http://127.0.0.1:$hport" bench pass-bench-123 "$work/sample" $queries

t0=$(now_ms)
"$radlink" backup --data "$data" "$work/backup" >/dev/null
echo "RESULT radlink_backup seconds=$(( ($(now_ms) - t0) / 1000 )).$(( ($(now_ms) - t0) % 1000 / 100 ))"
t0=$(now_ms)
"$radlink" check --data "$work/backup" >"$work/check.out" || { cat "$work/check.out" >&2; exit 1; }
echo "RESULT radlink_check seconds=$(( ($(now_ms) - t0) / 1000 )).$(( ($(now_ms) - t0) % 1000 / 100 )) result=$(tail -1 "$work/check.out" | sed 's/.*: //')"
rm -rf "$work/backup"
kill -TERM "$engine"
wait "$engine" 2>/dev/null || true
serve
echo "RESULT radlink_restart ms=$started_ms"
kill -TERM "$engine"
wait "$engine" 2>/dev/null || true

sqlite_db=$work/sqlite.db
if [ -n "${DATA:-}" ]; then
    rm -rf "$data"
    sqlite_db=$DATA/bench_msgstore.sqlite
fi
/usr/bin/python3 "$here/msgstore_py.py" sqlite "$work/dump.hl7" "$sqlite_db" "$work/sample" $queries \
    "$work/sqlite.bak"
rm -rf "$work/dump.hl7"
rm -f "$work/sqlite.bak"
[ -z "${DATA:-}" ] || rm -f "$sqlite_db" "$sqlite_db-wal" "$sqlite_db-shm"
