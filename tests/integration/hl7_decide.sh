#!/bin/sh
# One decision path: what `radlink hl7 ack` and `radlink routes test` say the
# engine would answer is what it answers. Each fixture is first decided by
# the dry run (through the running engine), then sent with python3-hl7's
# mllp_send; the ACK code, text and ERR segments must be the same. Then the
# same with no engine (the store directly), and `msg replay --dry-run`.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/mwl_lib.sh"

F=$T/fx
mkdir -p "$F"
hdr() { # hdr TYPE CTRL [VERSION] [PROCESSING]
    printf 'MSH|^~\\&|RIS|GENHOSP|RADLINK|RAD|20261124090000||%s|%s|%s|%s\r' "$1" "$2" "${4:-P}" "${3:-2.5.1}"
}
orm N1 NW ACC1 S1 CT CT01 202611240930 'DOE^JANE' P1 >"$F/01_order.hl7"
{ hdr ORM^O01 '' ; printf 'PID|1||P2||ROE^RICHARD\r\n'; } >"$F/02_no_control_id.hl7"
{ hdr ADT^A08 V24 v2.4; printf 'PID|1||P3||POE^EDGAR\r\n'; } >"$F/03_version_v2.4.hl7"
{ hdr ADT^A08 Q1 2.5.1 Q; printf 'PID|1||P3||POE^EDGAR\r\n'; } >"$F/04_processing_q.hl7"
{ hdr ADT^A40^ADT_A39 MG1; printf 'EVN|A40|20261124\rPID|1||P8^^^GENHOSP^MR||NEW^NAME\rMRG|P9^^^GENHOSP^MR\r\n'; } >"$F/05_merge_unknown.hl7"
orm C1 CA ACC9 S9 CT CT01 202611240930 'DOE^JANE' P1 >"$F/06_cancel_unknown.hl7"
orm N2 NW ACC2 S2 CT CT01 202611240930 '' '' >"$F/07_no_patient.hl7"
{ printf 'MSH|^~\\&|RIS|GENHOSP|RADLINK|RAD|20261124090000||ORM^O01|T1|P|2.5.1\rPID|1||P4||X^Y\rORC|NW|O1\rOBR|1|O1|F1|P1^PROC\r'; } >"$F/08_truncated.hl7"
cp "$F/01_order.hl7" "$F/09_retransmission.hl7"

# the ACK without its MSH (a time and the ACK's own control ID), one line each
norm() { tr '\r' '\n' | grep -a -E '^(MSA|ERR)\|' || true; }

start_engine
for f in "$F"/*.hl7; do
    name=$(basename "$f" .hl7)
    "$RADLINK" hl7 ack --data "$T/var" "$f" >"$T/$name.dry" 2>"$T/$name.dry.err" || true
    send_hl7 "$f"
    dry=$(norm <"$T/$name.dry")
    real=$(norm <"$f.out")
    [ -n "$real" ] || fail "$name: no ACK from the engine: $(cat "$f.out")"
    expect_eq "$dry" "$real" "$name: the dry run's ACK"
    note "$name: $(printf '%s\n' "$real" | head -1)"
done
expect_has "$(norm <"$T/09_retransmission.dry")" "MSA|AA|N1" "a retransmission is answered like the original"
expect_has "$(norm <"$T/03_version_v2.4.dry")" "MSA|AR" "v2.4 refused"
expect_has "$(norm <"$T/05_merge_unknown.dry")" "MSA|AA" "the unknown prior patient: the merge is recorded"
expect_has "$(norm <"$T/06_cancel_unknown.dry")" "not on the worklist" "the cancel of an unknown order"
expect_eq "$(msg_count accepted)" 2 "the dry runs logged nothing (the order and the merge accepted)"

note "routes test: the trace, then the same ACK"
run_rc "$RADLINK" routes test --data "$T/var" "$SRC/routes/default.xml" "$F/06_cancel_unknown.hl7"
expect_rc 1 "routes test of a refused message"
expect_has "$OUT" "(a dry run: what follows is undone, nothing is sent)" "a dry run"
expect_has "$OUT" "$(norm <"$F/06_cancel_unknown.hl7.out" | head -1)" "the ACK the engine sent"

note "routes test of a message the engine logged: the routes' trace, and the engine's answer as a retransmission"
N1=$("$RADLINK" msg list --data "$T/var" --type ORM | awk 'NR > 1 && $0 ~ / N1 / {print $1; exit}')
run_rc "$RADLINK" routes test --data "$T/var" "$SRC/routes/default.xml" "$F/01_order.hl7"
expect_rc 0 "routes test of a retransmission"
expect_has "$OUT" "route 'orders'" "the trace of the routes is there"
expect_has "$OUT" "as a new message: accepted" "what the routes would do with it"
expect_has "$OUT" "the engine answers it as a retransmission of message $N1 " "and which message it repeats"
expect_has "$OUT" "MSA|AA|N1" "with that message's ACK"

note "msg replay --dry-run: said, not done"
seq=$("$RADLINK" msg list --data "$T/var" --type ORM | awk 'NR > 1 && $0 ~ /accepted/ {print $1; exit}')
before=$("$RADLINK" msg list --data "$T/var" --limit 1000 | wc -l)
run_rc "$RADLINK" msg replay --data "$T/var" --dry-run "$seq"
expect_rc 0 "replay dry run"
expect_has "$OUT" "message $seq would be replayed with" "the dry run says what would happen"
expect_eq "$("$RADLINK" msg list --data "$T/var" --limit 1000 | wc -l)" "$before" "nothing logged"
stop_engine

note "no engine: the store directly, the same answers"
for name in 05_merge_unknown 06_cancel_unknown 09_retransmission; do
    "$RADLINK" hl7 ack --data "$T/var" "$F/$name.hl7" >"$T/$name.dry2" 2>/dev/null || true
    expect_eq "$(norm <"$T/$name.dry2")" "$(norm <"$F/$name.hl7.out")" "$name without an engine"
done
note "ok"
