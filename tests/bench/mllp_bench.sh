#!/bin/sh
# MLLP ingest benchmark, in one run, on one machine:
#   - radlink with its default routes (orders write the worklist, ADT the
#     patients), at 16 connections and at 1, each client waiting for every ACK
#     as a RIS does; every ACK is sent only after the message and its effects
#     are fsync'ed in LMDB. Also 16 connections with one commit per message,
#     to show what group commit buys.
#   - a plain LMDB loop (one small put per synced commit): the floor for one
#     connection, since one connection can never share a commit;
#   - python3-hl7's asyncio MLLP server answering with create_ack(), which
#     stores nothing: the receiver a user could write in a few lines.
# For radlink it reports msg/s, bytes written per message as /proc/PID/io
# write_bytes counts them (every page cache folio as it is dirtied: with large
# folios, as in Linux 6.16+, far more than reaches the disk) and as the disk
# holding the data directory counts them (/sys/class/block/DEV/stat: exact
# when nothing else writes meanwhile), how many fdatasync/fsync calls each
# message costs (counted in a separate run under strace), and messages per
# commit.
# Usage: mllp_bench.sh [--smoke]
#   RADLINK, MLLP_LOAD, LMDB_PLAIN: binaries (default under build/); WORK: scratch dir
set -eu
here=$(cd "$(dirname "$0")" && pwd)
smoke=0
if [ "${1:-}" = "--smoke" ]; then smoke=1; shift; fi
radlink=${RADLINK:-$here/../../build/radlink}
load=${MLLP_LOAD:-$here/../../build/tests/mllp_load}
plain=${LMDB_PLAIN:-$here/../../build/tests/lmdb_plain}
work=${WORK:-$(mktemp -d)}/bench_mllp
rm -rf "$work"
mkdir -p "$work"
# connections x messages per connection. Each store is warmed up first with
# 16,000 messages: the first thousands make the file grow, and a file system
# allocating blocks is not what a running engine sees.
if [ $smoke = 1 ]; then
    big=4 bigper=50 one=100 warm=4 warmper=25 count=40
else
    big=16 bigper=1000 one=3000 warm=16 warmper=1000 count=200
fi
. "$here/lib.sh"
io() { awk '/^write_bytes/ {print $2}' "/proc/$1/io"; }
# sectors written by the disk holding $work (0 when it cannot be told)
dev=$(basename "$(df --output=source "$work" | tail -1)")
disk() { awk '{print $7}' "/sys/class/block/$dev/stat" 2>/dev/null || echo 0; }
field() { echo "$1" | sed -n "s/.*$2=\([0-9.]*\).*/\1/p"; }
# the engine on $hport: "ack_sum ack_count commit_sum commit_count" (seconds, counts)
means() {
    curl -sf "http://127.0.0.1:$hport/metrics" | awk '
        /^radlink_ack_latency_seconds_sum / { a = $2 } /^radlink_ack_latency_seconds_count / { b = $2 }
        /^radlink_store_commit_seconds_sum / { c = $2 } /^radlink_store_commit_seconds_count / { d = $2 }
        END { print a + 0, b + 0, c + 0, d + 0 }'
}

# radlink NAME GROUP_COMMIT CONNECTIONS PER [strace]: one engine, warmed up,
# then measured; prints "msgs_per_s bytes_per_msg disk_bytes_per_msg
# msgs_per_commit ack_ms commit_ms" (the last two: the mean time from a
# frame's arrival to its ACK, and of one store commit, from /metrics) or,
# under strace, "syncs_per_msg"
run_radlink() {
    d=$work/$1
    printf '<radlink><store group-commit="%s"/><log level="warn"/><jobs workers="0"/></radlink>\n' "$2" >"$d.xml"
    "$radlink" serve --http 0 --data "$d" --mllp auto --dicom 0 --http auto --config "$d.xml" \
        >"$d.log" 2>&1 &
    pid=$!
    bench_ports "$d" "$d.log" $pid
    p=$mport
    "$load" 127.0.0.1 "$p" "$warm" "$warmper" >/dev/null
    c0=$("$radlink" status --data "$d" | sed -n 's/^turns [0-9]*, commits \([0-9]*\),.*/\1/p')
    if [ "${5:-}" = strace ]; then
        strace -f -c -e trace=fdatasync,fsync,syncfs -p "$pid" -o "$d.strace" 2>/dev/null &
        sp=$!
        sleep 0.5
    fi
    w0=$(io "$pid")
    d0=$(disk)
    m0=$(means)
    r=$("$load" 127.0.0.1 "$p" "$3" "$4" | grep RESULT)
    m1=$(means)
    w1=$(io "$pid")
    d1=$(disk)
    c1=$("$radlink" status --data "$d" | sed -n 's/^turns [0-9]*, commits \([0-9]*\),.*/\1/p')
    if [ "${5:-}" = strace ]; then
        kill -INT "$sp"
        wait "$sp" 2>/dev/null || true
    fi
    kill -TERM "$pid"
    wait "$pid"
    case "$r" in *"non_aa=0 failures=0"*) ;; *) echo "not every message got AA: $r" >&2; exit 1;; esac
    n=$(( $3 * $4 ))
    if [ "${5:-}" = strace ]; then
        calls=$(awk '$NF ~ /^(fdatasync|fsync|syncfs)$/ {s += $4} END {print s + 0}' "$d.strace")
        awk "BEGIN{printf \"%.2f\", $calls / $n}"
    else
        echo "$(field "$r" msgs_per_s) $(( (w1 - w0) / n )) $(( (d1 - d0) * 512 / n ))" \
             "$(awk "BEGIN{printf \"%.1f\", $n / ($c1 - $c0)}")" \
             "$(echo "$m0 $m1" | awk '{ printf "%.3f %.3f", 1000 * ($5 - $1) / ($6 - $2), 1000 * ($7 - $3) / ($8 - $4) }')"
    fi
}

echo "MLLP ingest, default routes (60% orders to the worklist, 30% ADT^A08, 10% ORU);"
echo "each connection waits for every ACK; radlink ACKs after fsync"
g16=$(run_radlink g16 true "$big" "$bigper")
s16=$(run_radlink s16 false "$big" "$bigper")
g1=$(run_radlink g1 true 1 "$one")
sy16=$(run_radlink y16 true "$big" "$count" strace)
sy1=$(run_radlink y1 true 1 "$count" strace)
pl=$(DISK_STAT="/sys/class/block/$dev/stat" "$plain" "$work/plain" "$((warm * warmper))" "$one" | grep RESULT)

py() { # py CONNECTIONS PER: python3-hl7's server, msgs/s
    rm -f "$work/py.log" # the last run's "ready" line is not this one's
    /usr/bin/python3 "$here/py_mllp_server.py" 0 >"$work/py.log" 2>&1 &
    pypid=$!
    bench_ready "$work/py.log" $pypid
    p=$ready_port
    r=$("$load" 127.0.0.1 "$p" "$1" "$2" | grep RESULT)
    kill "$pypid"
    wait "$pypid" 2>/dev/null || true
    case "$r" in *"non_aa=0 failures=0"*) ;; *) echo "python3-hl7: $r" >&2; exit 1;; esac
    field "$r" msgs_per_s
}
py16=$(py "$big" "$bigper")
py1=$(py 1 "$one")

set -- $g16; g16r=$1 g16b=$2 g16d=$3 g16m=$4
set -- $s16; s16r=$1 s16b=$2 s16d=$3 s16m=$4
set -- $g1; g1r=$1 g1b=$2 g1d=$3 g1m=$4 g1a=$5 g1c=$6
plr=$(field "$pl" commits_per_s)
plb=$(field "$pl" write_bytes_per_commit)
pld=$(field "$pl" disk_bytes_per_commit)
f='%-52s %8s %11s %10s %10s %10s\n'
printf "$f" "" "msg/s" "proc B/msg" "disk B/msg" "fsyncs/msg" "msgs/commit"
printf "$f" "radlink, $big connections, group commit" "$g16r" "$g16b" "$g16d" "$sy16" "$g16m"
printf "$f" "radlink, $big connections, one commit per message" "$s16r" "$s16b" "$s16d" "-" "$s16m"
printf "$f" "radlink, 1 connection" "$g1r" "$g1b" "$g1d" "$sy1" "$g1m"
printf "$f" "plain LMDB loop: one 330-byte put per synced commit" "$plr" "$plb" "$pld" "1.00" "1"
printf "$f" "python3-hl7 asyncio server, $big connections (no store)" "$py16" "-" "-" "-" "-"
printf "$f" "python3-hl7 asyncio server, 1 connection (no store)" "$py1" "-" "-" "-" "-"
[ "$g16r" -gt 0 ] && [ "$s16r" -gt 0 ] && [ "$plr" -gt 0 ] && [ "$py16" -gt 0 ] || { echo "no figures" >&2; exit 1; }
echo "group commit buys $(awk "BEGIN{printf \"%.1f\", $g16r/$s16r}")x at $big connections;" \
     "radlink vs python3-hl7: $(awk "BEGIN{printf \"%.1f\", $g16r/$py16}")x ($big connections)," \
     "$(awk "BEGIN{printf \"%.1f\", $g1r/$py1}")x (1 connection);" \
     "1 connection is $(awk "BEGIN{printf \"%.0f\", 100*$g1r/$plr}")% of the plain LMDB loop"
echo "(each LMDB commit also writes its meta page with O_DSYNC: one more synchronous write per commit)"
echo "1 connection, per message: $g1a ms from the frame's arrival to its ACK, $g1c ms of it the" \
     "store's commit; the plain loop's commit takes $(awk "BEGIN{printf \"%.3f\", 1000/$plr}") ms"
