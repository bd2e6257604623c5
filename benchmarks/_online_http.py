"""A minimal keep-alive HTTP/1.1 client over one socket, for measuring servers, not itself.

One connection is opened and reused for every request (like a service calling a feature server
through a pooled client). A request is bytes prepared before the clock starts; an answer is read
to the end of its body (``Content-Length`` or chunked). The client's own cost is a ``sendall``,
a few ``recv`` calls and header parsing: a few microseconds, far below any HTTP library.
"""

from __future__ import annotations

import socket

import orjson


class HttpError(RuntimeError):
    """The server closed the connection or sent something this client does not understand."""


def post_request(path: str, body: object, port: int) -> bytes:
    """The bytes of one ``POST path`` with a JSON body, keep-alive."""
    payload = orjson.dumps(body)
    head = (
        f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
        "Content-Type: application/json\r\nAccept: application/json\r\n"
        f"Content-Length: {len(payload)}\r\n\r\n"
    )
    return head.encode() + payload


class KeepAliveClient:
    """Sends prepared requests on one persistent connection; returns (status, body)."""

    def __init__(self, port: int, timeout_s: float = 30.0) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout_s)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buf = b""

    def close(self) -> None:
        self.sock.close()

    def send(self, request: bytes) -> tuple[int, bytes]:
        self.sock.sendall(request)
        head = self._until(b"\r\n\r\n")
        lines = head.split(b"\r\n")
        try:
            status = int(lines[0].split(b" ", 2)[1])
        except (IndexError, ValueError):
            raise HttpError(f"bad status line {lines[0][:80]!r}") from None
        length: int | None = None
        chunked = False
        for line in lines[1:]:
            name, _, value = line.partition(b":")
            name = name.strip().lower()
            if name == b"content-length":
                length = int(value.strip())
            elif name == b"transfer-encoding" and b"chunked" in value.lower():
                chunked = True
        if chunked:
            return status, self._chunked()
        return status, self._exactly(length or 0)

    def _fill(self) -> None:
        data = self.sock.recv(1 << 16)
        if not data:
            raise HttpError("the server closed the connection")
        self.buf += data

    def _until(self, mark: bytes) -> bytes:
        while True:
            i = self.buf.find(mark)
            if i >= 0:
                out, self.buf = self.buf[:i], self.buf[i + len(mark) :]
                return out
            self._fill()

    def _exactly(self, n: int) -> bytes:
        while len(self.buf) < n:
            self._fill()
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def _chunked(self) -> bytes:
        parts: list[bytes] = []
        while True:
            size = int(self._until(b"\r\n").split(b";")[0], 16)
            if size == 0:
                self._until(b"\r\n")
                return b"".join(parts)
            parts.append(self._exactly(size))
            self._exactly(2)
