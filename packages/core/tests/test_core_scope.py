"""The framework-neutral primitive: ResponseScope on a bare ASGI scope, no app around it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest
from starlette.requests import Request

from mintaka.core import SCOPE_KEY, ResponseScope, ResponseScopeError, response_stack
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


def test_scope_key_is_where_the_open_scope_lives() -> None:
    scope = http_scope("/notes")
    response_scope = ResponseScope(scope)
    scope[SCOPE_KEY] = response_scope

    assert response_stack(Request(scope)) is response_scope.stack
