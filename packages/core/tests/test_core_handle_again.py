"""`HandleAgain`: a context that exits asks the route adapter to handle the request again."""

from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.responses import PlainTextResponse

from mintaka.core import HandleAgain, request_attempt, response_stack
from mintaka.core.asgi import ResponseScopeMiddleware
from mintaka.core.starlette import ResponseScopedRoute
from testing.asgi import call

pytestmark = pytest.mark.anyio


class AgainUntil:
    """Exits with `HandleAgain` until the request's attempt reaches `last`."""

    def __init__(self, request: Any, last: int, *, on_error: bool) -> None:
        self.request = request
        self.last = last
        self.on_error = on_error

    async def __aenter__(self) -> None:
        return None

    async def __aexit__(self, exc_type: object, exc: object, tb: object) -> None:
        attempt = request_attempt(self.request)
        assert attempt is not None
        if attempt < self.last and (exc is not None) is self.on_error:
            raise HandleAgain("try again", delay=0.001)


@pytest.mark.parametrize("on_error", [False, True], ids=["after-a-response", "after-an-error"])
async def test_the_starlette_adapter_handles_the_request_again_in_a_new_scope(
    on_error: bool,
) -> None:
    attempts: list[int | None] = []

    async def endpoint(request: Any) -> PlainTextResponse:
        attempts.append(request_attempt(request))
        await response_stack(request).enter_async_context(AgainUntil(request, 3, on_error=on_error))
        if on_error and attempts[-1] != 3:
            raise ValueError("a conflict at a statement")
        return PlainTextResponse(f"attempt {attempts[-1]}", status_code=201)

    app = Starlette(routes=[ResponseScopedRoute("/notes", endpoint, methods=["POST"])])

    exchange = await call(app, "/notes", method="POST")

    assert (exchange.status, exchange.body, attempts) == (201, b"attempt 3", [1, 2, 3])


async def test_behind_the_middleware_a_request_cannot_be_handled_again() -> None:
    seen: list[int | None] = []

    async def app(scope: Any, receive: Any, send: Any) -> None:
        seen.append(request_attempt(scope))
        await send({"type": "http.response.start", "status": 204, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    await call(ResponseScopeMiddleware(app), "/notes")

    assert seen == [None]
