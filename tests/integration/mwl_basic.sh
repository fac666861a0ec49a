#!/bin/sh
# The Modality Worklist end to end, with DCMTK's findscu and echoscu as the
# modality: orders sent over MLLP (python3-hl7's mllp_send) appear on the
# worklist queried by station AE title and date; XO changes an entry; CA
# removes it. Also: C-ECHO, the calling AE allowlist, the called AE title,
# Latin-1 queries against UTF-8 entries, the response limit, C-CANCEL,
# simultaneous associations, OMI^O23, and the AE for an incomplete order.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/mwl_lib.sh"

start_engine
run_rc echoscu -aec RADLINK 127.0.0.1 "$DICOM_PORT"
expect_rc 0 "C-ECHO"

query by_station <<'DUMP'
(0008,0050) SH []
(0010,0010) PN []
(0010,0020) LO []
(0040,0100) SQ (Sequence with undefined length)
(fffe,e000) na (Item with undefined length)
(0008,0060) CS []
(0040,0001) AE [CT01]
(0040,0002) DA [20261124]
(0040,0003) TM []
(0040,0009) SH []
(fffe,e00d) na (ItemDelimitationItem)
(fffe,e0dd) na (SequenceDelimitationItem)
(0040,1001) SH []
DUMP

note "NW: the order is on the worklist"
orm N1 NW A1 S1 CT CT01 202611240930 'DOE^JANE' >"$T/nw.hl7"
orm N2 NW A2 S2 CT CT02 202611240945 'ROE^RICHARD' >>"$T/nw.hl7"
orm N3 NW A3 S3 CT CT01 202611251000 'POE^EDGAR' >>"$T/nw.hl7"
send_hl7 "$T/nw.hl7"
expect_eq "$(grep -a -c 'MSA|AA' "$T/nw.hl7.out")" 3 "three orders accepted"
find_wl "$DICOM_PORT" by_station
expect_rc_find() { [ "$FIND_RC" = 0 ] || fail "findscu exit $FIND_RC: $(tail -5 "$T/$1.rsp")"; }
expect_rc_find by_station
expect_eq "$MATCHES" "A1/S1 " "station CT01 on the 24th"
expect_has "$FINAL" "(Success)" "final status"
expect_has "$(cat "$T/by_station.rsp")" "DOE^JANE" "the patient's name"
expect_has "$(cat "$T/by_station.rsp")" "[0930" "the start time"
run_rc "$RADLINK" wl list --data "$T/var" --ae CT01
expect_has "$OUT" "(2 entries)" "wl list by station"

note "XO: the entry changes"
orm X1 XO A1 S1 CT CT01 202611241400 'DOE^JANE' >"$T/xo.hl7"
send_hl7 "$T/xo.hl7"
expect_has "$(cat "$T/xo.hl7.out")" "MSA|AA|X1" "XO accepted"
find_wl "$DICOM_PORT" by_station
expect_eq "$MATCHES" "A1/S1 " "still one entry"
expect_has "$(cat "$T/by_station.rsp")" "[1400" "the new start time"
run_rc "$RADLINK" wl show --data "$T/var" A1
expect_has "$OUT" "1400" "wl show shows the change"

note "CA: the entry leaves the worklist"
orm C1 CA A1 S1 CT CT01 202611241400 'DOE^JANE' >"$T/ca.hl7"
send_hl7 "$T/ca.hl7"
expect_has "$(cat "$T/ca.hl7.out")" "MSA|AA|C1" "CA accepted"
find_wl "$DICOM_PORT" by_station
expect_eq "$MATCHES" "" "no entry after CA"
expect_has "$FINAL" "(Success)" "an empty result is a success"
orm C2 CA A1 S1 CT CT01 202611241400 'DOE^JANE' >"$T/ca2.hl7"
send_hl7 "$T/ca2.hl7"
expect_has "$(cat "$T/ca2.hl7.out")" "MSA|AE|C2" "cancelling what is not there is AE"
expect_has "$(cat "$T/ca2.hl7.out")" "not on the worklist" "and says why"

note "an order a modality cannot use is AE, naming every problem at once"
orm E1 NW A9 S9 '' CT01 '' '' >"$T/bad.hl7"
send_hl7 "$T/bad.hl7"
expect_has "$(cat "$T/bad.hl7.out")" "MSA|AE|E1" "no name, modality or date: AE"
expect_has "$(cat "$T/bad.hl7.out")" "PatientName is required and PID-5 is empty" "names the name"
expect_has "$(cat "$T/bad.hl7.out")" "Modality is required and OBR-24 is empty" "names the modality"
expect_has "$(cat "$T/bad.hl7.out")" "ScheduledProcedureStepStartDate is required" "names the date"
expect_eq "$(tr '\r' '\n' <"$T/bad.hl7.out" | grep -c '^ERR|')" 3 "one ERR segment per problem"

note "an order without a station AE title is taken: modalities find it by modality and date"
orm E2 NW A8 S8 US '' 202611240930 'DOE^JOHN' >"$T/noae.hl7"
send_hl7 "$T/noae.hl7"
expect_has "$(cat "$T/noae.hl7.out")" "MSA|AA|E2" "accepted"
run_rc "$RADLINK" msg list --data "$T/var" --type ORM
expect_has "$OUT" "warning: no station AE title" "the warning is kept with the message"

note "OMI^O23: one entry per IPC"
printf 'MSH|^~\\&|RIS|GENHOSP|RADLINK|RAD|20261123101500||OMI^O23^OMI_O23|O1|P|2.5.1\rPID|1||777^^^GENHOSP^MR||ROE^ANNA||19650101|F\rORC|NW|ORD7|FIL7||SC\rTQ1|1||||||202611241100\rOBR|1|ORD7|FIL7|MR1^MR BRAIN^LOCAL\rIPC|A7|RP7|1.2.840.99.7|S7A|MR|P1^Brain^LOCAL|Room 1|ROOM1|CT01\rIPC|A7|RP7|1.2.840.99.7|S7B|MR|P2^Spine^LOCAL|Room 1|ROOM1|CT01\r\n' >"$T/omi.hl7"
send_hl7 "$T/omi.hl7"
expect_has "$(cat "$T/omi.hl7.out")" "MSA|AA|O1" "OMI accepted"
find_wl "$DICOM_PORT" by_station
expect_eq "$MATCHES" "A7/S7A A7/S7B " "two steps of the OMI"

note "character sets: a Latin-1 query finds the UTF-8 entry"
orm U1 NW A4 S4 MR MR01 202611241200 'MÜLLER^JÜRGEN' >"$T/utf8.hl7"
orm U2 NW A5 S5 MR MR01 202611241230 'ΠΑΠΑΔΟΠΟΥΛΟΣ^ΝΙΚΟΣ' >>"$T/utf8.hl7"
send_hl7 "$T/utf8.hl7"
expect_eq "$(grep -a -c 'MSA|AA' "$T/utf8.hl7.out")" 2 "UTF-8 orders accepted"
printf '(0008,0005) CS [ISO_IR 100]\n(0008,0050) SH []\n(0010,0010) PN [M\334LLER*]\n(0040,0100) SQ (Sequence with undefined length)\n(fffe,e000) na (Item with undefined length)\n(0040,0001) AE [MR01]\n(0040,0009) SH []\n(fffe,e00d) na (ItemDelimitationItem)\n(fffe,e0dd) na (SequenceDelimitationItem)\n' | query latin1
find_wl "$DICOM_PORT" latin1
expect_eq "$MATCHES" "A4/S4 " "Latin-1 MÜLLER* matches the UTF-8 entry"
expect_has "$(cat "$T/latin1.rsp")" "ISO_IR 100" "answered in Latin-1, which holds the name"
query greek <<'DUMP'
(0008,0005) CS [ISO_IR 100]
(0008,0050) SH [A5]
(0010,0010) PN []
(0040,0100) SQ (Sequence with undefined length)
(fffe,e000) na (Item with undefined length)
(0040,0009) SH []
(fffe,e00d) na (ItemDelimitationItem)
(fffe,e0dd) na (SequenceDelimitationItem)
DUMP
find_wl "$DICOM_PORT" greek
expect_eq "$MATCHES" "A5/S5 " "the Greek entry by accession"
expect_has "$(cat "$T/greek.rsp")" "ISO_IR 192" "Latin-1 cannot hold Greek: answered in UTF-8"

note "C-CANCEL after the first response (900 matches, so that it arrives mid-way)"
i=1
: >"$T/bulk.hl7"
while [ $i -le 900 ]; do
    orm "B$i" NW "B$i" "S$i" US US01 202611260800 'BULK^PATIENT' >>"$T/bulk.hl7"
    i=$((i + 1))
done
send_hl7 "$T/bulk.hl7"
expect_eq "$(grep -a -c 'MSA|AA' "$T/bulk.hl7.out")" 900 "900 orders accepted"
query all_us <<'DUMP'
(0008,0050) SH []
(0010,0010) PN []
(0040,0100) SQ (Sequence with undefined length)
(fffe,e000) na (Item with undefined length)
(0008,0060) CS [US]
(0040,0009) SH []
(fffe,e00d) na (ItemDelimitationItem)
(fffe,e0dd) na (SequenceDelimitationItem)
DUMP
find_wl "$DICOM_PORT" all_us --cancel 1
expect_has "$FINAL" "Cancel" "the final status after C-CANCEL"
wait_cmd 5 "^dicom .* cancelled 1( |$)" "$RADLINK" status --data "$T/var"
query all_mr <<'DUMP'
(0008,0050) SH []
(0040,0100) SQ (Sequence with undefined length)
(fffe,e000) na (Item with undefined length)
(0008,0060) CS [MR]
(0040,0009) SH []
(fffe,e00d) na (ItemDelimitationItem)
(fffe,e0dd) na (SequenceDelimitationItem)
DUMP

note "a malformed date is refused, not matched"
query bad_date <<'DUMP'
(0008,0050) SH []
(0040,0100) SQ (Sequence with undefined length)
(fffe,e000) na (Item with undefined length)
(0040,0002) DA [bogus]
(0040,0009) SH []
(fffe,e00d) na (ItemDelimitationItem)
(fffe,e0dd) na (SequenceDelimitationItem)
DUMP
find_wl "$DICOM_PORT" bad_date -d
expect_eq "$MATCHES" "" "no entries for a malformed date"
expect_not_has "$FINAL" "Success" "a failure status"
expect_has "$(cat "$T/bad_date.rsp")" "(0000,0902) LO [ScheduledProcedureStepStartDate 'bogus' is not a date" \
    "the modality gets the reason (Error Comment)"
run_rc "$RADLINK" wl list --data "$T/var" --date 2026112
expect_rc 2 "wl list with a malformed date"

note "wl export mirrors the worklist: cancelled entries leave the directory"
run_rc "$RADLINK" wl export --data "$T/var" "$T/export/RADLINK"
expect_rc 0 "wl export"
[ -f "$T/export/RADLINK/A2_RPA2_S2.wl" ] || fail "A2 exported"
orm C3 CA A2 S2 CT CT02 202611240945 'ROE^RICHARD' >"$T/ca3.hl7"
send_hl7 "$T/ca3.hl7"
run_rc "$RADLINK" wl export --data "$T/var" "$T/export/RADLINK"
[ ! -f "$T/export/RADLINK/A2_RPA2_S2.wl" ] || fail "the cancelled entry's file must go"
[ -f "$T/export/RADLINK/lockfile" ] || fail "wlmscpfs's lockfile"

note "simultaneous associations"
pids=""
for i in 1 2 3 4 5 6; do
    findscu -W -aec RADLINK 127.0.0.1 "$DICOM_PORT" "$T/all_mr.dcm" >"$T/par.$i" 2>&1 &
    pids="$pids $!"
done
for p in $pids; do wait "$p"; done
for i in 1 2 3 4 5 6; do
    expect_eq "$(grep -c 'Find Response: [0-9]* (Pending)' "$T/par.$i")" 4 "parallel query $i"
done

note "the called AE title must be ours"
CALLED=NOTRADLINK find_wl "$DICOM_PORT" all_mr
[ "$FIND_RC" != 0 ] || fail "a wrong called AE title must be refused"
expect_has "$(cat "$T/all_mr.rsp")" "Called AE Title Not Recognized" "refusal reason"
stop_engine

note "allowlist of calling AE titles, and the response limit"
cat >"$T/dicom.xml" <<XML
<radlink>
  <dicom ae-title="WORKLIST" max-responses="2"><allow ae="MR01"/><allow ae="CT01"/></dicom>
</radlink>
XML
start_engine --config "$T/dicom.xml"
CALLED=WORKLIST find_wl "$DICOM_PORT" all_mr -aet INTRUDER
[ "$FIND_RC" != 0 ] || fail "a calling AE title not allowed must be refused"
expect_has "$(cat "$T/all_mr.rsp")" "Calling AE Title Not Recognized" "refusal reason"
wait_cmd 5 "^dicom .* refused 1 " "$RADLINK" status --data "$T/var"
CALLED=WORKLIST find_wl "$DICOM_PORT" all_mr -aet MR01
expect_eq "$(grep -c 'Find Response: [0-9]* (Pending)' "$T/all_mr.rsp")" 2 "only max-responses answers"
expect_has "$FINAL" "Refused: OutOfResources" "then A700: narrow the query"
stop_engine
note "ok"
