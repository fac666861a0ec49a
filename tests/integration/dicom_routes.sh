#!/bin/sh
# DICOM routes, end to end, with real peers: two Orthancs (the PACS, and an
# "AI node" that gets only what a route sends it) and DCMTK's storescp as a
# research archive. Real files nobody here wrote (pydicom's CT_small and
# MR_small), sent by storescu from the AE titles the routes match on:
# - an <on-receive> route changes the instance before it is indexed: the
#   stored file, and what both destinations get, hold the change and the
#   replaced value in an Original Attributes Sequence item;
# - a chest CT goes to the PACS and to the AI node, each with its own
#   coercions and transfer syntax, each by its own job;
# - a research MR goes only to the research archive, de-identified, as JPEG
#   2000 lossless: new UIDs, the same ones when it is sent again, valid for
#   dciodvfy;
# - an instance no route takes is held (default="hold") on the exception
#   list, nothing sent, until `recon forward` sends it to the PACS;
# - `radlink routes test` shows the same decisions for a file, and
#   `routes check` names a mistake with its line.
. "$(dirname "$0")/lib.sh"
PYD=/usr/lib/python3/dist-packages/pydicom/data/test_files
[ -f "$PYD/CT_small.dcm" ] || fail "python3-pydicom's test files are missing (make deps installs python3-pydicom)"
command -v dciodvfy >/dev/null || fail "dciodvfy is missing (make deps installs dicom3tools)"

start_orthanc ai false
AI_DICOM=$ORTHANC_DICOM AI_HTTP=$ORTHANC_HTTP
start_orthanc pacs false
PACS_HTTP=$ORTHANC_HTTP
# the research archive: storescp (it stores and commits nothing: verify="none",
# as such an archive is configured), every transfer syntax accepted
mkdir -p "$T/research"
RESEARCH=$(free_port)
storescp -aet RESEARCH +xa -od "$T/research" -uf "$RESEARCH" >"$T/storescp.log" 2>&1 &
PIDS="$PIDS $!"
wait_until 20 "echoscu -aec RESEARCH 127.0.0.1 $RESEARCH >/dev/null 2>&1"

cat >"$T/routes.xml" <<'XML'
<routes default="accept">
  <dicom-routes default="hold">
    <on-receive name="station">
      <match calling-ae="CT_ER"/>
      <set keyword="StationName" value="CT_ER"/>
    </on-receive>
    <dicom-route name="chest-ct">
      <match modality="CT" calling-ae="CT_*"/>
      <when keyword="BodyPartExamined" equals="CHEST"/>
      <set keyword="InstitutionName" value="General Hospital"/>
      <send to="ORTHANC"/>
      <send to="AI" transfer-syntax="explicit-little"><remove keyword="PatientComments"/></send>
    </dicom-route>
    <dicom-route name="research">
      <match calling-ae="MR_RESEARCH"/>
      <send to="RESEARCH" transfer-syntax="jpeg2000-lossless">
        <deidentify profile="basic" options="retain-longitudinal-dates"/>
        <set keyword="PatientName" value="STUDY42^SUBJECT"/>
      </send>
    </dicom-route>
  </dicom-routes>
</routes>
XML
cat >"$T/cfg.xml" <<XML
<radlink>
  <dicom>
    <pacs ae="ORTHANC" host="127.0.0.1" port="$ORTHANC_DICOM" commit-timeout="10"/>
    <node ae="AI" host="127.0.0.1" port="$AI_DICOM" commit-timeout="10"/>
    <node ae="RESEARCH" host="127.0.0.1" port="$RESEARCH" verify="none"/>
  </dicom>
  <jobs workers="2" study-stable="1"/>
  <recon unmatched="forward"/>
  <routes file="$T/routes.xml"/>
</radlink>
XML

note "routes check: the file as the engine would load it, and a mistake named by its line"
run_rc "$RADLINK" routes check --config "$T/cfg.xml" "$T/routes.xml"
expect_rc 0 "routes check"
sed 's/send to="AI"/send to="NOSUCH"/' "$T/routes.xml" >"$T/bad.xml"
run_rc "$RADLINK" routes check --config "$T/cfg.xml" "$T/bad.xml"
expect_rc 3 "routes check refuses a <send> to a node the configuration does not have"
expect_line "$ERR" "bad\.xml:12: .*NOSUCH" "the error names the file, the line and the node"

# the instances: a chest CT from CT_ER (with a comment the AI node must not
# get), a head CT from CT_2 (no route takes it), a research MR sent twice
# (two SOP instances of one study)
cp "$PYD/CT_small.dcm" "$T/chest.dcm"
dcmodify -nb -m "StudyInstanceUID=1.2.994.1" -m "SeriesInstanceUID=1.2.994.1.1" \
    -m "SOPInstanceUID=1.2.994.1.1.1" -i "BodyPartExamined=CHEST" -i "StationName=OLDNAME" \
    -i "PatientComments=not for the AI node" "$T/chest.dcm" >/dev/null 2>&1 || fail "dcmodify chest"
cp "$PYD/CT_small.dcm" "$T/head.dcm"
dcmodify -nb -m "StudyInstanceUID=1.2.994.2" -m "SeriesInstanceUID=1.2.994.2.1" \
    -m "SOPInstanceUID=1.2.994.2.1.1" -i "BodyPartExamined=HEAD" "$T/head.dcm" >/dev/null 2>&1 ||
    fail "dcmodify head"
for k in 1 2; do
    cp "$PYD/MR_small.dcm" "$T/mr$k.dcm"
    dcmodify -nb -m "StudyInstanceUID=1.2.994.3" -m "SeriesInstanceUID=1.2.994.3.1" \
        -m "SOPInstanceUID=1.2.994.3.1.$k" -m "PatientName=DOE^JANE" -m "PatientID=RES001" \
        "$T/mr$k.dcm" >/dev/null 2>&1 || fail "dcmodify mr$k"
done

note "routes test: the decisions for a file, by the code the engine runs"
run_rc "$RADLINK" routes test --config "$T/cfg.xml" --data "$T/var" "$T/routes.xml" "$T/chest.dcm" \
    --calling-ae CT_ER
expect_rc 0 "routes test: the chest CT would be sent"
expect_has "$OUT" "chest-ct" "the route that takes it"
expect_line "$OUT" "send to AI .*explicit-little" "the AI node, as Explicit VR Little Endian"
expect_line "$OUT" "send to ORTHANC " "the PACS"
expect_has "$OUT" "not for the AI node" "the comment the AI node's send removes, before and after"
run_rc "$RADLINK" routes test --config "$T/cfg.xml" --data "$T/var" "$T/routes.xml" "$T/head.dcm" \
    --calling-ae CT_2
expect_rc 1 "routes test: the head CT would be held"
expect_has "$OUT" "held" "says it is held"

start_engine --config "$T/cfg.xml"
wait_workers 2 10
# the AI node sends its storage commitment reports to radlink too
curl -sf -X PUT "http://127.0.0.1:$AI_HTTP/modalities/radlink" \
    -d "{\"AET\": \"RADLINK\", \"Host\": \"127.0.0.1\", \"Port\": $DICOM_PORT}" >/dev/null ||
    fail "the AI node's Orthanc did not take radlink's DICOM port"

note "a chest CT from CT_ER: to the PACS and to the AI node, each as its send says"
run_rc storescu -aet CT_ER -aec RADLINK 127.0.0.1 "$DICOM_PORT" "$T/chest.dcm"
expect_rc 0 "storescu chest"
wait_cmd 90 "^ *[0-9]+ +done +study .*1\.2\.994\.1 +AI " "$RADLINK" jobs list --data "$T/var"
wait_cmd 90 "^ *[0-9]+ +done +study .*1\.2\.994\.1 +ORTHANC " "$RADLINK" jobs list --data "$T/var"
expect_eq "$(orthanc_tags 1.2.994.1 StationName)" "CT_ER" "the PACS: <on-receive>'s station name"
expect_eq "$(orthanc_tags 1.2.994.1 InstitutionName)" "General Hospital" "the PACS: the route's coercion"
expect_eq "$(orthanc_tags 1.2.994.1 PatientComments)" "not for the AI node" "the PACS keeps the comment"
orthanc_file 1.2.994.1 1.2.994.1.1.1 "$T/at_pacs.dcm"
ORTHANC_HTTP=$AI_HTTP
expect_eq "$(orthanc_tags 1.2.994.1 StationName)" "CT_ER" "the AI node: <on-receive>'s station name"
expect_eq "$(orthanc_tags 1.2.994.1 InstitutionName)" "General Hospital" "the AI node: the route's coercion"
expect_eq "$(orthanc_tags 1.2.994.1 PatientComments)" "" "the AI node: its send removed the comment"
orthanc_file 1.2.994.1 1.2.994.1.1.1 "$T/at_ai.dcm"
ORTHANC_HTTP=$PACS_HTTP
run_rc dcmdump +P 0002,0010 "$T/at_ai.dcm"
expect_has "$OUT" "=LittleEndianExplicit" "the AI node got Explicit VR Little Endian"
run_rc dcmdump +P 0400,0561 +P 0400,0550 +P 0008,1010 +P 0400,0564 "$T/at_pacs.dcm"
expect_has "$OUT" "OLDNAME" "the replaced station name is kept in the Original Attributes Sequence"
expect_has "$OUT" "COERCE" "with the reason COERCE"
expect_eq "$(ls "$T/research" | wc -l)" 0 "the research archive got nothing of it"

note "a head CT no route takes: held on the exception list, nothing sent"
run_rc storescu -aet CT_2 -aec RADLINK 127.0.0.1 "$DICOM_PORT" "$T/head.dcm"
expect_rc 0 "storescu head"
wait_cmd 30 "^1\.2\.994\.2 +held " "$RADLINK" recon list --data "$T/var" --unmatched
run_rc "$RADLINK" recon show --data "$T/var" 1.2.994.2
expect_line "$OUT" "^  held +1 instance: .*hold" "recon show says why it is held"
run_rc "$RADLINK" jobs list --data "$T/var"
expect_not_has "$OUT" "1.2.994.2" "no job sends the held study"
run_rc "$RADLINK" recon forward --data "$T/var" 1.2.994.2
expect_rc 0 "recon forward releases it"
wait_cmd 90 "^ *[0-9]+ +done +study .*1\.2\.994\.2 +ORTHANC " "$RADLINK" jobs list --data "$T/var"
expect_eq "$(orthanc_tags 1.2.994.2 SOPInstanceUID)" "1.2.994.2.1.1" "the PACS got the released instance"
ORTHANC_HTTP=$AI_HTTP
expect_eq "$(orthanc_tags 1.2.994.2 SOPInstanceUID)" "" "the AI node did not (it takes only what routes send)"
ORTHANC_HTTP=$PACS_HTTP

note "a research MR: de-identified, as JPEG 2000 lossless, to the research archive only"
run_rc storescu -aet MR_RESEARCH -aec RADLINK 127.0.0.1 "$DICOM_PORT" "$T/mr1.dcm"
expect_rc 0 "storescu mr1"
wait_cmd 90 "^ *[0-9]+ +done +study .*1\.2\.994\.3 +RESEARCH " "$RADLINK" jobs list --data "$T/var"
wait_until 30 "[ \$(ls '$T/research' | wc -l) -ge 1 ]"
out1=$(ls "$T/research" | head -1)
run_rc dcmdump "$T/research/$out1"
expect_has "$OUT" "(0010,0010) PN [STUDY42^SUBJECT]" "the send's own name"
expect_has "$OUT" "(0012,0062) CS [YES]" "Patient Identity Removed"
expect_has "$OUT" "=JPEG2000LosslessOnly" "JPEG 2000 lossless"
expect_not_has "$OUT" "RES001" "the patient ID is gone"
expect_not_has "$OUT" "1.2.994.3" "every original UID is replaced"
new_study=$(dcmdump +P 0020,000d "$T/research/$out1" | sed -n 's/.*UI \[\([^]]*\)\].*/\1/p')
[ -n "$new_study" ] || fail "the de-identified instance has a Study Instance UID"
# dciodvfy: no error radlink added (the test file's own findings aside)
dciodvfy "$T/mr1.dcm" 2>&1 | grep '^Error' | sed 's/ -.*//' | sort -u >"$T/err.before"
dciodvfy "$T/research/$out1" 2>&1 | grep '^Error' | sed 's/ -.*//' | sort -u >"$T/err.after"
new_errors=$(comm -13 "$T/err.before" "$T/err.after")
[ -z "$new_errors" ] || fail "dciodvfy finds errors radlink made: $new_errors"
ORTHANC_HTTP=$AI_HTTP
expect_eq "$(orthanc_tags 1.2.994.3 SOPInstanceUID)" "" "the AI node got nothing of it"
ORTHANC_HTTP=$PACS_HTTP
expect_eq "$(orthanc_tags 1.2.994.3 SOPInstanceUID)" "" "the PACS got nothing of it (default hold is not 'all')"

note "the same study sent again: the same de-identified study"
run_rc storescu -aet MR_RESEARCH -aec RADLINK 127.0.0.1 "$DICOM_PORT" "$T/mr2.dcm"
expect_rc 0 "storescu mr2"
wait_until 90 "[ \$(ls '$T/research' | wc -l) -ge 2 ]"
studies=$(dcmdump +P 0020,000d "$T"/research/* | sed -n 's/.*UI \[\([^]]*\)\].*/\1/p' | sort -u)
expect_eq "$studies" "$new_study" "both instances carry one new Study Instance UID"
sops_new=$(dcmdump +P 0008,0018 "$T"/research/* | sed -n 's/.*UI \[\([^]]*\)\].*/\1/p' | sort -u | wc -l)
expect_eq "$sops_new" 2 "two distinct new SOP Instance UIDs"

note "recon show: where a study's instances go"
run_rc "$RADLINK" recon show --data "$T/var" 1.2.994.1
expect_line "$OUT" "^  goes to +.*AI" "recon show: where the chest CT went"
stop_engine
echo "PASS"
