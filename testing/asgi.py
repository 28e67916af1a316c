"""Drive ASGI apps with raw calls and record the order of everything that happens.

Order is observed at the ASGI `send` callable: each message the app sends is appended to
the same event log that the app's contexts, endpoints and background tasks write to, so a
test can say "this context exited before `http.response.start`" and mean the wire.

Every test tree of the monorepo imports it as `testing.asgi`: the package tests under
`packages/*/tests` and the cross-package suite under `tests/` alike, so no package's tests
import another package's tests. pytest finds it through `pythonpath = ["."]` in the root
pyproject.toml, mypy through the repository root being its working directory. It is not
shipped in any distribution, and it must stay FastAPI-free: the Starlette-only
environment uses it too.
"""

from __future__ import annotations

import json
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from importlib.metadata import PackageNotFoundError, version
from typing import TYPE_CHECKING, Any

import anyio

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Awaitable, Callable, Iterable

    from starlette.types import ASGIApp, Message, Receive, Scope

START = "response.start"
"""The event logged when the app sends `http.response.start`."""
BODY = "response.body"
"""The event logged for every `http.response.body` message the app sends."""


def fastapi_version() -> tuple[int, int]:
    """The installed FastAPI's (major, minor) version; (0, 0) when FastAPI is absent."""
    try:
        installed = version("fastapi")
    except PackageNotFoundError:
        return (0, 0)
    major, minor = installed.split(".")[:2]
    return (int(major), int(minor))


@asynccontextmanager
async def recorded(events: list[str], name: str) -> AsyncIterator[str]:
    """A context that logs `"<name> enter"`, then `"<name> exit"` or `"<name> exit <Error>"`."""
    events.append(f"{name} enter")
    try:
        yield name
    except BaseException as error:
        events.append(f"{name} exit {type(error).__name__}")
        raise
    events.append(f"{name} exit")


@dataclass
class Exchange:
    """One request as the server saw it: the messages sent and what the app raised."""

    events: list[str]
    messages: list[Message] = field(default_factory=list)
    raised: Exception | None = None

    @property
    def status(self) -> int:
        """The status code of `http.response.start`."""
        (start,) = [m for m in self.messages if m["type"] == "http.response.start"]
        status: int = start["status"]
        return status

    @property
    def headers(self) -> list[tuple[bytes, bytes]]:
        """The raw headers of `http.response.start`, in order."""
        (start,) = [m for m in self.messages if m["type"] == "http.response.start"]
        return [(bytes(k), bytes(v)) for k, v in start.get("headers", [])]

    @property
    def body(self) -> bytes:
        """Every body chunk, joined."""
        return b"".join(
            m.get("body", b"") for m in self.messages if m["type"] == "http.response.body"
        )

    def json(self) -> Any:
        """The body decoded as JSON."""
        return json.loads(self.body)

    def before(self, first: str, second: str) -> bool:
        """Whether event `first` was logged before event `second` (both must be logged)."""
        return self.events.index(first) < self.events.index(second)


def http_scope(
    target: str, *, method: str = "GET", headers: Iterable[tuple[bytes, bytes]] = ()
) -> Scope:
    """An ASGI HTTP scope for `target` (a path with an optional `?query`)."""
    path, _, query = target.partition("?")
    return {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.4"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": query.encode(),
        "root_path": "",
        "headers": [(b"host", b"testserver"), *headers],
        "client": ("127.0.0.1", 50000),
        "server": ("testserver", 80),
    }


async def call(
    app: ASGIApp,
    target: str,
    *,
    events: list[str] | None = None,
    method: str = "GET",
    body: bytes = b"",
    headers: Iterable[tuple[bytes, bytes]] = (),
    raises: type[Exception] | tuple[type[Exception], ...] = (),
    receive: Receive | None = None,
    on_start: Callable[[Message], Awaitable[None]] | None = None,
) -> Exchange:
    """Send one HTTP request to `app` as a server would and record what it sends.

    Args:
        app: The ASGI application.
        target: Path and optional query string, `"/notes?limit=2"`.
        events: The log shared with the app; `response.start`/`response.body` are appended.
        method: The HTTP method.
        body: The request body, delivered in one `http.request` message.
        headers: Extra request headers.
        raises: Exception types the app may raise after sending (Starlette's
            `ServerErrorMiddleware` sends a 500 and then re-raises); the one raised is kept
            in `Exchange.raised`. Anything else propagates.
        receive: A replacement `receive` callable, for tests that script the client.
        on_start: Awaited with the `http.response.start` message when the app sends it,
            before it is recorded: the moment the client would learn the status, for tests
            that look at the world (a database, a file) exactly then.

    Returns:
        The recorded exchange.
    """
    exchange = Exchange(events=[] if events is None else events)
    complete = anyio.Event()
    delivered = False

    async def receive_request() -> Message:
        nonlocal delivered
        if not delivered:
            delivered = True
            return {"type": "http.request", "body": body, "more_body": False}
        await complete.wait()
        return {"type": "http.disconnect"}

    async def send(message: Message) -> None:
        if message["type"] == "http.response.start" and on_start is not None:
            await on_start(message)
        exchange.messages.append(message)
        if message["type"] == "http.response.start":
            exchange.events.append(START)
        elif message["type"] == "http.response.body":
            exchange.events.append(BODY)
            if not message.get("more_body", False):
                complete.set()

    scope = http_scope(target, method=method, headers=headers)
    try:
        await app(scope, receive or receive_request, send)
    except raises as error:
        exchange.raised = error
    return exchange


async def call_websocket(app: ASGIApp, path: str, incoming: Iterable[Message]) -> list[Message]:
    """Open a WebSocket to `app`, deliver `incoming` after the connect, return what it sent.

    A `websocket.disconnect` follows the scripted messages, so the endpoint ends.
    """
    script: list[Message] = [
        {"type": "websocket.connect"},
        *incoming,
        {"type": "websocket.disconnect", "code": 1000},
    ]
    sent: list[Message] = []

    async def receive() -> Message:
        return script.pop(0)

    async def send(message: Message) -> None:
        sent.append(message)

    scope: Scope = {
        **http_scope(path),
        "type": "websocket",
        "scheme": "ws",
        "subprotocols": [],
    }
    del scope["method"]
    await app(scope, receive, send)
    return sent
