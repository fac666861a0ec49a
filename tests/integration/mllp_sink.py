#!/usr/bin/python3
"""A downstream HL7 system for forwarding tests, built on python3-hl7's asyncio
MLLP server (hl7.mllp.start_hl7_server) and its create_ack(). It appends each
received message's MSH-10 to LOG (one line, flushed at once), the whole
message to LOG.full (segments one per line, a blank line after each), and
answers AA,
or AR for control IDs listed with --reject (comma separated), or nothing at
all for those listed with --silent.
With --times, LOG.times gets "OBR-18 ORC-5 MILLISECONDS" per message (the
wall clock when it arrived), for latency measurements.
Usage: mllp_sink.py PORT LOG [--reject ID,ID] [--silent ID,ID] [--times]"""
import argparse
import asyncio
import time

import hl7
from hl7.mllp import start_hl7_server

ap = argparse.ArgumentParser()
ap.add_argument('port', type=int)
ap.add_argument('log')
ap.add_argument('--reject', default='')
ap.add_argument('--silent', default='')
ap.add_argument('--times', action='store_true')
args = ap.parse_args()
reject = set(filter(None, args.reject.split(',')))
silent = set(filter(None, args.silent.split(',')))


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
            code = 'AR' if ctrl in reject else 'AA'
            writer.writemessage(message.create_ack(ack_code=code))
            await writer.drain()
    except asyncio.IncompleteReadError:
        if not writer.is_closing():
            writer.close()
            await writer.wait_closed()


async def main():
    async with await start_hl7_server(handle, host='127.0.0.1', port=args.port) as server:
        print('ready', flush=True)
        await server.serve_forever()


asyncio.run(main())
