#!/bin/sh
# No patient data in the info log (radlink/log.h's rule, DESIGN.md's
# Security): a whole flow with distinctive synthetic patients (orders, a
# refused order whose error quotes its accession, an ADT rename, a worklist
# query, C-STORE of disagreeing images, their correction and forward to the
# PACS, a result forwarded to a downstream) and the engine's and workers'
# info log holds none of their names, IDs, birth dates or accessions. The
# same flow at debug level does name them (so the check can fail).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/mwl_lib.sh"
PACS_PORT=$(free_port)
SINK_PORT=$(free_port)
mkdir -p "$T/pacs"
storescp -aet PACS --output-directory "$T/pacs" "$PACS_PORT" >"$T/pacs.log" 2>&1 &
PIDS="$PIDS $!"
/usr/bin/python3 "$SRC/tests/integration/mllp_sink.py" "$SINK_PORT" "$T/sink.log" >"$T/sink.out" 2>&1 &
PIDS="$PIDS $!"
wait_for "$T/sink.out" ready 10

flow() { # flow LEVEL: the whole flow against an engine logging at LEVEL
    cat >"$T/cfg.xml" <<XML
<radlink>
  <log level="$1"/>
  <dicom><pacs ae="PACS" host="127.0.0.1" port="$PACS_PORT" verify="none"/></dicom>
  <jobs workers="1" study-stable="1"/>
  <destinations><destination name="results" host="127.0.0.1" port="$SINK_PORT"/></destinations>
</radlink>
XML
    rm -rf "$T/var"
    start_engine --config "$T/cfg.xml" --pacs "PACS@127.0.0.1:$PACS_PORT"
    wait_workers 1 10
    orm O1 NW ACQ77123 S1 CT CT01 202611240930 'QUILLFEATHER^ZEPHYRINE' PXQ93817 >"$T/o.hl7"
    sed -i 's/19700412/19530917/' "$T/o.hl7"
    # an accession longer than 16 characters: AE, and its text quotes it
    orm O2 NW ACQ7712399999999999Z S2 CT CT01 202611241030 'QUILLFEATHER^ZEPHYRINE' PXQ93817 >>"$T/o.hl7"
    send_hl7 "$T/o.hl7"
    expect_has "$(cat "$T/o.hl7.out")" "MSA|AA|O1" "the order"
    expect_has "$(cat "$T/o.hl7.out")" "MSA|AE|O2" "the refused order"
    printf 'MSH|^~\\&|ADT|GENHOSP|RADLINK|RAD|20261123101500||ADT^A08^ADT_A01|A1|P|2.5.1\rEVN|A08|20261123101500\rPID|1||PXQ93817^^^GENHOSP^MR||QUILLFEATHER^ZEPHYRA||19530917|F\rPV1|1|O\r\n' >"$T/adt.hl7"
    send_hl7 "$T/adt.hl7"
    expect_has "$(cat "$T/adt.hl7.out")" "MSA|AA|A1" "the ADT"
    printf 'MSH|^~\\&|RIS|GENHOSP|EHR|GENHOSP|20261124120000||ORU^R01|R1|P|2.5.1\rPID|1||PXQ93817^^^GENHOSP^MR||QUILLFEATHER^ZEPHYRA||19530917|F\rOBR|1|OACQ77123|FACQ77123|P1^CT CHEST^LOCAL\rOBX|1|TX|RPT^Report||No finding for QUILLFEATHER.||||||F\r\n' >"$T/oru.hl7"
    send_hl7 "$T/oru.hl7"
    query q <<'DUMP'
(0008,0050) SH [ACQ77123]
(0010,0010) PN []
(0010,0020) LO []
(0040,0100) SQ (Sequence with undefined length)
(fffe,e000) na (Item with undefined length)
(0040,0009) SH []
(fffe,e00d) na (ItemDelimitationItem)
(fffe,e0dd) na (SequenceDelimitationItem)
DUMP
    find_wl "$DICOM_PORT" q
    expect_has "$(cat "$T/q.rsp")" "QUILLFEATHER^ZEPHYRA" "the worklist answers with the renamed patient"
    "$DATA/make_dicom.sh" "$T/img.dcm" 1.2.993.1.1 1.2.993.1 1.2.993.1.1 ACQ77123 PXQ93817X \
        'QUILLFEATHR^ZEPHYRINE' CT 20261124 19530917 F RPACQ77123
    run_rc storescu -aec RADLINK 127.0.0.1 "$DICOM_PORT" "$T/img.dcm"
    expect_rc 0 "the image"
    wait_job 1 done 30
    expect_has "$(dcmdump "$T/pacs"/*1.2.993.1.1*)" "[QUILLFEATHER^ZEPHYRA]" "corrected at the PACS"
    wait_cmd 10 "^\\(0 pending, 0 parked\\)$" "$RADLINK" queue list --data "$T/var"
    expect_has "$(cat "$T/sink.log")" "R1" "the result was forwarded"
    stop_engine
    cat "$T"/engine.*.log >"$T/all.$1.log"
    rm -f "$T"/engine.*.log
}
PATIENT='QUILLFEATH|ZEPHYR|PXQ93817|ACQ77123|ACQ7712399|19530917'

note "at info level: none of it"
flow info
if grep -Eq "$PATIENT" "$T/all.info.log"; then
    fail "patient data in the info log: $(grep -E "$PATIENT" "$T/all.info.log" | head -5)"
fi

note "at debug level the same flow names them (the check above can see them)"
flow debug
grep -Eq "$PATIENT" "$T/all.debug.log" || fail "debug level should carry the details"
note "ok"
