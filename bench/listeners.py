#!/usr/bin/env python3
# listeners.py: N backends on loopback for bench/check.sh, in one process.
#
# usage: listeners.py N
# Listens on N ports of 127.0.0.1 that the kernel picks, prints one
# "127.0.0.1:PORT name=bI" line each (a list lb-ctl sync reads), then
# "ready" on stderr.  Every connection gets a small HTTP/1.1 200 answer to
# whatever it sends first (a tcp check sends nothing and just closes), then
# is closed.  Runs until killed.
import asyncio
import sys

ANSWER = b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\nConnection: close\r\n\r\nok\n"


async def serve(reader, writer):
    try:
        data = await reader.read(4096)
        if data:
            writer.write(ANSWER)
            await writer.drain()
    except (ConnectionError, OSError):
        pass
    finally:
        writer.close()


async def main(n):
    servers = []
    for i in range(n):
        s = await asyncio.start_server(serve, "127.0.0.1", 0, backlog=64)
        servers.append(s)
        port = s.sockets[0].getsockname()[1]
        print(f"127.0.0.1:{port} name=b{i}")
    sys.stdout.flush()
    print("ready", file=sys.stderr, flush=True)
    await asyncio.Event().wait()


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1])))
