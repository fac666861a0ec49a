#!/bin/sh
# Which pages one message's commit rewrites, by sub-database: radlink is
# warmed up with 16,000 messages of the benchmarks' mix (16 connections),
# then one order, one ADT and one ORU are sent on one connection, each
# traced (strace: the pwrite64 and fdatasync calls of its commit) and its
# pages attributed by commit_pages.py. One connection's commit holds one
# message: its pages are what the message costs the disk.
# Usage: commit_pages.sh [--smoke]
#   RADLINK, MLLP_LOAD: binaries (default under build/); WORK: scratch dir
set -eu
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
warm=1000
[ "${1:-}" = "--smoke" ] && warm=50
radlink=${RADLINK:-$here/../../build/radlink}
load=${MLLP_LOAD:-$here/../../build/tests/mllp_load}
work=${WORK:-$(mktemp -d)}/bench_pages
rm -rf "$work"
mkdir -p "$work"
pids=""
trap 'for p in $pids; do kill $p 2>/dev/null || true; done' EXIT
printf '<radlink><log level="warn"/><jobs workers="0"/></radlink>\n' >"$work/cfg.xml"
"$radlink" serve --http 0 --data "$work/var" --mllp auto --dicom 0 --config "$work/cfg.xml" \
    >"$work/radlink.log" 2>&1 &
engine=$!
pids="$engine"
bench_ports "$work/var" "$work/radlink.log" $engine
p=$mport
"$load" 127.0.0.1 "$p" 16 "$warm" >/dev/null
# one message of a kind: the load client's message i is an order for i % 10
# below 6, an ADT^A08 below 9, else an ORU; the last of COUNT is traced
one() { # NAME COUNT FIRST
    strace -y -e trace=pwrite64,fdatasync -p "$engine" -o "$work/$1.strace" 2>"$work/$1.err" &
    sp=$!
    # strace is attached once it names the process's first call: wait for
    # the attach line on its stderr, not for a time
    i=0
    until grep -q "attached" "$work/$1.err" 2>/dev/null; do
        i=$((i + 1))
        [ $i -lt 400 ] || { echo "strace did not attach: $(cat "$work/$1.err")" >&2; exit 1; }
        sleep 0.05
    done
    out=$("$load" 127.0.0.1 "$p" 1 "$2" "$3")
    case "$out" in *"non_aa=0 failures=0"*) ;; *) echo "radlink refused: $out" >&2; exit 1;; esac
    # the ACK comes after the commit's meta page is written: its calls are
    # in the trace by then
    kill -INT "$sp"
    wait "$sp" 2>/dev/null || true
    cp "$work/var/store/data.mdb" "$work/snap.mdb"
    echo "$1:"
    /usr/bin/python3 "$here/commit_pages.py" "$work/snap.mdb" "$work/$1.strace" | sed 's/^PAGES /  /'
}
one "an order (ORM^O01)" 1 7000000
one "an ADT^A08" 7 7100000
one "an ORU^R01 with 20 OBX" 10 7200000
kill -TERM "$engine"
wait "$engine" 2>/dev/null || true
