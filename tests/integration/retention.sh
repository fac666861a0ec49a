#!/bin/sh
# Retention, enforced by the engine: messages past their age, worklist
# entries whose date is long past, jobs done long ago, and the spool files
# of studies delivered to the PACS (Orthanc) and verified; then a log bound
# by messages-max-mb: a pass keeps between 90% and 100% of what the bound
# fits, every message answered AA, the store's file small. The passes are
# driven (`radlink retention run`, <retention every> a day), never raced:
# what a pass removes is what the test asserts.
. "$(dirname "$0")/lib.sh"
. "$SRC/tests/integration/mwl_lib.sh"

start_orthanc pacs true
cat >"$T/cfg.xml" <<XML
<radlink>
  <dicom><pacs ae="ORTHANC" host="127.0.0.1" port="$ORTHANC_DICOM" commit-timeout="20"/></dicom>
  <jobs workers="1" study-stable="$STABLE"/>
  <retention messages="3s" worklist="1d" jobs="2s" spool="2s" every="1d"/>
</radlink>
XML
start_engine --config "$T/cfg.xml"
wait_workers 1 10

note "a report for an order not yet received: held, its message kept for when its study comes"
printf '%s\r' 'MSH|^~\&|RIS|GENHOSP|RADLINK|RAD|20261124110000||ORU^R01^ORU_R01|W1|P|2.5.1' \
  'PID|1||P1^^^GENHOSP^MR||DOE^JANE' \
  'OBR|1|ONEXT|FNEXT|PCT^CT Chest^LOCAL|||20261124093012|||||||||||NEXT|RPNEXT|||20261124103000|||F' \
  'OBX|1|TX|&IMP|1|No acute finding.||||||F' >"$T/w1.hl7"
send_hl7 "$T/w1.hl7"
expect_has "$(cat "$T/w1.hl7.out")" "MSA|AA|W1" "the report"

note "orders: one scheduled ten days ago, one next year, two for today's studies"
TODAY=$(date +%Y%m%d)
OLD=$(date -d '10 days ago' +%Y%m%d)
NEXT=$(date -d 'next year' +%Y%m%d)
orm R1 NW OLD S1 CT CT01 "${OLD}0900" 'DOE^JANE' P1 >"$T/o.hl7"
orm R2 NW NEXT S2 CT CT01 "${NEXT}0900" 'DOE^JANE' P1 >>"$T/o.hl7"
orm R3 NW A3 S3 CT CT01 "${TODAY}0900" 'ROE^ANNA' P3 >>"$T/o.hl7"
orm R4 NW A4 S4 CT CT01 "${TODAY}1000" 'POE^EDGAR' P4 >>"$T/o.hl7"
send_hl7 "$T/o.hl7"
expect_eq "$(grep -c 'MSA|AA' "$T/o.hl7.out")" 4 "four orders"
run_rc "$RADLINK" wl list --data "$T/var"
expect_line "$OUT" "^OLD " "the old order is on the worklist at first"

note "two studies, sent to the PACS and verified"
make_study "$T/s3" 1 3 1.2.999.53 A3 P3 'ROE^ANNA'
make_study "$T/s4" 1 2 1.2.999.54 A4 P4 'POE^EDGAR'
run_rc storescu -aec RADLINK 127.0.0.1 "$DICOM_PORT" "$T"/s3/i*.dcm "$T"/s4/i*.dcm
expect_rc 0 "storescu"
wait_cmd 60 "^\(2 jobs\)" "$RADLINK" jobs list --data "$T/var" --state done
expect_eq "$(orthanc /studies | tr -cd ',' | wc -c)" 1 "Orthanc holds both studies"
expect_eq "$(find "$T/var/spool" -name '*.dcm' | wc -l)" 5 "the spool holds the 5 files at first"

note "after their time: the old order, the spool files, the older job, old messages"
# what is tested is time passing: the ages are 2 and 3 s (and a day, for
# the order of ten days ago)
sleep 3.5
run_rc "$RADLINK" retention run --data "$T/var"
expect_rc 0 "retention run: $ERR"
expect_line "$OUT" "^retention removed messages 3, worklist 1, jobs 1, studies 2, instances 5, " \
    "the old order, three of the five messages (the newest and the held report's stay), the older job, both studies' spool files"
expect_eq "$(find "$T/var/spool" -name '*.dcm' | wc -l)" 0 "the spool files went after the commit"
expect_eq "$(orthanc /instances | tr -cd ',' | wc -c)" 4 "the PACS keeps its 5 instances"
run_rc "$RADLINK" recon show --data "$T/var" 1.2.999.53
expect_line "$OUT" "^  state +(matched|corrected)" "the study's reconciliation stays"
run_rc "$RADLINK" check --data "$T/var"
expect_rc 0 "radlink check after the spool retention: $OUT"
run_rc "$RADLINK" jobs list --data "$T/var"
expect_line "$OUT" "^\(1 job\)" "the newest job stays"
run_rc "$RADLINK" wl list --data "$T/var"
expect_not_has "$OUT" "OLD " "the order scheduled long ago is gone"
expect_line "$OUT" "^NEXT " "next year's order stays"
run_rc "$RADLINK" msg list --data "$T/var" --limit 100
expect_eq "$(printf '%s\n' "$OUT" | tail -n +2 | wc -l)" 2 "the held report's and the newest messages are left (its number is the next one's base)"
expect_line "$OUT" " R4 " "the newest"
expect_line "$OUT" " W1 " "the message of the report that waits for its study"
run_rc "$RADLINK" recon list --data "$T/var" --reports
expect_line "$OUT" "^ *[0-9]+ +NEXT +final +(held|waiting) " "the report still waits"
run_rc "$RADLINK" status --data "$T/var"
expect_line "$OUT" "^retention removed messages 3, worklist 1, jobs 1, studies 2, instances 5, audit 0$" \
    "status counts what went, by kind"
run_rc curl -sf "http://127.0.0.1:$HTTP_PORT/metrics"
expect_line "$OUT" '^radlink_retention_removed_total\{kind="instances"\} 5$' "and /metrics"
stop_engine

note "a log bounded by messages-max-mb: a pass keeps between 90% and 100% of what fits"
mv "$T/var" "$T/var1"
cat >"$T/bounded.xml" <<XML
<radlink><retention messages-max-mb="1" every="1d"/></radlink>
XML
PORT= DICOM_PORT= HTTP_PORT=
start_engine --config "$T/bounded.xml" --workers 0
/usr/bin/python3 - "$T/round" <<'EOF'
import base64, random, sys
# names of random letters: the log stores records compressed, and these do not shrink much
rnd = random.Random(7)
for r in range(6):
    with open("%s%d.hl7" % (sys.argv[1], r), "w", newline="") as f:
        for i in range(400):
            x = base64.b64encode(rnd.randbytes(1875)).decode().replace("+", "A").replace("/", "B")
            f.write("MSH|^~\\&|RIS|GENHOSP|RADLINK|RAD|20261124||ADT^A08|L%d-%d|P|2.5.1\r"
                    "PID|1||P%d^^^GENHOSP^MR||DOE^JANE%s\r\n" % (r, i, i, x))
EOF
MAX=1048576
r=0
while [ $r -lt 6 ]; do
    run_rc mllp_send --loose --file "$T/round$r.hl7" --port "$PORT" 127.0.0.1
    expect_eq "$(printf '%s\n' "$OUT" | grep -c 'MSA|AA')" 400 "round $r: 400 messages of 2.5 kB, all AA"
    run_rc "$RADLINK" retention run --data "$T/var"
    expect_rc 0 "retention run after round $r: $ERR"
    run_rc "$RADLINK" status --data "$T/var"
    line=$(printf '%s\n' "$OUT" | grep '^messages ')
    kept=$(printf '%s\n' "$line" | sed -n 's/^messages *\([0-9]*\) in the log (\([0-9]*\) bytes).*/\1/p')
    bytes=$(printf '%s\n' "$line" | sed -n 's/^messages *\([0-9]*\) in the log (\([0-9]*\) bytes).*/\2/p')
    [ -n "$bytes" ] || fail "status says how large the log is: $line"
    [ "$bytes" -le $MAX ] || fail "round $r: the log takes $bytes bytes, over the bound of $MAX"
    [ "$bytes" -ge $((MAX * 9 / 10)) ] || fail "round $r: the log takes $bytes bytes: a pass removed more than the bound asks"
    note "round $r: $kept messages kept, $bytes bytes of $MAX"
    r=$((r + 1))
done
size=$(stat -c %s "$T/var/store/data.mdb")
echo "store file after 6 x 400 messages of 2.5 kB (about 12 MB written): $size bytes"
[ "$size" -lt 8388608 ] || fail "the store's file grew to $size bytes with messages-max-mb=1"
expect_eq "$(msg_count accepted)" "$kept" "msg list holds what status counts"
run_rc "$RADLINK" msg list --data "$T/var" --limit 1
expect_line "$OUT" " L5-399 " "the newest message is there"
run_rc "$RADLINK" status --data "$T/var"
expect_line "$OUT" "^retention removed messages $((2400 - kept)), " "status counts every removal"
run_rc "$RADLINK" check --data "$T/var"
expect_rc 0 "radlink check: $OUT"
stop_engine
echo "PASS"
