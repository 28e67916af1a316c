"""Send one request to an app and look at the database the moment its response starts.

A thin layer over the shared harness (`testing.asgi.call` and its `on_start` hook): at
the moment the app sends `http.response.start`, `at_start` runs (typically a read of the
table through a connection of its own): what it sees is what the client may rely on when
it reads the status.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sqlalchemy.exc import DBAPIError

from testing.asgi import START, call

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

    from starlette.types import ASGIApp, Message

__all__ = ["START", "Observed", "observe"]


@dataclass
class Observed:
    """What one request did, and what `at_start` saw when its response started."""

    events: list[str] = field(default_factory=list)
    status: int = 0
    at_start: Any = None
    raised: Exception | None = None


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

    `START` is appended to `events` (the log the app writes to) when the response starts;
    the response body's chunks are appended to `body` when it is given. An exception the
    app re-raises after sending its 500 (Starlette's `ServerErrorMiddleware` does) is
    kept in `Observed.raised`.
    """
    observed = Observed(events=[] if events is None else events)

    async def on_start(message: Message) -> None:
        observed.events.append(START)
        observed.status = message["status"]
        observed.at_start = await at_start()

    exchange = await call(
        app, path, method=method, raises=(ValueError, DBAPIError), on_start=on_start
    )
    observed.raised = exchange.raised
    if body is not None:
        body.append(exchange.body)
    return observed
