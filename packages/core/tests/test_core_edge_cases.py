"""Edge cases of the response scope and the ASGI middleware that users can run into.

An adapter that holds on to its `ResponseScope` after the exit or enters it twice, an exit
error whose status has no reason phrase, and a client whose disconnect reaches two
listeners of the app while the scope exits. Runs in the FastAPI-free environment too.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, MutableMapping
from contextlib import asynccontextmanager
from typing import Any

import anyio
import pytest

from mintaka.core import ResponseScope, ResponseScopeError, response_stack
from mintaka.core.asgi import ResponseScopeMiddleware
from testing.asgi import BODY, START, call, http_scope, recorded

pytestmark = pytest.mark.anyio

Scope = MutableMapping[str, Any]

CLOSED = (
    "This response scope has already closed. A streamed body, a background task or "
    "anything else that runs after the response must not use a response-scoped "
    "resource; give it a resource of its own."
)


async def test_the_stack_of_a_scope_that_exits_or_closed_is_refused_naming_the_fix() -> None:
    events: list[str] = []
    refused_while_exiting: list[str] = []
    response_scope = ResponseScope(http_scope("/notes"))

    @asynccontextmanager
    async def reaches_for_the_stack() -> AsyncIterator[None]:
        yield
        try:
            response_scope.stack  # noqa: B018 - the property raises
        except ResponseScopeError as error:
            refused_while_exiting.append(str(error))

    async with response_scope:
        await response_scope.stack.enter_async_context(recorded(events, "db"))
        await response_scope.stack.enter_async_context(reaches_for_the_stack())
        response_scope.respond(201)

    with pytest.raises(ResponseScopeError) as after_close:
        response_scope.stack  # noqa: B018 - the property raises

    assert refused_while_exiting == [CLOSED]
    assert str(after_close.value) == CLOSED
    assert events == ["db enter", "db exit"]
    assert response_scope.state == "closed"


async def test_a_response_scope_cannot_be_entered_a_second_time() -> None:
    events: list[str] = []
    scope = http_scope("/notes")
    response_scope = ResponseScope(scope)

    async with response_scope:
        await response_scope.stack.enter_async_context(recorded(events, "first request"))

    with pytest.raises(RuntimeError, match=r"^a ResponseScope can be entered only once$"):
        async with response_scope:
            events.append("second block ran")

    assert events == ["first request enter", "first request exit"]
    # The ASGI scope still holds the first, closed scope: nothing was attached to it again.
    with pytest.raises(ResponseScopeError, match="has already closed"):
        response_stack(scope)


@pytest.mark.parametrize("status_code", [499, 599])
async def test_an_exit_error_status_without_a_reason_phrase_is_sent_with_a_generic_body(
    status_code: int,
) -> None:
    class ClientClosedRequestError(Exception):
        """Like nginx's 499: a client error status that HTTP gives no reason phrase."""

        def __init__(self) -> None:
            super().__init__("the client went away during the commit")
            self.status_code = status_code

    @asynccontextmanager
    async def failing_commit() -> AsyncIterator[None]:
        yield
        raise ClientClosedRequestError

    async def app(scope: Scope, receive: Any, send: Any) -> None:
        await response_stack(scope).enter_async_context(failing_commit())
        await send({"type": "http.response.start", "status": 201, "headers": []})
        await send({"type": "http.response.body", "body": b"created"})

    exchange = await call(ResponseScopeMiddleware(app), "/notes", method="POST")

    assert exchange.status == status_code
    assert exchange.body == b"Error"
    assert exchange.headers == [
        (b"content-type", b"text/plain; charset=utf-8"),
        (b"content-length", b"5"),
    ]


async def test_a_disconnect_heard_by_two_listeners_during_the_exit_reaches_both_after_it() -> None:
    events: list[str] = []
    committing = anyio.Event()
    both_heard = anyio.Event()
    delivered = 0

    async def disconnect_during_the_commit() -> dict[str, Any]:
        nonlocal delivered
        await committing.wait()
        delivered += 1
        if delivered == 2:
            both_heard.set()
        return {"type": "http.disconnect"}

    @asynccontextmanager
    async def commit_once_both_listeners_heard() -> AsyncIterator[None]:
        yield
        committing.set()
        await both_heard.wait()
        events.append("committed")

    async def app(scope: Scope, receive: Any, send: Any) -> None:
        async def listen(name: str) -> None:
            message = await receive()
            events.append(f"{name} hears {message['type']}")

        await response_stack(scope).enter_async_context(commit_once_both_listeners_heard())
        async with anyio.create_task_group() as listeners:
            listeners.start_soon(listen, "first")
            listeners.start_soon(listen, "second")
            await send({"type": "http.response.start", "status": 201, "headers": []})
            await send({"type": "http.response.body", "body": b""})

    exchange = await call(
        ResponseScopeMiddleware(app), "/notes", events=events, receive=disconnect_during_the_commit
    )

    assert exchange.status == 201
    assert events[:2] == ["committed", START]
    assert sorted(events[2:]) == sorted(
        [BODY, "first hears http.disconnect", "second hears http.disconnect"]
    )
