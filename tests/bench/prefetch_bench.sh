#!/bin/sh
# Priors before the patient, in one run between two Orthancs (Debian's
# package): an archive holding 3 prior CT studies of a patient (100
# instances each) and knowing the reading PACS, and the PACS. radlink, with
# <prefetch from="ARCHIVE" to="PACS"/> on its orders: timed from the new
# order's ACK to its prefetch job done (the three studies moved by C-MOVE
# and verified at the PACS by C-FIND), read from `radlink jobs list` every
# 20 ms. Beside it, what an administrator does by hand with DCMTK: findscu
# for the patient's studies, then movescu of each to the PACS (verified by
# counting at the PACS through Orthanc's REST API), after the PACS was
# emptied again.
# Usage: prefetch_bench.sh [--smoke]
#   RADLINK  the radlink binary (default build/radlink)   WORK  scratch dir
set -eu
export TCP_NODELAY=1
here=$(cd "$(dirname "$0")" && pwd)
per=100
[ "${1:-}" = "--smoke" ] && per=4
radlink=${RADLINK:-$here/../../build/radlink}
work=${WORK:-$(mktemp -d)}/bench_prefetch
rm -rf "$work"
mkdir -p "$work"
pids=""
trap 'for p in $pids; do kill "$p" 2>/dev/null || true; done' EXIT
. "$here/lib.sh"

bench_orthanc "$work/pacs"
pdicom=$odicom phttp=$ohttp
bench_orthanc "$work/archive"
adicom=$odicom ahttp=$ohttp
curl -sf -X PUT "http://127.0.0.1:$ahttp/modalities/pacs" \
    -d "{\"AET\": \"PACS\", \"Host\": \"127.0.0.1\", \"Port\": $pdicom}" >/dev/null
instances_at_pacs() {
    curl -sf "http://127.0.0.1:$phttp/statistics" |
        /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["CountInstances"])'
}

# three priors of one patient at the archive
Y=$(date -u +%Y)
mkdir -p "$work/priors"
for s in 1 2 3; do
    "$here/../data/make_dicom.sh" "$work/priors/t$s.dcm" "1.2.994.$s.1.1" "1.2.994.$s" "1.2.994.$s.1" \
        "PRIOR$s" PB1 'DOE^JANE' CT "$((Y - s))0601"
    k=1
    while [ $k -le $per ]; do
        cp "$work/priors/t$s.dcm" "$work/priors/s$s-$k.dcm"
        dcmodify -nb -m "(0008,0018)=1.2.994.$s.1.$k" "$work/priors/s$s-$k.dcm" >/dev/null 2>&1
        k=$((k + 1))
    done
    rm -f "$work/priors/t$s.dcm"
done
storescu -aec ARCHIVE 127.0.0.1 "$adicom" "$work/priors"/*.dcm >"$work/up.out" 2>&1 ||
    { cat "$work/up.out" >&2; exit 1; }
total=$((3 * per))

sed -e 's|<worklist/>|<worklist/>\n    <prefetch from="ARCHIVE" to="PACS" max="3" modality="same"/>|' \
    "$here/../../routes/default.xml" >"$work/routes.xml"
cat >"$work/cfg.xml" <<XML
<radlink>
  <dicom>
    <pacs ae="PACS" host="127.0.0.1" port="$pdicom"/>
    <node ae="ARCHIVE" host="127.0.0.1" port="$adicom"/>
  </dicom>
  <jobs workers="1"/>
  <routes file="$work/routes.xml"/>
</radlink>
XML
bench_serve 0

# radlink: the order, then its prefetch job done
. "$here/../integration/mwl_lib.sh"
orm O1 NW NEW1 S1 CT CT01 "$(date +%Y%m%d)1400" 'DOE^JANE' PB1 >"$work/order.hl7"
"$radlink" send --to "127.0.0.1:$mport" "$work/order.hl7" >"$work/order.out" 2>&1 ||
    { echo "the order was refused: $(cat "$work/order.out")" >&2; exit 1; }
t0=$(now_ms)
i=0
until "$radlink" jobs list --data "$work/var" --kind prefetch | grep -Eq '^ *[0-9]+ +done +prefetch '; do
    i=$((i + 1))
    [ $i -lt 30000 ] || { echo "no prefetch: $("$radlink" jobs list --data "$work/var" | tail -3)" >&2; exit 1; }
    sleep 0.02
done
t1=$(now_ms)
"$radlink" jobs list --data "$work/var" --kind prefetch | grep -q "3 moved ($total instances, verified)" ||
    { echo "the prefetch did not move the three priors: $("$radlink" jobs list --data "$work/var" --kind prefetch)" >&2; exit 1; }
[ "$(instances_at_pacs)" = "$total" ] || { echo "the PACS holds $(instances_at_pacs) of $total" >&2; exit 1; }

# by hand: the PACS emptied, then findscu and movescu of each study
for id in $(curl -sf "http://127.0.0.1:$phttp/studies" | /usr/bin/python3 -c 'import json,sys; print(" ".join(json.load(sys.stdin)))'); do
    curl -sf -X DELETE "http://127.0.0.1:$phttp/studies/$id" >/dev/null
done
[ "$(instances_at_pacs)" = 0 ] || { echo "the PACS was not emptied" >&2; exit 1; }
t2=$(now_ms)
findscu -S -aec ARCHIVE -aet RADLINK -k QueryRetrieveLevel=STUDY -k PatientID=PB1 \
    -k StudyInstanceUID -k StudyDate -k ModalitiesInStudy 127.0.0.1 "$adicom" >"$work/find.out" 2>&1
uids=$(sed -n 's/.*(0020,000d) UI \[\([^]]*\)\].*/\1/p' "$work/find.out")
for u in $uids; do
    movescu -S -aec ARCHIVE -aet RADLINK -aem PACS -k QueryRetrieveLevel=STUDY \
        -k StudyInstanceUID="$u" 127.0.0.1 "$adicom" >>"$work/move.out" 2>&1
done
until [ "$(instances_at_pacs)" = "$total" ]; do sleep 0.02; done
t3=$(now_ms)

ours=$((t1 - t0)) theirs=$((t3 - t2))
echo "3 priors of $per instances each, archive -> reading PACS (two Orthancs), same machine, same run:"
printf '%-66s %8s\n' "" "seconds"
printf '%-66s %8s\n' "radlink: order ACK -> prefetch job done (C-FIND, C-MOVE, verified)" \
    "$(awk -v t="$ours" 'BEGIN { printf "%.2f", t / 1000 }')"
printf '%-66s %8s\n' "by hand: findscu + movescu of each study (no verification)" \
    "$(awk -v t="$theirs" 'BEGIN { printf "%.2f", t / 1000 }')"
echo "ratio (by hand / radlink): $(awk -v a="$theirs" -v b="$ours" 'BEGIN { printf "%.2f", a / (b > 0 ? b : 1) }')"
