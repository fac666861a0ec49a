#!/bin/sh
# Audit trail: events shipped per second to rsyslog (Debian, gnutls) over
# syslog TLS, and store bytes per event. N orders are sent while the
# collector is down (each leaves an Order Record event); then the collector
# starts and the time until `radlink status` says every event is shipped is
# measured. Usage: audit_bench.sh [--smoke]   (RADLINK, SRC as for the tests)
. "$(dirname "$0")/../integration/lib.sh"
. "$(dirname "$0")/../integration/mwl_lib.sh"
N=2000
[ "${1:-}" = "--smoke" ] && N=50
P=$T/pki
make_pki "$P" radlink collector
SYSLOG_PORT=$(free_port)
mkdir -p "$T/rsyslog"
cat >"$T/rsyslog.conf" <<CONF
global(maxMessageSize="256k" workDirectory="$T/rsyslog" defaultNetstreamDriver="gtls"
       defaultNetstreamDriverCAFile="$P/ca.pem" defaultNetstreamDriverCertFile="$P/collector.pem"
       defaultNetstreamDriverKeyFile="$P/collector.key")
module(load="imtcp" streamDriver.name="gtls" streamDriver.mode="1" streamDriver.authMode="x509/certvalid")
template(name="msgonly" type="string" string="%msg%\n")
ruleset(name="audit") { action(type="omfile" file="$T/collector.log" template="msgonly") }
input(type="imtcp" port="$SYSLOG_PORT" ruleset="audit")
CONF
cat >"$T/cfg.xml" <<XML
<radlink><audit><syslog host="127.0.0.1" port="$SYSLOG_PORT" ca="pki/ca.pem"
  cert="pki/radlink.pem" key="pki/radlink.key"/></audit></radlink>
XML
start_engine --config "$T/cfg.xml" --workers 0
i=0
: >"$T/orders.hl7"
while [ $i -lt $N ]; do
    i=$((i + 1))
    orm "B$i" NW "A$i" S1 CT CT01 202611240930 'DOE^JANE' "P$i" >>"$T/orders.hl7"
done
run_rc "$RADLINK" send --quiet --batch --to "127.0.0.1:$PORT" "$T/orders.hl7"
expect_rc 0 "the orders"
EVENTS=$("$RADLINK" audit list --limit 1 --data "$T/var" | tail -1 | sed 's/^(\([0-9]*\) events.*/\1/')
MAP=$(du -b "$T/var/store/data.mdb" | cut -f1)
XML=$("$RADLINK" audit list --xml --limit 100000 --data "$T/var" | wc -c)
t0=$(date +%s.%N)
rsyslogd -n -f "$T/rsyslog.conf" -i "$T/rsyslog.pid" >"$T/rsyslog.out" 2>&1 &
PIDS="$PIDS $!"
wait_cmd 120 "^audit: collector .* up, ([0-9]+) of \\1 events shipped" "$RADLINK" status --data "$T/var"
t1=$(date +%s.%N)
LINES=$(wc -l <"$T/collector.log")
awk -v n="$EVENTS" -v a="$t0" -v b="$t1" -v x="$XML" -v l="$LINES" 'BEGIN {
  printf "audit events shipped to rsyslog over TLS: %d in %.2f s = %.0f events/s (incl. the %.1f s confirmation wait; %d lines at the collector)\n", n, b - a, n / (b - a), 1.0, l
  printf "average event (XML): %.0f bytes\n", x / n }'
stop_engine
