#!/usr/bin/env python3
"""Open N TCP connections to HOST:PORT and send nothing on them (a stalled
peer, or an attacker). Prints "ready" once all are connected, then for each
connection how long the server kept it ("closed after S.S s"), or "open"
when it was still open after SECONDS."""
import select
import socket
import sys
import time


def main():
    host, port, n, secs = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4])
    socks = []
    for _ in range(n):
        s = socket.create_connection((host, port), timeout=5)
        s.setblocking(False)
        socks.append(s)
    start = time.monotonic()
    print("ready", flush=True)
    closed = {}
    while len(closed) < n and time.monotonic() - start < secs:
        live = [s for s in socks if s not in closed]
        r, _, _ = select.select(live, [], [], 0.1)
        for s in r:
            try:
                data = s.recv(4096)
            except OSError:
                data = b""
            if not data:
                closed[s] = time.monotonic() - start
    for s in socks:
        print("closed after %.1f s" % closed[s] if s in closed else "open", flush=True)
        s.close()


if __name__ == "__main__":
    main()
