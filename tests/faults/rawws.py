"""A WAMP client on a bare socket (WebSocket, JSON), so that a test decides when, or whether, it reads.

Autobahn's clients read and answer pings on their own; a client that stops reading, or
a peer that died without closing its connection, needs a socket nobody reads from.
"""

from __future__ import annotations

import base64
import json
import os
import socket
import struct

TCP_ESTABLISHED = 1  # the first byte of Linux's struct tcp_info is the connection's state
CLOSE, PING, PONG = 8, 9, 10


class Closed(Exception):
    def __init__(self, code: int | None):
        super().__init__(f"connection closed by the router (close code {code})")
        self.code = code


class RawClient:
    def __init__(self, port: int, receive_buffer: int | None = None, timeout: float = 30):
        self.sock = socket.socket()
        if receive_buffer:  # before connecting, so the TCP window is small from the start
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, receive_buffer)
        self.sock.settimeout(timeout)
        self.sock.connect(("127.0.0.1", port))
        self.port = port
        self._buffer = b""

    def handshake(self) -> None:
        key = base64.b64encode(os.urandom(16)).decode()
        self.sock.sendall(
            f"GET /ws HTTP/1.1\r\nHost: 127.0.0.1:{self.port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: wamp.2.json\r\n\r\n".encode()
        )
        while b"\r\n\r\n" not in self._buffer:
            self._fill()
        head, self._buffer = self._buffer.split(b"\r\n\r\n", 1)
        assert head.startswith(b"HTTP/1.1 101"), head

    def join(self, authid: str, ticket: str) -> None:
        self.handshake()
        self.send([1, "taxi", {"authmethods": ["ticket"], "authid": authid, "roles": {"subscriber": {}, "caller": {}}}])
        challenge = self.receive()
        assert challenge[0] == 4, challenge
        self.send([5, ticket, {}])
        welcome = self.receive()
        assert welcome[0] == 2, welcome

    def subscribe(self, topic: str) -> None:
        self.send([32, 1, {}, topic])
        subscribed = self.receive()
        assert subscribed[0] == 33, subscribed

    def send(self, message: list) -> None:
        self.send_frame(json.dumps(message).encode())

    def send_frame(self, payload: bytes, opcode: int = 1) -> None:
        n = len(payload)
        if n < 126:
            length = bytes([0x80 | n])
        elif n < 1 << 16:
            length = bytes([0x80 | 126]) + struct.pack("!H", n)
        else:
            length = bytes([0x80 | 127]) + struct.pack("!Q", n)
        mask = os.urandom(4)
        key = (mask * (n // 4 + 1))[:n]
        masked = (int.from_bytes(payload, "big") ^ int.from_bytes(key, "big")).to_bytes(n, "big") if n else b""
        self.sock.sendall(bytes([0x80 | opcode]) + length + mask + masked)

    def receive(self) -> list:
        """The next WAMP message; answers pings on the way, raises Closed on a close frame."""
        while True:
            opcode, payload = self._frame()
            if opcode == PING:
                self.send_frame(payload, PONG)
            elif opcode == CLOSE:
                raise Closed(struct.unpack("!H", payload[:2])[0] if len(payload) >= 2 else None)
            elif opcode in (1, 2):
                return json.loads(payload)

    def tcp_state(self) -> int:
        return self.sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 8)[0]

    def closed_by_router(self) -> bool:
        """Whether the router has ended the connection (FIN or RST), without reading what it sent."""
        return self.tcp_state() != TCP_ESTABLISHED

    def close(self) -> None:
        self.sock.close()

    def _frame(self) -> tuple[int, bytes]:
        head = self._take(2)
        opcode, n = head[0] & 0x0F, head[1] & 0x7F
        if n == 126:
            n = struct.unpack("!H", self._take(2))[0]
        elif n == 127:
            n = struct.unpack("!Q", self._take(8))[0]
        return opcode, self._take(n)  # the router does not mask its frames

    def _take(self, n: int) -> bytes:
        while len(self._buffer) < n:
            self._fill()
        taken, self._buffer = self._buffer[:n], self._buffer[n:]
        return taken

    def _fill(self) -> None:
        data = self.sock.recv(65536)
        if not data:
            raise Closed(None)
        self._buffer += data
