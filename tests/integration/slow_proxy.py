#!/usr/bin/env python3
"""A TCP proxy that makes a link slow, for the tests: a PACS in another
building or a cloud PACS. Every chunk written toward the upstream waits
DELAY_MS first; answers come back at once.

usage: slow_proxy.py LISTEN_PORT UPSTREAM_PORT DELAY_MS [--held] [--max N]
LISTEN_PORT 0: a port the system picks. Prints "ready PORT" once it listens.
Runs until killed. --held: listen beside the holder of a port (mllp_sink.py
--hold, SO_REUSEPORT): a peer brought up and down on a port nobody else can
take meanwhile. --max N: a connection beyond N at once is closed (after a
tenth of a second for one to end), as a PACS limiting the associations of
one caller does; each one closed adds a line "refused" to the output."""
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
    held = "--held" in sys.argv[4:]
    most = int(sys.argv[sys.argv.index("--max") + 1]) if "--max" in sys.argv else 0
    open_now = [0]

    async def handle(creader, cwriter):
        # a caller that closed just before may not be counted out yet: a
        # tenth of a second for it, far less than a part of a send lasts
        for _ in range(10):
            if not most or open_now[0] < most:
                break
            await asyncio.sleep(0.01)
        if most and open_now[0] >= most:
            print("refused", flush=True)
            cwriter.close()
            return
        open_now[0] += 1
        try:
            try:
                ureader, uwriter = await asyncio.open_connection("127.0.0.1", upstream)
            except OSError:
                cwriter.close()
                return
            # the caller's side ending ends the connection as a limit counts it
            upward = asyncio.ensure_future(pump(creader, uwriter, delay))
            back = asyncio.ensure_future(pump(ureader, cwriter, 0))
            await upward
        finally:
            open_now[0] -= 1
        await back

    server = await asyncio.start_server(handle, "127.0.0.1", listen, reuse_port=held)
    print("ready", server.sockets[0].getsockname()[1], flush=True)
    async with server:
        await server.serve_forever()


asyncio.run(main())
