#!/bin/sh
# Reports into the PACS, in one run against Orthanc (Debian's package): N
# studies (an order and one image each) are at the PACS; then N ORU^R01
# reports (two sections, a few lines each) go to radlink's MLLP listener,
# each ACKed once kept, its SR written into its study and sent and verified
# (storage commitment, then C-FIND) by the study's job. Timed from each
# report's ACK to its study's job done (read from `radlink jobs list` every
# 20 ms; it includes the 1 s a study must be stable), p50 and p99, and the
# whole batch as reports/s. Beside it, DCMTK's storescu sends the same N SR
# files (the ones radlink wrote, given new UIDs) to the same Orthanc:
# what a site has without radlink, without any verification.
# Usage: report_bench.sh [--smoke]
#   RADLINK  the radlink binary (default build/radlink)   WORK  scratch dir
set -eu
export TCP_NODELAY=1
here=$(cd "$(dirname "$0")" && pwd)
n=100
[ "${1:-}" = "--smoke" ] && n=5
radlink=${RADLINK:-$here/../../build/radlink}
work=${WORK:-$(mktemp -d)}/bench_report
rm -rf "$work"
mkdir -p "$work"
pids=""
trap 'for p in $pids; do kill "$p" 2>/dev/null || true; done' EXIT
. "$here/lib.sh"
done_jobs() { "$radlink" jobs list --data "$work/var" | grep -Ec '^ *[0-9]+ +done +study ' || true; }

bench_orthanc "$work"
srs_at_pacs() {
    curl -sf "http://127.0.0.1:$ohttp/tools/find" -d '{"Level":"Instance","Query":{"Modality":"SR"}}' |
        /usr/bin/python3 -c 'import json,sys; print(len(json.load(sys.stdin)))'
}

# the built-in routes: with a <pacs>, they take every ORU as a report
cat >"$work/cfg.xml" <<XML
<radlink>
  <dicom><pacs ae="ORTHANC" host="127.0.0.1" port="$odicom" commit-timeout="30"/></dicom>
  <jobs workers="2" study-stable="1"/>
</radlink>
XML
bench_serve 1

# N orders and N studies of one image each, at the PACS before the reports
. "$here/../integration/mwl_lib.sh"
mkdir -p "$work/img"
k=1
while [ $k -le $n ]; do
    orm "O$k" NW "A$k" "S$k" CT CT01 202611240930 'DOE^JANE' "P$k"
    "$here/../data/make_dicom.sh" "$work/img/i$k.dcm" "1.2.998.$k.1.1" "1.2.998.$k" "1.2.998.$k.1" \
        "A$k" "P$k" 'DOE^JANE' CT
    k=$((k + 1))
done >"$work/orders.hl7"
"$radlink" send --to "127.0.0.1:$mport" "$work/orders.hl7" >"$work/orders.out" 2>&1 ||
    { echo "orders refused: $(tail -3 "$work/orders.out")" >&2; exit 1; }
storescu -aec RADLINK 127.0.0.1 "$rport" "$work/img"/*.dcm >"$work/img.out" 2>&1 ||
    { cat "$work/img.out" >&2; exit 1; }
i=0
until [ "$(done_jobs)" -ge "$n" ]; do
    i=$((i + 1))
    [ $i -lt 6000 ] || { echo "the studies were not sent: $("$radlink" jobs list --data "$work/var" | tail -3)" >&2; exit 1; }
    sleep 0.05
done
base=$(done_jobs)

# N reports: each ACK timestamped as it comes back
k=1
while [ $k -le $n ]; do
    printf '%s\r' \
      "MSH|^~\\&|RIS|GENHOSP|RADLINK|RAD|20261124110000||ORU^R01^ORU_R01|R$k|P|2.5.1" \
      "PID|1||P$k^^^GENHOSP^MR||DOE^JANE||19700412|F" \
      "ORC|RE|OA$k|FA$k" \
      "OBR|1|OA$k|FA$k|PCT^CT Chest^LOCAL|||20261124093012|||||||||||A$k|RPA$k|||20261124103000|||F|||||||RAD1&SMITH&JOHN" \
      'OBX|1|TX|&GDT|1|The lungs are clear.\.br\No pleural effusion.\.br\Heart size normal.||||||F' \
      'OBX|2|TX|&GDT|2|Mediastinum unremarkable. No lymphadenopathy.||||||F' \
      'OBX|3|TX|&IMP|1|No acute cardiopulmonary finding.||||||F'
    printf '\n'
    k=$((k + 1))
done >"$work/reports.hl7"
t0=$(now_ms)
"$radlink" send --to "127.0.0.1:$mport" "$work/reports.hl7" 2>&1 |
    while IFS= read -r l; do echo "$(now_ms) $l"; done >"$work/acks"
grep -c 'MSA|AA|R' "$work/acks" | grep -qx "$n" || { echo "reports refused: $(grep -v 'MSA|AA' "$work/acks" | head -3)" >&2; exit 1; }
# each study's job done after its report: the first time `jobs list` shows it
: >"$work/done_at"
i=0
while [ "$(wc -l <"$work/done_at")" -lt "$n" ]; do
    t=$(now_ms)
    "$radlink" jobs list --data "$work/var" |
        awk -v t="$t" '$2 == "done" && $3 == "study" { for (f = 4; f <= NF; f++) if ($f ~ /^1\.2\.998\./) print $1, $f, t }' |
        sort -n | tail -n +$((base + 1)) >"$work/done_now"
    awk '{print $2, $3}' "$work/done_now" | while read -r s at; do
        grep -q "^$s " "$work/done_at" || echo "$s $at" >>"$work/done_at"
    done
    i=$((i + 1))
    [ $i -lt 30000 ] || { echo "the reports were not sent: $("$radlink" jobs list --data "$work/var" | tail -3)" >&2; exit 1; }
    sleep 0.02
done
t1=$(now_ms)
[ "$(srs_at_pacs)" = "$n" ] || { echo "Orthanc holds $(srs_at_pacs) SRs of $n" >&2; exit 1; }
"$radlink" jobs list --data "$work/var" | tail -n "$n" | grep -q "committed and verified" ||
    { echo "the reports' jobs were not verified" >&2; exit 1; }
lat=$(/usr/bin/python3 - "$work/acks" "$work/done_at" <<'PY'
import re, sys
ack = {}
for line in open(sys.argv[1]):
    m = re.match(r"(\d+) .*MSA\|AA\|R(\d+)", line)
    if m:
        ack["1.2.998." + m.group(2)] = int(m.group(1))
lat = sorted(int(at) - ack[s] for s, at in (l.split() for l in open(sys.argv[2])) if s in ack)
pick = lambda q: lat[min(len(lat) - 1, int(q * len(lat)))]
print(pick(0.5), pick(0.99))
PY
)
p50=${lat% *} p99=${lat#* }

# the same SR files, new UIDs, sent by storescu to the same Orthanc
mkdir -p "$work/srs"
k=0
find "$work/var/spool" -name '*.dcm' | while read -r f; do
    dcmdump +P 0008,0060 "$f" 2>/dev/null | grep -q '\[SR\]' || continue
    k=$((k + 1))
    cp "$f" "$work/srs/s$k.dcm"
    dcmodify -nb -m "(0020,000d)=1.2.999.$k" -m "(0008,0018)=1.2.999.$k.9.9" "$work/srs/s$k.dcm" >/dev/null 2>&1
done
t2=$(now_ms)
storescu -aec ORTHANC 127.0.0.1 "$odicom" "$work/srs"/*.dcm >"$work/scu.out" 2>&1 || { cat "$work/scu.out" >&2; exit 1; }
scu=$(( $(now_ms) - t2 ))
[ "$(srs_at_pacs)" = "$((2 * n))" ] || { echo "storescu: Orthanc holds $(srs_at_pacs) SRs" >&2; exit 1; }

all=$((t1 - t0))
rate() { echo $(( $1 * 1000 / ($2 > 0 ? $2 : 1) )); }
echo "$n reports (Basic Text SR, 3 texts in 2 sections) into their studies at Orthanc, same machine, same run:"
printf '%-72s %9s %8s\n' "" "reports/s" "ms"
printf '%-72s %9s %8s\n' "radlink: ORU sent -> every SR committed and verified (1 s study-stable incl.)" "$(rate "$n" "$all")" "$all"
printf '%-72s %9s %8s\n' "  one report, ACK -> its SR verified: p50" "" "$p50"
printf '%-72s %9s %8s\n' "  one report, ACK -> its SR verified: p99" "" "$p99"
printf '%-72s %9s %8s\n' "storescu: the same SR files, sent only" "$(rate "$n" "$scu")" "$scu"
