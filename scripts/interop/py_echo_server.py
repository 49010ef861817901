"""Python `websockets` as an echo server (interop peer; also a stand-in echo server).

    python py_echo_server.py [127.0.0.1:PORT]     (default 127.0.0.1:0, any free port)

Prints `listening on 127.0.0.1:PORT` once bound, then echoes every text message as text and
every binary message as binary, until killed. For each connection that ends it prints
    closed: code=CODE reason='REASON' messages=N extensions='EXTENSIONS'
where CODE is the close code the client sent (1006 if the connection ended without a
Close frame), so the caller can check for a clean close, and EXTENSIONS what the handshake
agreed (`none` if nothing). It accepts permessage-deflate when offered (websockets' default).
Binds only to loopback.
"""
import asyncio
import signal
import sys

from websockets.asyncio.server import serve
from websockets.exceptions import ConnectionClosed

MAX_SIZE = 64 << 20  # Autobahn section 9 sends up to 16 MiB
LOOPBACK = {"127.0.0.1", "localhost", "::1"}


async def echo(ws):
    messages = 0
    try:
        async for message in ws:
            await ws.send(message)
            messages += 1
    except ConnectionClosed:
        pass
    await ws.wait_closed()
    agreed = ws.response.headers.get("Sec-WebSocket-Extensions") or "none"
    print(f"closed: code={ws.close_code} reason={ws.close_reason!r} messages={messages} "
          f"extensions={agreed!r}", flush=True)


async def main():
    addr = sys.argv[1] if len(sys.argv) > 1 else "127.0.0.1:0"
    host, _, port = addr.rpartition(":")
    if host not in LOOPBACK:
        sys.exit(f"py_echo_server: refusing to bind {host!r}: loopback only")
    stop = asyncio.get_running_loop().create_future()
    for sig in (signal.SIGTERM, signal.SIGINT):
        asyncio.get_running_loop().add_signal_handler(sig, stop.cancel)
    async with serve(echo, host, int(port), max_size=MAX_SIZE, ping_interval=None) as server:
        bound = server.sockets[0].getsockname()
        print(f"listening on {bound[0]}:{bound[1]}", flush=True)
        try:
            await stop
        except asyncio.CancelledError:
            pass


if __name__ == "__main__":
    asyncio.run(main())
