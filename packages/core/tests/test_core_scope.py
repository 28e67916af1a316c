"""The framework-neutral primitive: ResponseScope on a bare ASGI scope, no app around it."""

from __future__ import annotations

from collections.abc import AsyncIterator, MutableMapping
from contextlib import asynccontextmanager
from typing import Any

import pytest
from starlette.requests import Request

from mintaka.core import ResponseScope, ResponseScopeError, response_stack, response_status
from testing.asgi import http_scope, recorded

pytestmark = pytest.mark.anyio


async def test_nested_scope_is_a_no_op_and_the_outer_exits_once() -> None:
    events: list[str] = []
    scope = http_scope("/notes")
    request = Request(scope)

    async with ResponseScope(scope) as outer:
        async with ResponseScope(scope) as inner:
            assert inner is outer
            await response_stack(request).enter_async_context(recorded(events, "db"))
        assert events == ["db enter"]
        assert response_stack(request) is outer.stack

    assert events == ["db enter", "db exit"]
    assert outer.closed


async def test_error_is_thrown_into_the_contexts_and_propagates_unchanged() -> None:
    events: list[str] = []
    scope = http_scope("/notes")
    failure = ValueError("endpoint failed")

    async def handle() -> None:
        async with ResponseScope(scope):
            stack = response_stack(Request(scope))
            await stack.enter_async_context(recorded(events, "first"))
            await stack.enter_async_context(recorded(events, "second"))
            raise failure

    with pytest.raises(ValueError, match="endpoint failed") as raised:
        await handle()

    assert raised.value is failure
    assert events == [
        "first enter",
        "second enter",
        "second exit ValueError",
        "first exit ValueError",
    ]


async def test_nothing_can_be_entered_once_the_scope_started_closing() -> None:
    scope = http_scope("/notes", method="POST")
    scope["endpoint"] = test_nothing_can_be_entered_once_the_scope_started_closing
    request = Request(scope)

    @asynccontextmanager
    async def reopens() -> AsyncIterator[None]:
        yield
        response_stack(request)

    with pytest.raises(ResponseScopeError) as raised:
        async with ResponseScope(scope):
            await response_stack(request).enter_async_context(reopens())

    assert str(raised.value) == (
        "The response scope of POST /notes (endpoint "
        "test_nothing_can_be_entered_once_the_scope_started_closing) has already closed: "
        "its response is being sent or was sent. A streamed body, a background task or "
        "anything else that runs after the response must not use a response-scoped "
        "resource; give it a resource of its own."
    )


async def test_a_closed_scope_is_replaced_by_the_next_one() -> None:
    events: list[str] = []
    scope = http_scope("/notes")
    async with ResponseScope(scope):
        pass

    async with ResponseScope(scope):
        await response_stack(Request(scope)).enter_async_context(recorded(events, "db"))

    assert events == ["db enter", "db exit"]


def test_without_a_scope_the_error_is_a_runtime_error_naming_the_request() -> None:
    with pytest.raises(RuntimeError) as raised:
        response_stack(Request(http_scope("/notes")))

    assert isinstance(raised.value, ResponseScopeError)
    assert str(raised.value).startswith(
        "response_stack() needs a response scope, but the route of GET /notes does not "
        "open one. To fix it, make the route a mintaka.core.fastapi.ResponseScopedRoute"
    )


async def test_the_lifecycle_is_open_then_exiting_then_closed() -> None:
    scope = http_scope("/notes")
    states: list[str] = []

    @asynccontextmanager
    async def watch(response_scope: ResponseScope) -> AsyncIterator[None]:
        yield
        states.append(response_scope.state)

    async with ResponseScope(scope) as response_scope:
        states.append(response_scope.state)
        await response_stack(scope).enter_async_context(watch(response_scope))
        response_scope.respond(201)

    states.append(response_scope.state)
    assert states == ["open", "exiting", "closed"]
    assert response_scope.closed


@pytest.mark.parametrize("status", [200, 303, 409, 503])
async def test_exiting_contexts_read_the_status_of_the_response(status: int) -> None:
    scope = http_scope("/notes", method="POST")
    request = Request(scope)
    seen: list[int | None] = []

    @asynccontextmanager
    async def reads_status() -> AsyncIterator[None]:
        seen.append(response_status(request))
        yield
        seen.append(response_status(request))

    async with ResponseScope(scope) as response_scope:
        await response_stack(request).enter_async_context(reads_status())
        response_scope.respond(status)

    assert seen == [None, status]
    assert response_status(request) == status


async def test_the_status_is_none_when_the_scope_exits_on_an_exception() -> None:
    scope = http_scope("/notes", method="POST")
    seen: list[int | None] = []

    @asynccontextmanager
    async def reads_status() -> AsyncIterator[None]:
        try:
            yield
        finally:
            seen.append(response_status(scope))

    async def handle() -> None:
        async with ResponseScope(scope) as response_scope:
            await response_stack(scope).enter_async_context(reads_status())
            response_scope.respond(200)
            raise LookupError("serialization failed after the status was known")

    with pytest.raises(LookupError):
        await handle()

    assert seen == [None]


async def test_an_early_exit_exits_once_and_the_block_end_does_nothing() -> None:
    events: list[str] = []
    scope = http_scope("/notes")

    async with ResponseScope(scope) as response_scope:
        await response_stack(scope).enter_async_context(recorded(events, "db"))
        response_scope.respond(200)
        await response_scope.exit()
        assert events == ["db enter", "db exit"]
        await response_scope.exit(ValueError("too late"))

    assert events == ["db enter", "db exit"]
    assert response_status(scope) == 200


class FrameworkRequest:
    """A request of a framework that is not built on Starlette: it only has `.scope`."""

    def __init__(self, scope: MutableMapping[str, Any]) -> None:
        self.scope = scope


async def test_any_request_with_an_asgi_scope_or_the_scope_itself_is_accepted() -> None:
    scope = http_scope("/notes")
    async with ResponseScope(scope):
        stack = response_stack(Request(scope))
        assert response_stack(FrameworkRequest(scope)) is stack
        assert response_stack(scope) is stack


@pytest.mark.parametrize("function", [response_stack, response_status])
def test_something_that_is_not_a_request_is_a_type_error(function: object) -> None:
    assert callable(function)
    with pytest.raises(TypeError, match=r"Expected a request: .*got 42 \(int\)"):
        function(42)


def test_without_a_scope_the_status_error_names_the_fix() -> None:
    with pytest.raises(ResponseScopeError, match=r"^response_status\(\) needs a response scope"):
        response_status(http_scope("/notes"))
