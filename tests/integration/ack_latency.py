#!/usr/bin/env python3
"""Ingest latency as a RIS sees it: one MLLP connection sends orders one
after the other for SECONDS, each waiting for its ACK, and reports the
latencies. Used while something else happens to the engine (a route reload
while a destination hangs).

usage: ack_latency.py PORT SECONDS PREFIX
Prints "ready" when connected, then at the end one line:
  messages=N non_aa=K max_ms=X p50_ms=Y p99_ms=Z"""
import socket
import sys
import time

port, seconds, prefix = int(sys.argv[1]), float(sys.argv[2]), sys.argv[3]
s = socket.create_connection(("127.0.0.1", port), 5)
s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
print("ready", flush=True)
lat, non_aa, n = [], 0, 0
end = time.monotonic() + seconds
buf = b""
while time.monotonic() < end:
    n += 1
    ctrl = "%s%05d" % (prefix, n)
    msg = ("MSH|^~\\&|RIS|RAD|RADLINK|HOSP|20261122093000||ORM^O01|%s|P|2.5.1\r"
           "PID|1||P%s^^^HOSP^MR||DOE^JANE||19700304|F\r"
           "ORC|NW|O%s\rOBR|1|O%s||CT^CT chest^L|||20261122101500\r" % (ctrl, n, ctrl, ctrl))
    t0 = time.monotonic()
    s.sendall(b"\x0b" + msg.encode() + b"\x1c\x0d")
    while b"\x1c\x0d" not in buf:
        chunk = s.recv(65536)
        if not chunk:
            sys.exit("the engine closed the connection")
        buf += chunk
    ack, buf = buf.split(b"\x1c\x0d", 1)
    lat.append((time.monotonic() - t0) * 1000)
    if b"MSA|AA|" not in ack:
        non_aa += 1
lat.sort()
print("messages=%d non_aa=%d max_ms=%.1f p50_ms=%.1f p99_ms=%.1f" % (
    n, non_aa, lat[-1], lat[len(lat) // 2], lat[min(len(lat) - 1, int(len(lat) * 0.99))]),
    flush=True)
