"""An HTTP/3 WebSocket client on aioquic (RFC 9220), the independent peer for our server:
opens three WebSockets on one QUIC connection with extended CONNECT, and on each sends
(masked) a text, a fragmented text with a Ping between its fragments, and a 2 MiB binary
message (twice quiche's stream window, so it passes only if our side gives credit back),
checks the echoes and the Pong byte for byte, then closes with 1000 and a reason and
checks the server's Close and the end of the stream. Exits non-zero on any failure.

Usage: ws_client.py PORT CERT"""

import asyncio
import os
import sys

from aioquic.asyncio import QuicConnectionProtocol, connect
from aioquic.h3.connection import H3_ALPN, H3Connection
from aioquic.h3.events import DataReceived, HeadersReceived
from aioquic.quic.configuration import QuicConfiguration
from aioquic.quic.events import StreamReset

import wsframe

SOCKETS = 3


class Client(QuicConnectionProtocol):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.http = H3Connection(self._quic)
        self.streams = {}

    def quic_event_received(self, event):
        if isinstance(event, StreamReset) and event.stream_id in self.streams:
            self.streams[event.stream_id].put_nowait(("reset", event.error_code))
        for ev in self.http.handle_event(event):
            queue = self.streams.get(ev.stream_id)
            if queue is None:
                continue
            if isinstance(ev, HeadersReceived):
                queue.put_nowait(("headers", dict(ev.headers)))
            elif isinstance(ev, DataReceived):
                if ev.data:
                    queue.put_nowait(("data", ev.data))
                if ev.stream_ended:
                    queue.put_nowait(("end", None))

    def open(self, path):
        stream_id = self._quic.get_next_available_stream_id()
        self.streams[stream_id] = asyncio.Queue()
        self.http.send_headers(stream_id, [
            (b":method", b"CONNECT"),
            (b":protocol", b"websocket"),
            (b":scheme", b"https"),
            (b":authority", b"localhost"),
            (b":path", path.encode()),
            (b"sec-websocket-version", b"13"),
            (b"sec-websocket-protocol", b"echo"),
        ])
        self.transmit()
        return stream_id

    def send(self, stream_id, data, end=False):
        self.http.send_data(stream_id, data, end_stream=end)
        self.transmit()


class Socket:
    def __init__(self, client, stream_id):
        self.client, self.id = client, stream_id
        self.queue = client.streams[stream_id]
        self.parser = wsframe.Parser(masked=False)
        self.pending = []
        self.ended = False

    async def event(self):
        kind, value = await self.queue.get()
        if kind == "reset":
            raise AssertionError("stream %d reset with %#x" % (self.id, value))
        return kind, value

    async def handshake(self):
        kind, headers = await self.event()
        assert kind == "headers", kind
        assert headers[b":status"] == b"200", headers
        assert headers.get(b"sec-websocket-protocol") == b"echo", headers

    async def recv(self):
        while not self.pending:
            kind, value = await self.event()
            if kind == "end":
                self.ended = True
                raise AssertionError("stream %d ended early" % self.id)
            self.pending.extend(self.parser.feed(value))
        return self.pending.pop(0)

    def send(self, opcode, payload, fin=True, end=False):
        self.client.send(self.id, wsframe.encode(opcode, payload, fin=fin, mask=True), end)


async def conversation(client, n):
    ws = Socket(client, client.open("/interop/%d" % n))
    await ws.handshake()
    text = "héllo over HTTP/3 #%d" % n
    ws.send(wsframe.TEXT, text.encode())
    assert await ws.recv() == (wsframe.TEXT, text.encode())
    ws.send(wsframe.TEXT, b"frag", fin=False)
    ws.send(wsframe.PING, b"ping %d" % n)
    ws.send(wsframe.CONT, "ments ✓".encode(), fin=True)
    assert await ws.recv() == (wsframe.PONG, b"ping %d" % n)
    assert await ws.recv() == (wsframe.TEXT, "fragments ✓".encode())
    big = os.urandom(2 << 20)
    ws.send(wsframe.BINARY, big)
    opcode, echoed = await ws.recv()
    assert opcode == wsframe.BINARY and echoed == big, "binary echo differs"
    # Nothing follows a Close (RFC 6455 section 5.5.1): our FIN goes with it.
    ws.send(wsframe.CLOSE, wsframe.close_payload(1000, "bye %d" % n), end=True)
    opcode, payload = await ws.recv()
    assert opcode == wsframe.CLOSE, opcode
    assert payload[:2] == b"\x03\xe8", payload
    # The server ends its side after its Close (RFC 6455 section 7.1.1).
    kind, _ = await ws.event()
    assert kind == "end", kind
    print("stream", ws.id, "ok: text, fragments + ping, 2 MiB binary, close 1000", flush=True)


async def main():
    port, cert = int(sys.argv[1]), sys.argv[2]
    config = QuicConfiguration(is_client=True, alpn_protocols=H3_ALPN, server_name="localhost")
    config.load_verify_locations(cert)
    async with connect("127.0.0.1", port, configuration=config, create_protocol=Client) as client:
        await asyncio.wait_for(
            asyncio.gather(*(conversation(client, n) for n in range(SOCKETS))), 60)
    print("aioquic client: %d WebSockets on one connection passed" % SOCKETS)


if __name__ == "__main__":
    # The handshake included: aioquic's connect alone would wait for ever on a silent port.
    asyncio.run(asyncio.wait_for(main(), 90))
