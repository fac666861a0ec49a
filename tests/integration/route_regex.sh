#!/bin/sh
# Route regexes run in bounded time: a back-reference (which makes glibc's
# matcher backtrack: ^(a*)*\1b$ on 1,000 characters held the loop for over a
# minute) is refused when the file loads; nested repetition without one is
# matched at once on the longest value.
. "$(dirname "$0")/lib.sh"
cat >"$T/backref.xml" <<'XML'
<?xml version="1.0"?>
<routes default="reject" default-text="no route">
  <route name="r">
    <match type="ADT^A08"/>
    <when><matches path="PID-5.1" regex="^(a*)*\1b$"/></when>
    <accept/>
  </route>
</routes>
XML
run_rc "$RADLINK" routes check "$T/backref.xml"
expect_rc 3 "refused at load"
expect_has "$OUT$ERR" "backref.xml:5: <matches>: regex" "names the line"
expect_has "$OUT$ERR" "are not allowed: matching them can take unbounded time" "and why"

sed 's/\\1b\$/b$/' "$T/backref.xml" >"$T/nested.xml"
run_rc "$RADLINK" routes check "$T/nested.xml"
expect_rc 0 "nested repetition without a back-reference loads"
start_engine --routes "$T/nested.xml"
long=$(printf 'a%.0s' $(seq 1 1000))
printf 'MSH|^~\\&|RIS|H|RADLINK|RAD|20261124090000||ADT^A08^ADT_A01|L1|P|2.5.1\rEVN|A08|20261124\rPID|1||P1||%sc\r\n' "$long" >"$T/long.hl7"
start=$(date +%s)
run_rc "$RADLINK" send --timeout 10 --to "127.0.0.1:$PORT" "$T/long.hl7"
expect_has "$OUT" "MSA|AR|L1|no route" "answered at once: the value does not match (the file's default)"
[ $(( $(date +%s) - start )) -le 3 ] || fail "the match took more than 3 s"
stop_engine
