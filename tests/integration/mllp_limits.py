#!/usr/bin/python3
"""Connection limits of an engine started with max-connections 3 and
idle-timeout 2: the fourth connection is closed at once, an idle one is
closed after the timeout (not before), and the engine goes on serving once
the held connections are gone. Each wait's limit is scaled by
RADLINK_TIME_FACTOR (tests/integration/lib.sh)."""
import os
import sys
import time

from mllp_peer import Conn, frame, msa, msg

port = int(sys.argv[1])
F = int(os.environ.get('RADLINK_TIME_FACTOR', '1'))
IDLE = 2


def check(cond, what):
    if not cond:
        print('FAIL:', what, file=sys.stderr)
        sys.exit(1)


held = [Conn(port) for _ in range(3)]
for i, c in enumerate(held):
    c.send(frame(msg('HOLD%d' % i)))
    check(msa(c.read_frame(10 * F))[0] == 'AA', 'held connection %d works' % i)
    if i == 0:
        idle_from = time.monotonic()  # connection 0 says nothing more
extra = Conn(port)
check(extra.closed_by_server(3 * F), 'the fourth connection is closed at once')
extra.close()
check(held[0].closed_by_server(IDLE + 5 * F), 'an idle connection is closed')
idle = time.monotonic() - idle_from
check(idle > IDLE - 0.5, 'not before the idle timeout (%.1f s)' % idle)
for c in held:
    c.close()
# the engine sees the three go; until it has, a new connection is over the
# limit and closed at once: the RIS connects again, as it would
deadline = time.monotonic() + 10 * F
while True:
    c = Conn(port)
    try:
        c.send(frame(msg('AFTER')))
        ack = c.read_frame(10 * F)
    except OSError:  # closed at once, as over the limit
        ack = None
    c.close()
    if ack is not None or time.monotonic() > deadline:
        break
    time.sleep(0.1)
check(ack is not None and msa(ack)[0] == 'AA', 'the engine goes on serving')
print('ok')
