#!/bin/sh
# A study sent over several associations at once (<pacs associations>), to
# a PACS (Orthanc) behind a link that takes one association of a caller at a
# time and closes the others at once, as a PACS limiting its callers does:
# the job is done on its first attempt, each instance received once, the
# parts refused going over one association after the first.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/mwl_lib.sh"
# $T/received: a line per instance Orthanc receives
start_orthanc_counting pacs
# one association at a time; each write toward Orthanc 10 ms late, so that
# the parts of a send are under way together
start_slow_proxy "$ORTHANC_DICOM" 10 --max 1

cat >"$T/cfg.xml" <<XML
<radlink>
  <dicom><pacs ae="ORTHANC" host="127.0.0.1" port="$PROXY_PORT" associations="4"/></dicom>
  <jobs workers="1" study-stable="$STABLE"/>
</radlink>
XML
start_engine --config "$T/cfg.xml"
wait_workers 1 10
orm O1 NW A1 S1 CT CT01 202611240930 'DOE^JANE' P1 >"$T/o.hl7"
send_hl7 "$T/o.hl7"
expect_eq "$(grep -a -c 'MSA|AA|' "$T/o.hl7.out")" 1 "the order is on the worklist"

note "130 instances of a misspelt study, four associations asked, one taken at a time"
make_study "$T/s1" 1 130 1.2.996.1 A1 P1 'DOE^JANET'
run_rc storescu -aec RADLINK 127.0.0.1 "$DICOM_PORT" "$T"/s1/*.dcm
expect_rc 0 "130 instances stored"
wait_job 1 done 180
run_rc "$RADLINK" jobs show --data "$T/var" 1
expect_line "$OUT" "^  attempts +1$" "done on its first attempt"
expect_has "$OUT" "130 instances, 130 corrected, sent to ORTHANC@127.0.0.1:$PROXY_PORT (130, committed and verified)" \
    "every instance sent, committed and verified"
[ "$(grep -c '^refused$' "$T/proxy.out")" -ge 1 ] ||
    fail "the link refused an association of the send: $(cat "$T/proxy.out")"
expect_eq "$(grep -c '^1\.2\.996\.1\.' "$T/received")" 130 "the PACS received 130 instances"
expect_eq "$(grep '^1\.2\.996\.1\.' "$T/received" | sort | uniq -d | wc -l)" 0 "each instance once"
expect_eq "$(orthanc_tags 1.2.996.1 PatientName | grep -c -x -F 'DOE^JANE')" 130 \
    "the PACS holds every one with the corrected name"
stop_engine
note "ok"
