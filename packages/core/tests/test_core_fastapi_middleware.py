"""G1 and G2 hold behind middleware: the order is the wire's, not the route's.

`BaseHTTPMiddleware` runs the app in a separate task and relays the response through a
stream; a pure ASGI middleware wraps `send`. Neither may let the response out first.
"""

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

import pytest

pytest.importorskip("fastapi", reason="the FastAPI adapter needs FastAPI")

from fastapi import APIRouter, FastAPI, HTTPException, Request
from starlette.middleware.base import BaseHTTPMiddleware
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from mintaka.core import response_stack
from mintaka.core.fastapi import ResponseScopedRoute
from testing.asgi import BODY, START, call, recorded

pytestmark = pytest.mark.anyio


class RelayingMiddleware:
    """A pure ASGI middleware that logs each message it relays to the server."""

    def __init__(self, app: ASGIApp, events: list[str]) -> None:
        self.app = app
        self.events = events

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def relay(message: Message) -> None:
            self.events.append(f"relay {message['type']}")
            await send(message)

        await self.app(scope, receive, relay)


def build_app(events: list[str]) -> FastAPI:
    @asynccontextmanager
    async def conflict_on_exit() -> AsyncIterator[None]:
        yield
        raise HTTPException(status_code=409, detail="version conflict")

    router = APIRouter(route_class=ResponseScopedRoute)

    @router.get("/notes")
    async def read_notes(request: Request) -> list[str]:
        await response_stack(request).enter_async_context(recorded(events, "db"))
        return []

    @router.post("/notes")
    async def create_note(request: Request) -> dict[str, str]:
        await response_stack(request).enter_async_context(conflict_on_exit())
        return {"status": "saved"}

    async def log_call_next(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        response = await call_next(request)
        events.append(f"call_next returned {response.status_code}")
        return response

    app = FastAPI()
    app.include_router(router)
    app.add_middleware(BaseHTTPMiddleware, dispatch=log_call_next)
    app.add_middleware(RelayingMiddleware, events=events)
    return app


async def test_contexts_exit_before_any_middleware_sees_the_response() -> None:
    events: list[str] = []
    exchange = await call(build_app(events), "/notes", events=events)

    assert exchange.status == 200
    assert events[:5] == [
        "db enter",
        "db exit",
        "call_next returned 200",
        "relay http.response.start",
        START,
    ]
    # BaseHTTPMiddleware relays the body in chunks; only body messages follow.
    assert set(events[5:]) == {"relay http.response.body", BODY}


async def test_failing_exit_replaces_the_response_behind_middleware() -> None:
    events: list[str] = []
    exchange = await call(build_app(events), "/notes", method="POST", events=events)

    assert exchange.status == 409
    assert exchange.json() == {"detail": "version conflict"}
    assert events[0] == "call_next returned 409"
