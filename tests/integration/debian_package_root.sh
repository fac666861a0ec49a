#!/bin/sh
# The Debian package (make deb, debhelper), inside the throwaway root that
# debian_package.sh makes: it installs (a system user radlink, its 0700
# data directory, the configuration as a conffile, the systemd unit,
# checked with systemd-analyze verify), starts the way systemd starts it
# (Type=notify: READY=1 once the listeners answer, the watchdog fed,
# STOPPING=1 on SIGTERM, through a notify socket of our own since this
# machine's PID 1 may not be systemd), upgrades keeping the local
# configuration and the data, and purges cleanly.
. "$(dirname "$0")/lib.sh"
[ "${RADLINK_THROWAWAY_ROOT:-}" = yes ] || fail "run by debian_package.sh, in a root of its own"
dpkg --purge radlink >/dev/null 2>&1 || true # one the root's lower layer may hold

note "make deb"
run_rc make -C "$SRC" deb BUILD="$T/b"
expect_rc 0 "make deb: $(printf '%s\n' "$OUT" | tail -5) $ERR"
DEB=$(ls "$T"/b/deb/radlink_*_*.deb)
[ -f "$DEB" ] || fail "no package"
run_rc dpkg-deb -c "$DEB"
for f in ./usr/bin/radlink ./etc/radlink/radlink.xml ./lib/systemd/system/radlink.service \
         ./usr/lib/ocf/resource.d/radlink/radlink ./usr/share/doc/radlink/examples/low-ports.conf; do
    expect_has "$OUT" " $f" "the package holds $f"
done

note "install"
run_rc dpkg -i "$DEB"
expect_rc 0 "dpkg -i: $ERR"
getent passwd radlink >/dev/null || fail "no system user radlink"
expect_eq "$(stat -c '%U %a' /var/lib/radlink)" "radlink 700" "the data directory is the service user's alone"
expect_eq "$(stat -c '%U:%G %a' /etc/radlink/radlink.xml)" "root:radlink 640" "the configuration"
expect_has "$(cat /var/lib/dpkg/info/radlink.conffiles)" "/etc/radlink/radlink.xml" "a conffile"
U=/lib/systemd/system/radlink.service
for k in Type=notify WatchdogSec= ProtectSystem=strict NoNewPrivileges=yes PrivateTmp=yes \
         "CapabilityBoundingSet=$" "User=radlink"; do
    expect_line "$(cat "$U")" "^$k" "the unit: $k"
done
run_rc systemd-analyze verify "$U"
expect_rc 0 "systemd-analyze verify: $OUT $ERR"

note "start as systemd does (Type=notify, the watchdog), with free ports"
MP=$(free_port) DP=$(free_port) HP=$(free_port) # the configured engine binds them itself
sed -i "s/port=\"2575\"/port=\"$MP\"/; s/port=\"11112\"/port=\"$DP\"/; s/port=\"8080\"/port=\"$HP\"/" \
    /etc/radlink/radlink.xml
mkdir -p -m 0755 /run/radlink-test
NS=/run/radlink-test/notify.$$
/usr/bin/python3 - "$NS" "$HP" >"$T/notify.log" 2>&1 <<'EOF' &
import os, socket, sys, time, urllib.request
path, port = sys.argv[1], int(sys.argv[2])
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(path)
os.chmod(path, 0o777)
print("listening", flush=True)
s.settimeout(30)
end = time.monotonic() + 30
while time.monotonic() < end:
    try:
        msg = s.recv(4096).decode()
    except socket.timeout:
        break
    for line in msg.split("\n"):
        if line == "READY=1":
            try:
                code = urllib.request.urlopen("http://127.0.0.1:%d/readyz" % port, timeout=5).status
            except Exception as e:
                code = str(e)
            print("READY=1 readyz=%s" % code, flush=True)
        elif line:
            print(line, flush=True)
    if "STOPPING=1" in msg:
        break
EOF
NPID=$!
PIDS="$PIDS $NPID"
wait_for "$T/notify.log" listening 10
NOTIFY_SOCKET=$NS WATCHDOG_USEC=1000000 setpriv --reuid radlink --regid radlink --init-groups -- \
    /usr/bin/radlink serve --config /etc/radlink/radlink.xml >"$T/service.log" 2>&1 &
SPID=$!
PIDS="$PIDS $SPID"
wait_for "$T/notify.log" "READY=1" 15
expect_has "$(cat "$T/notify.log")" "READY=1 readyz=200" "READY=1 comes once /readyz answers 200"
wait_until 10 "[ \$(grep -c '^WATCHDOG=1' '$T/notify.log') -ge 2 ]"
printf 'MSH|^~\\&|RIS|GENHOSP|RADLINK|RAD|20261124||ADT^A08|PKG1|P|2.5.1\rPID|1||P1^^^GENHOSP^MR||DOE^JANE\r\n' >"$T/m.hl7"
run_rc mllp_send --loose --file "$T/m.hl7" --port "$MP" 127.0.0.1
expect_has "$OUT" "MSA|AA|PKG1" "the installed engine answers"
kill -TERM "$SPID"
wait_exit "$SPID" 30
expect_rc 0 "a clean stop"
wait_for "$T/notify.log" "STOPPING=1" 5
[ -s /var/lib/radlink/store/data.mdb ] || fail "the store is in /var/lib/radlink"
expect_eq "$(stat -c %U /var/lib/radlink/store/data.mdb)" radlink "the store is the service user's"

note "upgrade: the local configuration and the data stay"
mkdir -p "$T/up"
dpkg-deb -R "$DEB" "$T/up/root"
sed -i 's/^Version: \(.*\)$/Version: \1+1/' "$T/up/root/DEBIAN/control"
dpkg-deb -b "$T/up/root" "$T/up/radlink_next.deb" >/dev/null
run_rc dpkg -i "$T/up/radlink_next.deb"
expect_rc 0 "dpkg -i of the next version: $ERR"
expect_has "$(dpkg-query -W -f='${Version}' radlink)" "+1" "the next version is installed"
expect_has "$(cat /etc/radlink/radlink.xml)" "port=\"$MP\"" "the local configuration is kept"
[ -s /var/lib/radlink/store/data.mdb ] || fail "the data went with the upgrade"
run_rc runuser -u radlink -- /usr/bin/radlink msg list --data /var/lib/radlink
expect_has "$OUT" "PKG1" "the message is still in the log"

note "purge"
run_rc dpkg --purge radlink
expect_rc 0 "dpkg --purge: $ERR"
for p in /usr/bin/radlink /etc/radlink /var/lib/radlink /lib/systemd/system/radlink.service; do
    [ ! -e "$p" ] || fail "$p is left after purge"
done
expect_eq "$(dpkg-query -W -f='${Status}' radlink 2>/dev/null || true)" "" "nothing of the package is known to dpkg"
echo "PASS"
