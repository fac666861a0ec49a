#!/usr/bin/python3
"""kill -9 at random moments while four senders stream messages. A sender
does what a RIS does: it resends a message until it gets an ACK. Afterwards
every message that got an AA must be in the log exactly once as accepted.
Usage: crash_kill9.py RADLINK DATA_DIR PORT LOG_DIR [ROUNDS]"""
import collections
import os
import random
import signal
import subprocess
import sys
import threading
import time

from mllp_peer import Conn, frame, msa, msg, wait_port

radlink, data, port, logdir = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
rounds = int(sys.argv[5]) if len(sys.argv) > 5 else 3
random.seed(int(os.environ.get('SEED', '0')) or None)
acked = collections.Counter()
stop = threading.Event()
sent_total = [0]
errors = []
engines = []


def start():
    log = open(os.path.join(logdir, 'crash_engine.%d.log' % len(engines)), 'w')
    p = subprocess.Popen([radlink, 'serve', '--http', '0', '--data', data, '--mllp', str(port), '--dicom', '0'],
                         stdout=log, stderr=subprocess.STDOUT)
    engines.append(p)
    if not wait_port(port):
        stop.set()  # the senders end too: nothing keeps the process alive
        sys.exit('engine did not come up')
    return p


def sender(k):
    i = 0
    conn = None
    while not stop.is_set():
        ctrl = 'K%d-%06d' % (k, i)
        m = frame(msg(ctrl, pid='P%d' % i))
        while True:  # resend until answered, like a RIS
            try:
                if conn is None:
                    conn = Conn(port, timeout=5)
                conn.send(m)
                ack = conn.read_frame(timeout=5)
                if ack is None:
                    raise ConnectionError('closed')
                code, got, _ = msa(ack)
                if got != ctrl:  # a wrong answer fails the run (from the main thread)
                    errors.append('ACK for %s answers %s' % (ctrl, got))
                    stop.set()
                    return
                if code == 'AA':
                    acked[ctrl] += 1
                break
            except (OSError, ConnectionError):
                if conn:
                    conn.close()
                conn = None
                if stop.is_set():
                    return
                time.sleep(0.05)
        sent_total[0] += 1
        i += 1
    if conn:
        conn.close()


proc = start()
threads = [threading.Thread(target=sender, args=(k,), daemon=True) for k in range(4)]
for t in threads:
    t.start()
for r in range(rounds):
    time.sleep(random.uniform(0.3, 1.2))
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    print('-- round %d: killed the engine after %d messages answered' % (r + 1, sum(acked.values())))
    time.sleep(random.uniform(0.0, 0.3))
    proc = start()
time.sleep(0.5)
stop.set()
for t in threads:
    t.join()
if errors:
    proc.kill()
    sys.exit('FAIL: ' + errors[0])
proc.send_signal(signal.SIGTERM)
if proc.wait(timeout=15) != 0:
    sys.exit('engine exit status %d after SIGTERM' % proc.returncode)

out = subprocess.run([radlink, 'msg', 'list', '--data', data, '--status', 'accepted',
                      '--limit', '100000000'], capture_output=True, text=True, check=True).stdout
logged = collections.Counter(line.split()[6] for line in out.splitlines()[1:])
bad = [c for c in acked if logged[c] != 1]
twice = [c for c, n in logged.items() if n > 1]
print('answered AA: %d, accepted in the log: %d' % (len(acked), sum(logged.values())))
if bad or twice:
    sys.exit('FAIL: AA but not logged once: %s; logged twice: %s' % (bad[:5], twice[:5]))
if len(acked) < 50:
    sys.exit('FAIL: too few messages went through (%d)' % len(acked))
print('ok')
