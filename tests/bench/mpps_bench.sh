#!/bin/sh
# MPPS throughput and status latency. A modality's N-CREATE (IN PROGRESS) +
# N-SET (COMPLETED) pairs over 4 parallel associations (dcmjs-dimse,
# tests/js/mpps_scu.js), each naming a worklist step made from an order sent
# first; radlink checks, commits (record, worklist step status, status message
# queued) and answers; the status goes to a RIS (python3-hl7's MLLP server).
# Beside it, in the same run, the same client against dcmjs-dimse's own SCP
# answering success without storing anything (no Debian-packaged MPPS SCP
# exists to compare with: wlmscpfs and Orthanc have none): the most the
# client can drive. Latency: from the N-SET leaving the modality (when its
# N-CREATE was answered) to the RIS receiving the CM status, p50 and p99.
# Usage: mpps_bench.sh [--smoke]
#   RADLINK  the radlink binary (default build/radlink)   WORK  scratch dir
set -eu
here=$(cd "$(dirname "$0")" && pwd)
pairs=400
if [ "${1:-}" = "--smoke" ]; then pairs=40; fi
radlink=${RADLINK:-$here/../../build/radlink}
js=$here/../js
work=${WORK:-$(mktemp -d)}/bench_mpps
rm -rf "$work"
mkdir -p "$work"
. "$here/lib.sh"
pids=""
trap 'for p in $pids; do kill $p 2>/dev/null || true; done' EXIT INT TERM

/usr/bin/python3 "$here/../integration/mllp_sink.py" 0 "$work/ris.log" --times >"$work/sink.out" 2>&1 &
pids="$pids $!"
bench_ready "$work/sink.out" $!
sink=$ready_port
cat >"$work/cfg.xml" <<XML
<radlink>
  <destinations><destination name="ris" host="127.0.0.1" port="$sink"/></destinations>
  <log level="warn"/>
</radlink>
XML
"$radlink" serve --http 0 --config "$work/cfg.xml" --data "$work/var" --mllp auto --dicom auto \
    >"$work/engine.log" 2>&1 &
pids="$pids $!"
bench_ports "$work/var" "$work/engine.log" $!
mllp=$mport dicom=$rport
# one order per pair: accession B<n>, IDs derived from it
/usr/bin/python3 - "$pairs" >"$work/orders.hl7" <<'PY'
import sys
for i in range(int(sys.argv[1])):
    sys.stdout.write('MSH|^~\\&|RIS|H|RL|R|20261123||ORM^O01|B%d|P|2.5.1\r'
                     'PID|1||P%d^^^H||DOE^JANE\rORC|NW|PB%d|B%d\r'
                     'OBR|1|PB%d|B%d|CT1^CT HEAD^99RIS||||||||||||||B%d|||CT01|||CT|||'
                     '^^^202611240800^^R\r\n' % ((i,) * 7))
PY
"$radlink" send --to "127.0.0.1:$mllp" "$work/orders.hl7" >"$work/send.out" || { tail -3 "$work/send.out" >&2; exit 1; }
cat >"$work/t.json" <<'JSON'
{"create": {"ScheduledStepAttributesSequence": [{"AccessionNumber": "B@N",
   "RequestedProcedureID": "B@N", "ScheduledProcedureStepID": "B@N",
   "StudyInstanceUID": "1.2.826.0.1.3680043.2.1125.8.@N"}],
  "PatientName": "DOE^JANE", "PatientID": "P@N", "PerformedProcedureStepID": "PPS@N",
  "PerformedStationAETitle": "CT01", "PerformedProcedureStepStartDate": "20261124",
  "PerformedProcedureStepStartTime": "080000", "PerformedProcedureStepStatus": "IN PROGRESS",
  "Modality": "CT", "PerformedSeriesSequence": []},
 "set": {"PerformedProcedureStepStatus": "COMPLETED",
  "PerformedProcedureStepEndDate": "20261124", "PerformedProcedureStepEndTime": "081500"}}
JSON
node "$js/mpps_null_scp.js" 0 >"$work/null.out" 2>&1 &
pids="$pids $!"
bench_ready "$work/null.out" $!
null=$ready_port
base=$(node "$js/mpps_scu.js" --bench 127.0.0.1 "$null" ANY CT01 "$pairs" 4 "$work/t.json")
ours=$(MPPS_TIMES="$work/sent.times" node "$js/mpps_scu.js" --bench 127.0.0.1 "$dicom" RADLINK CT01 \
    "$pairs" 4 "$work/t.json")
# every CM status at the RIS
i=0
while [ "$(grep -c ' CM ' "$work/ris.log.times" 2>/dev/null || echo 0)" -lt "$pairs" ]; do
    i=$((i + 1)); [ $i -lt 600 ] || { echo "the RIS got $(grep -c ' CM ' "$work/ris.log.times") of $pairs statuses" >&2; exit 1; }
    sleep 0.1
done
/usr/bin/python3 - "$work/sent.times" "$work/ris.log.times" "$base" "$ours" <<'PY'
import re, sys
sent = dict(l.split() for l in open(sys.argv[1]) if l.strip())
lat = []
for l in open(sys.argv[2]):
    acc, code, ms = l.split()
    if code == 'CM':
        lat.append(float(ms) - float(sent[acc[1:]]))
lat.sort()
rate = lambda s: float(re.search(r': (\d+) pairs/s', s).group(1))
b, o = rate(sys.argv[3]), rate(sys.argv[4])
print('dcmjs-dimse null SCP (stores nothing): ' + sys.argv[3])
print('radlink (committed, worklist, status):  ' + sys.argv[4])
print('ratio radlink / null SCP: %.2f' % (o / b))
print('N-SET COMPLETED -> RIS has the CM status: p50 %.1f ms, p99 %.1f ms (%d statuses)'
      % (lat[len(lat) // 2], lat[min(len(lat) - 1, int(len(lat) * 0.99))], len(lat)))
PY
