#!/bin/sh
# Durability: SIGKILL at random moments under load loses no ACKed message and
# applies none twice (see crash_kill9.py).
. "$(dirname "$0")/lib.sh"
/usr/bin/python3 "$SRC/tests/integration/crash_kill9.py" "$RADLINK" "$T/var" "$(free_port)" "$T" 3 \
    || fail "crash test"
echo ok
