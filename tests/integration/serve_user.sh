#!/bin/sh
# radlink serve --user: started as root, it binds its listeners (MLLP and
# DICOM on ports below 1024), then runs as the user for good: the engine and
# its workers have that user's uid, every file it creates is the user's, and
# it answers on the low ports. A data directory that is not the user's, an
# unknown user and root itself are refused with the reason.
# Needs root and Debian's user nobody; otherwise skipped (exit 77).
. "$(dirname "$0")/lib.sh"
[ "$(id -u)" = 0 ] || { echo "SKIP: not root"; exit 77; }
id nobody >/dev/null 2>&1 || { echo "SKIP: no user nobody"; exit 77; }
low_port() {
    /usr/bin/python3 - <<'PY'
import random, socket
for p in random.sample(range(600, 1000), 400):
    s = socket.socket()
    try:
        s.bind(("127.0.0.1", p))
    except OSError:
        continue
    finally:
        s.close()
    print(p)
    break
PY
}
# a directory the user can reach (the test's own is root's alone)
U=$(mktemp -d /tmp/radlink-user.XXXXXX)
chmod 755 "$U"
cleanup_user() {
    cleanup
    rm -rf "$U"
}
trap cleanup_user EXIT
mkdir -m 700 "$U/var"
chown nobody "$U/var"
MP=$(low_port)
DP=$(low_port)
while [ "$DP" = "$MP" ]; do DP=$(low_port); done

note "refusals, with the reason"
run_rc "$RADLINK" serve --http 0 --user no-such-user-here --data "$U/var" --mllp "$MP" --dicom 0
expect_rc 1 "an unknown user"
expect_has "$ERR" "--user no-such-user-here: no such user" "says so"
run_rc "$RADLINK" serve --http 0 --user root --data "$U/var" --mllp "$MP" --dicom 0
expect_rc 1 "root itself"
expect_has "$ERR" "that is root" "says so"
mkdir -m 700 "$U/rootdata"
run_rc "$RADLINK" serve --http 0 --user nobody --data "$U/rootdata" --mllp "$MP" --dicom 0
expect_rc 1 "a data directory that is root's"
expect_has "$ERR" "belongs to uid 0, not to nobody: chown -R nobody $U/rootdata" "says what to do"

note "started as root on ports $MP (MLLP) and $DP (DICOM), running as nobody"
"$RADLINK" serve --http 0 --user nobody --data "$U/var" --mllp "$MP" --dicom "$DP" --workers 1 \
    >"$T/engine.log" 2>&1 &
ENGINE_PID=$!
PIDS="$PIDS $ENGINE_PID"
wait_for "$T/engine.log" "serve.start " 10
uids=$(awk '/^Uid:/ {print $2, $3, $4, $5}' "/proc/$ENGINE_PID/status")
expect_eq "$uids" "65534 65534 65534 65534" "the engine's real, effective, saved and file uids"
expect_eq "$(awk '/^CapEff:/ {print $2}' "/proc/$ENGINE_PID/status")" "0000000000000000" \
    "no capability left"
for task in /proc/$ENGINE_PID/task/*; do
    expect_eq "$(awk '/^Uid:/ {print $3}' "$task/status")" 65534 "every thread runs as nobody"
done
wait_cmd 10 "^local worker 0 pid [0-9]+" "$RADLINK" status --data "$U/var"
wpid=$("$RADLINK" status --data "$U/var" | sed -n 's/^local worker 0 pid \([0-9]*\).*/\1/p')
expect_eq "$(awk '/^Uid:/ {print $3}' "/proc/$wpid/status")" 65534 "the worker runs as nobody"

printf 'MSH|^~\\&|RIS|RAD|RADLINK|HOSP|20261124093000||ADT^A08|U1|P|2.5.1\rPID|1||P1^^^HOSP^MR||DOE^JANE\r\n' >"$T/m.hl7"
mllp_send --loose --file "$T/m.hl7" --port "$MP" 127.0.0.1 >"$T/m.out"
expect_has "$(cat "$T/m.out")" "MSA|AA|U1" "MLLP on a port below 1024"
run_rc echoscu -aec RADLINK 127.0.0.1 "$DP"
expect_rc 0 "C-ECHO on a port below 1024"
expect_eq "$(find "$U/var" ! -user nobody | head -3)" "" "every file the engine made is nobody's"
kill -TERM "$ENGINE_PID"
wait_exit "$ENGINE_PID" 15
expect_eq "$RC" 0 "a clean stop"
echo "PASS serve_user"
