#!/bin/sh
# The file drop (<inbox dir poll>): a file put into the directory goes through
# what a received frame goes through, message by message; then it moves to
# done/ (every message AA) or error/ with a report beside it. Files being
# written (.part, .tmp, dot files) wait.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/mwl_lib.sh"
IN=$T/inbox
cat >"$T/cfg.xml" <<XML
<radlink><inbox dir="$IN" poll="1"/></radlink>
XML
start_engine --config "$T/cfg.xml"
[ -d "$IN/done" ] && [ -d "$IN/error" ] || fail "done/ and error/ made at start"

note "files being written wait: .part, .tmp and dot files, however old"
{ orm F1 NW ACCF1 SF1 CT CT01 202611241000 'DOE^JANE' PF1; orm F2 NW ACCF2 SF2 MR MR01 202611241100 'ROE^RICHARD' PF2; } >"$IN/orders.hl7.part"
cp "$IN/orders.hl7.part" "$IN/orders.hl7.tmp"
cp "$IN/orders.hl7.part" "$IN/.orders.hl7"
# an hour old: nothing but the name keeps them waiting
touch -d "@$(($(date +%s) - 3600))" "$IN/orders.hl7.part" "$IN/orders.hl7.tmp" "$IN/.orders.hl7"
# a file dropped after them, taken by a scan that saw them too (not HL7:
# error/)
printf 'a witness, not HL7\n' >"$IN/witness.txt"
wait_for "$IN/error/witness.txt.report" "0 messages" 15
for f in orders.hl7.part orders.hl7.tmp .orders.hl7; do
    [ -f "$IN/$f" ] || fail "$f is left alone"
    [ ! -e "$IN/done/$f" ] && [ ! -e "$IN/error/$f" ] || fail "$f was taken"
done
run_rc "$RADLINK" wl list --data "$T/var"
expect_rc 0 "wl list"
expect_not_has "$OUT" "ACCF1" "nothing of the waiting files is on the worklist"
rm "$IN/orders.hl7.tmp" "$IN/.orders.hl7"

note "two orders in one file (written under another name, then renamed)"
mv "$IN/orders.hl7.part" "$IN/orders.hl7"
wait_for "$IN/done/orders.hl7.report" "2 messages, 0 not accepted" 15
[ -f "$IN/done/orders.hl7" ] || fail "the file is in done/"
[ ! -e "$IN/orders.hl7" ] || fail "and no longer in the drop"
expect_has "$(cat "$IN/done/orders.hl7.report")" "MSA|AA|F2" "the report holds the ACKs"
run_rc "$RADLINK" wl list --data "$T/var"
expect_has "$OUT" "ACCF1" "the first order is on the worklist"
expect_has "$OUT" "ACCF2" "and the second"
run_rc "$RADLINK" msg list --data "$T/var"
expect_has "$OUT" "file orders.hl7" "the log names the file"

note "a refused message: error/, with the reason"
orm F3 NW ACCF3 SF3 XX CT01 202611241000 'DOE^JANE' PF3 >"$T/bad.hl7"
cp "$T/bad.hl7" "$IN/bad.hl7"
wait_for "$IN/error/bad.hl7.report" "1 message, 1 not accepted" 15
expect_has "$(cat "$IN/error/bad.hl7.report")" "MSA|AE|F3" "the AE"

note "not HL7: error/"
printf 'hello, this is not HL7\n' >"$IN/junk.txt"
wait_for "$IN/error/junk.txt.report" "0 messages" 15
expect_has "$(cat "$IN/error/junk.txt.report")" "outside a message" "says why"

note "the same file again: its messages are retransmissions, not applied twice"
cp "$IN/done/orders.hl7" "$IN/orders.hl7"
wait_for "$IN/done/orders.hl7.1.report" "2 messages, 0 not accepted" 15
expect_eq "$(msg_count duplicate)" 2 "two retransmissions"
run_rc "$RADLINK" status --data "$T/var"
expect_line "$OUT" "messages accepted 2, error 1, rejected 0, duplicate 2" "counted"
stop_engine
