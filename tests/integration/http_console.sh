#!/bin/sh
# The web console in a real browser (Debian's chromium, headless, driven by
# puppeteer-core from tests/js): log in, find a message by PID-3 and replay
# it, park and retry a queued message, link an unmatched study to its order
# and see its state change, be refused an operator action as a viewer; the
# alert the RIS's queue fires is on the banner above every page; a DICOM
# node that is down is checked from the overview, with the remedy. The
# screenshots of every page stay in this test's work directory.
. "$(dirname "$0")/lib.sh"
. "$SRC/tests/integration/mwl_lib.sh"

CHROMIUM=$(command -v chromium || true)
[ -n "$CHROMIUM" ] || fail "chromium is not installed (make deps installs it)"
[ -d "$SRC/tests/js/node_modules/puppeteer-core" ] || fail "puppeteer-core is not installed (make js)"

hold_port DOWN # the RIS that is down: no other test's engine can take its port
cat >"$T/routes.xml" <<XML
<?xml version="1.0"?>
<routes>
  <destination name="ris-down" host="127.0.0.1" port="$DOWN" ack-timeout="2" max-retry-delay="60"/>
  <route name="orders"><match type="ORM^O01"/><worklist/><forward to="ris-down"/></route>
  <route name="reports"><match type="ORU^R01"/><report/></route>
</routes>
XML
for u in "ann operator" "vic viewer"; do
    set -- $u
    run_rc sh -c "echo 'pass-$1-123' | '$RADLINK' user add $1 --role $2 --data '$T/var' --password-stdin"
    expect_rc 0 "user add $1"
done
# the alert rules: the RIS's queue (the banner above every page); the
# syslog socket is not there, so the notification stays owed
cat >"$T/radlink.xml" <<XML
<?xml version="1.0"?>
<radlink>
  <alerts every="1s"><syslog socket="$T/no-syslog.sock"/><rule on="queue-depth" over="2"/></alerts>
  <dicom><node ae="DOWNPACS" host="127.0.0.1" port="$DOWN"/></dicom>
</radlink>
XML
start_engine --config "$T/radlink.xml" --routes "$T/routes.xml" --workers 0

note "traffic: three orders for a RIS that is down, a study two of them could be"
orm C1 NW 9001 S1 CT CT01 202611241000 'SECRET^PATIENT' P-SECRET-1 >"$T/m.hl7"
orm C2 NW 9002 S2 US US01 202612011000 'NOBODY^KNOWN' P-SECRET-2 >>"$T/m.hl7"
orm C3 NW 9003 S3 US US01 202612011400 'NOBODY^KNOWN' P-SECRET-2 >>"$T/m.hl7"
send_hl7 "$T/m.hl7"
expect_eq "$(grep -c 'MSA|AA' "$T/m.hl7.out")" 3 "three ACKs AA"
# a report for an order radlink never received: held on the exception list
printf '%s\r' 'MSH|^~\&|RIS|GENHOSP|RADLINK|RAD|20261124110000||ORU^R01^ORU_R01|C4|P|2.5.1' \
  'PID|1||P-SECRET-3^^^GENHOSP^MR||NOBODY^KNOWN' \
  'OBR|1|O9999|F9999|PCT^CT Chest^LOCAL|||20261124093012|||||||||||9999|RP9999|||20261124103000|||F' \
  'OBX|1|TX|&IMP|1|No acute finding.||||||F' >"$T/r.hl7"
send_hl7 "$T/r.hl7"
expect_has "$(cat "$T/r.hl7.out")" "MSA|AA|C4" "the report is taken"
"$DATA/make_dicom.sh" "$T/orphan.dcm" 1.2.999.8.1.1 1.2.999.8 1.2.999.8.1 ZZZ P-SECRET-2 'NOBODY^KNOWN' US 20261201
run_rc storescu -aec RADLINK 127.0.0.1 "$DICOM_PORT" "$T/orphan.dcm"
expect_rc 0 "storescu"

note "the console in chromium (screenshots: $T/screenshots)"
mkdir -p "$T/screenshots"
set +e
node "$SRC/tests/js/console_test.js" "http://127.0.0.1:$HTTP_PORT" "$T/screenshots" "$CHROMIUM"
RC=$?
set -e
[ "$RC" = 0 ] || fail "the browser test (see its lines above and $T/screenshots)"
for p in 01-login 02-overview 02b-alert-banner 04-messages-search 05-message 07-queues-parked 10-study-linked 13-worklist 17-viewer-refused; do
    [ -s "$T/screenshots/$p.png" ] || fail "no screenshot $p"
done

note "what the browser did is what the store holds"
run_rc "$RADLINK" recon show --data "$T/var" 1.2.999.8
expect_has "$OUT" "order        accession 9002" "the study is linked to 9002"
run_rc "$RADLINK" msg list --data "$T/var"
expect_line "$OUT" "^4 " "the replay is message 4"
run_rc "$RADLINK" queue list --data "$T/var" --state parked
expect_has "$OUT" "(4 pending, 0 parked)" "nothing left parked (the replay queued a fourth)"
echo "PASS"
