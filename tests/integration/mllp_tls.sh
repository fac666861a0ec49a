#!/bin/sh
# MLLP over TLS: a CA, server and client certificates made now by openssl; a
# TLS listener that verifies client certificates beside a plain one; radlink
# send and openssl s_client as clients; refusals for a missing client
# certificate, one from another CA, an untrusted server, a wrong server name
# and TLS 1.1 (TLS 1.2 served on the same port), each with the reason its
# client sees; forwarding to the TLS listener from a second engine.
. "$(dirname "$0")/lib.sh"
H=$DATA/hl7
P=$T/pki
make_pki "$P" server client

# both listeners on ports the system picks (the file says auto); start_engine
# reads the first (TLS) one back from status, the plain one is read here
cat >"$T/tls.xml" <<XML
<radlink>
  <mllp read-timeout="3">
    <listen bind="127.0.0.1" port="auto">
      <tls cert="$P/server.pem" key="$P/server.key" ca="$P/ca.pem" verify-client="true"/>
    </listen>
    <listen bind="127.0.0.1" port="auto"/>
  </mllp>
</radlink>
XML
start_engine --config "$T/tls.xml"
TLS_PORT=$PORT
PLAIN_PORT=$("$RADLINK" status --data "$T/var" |
    sed -n 's/^listening mllp [^,]*, 127\.0\.0\.1:\([0-9]*\),.*/\1/p')
[ -n "$PLAIN_PORT" ] || fail "status names the plain listener's port: $("$RADLINK" status --data "$T/var")"
expect_line "$("$RADLINK" status --data "$T/var")" \
    "^listening mllp 127\.0\.0\.1:$TLS_PORT tls, 127\.0\.0\.1:$PLAIN_PORT," "status: a TLS listener and a plain one"

run_rc "$RADLINK" send --to "127.0.0.1:$TLS_PORT" --ca "$P/ca.pem" --cert "$P/client.pem" \
    --key "$P/client.key" "$H/orm_o01_nw.hl7" "$H/batch.hl7"
expect_rc 0 "send over TLS with a client certificate"
expect_eq "$(echo "$OUT" | grep -c 'MSA|AA|')" 4 "four AA over TLS"

# framed CTRL: adt_a08.hl7 with control ID CTRL, MLLP-framed, in $T/CTRL.mllp
framed() {
    { printf '\013'; sed "s/MSG00002/$1/" "$H/adt_a08.hl7"; printf '\034\015'; } >"$T/$1.mllp"
}
# s_client_hl7 CTRL [OPTIONS]: openssl s_client (a TLS peer nobody here
# wrote) with the client certificate sends the framed message; its input
# stays open until an ACK came back (or a limit), then it ends. Output in
# $T/CTRL.out and .err, exit status in RC.
s_client_hl7() {
    c=$1
    shift
    framed "$c"
    : >"$T/$c.out"
    set +e
    { cat "$T/$c.mllp"; wait_until 10 "grep -aq 'MSA|' '$T/$c.out'"; } |
        timeout "$(scaled 20)" openssl s_client -connect "127.0.0.1:$TLS_PORT" -CAfile "$P/ca.pem" \
            -cert "$P/client.pem" -key "$P/client.key" -verify_return_error -quiet -no_ign_eof "$@" \
            >"$T/$c.out" 2>"$T/$c.err"
    RC=$?
    set -e
}
s_client_hl7 SCLIENT
expect_rc 0 "openssl s_client: $(cat "$T/SCLIENT.err")"
expect_has "$(cat -v "$T/SCLIENT.out")" "MSA|AA|SCLIENT" "openssl s_client gets AA"

# refused peers: the engine, which has just answered the allowed one, says
# why to each (what openssl s_client sees: the alert it sent)
refused_s_client() { # refused_s_client NAME [OPTIONS]: a peer's handshake; output in $T/NAME.sc
    n=$1
    shift
    set +e
    timeout "$(scaled 20)" openssl s_client -connect "127.0.0.1:$TLS_PORT" -CAfile "$P/ca.pem" \
        -quiet "$@" </dev/null >"$T/$n.sc" 2>&1
    RC=$?
    set -e
}
run_rc "$RADLINK" send --to "127.0.0.1:$TLS_PORT" --ca "$P/ca.pem" "$H/adt_a08.hl7"
expect_rc 1 "no client certificate"
# by the time radlink send reads, the engine's alert may be there or only its close
expect_line "$ERR" "alert certificate required|connection closed by the peer" "the engine refused it"
refused_s_client nocert
[ "$RC" != 0 ] || fail "s_client without a certificate: exit status 0: $(cat "$T/nocert.sc")"
expect_has "$(cat "$T/nocert.sc")" "alert certificate required" "the engine's alert: a certificate is required"
run_rc "$RADLINK" send --to "127.0.0.1:$TLS_PORT" --ca "$P/ca.pem" --cert "$P/stranger.pem" \
    --key "$P/stranger.key" "$H/adt_a08.hl7"
expect_rc 1 "client certificate from another CA"
expect_line "$ERR" "alert unknown ca|connection closed by the peer" "the engine refused it"
refused_s_client stranger -cert "$P/stranger.pem" -key "$P/stranger.key"
[ "$RC" != 0 ] || fail "s_client with a stranger's certificate: exit status 0: $(cat "$T/stranger.sc")"
expect_has "$(cat "$T/stranger.sc")" "alert unknown ca" "the engine's alert: unknown CA"
run_rc "$RADLINK" send --to "127.0.0.1:$TLS_PORT" --ca "$P/stranger.pem" --cert "$P/client.pem" \
    --key "$P/client.key" "$H/adt_a08.hl7"
expect_rc 1 "server not trusted by the client"
expect_has "$ERR" "certificate verify failed" "the client says why"
run_rc "$RADLINK" send --to "localhost:$TLS_PORT" --server-name wrong.example --ca "$P/ca.pem" \
    --cert "$P/client.pem" --key "$P/client.key" "$H/adt_a08.hl7"
expect_rc 1 "server name mismatch"
expect_has "$ERR" "hostname mismatch" "the client says why"
# TLS 1.1, ciphers it may use allowed on the client's side: the engine
# answers with a protocol version alert; TLS 1.2 on the same port is served
refused_s_client tls11 -tls1_1 -cipher 'DEFAULT:@SECLEVEL=0' -cert "$P/client.pem" -key "$P/client.key"
[ "$RC" != 0 ] || fail "TLS 1.1 must be refused: $(cat "$T/tls11.sc")"
expect_has "$(cat "$T/tls11.sc")" "alert protocol version" "the engine's alert: protocol version"
s_client_hl7 TLS12 -tls1_2
expect_rc 0 "openssl s_client, TLS 1.2: $(cat "$T/TLS12.err")"
expect_has "$(cat -v "$T/TLS12.out")" "MSA|AA|TLS12" "TLS 1.2 served"

# a plain TCP listener beside the TLS one
run_rc "$RADLINK" send --to "127.0.0.1:$PLAIN_PORT" "$H/lf_terminators.hl7"
expect_rc 0 "plain listener beside TLS"
# plain bytes to the TLS port get nowhere, and the engine goes on
run_rc "$RADLINK" send --timeout 2 --to "127.0.0.1:$TLS_PORT" "$H/adt_a08.hl7"
expect_rc 1 "plain client on the TLS port"
expect_has "$ERR" "connection closed before the ACK" "no ACK to plain bytes"
run_rc "$RADLINK" send --to "127.0.0.1:$TLS_PORT" --ca "$P/ca.pem" --cert "$P/client.pem" \
    --key "$P/client.key" "$H/custom_separators.hl7"
expect_rc 0 "TLS still served"
# a connection that never starts its handshake holds its slot for the read
# timeout (3 s here), not for the idle timeout (600 s): closed after 3 s,
# and within a limit
/usr/bin/python3 "$SRC/tests/integration/silent_conns.py" 127.0.0.1 "$TLS_PORT" 1 \
    $((3 + $(scaled 3))) >"$T/silent.out"
s=$(sed -n 's/^closed after \([0-9.]*\) s$/\1/p' "$T/silent.out")
[ -n "$s" ] || fail "a silent TLS connection closed after the read timeout: $(cat "$T/silent.out")"
awk -v s="$s" 'BEGIN { exit !(s >= 3.0) }' || fail "a silent TLS connection closed after $s s, before the read timeout"

# Forwarding over TLS: a second engine whose config names the first one's
# TLS listener as a destination (client certificate, CA, server name).
cat >"$T/up.xml" <<XML
<radlink>
  <data dir="$T/up"/>
  <routes file="up-routes.xml"/>
  <destinations>
    <destination name="hub" host="127.0.0.1" port="$TLS_PORT" ack-timeout="5">
      <tls ca="pki/ca.pem" cert="pki/client.pem" key="pki/client.key" server-name="localhost"/>
    </destination>
  </destinations>
</radlink>
XML
printf '<routes><route name="all"><forward to="hub"/></route></routes>\n' >"$T/up-routes.xml"
"$RADLINK" serve --mllp auto --http 0 --dicom 0 --config "$T/up.xml" --init >"$T/up.log" 2>&1 &
UP_PID=$!
PIDS="$PIDS $UP_PID"
wait_cmd 20 "^listening mllp" "$RADLINK" status --data "$T/up"
UP_PORT=$("$RADLINK" status --data "$T/up" | sed -n 's/^listening mllp [^ ,]*:\([0-9]*\).*/\1/p')
run_rc "$RADLINK" send --to "127.0.0.1:$UP_PORT" "$H/oru_r01_20obx.hl7"
expect_rc 0 "upstream accepts"
expect_has "$OUT" "MSA|AA|" "the upstream's AA"
# the hub logs it, and the upstream's queue empties (the hub's AA came back)
wait_cmd 20 "ORU\\^R01.*127\\.0\\.0\\.1:" "$RADLINK" msg list --data "$T/var" --type ORU
wait_cmd 20 "^\\(0 pending, 0 parked\\)$" "$RADLINK" queue list --data "$T/up" --dest hub
kill -TERM "$UP_PID"
wait_exit "$UP_PID" 10
expect_rc 0 "the upstream engine stopped cleanly: $(tail -5 "$T/up.log")"
stop_engine

run_rc "$RADLINK" msg list --data "$T/var"
expect_has "$OUT" "127.0.0.1:" "peers logged"
# four over TLS, SCLIENT, TLS12, the plain listener's, custom_separators,
# and the forwarded ORU
expect_eq "$(msg_count accepted)" 9 "8 accepted, and the forwarded ORU"
echo ok
