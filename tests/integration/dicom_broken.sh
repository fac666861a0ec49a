#!/bin/sh
# Broken instances never get success and never hold their study back.
# - a data set cut short in the stream (dcmjs-dimse sending a value shorter
#   than its declared length): refused 0xC000, nothing spooled;
# - native pixel data shorter than Rows x Columns declare (dcmodify): refused
#   0xA900 through DCMTK's storescu;
# - the valid instances of that study reach Orthanc, verified;
# - a spooled file that cannot be read whole any more (cut on disk after it
#   was received): the job sends the rest of its study and ends unverified,
#   naming the instance left out.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/mwl_lib.sh"
start_orthanc pacs false
cat >"$T/cfg.xml" <<XML
<radlink>
  <dicom><pacs ae="ORTHANC" host="127.0.0.1" port="$ORTHANC_DICOM" commit-timeout="10"/></dicom>
  <jobs workers="1" study-stable="2"/>
</radlink>
XML
start_engine --config "$T/cfg.xml"
wait_workers 1 10
{
    orm MSG1 NW ACC1 SPS1 CT CT01 202611241030 "DOE^JANE" PAT1
    orm MSG2 NW ACC2 SPS2 CT CT01 202611241130 "ROE^RICHARD" PAT2
} >"$T/orders.hl7"
send_hl7 "$T/orders.hl7"
expect_eq "$(grep -a -c 'MSA|AA' "$T/orders.hl7.out")" 2 "orders accepted"
A=1.2.826.0.1.3680043.10.1.81
B=1.2.826.0.1.3680043.10.1.82
make_study "$T/a" 1 4 "$A" ACC1 PAT1 "DOE^JANE"
make_study "$T/b" 1 2 "$B" ACC2 PAT2 "ROE^RICHARD"

note "a data set cut short in the stream: 0xC000, nothing kept"
run_rc node "$SRC/tests/js/store_truncated.js" 127.0.0.1 "$DICOM_PORT" RADLINK CT01 "$T/a/i3.dcm" 2
expect_rc 0 "dcmjs-dimse got an answer"
expect_line "$OUT" "^status c000 the data set is incomplete or cannot be read" "refused as it should"

note "pixel data shorter than the image attributes declare: 0xA900"
dcmodify -nb -m "Rows=64" "$T/a/i4.dcm" >/dev/null 2>&1 || fail "dcmodify"
run_rc storescu -v -aec RADLINK 127.0.0.1 "$DICOM_PORT" "$T/a/i4.dcm"
expect_has "$OUT$ERR" "Received Store Response (Error: DataSetDoesNotMatchSOPClass)" "storescu sees A900"
run_rc dcmdump "$T/a/i4.dcm"
expect_rc 0 "the file itself parses: only its pixel data is short"

note "the valid instances of the study go to the PACS"
run_rc storescu -aec RADLINK 127.0.0.1 "$DICOM_PORT" "$T/a/i1.dcm" "$T/a/i2.dcm"
expect_rc 0 "two valid instances stored"
run_rc "$RADLINK" status --data "$T/var"
expect_line "$OUT" "stored 2 store-failures 2 " "status: 2 stored, 2 refused"
[ -z "$(find "$T/var/spool/$A" -name "$A.1.3.dcm" -o -name "$A.1.4.dcm")" ] || fail "a refused instance was spooled"
wait_job 1 done 30
run_rc "$RADLINK" jobs show --data "$T/var" 1
expect_has "$OUT" "2 instances" "the job sent what was valid"
expect_eq "$(orthanc_tags "$A" SOPInstanceUID | tr '\n' ' ')" "$A.1.1 $A.1.2 " "Orthanc holds the valid instances"

note "a spooled file cut on disk: the rest of its study still goes"
run_rc storescu -aec RADLINK 127.0.0.1 "$DICOM_PORT" "$T/b/i1.dcm" "$T/b/i2.dcm"
expect_rc 0 "study B stored"
f=$(find "$T/var/spool/$B" -name "$B.1.2.dcm")
[ -n "$f" ] || fail "study B's second instance is not in the spool"
truncate -s -2 "$f"
wait_job 2 unverified 40
run_rc "$RADLINK" jobs show --data "$T/var" 2
expect_line "$OUT" "instance $B.1.2 left out: .*(incomplete|cannot be read)" "the job names what it left out"
expect_eq "$(orthanc_tags "$B" SOPInstanceUID | tr '\n' ' ')" "$B.1.1 " "Orthanc holds the instance that could be read"
stop_engine
echo "PASS dicom_broken"
