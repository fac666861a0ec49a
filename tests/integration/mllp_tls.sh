#!/bin/sh
# MLLP over TLS: a CA, server and client certificates made now by openssl; a
# TLS listener that verifies client certificates beside a plain one; radlink
# send and openssl s_client as clients; refusals for a missing client
# certificate, an untrusted server and TLS below 1.2.
. "$(dirname "$0")/lib.sh"
H=$DATA/hl7
P=$T/pki
make_pki "$P" server client

TLS_PORT=$(free_port)
PLAIN_PORT=$(free_port)
cat >"$T/tls.xml" <<XML
<radlink>
  <mllp read-timeout="3">
    <listen bind="127.0.0.1" port="$TLS_PORT">
      <tls cert="$P/server.pem" key="$P/server.key" ca="$P/ca.pem" verify-client="true"/>
    </listen>
    <listen bind="127.0.0.1" port="$PLAIN_PORT"/>
  </mllp>
</radlink>
XML
PORTS_FROM_CONFIG=1 start_engine --config "$T/tls.xml"
expect_has "$(cat "$ENGINE_LOG")" "listener=127.0.0.1:$TLS_PORT tls" "TLS listener up"

run_rc "$RADLINK" send --to "127.0.0.1:$TLS_PORT" --ca "$P/ca.pem" --cert "$P/client.pem" \
    --key "$P/client.key" "$H/orm_o01_nw.hl7" "$H/batch.hl7"
expect_rc 0 "send over TLS with a client certificate"
expect_eq "$(echo "$OUT" | grep -c 'MSA|AA|')" 4 "four AA over TLS"

# openssl s_client: a TLS peer nobody here wrote
printf '\013' >"$T/framed"
cat "$H/adt_a08.hl7" >>"$T/framed"
printf '\034\015' >>"$T/framed"
(cat "$T/framed"; sleep 2) | timeout 10 openssl s_client -connect "127.0.0.1:$TLS_PORT" \
    -CAfile "$P/ca.pem" -cert "$P/client.pem" -key "$P/client.key" -verify_return_error -quiet \
    >"$T/s_client.out" 2>"$T/s_client.err" || true
expect_has "$(cat -v "$T/s_client.out")" "MSA|AA|MSG00002" "openssl s_client gets AA"

run_rc "$RADLINK" send --to "127.0.0.1:$TLS_PORT" --ca "$P/ca.pem" "$H/adt_a08.hl7"
expect_rc 1 "no client certificate"
run_rc "$RADLINK" send --to "127.0.0.1:$TLS_PORT" --ca "$P/ca.pem" --cert "$P/stranger.pem" \
    --key "$P/stranger.key" "$H/adt_a08.hl7"
expect_rc 1 "client certificate from another CA"
run_rc "$RADLINK" send --to "127.0.0.1:$TLS_PORT" --ca "$P/stranger.pem" --cert "$P/client.pem" \
    --key "$P/client.key" "$H/adt_a08.hl7"
expect_rc 1 "server not trusted by the client"
expect_has "$ERR" "certificate verify failed" "the client says why"
run_rc "$RADLINK" send --to "localhost:$TLS_PORT" --server-name wrong.example --ca "$P/ca.pem" \
    --cert "$P/client.pem" --key "$P/client.key" "$H/adt_a08.hl7"
expect_rc 1 "server name mismatch"
set +e
echo | timeout 10 openssl s_client -connect "127.0.0.1:$TLS_PORT" -tls1_1 -cipher 'DEFAULT:@SECLEVEL=0' \
    -CAfile "$P/ca.pem" -cert "$P/client.pem" -key "$P/client.key" >"$T/old.out" 2>&1
old_rc=$?
set -e
[ $old_rc != 0 ] || fail "TLS 1.1 must be refused"
expect_has "$(cat "$ENGINE_LOG")" "mllp.tls_failed" "handshake failures logged"

# a plain TCP listener beside the TLS one
run_rc "$RADLINK" send --to "127.0.0.1:$PLAIN_PORT" "$H/lf_terminators.hl7"
expect_rc 0 "plain listener beside TLS"
# plain bytes to the TLS port get nowhere, and the engine goes on
run_rc "$RADLINK" send --timeout 2 --to "127.0.0.1:$TLS_PORT" "$H/adt_a08.hl7"
expect_rc 1 "plain client on the TLS port"
run_rc "$RADLINK" send --to "127.0.0.1:$TLS_PORT" --ca "$P/ca.pem" --cert "$P/client.pem" \
    --key "$P/client.key" "$H/custom_separators.hl7"
expect_rc 0 "TLS still served"
# a connection that never starts its handshake holds its slot for the read
# timeout (3 s here), not for the idle timeout
/usr/bin/python3 "$SRC/tests/integration/silent_conns.py" 127.0.0.1 "$TLS_PORT" 1 12 >"$T/silent.out"
expect_line "$(cat "$T/silent.out")" "^closed after [3-5]\.[0-9] s$" "a silent TLS connection closed after the read timeout"

# Forwarding over TLS: a second engine whose config names the first one's
# TLS listener as a destination (client certificate, CA, server name).
UP_PORT=$(free_port)
cat >"$T/up.xml" <<XML
<radlink>
  <data dir="$T/up"/>
  <mllp><listen port="$UP_PORT"/></mllp>
  <routes file="up-routes.xml"/>
  <destinations>
    <destination name="hub" host="127.0.0.1" port="$TLS_PORT" ack-timeout="5">
      <tls ca="pki/ca.pem" cert="pki/client.pem" key="pki/client.key" server-name="localhost"/>
    </destination>
  </destinations>
</radlink>
XML
printf '<routes><route name="all"><forward to="hub"/></route></routes>\n' >"$T/up-routes.xml"
"$RADLINK" serve --http 0 --dicom 0 --config "$T/up.xml" >"$T/up.log" 2>&1 &
UP_PID=$!
PIDS="$PIDS $UP_PID"
wait_for "$T/up.log" "serve.start " 10
run_rc "$RADLINK" send --to "127.0.0.1:$UP_PORT" "$H/oru_r01_20obx.hl7"
expect_rc 0 "upstream accepts"
wait_for "$T/up.log" "forward.delivered dest=hub" 10
kill -TERM "$UP_PID"
wait_exit "$UP_PID" 10
stop_engine
run_rc "$RADLINK" msg list --data "$T/var" --type ORU
expect_line "$OUT" "ORU\\^R01.*127\\.0\\.0\\.1:" "the forwarded ORU arrived over TLS"

run_rc "$RADLINK" msg list --data "$T/var"
expect_has "$OUT" "127.0.0.1:" "peers logged"
expect_eq "$(msg_count accepted)" 8 "7 accepted, and the forwarded ORU"
echo ok
