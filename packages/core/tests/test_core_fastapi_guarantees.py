"""G1 to G3 on a FastAPI app, observed at the ASGI `send` callable.

G1: response-scoped contexts exit after the endpoint returned and the response was
validated, serialized and rendered, in LIFO order, before `http.response.start`.
G2: a failing exit replaces the response; the original 2xx never reaches the wire.
G3: an error from the endpoint, from response validation or from request validation is
thrown into every context before the error response is sent.
"""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest

pytest.importorskip("fastapi", reason="the FastAPI adapter needs FastAPI")

from fastapi import APIRouter, Depends, FastAPI, HTTPException, Request
from fastapi.exceptions import ResponseValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, field_serializer, field_validator

from mintaka.core import response_stack
from mintaka.core.fastapi import ResponseScopedRoute
from testing.asgi import BODY, START, call, recorded

pytestmark = pytest.mark.anyio


class CommitFailedError(Exception):
    """A teardown failure that the app maps to its own response."""


@asynccontextmanager
async def failing_exit(events: list[str], error: Exception) -> AsyncIterator[None]:
    """A context that enters fine and raises `error` when it exits without an error."""
    yield
    events.append(f"raise {type(error).__name__}")
    raise error


def build_app(events: list[str]) -> FastAPI:
    """An app whose routes log every step from the endpoint to the rendered body."""

    class Note(BaseModel):
        text: str

        @field_validator("text")
        @classmethod
        def _log_validation(cls, value: str) -> str:
            events.append("validate")
            return value

        @field_serializer("text")
        def _log_serialization(self, value: str) -> str:
            events.append("serialize")
            return value

    class LoggingJSONResponse(JSONResponse):
        def render(self, content: Any) -> bytes:
            events.append("render")
            return super().render(content)

    async def open_two(request: Request) -> None:
        stack = response_stack(request)
        await stack.enter_async_context(recorded(events, "outer"))
        await stack.enter_async_context(recorded(events, "inner"))

    async def needs_a_number(number: int) -> int:
        return number

    router = APIRouter(route_class=ResponseScopedRoute, dependencies=[Depends(open_two)])

    @router.get("/model", response_model=Note)
    async def model() -> dict[str, str]:
        events.append("endpoint")
        return {"text": "hello"}

    @router.get("/rendered", response_model=Note, response_class=LoggingJSONResponse)
    async def rendered() -> dict[str, str]:
        events.append("endpoint")
        return {"text": "hello"}

    @router.get("/sync", response_model=Note)
    def sync_endpoint() -> dict[str, str]:
        events.append("endpoint")
        return {"text": "hello"}

    @router.get("/fails")
    async def fails() -> None:
        raise ValueError("endpoint failed")

    @router.get("/missing")
    async def missing() -> None:
        raise HTTPException(status_code=404, detail="no such note")

    @router.get("/invalid-response", response_model=Note)
    async def invalid_response() -> dict[str, int]:
        return {"wrong": 1}

    @router.get("/invalid-request")
    async def invalid_request(number: int = Depends(needs_a_number)) -> int:
        return number

    @router.get("/conflict")
    async def conflict(request: Request) -> dict[str, str]:
        error = HTTPException(status_code=409, detail="version conflict")
        await response_stack(request).enter_async_context(failing_exit(events, error))
        return {"status": "saved"}

    @router.get("/commit-fails")
    async def commit_fails(request: Request) -> dict[str, str]:
        error = RuntimeError("commit failed")
        await response_stack(request).enter_async_context(failing_exit(events, error))
        return {"status": "saved"}

    @router.get("/commit-fails-handled")
    async def commit_fails_handled(request: Request) -> dict[str, str]:
        error = CommitFailedError("commit failed")
        await response_stack(request).enter_async_context(failing_exit(events, error))
        return {"status": "saved"}

    @router.get("/swallowed")
    async def swallowed(request: Request) -> None:
        await response_stack(request).enter_async_context(swallowing(events))
        raise ValueError("endpoint failed")

    app = FastAPI()

    @app.exception_handler(CommitFailedError)
    async def commit_failed(request: Request, exc: CommitFailedError) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=503)

    app.include_router(router)
    return app


@asynccontextmanager
async def swallowing(events: list[str]) -> AsyncIterator[None]:
    """A context that swallows whatever error reaches it."""
    try:
        yield
    except ValueError:
        events.append("swallowed")


@pytest.mark.parametrize(
    ("path", "steps"),
    [
        pytest.param("/model", ["endpoint", "validate", "serialize"], id="response_model"),
        pytest.param(
            "/rendered",
            ["endpoint", "validate", "serialize", "render"],
            id="custom_response_class",
        ),
        pytest.param("/sync", ["endpoint", "validate", "serialize"], id="sync_endpoint"),
    ],
)
async def test_contexts_exit_after_serialization_and_before_the_response(
    path: str, steps: list[str]
) -> None:
    events: list[str] = []
    exchange = await call(build_app(events), path, events=events)

    assert exchange.status == 200
    assert exchange.json() == {"text": "hello"}
    assert events == [
        "outer enter",
        "inner enter",
        *steps,
        "inner exit",
        "outer exit",
        START,
        BODY,
    ]


@pytest.mark.parametrize(
    ("path", "error", "status"),
    [
        pytest.param("/fails", "ValueError", 500, id="endpoint_error"),
        pytest.param("/missing", "HTTPException", 404, id="endpoint_http_exception"),
        pytest.param("/invalid-response", "ResponseValidationError", 500, id="response_validation"),
        pytest.param(
            "/invalid-request?number=x", "RequestValidationError", 422, id="request_validation"
        ),
    ],
)
async def test_errors_reach_every_context_before_the_error_response(
    path: str, error: str, status: int
) -> None:
    events: list[str] = []
    exchange = await call(
        build_app(events), path, events=events, raises=(ValueError, ResponseValidationError)
    )

    assert exchange.status == status
    assert events == [
        "outer enter",
        "inner enter",
        f"inner exit {error}",
        f"outer exit {error}",
        START,
        BODY,
    ]
    if status == 500:
        assert type(exchange.raised).__name__ == error


async def test_http_exception_while_exiting_replaces_the_response() -> None:
    events: list[str] = []
    exchange = await call(build_app(events), "/conflict", events=events)

    assert exchange.status == 409
    assert exchange.json() == {"detail": "version conflict"}
    assert events == [
        "outer enter",
        "inner enter",
        "raise HTTPException",
        "inner exit HTTPException",
        "outer exit HTTPException",
        START,
        BODY,
    ]


async def test_failing_exit_is_never_acknowledged_as_success() -> None:
    events: list[str] = []
    exchange = await call(build_app(events), "/commit-fails", events=events, raises=RuntimeError)

    # ServerErrorMiddleware sends the 500 and then re-raises for the server to log;
    # `status` unpacks the one and only http.response.start, so no 2xx went out before it.
    assert exchange.status == 500
    assert exchange.body == b"Internal Server Error"
    assert isinstance(exchange.raised, RuntimeError)
    assert str(exchange.raised) == "commit failed"
    assert events[-4:] == ["inner exit RuntimeError", "outer exit RuntimeError", START, BODY]


async def test_failing_exit_goes_through_the_apps_exception_handlers() -> None:
    events: list[str] = []
    exchange = await call(build_app(events), "/commit-fails-handled", events=events)

    assert exchange.status == 503
    assert exchange.json() == {"detail": "commit failed"}
    assert events.index("outer exit CommitFailedError") < events.index(START)


async def test_a_context_that_swallows_the_error_does_not_turn_it_into_success() -> None:
    events: list[str] = []
    exchange = await call(build_app(events), "/swallowed", events=events, raises=ValueError)

    assert exchange.status == 500
    assert isinstance(exchange.raised, ValueError)
    # An exit stack hides a swallowed error from the contexts entered before it.
    assert events == [
        "outer enter",
        "inner enter",
        "swallowed",
        "inner exit",
        "outer exit",
        START,
        BODY,
    ]
