#!/bin/sh
# Sender habits a strict receiver refuses, accepted and said so: a control ID
# used again with other content, senders without MSH-3/4 told apart by their
# address, MSH-2 written ^~\\&, MSH-18 UNICODE and GB 18030; and what is still
# refused, with a reason: UTF-16, a GB 18030 message a delimiter would cut,
# versions outside HL7 table 0104. MSH-12 2.5.0 and an empty MSH-12 or
# MSH-10 are accepted with a warning, and refused with <hl7 strict="true">. Each tolerated habit is in the message log
# and counted in `radlink status`. Peer: python3-hl7's mllp_send (and a raw
# socket where a source address must be chosen).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/mwl_lib.sh"
start_engine

# send_from ADDR FILE: one message over MLLP from a chosen source address
send_from() {
    /usr/bin/python3 - "$1" "$PORT" "$2" <<'PY'
import socket, sys
src, port, path = sys.argv[1], int(sys.argv[2]), sys.argv[3]
data = open(path, 'rb').read().replace(b'\n', b'')
s = socket.create_connection(('127.0.0.1', port), 5, source_address=(src, 0))
s.sendall(b'\x0b' + data + b'\x1c\x0d')
ack = b''
while not ack.endswith(b'\x1c\x0d'):
    b = s.recv(4096)
    if not b:
        break
    ack += b
sys.stdout.buffer.write(ack.strip(b'\x0b\x1c\r').replace(b'\r', b'\n') + b'\n')
PY
}
adt() { # adt FILE CTRL APP FAC NAME [MSH2] [CHARSET] [VERSION]
    printf 'MSH|%s|%s|%s|RADLINK|RAD|20261124090000||ADT^A08^ADT_A01|%s|P|%s||||||%s\rEVN|A08|20261124\rPID|1||P1^^^H^MR||%s\r\n' \
        "${6:-^~\\&}" "$3" "$4" "$2" "${8:-2.5.1}" "${7:-}" "$5" >"$T/$1"
}

note "senders without MSH-3/4: known by their address"
adt a1.hl7 X1 '' '' 'DOE^JANE'
adt b1.hl7 X1 '' '' 'ROE^RICHARD'
expect_has "$(send_from 127.0.0.1 "$T/a1.hl7")" "MSA|AA|X1" "sender A"
expect_has "$(send_from 127.0.0.2 "$T/b1.hl7")" "MSA|AA|X1" "sender B, same control ID"
expect_has "$(send_from 127.0.0.1 "$T/a1.hl7")" "MSA|AA|X1" "sender A again"
expect_eq "$(msg_count duplicate)" 1 "A's second copy is a retransmission"
run_rc "$RADLINK" msg list --data "$T/var"
expect_not_has "$OUT" "control ID reused" "B is another sender, not a reuse"

note "a control ID used again with other content: a new message, said so"
adt a2.hl7 X1 '' '' 'DOE^JANET'
expect_has "$(send_from 127.0.0.1 "$T/a2.hl7")" "MSA|AA|X1" "accepted"
run_rc "$RADLINK" msg list --data "$T/var" --status accepted
expect_line "$OUT" "X1 .*warning: control ID reused \\(message 1 had other content\\)" "msg list shows the reuse"

note "MSH-2 ^~\\\\& read as ^~\\&"
adt esc.hl7 E1 RIS H 'DOE^J\T\J' '^~\\&'
# (mllp_send --loose splits its file at "MSH|^~\&|": it cannot send this one)
expect_has "$(send_from 127.0.0.1 "$T/esc.hl7")" "MSA|AA|E1" "doubled escape accepted"
seq=$("$RADLINK" msg list --data "$T/var" | awk '$7 == "E1" {print $1}')
run_rc "$RADLINK" msg show --data "$T/var" "$seq"
expect_has "$OUT" 'warning: MSH-2 ^~\\& read as ^~\&' "msg show names it"

note "MSH-18: UNICODE read as UTF-8; GB 18030 when no delimiter is cut; UTF-16 refused"
orm U1 NW ACCU SU CT CT01 202611241000 'MÜLLER^JÜRGEN' PU 'UNICODE' >"$T/uni.hl7"
send_hl7 "$T/uni.hl7"
expect_has "$(cat "$T/uni.hl7.out")" "MSA|AA|U1" "UNICODE accepted"
run_rc "$RADLINK" wl show --data "$T/var" ACCU
expect_has "$OUT" "MÜLLER^JÜRGEN" "read as UTF-8"
orm G1 NW ACCG SG CT CT01 202611241000 "$(printf 'WANG^\324\354\312\367')" PG 'GB 18030' >"$T/gb.hl7"
send_hl7 "$T/gb.hl7"
expect_has "$(cat "$T/gb.hl7.out")" "MSA|AA|G1" "GB 18030 accepted"
run_rc "$RADLINK" wl show --data "$T/var" ACCG
expect_has "$OUT" "WANG^$(printf '\324\354\312\367' | iconv -f GB18030 -t UTF-8)" "converted from GB 18030"
orm G2 NW ACCH SH CT CT01 202611241000 "$(printf 'WANG^\201|A')" PH 'GB 18030' >"$T/gb2.hl7"
send_hl7 "$T/gb2.hl7"
expect_has "$(cat "$T/gb2.hl7.out")" "MSA|AR|G2" "a trail byte that is a delimiter"
expect_has "$(cat "$T/gb2.hl7.out")" "second byte is a delimiter (0x7C)" "says why"
adt u16.hl7 W1 RIS H 'DOE^JANE' '' 'UNICODE UTF-16'
send_hl7 "$T/u16.hl7"
expect_has "$(cat "$T/u16.hl7.out")" "MSA|AR|W1" "UTF-16 refused"
expect_has "$(cat "$T/u16.hl7.out")" "send UNICODE UTF-8" "with what to do"

note "MSH-12: the versions of HL7 table 0104"
adt v1.hl7 V1 RIS H 'DOE^JANE' '' '' '2.35'
adt v2.hl7 V2 RIS H 'DOE^JANE' '' '' '2.3junk'
adt v3.hl7 V3 RIS H 'DOE^JANE' '' '' '2.3.1'
cat "$T/v1.hl7" "$T/v2.hl7" "$T/v3.hl7" >"$T/v.hl7"
send_hl7 "$T/v.hl7"
expect_has "$(cat "$T/v.hl7.out")" "MSA|AR|V1" "2.35 refused"
expect_has "$(cat "$T/v.hl7.out")" "MSA|AR|V2" "2.3junk refused"
expect_has "$(cat "$T/v.hl7.out")" "MSA|AA|V3" "2.3.1 accepted"
adt v4.hl7 V4 RIS H 'DOE^JANE' '' '' '2.5.0'
adt v5.hl7 V5 RIS H 'DOE^JANE'
sed 's/|P|2.5.1|/|P||/' "$T/v5.hl7" >"$T/v5e.hl7"
cat "$T/v4.hl7" "$T/v5e.hl7" >"$T/v45.hl7"
send_hl7 "$T/v45.hl7"
expect_has "$(cat "$T/v45.hl7.out")" "MSA|AA|V4" "2.5.0, as a RIS writes it, accepted"
expect_has "$(cat "$T/v45.hl7.out")" "MSA|AA|V5" "an empty MSH-12 accepted"
run_rc "$RADLINK" msg list --data "$T/var" --status accepted
expect_line "$OUT" " V4 .*warning: MSH-12 2\.5\.0 read as 2\.5" "said in the log"
expect_line "$OUT" " V5 .*warning: MSH-12 empty, read as 2\.5" "said in the log"

note "an empty MSH-10: accepted, no duplicate check (MSA-3 says so)"
adt n1.hl7 NOCTRL RIS H 'DOE^JANE'
sed 's/|NOCTRL|/||/' "$T/n1.hl7" >"$T/n1e.hl7"
send_from 127.0.0.1 "$T/n1e.hl7" >"$T/n1.ack"
send_from 127.0.0.1 "$T/n1e.hl7" >>"$T/n1.ack"
expect_eq "$(grep -c '^MSA|AA||MSH-10 is empty: no duplicate check was possible' "$T/n1.ack")" 2 \
    "both copies AA, MSA-3 says why"
run_rc "$RADLINK" msg list --data "$T/var" --status accepted
expect_eq "$(printf '%s\n' "$OUT" | grep -c 'warning: MSH-10 empty')" 2 "two messages applied, each said"

note "a line break typed into a field: the line it starts joined as \\X0D\\"
adt cr.hl7 CR1 RIS H "$(printf 'DOE^JANE\rUmg')"
send_from 127.0.0.1 "$T/cr.hl7" >"$T/cr.ack"
expect_has "$(cat "$T/cr.ack")" "MSA|AA|CR1" "accepted"
seq=$("$RADLINK" msg list --data "$T/var" | awk '$7 == "CR1" {print $1}')
run_rc "$RADLINK" msg show --data "$T/var" "$seq"
expect_has "$OUT" 'warning: 1 line that is no segment joined to the line before as a line break (\X0D\)' \
    "msg show says so"
expect_has "$OUT" 'PID|1||P1^^^H^MR||DOE^JANE\X0D\Umg' "the message as it was meant"

note "ACK text in the message's character set"
orm L1 NW ACCL SL "$(printf '\311')" CT01 202611241000 'DOE^JANE' PL '8859/1' >"$T/l1.hl7"
send_from 127.0.0.1 "$T/l1.hl7" >"$T/l1.ack"
expect_has "$(cat "$T/l1.ack")" "MSA|AE|L1" "a bad modality"
expect_has "$(cat "$T/l1.ack")" "$(printf "'\311' is not a DICOM modality")" "É in ISO 8859-1"
orm L2 NW ACCM SM 'É' CT01 202611241000 'DOE^JANE' PM 'UNICODE UTF-8' >"$T/l2.hl7"
send_from 127.0.0.1 "$T/l2.hl7" >"$T/l2.ack"
expect_has "$(cat "$T/l2.ack")" "'É' is not a DICOM modality" "É in UTF-8"
orm L4 NW ACCO SO 'É' CT01 202611241000 'DOE^JANE' PO 'ASCII' >"$T/l4.hl7"
send_from 127.0.0.1 "$T/l4.hl7" >"$T/l4.ack"
expect_has "$(cat "$T/l4.ack")" "'\\XC389\\' is not a DICOM modality" "MSH-18 ASCII: \\Xhh\\ of the UTF-8 bytes"
expect_not_has "$(cat "$T/l1.ack" "$T/l2.ack" "$T/l4.ack")" "??" "never a question mark"

note "a batch in one frame: each message processed in order, an ACK batch back"
{ printf 'BHS|^~\\&|RIS|GENHOSP|RADLINK|RAD|20261124090000||||B77\r'
  adt x.hl7 BA1 RIS GENHOSP 'DOE^JANE'; tr -d '\n' <"$T/x.hl7"
  orm BA2 NW ACCB SB CT CT01 202611241000 'DOE^JANE' PB | tr -d '\n'
  orm BA3 NW ACCC SC XX CT01 202611241000 'DOE^JANE' PC | tr -d '\n'
  printf 'BTS|3\r\n'; } >"$T/batch.hl7"
before=$("$RADLINK" msg list --data "$T/var" --limit 100000 | wc -l)
send_from 127.0.0.1 "$T/batch.hl7" >"$T/batch.ack"
expect_line "$(cat "$T/batch.ack")" "^BHS\|\^~\\\\&\|RADLINK\|RAD\|RIS\|GENHOSP\|[0-9]+\|\|\|\|\|B77$" "the ACK batch's header"
expect_has "$(cat "$T/batch.ack")" "MSA|AA|BA1" "first message"
expect_has "$(cat "$T/batch.ack")" "MSA|AA|BA2" "second message"
expect_has "$(cat "$T/batch.ack")" "MSA|AE|BA3" "third message refused alone"
expect_eq "$(tail -1 "$T/batch.ack")" "BTS|3" "the count"
expect_eq "$("$RADLINK" msg list --data "$T/var" --limit 100000 | wc -l)" "$((before + 3))" "three log entries"
run_rc "$RADLINK" wl show --data "$T/var" ACCB
expect_rc 0 "the batch's order is on the worklist"
sed 's/BTS|3/BTS|4/' "$T/batch.hl7" | sed 's/BA1/BB1/; s/BA2/BB2/; s/ACCB/ACCX/' >"$T/badbatch.hl7"
send_from 127.0.0.1 "$T/badbatch.hl7" >"$T/badbatch.ack"
expect_has "$(cat "$T/badbatch.ack")" "MSA|AR" "a batch whose count disagrees"
expect_has "$(cat "$T/badbatch.ack")" "BTS-1 says 4 but 3" "says why"
run_rc "$RADLINK" wl show --data "$T/var" ACCX
expect_rc 1 "nothing of it applied"

note "radlink send: a file with the trailer but no header"
{ orm BC1 NW ACCD SD CT CT01 202611241000 'DOE^JANE' PD | tr -d '\n'; printf 'BTS|1\r\n'; } >"$T/trailer.hl7"
run_rc "$RADLINK" send --to "127.0.0.1:$PORT" "$T/trailer.hl7"
expect_rc 0 "sent"
{ orm BD1 NW ACCE SE CT CT01 202611241000 'DOE^JANE' PE; orm BD2 NW ACCF SF CT CT01 202611241000 'DOE^JANE' PF; } >"$T/two.hl7"
run_rc "$RADLINK" send --batch --to "127.0.0.1:$PORT" "$T/two.hl7"
expect_rc 0 "sent as one batch"
expect_eq "$OUT" "MSA|AA|BD1
MSA|AA|BD2" "each message acknowledged in the answer batch"

note "counted"
run_rc "$RADLINK" status --data "$T/var"
expect_has "$OUT" "hl7 accepted with irregularities: control-id-reused 1, msh2-doubled-escape 1, msh18-unicode 1, msh12-version 2, msh10-empty 2, stray-line 1" "status"
stop_engine

note "<hl7 strict=\"true\">: the same habits refused"
printf '<radlink><hl7 strict="true"/></radlink>\n' >"$T/strict.xml"
start_engine --config "$T/strict.xml"
sed 's/|V4|/|V6|/' "$T/v4.hl7" >"$T/v6.hl7"
send_hl7 "$T/v6.hl7"
expect_has "$(cat "$T/v6.hl7.out")" "MSA|AR|V6" "2.5.0 refused"
send_from 127.0.0.1 "$T/n1e.hl7" >"$T/n2.ack"
expect_has "$(cat "$T/n2.ack")" "MSA|AR|" "an empty MSH-10 refused"
expect_has "$(cat "$T/n2.ack")" "MSH-10 (message control ID) is empty" "says why"
sed 's/|CR1|/|CR2|/' "$T/cr.hl7" >"$T/cr2.hl7"
send_from 127.0.0.1 "$T/cr2.hl7" >"$T/cr2.ack"
expect_has "$(cat "$T/cr2.ack")" "MSA|AR|CR2" "a line that is no segment refused"
expect_has "$(cat "$T/cr2.ack")" "segment name 'Umg'" "says why"
stop_engine
