#!/usr/bin/python3
"""Prints a TCP port on 127.0.0.1 that is free now, for a peer a test or a
benchmark must give a port number (a config file, a command line).

The port is picked at random outside the kernel's ephemeral range, which
bind(0) and every outgoing connection draw from: a port taken from that range
is soon handed to some other test's client, so the peer would find it in use
before it binds it. Outside the range only another explicit pick can take it,
and it is checked free here."""
import random
import socket


def bindable(port):
    s = socket.socket()
    try:
        s.bind(('127.0.0.1', port))
        return True
    except OSError:
        return False
    finally:
        s.close()


def main():
    try:
        with open('/proc/sys/net/ipv4/ip_local_port_range') as f:
            lo, hi = (int(x) for x in f.read().split())
    except (OSError, ValueError):
        lo, hi = 32768, 60999
    ranges = [r for r in ((10000, lo - 1), (hi + 1, 65535)) if r[1] - r[0] >= 1000]
    for _ in range(200):
        if not ranges:
            break
        a, b = random.choice(ranges)
        port = random.randint(a, b)
        if bindable(port):
            print(port)
            return
    s = socket.socket()  # no room outside the range: the system's pick
    s.bind(('127.0.0.1', 0))
    print(s.getsockname()[1])
    s.close()


main()
