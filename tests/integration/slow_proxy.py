#!/usr/bin/env python3
"""A TCP proxy that makes a link slow, for the tests: a PACS in another
building or a cloud PACS. Every chunk written toward the upstream waits
DELAY_MS first; answers come back at once.

usage: slow_proxy.py LISTEN_PORT UPSTREAM_PORT DELAY_MS [--held]
LISTEN_PORT 0: a port the system picks. Prints "ready PORT" once it listens.
Runs until killed. --held: listen beside the holder of a port (mllp_sink.py
--hold, SO_REUSEPORT): a peer brought up and down on a port nobody else can
take meanwhile."""
import asyncio
import sys


async def pump(reader, writer, delay):
    try:
        while True:
            data = await reader.read(65536)
            if not data:
                break
            if delay:
                await asyncio.sleep(delay)
            writer.write(data)
            await writer.drain()
    except (ConnectionError, asyncio.CancelledError):
        pass
    finally:
        try:
            writer.close()
        except ConnectionError:
            pass


async def main():
    listen, upstream, delay = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]) / 1000.0
    held = sys.argv[4:] == ["--held"]

    async def handle(creader, cwriter):
        try:
            ureader, uwriter = await asyncio.open_connection("127.0.0.1", upstream)
        except OSError:
            cwriter.close()
            return
        await asyncio.gather(pump(creader, uwriter, delay), pump(ureader, cwriter, 0))

    server = await asyncio.start_server(handle, "127.0.0.1", listen, reuse_port=held)
    print("ready", server.sockets[0].getsockname()[1], flush=True)
    async with server:
        await server.serve_forever()


asyncio.run(main())
