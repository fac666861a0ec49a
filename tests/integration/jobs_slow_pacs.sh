#!/bin/sh
# Correction jobs against a real, slow link: the PACS (DCMTK's storescp) sits
# behind a proxy that delays every write toward it by 50 ms, as a PACS in
# another building or in a cloud would. A 150-instance study gives one job,
# done on its first attempt, each instance received once, no worker lost
# (heartbeats keep the lease through a long C-STORE); instances sent while
# the job runs end corrected at the PACS through one follow-up job; a worker
# killed mid-job, and one stopped mid-job, leave the job done once, and the
# stopped attempt's late outcome changes nothing.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/mwl_lib.sh"
PACS_PORT=$(free_port)
PROXY_PORT=$(free_port)
mkdir -p "$T/pacs"
# --fork: a PACS serves several associations at once (a stopped worker keeps one open)
storescp --fork -aet PACS +uf --output-directory "$T/pacs" "$PACS_PORT" >"$T/pacs.log" 2>&1 &
PIDS="$PIDS $!"
/usr/bin/python3 "$SRC/tests/integration/slow_proxy.py" "$PROXY_PORT" "$PACS_PORT" 50 >"$T/proxy.log" 2>&1 &
PIDS="$PIDS $!"
wait_for "$T/proxy.log" ready 10

cat >"$T/cfg.xml" <<XML
<radlink>
  <dicom><pacs ae="PACS" host="127.0.0.1" port="$PROXY_PORT" verify="none"/></dicom>
  <jobs workers="2" max-attempts="5" study-stable="2" worker-timeout="3"/>
</radlink>
XML
start_engine --config "$T/cfg.xml" --pacs "PACS@127.0.0.1:$PROXY_PORT"
wait_workers 2 10
{ orm O1 NW A1 S1 CT CT01 202611240930 'DOE^JANE' P1
  orm O2 NW A2 S2 CT CT01 202611241000 'ROE^ANNA' P2
  orm O3 NW A3 S3 CT CT01 202611241030 'POE^EDGAR' P3; } >"$T/o.hl7"
send_hl7 "$T/o.hl7"
expect_eq "$(grep -a -c 'MSA|AA|' "$T/o.hl7.out")" 3 "three orders on the worklist"

# a PACS file's SOP UIDs and names, and how many were received of a study
pacs_files() { ls "$T/pacs" | wc -l; }
received() { sops "$T/pacs"/* | grep -c "^$1\." || true; }
corrected() { dcmdump +P 0010,0010 "$T/pacs"/* 2>/dev/null | grep -c "\[$1\]" || true; }

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
expect_has "$OUT" "150 instances, 150 corrected, sent to PACS@" "every instance of the first part"
run_rc "$RADLINK" jobs show --data "$T/var" 2
expect_has "$OUT" "20 instances, 20 corrected, sent to PACS@" "the follow-up sends only what came meanwhile"
expect_line "$OUT" "^  attempts +1$" "also on its first attempt"
run_rc "$RADLINK" jobs list --data "$T/var"
expect_has "$OUT" "(2 jobs)" "no other job for the study"
expect_eq "$(received 1.2.997.1)" 170 "the PACS received 170 instances"
expect_eq "$(sops "$T/pacs"/* | uniq -d | wc -l)" 0 "each instance once"
expect_eq "$(corrected 'DOE^JANE')" 170 "every one with the corrected name"
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
sleep 1
W=$(worker_of 3)
[ -n "$W" ] || fail "status names the worker of job 3: $("$RADLINK" status --data "$T/var")"
kill -9 "$W"
wait_job 3 done 120
run_rc "$RADLINK" jobs show --data "$T/var" 3
expect_line "$OUT" "^  attempts +2$" "the killed attempt, then one that succeeded"
expect_has "$OUT" "40 instances, 40 corrected" "the second attempt sent them all"
# the killed attempt sent some before it died: those arrived twice, as a
# PACS takes a retried association
expect_eq "$(sops "$T/pacs"/* | grep '^1\.2\.997\.2\.' | uniq | wc -l)" 40 \
    "every instance of the study is at the PACS"

note "a worker stopped mid-job: declared lost, the job done by another; its late outcome changes nothing"
make_study "$T/s3" 1 40 1.2.997.3 A3 P3 'POE^EDGARD'
run_rc storescu -aec RADLINK 127.0.0.1 "$DICOM_PORT" "$T"/s3/*.dcm
expect_rc 0 "40 instances stored"
wait_job 4 running 20
sleep 1
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
stop_engine
note "ok"
