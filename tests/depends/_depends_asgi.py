"""Send one request to an app and look at the database the moment its response starts.

At the moment the app sends `http.response.start`, `at_start` runs (typically a read of
the table through a connection of its own): what it sees is what the client may rely on
when it reads the status.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sqlalchemy.exc import DBAPIError

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

    from starlette.types import ASGIApp, Message, Scope

START = "response.start"


@dataclass
class Observed:
    """What one request did, and what `at_start` saw when its response started."""

    events: list[str] = field(default_factory=list)
    status: int = 0
    at_start: Any = None
    raised: Exception | None = None


def http_scope(path: str, method: str) -> Scope:
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", b"testserver")],
        "client": ("127.0.0.1", 50000),
        "server": ("testserver", 80),
    }


async def observe(
    app: ASGIApp,
    path: str,
    at_start: Callable[[], Awaitable[Any]],
    *,
    method: str = "POST",
    events: list[str] | None = None,
    body: list[bytes] | None = None,
) -> Observed:
    """Send `method path` to `app`; run `at_start` when `http.response.start` is sent.

    The response body's chunks are appended to `body` when it is given.

    An exception the app re-raises after sending its 500 (Starlette's
    `ServerErrorMiddleware` does) is kept in `Observed.raised`.
    """
    observed = Observed(events=[] if events is None else events)
    delivered = False

    async def receive() -> Message:
        nonlocal delivered
        if delivered:
            return {"type": "http.disconnect"}
        delivered = True
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: Message) -> None:
        if message["type"] == "http.response.start":
            observed.events.append(START)
            observed.status = message["status"]
            observed.at_start = await at_start()
        elif message["type"] == "http.response.body" and body is not None:
            body.append(message.get("body", b""))

    try:
        await app(http_scope(path, method), receive, send)
    except (ValueError, DBAPIError) as error:
        observed.raised = error
    return observed
