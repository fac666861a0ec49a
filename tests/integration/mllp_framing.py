#!/usr/bin/python3
"""MLLP behaviour of a running engine (port in argv[1]): frames split byte by
byte, several per write, junk before a start block, an incomplete frame at
EOF, an oversize frame (engine started with max-frame 4096), 50 concurrent
connections, retransmissions and control-ID conflicts, the connection limit
(3) and the idle timeout (2 s). Exits non-zero on the first failure."""
import os
import sys
import threading
import time

from mllp_peer import Conn, frame, msa, msg

port = int(sys.argv[1])
# how long a read may wait: scaled by RADLINK_TIME_FACTOR (lib.sh)
WAIT = 10 * int(os.environ.get('RADLINK_TIME_FACTOR', '1'))
failures = []


def check(cond, what):
    if not cond:
        failures.append(what)
        print('FAIL:', what, file=sys.stderr)
        sys.exit(1)


def case(name):
    print('--', name)


case('frames split byte by byte')
c = Conn(port, timeout=WAIT)
data = frame(msg('SPLIT1')) + frame(msg('SPLIT2'))
for i in range(len(data)):
    c.send(data[i:i + 1])
    time.sleep(0.0005)
check(msa(c.read_frame(WAIT)) == ('AA', 'SPLIT1', ''), 'byte-by-byte frame 1 gets AA')
check(msa(c.read_frame(WAIT)) == ('AA', 'SPLIT2', ''), 'byte-by-byte frame 2 gets AA')
c.close()

case('several messages in one write, ACKs in order')
c = Conn(port, timeout=WAIT)
c.send(b''.join(frame(msg('MANY%d' % i)) for i in range(10)))
for i in range(10):
    check(msa(c.read_frame(WAIT))[:2] == ('AA', 'MANY%d' % i), 'ACK %d in order' % i)
c.close()

case('junk before a start block is skipped')
c = Conn(port, timeout=WAIT)
c.send(b'GET / HTTP/1.0\r\n\r\n' + frame(msg('JUNK1')) + b'\r\n\x00garbage' + frame(msg('JUNK2')))
check(msa(c.read_frame(WAIT))[:2] == ('AA', 'JUNK1'), 'message after junk accepted')
check(msa(c.read_frame(WAIT))[:2] == ('AA', 'JUNK2'), 'second message after junk accepted')
c.close()

case('incomplete frame at EOF is reported, not applied')
c = Conn(port, timeout=WAIT)
c.send(b'\x0b' + msg('CUT1')[:-5])
c.close()

case('oversize frame: AR, then the connection is closed')
c = Conn(port, timeout=WAIT)
big = msg('BIG1', extra='^' + 'X' * 8000)
c.send(frame(big))
code, ctrl, text = msa(c.read_frame(WAIT))
check((code, ctrl) == ('AR', 'BIG1'), 'oversize gets AR echoing MSH-10 (%s %s)' % (code, ctrl))
check('more than 4096 bytes' in text, 'AR says the limit: ' + text)
check(c.closed_by_server(WAIT), 'connection closed after the AR')
c.close()

case('retransmission gets the original ACK; a reused control ID is a new message')
c = Conn(port, timeout=WAIT)
c.send(frame(msg('DUP1')))
first = c.read_frame(WAIT)
c.send(frame(msg('DUP1')))
second = c.read_frame(WAIT)
check(first == second, 'retransmission answered with the identical ACK')
c.send(frame(msg('DUP1', pid='OTHER')))
code, ctrl, text = msa(c.read_frame(WAIT))
check(code == 'AA', 'the same control ID with other content is accepted: %s %s' % (code, text))
c.send(frame(msg('DUP1', pid='OTHER')))
check(c.read_frame(WAIT) is not None, 'and its own retransmission is recognised')
c.close()

case('50 concurrent connections, 20 messages each')
results = {}


def sender(k):
    try:
        conn = Conn(port, timeout=WAIT)
        got = []
        for i in range(20):
            conn.send(frame(msg('C%02d-%02d' % (k, i))))
            got.append(msa(conn.read_frame(WAIT))[:2])
        conn.close()
        results[k] = got
    except Exception as e:  # reported below
        results[k] = [('EXC', str(e))]


threads = [threading.Thread(target=sender, args=(k,)) for k in range(50)]
for t in threads:
    t.start()
for t in threads:
    t.join()
for k in range(50):
    want = [('AA', 'C%02d-%02d' % (k, i)) for i in range(20)]
    check(results.get(k) == want, 'connection %d: %s' % (k, results.get(k, [])[:2]))

print('ok' if not failures else 'failed')
