#!/usr/bin/python3
"""What a hostile or broken MLLP peer cannot do, against an engine started
with max-per-address 4, idle-timeout 2, read-timeout 30, max-frame 4 MiB and
max-buffered-mb 8:
- four silent connections from one address: a fifth from it is closed at
  once, while a sender from another address (127.0.0.2) is served;
- bytes outside a frame do not keep a connection open: 1 byte every 0.4 s
  is closed after about the idle timeout;
- four connections each sending 3 MiB of a frame that never ends take at
  most the budget: the frames past it are given up and their connections
  closed, and a message sent beside them is answered.
Prints one line per case; exits non-zero on the first failure."""
import socket
import sys
import time

from mllp_peer import Conn, SB, frame, msa, msg

port = int(sys.argv[1])


def check(cond, what):
    if not cond:
        print('FAIL:', what, file=sys.stderr)
        sys.exit(1)


def raw(src='127.0.0.1'):
    return socket.create_connection(('127.0.0.1', port), timeout=10, source_address=(src, 0))


def closed(s, timeout):
    s.settimeout(timeout)
    try:
        return s.recv(1) == b''
    except ConnectionResetError:
        return True
    except socket.timeout:
        return False


def served(src, ctrl):
    s = raw(src)
    s.sendall(frame(msg(ctrl)))
    s.settimeout(10)
    buf = b''
    while b'\x1c\r' not in buf:
        chunk = s.recv(65536)
        if not chunk:
            break
        buf += chunk
    s.close()
    return b'MSA|AA|' + ctrl.encode() in buf


print('-- max-per-address: four silent connections from 127.0.0.1')
held = [raw() for _ in range(4)]
time.sleep(0.3)
fifth = raw()
check(closed(fifth, 3), 'the fifth connection from 127.0.0.1 is closed at once')
fifth.close()
check(served('127.0.0.2', 'OTHERADDR'), 'a sender from 127.0.0.2 is served meanwhile')
for s in held:
    s.close()

print('-- bytes outside a frame do not reset the idle timer')
t = raw('127.0.0.5')
start = time.time()
gone = False
while time.time() - start < 8:
    try:
        t.sendall(b'x')
    except OSError:
        gone = True
        break
    if closed(t, 0.4):
        gone = True
        break
took = time.time() - start
check(gone, 'a connection trickling junk is closed')
check(took < 5, 'after about the idle timeout (took %.1f s)' % took)
t.close()

print('-- one memory budget for frames in flight')
# from addresses of their own: the connections of the cases above may not
# all be closed on the engine's side yet
big = [Conn(port, source='127.0.0.3') for _ in range(4)]
chunk = b'OBX|1|ED|PDF^Report||' + b'A' * (64 * 1024 - 21)
for c in big:
    c.send(SB + msg('BIG')[:-1])
sent = [0] * 4
for _ in range(48):  # 48 x 64 KiB = 3 MiB each, interleaved
    for i, c in enumerate(big):
        try:
            c.send(chunk)
            sent[i] += len(chunk)
        except OSError:
            pass
time.sleep(0.5)
given_up = sum(1 for c in big if c.closed_by_server(2))
check(given_up >= 1, 'a frame past the budget is given up (%d of 4 closed)' % given_up)
check(given_up < 4, 'the frames within the budget go on (%d of 4 closed)' % given_up)
check(served('127.0.0.4', 'BESIDE'), 'a message beside them is answered')
for c in big:
    c.close()
print('ok')
