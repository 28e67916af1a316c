"""A response-scoped context that sets response headers while it exits, for the tests."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from mintaka.core import response_headers, response_status

__all__ = ["start_headers", "telling"]


@asynccontextmanager
async def telling(request: Any, *, fail: bool = False) -> AsyncIterator[None]:
    """A context that tells the client, while exiting, which status it exited for."""
    try:
        yield
    finally:
        headers = response_headers(request)
        headers["X-Exited-For"] = str(response_status(request))
        headers.append("Set-Cookie", "a=1")
        headers.append("Set-Cookie", "b=2")
    if fail:
        raise RuntimeError("exiting failed")


def start_headers(exchange: Any) -> list[tuple[str, str]]:
    return [(k.decode(), v.decode()) for k, v in exchange.headers]
