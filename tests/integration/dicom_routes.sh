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
. "$(dirname "$0")/mwl_lib.sh"
PYD=/usr/lib/python3/dist-packages/pydicom/data/test_files
[ -f "$PYD/CT_small.dcm" ] || fail "python3-pydicom's test files are missing (make deps installs python3-pydicom)"
command -v dciodvfy >/dev/null || fail "dciodvfy is missing (make deps installs dicom3tools)"

# wait_tag HTTP STUDY KEYWORD VALUE: until the Orthanc at HTTP holds the
# study's instances with that value
wait_tag() {
    keep=$ORTHANC_HTTP
    ORTHANC_HTTP=$1
    i=0
    until [ "$(orthanc_tags "$2" "$3")" = "$4" ]; do
        i=$((i + 1))
        [ $i -le $(($(scaled 90) * 10)) ] ||
            fail "Orthanc $1: $3 of $2 is [$(orthanc_tags "$2" "$3")], not [$4]: $("$RADLINK" jobs list --data "$T/var" | tail -4)"
        sleep 0.1
    done
    ORTHANC_HTTP=$keep
}

start_orthanc ai true
AI_DICOM=$ORTHANC_DICOM AI_HTTP=$ORTHANC_HTTP
start_orthanc pacs true
PACS_HTTP=$ORTHANC_HTTP
# the research archive: storescp (it stores and commits nothing: verify="none",
# as such an archive is configured), every transfer syntax accepted
mkdir -p "$T/research"
RESEARCH=$(free_port)
storescp -aet RESEARCH +xa -od "$T/research" -uf "$RESEARCH" >"$T/storescp.log" 2>&1 &
PIDS="$PIDS $!"
wait_until 20 "echoscu -aec RESEARCH 127.0.0.1 $RESEARCH >/dev/null 2>&1"
hold_port DOWN # a node that is down

# the default HL7 routes (orders become worklist entries), and DICOM routes
cat >"$T/dicom.xml" <<'XML'
  <dicom-routes default="hold">
    <on-receive name="station">
      <match calling-ae="CT_ER"/>
      <set keyword="StationName" value="CT_ER"/>
    </on-receive>
    <on-receive name="long-station">
      <match calling-ae="CT_LONG"/>
      <set keyword="InstitutionName" value="Changed First"/>
      <set keyword="StationName" from="StudyDescription"/>
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
    <dicom-route name="files">
      <match calling-ae="FILES"/>
      <set keyword="InstitutionName" value="Routed Files"/>
      <send to="ORTHANC"/>
      <send to="AI" transfer-syntax="explicit-little"/>
    </dicom-route>
    <dicom-route name="to-down">
      <match calling-ae="MG_1"/>
      <send to="ORTHANC"/>
      <send to="DOWN"/>
    </dicom-route>
  </dicom-routes>
XML
awk -v f="$T/dicom.xml" '/^<\/routes>/ { while ((getline l < f) > 0) print l } { print }' \
    "$SRC/routes/default.xml" >"$T/routes.xml"
cat >"$T/cfg.xml" <<XML
<radlink>
  <dicom>
    <pacs ae="ORTHANC" host="127.0.0.1" port="$ORTHANC_DICOM" commit-timeout="10"/>
    <node ae="AI" host="127.0.0.1" port="$AI_DICOM" commit-timeout="10"/>
    <node ae="RESEARCH" host="127.0.0.1" port="$RESEARCH" verify="none"/>
    <node ae="DOWN" host="127.0.0.1" port="$DOWN" verify="none"/>
  </dicom>
  <jobs workers="2" study-stable="$STABLE"/>
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
line=$(grep -n 'send to="NOSUCH"' "$T/bad.xml" | head -1 | cut -d: -f1)
expect_line "$ERR" "bad\.xml:$line: .*NOSUCH" "the error names the file, the line and the node"

# the instances: a chest CT from CT_ER (with a comment the AI node must not
# get), a head CT from CT_2 (no route takes it), a research MR sent twice
# (two SOP instances of one study)
cp "$PYD/CT_small.dcm" "$T/chest.dcm"
dcmodify -nb -m "StudyInstanceUID=1.2.994.1" -m "SeriesInstanceUID=1.2.994.1.1" \
    -m "SOPInstanceUID=1.2.994.1.1.1" -i "BodyPartExamined=CHEST" -i "StationName=OLDNAME" \
    -i "AccessionNumber=ACC1" -i "PatientID=P1" -m "StudyDate=20261124" \
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
expect_line "$OUT" "^send AI .*transfer syntax explicit-little" "the AI node, as Explicit VR Little Endian"
expect_line "$OUT" "^send ORTHANC .*transfer syntax keep" "the PACS, as stored"
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
expect_not_has "$OUT" "DOE^JANE" "the patient's name is gone, from the Original Attributes Sequence too"
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
# every element of both, sequences included, against Table E.1-1 (pydicom,
# apart from radlink's code); each original UID mapped the same way in both
out2=$(ls "$T/research" | grep -vxF "$out1" | head -1)
for k in 1 2; do
    eval "o=\$out$k"
    run_rc /usr/bin/python3 "$SRC/tests/integration/deid_check.py" check \
        "$SRC/adapters/dicom/deid_table.tsv" "$T/mr$k.dcm" "$T/research/$o" --options retain-longitudinal-dates
    # but for what the send does after de-identifying, on purpose: the name
    # it sets (its Original Attributes item holds the emptied one), the
    # JPEG 2000 pixel data; and the file meta storescp wrote on receipt
    [ "$RC" = 0 ] || [ -z "$(printf '%s\n' "$OUT" | grep -Ev '^PatientName \(0010,0010\): |^PixelData \(7FE0,0010\): changed |^OriginalAttributesSequence \(0400,0561\): added$|^file meta/SourceApplicationEntityTitle: |^[0-9]+ findings$')" ] ||
        fail "mr$k: deid_check.py finds: $OUT $ERR"
done
# which research file came from which MR: their order of arrival
run_rc /usr/bin/python3 "$SRC/tests/integration/deid_check.py" mapping \
    "$T/mr1.dcm" "$T/research/$out1" "$T/mr2.dcm" "$T/research/$out2"
[ "$RC" = 0 ] || run_rc /usr/bin/python3 "$SRC/tests/integration/deid_check.py" mapping \
    "$T/mr1.dcm" "$T/research/$out2" "$T/mr2.dcm" "$T/research/$out1"
expect_rc 0 "each original UID became the same new UID in both sends: $OUT"
studies=$(dcmdump +P 0020,000d "$T"/research/* | sed -n 's/.*UI \[\([^]]*\)\].*/\1/p' | sort -u)
expect_eq "$studies" "$new_study" "both instances carry one new Study Instance UID"
sops_new=$(dcmdump +P 0008,0018 "$T"/research/* | sed -n 's/.*UI \[\([^]]*\)\].*/\1/p' | sort -u | wc -l)
expect_eq "$sops_new" 2 "two distinct new SOP Instance UIDs"

note "its order comes later: the correction reaches both destinations, each as its route says"
orm L1 NW ACC1 S1 CT CT01 202611240930 'ROUTED^CORRECTED' P1 >"$T/late.hl7"
send_hl7 "$T/late.hl7"
expect_has "$(cat "$T/late.hl7.out")" "MSA|AA|L1" "the late order"
wait_tag "$AI_HTTP" 1.2.994.1 PatientName ROUTED^CORRECTED
wait_tag "$PACS_HTTP" 1.2.994.1 PatientName ROUTED^CORRECTED
ORTHANC_HTTP=$AI_HTTP
expect_eq "$(orthanc_tags 1.2.994.1 PatientComments)" "" "the AI node's corrected copy: still without the comment"
expect_eq "$(orthanc_tags 1.2.994.1 InstitutionName)" "General Hospital" "and with the route's coercion"
ORTHANC_HTTP=$PACS_HTTP

note "pydicom's files (CT, MR, US, multi-frame, JPEG, JPEG 2000, RLE, ISO 2022) with dcmsend"
# (ISO 2022 in Korean: Orthanc 1.10 indexes a Japanese ISO 2022 IR 87 name
# without its ideographic groups, which radlink's C-FIND check rightly calls
# unverified)
mkdir -p "$T/files"
k=0
for f in CT_small.dcm MR_small_jp2klossless.dcm MR_small_RLE.dcm SC_rgb_rle_2frame.dcm \
         SC_rgb_jpeg_dcmtk.dcm ExplVR_BigEnd.dcm ../charset_files/chrI2.dcm; do
    k=$((k + 1))
    cp "$PYD/$f" "$T/files/f$k.dcm"
    dcmodify -nb -m "StudyInstanceUID=1.2.994.6.$k" -m "SeriesInstanceUID=1.2.994.6.$k.1" \
        -m "SOPInstanceUID=1.2.994.6.$k.1.1" "$T/files/f$k.dcm" >/dev/null 2>&1 || fail "dcmodify $f"
    echo "$f" >"$T/files/f$k.name"
done
run_rc dcmsend -aet FILES -aec RADLINK 127.0.0.1 "$DICOM_PORT" "$T"/files/*.dcm
expect_rc 0 "dcmsend: radlink takes every file"
n=1
while [ $n -le $k ]; do
    wait_cmd 120 "^ *[0-9]+ +done +study .*1\.2\.994\.6\.$n +AI " "$RADLINK" jobs list --data "$T/var"
    wait_cmd 120 "^ *[0-9]+ +done +study .*1\.2\.994\.6\.$n +ORTHANC " "$RADLINK" jobs list --data "$T/var"
    name=$(cat "$T/files/f$n.name")
    orig=$T/files/f$n.dcm
    orthanc_file "1.2.994.6.$n" "1.2.994.6.$n.1.1" "$T/pacs$n.dcm"
    ORTHANC_HTTP=$AI_HTTP
    orthanc_file "1.2.994.6.$n" "1.2.994.6.$n.1.1" "$T/ai$n.dcm"
    ORTHANC_HTTP=$PACS_HTTP
    ts_orig=$(dcmdump +P 0002,0010 "$orig" | sed -n 's/.*UI \[\([^]]*\)\].*/\1/p')
    ts_pacs=$(dcmdump +P 0002,0010 "$T/pacs$n.dcm" | sed -n 's/.*UI \[\([^]]*\)\].*/\1/p')
    case $ts_orig in
    1.2.840.10008.1.2.2) ;; # Explicit Big Endian, retired: a PACS may store it otherwise
    *) expect_eq "$ts_pacs" "$ts_orig" "$name: the PACS (keep) has it in its own transfer syntax" ;;
    esac
    for at in pacs ai; do
        expect_eq "$(dcmdump +P 0008,0080 "$T/$at$n.dcm" | sed -n 's/.*LO \[\([^]]*\)\].*/\1/p' | head -1)" \
            "Routed Files" "$name at $at: the route's coercion"
    done
    mode=lossless
    dcmdump +P 0028,2110 "$orig" | grep -q '\[01\]' && mode=lossy
    /usr/bin/python3 "$SRC/tests/integration/dicom_pixels.py" "$orig" "$T/ai$n.dcm" 1.2.840.10008.1.2.1 $mode ||
        fail "$name: the AI node's Explicit VR Little Endian copy does not hold the same pixels"
    dciodvfy "$orig" 2>&1 | grep '^Error' | sed 's/ -.*//' | sort -u >"$T/e.before"
    dciodvfy "$T/ai$n.dcm" 2>&1 | grep '^Error' | sed 's/ -.*//' | sort -u >"$T/e.after"
    new_errors=$(comm -13 "$T/e.before" "$T/e.after")
    [ -z "$new_errors" ] || fail "$name: dciodvfy finds errors radlink made: $new_errors"
    n=$((n + 1))
done

note "a destination that is down holds its own job, not the others'"
cp "$PYD/CT_small.dcm" "$T/mg.dcm"
dcmodify -nb -m "StudyInstanceUID=1.2.994.7" -m "SeriesInstanceUID=1.2.994.7.1" \
    -m "SOPInstanceUID=1.2.994.7.1.1" "$T/mg.dcm" >/dev/null 2>&1 || fail "dcmodify mg"
run_rc storescu -aet MG_1 -aec RADLINK 127.0.0.1 "$DICOM_PORT" "$T/mg.dcm"
expect_rc 0 "storescu mg"
wait_cmd 90 "^ *[0-9]+ +done +study .*1\.2\.994\.7 +ORTHANC " "$RADLINK" jobs list --data "$T/var"
expect_eq "$(orthanc_tags 1.2.994.7 SOPInstanceUID)" "1.2.994.7.1.1" "the PACS has it"
wait_cmd 60 "^ *[0-9]+ +(pending|failed|dead) +study .*1\\.2\\.994\\.7 +DOWN .*refused" \
    "$RADLINK" jobs list --data "$T/var"

note "a research US, that may hold burned-in text: not sent, and the job says why"
cp "$PYD/ExplVR_BigEnd.dcm" "$T/us.dcm"
dcmodify -nb -m "StudyInstanceUID=1.2.994.8" -m "SeriesInstanceUID=1.2.994.8.1" \
    -m "SOPInstanceUID=1.2.994.8.1.1" "$T/us.dcm" >/dev/null 2>&1 || fail "dcmodify us"
before=$(ls "$T/research" | wc -l)
run_rc storescu -aet MR_RESEARCH -aec RADLINK 127.0.0.1 "$DICOM_PORT" "$T/us.dcm"
expect_rc 0 "storescu us"
wait_cmd 90 "^ *[0-9]+ +done +study .*1\.2\.994\.8 +RESEARCH " "$RADLINK" jobs list --data "$T/var"
job=$("$RADLINK" jobs list --data "$T/var" | sed -n 's/^ *\([0-9]*\) .*1\.2\.994\.8 .*/\1/p' | head -1)
run_rc "$RADLINK" jobs show --data "$T/var" "$job"
expect_line "$OUT" "^  result .*1 left out .*Burned In Annotation is absent on a US image" \
    "the job names why the instance was not sent"
run_rc "$RADLINK" recon show --data "$T/var" 1.2.994.8
expect_line "$OUT" "^  held +1 instance: .*Burned In Annotation is absent on a US image" \
    "recon show names why it is held"
expect_eq "$(ls "$T/research" | wc -l)" "$before" "the research archive got nothing of it"

note "an <on-receive> coercion the instance cannot take: stored as it came, held with the reason"
cp "$PYD/CT_small.dcm" "$T/long.dcm"
dcmodify -nb -m "StudyInstanceUID=1.2.994.10" -m "SeriesInstanceUID=1.2.994.10.1" \
    -m "SOPInstanceUID=1.2.994.10.1.1" -i "StudyDescription=A DESCRIPTION FAR TOO LONG FOR A STATION NAME" \
    "$T/long.dcm" >/dev/null 2>&1 || fail "dcmodify long"
run_rc storescu -aet CT_LONG -aec RADLINK 127.0.0.1 "$DICOM_PORT" "$T/long.dcm"
expect_rc 0 "storescu: the instance is taken (kept, not lost)"
wait_cmd 30 "^1\\.2\\.994\\.10 +held " "$RADLINK" recon list --data "$T/var" --unmatched
run_rc "$RADLINK" recon show --data "$T/var" 1.2.994.10
expect_line "$OUT" "^  held +1 instance: .*StationName" "recon show names the attribute that could not be set"
spooled=$(printf '%s\n' "$OUT" | sed -n 's/^  1\.2\.994\.10\.1\.1 .* \(\/.*\.dcm\)$/\1/p')
[ -f "$spooled" ] || fail "recon show names the spooled file: [$OUT]"
run_rc dcmdump +P 0008,0080 +P 0400,0561 "$spooled"
expect_has "$OUT" "JFK IMAGING CENTER" "the stored file has its own institution: the first coercion was not kept"
expect_not_has "$OUT" "(0400,0561)" "and no Original Attributes Sequence"

note "a reload: what comes after it follows the new routes, what was decided before stays"
sed 's/<dicom-routes default="hold">/<dicom-routes default="all">/' "$T/routes.xml" >"$T/routes.new"
mv "$T/routes.new" "$T/routes.xml"
run_rc "$RADLINK" routes reload --data "$T/var"
expect_rc 0 "routes reload"
cp "$PYD/CT_small.dcm" "$T/head2.dcm"
dcmodify -nb -m "StudyInstanceUID=1.2.994.9" -m "SeriesInstanceUID=1.2.994.9.1" \
    -m "SOPInstanceUID=1.2.994.9.1.1" -i "BodyPartExamined=HEAD" "$T/head2.dcm" >/dev/null 2>&1 ||
    fail "dcmodify head2"
run_rc storescu -aet CT_2 -aec RADLINK 127.0.0.1 "$DICOM_PORT" "$T/head2.dcm"
expect_rc 0 "storescu head2"
wait_cmd 90 "^ *[0-9]+ +done +study .*1\\.2\\.994\\.9 +ORTHANC " "$RADLINK" jobs list --data "$T/var"
expect_eq "$(orthanc_tags 1.2.994.9 SOPInstanceUID)" "1.2.994.9.1.1" "default=\"all\" now: the PACS got it"
run_rc "$RADLINK" recon show --data "$T/var" 1.2.994.8
expect_line "$OUT" "^  held +1 instance" "the instance held before the reload is still held"

note "recon show: where a study's instances go"
run_rc "$RADLINK" recon show --data "$T/var" 1.2.994.1
expect_line "$OUT" "^  goes to +.*AI" "recon show: where the chest CT went"
stop_engine
echo "PASS"
