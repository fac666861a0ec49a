#!/bin/sh
# C-STORE into the engine with DCMTK's storescu: each instance is filed in the
# spool (synced) and indexed before the success response; a repeated SOP
# Instance UID replaces the instance, or is refused when the config says so;
# dcmdump reads the spooled file back.
. "$(dirname "$0")/lib.sh"
MK=$DATA/make_dicom.sh
$MK "$T/i1.dcm" 1.2.999.1.1.1 1.2.999.1 1.2.999.1.1 ACC1 P1 'DOE^JANE'
$MK "$T/i2.dcm" 1.2.999.1.1.2 1.2.999.1 1.2.999.1.1 ACC1 P1 'DOE^JANE'

start_engine
run_rc storescu -aec RADLINK 127.0.0.1 "$DICOM_PORT" "$T/i1.dcm" "$T/i2.dcm"
expect_rc 0 "storescu of two instances"
F=$(find "$T/var/spool/1.2.999.1" -name '1.2.999.1.1.1.dcm')
[ -n "$F" ] || fail "instance not in the spool: $(find "$T/var/spool")"
expect_has "$(dcmdump "$F")" "DOE^JANE" "the spooled file is the instance"
grep -q "dicom.stored calling=STORESCU study=1.2.999.1 sop=1.2.999.1.1.2" "$ENGINE_LOG" || fail "stored logged"
run_rc storescu -aec RADLINK 127.0.0.1 "$DICOM_PORT" "$T/i1.dcm"
expect_rc 0 "the same instance again: replaced"
grep -q "sop=1.2.999.1.1.1 patient=P1 accession=ACC1 replaced=yes" "$ENGINE_LOG" || fail "replacement logged"
[ -z "$(ls "$T/var/spool/incoming")" ] || fail "temporary files left behind"
note "a UID that is not one is refused: no file outside the spool"
$MK "$T/evil.dcm" 9.9 .. .. ACCX PX 'EVIL^F'
run_rc storescu -aec RADLINK 127.0.0.1 "$DICOM_PORT" "$T/evil.dcm"
grep -q "dicom.store_refused.*not a valid UID: \.\." "$ENGINE_LOG" || fail "refused with the reason"
[ ! -e "$T/9.9.dcm" ] && [ ! -e "$T/var/9.9.dcm" ] || fail "a file was written outside the spool"
[ -z "$(ls "$T/var/spool/incoming")" ] || fail "the refused instance's temporary file is gone"
stop_engine

note "duplicates refused by configuration"
printf '<radlink><dicom duplicates="refuse"/></radlink>\n' >"$T/refuse.xml"
start_engine --config "$T/refuse.xml"
run_rc storescu -aec RADLINK 127.0.0.1 "$DICOM_PORT" "$T/i1.dcm"
[ "$RC" != 0 ] || grep -q "0x0111" "$T/err" "$T/out" || fail "a duplicate must be refused"
grep -q "dicom.store_refused.*status=0x0111.*already stored" "$ENGINE_LOG" || fail "refusal logged: $(tail -3 "$ENGINE_LOG")"
stop_engine
note "ok"
