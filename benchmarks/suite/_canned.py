"""The fastest server there can be: a fixed response to every request, no framework."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import socket

_BODY = b'{"text":"buy milk"}'
RESPONSE = (
    b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n"
    b"content-length: " + str(len(_BODY)).encode() + b"\r\n\r\n" + _BODY
)


class _Answer(asyncio.Protocol):
    """Answers each complete request head (the benchmark sends no bodies)."""

    def __init__(self) -> None:
        self._pending = b""
        self._transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self._transport = transport

    def data_received(self, data: bytes) -> None:
        self._pending += data
        complete = self._pending.count(b"\r\n\r\n")
        if complete and self._transport is not None:
            self._pending = self._pending.rsplit(b"\r\n\r\n", 1)[1]
            self._transport.write(RESPONSE * complete)


async def canned_server(listener: socket.socket) -> None:
    """Serve `RESPONSE` on `listener` until cancelled."""
    server = await asyncio.get_running_loop().create_server(_Answer, sock=listener)
    async with server:
        await server.serve_forever()
