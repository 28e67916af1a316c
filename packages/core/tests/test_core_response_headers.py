"""`response_headers()`: what a context sets while the stack exits reaches the client.

Observed at the ASGI `send` callable on the adapters that need no FastAPI: the Starlette
adapter, and the ASGI middleware (the app's own response, and the replacement it sends
when exiting failed). The FastAPI route class is tested in
`test_core_fastapi_response_headers.py`; both use the context of `_headers.py`.
"""

from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.responses import PlainTextResponse

from mintaka.core import ResponseScopeError, response_headers, response_stack
from mintaka.core.asgi import ResponseScopeMiddleware
from mintaka.core.starlette import ResponseScopedRoute
from packages.core.tests._headers import start_headers, telling
from testing.asgi import call

pytestmark = pytest.mark.anyio


async def test_the_starlette_adapter_adds_them_to_the_returned_response() -> None:
    async def endpoint(request: Any) -> PlainTextResponse:
        await response_stack(request).enter_async_context(telling(request))
        return PlainTextResponse("created", status_code=201)

    app = Starlette(routes=[ResponseScopedRoute("/notes", endpoint, methods=["POST"])])

    exchange = await call(app, "/notes", method="POST")

    assert ("x-exited-for", "201") in start_headers(exchange)


@pytest.mark.parametrize("fail", [False, True], ids=["exited", "exiting-failed"])
async def test_the_middleware_adds_them_to_whichever_response_starts(fail: bool) -> None:
    async def app(scope: Any, receive: Any, send: Any) -> None:
        await response_stack(scope).enter_async_context(telling(scope, fail=fail))
        await send({"type": "http.response.start", "status": 201, "headers": [(b"x-app", b"1")]})
        await send({"type": "http.response.body", "body": b"created"})

    exchange = await call(ResponseScopeMiddleware(app), "/notes", method="POST")

    headers = start_headers(exchange)
    assert exchange.status == (500 if fail else 201)
    assert ("x-exited-for", "201") in headers
    assert (("x-app", "1") in headers) is not fail  # the app's response was replaced


async def test_response_headers_outside_a_response_scope_names_the_fix() -> None:
    with pytest.raises(ResponseScopeError, match=r"^response_headers\(\) needs a response scope"):
        response_headers({"type": "http", "method": "GET", "path": "/notes"})
