#!/usr/bin/python3
"""Connection limits of an engine started with max-connections 3 and
idle-timeout 2: the fourth connection is closed at once, an idle one is
closed after the timeout, and the engine goes on serving."""
import sys
import time

from mllp_peer import Conn, frame, msa, msg

port = int(sys.argv[1])


def check(cond, what):
    if not cond:
        print('FAIL:', what, file=sys.stderr)
        sys.exit(1)


held = [Conn(port) for _ in range(3)]
for i, c in enumerate(held):
    c.send(frame(msg('HOLD%d' % i)))
    check(msa(c.read_frame())[0] == 'AA', 'held connection %d works' % i)
extra = Conn(port)
check(extra.closed_by_server(3), 'the fourth connection is closed at once')
extra.close()
start = time.time()
check(held[0].closed_by_server(6), 'an idle connection is closed')
check(1.5 < time.time() - start + 0.5 < 6, 'after about the idle timeout')
for c in held:
    c.close()
time.sleep(0.3)
c = Conn(port)
c.send(frame(msg('AFTER')))
check(msa(c.read_frame())[0] == 'AA', 'the engine goes on serving')
c.close()
print('ok')
