#!/bin/sh
# De-identification benchmark: radlink's dicom_ds_deidentify (deid_apply
# --list: open, de-identify, save, in one process) beside a pydicom script
# applying the same Basic Profile table (deid_py.py), in the same run, on the
# same 500 synthetic CT instances. Prints instances/s for both and the
# ratio; never fails on a slow machine. Usage: deid_bench.sh [--smoke]
#   DEID_APPLY  path of the deid_apply binary (default build/tests/deid_apply)
#   WORK        scratch directory (default: a temporary one)
set -eu
here=$(cd "$(dirname "$0")" && pwd)
src=$here/../..
n=500
if [ "${1:-}" = "--smoke" ]; then n=20; fi
bin=${DEID_APPLY:-$src/build/tests/deid_apply}
work=${WORK:-$(mktemp -d)}/bench_deid
ct=/usr/lib/python3/dist-packages/pydicom/data/test_files/CT_small.dcm
[ -f "$ct" ] || { echo "python3-pydicom's test files are missing (make deps installs python3-pydicom)" >&2; exit 1; }
rm -rf "$work"
mkdir -p "$work/in" "$work/radlink" "$work/python"
head -c 32 /dev/urandom >"$work/secret"
/usr/bin/python3 "$here/deid_py.py" gen "$ct" "$work/in" "$n"
"$bin" "$work/in/list" "$work/radlink" "$work/secret" --list | tee "$work/c.txt"
/usr/bin/python3 "$here/deid_py.py" run "$src/adapters/dicom/deid_table.tsv" "$work/in/list" \
    "$work/python" "$work/secret" | tee "$work/py.txt"
rate() { sed -n 's/^RESULT mode=[a-z]* instances=\([0-9]*\) seconds=\([0-9.]*\).*/\1 \2/p' "$1"; }
c=$(rate "$work/c.txt")
py=$(rate "$work/py.txt")
[ -n "$c" ] && [ -n "$py" ] || { echo "benchmark produced no figures" >&2; exit 1; }
# Both wrote every instance: the figures are for work done.
[ "$(ls "$work/radlink" | wc -l)" = "$n" ] && [ "$(ls "$work/python" | wc -l)" = "$n" ] ||
    { echo "not every instance was written" >&2; exit 1; }
echo "$c $py" | awk '{ r = $1 / $2; p = $3 / $4;
    printf "radlink: %.0f instances/s; pydicom: %.0f instances/s; ratio: radlink %.1f times pydicom\n", r, p, r / p }'
