"""A response scope leaves nothing behind for the cycle collector.

A reference cycle per request (the ASGI scope pointing at the response scope and back)
would keep every request's objects alive until the next collection: memory churn and
collector pauses under load. These tests count what only the cycle collector can free.
"""

from __future__ import annotations

import gc
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any

import pytest

pytest.importorskip("fastapi", reason="the FastAPI route class needs FastAPI")

from fastapi import APIRouter, FastAPI, Request
from fastapi.routing import APIRoute

from mintaka.core import response_stack
from mintaka.core.fastapi import ResponseScopedRoute
from testing.asgi import http_scope

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

pytestmark = pytest.mark.anyio


@asynccontextmanager
async def resource() -> AsyncIterator[None]:
    yield


def app_with(route_class: type[APIRoute], *, uses_stack: bool) -> FastAPI:
    router = APIRouter(route_class=route_class)

    @router.get("/notes")
    async def read_notes(request: Request) -> dict[str, int]:
        if uses_stack:
            await response_stack(request).enter_async_context(resource())
        return {"count": 3}

    app = FastAPI()
    app.include_router(router)
    return app


async def cyclic_garbage(app: FastAPI, requests: int = 50) -> int:
    """Objects that only the cycle collector frees after ``requests`` requests."""

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: Any) -> None:
        pass

    await app(http_scope("/notes"), receive, send)  # first request builds lazy state
    gc.collect()
    gc.disable()
    try:
        for _ in range(requests):
            await app(http_scope("/notes"), receive, send)
        return gc.collect()
    finally:
        gc.enable()


@pytest.mark.parametrize("uses_stack", [False, True], ids=["stack unused", "stack used"])
async def test_response_scoped_request_leaves_no_more_garbage_than_plain_fastapi(
    uses_stack: bool,
) -> None:
    plain = await cyclic_garbage(app_with(APIRoute, uses_stack=False))
    scoped = await cyclic_garbage(app_with(ResponseScopedRoute, uses_stack=uses_stack))

    assert scoped <= plain
