#!/usr/bin/env python3
"""Hosts holding silent connections: an attacker on the hospital network.

held_slots.py STATE_FILE KIND:PORT:COUNT... [--addrs N] [--seconds S]

Opens COUNT connections of each KIND to 127.0.0.1:PORT from the source
addresses 127.0.0.2 ... 127.0.0.(N+1) (Linux routes all of 127/8 to
loopback), and keeps that many: a connection the server closes is opened
again a tenth of a second later, as an attacker that keeps reconnecting
would. What each KIND sends, then nothing more:

  mllp       a start block and "MSH|^~\\&|" (a partial frame)
  tls        a complete TLS ClientHello, then nothing (a half-open handshake)
  tls-part   the first bytes of a TLS record (a ClientHello cut short)
  dicom      nothing (a silent DICOM connection)
  http       a request line and a header, without the blank line

STATE_FILE is rewritten every half second with one line:
"held H opened O closed C refused R" (held: connected now; opened: all
connects that succeeded; closed: those the server closed; refused: connects
that failed). Runs until SIGTERM, or S seconds.
"""
import errno
import os
import resource
import signal
import socket
import ssl
import sys
import time
import selectors

RECONNECT_S = 0.1
PORT_LOW, PORT_HIGH = 10000, 30000
next_port = {}


def client_hello():
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    inc, out = ssl.MemoryBIO(), ssl.MemoryBIO()
    obj = ctx.wrap_bio(inc, out, server_hostname="radlink.test")
    try:
        obj.do_handshake()
    except ssl.SSLWantReadError:
        pass
    return out.read()


HELLO = client_hello()
PAYLOAD = {
    "mllp": b"\x0bMSH|^~\\&|",
    "tls": HELLO,
    "tls-part": HELLO[:40],
    "dicom": b"",
    "http": b"GET /api/status HTTP/1.1\r\nHost: radlink\r\n",
}


class Slot:
    def __init__(self, kind, port, src):
        self.kind, self.port, self.src = kind, port, src
        self.sock = None
        self.again_at = 0.0
        self.connecting = False


def main():
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    state_file = sys.argv[1]
    addrs, seconds = 50, 86400.0
    specs = []
    args = sys.argv[2:]
    while args:
        a = args.pop(0)
        if a == "--addrs":
            addrs = int(args.pop(0))
        elif a == "--seconds":
            seconds = float(args.pop(0))
        else:
            kind, port, count = a.split(":")
            specs.append((kind, int(port), int(count)))
    slots = []
    for kind, port, count in specs:
        for i in range(count):
            slots.append(Slot(kind, port, "127.0.0.%d" % (2 + len(slots) % addrs)))
    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
    sel = selectors.DefaultSelector()
    counts = {"opened": 0, "closed": 0, "refused": 0}
    end = time.monotonic() + seconds
    last_state = 0.0

    def close(slot, refused=False):
        try:
            sel.unregister(slot.sock)
        except (KeyError, ValueError):
            pass
        slot.sock.close()
        slot.sock = None
        slot.again_at = time.monotonic() + RECONNECT_S
        counts["refused" if refused else "closed"] += 1

    def connect(slot):
        s = socket.socket()
        s.setblocking(False)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        # source ports below the ephemeral range, each address its own
        # rotation: thousands of connects a second must not take the ports
        # other tests pick free for their servers (Orthanc binds 0.0.0.0)
        for _ in range(50):
            n = next_port.get(slot.src, PORT_LOW)
            next_port[slot.src] = n + 1 if n + 1 < PORT_HIGH else PORT_LOW
            try:
                s.bind((slot.src, n))
                break
            except OSError:
                continue
        else:
            s.close()
            slot.again_at = time.monotonic() + RECONNECT_S
            return
        rc = s.connect_ex(("127.0.0.1", slot.port))
        slot.sock = s
        if rc not in (0, errno.EINPROGRESS):
            close(slot, refused=True)
            return
        slot.connecting = True
        sel.register(s, selectors.EVENT_WRITE, slot)

    while not stop and time.monotonic() < end:
        now = time.monotonic()
        for slot in slots:
            if slot.sock is None and now >= slot.again_at:
                connect(slot)
        for key, _ in sel.select(0.05):
            slot = key.data
            if slot.connecting:
                err = slot.sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
                if err:
                    close(slot, refused=True)
                    continue
                slot.connecting = False
                counts["opened"] += 1
                try:
                    if PAYLOAD[slot.kind]:
                        slot.sock.send(PAYLOAD[slot.kind])
                except OSError:
                    close(slot)
                    continue
                sel.modify(slot.sock, selectors.EVENT_READ, slot)
                continue
            try:
                data = slot.sock.recv(65536)
            except BlockingIOError:
                continue
            except OSError:
                data = b""
            if not data:
                close(slot)
        if now - last_state >= 0.5:
            held = sum(1 for s in slots if s.sock is not None and not s.connecting)
            with open(state_file + ".tmp", "w") as f:
                f.write("held %d opened %d closed %d refused %d\n"
                        % (held, counts["opened"], counts["closed"], counts["refused"]))
            os.replace(state_file + ".tmp", state_file)
            last_state = now
    for slot in slots:
        if slot.sock is not None:
            slot.sock.close()


if __name__ == "__main__":
    main()
