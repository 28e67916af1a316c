"""ResponseScopeMiddleware on bare ASGI apps: G1 to G4 observed at the `send` callable.

The apps here are plain ASGI callables (no framework), so what is tested is the
middleware alone. Runs in the FastAPI-free environment too.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, MutableMapping
from contextlib import asynccontextmanager
from typing import Any

import anyio
import pytest
from starlette.exceptions import HTTPException
from starlette.responses import JSONResponse

from mintaka.core import ResponseScopeError, response_stack, response_status
from mintaka.core.asgi import ResponseScopeMiddleware, default_error_response
from testing.asgi import BODY, START, call, call_websocket, recorded

pytestmark = pytest.mark.anyio

Scope = MutableMapping[str, Any]
Endpoint = Callable[[Scope], Awaitable[None]]


def asgi_app(
    before: Endpoint | None = None,
    *,
    status: int = 201,
    chunks: tuple[bytes, ...] = (b"created",),
    after_start: Endpoint | None = None,
) -> Callable[..., Awaitable[None]]:
    """A bare ASGI app: runs `before`, sends `status` and `chunks`, runs `after_start`."""

    async def app(scope: Scope, receive: Any, send: Any) -> None:
        if before is not None:
            await before(scope)
        await send({"type": "http.response.start", "status": status, "headers": []})
        if after_start is not None:
            await after_start(scope)
        for index, chunk in enumerate(chunks):
            more = index < len(chunks) - 1
            await send({"type": "http.response.body", "body": chunk, "more_body": more})

    return app


@asynccontextmanager
async def seeing_status(events: list[str], scope: Scope) -> AsyncIterator[None]:
    """A context that logs the status it sees while it exits."""
    try:
        yield
    finally:
        events.append(f"status {response_status(scope)}")


@asynccontextmanager
async def failing_commit(events: list[str]) -> AsyncIterator[None]:
    """A context whose commit fails with a message that must never reach the client."""
    yield
    events.append("commit fails")
    raise RuntimeError("INSERT INTO notes VALUES ('secret') violates unique constraint")


async def test_contexts_exit_lifo_before_the_start_and_see_its_status() -> None:
    events: list[str] = []

    async def open_contexts(scope: Scope) -> None:
        stack = response_stack(scope)
        await stack.enter_async_context(recorded(events, "outer"))
        await stack.enter_async_context(seeing_status(events, scope))
        await stack.enter_async_context(recorded(events, "inner"))
        events.append("endpoint")

    app = ResponseScopeMiddleware(asgi_app(open_contexts, status=201))
    exchange = await call(app, "/notes", events=events, method="POST")

    assert events == [
        "outer enter",
        "inner enter",
        "endpoint",
        "inner exit",
        "status 201",
        "outer exit",
        START,
        BODY,
    ]
    assert exchange.status == 201
    assert exchange.body == b"created"


async def test_an_error_status_from_the_app_reaches_the_contexts() -> None:
    events: list[str] = []

    async def open_context(scope: Scope) -> None:
        await response_stack(scope).enter_async_context(seeing_status(events, scope))

    app = ResponseScopeMiddleware(asgi_app(open_context, status=404))
    exchange = await call(app, "/notes/7", events=events)

    assert events == ["status 404", START, BODY]
    assert exchange.status == 404


async def test_a_failing_exit_replaces_the_response_with_a_plain_500(
    caplog: pytest.LogCaptureFixture,
) -> None:
    events: list[str] = []

    async def open_context(scope: Scope) -> None:
        await response_stack(scope).enter_async_context(failing_commit(events))

    app = ResponseScopeMiddleware(
        asgi_app(open_context, status=201, chunks=(b"created ", b"note 1"))
    )
    with caplog.at_level(logging.ERROR, logger="mintaka.core.asgi"):
        exchange = await call(app, "/notes", events=events, method="POST")

    assert events == ["commit fails", START, BODY]
    assert [m["type"] for m in exchange.messages] == ["http.response.start", "http.response.body"]
    assert exchange.status == 500
    assert exchange.body == b"Internal Server Error"
    assert (b"content-type", b"text/plain; charset=utf-8") in exchange.headers
    (record,) = caplog.records
    assert "POST /notes" in record.getMessage()
    assert record.exc_info is not None
    assert isinstance(record.exc_info[1], RuntimeError)


async def test_an_exit_error_with_a_status_code_keeps_its_status() -> None:
    @asynccontextmanager
    async def conflict() -> AsyncIterator[None]:
        yield
        raise HTTPException(status_code=409, detail="version conflict")

    async def open_context(scope: Scope) -> None:
        await response_stack(scope).enter_async_context(conflict())

    exchange = await call(ResponseScopeMiddleware(asgi_app(open_context)), "/notes")

    assert exchange.status == 409
    assert exchange.body == b"Conflict"


@pytest.mark.parametrize("status_code", [200, 302, 600, "409", True])
async def test_an_exit_error_with_a_status_that_is_no_error_status_gets_500(
    status_code: object,
) -> None:
    class Failure(Exception):
        pass

    failure = Failure("exit failed")
    failure.status_code = status_code  # type: ignore[attr-defined]

    @asynccontextmanager
    async def failing() -> AsyncIterator[None]:
        yield
        raise failure

    async def open_context(scope: Scope) -> None:
        await response_stack(scope).enter_async_context(failing())

    exchange = await call(ResponseScopeMiddleware(asgi_app(open_context)), "/notes")

    assert exchange.status == 500


async def test_on_error_builds_the_replacement_response() -> None:
    events: list[str] = []
    seen: list[tuple[str, BaseException]] = []

    async def on_error(scope: Scope, error: Exception) -> JSONResponse:
        seen.append((scope["path"], error))
        return JSONResponse({"detail": "could not save the note"}, status_code=503)

    async def open_context(scope: Scope) -> None:
        await response_stack(scope).enter_async_context(failing_commit(events))

    app = ResponseScopeMiddleware(asgi_app(open_context), on_error=on_error)
    exchange = await call(app, "/notes", events=events, method="POST")

    assert exchange.status == 503
    assert exchange.json() == {"detail": "could not save the note"}
    ((path, error),) = seen
    assert path == "/notes"
    assert isinstance(error, RuntimeError)


async def test_an_on_error_that_fails_falls_back_to_the_default_and_is_logged(
    caplog: pytest.LogCaptureFixture,
) -> None:
    events: list[str] = []

    async def on_error(scope: Scope, error: Exception) -> JSONResponse:
        raise LookupError("the error page is broken too")

    async def open_context(scope: Scope) -> None:
        await response_stack(scope).enter_async_context(failing_commit(events))

    app = ResponseScopeMiddleware(asgi_app(open_context), on_error=on_error)
    with caplog.at_level(logging.ERROR, logger="mintaka.core.asgi"):
        exchange = await call(app, "/notes", events=events, method="PUT")

    assert exchange.status == 500
    assert exchange.body == b"Internal Server Error"
    errors = {type(r.exc_info[1]) for r in caplog.records if r.exc_info is not None}
    assert errors == {LookupError, RuntimeError}
    assert all("PUT /notes" in r.getMessage() for r in caplog.records)


async def test_the_default_error_response_is_usable_from_on_error() -> None:
    async def on_error(scope: Scope, error: Exception) -> Any:
        return await default_error_response(scope, error)

    async def open_context(scope: Scope) -> None:
        await response_stack(scope).enter_async_context(failing_commit([]))

    exchange = await call(ResponseScopeMiddleware(asgi_app(open_context), on_error=on_error), "/")

    assert (exchange.status, exchange.body) == (500, b"Internal Server Error")


async def test_an_app_error_before_the_start_is_thrown_into_the_contexts_and_reraised() -> None:
    events: list[str] = []

    async def fail(scope: Scope) -> None:
        stack = response_stack(scope)
        await stack.enter_async_context(recorded(events, "db"))
        await stack.enter_async_context(seeing_status(events, scope))
        raise ValueError("endpoint failed")

    app = ResponseScopeMiddleware(asgi_app(fail))
    with pytest.raises(ValueError, match="endpoint failed"):
        await call(app, "/notes", events=events)

    assert events == ["db enter", "status None", "db exit ValueError"]


async def test_an_app_error_after_the_start_propagates_after_one_clean_exit() -> None:
    events: list[str] = []

    async def open_context(scope: Scope) -> None:
        await response_stack(scope).enter_async_context(recorded(events, "db"))

    async def fail(scope: Scope) -> None:
        raise ValueError("body failed")

    app = ResponseScopeMiddleware(asgi_app(open_context, after_start=fail))
    with pytest.raises(ValueError, match="body failed"):
        await call(app, "/notes", events=events)

    assert events == ["db enter", "db exit", START]


async def test_an_app_that_never_responds_still_exits_once() -> None:
    events: list[str] = []

    async def app(scope: Scope, receive: Any, send: Any) -> None:
        await response_stack(scope).enter_async_context(recorded(events, "db"))
        await response_stack(scope).enter_async_context(seeing_status(events, scope))

    exchange = await call(ResponseScopeMiddleware(app), "/notes", events=events)

    assert exchange.messages == []
    assert events == ["db enter", "status None", "db exit"]


async def test_cancelling_the_request_exits_once_shielded() -> None:
    events: list[str] = []
    entered = anyio.Event()

    @asynccontextmanager
    async def slow_rollback() -> AsyncIterator[None]:
        try:
            yield
        except BaseException as error:
            # A real rollback awaits the database; the shield lets it finish.
            await anyio.sleep(0.01)
            events.append(f"rolled back {type(error).__name__}")
            raise

    async def wait_forever(scope: Scope) -> None:
        await response_stack(scope).enter_async_context(slow_rollback())
        entered.set()
        await anyio.sleep_forever()

    app = ResponseScopeMiddleware(asgi_app(wait_forever))
    async with anyio.create_task_group() as tasks:
        tasks.start_soon(call, app, "/notes")
        await entered.wait()
        tasks.cancel_scope.cancel()

    assert events == ["rolled back CancelledError"]


async def test_a_disconnect_during_the_exit_reaches_the_app_after_it() -> None:
    """Django and Quart cancel the request task natively when the client disconnects."""
    events: list[str] = []
    committing = anyio.Event()

    @asynccontextmanager
    async def slow_commit() -> AsyncIterator[None]:
        yield
        committing.set()
        await anyio.sleep(0.05)
        events.append("committed")

    async def app(scope: Scope, receive: Any, send: Any) -> None:
        async def handle() -> None:
            await response_stack(scope).enter_async_context(slow_commit())
            await send({"type": "http.response.start", "status": 201, "headers": []})
            await send({"type": "http.response.body", "body": b""})

        handler = asyncio.ensure_future(handle())

        async def listen() -> None:
            if (await receive())["type"] == "http.disconnect":
                events.append("app hears the disconnect")
                handler.cancel()

        listener = asyncio.ensure_future(listen())
        await asyncio.wait([handler, listener], return_when=asyncio.FIRST_COMPLETED)
        for task in (handler, listener):
            task.cancel()
        await asyncio.gather(handler, listener, return_exceptions=True)

    async def disconnect_during_the_commit() -> dict[str, Any]:
        await committing.wait()
        return {"type": "http.disconnect"}

    exchange = await call(
        ResponseScopeMiddleware(app), "/notes", receive=disconnect_during_the_commit
    )

    assert events == ["committed", "app hears the disconnect"]
    assert exchange.status == 201


async def test_contexts_cannot_be_entered_once_the_response_started() -> None:
    refused: list[ResponseScopeError] = []

    async def too_late(scope: Scope) -> None:
        try:
            response_stack(scope)
        except ResponseScopeError as error:
            refused.append(error)

    exchange = await call(ResponseScopeMiddleware(asgi_app(after_start=too_late)), "/notes")

    assert exchange.status == 201
    (error,) = refused
    assert "already closed" in str(error)


async def test_websocket_and_lifespan_pass_through_without_a_scope() -> None:
    seen: list[str] = []

    async def app(scope: Scope, receive: Any, send: Any) -> None:
        try:
            response_stack(scope)
        except ResponseScopeError:
            seen.append(f"{scope['type']} without a response scope")
        if scope["type"] == "websocket":
            await receive()
            await send({"type": "websocket.accept"})
            await send({"type": "websocket.close", "code": 1000})
        else:
            await receive()
            await send({"type": "lifespan.startup.complete"})

    middleware = ResponseScopeMiddleware(app)
    sent = await call_websocket(middleware, "/ws", [])

    lifespan_sent: list[MutableMapping[str, Any]] = []

    async def receive_startup() -> dict[str, Any]:
        return {"type": "lifespan.startup"}

    async def send_lifespan(message: MutableMapping[str, Any]) -> None:
        lifespan_sent.append(message)

    lifespan = {"type": "lifespan", "asgi": {"version": "3.0"}}
    await middleware(lifespan, receive_startup, send_lifespan)

    assert [m["type"] for m in sent] == ["websocket.accept", "websocket.close"]
    assert lifespan_sent == [{"type": "lifespan.startup.complete"}]
    assert seen == ["websocket without a response scope", "lifespan without a response scope"]


async def test_the_middleware_twice_opens_one_scope() -> None:
    events: list[str] = []

    async def open_context(scope: Scope) -> None:
        await response_stack(scope).enter_async_context(recorded(events, "db"))

    app = ResponseScopeMiddleware(ResponseScopeMiddleware(asgi_app(open_context)))
    exchange = await call(app, "/notes", events=events)

    assert exchange.status == 201
    assert events == ["db enter", "db exit", START, BODY]


def test_bad_arguments_are_refused_with_what_was_expected() -> None:
    with pytest.raises(TypeError, match="expects an ASGI app, got 42"):
        ResponseScopeMiddleware(42)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=r"on_error=\.\.\.\) expects `async def on_error"):
        ResponseScopeMiddleware(asgi_app(), on_error="page")  # type: ignore[arg-type]
