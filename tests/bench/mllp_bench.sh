#!/bin/sh
# MLLP ingest benchmark, in one run: radlink with group commit (the default),
# radlink committing every message on its own, and python3-hl7's asyncio MLLP
# server (no storage at all) as the minimal receiver a user could write.
# Every radlink ACK is sent only after the message is fsync'ed in LMDB.
# Usage: mllp_bench.sh [--smoke] [CONNECTIONS] [MESSAGES_PER_CONNECTION]
#   RADLINK, MLLP_LOAD: binaries (default under build/); WORK: scratch dir
set -eu
here=$(cd "$(dirname "$0")" && pwd)
smoke=0
if [ "${1:-}" = "--smoke" ]; then smoke=1; shift; fi
conns=${1:-16}
per=${2:-1000}
if [ $smoke = 1 ]; then conns=4; per=50; fi
radlink=${RADLINK:-$here/../../build/radlink}
load=${MLLP_LOAD:-$here/../../build/tests/mllp_load}
work=${WORK:-$(mktemp -d)}/bench_mllp
rm -rf "$work"
mkdir -p "$work"
port() { /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_up() { i=0; until /usr/bin/python3 -c "import socket; socket.create_connection(('127.0.0.1',$1),1)" 2>/dev/null; do i=$((i+1)); [ $i -lt 100 ] || { echo "server on $1 did not start" >&2; exit 1; }; sleep 0.05; done; }

run_radlink() { # NAME GROUP_COMMIT
    p=$(port)
    printf '<radlink><store group-commit="%s"/><log level="warn"/></radlink>\n' "$2" >"$work/$1.xml"
    "$radlink" serve --data "$work/$1" --mllp "$p" --dicom 0 --config "$work/$1.xml" >"$work/$1.log" 2>&1 &
    pid=$!
    wait_up "$p"
    "$load" 127.0.0.1 "$p" "$conns" "$per" >"$work/$1.out"
    kill -TERM $pid
    wait $pid
    grep RESULT "$work/$1.out"
}

echo "MLLP ingest: $conns connections x $per messages, each waiting for its ACK"
g=$(run_radlink group true)
s=$(run_radlink single false)
p=$(port)
/usr/bin/python3 "$here/py_mllp_server.py" "$p" >"$work/py.log" 2>&1 &
pypid=$!
wait_up "$p"
py=$("$load" 127.0.0.1 "$p" "$conns" "$per" | grep RESULT)
kill $pypid; wait $pypid 2>/dev/null || true

rate() { echo "$1" | sed -n 's/.*msgs_per_s=\([0-9]*\).*/\1/p'; }
gr=$(rate "$g"); sr=$(rate "$s"); pr=$(rate "$py")
printf '%-52s %8s msg/s\n' "radlink, group commit (ACK after fsync):" "$gr"
printf '%-52s %8s msg/s\n' "radlink, one commit per message (ACK after fsync):" "$sr"
printf '%-52s %8s msg/s\n' "python3-hl7 asyncio server (stores nothing):" "$pr"
for r in "$g" "$s" "$py"; do
    case "$r" in *"non_aa=0 failures=0"*) ;; *) echo "not every message got AA: $r" >&2; exit 1;; esac
done
[ -n "$gr" ] && [ -n "$sr" ] && [ "$sr" -gt 0 ] && [ "$pr" -gt 0 ] || { echo "no figures" >&2; exit 1; }
echo "group commit buys $(awk "BEGIN{printf \"%.1f\", $gr/$sr}")x; radlink vs python3-hl7: $(awk "BEGIN{printf \"%.2f\", $gr/$pr}")x"
