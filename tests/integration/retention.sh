#!/bin/sh
# Retention, enforced by the engine: messages past their age, worklist
# entries whose date is long past, jobs done long ago, and the spool files
# of studies delivered to the PACS (Orthanc) and verified; then a log driven
# past the store's size several times over with messages-max-mb: every
# message answered AA, and the store's file stays small.
. "$(dirname "$0")/lib.sh"
. "$SRC/tests/integration/mwl_lib.sh"

start_orthanc pacs true
cat >"$T/cfg.xml" <<XML
<radlink>
  <dicom><pacs ae="ORTHANC" host="127.0.0.1" port="$ORTHANC_DICOM" commit-timeout="20"/></dicom>
  <jobs workers="1" study-stable="1"/>
  <retention messages="6s" worklist="1d" jobs="2s" spool="2s" every="1s"/>
</radlink>
XML
start_engine --config "$T/cfg.xml"
wait_workers 1 10

note "orders: one scheduled long ago, one next year, two for studies that come"
orm R1 NW OLD S1 CT CT01 202601050900 'DOE^JANE' P1 >"$T/o.hl7"
orm R2 NW NEXT S2 CT CT01 202701050900 'DOE^JANE' P1 >>"$T/o.hl7"
orm R3 NW A3 S3 CT CT01 202611240900 'ROE^ANNA' P3 >>"$T/o.hl7"
orm R4 NW A4 S4 CT CT01 202611241000 'POE^EDGAR' P4 >>"$T/o.hl7"
send_hl7 "$T/o.hl7"
expect_eq "$(grep -c 'MSA|AA' "$T/o.hl7.out")" 4 "four orders"
run_rc "$RADLINK" wl list --data "$T/var"
expect_line "$OUT" "^OLD " "the old order is on the worklist at first"

note "two studies, sent to the PACS and verified"
make_study "$T/s3" 1 3 1.2.999.53 A3 P3 'ROE^ANNA'
make_study "$T/s4" 1 2 1.2.999.54 A4 P4 'POE^EDGAR'
run_rc storescu -aec RADLINK 127.0.0.1 "$DICOM_PORT" "$T"/s3/i*.dcm "$T"/s4/i*.dcm
expect_rc 0 "storescu"
wait_cmd 30 "^\(2 jobs\)" "$RADLINK" jobs list --data "$T/var" --state done
expect_eq "$(orthanc /studies | tr -cd ',' | wc -c)" 1 "Orthanc holds both studies"
[ -n "$(find "$T/var/spool" -name '*.dcm')" ] || fail "the spool holds the files at first"

note "after their time: the spool files, the old worklist entry, the older job, old messages"
wait_cmd 20 "studies=2 instances=5|instances=5" grep -h "retention.removed" "$ENGINE_LOG"
i=0
while [ -n "$(find "$T/var/spool" -name '*.dcm')" ]; do
    i=$((i + 1)); [ $i -lt 100 ] || fail "the spool files stay: $(find "$T/var/spool" -name '*.dcm')"; sleep 0.1
done
expect_eq "$(orthanc /instances | tr -cd ',' | wc -c)" 4 "the PACS keeps its 5 instances"
run_rc "$RADLINK" recon show --data "$T/var" 1.2.999.53
expect_line "$OUT" "^  state +(matched|corrected)" "the study's reconciliation stays"
run_rc "$RADLINK" check --data "$T/var"
expect_rc 0 "radlink check after the spool retention: $OUT"
wait_cmd 10 "^\(1 job\)" "$RADLINK" jobs list --data "$T/var"
run_rc "$RADLINK" wl list --data "$T/var"
expect_not_has "$OUT" "OLD " "the order scheduled long ago is gone"
expect_line "$OUT" "^NEXT " "next year's order stays"
wait_cmd 15 "^[0-9]+ .*R4 " "$RADLINK" msg list --data "$T/var" --limit 100
sleep 7
run_rc "$RADLINK" msg list --data "$T/var" --limit 100
expect_eq "$(printf '%s\n' "$OUT" | tail -n +2 | wc -l)" 1 "only the newest message is left after 6 s (its number is the next one's base)"
expect_line "$OUT" " R4 " "the newest"
stop_engine

note "a log driven past the store's size several times over: bounded by messages-max-mb"
mv "$T/var" "$T/var1"
cat >"$T/bounded.xml" <<XML
<radlink><retention messages-max-mb="1" audit="1s" every="1s"/></radlink>
XML
PORT= DICOM_PORT= HTTP_PORT=
start_engine --config "$T/bounded.xml" --workers 0
/usr/bin/python3 - "$T/round" <<'EOF'
import sys
for r in range(12):
    with open("%s%d.hl7" % (sys.argv[1], r), "w", newline="") as f:
        for i in range(400):
            f.write("MSH|^~\\&|RIS|GENHOSP|RADLINK|RAD|20261124||ADT^A08|L%d-%d|P|2.5.1\r"
                    "PID|1||P%d^^^GENHOSP^MR||DOE^JANE%s\r\n" % (r, i, i, "X" * 2500))
EOF
r=0
while [ $r -lt 12 ]; do
    run_rc mllp_send --loose --file "$T/round$r.hl7" --port "$PORT" 127.0.0.1
    expect_eq "$(printf '%s\n' "$OUT" | grep -c 'MSA|AA')" 400 "round $r: 400 messages of 2.5 kB, all AA"
    r=$((r + 1))
    sleep 1.2
done
sleep 1.5
size=$(stat -c %s "$T/var/store/data.mdb")
echo "store file after 12 x 400 messages of 2.5 kB (about 24 MB written): $size bytes"
[ "$size" -lt 8388608 ] || fail "the store's file grew to $size bytes with messages-max-mb=1"
left=$(msg_count accepted)
[ "$left" -lt 4800 ] && [ "$left" -gt 100 ] || fail "$left messages kept of 4800"
run_rc "$RADLINK" msg list --data "$T/var" --limit 1
expect_line "$OUT" " L11-399 " "the newest message is there"
run_rc "$RADLINK" check --data "$T/var"
expect_rc 0 "radlink check: $OUT"
stop_engine
echo "PASS"
