"""Ask an ASGI app whether it really serves a route, with raw ASGI calls.

Status and body are all these probes look at, so order does not matter here; raw calls
keep the probes independent of the installed httpx and Starlette TestClient, which do
not agree with each other on every supported Starlette version. FastAPI-free: the
Starlette-only environment uses it too. Test modules import it by its dotted name
(`packages.introspect.tests._introspect_probe`).
"""

from __future__ import annotations

import re
from typing import Any

from starlette.types import ASGIApp, Message, Scope

DEFAULT_HOST = "testserver"
_PARAM = re.compile(r"{(\w+)(?::(\w+))?}")
_SAMPLE_VALUES = {None: "v", "str": "v", "int": "7", "float": "1.5", "path": "a/b"}


def concrete_path(template: str) -> str:
    """Fill every `{name}` / `{name:convertor}` of a path template with a matching value."""
    return _PARAM.sub(lambda match: _SAMPLE_VALUES[match.group(2)], template)


def _scope(kind: str, path: str, host: str | None, **extra: Any) -> Scope:
    host = host or DEFAULT_HOST
    return {
        "type": kind,
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "path": path,
        "raw_path": path.encode(),
        "root_path": "",
        "query_string": b"",
        "headers": [(b"host", host.encode())],
        "client": ("127.0.0.1", 50000),
        "server": (host, 80),
        **extra,
    }


async def _call(app: ASGIApp, scope: Scope, first: Message, then: Message) -> list[Message]:
    """Call `app` with one incoming message, then `then` forever; return what it sent."""
    incoming = [first]
    sent: list[Message] = []

    async def receive() -> Message:
        return incoming.pop() if incoming else then

    async def send(message: Message) -> None:
        sent.append(message)

    await app(scope, receive, send)
    return sent


async def http(app: ASGIApp, method: str, path: str, host: str | None = None) -> tuple[int, bytes]:
    """Send one bodiless request; return the response status and body."""
    sent = await _call(
        app,
        _scope("http", path, host, method=method, scheme="http"),
        {"type": "http.request", "body": b"", "more_body": False},
        {"type": "http.disconnect"},
    )
    start = next(message for message in sent if message["type"] == "http.response.start")
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return start["status"], body


async def websocket_text(app: ASGIApp, path: str, host: str | None = None) -> str | None:
    """Open a WebSocket; return the first text the app sends, or None if it refused."""
    sent = await _call(
        app,
        _scope("websocket", path, host, scheme="ws", subprotocols=[]),
        {"type": "websocket.connect"},
        {"type": "websocket.disconnect", "code": 1000},
    )
    if not sent or sent[0]["type"] != "websocket.accept":
        return None
    return next((m.get("text") for m in sent if m["type"] == "websocket.send"), None)


async def serves(app: ASGIApp, method: str, path: str, host: str | None = None) -> bool:
    """Whether `METHOD path` (templates) reaches a route: not a 404/405, or a WS accept."""
    concrete = concrete_path(path)
    host = concrete_path(host) if host else None
    if method == "WS":
        return await websocket_text(app, concrete, host) is not None
    status, _ = await http(app, method, concrete, host)
    return status not in (404, 405)
