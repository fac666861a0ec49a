#!/bin/sh
# The HTTP listener's open endpoints, read with curl: /healthz, /readyz
# (what a load balancer or cluster manager asks), and /metrics in the
# Prometheus text format, checked by Prometheus's own `promtool check
# metrics`. The engine takes orders and ADTs (mllp_send), a worklist query
# (findscu), a study (storescu) and holds a message for a destination that
# is down: each shows in its counter or gauge, and no patient identifier
# appears anywhere in the scrape. Then the same over HTTPS with the MLLP
# listeners' certificate settings, a client certificate required.
. "$(dirname "$0")/lib.sh"
. "$SRC/tests/integration/mwl_lib.sh"

hold_port DOWN # the RIS that is down: no other test's engine can take its port
cat >"$T/routes.xml" <<XML
<?xml version="1.0"?>
<routes>
  <destination name="ris-down" host="127.0.0.1" port="$DOWN" ack-timeout="2" max-retry-delay="60"/>
  <route name="orders"><match type="ORM^O01"/><worklist/><forward to="ris-down"/></route>
  <route name="adt"><match type="ADT^A*"/><patient/></route>
</routes>
XML
start_engine --routes "$T/routes.xml"
H="http://127.0.0.1:$HTTP_PORT"

note "healthz and readyz"
run_rc curl -s -i "$H/healthz"
expect_line "$OUT" "^HTTP/1.1 200" "healthz answers 200"
run_rc curl -s -i "$H/readyz"
expect_line "$OUT" "^HTTP/1.1 200" "readyz answers 200 once the engine serves"
expect_has "$OUT" "mllp listening on 1 port" "readyz says what it checked"
expect_has "$OUT" "routes $T/routes.xml (2)" "readyz names the routes loaded"
run_rc curl -s -o /dev/null -w '%{http_code}' "$H/no-such-page"
expect_eq "$OUT" 404 "an unknown path"

note "traffic: 3 orders, 2 ADTs, a worklist query, a study of 2 images"
orm C1 NW 9001 S1 CT CT01 202611241000 'SECRET^PATIENT' P-SECRET-1 >"$T/m.hl7"
orm C2 NW 9002 S2 CT CT01 202611241030 'SECRET^PATIENT' P-SECRET-1 >>"$T/m.hl7"
orm C3 NW 9003 S3 MR MR01 202611241100 'SECRET^PATIENT' P-SECRET-1 >>"$T/m.hl7"
printf 'MSH|^~\\&|RIS|GENHOSP|RADLINK|RAD|20261124||ADT^A08|A1|P|2.5.1\rPID|1||P-SECRET-1^^^GENHOSP^MR||SECRET^PATIENT\r\n' >>"$T/m.hl7"
printf 'MSH|^~\\&|RIS|GENHOSP|RADLINK|RAD|20261124||ADT^A08|A2|P|2.5.1\rPID|1||P-SECRET-1^^^GENHOSP^MR||SECRET^PATIENT\r\n' >>"$T/m.hl7"
send_hl7 "$T/m.hl7"
expect_eq "$(grep -c 'MSA|AA' "$T/m.hl7.out")" 5 "five ACKs AA"
query q <<'EOF'
(0008,0050) SH []
(0010,0010) PN []
(0040,0100) SQ (Sequence with undefined length #=1)
  (fffe,e000) na (Item with undefined length #=1)
    (0008,0060) CS [CT]
    (0040,0009) SH []
  (fffe,e00d) na (ItemDelimitationItem)
(fffe,e0dd) na (SequenceDelimitationItem)
EOF
find_wl "$DICOM_PORT" q
expect_eq "$MATCHES" "9001/S1 9002/S2 " "the worklist query answers"
make_study "$T/s" 1 2 1.2.999.77 9001 P-SECRET-1 'SECRET^PATIENT'
run_rc storescu -aec RADLINK 127.0.0.1 "$DICOM_PORT" "$T/s/i1.dcm" "$T/s/i2.dcm"
expect_rc 0 "storescu"

note "/metrics: promtool check metrics passes on it"
run_rc curl -s -D "$T/m.hdr" -o "$T/metrics.txt" "$H/metrics"
expect_has "$(cat "$T/m.hdr")" "Content-Type: text/plain; version=0.0.4" "the exposition format's content type"
run_rc promtool check metrics <"$T/metrics.txt"
expect_rc 0 "promtool check metrics: $OUT $ERR"
M=$(cat "$T/metrics.txt")
expect_line "$M" "^radlink_messages_total\{listener=\"127.0.0.1:$PORT\",type=\"ORM\^O01\",outcome=\"accepted\"\} 3$" "orders by listener, type, outcome"
expect_line "$M" "^radlink_messages_total\{listener=\"127.0.0.1:$PORT\",type=\"ADT\^A08\",outcome=\"accepted\"\} 2$" "ADTs"
expect_line "$M" '^radlink_ack_latency_seconds_count 5$' "an ACK latency per frame"
expect_line "$M" '^radlink_ack_latency_seconds_bucket\{le="\+Inf"\} 5$' "the histogram's +Inf bucket"
# every commit timed: as many observations as commits (the five messages' at least)
commits=$(printf '%s\n' "$M" | sed -n 's/^radlink_commits_total //p')
timed=$(printf '%s\n' "$M" | sed -n 's/^radlink_store_commit_seconds_count //p')
[ -n "$commits" ] && [ "$commits" -ge 5 ] && [ "$timed" = "$commits" ] ||
    fail "store commits timed: $timed of $commits"
expect_line "$M" '^radlink_store_commit_seconds_sum [0-9.e+-]+$' "the commits' total time"
expect_line "$M" '^radlink_dicom_requests_total\{service="find",outcome="success"\} 1$' "the C-FIND"
expect_line "$M" '^radlink_dicom_request_seconds_count\{service="find"\} 1$' "the C-FIND's latency"
expect_line "$M" '^radlink_dicom_requests_total\{service="store",outcome="success"\} 2$' "the C-STOREs"
expect_line "$M" '^radlink_dicom_request_seconds_count\{service="store"\} 2$' "the C-STOREs' latency"
expect_line "$M" '^radlink_queue_depth\{destination="ris-down"\} 3$' "three orders wait for the RIS"
expect_line "$M" '^radlink_queue_oldest_age_seconds\{destination="ris-down"\} 0\.[0-9]+|^radlink_queue_oldest_age_seconds\{destination="ris-down"\} [1-9]' "the oldest one's age"
expect_line "$M" '^radlink_queue_parked\{destination="ris-down"\} 0$' "none parked"
expect_line "$M" '^radlink_messages_logged 5$' "the message log's size"
expect_eq "$(awk '/^radlink_studies\{/ {n += $2} END {print n}' "$T/metrics.txt")" 1 "one study indexed"
expect_line "$M" '^radlink_studies_unmatched 0$' "the exception list is empty"
expect_line "$M" '^radlink_workers [0-9]+$' "workers"
expect_line "$M" '^radlink_store_map_bytes 17179869184$' "the map size"
expect_line "$M" '^radlink_store_used_bytes [1-9][0-9]*$' "the store's use"
expect_line "$M" '^process_resident_memory_bytes [1-9][0-9]*$' "the engine's RSS"
for secret in SECRET P-SECRET 9001 1.2.999.77; do
    expect_not_has "$M" "$secret" "no patient data in /metrics ($secret)"
done

note "a request body past the limit is refused unread"
head -c 100000 /dev/zero | tr '\0' x >"$T/big"
run_rc curl -s -o /dev/null -w '%{http_code}' --data-binary "@$T/big" "$H/metrics"
expect_eq "$OUT" 413 "a 100 kB body"
stop_engine

note "HTTPS: the MLLP listeners' certificate settings, client certificate required"
make_pki "$T/pki" server client
cat >"$T/tls.xml" <<XML
<radlink>
  <http>
    <tls cert="pki/server.pem" key="pki/server.key" ca="pki/ca.pem" verify-client="true"/>
  </http>
</radlink>
XML
echo 'pass-word-9' | "$RADLINK" user add tina --role viewer --data "$T/var" --password-stdin >/dev/null
PORT= DICOM_PORT= HTTP_PORT= # ports the system picks again
start_engine --config "$T/tls.xml"
P="$T/pki"
run_rc curl -s --cacert "$P/ca.pem" --cert "$P/client.pem" --key "$P/client.key" "https://localhost:$HTTP_PORT/readyz"
expect_rc 0 "curl over TLS: $ERR"
expect_has "$OUT" "ready" "readyz over HTTPS"
run_rc curl -s --cacert "$P/ca.pem" --cert "$P/client.pem" --key "$P/client.key" "https://localhost:$HTTP_PORT/metrics"
expect_line "$OUT" '^radlink_messages_logged 5$' "metrics over HTTPS"
run_rc curl -s -D - -o /dev/null --cacert "$P/ca.pem" --cert "$P/client.pem" --key "$P/client.key" \
    -H 'Content-Type: application/json' --data '{"user": "tina", "password": "pass-word-9"}' \
    "https://localhost:$HTTP_PORT/api/login"
expect_line "$OUT" '^Set-Cookie: radlink_session=[0-9a-f]{64}; .*HttpOnly; SameSite=Strict; Secure' "a console login over HTTPS: the cookie is Secure"
run_rc curl -s --cacert "$P/ca.pem" "https://localhost:$HTTP_PORT/healthz"
[ "$RC" != 0 ] || fail "a client without a certificate was served"
run_rc curl -s --cacert "$P/ca.pem" --cert "$P/stranger.pem" --key "$P/stranger.key" "https://localhost:$HTTP_PORT/healthz"
[ "$RC" != 0 ] || fail "a stranger's certificate was accepted"
run_rc curl -s --max-time "$(scaled 5)" "http://127.0.0.1:$HTTP_PORT/healthz"
expect_not_has "$OUT" "ok" "plain HTTP on the TLS port is not served"
stop_engine

note "a port in use: the engine says so and does not start"
# a listener on a port the system picks, held for the test's life
python3 -c 'import socket,time; s=socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(); print(s.getsockname()[1], flush=True); time.sleep(86400)' >"$T/blocker.out" &
PIDS="$PIDS $!"
wait_until 10 "[ -s '$T/blocker.out' ]"
HTTP_PORT=$(cat "$T/blocker.out")
run_rc "$RADLINK" serve --data "$T/var2" --mllp auto --dicom 0 --http "$HTTP_PORT"
expect_rc 1 "a busy HTTP port"
expect_has "$ERR" "http listener 127.0.0.1:$HTTP_PORT: Address already in use" "names the HTTP listener"
note "radlink user: the console's users file"
U="$T/udata"
mkdir -m 700 "$U"
run_rc sh -c "echo 'pass-word-1' | '$RADLINK' user add alice --role operator --data '$U' --password-stdin"
expect_rc 0 "user add"
expect_has "$OUT" "user alice added" "user add says so"
run_rc sh -c "echo 'pass-word-2' | '$RADLINK' user add bob --role viewer --data '$U' --password-stdin"
run_rc sh -c "echo 'pass-word-3' | '$RADLINK' user add alice --role admin --data '$U' --password-stdin"
expect_rc 1 "a user added twice"
expect_has "$ERR" "user alice exists" "says who exists"
run_rc sh -c "echo short | '$RADLINK' user add carol --role admin --data '$U' --password-stdin"
expect_rc 3 "a short password"
run_rc "$RADLINK" user add dave --role root --data "$U"
expect_rc 2 "an unknown role"
run_rc "$RADLINK" user list --data "$U"
expect_line "$OUT" "^alice +operator$" "alice listed"
expect_line "$OUT" "^bob +viewer$" "bob listed"
expect_not_has "$OUT" "pass-word" "no password shown"
expect_eq "$(stat -c %a "$U/users")" 600 "the users file is the engine user's alone"
expect_not_has "$(cat "$U/users")" "pass-word" "passwords are stored hashed"
run_rc "$RADLINK" user del bob --data "$U"
expect_rc 0 "user del"
run_rc "$RADLINK" user list --data "$U"
expect_not_has "$OUT" "bob" "bob removed"
echo "PASS"
