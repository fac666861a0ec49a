#!/bin/sh
# A PACS at its defaults: Orthanc that has never been told about radlink.
# It takes the images (C-STORE from anyone) but aborts radlink's storage
# commitment association. The job does not fail and send the study again:
# it verifies by C-FIND alone and says that commitment was refused and what
# to configure. Where Orthanc also refuses C-FIND (its default), the job is
# unverified after one attempt, with both reasons; where it answers C-FIND to
# anyone, the job is done. Orthanc's REST API shows the study arrived once;
# `radlink status` says commitment is refused, and `radlink pacs check` (with
# --config, with --data, and the console's API) says what the PACS allows,
# the remedies and the verify= that suits it. An automatic retry (its worker
# killed while it waited for a report) verifies again without sending the
# instance again, and jobs show tells the job's history.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/mwl_lib.sh"

# Orthanc knows another modality, never radlink (start_engine leaves it so)
ORTHANC_RADLINK='[ "SOMEONE", "127.0.0.1", 1 ]'
instances() { orthanc /instances | /usr/bin/python3 -c 'import json,sys; print(len(json.load(sys.stdin)))'; }

# one_study CASE: an engine on Orthanc, an order and its image, the study's
# job finished (its `jobs show` in OUT)
one_study() {
    cat >"$T/$1.xml" <<XML
<radlink>
  <dicom><pacs ae="ORTHANC" host="127.0.0.1" port="$ORTHANC_DICOM" commit-timeout="5"/></dicom>
  <jobs workers="1" study-stable="$STABLE"/>
</radlink>
XML
    start_engine --config "$T/$1.xml"
    wait_workers 1 10
    orm "O$1" NW "A$1" "S$1" CT CT01 202611240930 'DOE^JANE' "P$1" >"$T/o$1.hl7"
    send_hl7 "$T/o$1.hl7"
    expect_has "$(cat "$T/o$1.hl7.out")" "MSA|AA|O$1" "the order"
    make_study "$T/s$1" 1 1 "1.2.993.$1" "A$1" "P$1" 'DOE^JANE' CT
    run_rc storescu -aec RADLINK 127.0.0.1 "$DICOM_PORT" "$T/s$1/i1.dcm"
    expect_rc 0 "storescu"
    wait_cmd 60 "^ *[0-9]+ +(unverified|done|dead) +study " "$RADLINK" jobs list --data "$T/var"
    job=$("$RADLINK" jobs list --data "$T/var" | awk '$3 == "study" {print $1; exit}')
    run_rc "$RADLINK" jobs show --data "$T/var" "$job"
}

note "Orthanc at its defaults: commitment and C-FIND refused; unverified once, the study sent once"
start_orthanc plain false
one_study 1
expect_line "$OUT" "state +unverified" "unverified: C-FIND cannot confirm either"
expect_line "$OUT" "attempts +1$" "one attempt, not five"
expect_has "$OUT" "storage commitment refused" "says commitment was refused"
expect_has "$OUT" "declare AE RADLINK" "and what to configure"
expect_has "$OUT" "cannot ask it what it shows" "and that C-FIND was refused too"
run_rc "$RADLINK" jobs list --data "$T/var" --wide
expect_has "$OUT" "cannot ask it what it shows" "jobs list --wide prints the whole text"
expect_line "$OUT" "^[0-9]+ +unverified +study " "the state fits its column"
expect_eq "$(instances)" 1 "Orthanc holds the instance, sent once"
run_rc "$RADLINK" status --data "$T/var"
expect_line "$OUT" "^pacs ORTHANC: storage commitment refused \(job [0-9]+\): .*verify=\"find\"" \
    "radlink status says so, with what to do"
run_rc "$RADLINK" pacs check ORTHANC --config "$T/1.xml"
expect_rc 1 "pacs check: not all allowed"
expect_line "$OUT" "^  ok    C-ECHO" "it answers C-ECHO"
expect_line "$OUT" "^  no    storage commitment" "it refuses storage commitment"
expect_has "$OUT" "declare AE RADLINK (this engine's DICOM listener" "the remedy"
expect_line "$OUT" "^  no    C-FIND at study level" "it refuses C-FIND"
expect_has "$OUT" 'verify="none" suits it' "what suits it"
stop_engine
mv "$T/var" "$T/var1"

note "Orthanc answering C-FIND to anyone: commitment refused, verified by C-FIND alone, done"
ORTHANC_EXTRA='"DicomAlwaysAllowFind": true,'
start_orthanc findable false
ORTHANC_EXTRA=
one_study 2
expect_line "$OUT" "state +done" "done: C-FIND confirms"
expect_line "$OUT" "attempts +1$" "in one attempt"
expect_has "$OUT" "verified by C-FIND" "verified by C-FIND"
expect_has "$OUT" "storage commitment refused" "says commitment was refused"
expect_not_has "$OUT" "committed and verified" "not said committed"
expect_eq "$(instances)" 1 "Orthanc holds the instance"
run_rc "$RADLINK" status --data "$T/var"
expect_line "$OUT" "^pacs ORTHANC: storage commitment refused" "radlink status says so"
# the configuration the engine on --data runs with
run_rc "$RADLINK" pacs check ORTHANC --data "$T/var"
expect_line "$OUT" "^  ok    C-FIND at study level" "it answers C-FIND"
expect_line "$OUT" "^  ok    C-FIND at image level" "at image level too"
expect_has "$OUT" 'verify="find" suits it' "what suits it"
# the console asks the same of the running engine (GET /api/pacs/AE/check)
run_rc sh -c "echo 'pass-op-123' | '$RADLINK' user add op --role operator --data '$T/var' --password-stdin"
expect_rc 0 "user add op"
curl -s -c "$T/op.jar" -H 'Content-Type: application/json' \
    --data-binary '{"user": "op", "password": "pass-op-123"}' "http://127.0.0.1:$HTTP_PORT/api/login" >/dev/null
BODY=$(curl -s -b "$T/op.jar" "http://127.0.0.1:$HTTP_PORT/api/pacs/ORTHANC/check")
expect_eq "$(printf '%s' "$BODY" | /usr/bin/python3 -c 'import json,sys; d=json.load(sys.stdin)
print(d["verify"], [(c["check"], c["ok"]) for c in d["checks"]])')" \
    "find [('echo', True), ('commitment', False), ('find-study', True), ('find-image', True)]" \
    "the API's check: $BODY"
expect_has "$BODY" "declare AE RADLINK" "the remedy in the API's answer"
stop_engine

note "pacs check of a PACS that knows radlink: everything allowed, the default suits it"
ORTHANC_RADLINK="[ \"RADLINK\", \"127.0.0.1\", $DICOM_PORT ]"
start_orthanc known false
one_study 3 >/dev/null
run_rc "$RADLINK" pacs check ORTHANC --config "$T/3.xml"
expect_rc 0 "pacs check: $OUT"
expect_line "$OUT" "^  ok    storage commitment" "commitment allowed"
expect_has "$OUT" 'verify="commit+find" suits it (the default)' "the default suits it"
run_rc "$RADLINK" pacs check NOSUCH --config "$T/3.xml"
expect_rc 1 "an AE the configuration does not name"
expect_has "$ERR" "no <pacs> or <node> with AE title 'NOSUCH'" "said"
stop_engine

note "a retry does not send again what the PACS took in an earlier attempt"
# Orthanc knows RADLINK at a port where nothing listens: it takes the
# instance and the commitment request, and its report never comes. The
# worker waiting for it is killed (the attempt fails, as any worker crash
# would); meanwhile Orthanc learns radlink's port, and the automatic retry
# verifies the instance without sending it again
mv "$T/var" "$T/var3"
hold_port NOWHERE
ORTHANC_RADLINK="[ \"RADLINK\", \"127.0.0.1\", $NOWHERE ]"
start_orthanc retry false
cat >"$T/4.xml" <<XML
<radlink>
  <dicom><pacs ae="ORTHANC" host="127.0.0.1" port="$ORTHANC_DICOM" commit-timeout="60"/></dicom>
  <jobs workers="1" study-stable="$STABLE"/>
</radlink>
XML
start_engine --config "$T/4.xml"
wait_workers 1 10
orm O4 NW A4 S4 CT CT01 202611240930 'DOE^JANE' P4 >"$T/o4.hl7"
send_hl7 "$T/o4.hl7"
make_study "$T/s4" 1 1 1.2.993.4 A4 P4 'DOE^JANE' CT
run_rc storescu -aec RADLINK 127.0.0.1 "$DICOM_PORT" "$T/s4/i1.dcm"
expect_rc 0 "storescu"
wait_cmd 60 "^ *[0-9]+ +running +study " "$RADLINK" jobs list --data "$T/var"
wait_until 60 "curl -sf http://127.0.0.1:$ORTHANC_HTTP/instances | grep -q '[0-9a-f]'"
job=$("$RADLINK" jobs list --data "$T/var" | awk '$3 == "study" {print $1; exit}')
curl -sf -X PUT "http://127.0.0.1:$ORTHANC_HTTP/modalities/radlink" \
    -d "{\"AET\": \"RADLINK\", \"Host\": \"127.0.0.1\", \"Port\": $DICOM_PORT}" >/dev/null ||
    fail "Orthanc did not take radlink's port"
wpid=$("$RADLINK" jobs show --data "$T/var" "$job" | sed -n 's/.*running on *worker [0-9]* (pid \([0-9]*\) .*/\1/p')
[ -n "$wpid" ] || fail "the running job names its worker's pid: $("$RADLINK" jobs show --data "$T/var" "$job")"
kill -9 "$wpid"
wait_job "$job" done 90
run_rc "$RADLINK" jobs show --data "$T/var" "$job"
expect_line "$OUT" "1 corrected, sent to ORTHANC@127.0.0.1:[0-9]+ \(0, 1 stored by an earlier attempt, not sent again, committed and verified\)" \
    "the retry verified what the PACS held, without sending it again: $OUT"
expect_line "$OUT" "^history:$" "jobs show has the job's history"
expect_line "$OUT" "attempt 1 .*: failed: " "the first attempt failed with its worker"
expect_line "$OUT" "attempt 2 on worker [0-9]+ .*: done: 1 instance" "the second, done"
expect_eq "$(instances)" 1 "Orthanc holds the one instance"
stop_engine
ORTHANC_RADLINK=
echo "PASS"
