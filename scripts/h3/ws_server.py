"""An HTTP/3 WebSocket echo server on aioquic (RFC 9220), the independent peer for our
client: accepts extended CONNECT with `:protocol: websocket`, answers 200 (with the first
subprotocol offered), echoes text and binary messages (fragmented ones reassembled), answers
Pings, answers a Close with the same code and reason and ends the stream. A client frame that
is not masked is a protocol error (close 1002).

Usage: ws_server.py PORT CERT KEY   (prints "READY" once listening; runs until killed)"""

import asyncio
import sys

from aioquic.asyncio import QuicConnectionProtocol, serve
from aioquic.h3.connection import H3_ALPN, H3Connection
from aioquic.h3.events import DataReceived, HeadersReceived
from aioquic.quic.configuration import QuicConfiguration
from aioquic.quic.events import ProtocolNegotiated, StreamReset

import wsframe


class Echo(QuicConnectionProtocol):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.http = None
        self.sockets = {}

    def quic_event_received(self, event):
        if isinstance(event, ProtocolNegotiated) and event.alpn_protocol in H3_ALPN:
            self.http = H3Connection(self._quic)
        if isinstance(event, StreamReset):
            self.sockets.pop(event.stream_id, None)
        if self.http is None:
            return
        for ev in self.http.handle_event(event):
            self.http_event(ev)
        self.transmit()

    def http_event(self, ev):
        if isinstance(ev, HeadersReceived):
            h = dict(ev.headers)
            ok = (h.get(b":method") == b"CONNECT" and h.get(b":protocol") == b"websocket"
                  and h.get(b"sec-websocket-version") == b"13")
            if not ok:
                self.http.send_headers(ev.stream_id, [(b":status", b"400")], end_stream=True)
                return
            response = [(b":status", b"200")]
            offered = h.get(b"sec-websocket-protocol")
            if offered:
                response.append((b"sec-websocket-protocol", offered.split(b",")[0].strip()))
            self.http.send_headers(ev.stream_id, response)
            self.sockets[ev.stream_id] = wsframe.Parser(masked=True)
            print("websocket on stream", ev.stream_id, h.get(b":path").decode(), flush=True)
        elif isinstance(ev, DataReceived) and ev.stream_id in self.sockets:
            parser = self.sockets[ev.stream_id]
            try:
                messages = parser.feed(ev.data)
            except wsframe.ProtocolError as e:
                print("protocol error:", e, flush=True)
                self.send(ev.stream_id, wsframe.encode(wsframe.CLOSE, wsframe.close_payload(1002)), True)
                return
            for opcode, payload in messages:
                if opcode in (wsframe.TEXT, wsframe.BINARY):
                    self.send(ev.stream_id, wsframe.encode(opcode, payload))
                elif opcode == wsframe.PING:
                    self.send(ev.stream_id, wsframe.encode(wsframe.PONG, payload))
                elif opcode == wsframe.CLOSE:
                    print("close", payload[:2].hex(), payload[2:].decode(), flush=True)
                    self.send(ev.stream_id, wsframe.encode(wsframe.CLOSE, payload), True)
                    return
            if ev.stream_ended:
                self.sockets.pop(ev.stream_id, None)

    def send(self, stream_id, data, end=False):
        self.http.send_data(stream_id, data, end_stream=end)
        if end:
            self.sockets.pop(stream_id, None)


async def main():
    port, cert, key = int(sys.argv[1]), sys.argv[2], sys.argv[3]
    config = QuicConfiguration(is_client=False, alpn_protocols=H3_ALPN)
    config.load_cert_chain(cert, key)
    await serve("127.0.0.1", port, configuration=config, create_protocol=Echo)
    print("READY", flush=True)
    await asyncio.Future()


if __name__ == "__main__":
    asyncio.run(main())
