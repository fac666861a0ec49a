#!/usr/bin/python3
"""A RIS that retries, as interface engines do: CONNS connections send
COUNT messages each over MLLP (python3-hl7's MLLPClient); a message is sent
again, on a new connection, until it is answered AA: a refused connection,
a reset, a timeout, an AR all mean "try again". Writes the control ID of
every message answered AA, one a line, to OUT; exits 1 if one was not
answered within DEADLINE seconds.

usage: retry_sender.py HOST PORT CONNS COUNT OUT [DEADLINE]"""
import socket
import sys
import threading
import time

import hl7.client

host, port, conns, count, out = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
deadline = float(sys.argv[6]) if len(sys.argv) > 6 else 60.0
acked, failed, lock = [], [], threading.Lock()


def message(ctrl):
    return ("MSH|^~\\&|RIS|GENHOSP|RADLINK|RAD|20261124101500||ADT^A08|%s|P|2.5.1\r"
            "PID|1||P-%s^^^GENHOSP^MR||DOE^JANE||19700412|F\r" % (ctrl, ctrl))


def sender(t):
    client = None
    for i in range(count):
        ctrl = "T%d-%d" % (t, i)
        until = time.monotonic() + deadline
        while True:
            if time.monotonic() > until:
                with lock:
                    failed.append(ctrl)
                return
            try:
                if client is None:
                    client = hl7.client.MLLPClient(host, port)
                    client.socket.settimeout(5)
                ack = client.send_message(message(ctrl))
                if isinstance(ack, bytes):
                    ack = ack.decode("utf-8", "replace")
                if not ack:
                    raise OSError("the connection closed")
                if "MSA|AA|" + ctrl in ack:
                    with lock:
                        acked.append(ctrl)
                    break
                time.sleep(0.05)  # AE/AR: the engine could not take it now
            except (OSError, hl7.client.MLLPException, socket.timeout):
                if client is not None:
                    try:
                        client.close()
                    except OSError:
                        pass
                client = None
                time.sleep(0.02)
    if client is not None:
        client.close()


threads = [threading.Thread(target=sender, args=(t,)) for t in range(conns)]
for th in threads:
    th.start()
for th in threads:
    th.join()
with open(out, "w") as f:
    f.write("".join(c + "\n" for c in acked))
if failed:
    print("not answered AA within %.0f s: %s" % (deadline, " ".join(failed[:10])), file=sys.stderr)
    sys.exit(1)
print("answered AA: %d" % len(acked))
