#!/bin/sh
# Correction jobs against a real PACS (Orthanc) over a slow link: a proxy
# delays every write toward the PACS by 50 ms, as a PACS in another building
# or in a cloud would be reached. Each send is verified as the engine does by
# default (storage commitment, then C-FIND). A 150-instance study gives one
# job, done on its first attempt, each instance received once, no worker
# lost (heartbeats keep the lease through a long C-STORE); instances sent
# while the job runs end corrected at the PACS through one follow-up job; a
# worker killed mid-job leaves the job done once by a retry that sends only
# what the PACS lacks, and one stopped mid-job is declared lost while the
# stopped attempt's late outcome changes nothing.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/mwl_lib.sh"
# $T/received: a line per instance Orthanc receives
start_orthanc_counting pacs
# The slow link: no PACS is slow on demand, and slowness is the link's, not
# the PACS's; a proxy (on a port the system picks) delays what radlink
# writes toward Orthanc. Orthanc's storage commitment reports come back
# directly.
start_slow_proxy "$ORTHANC_DICOM" 50

# worker-timeout: how long a worker may not be heard from (a limit, scaled)
cat >"$T/cfg.xml" <<XML
<radlink>
  <dicom><pacs ae="ORTHANC" host="127.0.0.1" port="$PROXY_PORT"/></dicom>
  <jobs workers="2" max-attempts="5" study-stable="2" worker-timeout="$(scaled 3)"/>
</radlink>
XML
start_engine --config "$T/cfg.xml"
wait_workers 2 10
{ orm O1 NW A1 S1 CT CT01 202611240930 'DOE^JANE' P1
  orm O2 NW A2 S2 CT CT01 202611241000 'ROE^ANNA' P2
  orm O3 NW A3 S3 CT CT01 202611241030 'POE^EDGAR' P3; } >"$T/o.hl7"
send_hl7 "$T/o.hl7"
expect_eq "$(grep -a -c 'MSA|AA|' "$T/o.hl7.out")" 3 "three orders on the worklist"

# received STUDY: how many instances of the study the PACS received (each
# receipt); held STUDY: how many it holds; named STUDY NAME: how many of
# those bear the name
received() { grep -c "^$1\." "$T/received" || true; }
held() { orthanc_tags "$1" SOPInstanceUID | grep -c . || true; }
named() { orthanc_tags "$1" PatientName | grep -c -x -F "$2" || true; }

note "150 instances of a misspelt study over one association: one job, first attempt"
make_study "$T/s1" 1 150 1.2.997.1 A1 P1 'DOE^JANET'
make_study "$T/s1b" 151 170 1.2.997.1 A1 P1 'DOE^JANET'
run_rc storescu -aec RADLINK 127.0.0.1 "$DICOM_PORT" "$T"/s1/*.dcm
expect_rc 0 "150 instances stored"
wait_job 1 running 20

note "20 more instances while the job runs: one follow-up job"
run_rc storescu -aec RADLINK 127.0.0.1 "$DICOM_PORT" "$T"/s1b/*.dcm
expect_rc 0 "20 more stored"
expect_line "$("$RADLINK" jobs show --data "$T/var" 1)" "^  state +running$" "the first job still runs"
wait_job 1 done 180
wait_job 2 done 120
run_rc "$RADLINK" jobs show --data "$T/var" 1
expect_line "$OUT" "^  attempts +1$" "done on its first attempt"
expect_has "$OUT" "150 instances, 150 corrected, sent to ORTHANC@127.0.0.1:$PROXY_PORT (150, committed and verified)" "every instance of the first part, verified"
run_rc "$RADLINK" jobs show --data "$T/var" 2
expect_has "$OUT" "20 instances, 20 corrected, sent to ORTHANC@127.0.0.1:$PROXY_PORT (20, committed and verified)" "the follow-up sends only what came meanwhile, verified"
expect_line "$OUT" "^  attempts +1$" "also on its first attempt"
run_rc "$RADLINK" jobs list --data "$T/var"
expect_has "$OUT" "(2 jobs)" "no other job for the study"
expect_eq "$(received 1.2.997.1)" 170 "the PACS received 170 instances"
expect_eq "$(grep '^1\.2\.997\.1\.' "$T/received" | sort | uniq -d | wc -l)" 0 "each instance once"
expect_eq "$(held 1.2.997.1)" 170 "the PACS holds 170 instances"
expect_eq "$(named 1.2.997.1 'DOE^JANE')" 170 "every one with the corrected name"
run_rc "$RADLINK" recon show --data "$T/var" 1.2.997.1
expect_line "$OUT" "^  state +corrected$" "the study is corrected"
expect_line "$OUT" "^  instances +170$" "with its 170 instances"
expect_has "$("$RADLINK" status --data "$T/var")" "workers lost 0" "no worker was lost"

# worker_of JOB: the pid of the local worker running JOB
worker_of() {
    "$RADLINK" status --data "$T/var" | sed -n "s/^worker [0-9]* pid \([0-9]*\) on .* running job $1 attempt .*/\1/p"
}

note "a worker killed mid-job: the job is done once, by another attempt"
make_study "$T/s2" 1 40 1.2.997.2 A2 P2 'ROE^ANNE'
run_rc storescu -aec RADLINK 127.0.0.1 "$DICOM_PORT" "$T"/s2/*.dcm
expect_rc 0 "40 instances stored"
wait_job 3 running 20
# mid-job: the PACS has received some of the study
wait_until 20 "[ \$(grep -c '^1\.2\.997\.2\.' '$T/received') -ge 1 ]"
W=$(worker_of 3)
[ -n "$W" ] || fail "status names the worker of job 3: $("$RADLINK" status --data "$T/var")"
kill -9 "$W"
wait_job 3 done 120
run_rc "$RADLINK" jobs show --data "$T/var" 3
expect_line "$OUT" "^  attempts +2$" "the killed attempt, then one that succeeded"
expect_has "$OUT" "40 instances, 40 corrected" "the second attempt sent them all"
# the killed attempt stored some before it died: the retry asks the PACS
# what it holds, finds it shows the corrected study, and sends only the rest
expect_eq "$(received 1.2.997.2)" 40 "each instance received once, the retry sending only the rest"
expect_line "$OUT" "\([0-9]+, [0-9]+ stored by an earlier attempt, not sent again, committed and verified\)" \
    "the job says what the retry did not send again"
expect_eq "$(held 1.2.997.2)" 40 "every instance of the study is at the PACS"
expect_eq "$(named 1.2.997.2 'ROE^ANNA')" 40 "every one with the corrected name"

note "a worker stopped mid-job: declared lost, the job done by another; its late outcome changes nothing"
make_study "$T/s3" 1 40 1.2.997.3 A3 P3 'POE^EDGARD'
run_rc storescu -aec RADLINK 127.0.0.1 "$DICOM_PORT" "$T"/s3/*.dcm
expect_rc 0 "40 instances stored"
wait_job 4 running 20
wait_until 20 "[ \$(grep -c '^1\.2\.997\.3\.' '$T/received') -ge 1 ]"
W=$(worker_of 4)
[ -n "$W" ] || fail "status names the worker of job 4"
kill -STOP "$W"
wait_job 4 done 120
BEFORE=$("$RADLINK" jobs show --data "$T/var" 4)
expect_line "$BEFORE" "^  attempts +2$" "done by a second attempt"
kill -CONT "$W"
wait_cmd 120 "late outcomes ignored 1," "$RADLINK" status --data "$T/var"
expect_eq "$("$RADLINK" jobs show --data "$T/var" 4)" "$BEFORE" "the late outcome changed nothing"
expect_has "$(dcmdump "$T/var/spool/1.2.997.3/1.2.997.3.1/1.2.997.3.1.7.dcm")" "[POE^EDGAR]" \
    "the spool holds the corrected file"
[ -z "$(ls "$T/var/spool/work")" ] || fail "the late attempt's copies are removed: $(ls -R "$T/var/spool/work")"
run_rc "$RADLINK" recon show --data "$T/var" 1.2.997.3
expect_line "$OUT" "^  state +corrected$" "the study is corrected"
expect_eq "$(held 1.2.997.3)" 40 "every instance of the study is at the PACS"
expect_eq "$(named 1.2.997.3 'POE^EDGAR')" 40 "every one with the corrected name"
stop_engine
note "ok"
