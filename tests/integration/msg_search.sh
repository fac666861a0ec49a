#!/bin/sh
# msg search by the indexes, as an interface analyst looks a message up: a
# patient (any PID-3 repetition, with or without its authority, and the ID
# an A40 retires), an order's number wherever the RIS put it, a name in any
# case and with accents, a study, a sender, a type, several at once, a time
# window, pages with a resume point; a path no index covers is read from the
# log and says so on stderr. The indexes go with the messages retention
# removes, `radlink check` compares them with the log, and `serve
# --reindex` builds them again.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/mwl_lib.sh"

cat >"$T/cfg.xml" <<XML
<radlink><retention messages="1d" every="1d"/></radlink>
XML
start_engine --config "$T/cfg.xml" --workers 0
{
    orm O1 NW A100 S1 CT CT01 202611240930 'DOE^JANE' P1
    orm O2 NW A200 S2 MR MR01 202611250930 'MÜLLER^JÜRGEN' P2
    orm O3 NW A300 S3 US US01 202611251030 'DOE^JOHN' P3
} >"$T/orders.hl7"
send_hl7 "$T/orders.hl7"
expect_eq "$(grep -a -c 'MSA|AA' "$T/orders.hl7.out")" 3 "orders accepted"
# an ADT from another sender: two identifiers, and a merge that retires P9
printf 'MSH|^~\\&|ADT|WARD|RADLINK|RAD|20261125110000||ADT^A40^ADT_A39|M1|P|2.5.1\rEVN|A40|20261125110000\rPID|1||X77^^^OTHER^PI~P1^^^GENHOSP^MR||DOE^JANE||19700412|F\rMRG|P9^^^GENHOSP^MR\r\n' >"$T/adt.hl7"
send_hl7 "$T/adt.hl7"
# an order with a study UID (ZDS-1), the accession only in ORC-3
printf 'MSH|^~\\&|RIS|GENHOSP|RADLINK|RAD|20261125120000||ORM^O01^ORM_O01|O4|P|2.5.1\rPID|1||P4^^^GENHOSP^MR||SMITH^ANNA\rORC|NW|PL4|A400||SC\rOBR|1|PL4|||||||||||||||||||||||CT\rZDS|1.2.999.77.4^RADLINK^Application^DICOM\r\n' >"$T/o4.hl7"
send_hl7 "$T/o4.hl7"
# a message refused at the header is indexed too (why did my order not come?)
printf 'MSH|^~\\&|RIS|GENHOSP|RADLINK|RAD|20261125130000||ORM^O01|O5|P|9.9\rPID|1||P1^^^GENHOSP^MR||DOE^JANE\rORC|NW|O500|A500\r\n' >"$T/bad.hl7"
send_hl7 "$T/bad.hl7"
expect_has "$(cat "$T/bad.hl7.out")" "MSA|AR|O5" "version 9.9 refused"
# a retransmission: logged, not found by content
send_hl7 "$T/orders.hl7"
expect_eq "$(msg_count duplicate)" 3 "three duplicates logged"
# a lab's results: an ID without an authority, and one that P1 is a prefix of
printf 'MSH|^~\\&|LAB|OTHER|RADLINK|RAD|20261125140000||ORU^R01^ORU_R01|L1|P|2.5.1\rPID|1||NOAUTH1||ROE^RICK\rOBR|1||L1|||||||||||||||||||||||F\r\n' >"$T/lab.hl7"
printf 'MSH|^~\\&|LAB|OTHER|RADLINK|RAD|20261125140100||ORU^R01^ORU_R01|L2|P|2.5.1\rPID|1||P10^^^GENHOSP^MR||ROE^RICK\rOBR|1||L2|||||||||||||||||||||||F\r\n' >>"$T/lab.hl7"
send_hl7 "$T/lab.hl7"
expect_eq "$(grep -a -c 'MSA|A' "$T/lab.hl7.out")" 2 "two results answered"

# seqs CMD...: the SEQ column of a msg search, one line
seqs() { "$RADLINK" msg search --data "$T/var" "$@" 2>"$T/err" | tail -n +2 | awk '{print $1}' | tr '\n' ' '; }

note "a patient: every PID-3 repetition, with or without authority; MRG-1"
expect_eq "$(seqs --patient P1)" "1 4 6 " "P1: its order, the ADT (second repetition), the refused one"
[ ! -s "$T/err" ] || fail "an indexed search says nothing on stderr: $(cat "$T/err")"
expect_eq "$(seqs --patient 'P1^^^GENHOSP')" "1 4 6 " "with the authority"
expect_eq "$(seqs --patient 'X77^^^OTHER')" "4 " "the other identifier"
run_rc "$RADLINK" msg search --data "$T/var" --patient 'P1^^^OTHER'
expect_rc 1 "P1 under another authority: nothing"
expect_eq "$(seqs --patient P9)" "4 " "the ID a merge retires (MRG-1)"
expect_eq "$(seqs PID-3=P1)" "1 4 6 " "PID-3=P1, any repetition"
expect_eq "$(seqs PID-3.1=X77)" "4 " "PID-3.1"
expect_eq "$(seqs 'PID-3=P*')" "1 2 3 4 5 6 11 " "a prefix"
expect_eq "$(seqs --patient NOAUTH1)" "10 " "an ID sent without an authority"
expect_eq "$(seqs PID-3=NOAUTH1)" "10 " "PID-3=ID without an authority"
expect_eq "$(seqs --patient P10)" "11 " "P10 is not P1's"
expect_eq "$(seqs 'MSH-9=ORU^R01^ORU_R01')" "10 11 " "MSH-9 with its three components"

note "an order's number wherever the RIS put it"
expect_eq "$(seqs --accession A200)" "2 " "OBR-18"
expect_eq "$(seqs --accession A400)" "5 " "ORC-3 alone"
expect_eq "$(seqs --accession OA100)" "1 " "the placer number (ORC-2)"
expect_eq "$(seqs OBR-18=A300)" "3 " "OBR-18=..."
expect_eq "$(seqs --study 1.2.999.77.4)" "5 " "a study UID (ZDS-1)"

note "names: case, accents, prefixes"
expect_eq "$(seqs --name doe)" "1 3 4 6 " "the family name"
expect_eq "$(seqs --name 'DOE^J*')" "1 3 4 6 " "a prefix of the given name"
expect_eq "$(seqs --name 'doe^john')" "3 " "both"
expect_eq "$(seqs --name 'muller')" "2 " "MÜLLER found as muller"
expect_eq "$(seqs --name 'Müller^Jürgen')" "2 " "and as written"
expect_eq "$(seqs 'PID-5=DOE^JANE')" "1 4 6 " "PID-5=... (checked as written)"

note "senders, types, several at once, times"
expect_eq "$(seqs --sender ADT)" "4 " "MSH-3"
expect_eq "$(seqs --sender RIS/GENHOSP --type ORM)" "1 2 3 5 6 7 8 9 " "MSH-3/4 and a type (retransmissions too: they are in the log)"
expect_eq "$(seqs --type ADT)" "4 " "a type alone"
expect_eq "$(seqs --patient P1 --type ORM --status accepted)" "1 " "patient, type and status (AND)"
expect_eq "$(seqs --name DOE --accession A300)" "3 " "name and accession"
expect_eq "$(seqs MSH-10=O2)" "2 " "MSH-10 (the retransmission carries no content keys)"
expect_eq "$(seqs --type ORM --status duplicate)" "7 8 9 " "duplicates have their header keys"
expect_eq "$(seqs --patient P1 --since 1h)" "1 4 6 " "since an hour ago"
run_rc "$RADLINK" msg search --data "$T/var" --patient P1 --until 2020-01-01
expect_rc 1 "until long ago: nothing"

note "pages: the newest first, and where the next starts"
run_rc "$RADLINK" msg search --data "$T/var" --name DOE --limit 2
expect_eq "$(printf '%s\n' "$OUT" | tail -n +2 | awk '{print $1}' | tr '\n' ' ')" "4 6 " "the two newest"
expect_has "$ERR" "more match: --before 4 shows the next page" "the resume point"
expect_eq "$(seqs --name DOE --limit 2 --before 4)" "1 3 " "the next page"

note "a path no index covers: read from the log, said on stderr"
expect_eq "$(seqs PV1-3.1=RAD)" "1 2 3 " "PV1-3.1 found by the scan"
expect_line "$(cat "$T/err")" "no index covers PV1-3.1: read the log instead, [0-9]+ messages in [0-9]+ ms" "why and how long"
expect_eq "$(seqs 'PID-3=*1')" "1 4 6 10 " "a pattern that starts with a wildcard"
expect_has "$(cat "$T/err")" "starts with a wildcard" "says why"
run_rc "$RADLINK" msg search --data "$T/var"
expect_rc 2 "nothing to find by"
expect_has "$ERR" "say what to find" "says what it takes"

note "radlink check compares the indexes with the log"
run_rc "$RADLINK" check --data "$T/var"
expect_rc 0 "check: $OUT"
expect_line "$OUT" "[0-9]+ message index entries" "counts the index"
stop_engine

note "serve --reindex builds them again (and a store without them at all)"
start_engine --config "$T/cfg.xml" --workers 0 --reindex
expect_eq "$(seqs --patient P1)" "1 4 6 " "the same answers after a rebuild"
run_rc "$RADLINK" check --data "$T/var"
expect_rc 0 "check after the rebuild: $OUT"
stop_engine

note "retention takes the index entries with the messages"
cat >"$T/now.xml" <<XML
<radlink><retention messages="1s" every="1d"/></radlink>
XML
start_engine --config "$T/now.xml" --workers 0
run_rc "$RADLINK" retention run --data "$T/var"
expect_rc 0 "retention run: $ERR"
# the engine's first pass at its start, or this one: all but the newest go
expect_eq "$("$RADLINK" msg list --data "$T/var" | tail -n +2 | awk '{print $1}')" 11 "only the newest message stays (11)"
stop_engine
run_rc "$RADLINK" msg search --data "$T/var" --patient P1
expect_rc 1 "nothing left to find"
run_rc "$RADLINK" check --data "$T/var"
expect_rc 0 "no index entry outlives its message: $OUT"
expect_line "$OUT" "audit [0-9]+, [0-9]+ message index entries, .*: 0 problems" "the indexes hold the newest message's and the audit events' entries, nothing more"
echo PASS
