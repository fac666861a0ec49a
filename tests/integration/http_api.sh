#!/bin/sh
# The JSON API with curl, as a script or another system would use it: log
# in (a session cookie and a CSRF token), read every list and detail, act
# (replay, park, retry, link, reload) and see the state change, and be
# refused with a clear 4xx and nothing changed: no session, an expired one,
# no CSRF token, a role too low, unknown IDs, malformed JSON, repeated
# failed logins (lockout). Lists hold no patient data; every login and
# action is in the audit trail.
. "$(dirname "$0")/lib.sh"
. "$SRC/tests/integration/mwl_lib.sh"
MK=$DATA/make_dicom.sh

hold_port DOWN # the RIS that is down: no other test's engine can take its port
CSRF=
cat >"$T/routes.xml" <<XML
<?xml version="1.0"?>
<routes>
  <destination name="ris-down" host="127.0.0.1" port="$DOWN" ack-timeout="2" max-retry-delay="60"/>
  <route name="orders"><match type="ORM^O01"/><worklist/><forward to="ris-down"/></route>
</routes>
XML
# sessions that do not run out while the test acts (under a sanitizer or on
# a loaded machine a request alone may take seconds); expiry is tested on
# its own at the end, with an engine whose session-idle is short
cat >"$T/cfg.xml" <<XML
<radlink>
  <http session-idle="1h" lockout-failures="3" lockout="60s"/>
</radlink>
XML
IDLE=$(scaled 3)
cat >"$T/short.xml" <<XML
<radlink>
  <http session-idle="${IDLE}s" lockout-failures="3" lockout="60s"/>
</radlink>
XML
printf '<radlink>\n  <http session-idle="soon"/>\n</radlink>\n' >"$T/bad.xml"
run_rc "$RADLINK" serve --config "$T/bad.xml" --data "$T/var"
expect_rc 3 "a session-idle that is no duration"
expect_has "$ERR" "bad.xml:2: <http>: session-idle 'soon' is not a duration" "file:line and what"
for u in "ann operator" "vic viewer" "ada admin"; do
    set -- $u
    run_rc sh -c "echo 'pass-$1-123' | '$RADLINK' user add $1 --role $2 --data '$T/var' --password-stdin"
    expect_rc 0 "user add $1"
done
start_engine --config "$T/cfg.xml" --routes "$T/routes.xml" --workers 0
H="http://127.0.0.1:$HTTP_PORT"

# api METHOD PATH [BODY] [JAR] [CSRF]: CODE = the status, BODY = the answer
api() {
    jar=${4:-$T/ann.jar}
    if [ -n "${3:-}" ]; then
        CODE=$(curl -s -o "$T/body" -w '%{http_code}' -X "$1" -b "$jar" -c "$jar" \
            -H "X-CSRF-Token: ${5-$CSRF}" -H 'Content-Type: application/json' --data-binary "$3" "$H$2")
    else
        CODE=$(curl -s -o "$T/body" -w '%{http_code}' -X "$1" -b "$jar" -c "$jar" \
            -H "X-CSRF-Token: ${5-$CSRF}" "$H$2")
    fi
    BODY=$(cat "$T/body")
}
json() { printf '%s' "$BODY" | python3 -c "import json,sys; d=json.load(sys.stdin); x=($1); print(x)"; }
login() { # login USER: the session in $T/USER.jar, its token in CSRF
    CSRF=
    api POST /api/login "{\"user\": \"$1\", \"password\": \"pass-$1-123\"}" "$T/$1.jar"
    expect_eq "$CODE" 200 "login $1: $BODY"
    CSRF=$(json 'd["csrf"]')
}

note "traffic: three orders (waiting for a RIS that is down), one study two orders could be"
orm C1 NW 9001 S1 CT CT01 202611241000 'SECRET^PATIENT' P-SECRET-1 >"$T/m.hl7"
orm C2 NW 9002 S2 US US01 202612011000 'NOBODY^KNOWN' P-SECRET-2 >>"$T/m.hl7"
orm C3 NW 9003 S3 US US01 202612011400 'NOBODY^KNOWN' P-SECRET-2 >>"$T/m.hl7"
send_hl7 "$T/m.hl7"
expect_eq "$(grep -c 'MSA|AA' "$T/m.hl7.out")" 3 "three ACKs AA"
$MK "$T/orphan.dcm" 1.2.999.8.1.1 1.2.999.8 1.2.999.8.1 ZZZ P-SECRET-2 'NOBODY^KNOWN' US 20261201
run_rc storescu -aec RADLINK 127.0.0.1 "$DICOM_PORT" "$T/orphan.dcm"
expect_rc 0 "storescu"

note "no session: 401 for every API path"
for p in status messages messages/1 queues jobs jobs/1 recon recon/unmatched recon/1.2.999.8 worklist worklist/9001 routes users session; do
    api GET "/api/$p" "" "$T/nobody.jar"
    expect_eq "$CODE" 401 "GET /api/$p without a session"
    expect_has "$BODY" '"error":"log in first"' "says to log in"
done
api POST /api/messages/1/replay '{}' "$T/nobody.jar"
expect_eq "$CODE" 401 "a replay without a session"

note "login: wrong password, unknown user, malformed JSON"
api POST /api/login '{"user": "ann", "password": "wrong-password"}' "$T/x.jar"
expect_eq "$CODE" 401 "a wrong password"
expect_has "$BODY" "wrong user name or password" "says so"
api POST /api/login '{"user": "nobody", "password": "whatever-1"}' "$T/x.jar"
expect_eq "$CODE" 401 "an unknown user: the same answer"
expect_has "$BODY" "wrong user name or password" "the same words"
api POST /api/login '{"user": "ann", "password": ' "$T/x.jar"
expect_eq "$CODE" 400 "malformed JSON"
expect_line "$BODY" 'the body is not JSON: line 1, column [0-9]+' "line and column"
api POST /api/login '{"user": "ann"}' "$T/x.jar"
expect_eq "$CODE" 400 "a login without a password"
api GET /api/login "" "$T/x.jar"
expect_eq "$CODE" 405 "GET on /api/login"

note "login as ann (operator): the cookie's attributes"
curl -s -D "$T/login.hdr" -o /dev/null -H 'Content-Type: application/json' \
    --data '{"user": "ann", "password": "pass-ann-123"}' "$H/api/login"
expect_line "$(cat "$T/login.hdr")" '^Set-Cookie: radlink_session=[0-9a-f]{64}; Path=/; Max-Age=[0-9]+; HttpOnly; SameSite=Strict' "HttpOnly, SameSite=Strict"
expect_not_has "$(cat "$T/login.hdr")" "Secure" "no Secure flag over plain HTTP"
login ann
api GET /api/session
expect_eq "$(json 'd["user"], d["role"]')" "('ann', 'operator')" "the session says who"

note "status"
api GET /api/status
expect_eq "$CODE" 200 "status"
expect_eq "$(json 'd["messages_logged"], d["unmatched"], d["queued_total"]')" "(3, 1, 3)" "3 logged, 1 unmatched, 3 queued"
expect_eq "$(json '[x["name"] for x in d["destinations"]]')" "['ris-down']" "the destination"
expect_eq "$(json 'sum(d["last_hour"]["accepted"])')" 3 "three accepted in the last hour"
expect_has "$(json 'd["engine"]')" "messages accepted 3" "the engine's own words"

note "messages: list, search by PID-3, show, bad input"
api GET "/api/messages?limit=10"
expect_eq "$(json '[m["seq"] for m in d["messages"]]')" "[3, 2, 1]" "newest first"
expect_eq "$(json 'd["messages"][0]["type"], d["messages"][0]["status"]')" "('ORM^O01^ORM_O01', 'accepted')" "type and status"
for secret in SECRET P-SECRET; do
    expect_not_has "$BODY" "$secret" "no patient data in the list ($secret)"
done
api GET "/api/messages?limit=1"
expect_eq "$(json 'len(d["messages"]), d["next_before"]')" "(1, 3)" "a page of one, and where the next starts"
api GET "/api/messages?limit=2&before=3"
expect_eq "$(json '[m["seq"] for m in d["messages"]], d["next_before"]')" "([2, 1], None)" "the next page, the last"
api GET "/api/messages?q=PID-3.1=P-SECRET-2"
expect_eq "$(json '[m["seq"] for m in d["messages"]]')" "[3, 2]" "found by PID-3"
api GET "/api/messages?q=PID-3.1=P-SECRET-*&status=accepted&type=ORM"
expect_eq "$(json '[m["seq"] for m in d["messages"]]')" "[3, 2, 1]" "a wildcard with status and type"
api GET "/api/messages?q=PID-3.1=NOBODY"
expect_eq "$(json 'd["messages"]')" "[]" "no match: an empty list"
api GET "/api/messages?patient=P-SECRET-2&accession=9003"
expect_eq "$(json '[m["seq"] for m in d["messages"]], d["index"], d["scan"]')" "([3], 'patient+accession', None)" \
    "the same finder as msg search: by the indexes, AND"
api GET "/api/messages?name=nobody&limit=1"
expect_eq "$(json '[m["seq"] for m in d["messages"]], d["next_before"], d["index"]')" "([3], 3, 'name')" \
    "a name, folded, a page at a time"
api GET "/api/messages?q=PV1-3.1=RAD"
expect_eq "$(json 'd["index"], d["scan"]')" "(None, 'no index covers PV1-3.1')" "the scan says why"
api GET "/api/messages?q=PID3"
expect_eq "$CODE" 400 "a search without PATH=VALUE"
api GET "/api/messages?limit=0"
expect_eq "$CODE" 400 "limit 0"
expect_has "$BODY" "limit: '0' is not a number from 1 to 1000" "says the range"
api GET "/api/messages?status=lost"
expect_eq "$CODE" 400 "an unknown status"
api GET /api/messages/1
expect_eq "$CODE" 200 "message 1"
expect_has "$(json 'd["raw"]')" "SECRET^PATIENT" "the detail holds the message"
expect_line "$(json 'd["tree"]')" '^PID' "its tree"
expect_has "$(json 'd["ack_sent"]')" "MSA|AA|C1" "the ACK sent"
expect_has "$(json 'd["trace"]')" "orders" "the route trace"
api GET /api/messages/999
expect_eq "$CODE" 404 "an unknown message"
expect_has "$BODY" "no message 999" "says which"
api GET /api/messages/abc
expect_eq "$CODE" 400 "not a message number"

note "queues: park and retry, by the API"
api GET "/api/queues?state=pending"
expect_eq "$(json '[(i["dest"], i["qseq"], i["msg_seq"]) for i in d["items"]]')" "[('ris-down', 1, 1), ('ris-down', 2, 2), ('ris-down', 3, 3)]" "three pending"
api POST /api/queues/ris-down/1/park '{}' "" ""
expect_eq "$CODE" 403 "no CSRF token"
expect_has "$BODY" "CSRF" "says which"
api POST /api/queues/ris-down/1/park '{}' "" "0000000000000000000000000000000000000000000000000000000000000000"
expect_eq "$CODE" 403 "a wrong CSRF token"
api GET "/api/queues?state=parked"
expect_eq "$(json 'd["total"]')" 0 "nothing parked by refused requests"
api POST /api/queues/ris-down/1/park
expect_eq "$CODE" 200 "park: $BODY"
api GET "/api/queues?state=parked"
expect_eq "$(json '[i["qseq"] for i in d["items"]]')" "[1]" "parked"
api POST /api/queues/ris-down/77/retry
expect_eq "$CODE" 404 "retry an unknown item"
api POST /api/queues/no-such-dest/1/retry
expect_eq "$CODE" 404 "retry for an unknown destination"
api POST /api/queues/ris-down/1/retry
expect_eq "$CODE" 200 "retry: $BODY"
api GET "/api/queues?state=parked"
expect_eq "$(json 'd["total"]')" 0 "back in line"
api POST /api/queues/ris-down/2/park
api POST /api/queues/ris-down/retry-all
expect_eq "$CODE" 200 "retry all parked: $BODY"
api GET "/api/queues?state=parked"
expect_eq "$(json 'd["total"]')" 0 "all back in line"
api GET "/api/queues?state=lost"
expect_eq "$CODE" 400 "an unknown queue state"

note "replay: a new log entry"
api POST /api/messages/1/replay '{"dry_run": true}'
expect_eq "$CODE" 200 "a dry run"
api GET "/api/messages?limit=5"
expect_eq "$(json 'len(d["messages"])')" 3 "a dry run keeps nothing"
api POST /api/messages/1/replay '{'
expect_eq "$CODE" 400 "a replay with malformed JSON"
api POST /api/messages/1/replay
expect_eq "$CODE" 200 "replay: $BODY"
expect_eq "$(json 'd["done"]')" True "done"
api GET "/api/messages?limit=5"
expect_eq "$(json '[m["seq"] for m in d["messages"]]')" "[4, 3, 2, 1]" "logged as message 4"
api POST /api/messages/999/replay
expect_eq "$CODE" 404 "replay an unknown message"

note "reconciliation: the exception list, a study, a link"
api GET /api/recon/unmatched
expect_eq "$(json '[(s["study_uid"], s["state"]) for s in d["studies"]]')" "[('1.2.999.8', 'unmatched')]" "on the exception list"
expect_not_has "$BODY" "NOBODY" "no patient name in the list"
api GET /api/recon
expect_eq "$(json 'd["total"]')" 1 "one study in all"
api GET "/api/recon?state=odd"
expect_eq "$CODE" 400 "an unknown state"
api GET /api/recon/1.2.999.8
expect_eq "$(json 'd["state"], d["fields"]["PatientName"]')" "('unmatched', 'NOBODY^KNOWN')" "the study's detail"
expect_eq "$(json '[c["accession"] for c in d["candidates"]]')" "['9002', '9003']" "the candidate orders"
api GET /api/recon/1.2.3.4.5
expect_eq "$CODE" 404 "an unknown study"
api POST /api/recon/1.2.999.8/link '{"accession": 9002}'
expect_eq "$CODE" 400 "an accession that is not a string"
api POST /api/recon/1.2.999.8/link '{"accession": "NOSUCH"}'
expect_eq "$CODE" 404 "an order that is not on the worklist"
expect_has "$BODY" "no worklist entry with accession number NOSUCH" "says so"
api POST /api/recon/1.2.3.4.5/link '{"accession": "9002"}'
expect_eq "$CODE" 404 "a study that is not there"
api POST /api/recon/1.2.999.8/link '{"accession": "9002"}'
expect_eq "$CODE" 200 "link: $BODY"
api GET /api/recon/1.2.999.8
expect_eq "$(json 'd["order"]["accession"]')" 9002 "linked to the order"
expect_not_has "$(json 'd["state"]')" "unmatched" "off the exception list"

note "jobs"
api GET /api/jobs
expect_eq "$CODE" 200 "jobs list"
api GET "/api/jobs?state=lost"
expect_eq "$CODE" 400 "an unknown job state"
api GET /api/jobs/424242
expect_eq "$CODE" 404 "an unknown job"
api POST /api/jobs/424242/retry
expect_eq "$CODE" 404 "retry an unknown job"
api POST /api/jobs/retry-dead
expect_line "$CODE" '^(200|409)$' "retry all dead jobs: $BODY"

note "worklist"
api GET "/api/worklist?date=20261124"
expect_eq "$(json '[(e["accession"], e["station"]) for e in d["entries"]]')" "[('9001', 'CT01')]" "by date"
api GET "/api/worklist?station=US01"
expect_eq "$(json '[e["accession"] for e in d["entries"]]')" "['9002', '9003']" "by station"
expect_not_has "$BODY" "SECRET" "no patient data in the list"
api GET "/api/worklist?date=2026-11-24"
expect_eq "$CODE" 400 "a malformed date"
api GET /api/worklist/9001
expect_has "$BODY" "SECRET^PATIENT" "the entry's detail"
api GET /api/worklist/NOSUCH
expect_eq "$CODE" 404 "an unknown accession"

note "routes: an operator may read them, not reload them"
api GET /api/routes
expect_has "$(json 'd["file"]')" "routes.xml" "the route file"
api POST /api/routes/reload
expect_eq "$CODE" 403 "an operator reloads routes"
expect_has "$BODY" "operator may not do this: it needs the admin role" "says why"
api GET /api/users
expect_eq "$CODE" 403 "an operator lists users"

note "a viewer reads and is refused every action, and nothing changes"
login vic
api GET /api/messages/1
expect_eq "$CODE" 200 "a viewer reads a message"
api POST /api/messages/1/replay '{}' "$T/vic.jar"
expect_eq "$CODE" 403 "a viewer replays"
expect_has "$BODY" "viewer may not do this: it needs the operator role" "says why"
api POST /api/queues/ris-down/1/park '{}' "$T/vic.jar"
expect_eq "$CODE" 403 "a viewer parks"
api POST /api/recon/1.2.999.8/link '{"accession": "9001"}' "$T/vic.jar"
expect_eq "$CODE" 403 "a viewer links"
api GET "/api/messages?limit=9" "" "$T/vic.jar"
expect_eq "$(json 'len(d["messages"])')" 4 "no replay happened"
api GET "/api/queues?state=parked" "" "$T/vic.jar"
expect_eq "$(json 'd["total"]')" 0 "nothing parked"

note "an admin reloads routes and manages users"
login ada
api POST /api/routes/reload '{}' "$T/ada.jar"
expect_eq "$CODE" 200 "reload: $BODY"
api POST /api/users '{"name": "zed", "role": "viewer", "password": "pass-zed-123"}' "$T/ada.jar"
expect_eq "$CODE" 200 "add a user"
api POST /api/users '{"name": "bad name", "role": "viewer", "password": "pass-zed-123"}' "$T/ada.jar"
expect_eq "$CODE" 400 "a bad user name"
api POST /api/users '{"name": "yan", "role": "viewer", "password": "short"}' "$T/ada.jar"
expect_eq "$CODE" 400 "a short password"
api GET /api/users "" "$T/ada.jar"
expect_eq "$(json 'sorted(u["name"] for u in d["users"])')" "['ada', 'ann', 'vic', 'zed']" "the users"
expect_not_has "$BODY" "scrypt" "no hashes"
login zed
api DELETE /api/users/zed "" "$T/ada.jar" "$(curl -s -b "$T/ada.jar" "$H/api/session" | python3 -c 'import json,sys; print(json.load(sys.stdin)["csrf"])')"
expect_eq "$CODE" 200 "remove a user"
api GET /api/session "" "$T/zed.jar"
expect_eq "$CODE" 401 "the removed user's session ended"
api DELETE /api/users/nobody "" "$T/ada.jar" "$(curl -s -b "$T/ada.jar" "$H/api/session" | python3 -c 'import json,sys; print(json.load(sys.stdin)["csrf"])')"
expect_eq "$CODE" 404 "remove an unknown user"

note "logout"
login vic
api POST /api/logout '{}' "$T/vic.jar"
expect_eq "$CODE" 200 "logout"
api GET /api/status "" "$T/vic.jar"
expect_eq "$CODE" 401 "after logout"

note "lockout: 3 failures lock the name for 60 s, even with the right password"
for i in 1 2 3; do
    api POST /api/login '{"user": "vic", "password": "wrong-password"}' "$T/x.jar"
    expect_eq "$CODE" 401 "failure $i"
done
curl -s -D "$T/lock.hdr" -o "$T/body" -H 'Content-Type: application/json' \
    --data '{"user": "vic", "password": "pass-vic-123"}' "$H/api/login"
expect_line "$(cat "$T/lock.hdr")" '^HTTP/1.1 429' "locked"
expect_line "$(cat "$T/lock.hdr")" '^Retry-After: [1-6][0-9]?' "Retry-After"
expect_has "$(cat "$T/body")" "too many failed logins for vic" "says so"
login ann # another name is not locked

note "the audit trail: logins, failures, actions, refusals"
run_rc "$RADLINK" audit list --data "$T/var" --limit 1000
expect_rc 0 "audit list"
A=$OUT
expect_line "$A" "110114 .*User Authentication" "logins recorded"
for what in "queue park ris-down 1" "msg replay 1" "recon link 1.2.999.8 9002" "routes reload" "POST /api/messages/1/replay"; do
    run_rc sh -c "'$RADLINK' audit list --data '$T/var' --limit 1000 --xml | grep -c '$what'"
    [ "$OUT" -ge 1 ] || fail "the audit trail records '$what'"
done

note "an expired session: session-idle ${IDLE}s"
stop_engine
PORT= DICOM_PORT= HTTP_PORT= # ports the system picks again
start_engine --config "$T/short.xml" --routes "$T/routes.xml" --workers 0
H="http://127.0.0.1:$HTTP_PORT"
# a fresh session is served; on a machine so loaded that the login and the
# request are more than session-idle apart, the session rightly expired:
# log in again (what is asserted is only that a request inside the idle
# time is served)
tries=0
while :; do
    t0=$(date +%s)
    login ann
    api GET /api/status
    [ "$CODE" = 200 ] && break
    [ $(( $(date +%s) - t0 )) -ge "$IDLE" ] || fail "a fresh session is served: expected [200], got [$CODE]"
    tries=$((tries + 1))
    [ $tries -lt 10 ] || fail "a fresh session is served: ten logins each outlived session-idle"
done
# time passing is what is tested: idle past session-idle; then the first
# answer that is not 200 (a request still inside the idle time renews it)
sleep $((IDLE + 1))
i=0
while api GET /api/status && [ "$CODE" = 200 ]; do
    i=$((i + 1))
    [ $i -le $(($(scaled 10) * 10)) ] || fail "the session idle for ${IDLE}s is still served"
    sleep 0.1
done
expect_eq "$CODE" 401 "idle past session-idle (${IDLE}s)"
expect_has "$BODY" "the session expired: log in again" "says it expired"
api POST /api/queues/ris-down/1/park
expect_eq "$CODE" 401 "an action on an expired session"
api GET "/api/queues?state=parked" "" "$T/ann.jar"
expect_eq "$CODE" 401 "the expired session is gone"
login ann
api GET "/api/queues?state=parked"
expect_eq "$(json 'd["total"]')" 0 "the action on the expired session parked nothing"
stop_engine
echo "PASS"
