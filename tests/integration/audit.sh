#!/bin/sh
# The audit trail (IHE ATNA, DICOM PS3.15 A.5), shipped to Debian's rsyslog
# over syslog TLS (RFC 5425, rsyslog-gnutls) with client certificates.
# A day in the department: an order and a patient update from the RIS
# (mllp_send), a worklist query (findscu), a performed procedure step
# (dcmjs-dimse), a misspelt study from the modality (storescu) corrected
# and sent to Orthanc, a peer without a certificate on the DICOM TLS port,
# a route file reloaded. Every event is in `radlink audit list`, each one
# arrives at the collector, and each one is valid against the PS3.15
# schema (xmllint). The collector stopped and started again loses nothing.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/mwl_lib.sh"
. "$(dirname "$0")/mpps_lib.sh"
P=$T/pki
make_pki "$P" radlink collector modality
SCHEMA=$DATA/dicom-audit-message.rng

# rsyslog as the collector: TLS only, a client certificate from our CA
# required; each message's text (the AuditMessage) one line in a file
SYSLOG_PORT=$(free_port)
mkdir -p "$T/rsyslog"
cat >"$T/rsyslog.conf" <<CONF
global(maxMessageSize="256k" workDirectory="$T/rsyslog"
       defaultNetstreamDriver="gtls"
       defaultNetstreamDriverCAFile="$P/ca.pem"
       defaultNetstreamDriverCertFile="$P/collector.pem"
       defaultNetstreamDriverKeyFile="$P/collector.key")
module(load="imtcp" streamDriver.name="gtls" streamDriver.mode="1"
       streamDriver.authMode="x509/certvalid")
template(name="msgonly" type="string" string="%msg%\n")
ruleset(name="audit") {
  action(type="omfile" file="$T/collector.log" template="msgonly")
}
input(type="imtcp" port="$SYSLOG_PORT" ruleset="audit")
CONF
start_rsyslog() {
    rsyslogd -n -f "$T/rsyslog.conf" -i "$T/rsyslog.pid" >"$T/rsyslog.out" 2>&1 &
    SYSLOG_PID=$!
    PIDS="$PIDS $SYSLOG_PID"
    wait_until 10 "python3 -c \"import socket; socket.create_connection(('127.0.0.1', $SYSLOG_PORT), 1)\" 2>/dev/null"
}
stop_rsyslog() {
    kill -TERM "$SYSLOG_PID"
    wait_exit "$SYSLOG_PID" 15
}
start_rsyslog

DICOM_PORT=$(free_port)
TLS_PORT=$(free_port)
while [ "$TLS_PORT" = "$DICOM_PORT" ]; do TLS_PORT=$(free_port); done
start_orthanc pacs true
cat >"$T/cfg.xml" <<XML
<radlink>
  <dicom>
    <tls port="$TLS_PORT" cert="pki/radlink.pem" key="pki/radlink.key" ca="pki/ca.pem"
         verify-client="true"/>
    <pacs ae="ORTHANC" host="127.0.0.1" port="$ORTHANC_DICOM" commit-timeout="20"/>
  </dicom>
  <jobs workers="1" study-stable="$STABLE"/>
  <audit site="RADIOLOGY">
    <syslog host="127.0.0.1" port="$SYSLOG_PORT" ca="pki/ca.pem" cert="pki/radlink.pem"
            key="pki/radlink.key"/>
  </audit>
</radlink>
XML
start_engine --config "$T/cfg.xml"
wait_workers 1 10
audit() { run_rc "$RADLINK" audit "$@" --data "$T/var"; expect_rc 0 "audit $*"; }

note "the RIS: an order, then the patient's name corrected"
orm O1 NW A1 S1 CT CT01 202611240930 'DOE^JANE' P1 >"$T/o.hl7"
send_hl7 "$T/o.hl7"
expect_has "$(cat "$T/o.hl7.out")" "MSA|AA|O1" "the order"
printf 'MSH|^~\\&|RIS|GENHOSP|RADLINK|RAD|20261124110000||ADT^A08|AD1|P|2.5.1\rEVN|A08|20261124110000\rPID|1||P1^^^GENHOSP^MR||DOE^JANE||19700412|F\r' >"$T/a.hl7"
send_hl7 "$T/a.hl7"
expect_has "$(cat "$T/a.hl7.out")" "MSA|AA|AD1" "the ADT"

note "the modality: a worklist query, a performed procedure step, a misspelt study"
query q <<'DUMP'
(0010,0010) PN []
(0010,0020) LO []
(0008,0050) SH []
(0020,000d) UI []
(0040,0100) SQ (Sequence with explicit length #=1)
  (fffe,e000) na (Item with explicit length #=1)
    (0008,0060) CS [CT]
    (0040,0009) SH []
  (fffe,e00d) na (ItemDelimitationItem for re-encoding)
(fffe,e0dd) na (SequenceDelimitationItem for re-encoding)
DUMP
find_wl "$DICOM_PORT" q -aet CT01
expect_eq "$MATCHES" "A1/S1 " "the worklist answer"
UID=$(grep -a "(0020,000d) UI \[" "$T/q.rsp" | head -1 | sed "s/.*\\[\\([0-9.]*\\).*/\\1/")
[ -n "$UID" ] || fail "no Study Instance UID in the worklist answer"
{ echo '['; create 1.2.3.77 A1 RPA1 S1 "$UID"; echo ']'; } >"$T/c.json"
mpps c
expect_has "$OUT" "create 1.2.3.77 0000" "N-CREATE succeeds"
make_study "$T/study" 1 2 "$UID" A1 P1 'DOE^JAEN'
run_rc storescu -aec RADLINK -aet CT01 127.0.0.1 "$DICOM_PORT" "$T/study"/i1.dcm "$T/study"/i2.dcm
expect_rc 0 "storescu"
wait_job 1 done 60

note "a peer without a certificate on the TLS port; the route file reloaded"
run_rc echoscu -aec RADLINK +tls "$P/stranger.key" "$P/stranger.pem" +cf "$P/ca.pem" 127.0.0.1 "$TLS_PORT"
[ "$RC" != 0 ] || fail "a certificate from another CA was accepted"
run_rc "$RADLINK" routes reload --data "$T/var"
expect_rc 0 "routes reload"

note "radlink audit list: every event, each with who did it"
wait_cmd 10 " Security Alert .* minor " "$RADLINK" audit list --data "$T/var"
audit list
L=$OUT
for ev in "110100 Application Activity" "110109 Order Record" "110110 Patient Record" \
          "110112 Query" "110111 Procedure Record" "110104 DICOM Instances Transferred" \
          "110102 Begin Transferring DICOM Instances" "110103 DICOM Instances Accessed" \
          "110113 Security Alert"; do
    expect_line "$L" " $ev " "the trail holds $ev"
done
expect_line "$L" "110109 Order Record +C +ok +RIS\|GENHOSP@127.0.0.1 +P1$" "the order: created by the RIS from its address"
expect_line "$L" "110110 Patient Record +C +ok +RIS\|GENHOSP@127.0.0.1 +P1$" "the ADT: the first record of P1"
expect_line "$L" "110112 Query +E +ok +CT01@127.0.0.1" "the query: by CT01"
expect_line "$L" "110104 DICOM Instances Transferred +C +ok +CT01@127.0.0.1 +P1$" "received from CT01"
expect_line "$L" "110104 DICOM Instances Transferred +R +ok +RADLINK +P1$" "sent to the PACS"
expect_line "$L" "110113 Security Alert +E +minor +127.0.0.1@127.0.0.1" "the TLS failure"
audit list --type query
expect_eq "$(printf '%s\n' "$OUT" | grep -c ' 110112 ')" 1 "--type query: the query alone"
expect_not_has "$OUT" "Order Record" "--type query"
audit list --patient P1
expect_not_has "$OUT" "Security Alert" "--patient: only the patient's events"
expect_line "$OUT" " Order Record " "--patient P1"
SEQ=$(printf '%s\n' "$L" | awk '$4 == "110112" {print $1; exit}')
audit show "$SEQ"
printf '%s\n' "$OUT" >"$T/query.xml"
xmllint --noout --relaxng "$SCHEMA" "$T/query.xml" 2>"$T/lint" || fail "the query event: $(cat "$T/lint")"
expect_has "$OUT" "<ParticipantObjectQuery>" "the query data set is in the event"
QB=$(sed -n 's/.*<ParticipantObjectQuery>\([^<]*\)<.*/\1/p' "$T/query.xml")
printf '%s' "$QB" | base64 -d >"$T/asked.raw"
dcmdump -f -te "$T/asked.raw" >"$T/asked.txt" 2>&1 || true
grep -q "(0040,0100)" "$T/asked.txt" || fail "the recorded query is not the data set asked: $(head -5 "$T/asked.txt")"
run_rc "$RADLINK" audit list --type nothing --data "$T/var"
expect_rc 2 "an unknown --type"
expect_has "$ERR" "'nothing' is not an event this trail holds" "says what it takes"

# every_event_arrived: each event stored is a line at the collector
every_event_arrived() {
    "$RADLINK" audit list --xml --limit 100000 --data "$T/var" >"$T/stored.xml"
    n=0
    while IFS= read -r line; do
        grep -Fxq -- "$line" "$T/collector.log" 2>/dev/null || return 1
        n=$((n + 1))
    done <"$T/stored.xml"
    STORED=$n
    return 0
}
until_arrived() {
    i=0
    until every_event_arrived; do
        i=$((i + 1))
        [ $i -le $(($(scaled "$1") * 10)) ] || fail "events missing at the collector after $(scaled "$1") s: $("$RADLINK" status --data "$T/var" | grep '^audit') ($(wc -l <"$T/collector.log" 2>/dev/null) lines there)"
        sleep 0.1
    done
}
note "the collector: every event arrives, each valid against PS3.15 A.5.1"
until_arrived 20
[ "$STORED" -ge 10 ] || fail "only $STORED events stored"
n=0
while IFS= read -r line; do
    n=$((n + 1))
    printf '%s\n' "$line" >"$T/ev.xml"
    xmllint --noout --relaxng "$SCHEMA" "$T/ev.xml" 2>"$T/lint" ||
        fail "collector line $n is not a valid AuditMessage: $(cat "$T/lint")"
done <"$T/collector.log"
note "$n events at the collector, all valid"

note "the collector stopped: events wait in the store; started again: nothing lost"
stop_rsyslog
orm O2 NW A2 S2 CT CT01 202611241030 'ROE^RICHARD' P2 >"$T/o2.hl7"
send_hl7 "$T/o2.hl7"
expect_has "$(cat "$T/o2.hl7.out")" "MSA|AA|O2" "an order while the collector is down"
find_wl "$DICOM_PORT" q -aet CT01
wait_cmd 15 "^audit: collector 127.0.0.1:$SYSLOG_PORT down" "$RADLINK" status --data "$T/var"
every_event_arrived && fail "the events made while the collector was down cannot be there yet"
start_rsyslog
until_arrived 60
wait_cmd 15 "^audit: collector .* up, ([0-9]+) of \\1 events shipped" "$RADLINK" status --data "$T/var"
note "after the restart: all $STORED events at the collector"

note "the engine stopped and started: the stop and start are recorded and shipped"
stop_engine
PORT= DICOM_PORT= HTTP_PORT= # ports the system picks again
start_engine --config "$T/cfg.xml"
# the first start is in the trail already: wait for the second
starts() { "$RADLINK" audit list --type 110100 --data "$T/var" | grep -c ' 110100 '; }
wait_until 10 "[ \$('$RADLINK' audit list --type 110100 --data '$T/var' | grep -c ' 110100 ') -ge 3 ]"
expect_eq "$(starts)" 3 "start, stop, start"
until_arrived 20
stop_engine
stop_rsyslog
