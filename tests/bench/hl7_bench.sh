#!/bin/sh
# HL7 codec benchmark, radlink beside python3-hl7 in the same run, on the same
# corpus. Usage: hl7_bench.sh [--smoke] [MESSAGES]
#   BENCH_HL7  path of the bench_hl7 binary (default build/tests/bench_hl7)
#   WORK       scratch directory (default: a temporary one)
# --smoke runs a small corpus briefly: ctest uses it to prove the benchmark runs.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
smoke=0
if [ "${1:-}" = "--smoke" ]; then smoke=1; shift; fi
n=${1:-100000}
seconds=3
py_limit=0
if [ $smoke = 1 ]; then n=2000; seconds=0.2; py_limit=500; fi
bin=${BENCH_HL7:-$here/../../build/tests/bench_hl7}
work=${WORK:-$(mktemp -d)}/bench_hl7
mkdir -p "$work"
corpus=$work/corpus.hl7

"$bin" gen "$n" "$corpus"
echo "corpus: $n messages (60% ORM^O01, 30% ADT^A08, 10% ORU^R01 with 20 OBX), $(wc -c <"$corpus") bytes"
"$bin" run "$corpus" "$seconds" | tee "$work/c.txt" | grep -v '^RESULT'
/usr/bin/python3 "$here/hl7_py.py" "$corpus" $py_limit | tee "$work/py.txt" | grep -v '^RESULT'

c=$(sed -n 's/^RESULT mode=read3 msgs_per_s=\([0-9]*\).*/\1/p' "$work/c.txt")
py=$(sed -n 's/^RESULT mode=python msgs_per_s=\([0-9]*\).*/\1/p' "$work/py.txt")
[ -n "$c" ] && [ -n "$py" ] && [ "$py" -gt 0 ] || { echo "benchmark produced no figures" >&2; exit 1; }
echo "ratio: radlink is $((c / py)) times python3-hl7 (parse + read PID-3, PID-5, OBR-4)"
