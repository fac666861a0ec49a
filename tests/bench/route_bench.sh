#!/bin/sh
# Routing benchmark: radlink's compiled routes beside the same 50 rules written
# with python3-hl7, in the same run, on the same message (the worst case: the
# last of 50 routes takes it). Usage: route_bench.sh [--smoke]
#   BENCH_ROUTE  path of the bench_route binary (default build/tests/bench_route)
#   WORK         scratch directory (default: a temporary one)
set -eu
here=$(cd "$(dirname "$0")" && pwd)
seconds=3
if [ "${1:-}" = "--smoke" ]; then seconds=0.2; fi
bin=${BENCH_ROUTE:-$here/../../build/tests/bench_route}
work=${WORK:-$(mktemp -d)}/bench_route
mkdir -p "$work"
/usr/bin/python3 "$here/route_py.py" gen "$work/routes.xml" "$work/order.hl7"
"$bin" "$work/routes.xml" "$work/order.hl7" "$seconds" | tee "$work/c.txt" | grep -v '^RESULT'
/usr/bin/python3 "$here/route_py.py" run "$work/order.hl7" "$seconds" | tee "$work/py.txt" | grep -v '^RESULT'
c=$(sed -n 's/^RESULT mode=radlink route_ns=\([0-9]*\) total_ns=\([0-9]*\).*/\2/p' "$work/c.txt")
py=$(sed -n 's/^RESULT mode=python route_ns=\([0-9]*\) total_ns=\([0-9]*\).*/\2/p' "$work/py.txt")
[ -n "$c" ] && [ -n "$py" ] && [ "$c" -gt 0 ] || { echo "benchmark produced no figures" >&2; exit 1; }
echo "ratio: radlink parses and routes a message $((py / c)) times faster than python3-hl7 with the same 50 rules"
