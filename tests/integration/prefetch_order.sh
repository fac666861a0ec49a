#!/bin/sh
# Priors before the patient arrives: the <prefetch> route action, with the
# engine, a worker, Orthanc as the archive (it knows the reading PACS) and
# Orthanc as the reading PACS, DCMTK's storescu putting the priors on the
# archive, python3-hl7's mllp_send as the RIS:
# - a new CT order: a prefetch job on a worker moves exactly the relevant
#   priors (CT within five years), complete, verified; the study the PACS
#   holds already is not moved again; `jobs list --kind prefetch` and
#   `jobs show` say what was done;
# - an order with lead="12h" scheduled for tomorrow waits; its cancellation
#   (ORC-1 CA) cancels the prefetch;
# - `routes test` shows the decision;
# - an archive that is down: the job fails, says why, and is retried with
#   backoff until the archive is back, then moves the priors of the
#   identity a merge (A40) left meanwhile.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/mwl_lib.sh"

Y=$(date -u +%Y)
D2=$((Y - 2))0315 D3=$((Y - 3))0610 D7=$((Y - 7))0101 D1=$((Y - 1))1111
make_prior "$T/p2" 1.2.995.2 "$D2" CT PF1 3
make_prior "$T/p3" 1.2.995.3 "$D3" CT PF1 2
make_prior "$T/p7" 1.2.995.7 "$D7" CT PF1 2
make_prior "$T/m1" 1.2.995.11 "$D1" MR PF1 2
make_prior "$T/q1" 1.2.995.21 "$D1" CT PF3 2

start_orthanc pacs false
PACS_DICOM=$ORTHANC_DICOM PACS_HTTP=$ORTHANC_HTTP
start_orthanc archive false
ARCHIVE_DICOM=$ORTHANC_DICOM ARCHIVE_HTTP=$ORTHANC_HTTP ARCHIVE_PID=$!
curl -sf -X PUT "http://127.0.0.1:$ARCHIVE_HTTP/modalities/pacs" \
    -d "{\"AET\": \"PACS\", \"Host\": \"127.0.0.1\", \"Port\": $PACS_DICOM}" >/dev/null ||
    fail "the archive did not take the PACS"
run_rc storescu -aec ARCHIVE 127.0.0.1 "$ARCHIVE_DICOM" "$T"/p2/*.dcm "$T"/p3/*.dcm \
    "$T"/p7/*.dcm "$T"/m1/*.dcm "$T"/q1/*.dcm
expect_rc 0 "storescu to the archive"
run_rc storescu -aec PACS 127.0.0.1 "$PACS_DICOM" "$T"/p3/*.dcm
expect_rc 0 "storescu of a prior to the PACS"
count() {
    curl -sf -X POST "http://127.0.0.1:$1/tools/find" \
        -d "{\"Level\":\"Instance\",\"Query\":{\"StudyInstanceUID\":\"$2\"}}" |
        /usr/bin/python3 -c 'import json,sys; print(len(json.load(sys.stdin)))'
}

# the shipped routes, with a prefetch for every order, and one 12 hours
# before the scheduled start for MR orders
sed -e 's|<worklist/>|<worklist/>\n    <prefetch from="ARCHIVE" to="PACS" max="3" within="5y" modality="same"/>|' \
    -e 's|<route name="orders">|<route name="mr-orders"><match type="ORM^O01"/><when><equals path="OBR-24" value="MR"/></when><worklist/><prefetch from="ARCHIVE" to="PACS" lead="12h"/></route>\n  <route name="orders">|' \
    "$SRC/routes/default.xml" >"$T/routes.xml"
cat >"$T/cfg.xml" <<XML
<radlink>
  <dicom>
    <pacs ae="PACS" host="127.0.0.1" port="$PACS_DICOM"/>
    <node ae="ARCHIVE" host="127.0.0.1" port="$ARCHIVE_DICOM" query-timeout="20"/>
  </dicom>
  <jobs workers="1"/>
  <routes file="$T/routes.xml"/>
</radlink>
XML
TODAY=$(date +%Y%m%d) TOMORROW=$(date -d tomorrow +%Y%m%d)
orm O1 NW NEW1 S1 CT CT01 "${TODAY}1400" 'DOE^JANE' PF1 >"$T/o1.hl7"

note "routes test: the decision for a new order"
run_rc "$RADLINK" routes test --data "$T/var0" --config "$T/cfg.xml" "$T/routes.xml" "$T/o1.hl7"
expect_rc 0 "routes test: $ERR"
expect_has "$OUT" "priors of accession NEW1 from ARCHIVE to PACS (at most 3), due now" "the decision"
# a body part the order names (OBR-15.4, the specimen source's body site)
/usr/bin/python3 - "$T/o1.hl7" "$T/o1b.hl7" <<'PY'
import sys
segs = open(sys.argv[1], 'rb').read().split(b'\r')
for i, s in enumerate(segs):
    if s.startswith(b'OBR|'):
        f = s.split(b'|')
        f += [b''] * (16 - len(f))
        f[15] = b'^^^CHEST'
        segs[i] = b'|'.join(f)
open(sys.argv[2], 'wb').write(b'\r'.join(segs))
PY
run_rc "$RADLINK" routes test --data "$T/var0" --config "$T/cfg.xml" "$T/routes.xml" "$T/o1b.hl7"
expect_has "$OUT" "body part CHEST (OBR-15.4 or OBR-46)" "the body part the order names"

start_engine --config "$T/cfg.xml"
wait_workers 1 10

note "a new CT order: its relevant priors moved to the PACS, verified"
send_hl7 "$T/o1.hl7"
expect_has "$(cat "$T/o1.hl7.out")" "MSA|AA|O1" "the order"
wait_cmd 60 "^ *[0-9]+ +done +prefetch " "$RADLINK" jobs list --data "$T/var" --kind prefetch
run_rc "$RADLINK" jobs list --data "$T/var" --kind prefetch
expect_line "$OUT" "^ *[0-9]+ +done +prefetch +1 .*accession NEW1 +PACS<-ARCHIVE " "the job, listed"
expect_eq "$(printf '%s\n' "$OUT" | grep -c ' study ')" 0 "--kind prefetch lists only prefetches"
job=$(printf '%s\n' "$OUT" | awk '$2 == "done" {print $1; exit}')
run_rc "$RADLINK" jobs show --data "$T/var" "$job"
expect_has "$OUT" "2 relevant of 4 at ARCHIVE, 1 already at PACS, 1 moved (3 instances, verified)" \
    "what it did"
expect_eq "$(count "$PACS_HTTP" 1.2.995.2)" 3 "the two-year-old CT is complete at the PACS"
expect_eq "$(count "$PACS_HTTP" 1.2.995.3)" 2 "the one it held, as it was"
expect_eq "$(count "$PACS_HTTP" 1.2.995.7)" 0 "not the seven-year-old CT"
expect_eq "$(count "$PACS_HTTP" 1.2.995.11)" 0 "not the MR"

note "lead=12h: an MR order for tomorrow waits; its cancellation cancels the prefetch"
orm O2 NW NEW2 S2 MR MR01 "${TOMORROW}1400" 'DOE^JANE' PF1 >"$T/o2.hl7"
send_hl7 "$T/o2.hl7"
expect_has "$(cat "$T/o2.hl7.out")" "MSA|AA|O2" "the MR order"
run_rc "$RADLINK" jobs list --data "$T/var" --kind prefetch --state pending
expect_line "$OUT" "^ *[0-9]+ +pending +prefetch .*accession NEW2 " "its prefetch waits"
job2=$(printf '%s\n' "$OUT" | awk '$2 == "pending" {print $1; exit}')
expect_has "$("$RADLINK" jobs show --data "$T/var" "$job2")" "not before" "until 12 hours before"
orm O3 CA NEW2 S2 MR MR01 "${TOMORROW}1400" 'DOE^JANE' PF1 >"$T/o3.hl7"
send_hl7 "$T/o3.hl7"
expect_has "$(cat "$T/o3.hl7.out")" "MSA|AA|O3" "the cancellation"
run_rc "$RADLINK" jobs show --data "$T/var" "$job2"
expect_line "$OUT" "state +done" "the prefetch is over"
expect_has "$OUT" "cancelled: the order was cancelled or discontinued" "cancelled, said"
expect_eq "$(count "$PACS_HTTP" 1.2.995.11)" 0 "the MR prior was not moved"
note "the archive down: the prefetch fails, says why, and is retried until it is back"
kill "$ARCHIVE_PID"
i=0
# until it has exited (its ports closed, its database free for the restart)
while kill -0 "$ARCHIVE_PID" 2>/dev/null; do
    i=$((i + 1)); [ $i -le $(($(scaled 20) * 10)) ] || fail "the archive did not stop"; sleep 0.1
done
# the order comes under a second identity of the patient (PF3X), which a
# merge folds into PF3 (the archive's) while the prefetch waits
orm O4 NW NEW4 S4 CT CT01 "${TODAY}1500" 'ROE^ANNA' PF3X >"$T/o4.hl7"
send_hl7 "$T/o4.hl7"
expect_has "$(cat "$T/o4.hl7.out")" "MSA|AA|O4" "the order"
wait_cmd 60 "^ *[0-9]+ +failed +prefetch .*accession NEW4 .*ARCHIVE@127\.0\.0\.1:$ARCHIVE_DICOM" \
    "$RADLINK" jobs list --data "$T/var" --kind prefetch
expect_eq "$(count "$PACS_HTTP" 1.2.995.21)" 0 "nothing moved while the archive is down"
printf 'MSH|^~\\&|ADT|GENHOSP|RADLINK|RAD|20261123110000||ADT^A40^ADT_A39|M1|P|2.5.1\rEVN|A40|20261123110000\rPID|1||PF3^^^GENHOSP^MR||ROE^ANNA||19700412|F\rMRG|PF3X^^^GENHOSP^MR\r\n' >"$T/a40.hl7"
send_hl7 "$T/a40.hl7"
expect_has "$(cat "$T/a40.hl7.out")" "MSA|AA|M1" "the merge"
Orthanc "$T/archive/orthanc.json" >>"$T/archive/orthanc.log" 2>&1 &
PIDS="$PIDS $!"
i=0
until curl -sf -X PUT "http://127.0.0.1:$ARCHIVE_HTTP/modalities/pacs" \
        -d "{\"AET\": \"PACS\", \"Host\": \"127.0.0.1\", \"Port\": $PACS_DICOM}" >/dev/null 2>&1; do
    i=$((i + 1)); [ $i -le $(($(scaled 20) * 10)) ] || fail "the archive did not come back"; sleep 0.1
done
wait_cmd 90 "^ *[0-9]+ +done +prefetch .*accession NEW4 " "$RADLINK" jobs list --data "$T/var" --kind prefetch
expect_eq "$(count "$PACS_HTTP" 1.2.995.21)" 2 "the prior of the surviving identity moved once the archive is back"

run_rc curl -sf "http://127.0.0.1:$HTTP_PORT/metrics"
expect_line "$OUT" '^radlink_prefetch_jobs\{state="done"\} 3$' "/metrics counts the prefetch jobs"
expect_line "$OUT" '^radlink_prefetch_studies_moved 2$' "the studies they moved"
expect_line "$OUT" '^radlink_prefetch_instances_moved 5$' "and their instances"
expect_line "$OUT" '^radlink_prefetch_seconds_count 2$' "and how long each took"
stop_engine
echo "PASS"
