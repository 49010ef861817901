"""Python `websockets` as a client against an echo server (interop check).

    python py_client.py ws://127.0.0.1:PORT [--require-extension NAME]

It offers permessage-deflate (websockets' default: `permessage-deflate;
client_max_window_bits`); with --require-extension it fails unless the server agreed to NAME.

Sends every message of messages.py one at a time and checks that each comes back with the
same type and the same bytes; sends a ping and waits for its pong; closes with 1000 and
checks that the server answers the Close with 1000 and then closes the TCP connection.
Prints one line per check; exits 1 at the first mismatch, 0 when everything matched.
"""
import asyncio
import hashlib
import sys
import time

sys.dont_write_bytecode = True  # keep scripts/interop free of __pycache__
from messages import MESSAGES  # noqa: E402

from websockets.asyncio.client import connect  # noqa: E402

STEP_TIMEOUT = 20  # seconds for any single exchange
CLOSE_TIMEOUT = 10  # websockets waits this long for the server to close TCP
MAX_SIZE = 64 << 20


class Mismatch(Exception):
    pass


def describe(payload):
    kind = "text" if isinstance(payload, str) else "binary"
    data = payload.encode("utf-8") if isinstance(payload, str) else payload
    return f"{kind}, {len(data)} bytes, sha256 {hashlib.sha256(data).hexdigest()[:16]}"


def first_difference(a, b):
    for i, (x, y) in enumerate(zip(a, b)):
        if x != y:
            return i
    return min(len(a), len(b))


async def run(url, require):
    ws = await asyncio.wait_for(
        connect(url, max_size=MAX_SIZE, ping_interval=None, close_timeout=CLOSE_TIMEOUT),
        STEP_TIMEOUT,
    )
    agreed = ws.response.headers.get("Sec-WebSocket-Extensions") or "none"
    print(f"py_client: connected to {url} (extensions: {agreed})")
    names = [e.name for e in ws.protocol.extensions]
    if require and require not in names:
        raise Mismatch(f"handshake: {require} not negotiated (extensions: {agreed})")

    for name, payload in MESSAGES:
        await asyncio.wait_for(ws.send(payload), STEP_TIMEOUT)
        try:
            echo = await asyncio.wait_for(ws.recv(), STEP_TIMEOUT)
        except asyncio.TimeoutError:
            raise Mismatch(f"{name}: no echo within {STEP_TIMEOUT}s") from None
        if type(echo) is not type(payload):
            raise Mismatch(f"{name}: sent {describe(payload)}, got back {describe(echo)}")
        if echo != payload:
            sent = payload.encode() if isinstance(payload, str) else payload
            got = echo.encode() if isinstance(echo, str) else echo
            raise Mismatch(
                f"{name}: sent {describe(payload)}, got back {describe(echo)}; "
                f"first difference at byte {first_difference(sent, got)}"
            )
        print(f"py_client: ok  {name} ({describe(payload)})")

    pong = await ws.ping(b"interop-ping")
    try:
        latency = await asyncio.wait_for(pong, STEP_TIMEOUT)
    except asyncio.TimeoutError:
        raise Mismatch(f"ping: no pong within {STEP_TIMEOUT}s") from None
    print(f"py_client: ok  ping -> pong ({latency * 1000:.1f} ms)")

    started = time.monotonic()
    await ws.close(1000, "bye")
    await ws.wait_closed()
    took = time.monotonic() - started
    if ws.close_code != 1000:
        raise Mismatch(
            f"close: sent 1000, server answered {ws.close_code} {ws.close_reason!r} "
            "(1006: no Close frame came back)"
        )
    # websockets closes TCP itself only after CLOSE_TIMEOUT if the server does not.
    if took >= CLOSE_TIMEOUT / 2:
        raise Mismatch(
            f"close: closing handshake took {took:.1f}s: the server did not close the TCP "
            "connection after the closing handshake (RFC 6455 §7.1.1: server closes first)"
        )
    print(f"py_client: ok  close 1000 answered with 1000, reason {ws.close_reason!r} "
          f"({took * 1000:.1f} ms)")


def main():
    args = sys.argv[1:]
    require = None
    if len(args) == 3 and args[1] == "--require-extension":
        require = args[2]
        args = args[:1]
    if len(args) != 1:
        sys.exit("usage: py_client.py ws://127.0.0.1:PORT [--require-extension NAME]")
    try:
        asyncio.run(run(args[0], require))
    except Mismatch as e:
        print(f"py_client: MISMATCH {e}", file=sys.stderr)
        return 1
    except Exception as e:  # connection refused, handshake rejected, connection dropped, ...
        print(f"py_client: FAILED {type(e).__name__}: {e}", file=sys.stderr)
        return 1
    print("py_client: all checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
