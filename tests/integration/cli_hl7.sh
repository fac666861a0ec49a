#!/bin/sh
# radlink hl7 get/show/ack on the fixtures, as an interface analyst uses them.
. "$(dirname "$0")/lib.sh"
H=$DATA/hl7

run_rc "$RADLINK" hl7 get "$H/orm_o01_nw.hl7" PID-3
expect_rc 0 "get PID-3"
expect_eq "$OUT" "12345^^^GENHOSP^MR
987-65-4321^^^USSSA^SS" "one line per repetition"

run_rc "$RADLINK" hl7 get "$H/orm_o01_nw.hl7" 'PID-3[2].1'
expect_eq "$OUT" "987-65-4321" "PID-3[2].1"
run_rc "$RADLINK" hl7 get "$H/orm_o01_nw.hl7" PID-5.1.1
expect_eq "$OUT" "DOE" "PID-5.1.1"
run_rc "$RADLINK" hl7 get "$H/orm_o01_nw.hl7" OBR-4.2
expect_eq "$OUT" "CHEST 2 VIEWS" "OBR-4.2"
run_rc "$RADLINK" hl7 get "$H/orm_o01_nw.hl7" MSH-9.2
expect_eq "$OUT" "O01" "MSH-9.2"
run_rc "$RADLINK" hl7 get "$H/orm_o01_nw.hl7" MSH-1
expect_eq "$OUT" "|" "MSH-1"
run_rc "$RADLINK" hl7 get "$H/oru_r01_20obx.hl7" 'OBX[3]-5'
expect_eq "$OUT" 'Line 3 of the report\nNo acute findings.' "OBX[3]-5 with \\.br\\ (one line: one repetition)"
run_rc "$RADLINK" hl7 get "$H/latin1_8859_1.hl7" PID-5
expect_eq "$OUT" "MÜLLER^RENÉ" "8859/1 to UTF-8"
run_rc "$RADLINK" hl7 get "$H/null_empty_absent.hl7" PID-4
expect_rc 0 "null is present"
expect_eq "$OUT" '""' "null printed as \"\""

run_rc "$RADLINK" hl7 get "$H/orm_o01_nw.hl7" PID-40
expect_rc 1 "absent field"
expect_eq "$OUT" "" "absent prints nothing"

run_rc sh -c "cat '$H/adt_a08.hl7' | '$RADLINK' hl7 get - PID-5.2"
expect_rc 0 "stdin"
expect_eq "$OUT" "JANET" "stdin value"

run_rc "$RADLINK" hl7 get "$H/batch.hl7" MSH-10
expect_eq "$OUT" "B0001
B0002
B0003" "every message of a batch"

run_rc "$RADLINK" hl7 get "$H/orm_o01_nw.hl7" 'PID-3[0]'
expect_rc 2 "bad path"
expect_has "$ERR" "start at 1" "bad path message"

printf 'MSH|^~\\&|A\rPI\r' >"$T/trunc.hl7"
run_rc "$RADLINK" hl7 get "$T/trunc.hl7" PID-3
expect_rc 3 "malformed input"
expect_has "$ERR" "message 1: byte 11: truncated segment" "malformed message names the byte"

printf 'not hl7 at all' >"$T/junk.hl7"
run_rc "$RADLINK" hl7 get "$T/junk.hl7" PID-3
expect_rc 3 "junk"

run_rc "$RADLINK" hl7 get "$T/missing.hl7" PID-3
expect_rc 3 "missing file"
expect_has "$ERR" "No such file" "missing file message"

# show: a tree whose labels are paths that 'hl7 get' accepts
run_rc "$RADLINK" hl7 show "$H/orm_o01_nw.hl7"
expect_rc 0 "show"
expect_line "$OUT" '^PID$' "segment line"
expect_line "$OUT" '^  PID-3\[1\] +12345\^\^\^GENHOSP\^MR$' "repetition line"
expect_line "$OUT" '^    PID-3\[1\]\.4 +GENHOSP$' "component line"
expect_line "$OUT" '^    MSH-9\.2 +O01$' "MSH components"
expect_line "$OUT" '^  MSH-2 +\^~\\&$' "MSH-2 as sent"
run_rc "$RADLINK" hl7 show "$H/oru_r01_20obx.hl7"
expect_has "$OUT" "OBX[20]" "repeated segments are numbered"
expect_line "$OUT" '^      OBX\[2\]-3\.1\.2 +IMP$' "subcomponents shown"
expect_line "$OUT" '^  OBX\[2\]-5 +Line 2 of the report\\nNo acute findings\.$' "line breaks shown as \\n"
run_rc "$RADLINK" hl7 show "$H/batch.hl7"
expect_has "$OUT" "# message 3 (byte" "messages of a file are labelled"

# get over a file: found in any message; a line break is not a repetition
printf 'MSH|^~\\&|A|B|C|D|1||ADT^A08|1|P|2.5\rOBX|1|TX|X||line one\\.br\\line two\r\nMSH|^~\\&|A|B|C|D|1||ADT^A08|2|P|2.5\rPID|1\r\n' >"$T/two.hl7"
run_rc "$RADLINK" hl7 get "$T/two.hl7" OBX-5
expect_rc 0 "found in the first of two messages"
expect_eq "$OUT" 'line one\nline two' "a decoded line break printed as \\n"
run_rc "$RADLINK" hl7 get "$T/two.hl7" OBX-6
expect_rc 1 "absent from every message"

# ack: what the engine would answer
run_rc "$RADLINK" hl7 ack --control-id ACK1 "$H/orm_o01_nw.hl7"
expect_rc 0 "ack"
expect_has "$OUT" "MSA|AA|MSG00001" "AA echoes MSH-10"
expect_has "$OUT" "|ACK^O01^ACK|ACK1|P|2.5.1" "ACK MSH"
expect_has "$OUT" "MSH|^~\\&|RADLINK|RAD|RIS|GENHOSP|" "sender and receiver swapped"
run_rc "$RADLINK" hl7 ack --code AE --text "unknown procedure code" "$H/orm_o01_nw.hl7"
expect_has "$OUT" "MSA|AE|MSG00001|unknown procedure code" "AE text"
expect_has "$OUT" "ERR||" "ERR segment"
expect_has "$OUT" "|207^Application internal error^HL70357|E||||unknown procedure code" "ERR-3/4/8"
run_rc "$RADLINK" hl7 ack "$T/trunc.hl7"
expect_has "$OUT" "MSA|AR|" "malformed gets AR"
expect_has "$OUT" "truncated segment" "AR says why"
run_rc "$RADLINK" hl7 ack --code XX "$H/orm_o01_nw.hl7"
expect_rc 2 "bad ack code"
run_rc "$RADLINK" hl7 ack --raw "$H/adt_a08.hl7"
expect_eq "$(printf '%s' "$OUT" | tr -cd '\r' | wc -c)" 2 "raw ACK ends segments with CR"
echo "ok"
