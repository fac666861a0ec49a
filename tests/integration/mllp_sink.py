#!/usr/bin/python3
"""A downstream HL7 system for forwarding tests, built on python3-hl7's asyncio
MLLP server (hl7.mllp.start_hl7_server) and its create_ack(). It appends each
received message's MSH-10 to LOG (one line, flushed at once), the whole
message to LOG.full (segments one per line, a blank line after each), and
answers AA,
or AR for control IDs listed with --reject (comma separated), AE for those
listed with --ae (each time) or --ae-once (the first time only), or nothing
at all for those listed with --silent.
With --times, LOG.times gets "OBR-18 ORC-5 MILLISECONDS" per message (the
wall clock when it arrived), for latency measurements.
PORT 0: a port the system picks. Prints "ready PORT" once it listens.

A port held by `mllp_sink.py --hold` (which binds a port the system picks
with SO_REUSEPORT, prints it, never listens and runs until killed) is a
downstream that is down - a connection is refused at once - that nobody else
can bind meanwhile; a sink started with --held on it (SO_REUSEPORT too)
listens beside the holder: started and stopped, it brings the downstream up
and down. Without --held a sink binds alone, and fails if the port is taken.
Usage: mllp_sink.py PORT LOG [--held] [--reject ID,ID] [--ae ID,ID] [--ae-once ID,ID]
                   [--silent ID,ID] [--times]
       mllp_sink.py --hold"""
import argparse
import asyncio
import socket
import sys
import time

import hl7
from hl7.mllp import start_hl7_server

if sys.argv[1:] == ['--hold']:
    held = socket.socket()
    held.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    held.bind(('127.0.0.1', 0))
    print(held.getsockname()[1], flush=True)
    while True:
        time.sleep(3600)

ap = argparse.ArgumentParser()
ap.add_argument('port', type=int)
ap.add_argument('log')
ap.add_argument('--reject', default='')
ap.add_argument('--ae', default='')
ap.add_argument('--ae-once', default='')
ap.add_argument('--silent', default='')
ap.add_argument('--times', action='store_true')
ap.add_argument('--held', action='store_true')
args = ap.parse_args()
reject = set(filter(None, args.reject.split(',')))
silent = set(filter(None, args.silent.split(',')))
ae = set(filter(None, args.ae.split(',')))
ae_once = set(filter(None, args.ae_once.split(',')))


async def handle(reader, writer):
    try:
        while not writer.is_closing():
            message = await reader.readmessage()
            ctrl = str(message.segment('MSH')[10])
            if args.times:
                with open(args.log + '.times', 'a') as f:
                    f.write('%s %s %.3f\n' % (message.segment('OBR')[18], message.segment('ORC')[5],
                                              time.time() * 1000))
            with open(args.log + '.full', 'a') as f:
                f.write(str(message).replace('\r', '\n') + '\n\n')
            with open(args.log, 'a') as f:
                f.write(ctrl + '\n')
            if ctrl in silent:
                continue
            code = 'AR' if ctrl in reject else 'AE' if ctrl in ae or ctrl in ae_once else 'AA'
            ae_once.discard(ctrl)
            writer.writemessage(message.create_ack(ack_code=code))
            await writer.drain()
    except asyncio.IncompleteReadError:
        if not writer.is_closing():
            writer.close()
            await writer.wait_closed()


async def main():
    async with await start_hl7_server(handle, host='127.0.0.1', port=args.port,
                                      reuse_port=args.held) as server:
        print('ready', server.sockets[0].getsockname()[1], flush=True)
        await server.serve_forever()


asyncio.run(main())
