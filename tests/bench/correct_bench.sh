#!/bin/sh
# Correction rate against a real PACS, in one run: one study of N instances
# whose headers disagree with the order is corrected by a radlink worker
# (every changed attribute rewritten, the Original Attributes Sequence
# added), sent to Orthanc (Debian's package), then verified (storage
# commitment, then a study-level C-FIND). Beside it, on the same Orthanc:
# radlink sending an agreeing study of N instances unchanged (sent and
# verified), and DCMTK's storescu and dcmsend sending N instances of their
# own (no correction, no verification): what a site would use without
# radlink. radlink's time runs from its job starting to its job done, read
# from `radlink jobs list` every 20 ms.
# Usage: correct_bench.sh [--smoke]   (N instances, default 500; ASSOCIATIONS per
#   send, default 2; SLOW_MS: a proxy delays every write toward Orthanc)
#   RADLINK  the radlink binary (default build/radlink)   WORK  scratch dir
set -eu
export TCP_NODELAY=1
here=$(cd "$(dirname "$0")" && pwd)
n=${N:-500}
[ "${1:-}" = "--smoke" ] && n=20
radlink=${RADLINK:-$here/../../build/radlink}
work=${WORK:-$(mktemp -d)}/bench_correct
rm -rf "$work"
mkdir -p "$work"
pids=""
trap 'for p in $pids; do kill "$p" 2>/dev/null || true; done' EXIT
. "$here/lib.sh"

# N instances of one study: SET UID-ROOT ACCESSION NAME [RP-ID]
make_set() {
    mkdir -p "$work/$1"
    "$here/../data/make_dicom.sh" "$work/$1/t.dcm" "$2.1.1" "$2" "$2.1" "$3" P1 "$4" CT 20261124 19700412 F "${5:-}"
    i=1
    while [ $i -le $n ]; do
        cp "$work/$1/t.dcm" "$work/$1/i$i.dcm"
        dcmodify -nb -m "(0008,0018)=$2.1.$i" "$work/$1/i$i.dcm" >/dev/null 2>&1
        i=$((i + 1))
    done
    rm "$work/$1/t.dcm"
}
make_set fix 1.2.995.1 A1 'DOE^JAEN'  # disagrees with the order: corrected
make_set same 1.2.995.2 A2 'DOE^JANE' RPA2 # agrees: sent as it is
make_set scu 1.2.995.3 A3 'DOE^JANE'
make_set send 1.2.995.4 A4 'DOE^JANE'

bench_orthanc "$work"
# SLOW_MS: every write toward Orthanc (radlink's and the peers') waits this
# long in a proxy, as over a link to another building or a cloud PACS
opeer=$odicom
if [ -n "${SLOW_MS:-}" ]; then
    /usr/bin/python3 "$here/../integration/slow_proxy.py" 0 "$odicom" "$SLOW_MS" >"$work/proxy.out" 2>&1 &
    pids="$pids $!"
    i=0
    until grep -q "^ready [0-9]" "$work/proxy.out" 2>/dev/null; do
        i=$((i + 1))
        [ $i -lt 200 ] || { echo "the proxy did not start" >&2; exit 1; }
        sleep 0.05
    done
    opeer=$(sed -n 's/^ready \([0-9]*\)$/\1/p' "$work/proxy.out")
fi
held() {
    curl -sf "http://127.0.0.1:$ohttp/tools/find" -d "{\"Level\":\"Instance\",\"Query\":{\"StudyInstanceUID\":\"$1\"}}" |
        /usr/bin/python3 -c 'import json,sys; print(len(json.load(sys.stdin)))'
}

cat >"$work/cfg.xml" <<XML
<radlink>
  <dicom><pacs ae="ORTHANC" host="127.0.0.1" port="$opeer" associations="${ASSOCIATIONS:-2}"/></dicom>
  <jobs workers="1" study-stable="1"/>
</radlink>
XML
# at debug, each job's worker.pacs line says how long the PACS's storage
# commitment report took to come, which is the PACS's time, not radlink's
LOG_LEVEL=${LOG_LEVEL:-debug} bench_serve 0
. "$here/../integration/mwl_lib.sh" # orm: an ORM^O01 as the tests send it
for a in 1 2; do orm "B$a" NW "A$a" "S$a" CT CT01 202611240930 'DOE^JANE' P1; done >"$work/orders.hl7"
"$radlink" send --to "127.0.0.1:$mport" "$work/orders.hl7" >"$work/orders.out" 2>&1 ||
    { echo "orders refused: $(cat "$work/orders.out")" >&2; exit 1; }

# job SET STUDY: storescu to radlink, then the job's run time in ms
job() {
    storescu -aec RADLINK 127.0.0.1 "$rport" "$work/$1"/*.dcm >"$work/$1.scu" 2>&1 ||
        { cat "$work/$1.scu" >&2; exit 1; }
    t0=""
    i=0
    while :; do
        l=$("$radlink" jobs list --data "$work/var" | awk -v s="$2" '$0 ~ s {print $2}' | tail -1)
        [ -z "$t0" ] && [ "$l" = running ] && t0=$(now_ms)
        [ "$l" = done ] && break
        case "$l" in dead | unverified | failed)
            "$radlink" jobs list --data "$work/var" >&2
            exit 1 ;;
        esac
        i=$((i + 1))
        [ $i -lt 30000 ] || { echo "job for $2 did not end" >&2; exit 1; }
        sleep 0.02
    done
    t1=$(now_ms)
    [ -n "$t0" ] || t0=$((t1 - 20)) # too quick to be seen running
    [ "$(held "$2")" = "$n" ] || { echo "Orthanc holds $(held "$2") of $n instances of $2" >&2; exit 1; }
    echo $((t1 - t0 > 0 ? t1 - t0 : 1))
}
fix=$(job fix 1.2.995.1)
same=$(job same 1.2.995.2)
"$radlink" jobs list --data "$work/var" | grep -q "committed and verified" ||
    { echo "the jobs were not verified" >&2; exit 1; }
[ "$(curl -sf "http://127.0.0.1:$ohttp/tools/find" -d '{"Level":"Study","Query":{"StudyInstanceUID":"1.2.995.1"},"Expand":true}' |
     /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["PatientMainDicomTags"]["PatientName"])')" = "DOE^JANE" ] ||
    { echo "Orthanc does not show the corrected name" >&2; exit 1; }

t0=$(now_ms)
storescu -aec ORTHANC 127.0.0.1 "$opeer" "$work/scu"/*.dcm >"$work/scu.out" 2>&1 || { cat "$work/scu.out" >&2; exit 1; }
scu=$(( $(now_ms) - t0 ))
t0=$(now_ms)
dcmsend -aec ORTHANC 127.0.0.1 "$opeer" "$work/send"/*.dcm >"$work/send.out" 2>&1 || { cat "$work/send.out" >&2; exit 1; }
send=$(( $(now_ms) - t0 ))
[ "$(held 1.2.995.3)" = "$n" ] && [ "$(held 1.2.995.4)" = "$n" ] || { echo "Orthanc lost instances" >&2; exit 1; }

rate() { echo $(( $1 * 1000 / $2 )); }
echo "One study of $n instances to Orthanc (Debian's package), same machine, same run:"
printf '%-66s %8s %8s\n' "" "inst/s" "ms"
printf '%-66s %8s %8s\n' "radlink job: corrected, sent, committed and C-FIND verified" "$(rate "$n" "$fix")" "$fix"
printf '%-66s %8s %8s\n' "radlink job: agreeing study sent unchanged, committed, verified" "$(rate "$n" "$same")" "$same"
printf '%-66s %8s %8s\n' "storescu: sent, nothing corrected or verified" "$(rate "$n" "$scu")" "$scu"
printf '%-66s %8s %8s\n' "dcmsend: sent, nothing corrected or verified" "$(rate "$n" "$send")" "$send"
echo "correction rate / storescu send rate: $(awk "BEGIN{printf \"%.2f\", $scu / $fix}")"
# Orthanc's own delay before its storage commitment report (from radlink's
# N-ACTION to Orthanc's N-EVENT-REPORT: Orthanc answers from a job of its
# own), shown apart: the first job's worker.pacs line
wait_ms=$(sed -n 's/.*worker.pacs job=1 .*commit_ms=\([0-9]*\).*/\1/p' "$work/radlink.log" | head -1)
if [ -n "$wait_ms" ] && [ "$fix" -gt "$wait_ms" ]; then
    echo "of the correction's $fix ms, Orthanc's storage commitment report took $wait_ms ms;" \
         "without it: $(rate "$n" $((fix - wait_ms))) inst/s," \
         "$(awk "BEGIN{printf \"%.2f\", $scu / ($fix - $wait_ms)}") of storescu's rate"
fi
