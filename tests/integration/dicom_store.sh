#!/bin/sh
# C-STORE into the engine with DCMTK's storescu: each instance is filed in the
# spool (synced) and indexed before the success response; a repeated SOP
# Instance UID replaces the instance, or is refused when the config says so;
# dcmdump reads the spooled file back. Asserts on what storescu, dcmdump and
# `radlink recon show` say.
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
run_rc "$RADLINK" recon show --data "$T/var" 1.2.999.1
expect_line "$OUT" "^  instances +2$" "both instances indexed before the success response"
expect_line "$OUT" "^  1\.2\.999\.1\.1\.2 +CT +STORESCU +.*1\.2\.999\.1\.1\.2\.dcm$" "listed with its spool file"
run_rc storescu -aec RADLINK 127.0.0.1 "$DICOM_PORT" "$T/i1.dcm"
expect_rc 0 "the same instance again: replaced"
run_rc "$RADLINK" recon show --data "$T/var" 1.2.999.1
expect_line "$OUT" "^  instances +2$" "a replaced instance is not counted twice"
[ -z "$(ls "$T/var/spool/incoming")" ] || fail "temporary files left behind"

note "a UID that is not one is refused: no file outside the spool"
$MK "$T/evil.dcm" 9.9 .. .. ACCX PX 'EVIL^F'
run_rc storescu -d -aec RADLINK 127.0.0.1 "$DICOM_PORT" "$T/evil.dcm"
[ "$RC" != 0 ] || fail "an invalid UID must be refused"
expect_has "$OUT$ERR" "(0000,0902) LO [not a valid UID: ..]" "refused with the reason in the response"
[ ! -e "$T/9.9.dcm" ] && [ ! -e "$T/var/9.9.dcm" ] || fail "a file was written outside the spool"
[ -z "$(ls "$T/var/spool/incoming")" ] || fail "the refused instance's temporary file is gone"
stop_engine

note "duplicates refused by configuration"
printf '<radlink><dicom duplicates="refuse"/></radlink>\n' >"$T/refuse.xml"
start_engine --config "$T/refuse.xml"
run_rc storescu -v -aec RADLINK 127.0.0.1 "$DICOM_PORT" "$T/i1.dcm"
[ "$RC" != 0 ] || fail "a duplicate must be refused"
expect_has "$OUT$ERR" "Status: 0x111" "with status 0111 (duplicate SOP instance)"
run_rc "$RADLINK" recon show --data "$T/var" 1.2.999.1
expect_line "$OUT" "^  instances +2$" "nothing changed"
stop_engine
note "ok"
