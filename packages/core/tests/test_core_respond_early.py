"""`RespondEarly`: a dependency sends a response of its own instead of the endpoint's.

What mintaka's idempotency keys rely on to replay a stored response: the response scope
exits as for a returned response, its contexts read that response's status and object,
and they exit before the response is sent.
"""

from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.responses import PlainTextResponse

from mintaka.core import response_stack, response_status
from mintaka.core._again import RespondEarly
from mintaka.core._scope import response_object
from mintaka.core.starlette import ResponseScopedRoute
from testing.asgi import START, call

pytestmark = pytest.mark.anyio


class Seen:
    """Logs, as it exits, the error it saw and the status and response about to be sent."""

    def __init__(self, request: Any, events: list[Any]) -> None:
        self.request = request
        self.events = events

    async def __aenter__(self) -> None:
        return None

    async def __aexit__(self, exc_type: object, exc: object, tb: object) -> None:
        body = getattr(response_object(self.request), "body", None)
        self.events.append(("exit", exc, response_status(self.request), body))


async def test_an_early_response_is_sent_after_the_contexts_exit_without_an_error() -> None:
    events: list[Any] = []

    async def endpoint(request: Any) -> PlainTextResponse:
        await response_stack(request).enter_async_context(Seen(request, events))
        if request.query_params.get("early"):
            raise RespondEarly(PlainTextResponse("stored", status_code=201))
        events.append("the endpoint ran to its end")
        return PlainTextResponse("fresh", status_code=200)

    app = Starlette(routes=[ResponseScopedRoute("/notes", endpoint, methods=["POST"])])

    early = await call(app, "/notes?early=1", method="POST", events=events)
    assert (early.status, early.body) == (201, b"stored")
    assert events[:2] == [("exit", None, 201, b"stored"), START]

    events.clear()
    fresh = await call(app, "/notes", method="POST", events=events)
    assert (fresh.status, fresh.body) == (200, b"fresh")
    assert events[:3] == ["the endpoint ran to its end", ("exit", None, 200, b"fresh"), START]
