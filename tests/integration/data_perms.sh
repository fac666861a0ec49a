#!/bin/sh
# Patient data at rest: what the engine creates (data directory, store,
# spool files, control socket) is the engine user's alone; it refuses a data
# directory others may write; instances half received when it was killed are
# removed at the next start.
. "$(dirname "$0")/lib.sh"
MK=$DATA/make_dicom.sh
mode() { stat -c %a "$1"; }

start_engine
$MK "$T/i1.dcm" 1.2.998.7.1 1.2.998.7 1.2.998.7.1 ACC7 P7 'DOE^JANE' CT 20261124 19700412 F
run_rc storescu -aec RADLINK 127.0.0.1 "$DICOM_PORT" "$T/i1.dcm"
expect_rc 0 "an instance stored"
expect_eq "$(mode "$T/var")" 700 "the data directory"
expect_eq "$(mode "$T/var/store")" 700 "the store's directory"
expect_eq "$(mode "$T/var/store/data.mdb")" 600 "the store"
expect_eq "$(mode "$T/var/control.sock")" 600 "the control socket"
spooled=$(find "$T/var/spool" -name '*.dcm' | head -1)
[ -n "$spooled" ] || fail "no spooled instance"
expect_eq "$(mode "$spooled")" 600 "a spooled instance"
expect_eq "$(find "$T/var" -perm /077 | wc -l)" 0 "nothing in the data directory for group or others"
stop_engine

note "a half-received instance left by a kill is removed at start"
printf 'half' >"$T/var/spool/incoming/123-9.part"
start_engine
[ -f "$T/var/spool/incoming/123-9.part" ] && fail "the .part file survived a restart"
stop_engine

note "a data directory others may write: refused"
mkdir "$T/open"
chmod 777 "$T/open"
run_rc "$RADLINK" serve --http 0 --data "$T/open" --mllp auto --dicom 0
expect_rc 1 "refused"
expect_has "$ERR$OUT" "group or others may write to it (mode 0777): chmod go-w" "says what to do"
note "a TLS key others can read: said at start"
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$T/k.pem" -out "$T/c.pem" -days 2 \
    -subj "/CN=radlink.test" 2>/dev/null
chmod 644 "$T/k.pem"
TLS_PORT=$(free_port)
cat >"$T/tls.xml" <<XML
<radlink><mllp><listen bind="127.0.0.1" port="$TLS_PORT"><tls cert="$T/c.pem" key="$T/k.pem"/></listen></mllp></radlink>
XML
PORTS_FROM_CONFIG=1 start_engine --config "$T/tls.xml"
expect_has "$(cat "$ENGINE_LOG")" "the private key is readable by others: chmod 600 it" "the warning"
stop_engine
note "ok"
