"""WebSocket framing (RFC 6455 section 5) for the HTTP/3 interop peers: encoding with or
without a mask, and an incremental parser that reassembles messages. Written for the
interop scripts only: small, strict where the checks need it."""

import os
import struct

CONT, TEXT, BINARY, CLOSE, PING, PONG = 0x0, 0x1, 0x2, 0x8, 0x9, 0xA


def apply_mask(payload, key):
    """XOR with the repeated key, through one big integer (fast for megabytes)."""
    n = len(payload)
    if n == 0:
        return b""
    stream = (key * (n // 4 + 1))[:n]
    return (int.from_bytes(payload, "big") ^ int.from_bytes(stream, "big")).to_bytes(n, "big")


def encode(opcode, payload=b"", fin=True, mask=False):
    """One frame; a client masks with a fresh random key (section 5.3)."""
    head = bytearray([(0x80 if fin else 0) | opcode])
    n = len(payload)
    bit = 0x80 if mask else 0
    if n < 126:
        head.append(bit | n)
    elif n < 1 << 16:
        head.append(bit | 126)
        head += struct.pack("!H", n)
    else:
        head.append(bit | 127)
        head += struct.pack("!Q", n)
    if mask:
        key = os.urandom(4)
        head += key
        payload = apply_mask(payload, key)
    return bytes(head) + bytes(payload)


def close_payload(code, reason=""):
    return struct.pack("!H", code) + reason.encode()


class ProtocolError(Exception):
    pass


class Parser:
    """Feeds bytes, yields (opcode, payload) per message and per control frame.

    `masked` is what the peer must do: True on a server (client frames are masked), False
    on a client (server frames are not)."""

    def __init__(self, masked):
        self.masked = masked
        self.buf = bytearray()
        self.message_opcode = None
        self.parts = []

    def feed(self, data):
        self.buf += data
        out = []
        while True:
            frame = self._frame()
            if frame is None:
                return out
            fin, opcode, payload = frame
            if opcode >= 0x8:
                if not fin or len(payload) > 125:
                    raise ProtocolError("bad control frame")
                out.append((opcode, payload))
                continue
            if opcode == CONT:
                if self.message_opcode is None:
                    raise ProtocolError("continuation without a message")
            else:
                if self.message_opcode is not None:
                    raise ProtocolError("new message inside a fragmented one")
                self.message_opcode = opcode
            self.parts.append(payload)
            if fin:
                out.append((self.message_opcode, b"".join(self.parts)))
                self.message_opcode, self.parts = None, []

    def _frame(self):
        b = self.buf
        if len(b) < 2:
            return None
        fin, rsv, opcode = b[0] & 0x80, b[0] & 0x70, b[0] & 0x0F
        if rsv:
            raise ProtocolError("RSV bits set")
        masked, n = b[1] & 0x80, b[1] & 0x7F
        if bool(masked) != self.masked:
            raise ProtocolError("mask bit is %d" % bool(masked))
        pos = 2
        if n == 126:
            if len(b) < 4:
                return None
            (n,) = struct.unpack_from("!H", b, 2)
            pos = 4
        elif n == 127:
            if len(b) < 10:
                return None
            (n,) = struct.unpack_from("!Q", b, 2)
            pos = 10
        key = None
        if masked:
            if len(b) < pos + 4:
                return None
            key = bytes(b[pos:pos + 4])
            pos += 4
        if len(b) < pos + n:
            return None
        payload = bytes(b[pos:pos + n])
        del b[:pos + n]
        if key:
            payload = apply_mask(payload, key)
        return bool(fin), opcode, payload
