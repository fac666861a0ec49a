#!/bin/sh
# No patient data in the info log (radlink/log.h's rule, DESIGN.md's
# Security): a whole flow with distinctive synthetic patients (orders, a
# refused order whose error quotes its accession, an ADT rename, a worklist
# query, C-STORE of disagreeing images, their correction and forward to the
# PACS with the default verification there, a result forwarded to a
# downstream) and the engine's and workers' info log holds none of their
# names, IDs, birth dates or accessions. The same flow at debug level does
# name them (so the check can fail). Each flow has its own engine data, PACS
# (Orthanc), downstream and files, and is checked on its own.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/mwl_lib.sh"

flow() { # flow LEVEL: the whole flow against an engine logging at LEVEL; its log in $T/LEVEL/engine.log
    L=$T/$1
    mkdir -p "$L"
    PORT= DICOM_PORT= HTTP_PORT= # this flow's engine: ports the system picks
    [ ! -d "$T/var" ] || mv "$T/var" "$T/var.before-$1"
    SINK_PORT=$(free_port)
    /usr/bin/python3 "$SRC/tests/integration/mllp_sink.py" "$SINK_PORT" "$L/sink.log" >"$L/sink.out" 2>&1 &
    PIDS="$PIDS $!"
    wait_for "$L/sink.out" ready 10
    start_orthanc "pacs-$1" false
    cat >"$L/cfg.xml" <<XML
<radlink>
  <log level="$1"/>
  <dicom><pacs ae="ORTHANC" host="127.0.0.1" port="$ORTHANC_DICOM"/></dicom>
  <jobs workers="1" study-stable="$STABLE"/>
  <destinations><destination name="results" host="127.0.0.1" port="$SINK_PORT"/></destinations>
</radlink>
XML
    start_engine --config "$L/cfg.xml"
    wait_workers 1 10
    orm O1 NW ACQ77123 S1 CT CT01 202611240930 'QUILLFEATHER^ZEPHYRINE' PXQ93817 >"$L/o.hl7"
    sed -i 's/19700412/19530917/' "$L/o.hl7"
    # an accession longer than 16 characters: AE, and its text quotes it
    orm O2 NW ACQ7712399999999999Z S2 CT CT01 202611241030 'QUILLFEATHER^ZEPHYRINE' PXQ93817 >>"$L/o.hl7"
    send_hl7 "$L/o.hl7"
    expect_has "$(cat "$L/o.hl7.out")" "MSA|AA|O1" "the order ($1)"
    expect_has "$(cat "$L/o.hl7.out")" "MSA|AE|O2" "the refused order ($1)"
    printf 'MSH|^~\\&|ADT|GENHOSP|RADLINK|RAD|20261123101500||ADT^A08^ADT_A01|A1|P|2.5.1\rEVN|A08|20261123101500\rPID|1||PXQ93817^^^GENHOSP^MR||QUILLFEATHER^ZEPHYRA||19530917|F\rPV1|1|O\r\n' >"$L/adt.hl7"
    send_hl7 "$L/adt.hl7"
    expect_has "$(cat "$L/adt.hl7.out")" "MSA|AA|A1" "the ADT ($1)"
    printf 'MSH|^~\\&|RIS|GENHOSP|EHR|GENHOSP|20261124120000||ORU^R01|R1|P|2.5.1\rPID|1||PXQ93817^^^GENHOSP^MR||QUILLFEATHER^ZEPHYRA||19530917|F\rOBR|1|OACQ77123|FACQ77123|P1^CT CHEST^LOCAL|||||||||||||||||||||F\rOBX|1|TX|RPT^Report||No finding for QUILLFEATHER.||||||F\r\n' >"$L/oru.hl7"
    send_hl7 "$L/oru.hl7"
    expect_has "$(cat "$L/oru.hl7.out")" "MSA|AA|R1" "the result ($1)"
    query "q-$1" <<'DUMP'
(0008,0050) SH [ACQ77123]
(0010,0010) PN []
(0010,0020) LO []
(0040,0100) SQ (Sequence with undefined length)
(fffe,e000) na (Item with undefined length)
(0040,0009) SH []
(fffe,e00d) na (ItemDelimitationItem)
(fffe,e0dd) na (SequenceDelimitationItem)
DUMP
    find_wl "$DICOM_PORT" "q-$1"
    expect_has "$(cat "$T/q-$1.rsp")" "QUILLFEATHER^ZEPHYRA" "the worklist answers with the renamed patient ($1)"
    "$DATA/make_dicom.sh" "$L/img.dcm" 1.2.993.1.1 1.2.993.1 1.2.993.1.1 ACQ77123 PXQ93817X \
        'QUILLFEATHR^ZEPHYRINE' CT 20261124 19530917 F RPACQ77123
    run_rc storescu -aec RADLINK 127.0.0.1 "$DICOM_PORT" "$L/img.dcm"
    expect_rc 0 "the image ($1)"
    wait_job 1 done 30
    expect_has "$("$RADLINK" jobs show --data "$T/var" 1)" "committed and verified" "verified at the PACS ($1)"
    expect_eq "$(orthanc_tags 1.2.993.1 PatientName)" "QUILLFEATHER^ZEPHYRA" "corrected at the PACS ($1)"
    expect_eq "$(orthanc_tags 1.2.993.1 PatientID)" "PXQ93817" "the patient ID corrected ($1)"
    wait_for "$L/sink.log" "^R1$" 10
    wait_cmd 10 "^\\(0 pending, 0 parked\\)$" "$RADLINK" queue list --data "$T/var"
    stop_engine
    cp "$ENGINE_LOG" "$L/engine.log"
}
PATIENT='QUILLFEATH|ZEPHYR|PXQ93817|ACQ77123|ACQ7712399|19530917'

note "at info level: none of it"
flow info
if grep -Eq "$PATIENT" "$T/info/engine.log"; then
    fail "patient data in the info log: $(grep -E "$PATIENT" "$T/info/engine.log" | head -5)"
fi

note "at debug level the same flow names them (the check above can see them)"
flow debug
grep -Eq "$PATIENT" "$T/debug/engine.log" || fail "debug level should carry the details"
note "ok"
