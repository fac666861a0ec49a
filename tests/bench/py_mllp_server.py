#!/usr/bin/python3
"""python3-hl7's asyncio MLLP server (hl7.mllp.start_hl7_server), answering
each message with hl7's own create_ack(): the minimal receiver a user could
write instead of radlink. It keeps nothing: no log, no durability.
Usage: py_mllp_server.py PORT (0: one the system picks); prints "ready PORT"
once it listens."""
import asyncio
import sys

import hl7
from hl7.mllp import start_hl7_server


async def handle(reader, writer):
    try:
        while not writer.is_closing():
            message = await reader.readmessage()
            writer.writemessage(message.create_ack())
            await writer.drain()
    except asyncio.IncompleteReadError:
        if not writer.is_closing():
            writer.close()
            await writer.wait_closed()


async def main(port):
    async with await start_hl7_server(handle, host='127.0.0.1', port=port) as server:
        print('ready', server.sockets[0].getsockname()[1], flush=True)
        await server.serve_forever()


asyncio.run(main(int(sys.argv[1])))
