#!/bin/sh
# Alerts that reach a person: the engine's <alerts> rules, sent by e-mail to
# Debian's python3-aiosmtpd (STARTTLS and authentication required), POSTed
# to an HTTPS webhook (a bearer token required) and written to a syslog
# socket (alert_sinks.py). A destination that is down makes its queue grow:
# the alert fires once on each channel, repeats while it holds (across a
# restart of the engine, which neither fires it again nor forgets it), and
# is resolved once the destination takes the message. The webhook's own
# certificate, which expires in two days, fires the certificate rule. No
# mail, post or syslog line names the patient. `radlink alerts list` and
# `radlink status` show what fires (the console: http_console); `radlink alerts test`
# says which channel works and why one does not.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/mwl_lib.sh"

make_pki "$T/pki" sinks
printf 'radlink\n' >"$T/user"
printf 's3cret-pass\n' >"$T/smtp.pass"
printf 'hook-token-1\n' >"$T/token"
mkdir -p "$T/sinks"
/usr/bin/python3 "$SRC/tests/integration/alert_sinks.py" "$T/sinks" "$T/pki/sinks.pem" \
    "$T/pki/sinks.key" radlink s3cret-pass hook-token-1 >"$T/sinks.out" 2>&1 &
PIDS="$PIDS $!"
wait_until 20 "[ -s '$T/sinks/ports' ]"
SMTP=$(sed -n 's/^smtp //p' "$T/sinks/ports")
HTTPS=$(sed -n 's/^https //p' "$T/sinks/ports")

/usr/bin/python3 "$SRC/tests/integration/mllp_sink.py" --hold >"$T/held" &
PIDS="$PIDS $!"
wait_until 10 "[ -s '$T/held' ]"
DOWN=$(cat "$T/held")

config() { # config PASSWORD_FILE
    cat <<XML
<?xml version="1.0"?>
<radlink>
  <destinations>
    <destination name="results" host="127.0.0.1" port="$DOWN" ack-timeout="3" max-retry-delay="1"/>
  </destinations>
  <alerts every="1s" repeat="3s" host-name="radlink-test">
    <email url="smtp://127.0.0.1:$SMTP" from="radlink@hospital.test"
           to="pacs-admin@hospital.test, ris-team@hospital.test" user="radlink"
           password-file="$1" ca="$T/pki/ca.pem"/>
    <webhook url="https://127.0.0.1:$HTTPS/hook" ca="$T/pki/ca.pem" token-file="$T/token"/>
    <syslog socket="$T/sinks/syslog.sock" facility="local3"/>
    <rule on="queue-depth" over="0" destination="results"/>
    <rule on="certificate" within="30d" repeat="1h"/>
    <rule on="dead-jobs"/>
  </alerts>
</radlink>
XML
}
config "$T/smtp.pass" >"$T/radlink.xml"
config "$T/user" >"$T/wrong.xml"

mails() { grep -l -- "$1" "$T"/sinks/mail/*.eml 2>/dev/null | wc -l; }
posts() { grep -l -- "$1" "$T"/sinks/hook/*.json 2>/dev/null | wc -l; }
# wait_n SECONDS mails|posts OP N PATTERN: until that many mails (posts) match
wait_n() {
    i=0
    until [ "$($2 "$5")" "$3" "$4" ]; do
        i=$((i + 1))
        [ $i -le $(($(scaled "$1") * 10)) ] ||
            fail "timed out after $1 s waiting for $3 $4 $2 matching /$5/ ($($2 "$5") now)"
        sleep 0.1
    done
}

note "alerts test: every channel says it works; a wrong password is named"
run_rc "$RADLINK" alerts test --config "$T/radlink.xml"
expect_rc 0 "alerts test"
expect_line "$OUT" "^  ok    e-mail to smtp://127.0.0.1:$SMTP$" "the mail went"
expect_line "$OUT" "^  ok    webhook to https://127.0.0.1:$HTTPS/hook$" "the post went"
expect_line "$OUT" "^  ok    syslog to " "the syslog line went"
wait_until 10 "[ \$(grep -l 'radlink alerts test' '$T'/sinks/mail/*.eml 2>/dev/null | wc -l) = 1 ]"
run_rc "$RADLINK" alerts test --config "$T/wrong.xml"
expect_rc 1 "alerts test with a wrong password"
expect_line "$OUT" "^  no    e-mail to smtp://.*(Login denied|535)" "the refusal is named"
rm -f "$T"/sinks/mail/* "$T"/sinks/hook/*
: >"$T/sinks/syslog.log" # the sink appends to the file it opened

start_engine --config "$T/radlink.xml"

note "the webhook's certificate ends in two days: the certificate rule fires"
wait_until 30 "[ \$(grep -l 'FIRING: certificate certificate of the alert webhook' '$T'/sinks/mail/*.eml 2>/dev/null | wc -l) = 1 ]"

note "a result for a destination that is down: the queue-depth alert fires on every channel"
oru() {
    printf 'MSH|^~\\&|RIS|RAD|RADLINK|HOSP|20261206093000||ORU^R01|%s|P|2.5.1\rPID|1||PAT7734^^^HOSP^MR||KOWALSKA^ZOFIA||19700304|F\rOBR|1|O1|F1|CTCHEST^CT chest|||20261206091500|||||||||||ACC7734||||||F\rOBX|1|TX|IMP^Impression||No acute finding.||||||F\r\n' "$1"
}
oru R1 >"$T/oru.hl7"
send_hl7 "$T/oru.hl7"
expect_has "$(cat "$T/oru.hl7.out")" "MSA|AA|R1" "the result is ACKed once queued"
wait_until 30 "[ \$(grep -l 'FIRING: queue-depth results' '$T'/sinks/mail/*.eml 2>/dev/null | wc -l) = 1 ]"
mail=$(grep -l 'FIRING: queue-depth results' "$T"/sinks/mail/*.eml)
expect_has "$(cat "$mail")" "destination results: 1 message waiting" "the mail says what waits"
expect_has "$(cat "$mail")" "X-Envelope-To: pacs-admin@hospital.test,ris-team@hospital.test" \
    "both recipients"
expect_has "$(cat "$mail")" "X-Authenticated: " "the server authenticated radlink"
expect_has "$(cat "$mail")" "[radlink radlink-test]" "the engine is named"
wait_until 20 "[ \$(grep -l '\"alert\":\"queue-depth\"' '$T'/sinks/hook/*.json 2>/dev/null | wc -l) -ge 1 ]"
post=$(grep -l '"alert":"queue-depth"' "$T"/sinks/hook/*.json | head -1)
expect_has "$(cat "$post")" '"status":"firing"' "the post says firing"
expect_has "$(cat "$post")" '"subject":"results"' "the post names the destination"
wait_until 20 "grep -q 'radlink\\[[0-9]*\\]: alert firing queue-depth results' '$T/sinks/syslog.log'"
expect_has "$(grep 'alert firing queue-depth' "$T/sinks/syslog.log")" "<156>" \
    "local3.warning (19 * 8 + 4)"

run_rc "$RADLINK" alerts list --data "$T/var"
expect_rc 0 "alerts list"
expect_line "$OUT" "^FIRING +queue-depth +results$" "alerts list names the queue"
expect_line "$OUT" "^FIRING +certificate +certificate of the alert webhook" "and the certificate"
wait_cmd 10 "^alerts: 2 firing" "$RADLINK" status --data "$T/var"

note "it repeats while it holds"
wait_n 30 mails -ge 1 'STILL FIRING: queue-depth results'
expect_eq "$(mails '] FIRING: queue-depth results')" 1 "one first mail, the rest repeats"

note "a restart neither fires it again nor forgets it"
stop_engine
before=$(mails 'STILL FIRING: queue-depth results')
start_engine --config "$T/radlink.xml"
wait_n 30 mails -gt "$before" 'STILL FIRING: queue-depth results'
expect_eq "$(mails '] FIRING: queue-depth results')" 1 "still one first mail after the restart"
expect_eq "$(mails '] FIRING: certificate')" 1 "the certificate's first mail is not sent again"

note "the destination takes the message: resolved, on every channel"
/usr/bin/python3 "$SRC/tests/integration/mllp_sink.py" "$DOWN" "$T/sink.log" --held \
    >"$T/sink.out" 2>&1 &
PIDS="$PIDS $!"
wait_n 30 mails -eq 1 'RESOLVED: queue-depth results'
wait_n 20 posts -ge 1 '"status":"resolved"'
expect_eq "$(posts '"status":"resolved"')" 1 "one resolution posted"
wait_until 20 "grep -q 'alert resolved queue-depth results' '$T/sinks/syslog.log'"
run_rc "$RADLINK" alerts list --data "$T/var"
expect_rc 0 "alerts list"
expect_not_has "$OUT" "queue-depth" "the resolved alert is gone"
expect_line "$OUT" "^FIRING +certificate " "the certificate still fires"

note "no alert names the patient"
for f in "$T"/sinks/mail/*.eml "$T"/sinks/hook/*.json "$T/sinks/syslog.log"; do
    for word in KOWALSKA ZOFIA PAT7734 ACC7734; do
        expect_not_has "$(cat "$f")" "$word" "$f names the patient ($word)"
    done
done
stop_engine
echo "PASS"
