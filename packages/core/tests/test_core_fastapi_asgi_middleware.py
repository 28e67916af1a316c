"""ResponseScopeMiddleware on FastAPI, instead of (and together with) the route class.

Observed at the ASGI `send` callable on every FastAPI version of the matrix.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest

pytest.importorskip("fastapi", reason="these tests wrap a FastAPI app")

from fastapi import APIRouter, FastAPI, HTTPException, Request
from fastapi.responses import JSONResponse

from mintaka.core import response_stack, response_status
from mintaka.core.asgi import ResponseScopeMiddleware
from mintaka.core.fastapi import ResponseScopedRoute
from testing.asgi import BODY, START, call, recorded

pytestmark = pytest.mark.anyio


@asynccontextmanager
async def seeing_status(events: list[str], request: Request) -> AsyncIterator[None]:
    try:
        yield
    finally:
        events.append(f"status {response_status(request)}")


@asynccontextmanager
async def failing_commit() -> AsyncIterator[None]:
    yield
    raise RuntimeError("duplicate key value violates unique constraint")


def build_app(events: list[str], *, route_class: type | None = None) -> FastAPI:
    router = APIRouter() if route_class is None else APIRouter(route_class=route_class)

    async def open_contexts(request: Request) -> None:
        stack = response_stack(request)
        await stack.enter_async_context(recorded(events, "db"))
        await stack.enter_async_context(seeing_status(events, request))

    @router.post("/notes", status_code=201)
    async def create_note(request: Request) -> dict[str, int]:
        await open_contexts(request)
        events.append("endpoint")
        return {"id": 1}

    @router.get("/notes/{note_id}")
    async def read_note(request: Request, note_id: int) -> dict[str, int]:
        await open_contexts(request)
        raise HTTPException(status_code=404, detail="no such note")

    @router.get("/fails")
    async def fails(request: Request) -> dict[str, int]:
        await open_contexts(request)
        raise ValueError("endpoint failed")

    @router.put("/notes/1")
    async def update_note(request: Request) -> dict[str, int]:
        await response_stack(request).enter_async_context(failing_commit())
        return {"id": 1}

    app = FastAPI()
    app.include_router(router)
    app.add_middleware(ResponseScopeMiddleware)

    @app.exception_handler(RuntimeError)
    async def runtime_error(request: Request, error: RuntimeError) -> JSONResponse:
        events.append("the app's handler ran")
        return JSONResponse({"detail": "handled"}, status_code=418)

    return app


async def test_a_plain_apiroute_gets_a_scope_that_exits_before_the_start() -> None:
    events: list[str] = []

    exchange = await call(build_app(events), "/notes", events=events, method="POST")

    assert exchange.status == 201
    assert exchange.json() == {"id": 1}
    assert events == ["db enter", "endpoint", "status 201", "db exit", START, BODY]


async def test_an_http_exception_reaches_the_contexts_as_its_status() -> None:
    events: list[str] = []

    exchange = await call(build_app(events), "/notes/7", events=events)

    assert exchange.status == 404
    assert events == ["db enter", "status 404", "db exit", START, BODY]


async def test_an_unhandled_endpoint_error_is_thrown_into_the_contexts() -> None:
    events: list[str] = []

    exchange = await call(build_app(events), "/fails", events=events, raises=ValueError)

    assert exchange.status == 500
    assert isinstance(exchange.raised, ValueError)
    assert events == ["db enter", "status None", "db exit ValueError", START, BODY]


async def test_an_exit_error_is_answered_by_the_middleware_not_the_apps_handlers() -> None:
    events: list[str] = []

    exchange = await call(build_app(events), "/notes/1", events=events, method="PUT")

    assert exchange.status == 500
    assert exchange.body == b"Internal Server Error"
    assert "the app's handler ran" not in events


async def test_with_the_route_class_too_there_is_one_scope_exiting_once() -> None:
    events: list[str] = []
    app = build_app(events, route_class=ResponseScopedRoute)

    exchange = await call(app, "/notes", events=events, method="POST")

    assert exchange.status == 201
    assert events == ["db enter", "endpoint", "status 201", "db exit", START, BODY]
