"""The Starlette adapter, with Starlette alone: G1 to G3 and G5 at `send`, loud misuse.

Runs in the FastAPI-free environment too (`hatch run starlette:pytest packages/core/tests`).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest
from starlette.applications import Starlette
from starlette.background import BackgroundTask
from starlette.endpoints import HTTPEndpoint
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Mount, Route

from mintaka.core import ResponseScopeError, response_stack
from mintaka.core.starlette import ResponseScopedRoute, response_scoped
from testing.asgi import BODY, START, call, recorded

pytestmark = pytest.mark.anyio


@asynccontextmanager
async def conflict_on_exit(events: list[str]) -> AsyncIterator[None]:
    """A context whose commit finds a conflict."""
    yield
    events.append("conflict")
    raise HTTPException(status_code=409, detail="version conflict")


def build_app(events: list[str]) -> Starlette:
    """A Starlette app using both the route class and the decorator, one under a Mount."""

    async def open_two(request: Request) -> None:
        stack = response_stack(request)
        await stack.enter_async_context(recorded(events, "outer"))
        await stack.enter_async_context(recorded(events, "inner"))

    async def create_note(request: Request) -> Response:
        await open_two(request)
        events.append("endpoint")
        return JSONResponse({"id": 1}, status_code=201)

    @response_scoped
    async def fails(request: Request) -> Response:
        await open_two(request)
        raise ValueError("endpoint failed")

    async def missing(request: Request) -> Response:
        await open_two(request)
        raise HTTPException(status_code=404, detail="no such note")

    async def conflict(request: Request) -> Response:
        await response_stack(request).enter_async_context(conflict_on_exit(events))
        return PlainTextResponse("saved")

    async def background(request: Request) -> Response:
        await open_two(request)

        async def task() -> None:
            try:
                response_stack(request)
            except ResponseScopeError as error:
                events.append(type(error).__name__)

        return PlainTextResponse("queued", background=BackgroundTask(task))

    return Starlette(
        routes=[
            ResponseScopedRoute("/notes", create_note, methods=["POST"]),
            Route("/fails", fails),
            Mount(
                "/api",
                routes=[
                    ResponseScopedRoute("/missing", missing),
                    ResponseScopedRoute("/conflict", conflict),
                    ResponseScopedRoute("/background", background),
                ],
            ),
        ]
    )


async def test_contexts_exit_in_lifo_order_before_the_response() -> None:
    events: list[str] = []
    exchange = await call(build_app(events), "/notes", method="POST", events=events)

    assert exchange.status == 201
    assert exchange.json() == {"id": 1}
    assert events == [
        "outer enter",
        "inner enter",
        "endpoint",
        "inner exit",
        "outer exit",
        START,
        BODY,
    ]


@pytest.mark.parametrize(
    ("path", "error", "status"),
    [
        pytest.param("/fails", "ValueError", 500, id="decorated_endpoint_error"),
        pytest.param("/api/missing", "HTTPException", 404, id="mounted_http_exception"),
    ],
)
async def test_endpoint_errors_reach_every_context_before_the_error_response(
    path: str, error: str, status: int
) -> None:
    events: list[str] = []
    exchange = await call(build_app(events), path, events=events, raises=ValueError)

    assert exchange.status == status
    assert events == [
        "outer enter",
        "inner enter",
        f"inner exit {error}",
        f"outer exit {error}",
        START,
        BODY,
    ]


async def test_http_exception_while_exiting_replaces_the_response() -> None:
    events: list[str] = []
    exchange = await call(build_app(events), "/api/conflict", events=events)

    assert exchange.status == 409
    assert exchange.body == b"version conflict"
    assert events == ["conflict", START, BODY]


async def test_background_task_runs_after_the_scope_closed_and_cannot_reopen_it() -> None:
    events: list[str] = []
    exchange = await call(build_app(events), "/api/background", events=events)

    assert exchange.body == b"queued"
    assert events == [
        "outer enter",
        "inner enter",
        "inner exit",
        "outer exit",
        START,
        BODY,
        "ResponseScopeError",
    ]


def test_decorated_endpoint_keeps_its_name_for_url_lookup() -> None:
    app = build_app([])

    assert app.url_path_for("fails") == "/fails"
    assert app.url_path_for("create_note") == "/notes"


async def test_plain_starlette_route_fails_loudly_naming_the_fix() -> None:
    async def read_notes(request: Request) -> Response:
        response_stack(request)
        return PlainTextResponse("unreachable")

    app = Starlette(routes=[Route("/notes", read_notes)])
    exchange = await call(app, "/notes", raises=ResponseScopeError)

    assert exchange.status == 500
    message = str(exchange.raised)
    assert message.startswith(
        "response_stack() needs a response scope, but the route of GET /notes (endpoint "
        "test_plain_starlette_route_fails_loudly_naming_the_fix.<locals>.read_notes) does "
        "not open one."
    )
    assert "mintaka.core.starlette.ResponseScopedRoute or wrap the endpoint in" in message


def sync_endpoint(request: Request) -> Response:
    return PlainTextResponse("sync")


class NotesEndpoint(HTTPEndpoint):
    async def get(self, request: Request) -> Response:
        return PlainTextResponse("class")


@pytest.mark.parametrize("endpoint", [sync_endpoint, NotesEndpoint], ids=["sync", "class"])
def test_route_rejects_endpoints_it_cannot_scope(endpoint: object) -> None:
    with pytest.raises(TypeError) as raised:
        ResponseScopedRoute("/notes", endpoint)  # type: ignore[arg-type]

    assert str(raised.value) == (
        f"ResponseScopedRoute('/notes') expects an async function endpoint, "
        f"`async def endpoint(request) -> Response`, got {endpoint!r}. Make the function "
        "async; for a class endpoint (HTTPEndpoint) use a plain Route and open "
        "`async with ResponseScope(request.scope):` around the code that builds the response."
    )


def test_decorator_rejects_a_sync_endpoint() -> None:
    with pytest.raises(TypeError) as raised:
        response_scoped(sync_endpoint)  # type: ignore[arg-type]

    assert str(raised.value) == (
        "response_scoped() expects an async function, `async def endpoint(request) -> "
        f"Response`, got {sync_endpoint!r}. Make the endpoint async; in a FastAPI app use "
        "mintaka.core.fastapi.ResponseScopedRoute instead, which also runs sync endpoints."
    )
