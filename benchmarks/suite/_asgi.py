"""Raw ASGI calls: the request every in-process benchmark sends, without server or client."""

from __future__ import annotations

import gc
import time
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any, TypeAlias

ASGIApp: TypeAlias = Callable[
    [MutableMapping[str, Any], Callable[[], Awaitable[Any]], Callable[[Any], Awaitable[None]]],
    Awaitable[None],
]

PATH = "/notes"


def http_scope(path: str = PATH) -> dict[str, Any]:
    """A fresh ASGI scope for `GET path`, as a server would build it."""
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", b"bench")],
        "client": ("127.0.0.1", 50000),
        "server": ("bench", 80),
    }


_SCOPE = http_scope()
_REQUEST = {"type": "http.request", "body": b"", "more_body": False}


async def receive() -> dict[str, Any]:
    return _REQUEST


async def discard(message: Any) -> None:
    pass


async def answer(app: ASGIApp, name: str) -> tuple[int, bytes]:
    """One request; the status and body, or `SystemExit` if the app did not answer 200."""
    sent: list[Any] = []

    async def keep(message: Any) -> None:
        sent.append(message)

    await app(dict(_SCOPE), receive, keep)
    status = sent[0].get("status") if sent else None
    body = b"".join(message.get("body", b"") for message in sent[1:])
    if status != 200:
        raise SystemExit(f"{name} answered {sent!r}; the benchmark is broken")
    return status, body


async def same_answers(apps: dict[str, ASGIApp]) -> None:
    """Check that every variant of a comparison answers 200 with the same body."""
    bodies = {name: (await answer(app, name))[1] for name, app in apps.items()}
    if len(set(bodies.values())) != 1:
        raise SystemExit(f"the variants answer differently: {bodies!r}")


async def seconds_per_request(app: ASGIApp, requests: int) -> float:
    """Seconds per request for `requests` requests in a row."""
    scope = _SCOPE
    start = time.perf_counter()
    for _ in range(requests):
        await app(dict(scope), receive, discard)
    return (time.perf_counter() - start) / requests


async def cyclic_garbage(app: ASGIApp, requests: int = 200) -> float:
    """Objects per request that only the cycle collector can free.

    A reference cycle per request keeps the whole request (scope, Request, response) alive
    until the next collection: memory churn and collector time on every request.
    """
    for _ in range(10):
        await app(dict(_SCOPE), receive, discard)
    gc.collect()
    gc.disable()
    try:
        for _ in range(requests):
            await app(dict(_SCOPE), receive, discard)
        return gc.collect() / requests
    finally:
        gc.enable()
