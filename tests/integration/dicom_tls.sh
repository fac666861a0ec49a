#!/bin/sh
# DICOM over TLS, and a listener that silent connections cannot stall.
# A CA and certificates made now by openssl; radlink's TLS listener (client
# certificates required) beside its plain one, bound to 127.0.0.1 only;
# Orthanc as a PACS that speaks only TLS. DCMTK's echoscu, findscu and
# storescu in +tls mode are accepted with a good certificate and refused
# without one, with one from another CA, in plain text and below TLS 1.2; a
# study goes to Orthanc over TLS and is verified there (storage commitment
# report back over TLS, C-FIND). Silent TCP connections on either port do
# not delay other peers, are closed after the association timeout, and one
# address cannot hold more than max-per-address connections.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/mwl_lib.sh"
# The association timeout: a connection that says nothing is closed after
# it. What must not wait for it (a refusal, answers beside silent
# connections) is bounded by it, less a second; both scale with the build.
ATO=$(scaled 5)
P=$T/pki
make_pki "$P" radlink modality pacs

DICOM_PORT=$(free_port)
TLS_PORT=$(free_port)
while [ "$TLS_PORT" = "$DICOM_PORT" ]; do TLS_PORT=$(free_port); done
# Orthanc: TLS only, with its own certificate, trusting our CA; radlink is
# declared to it at radlink's TLS port
ORTHANC_EXTRA="\"DicomTlsEnabled\": true, \"DicomTlsCertificate\": \"$P/pacs.pem\",
  \"DicomTlsPrivateKey\": \"$P/pacs.key\", \"DicomTlsTrustedCertificates\": \"$P/ca.pem\",
  \"DicomTlsRemoteCertificateRequired\": true,"
ORTHANC_RADLINK="{ \"AET\": \"RADLINK\", \"Host\": \"127.0.0.1\", \"Port\": $TLS_PORT, \"UseDicomTls\": true }"
start_orthanc pacs false
cat >"$T/cfg.xml" <<XML
<radlink>
  <dicom bind="127.0.0.1" association-timeout="$ATO" max-per-address="4">
    <tls port="$TLS_PORT" cert="pki/radlink.pem" key="pki/radlink.key" ca="pki/ca.pem"
         verify-client="true"/>
    <pacs ae="ORTHANC" host="127.0.0.1" port="$ORTHANC_DICOM" commit-timeout="20">
      <tls ca="pki/ca.pem" cert="pki/radlink.pem" key="pki/radlink.key"/>
    </pacs>
  </dicom>
  <jobs workers="1" study-stable="$STABLE"/>
</radlink>
XML
note "a TLS listener that cannot start says why, and nothing starts"
sed 's#pki/radlink.pem" key#pki/missing.pem" key#' "$T/cfg.xml" >"$T/bad.xml"
run_rc "$RADLINK" serve --http 0 --data "$T/bad" --mllp auto --dicom "$DICOM_PORT" --config "$T/bad.xml"
expect_rc 1 "a missing certificate"
expect_has "$ERR" "DICOM TLS: certificate $T/pki/missing.pem" "names the file"
sed "s#<tls port=\"$TLS_PORT\"#<tls port=\"$DICOM_PORT\"#" "$T/cfg.xml" >"$T/bad.xml"
run_rc "$RADLINK" serve --http 0 --data "$T/bad" --mllp auto --dicom "$DICOM_PORT" --config "$T/bad.xml"
expect_rc 1 "the TLS port is the plain port"
expect_has "$ERR" "the TLS port $DICOM_PORT is the plain port too" "says why"

start_engine --config "$T/cfg.xml"
wait_workers 1 10
expect_line "$(cat "$ENGINE_LOG")" "^dicom.tls=127.0.0.1:$TLS_PORT verify-client=true$" \
    "serve prints the TLS listener"
expect_line "$("$RADLINK" status --data "$T/var")" "^listening mllp .*, dicom 127.0.0.1:$DICOM_PORT tls $TLS_PORT," \
    "radlink status shows both DICOM listeners"

note "both listeners bind 127.0.0.1 only, as configured"
LISTEN=$(/usr/bin/python3 - "$DICOM_PORT" "$TLS_PORT" <<'PY'
import sys
ports = {int(p) for p in sys.argv[1:]}
for line in open("/proc/net/tcp").read().splitlines()[1:]:
    f = line.split()
    addr, port = f[1].split(":")
    if f[3] == "0A" and int(port, 16) in ports:
        a = bytes.fromhex(addr)[::-1]
        print("%s:%d" % (".".join(str(b) for b in a), int(port, 16)))
PY
)
expect_eq "$(echo "$LISTEN" | sort | tr '\n' ' ')" \
    "$(printf '127.0.0.1:%s\n127.0.0.1:%s\n' "$DICOM_PORT" "$TLS_PORT" | sort | tr '\n' ' ')" \
    "listening sockets"

GOOD="+tls $P/modality.key $P/modality.pem +cf $P/ca.pem"
note "echoscu +tls with a certificate signed by the CA"
run_rc echoscu -aec RADLINK $GOOD 127.0.0.1 "$TLS_PORT"
expect_rc 0 "C-ECHO over TLS"
run_rc echoscu -aec RADLINK 127.0.0.1 "$DICOM_PORT"
expect_rc 0 "C-ECHO on the plain port beside it"

note "findscu +tls: the worklist over TLS"
orm MSG1 NW ACC1 SPS1 CT CT01 202611241030 "DOE^JANE" PAT1 >"$T/order.hl7"
send_hl7 "$T/order.hl7"
expect_has "$(cat "$T/order.hl7.out")" "MSA|AA|MSG1" "order accepted"
query q <<'DUMP'
(0008,0050) SH []
(0010,0010) PN []
(0010,0020) LO []
(0040,0100) SQ (Sequence with explicit length #=1)
  (fffe,e000) na (Item with explicit length #=3)
    (0008,0060) CS [CT]
    (0040,0001) AE []
    (0040,0009) SH []
  (fffe,e00d) na (ItemDelimitationItem for re-encoding)
(fffe,e0dd) na (SequenceDelimitationItem for re-encoding)
DUMP
find_wl "$TLS_PORT" q $GOOD
expect_eq "$FIND_RC" 0 "findscu over TLS: $(tail -3 "$T/q.rsp")"
expect_eq "$MATCHES" "ACC1/SPS1 " "the order's step over TLS"

note "storescu +tls: a study in, to Orthanc over TLS, verified there"
make_study "$T/study" 1 3 1.2.826.0.1.3680043.10.1.77 ACC1 PAT1 "DOE^JANE"
run_rc storescu -aec RADLINK $GOOD 127.0.0.1 "$TLS_PORT" "$T/study"/i1.dcm "$T/study"/i2.dcm "$T/study"/i3.dcm
expect_rc 0 "C-STORE over TLS"
wait_job 1 done 60
expect_eq "$(orthanc_tags 1.2.826.0.1.3680043.10.1.77 SOPInstanceUID | tr '\n' ' ')" \
    "1.2.826.0.1.3680043.10.1.77.1.1 1.2.826.0.1.3680043.10.1.77.1.2 1.2.826.0.1.3680043.10.1.77.1.3 " \
    "Orthanc holds the study, received over TLS"
run_rc "$RADLINK" jobs show --data "$T/var" 1
expect_has "$OUT" "sent to ORTHANC@127.0.0.1:$ORTHANC_DICOM (3, committed and verified)" \
    "the job verified the study at Orthanc (commitment report and C-FIND over TLS)"

note "MPPS over TLS (dcmjs-dimse): the step leaves the worklist"
. "$(dirname "$0")/mpps_lib.sh"
{ echo '['; create 1.2.826.0.1.3680043.10.1.78 ACC1 RPACC1 SPS1 1.2.826.0.1.3680043.10.1.77; echo ','
  finish 1.2.826.0.1.3680043.10.1.78 COMPLETED; echo ']'; } >"$T/pps.json"
MPPS_TLS_KEY=$P/modality.key MPPS_TLS_CERT=$P/modality.pem MPPS_TLS_CA=$P/ca.pem \
    run_rc node "$SRC/tests/js/mpps_scu.js" 127.0.0.1 "$TLS_PORT" RADLINK CT01 "$T/pps.json"
expect_rc 0 "mpps_scu over TLS ($ERR)"
expect_line "$OUT" "^create 1.2.826.0.1.3680043.10.1.78 0000" "N-CREATE over TLS accepted"
expect_line "$OUT" "^set 1.2.826.0.1.3680043.10.1.78 0000" "N-SET over TLS accepted"
find_wl "$TLS_PORT" q $GOOD
expect_eq "$MATCHES" "" "the completed step is no longer offered"

note "refused: no client certificate, another CA, plain text, TLS 1.1"
run_rc echoscu -aec RADLINK +tla +cf "$P/ca.pem" 127.0.0.1 "$TLS_PORT"
[ "$RC" != 0 ] || fail "echoscu without a client certificate was accepted"
run_rc echoscu -aec RADLINK +tls "$P/stranger.key" "$P/stranger.pem" +cf "$P/ca.pem" 127.0.0.1 "$TLS_PORT"
[ "$RC" != 0 ] || fail "a certificate from another CA was accepted"
run_rc storescu -aec RADLINK +tls "$P/stranger.key" "$P/stranger.pem" +cf "$P/ca.pem" 127.0.0.1 "$TLS_PORT" "$T/study/i1.dcm"
[ "$RC" != 0 ] || fail "storescu with a certificate from another CA was accepted"
t0=$(date +%s%N)
run_rc echoscu -aec RADLINK -to 20 -ta 20 127.0.0.1 "$TLS_PORT"
ms=$((($(date +%s%N) - t0) / 1000000))
[ "$RC" != 0 ] || fail "plain DICOM on the TLS port was accepted"
[ "$ms" -lt $(((ATO - 1) * 1000)) ] ||
    fail "plain DICOM on the TLS port took $ms ms to be refused: held until the association timeout ($ATO s)?"
echo | timeout "$(scaled 10)" openssl s_client -connect "127.0.0.1:$TLS_PORT" -tls1_1 -cipher 'DEFAULT:@SECLEVEL=0' \
    -cert "$P/modality.pem" -key "$P/modality.key" >"$T/tls11.out" 2>&1 && fail "TLS 1.1 was accepted"
run_rc echoscu -aec RADLINK $GOOD 127.0.0.1 "$TLS_PORT"
expect_rc 0 "a good peer after the refusals"
run_rc "$RADLINK" status --data "$T/var"
expect_line "$OUT" "^dicom tls port $TLS_PORT: refused busy 0, over max-per-address 0, failed before the association request [4-9]" \
    "status counts the refused handshakes"

note "silent connections hold nobody up"
for port in "$TLS_PORT" "$DICOM_PORT"; do
    /usr/bin/python3 "$(dirname "$0")/silent_conns.py" 127.0.0.1 "$port" 3 $((ATO + $(scaled 10))) >"$T/silent.$port" &
    PIDS="$PIDS $!"
done
wait_until 10 "grep -q ready $T/silent.$TLS_PORT && grep -q ready $T/silent.$DICOM_PORT"
t0=$(date +%s%N)
run_rc echoscu -aec RADLINK $GOOD 127.0.0.1 "$TLS_PORT"
expect_rc 0 "C-ECHO over TLS beside 3 silent connections"
run_rc echoscu -aec RADLINK 127.0.0.1 "$DICOM_PORT"
expect_rc 0 "C-ECHO beside 3 silent connections"
find_wl "$DICOM_PORT" q
expect_eq "$FIND_RC" 0 "C-FIND beside 3 silent connections"
expect_has "$FINAL" "Success" "C-FIND answered in full beside 3 silent connections"
ms=$((($(date +%s%N) - t0) / 1000000))
[ "$ms" -lt $(((ATO - 1) * 1000)) ] ||
    fail "three answers beside silent connections took $ms ms: held until they were closed ($ATO s)?"
note "answered in $ms ms"
wait_until $((ATO + 10)) "[ \$(grep -c closed $T/silent.$TLS_PORT) = 3 ] && [ \$(grep -c closed $T/silent.$DICOM_PORT) = 3 ]"
for port in "$TLS_PORT" "$DICOM_PORT"; do
    for s in $(sed -n 's/closed after \([0-9]*\)\..*/\1/p' "$T/silent.$port"); do
        [ "$s" -ge $((ATO - 1)) ] && [ "$s" -le $((ATO + $(scaled 3))) ] ||
            fail "a silent connection on $port was closed after $s s (association timeout $ATO s)"
    done
done

note "max-per-address: four silent connections from one address, the fifth is turned away"
/usr/bin/python3 "$(dirname "$0")/silent_conns.py" 127.0.0.1 "$DICOM_PORT" 4 $((ATO + $(scaled 10))) >"$T/silent.four" &
PIDS="$PIDS $!"
wait_until 10 "grep -q ready $T/silent.four"
run_rc echoscu -aec RADLINK 127.0.0.1 "$DICOM_PORT"
[ "$RC" != 0 ] || fail "a fifth connection from one address was accepted"
run_rc "$RADLINK" status --data "$T/var"
expect_line "$OUT" "^dicom plain port $DICOM_PORT: refused busy 0, over max-per-address [1-9]" \
    "status counts the connections over max-per-address"
wait_until $((ATO + 10)) "[ \$(grep -c closed $T/silent.four) = 4 ]"
run_rc echoscu -aec RADLINK 127.0.0.1 "$DICOM_PORT"
expect_rc 0 "the address gets in again once the silent ones are closed"
stop_engine
echo "PASS dicom_tls"
