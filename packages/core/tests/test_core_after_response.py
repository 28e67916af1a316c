"""`after_response()`: work awaited once the response has been sent, on every adapter.

Observed at the ASGI `send` callable with the Starlette adapter and the ASGI middleware;
the transactional session's `on_commit` (tests/depends) is built on it.
"""

import logging
from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.responses import PlainTextResponse

from mintaka.core import ResponseScopeError, after_response, response_stack
from mintaka.core.asgi import ResponseScopeMiddleware
from mintaka.core.starlette import ResponseScopedRoute
from testing.asgi import BODY, START, call

pytestmark = pytest.mark.anyio


def recorder(log: list[str], name: str) -> Any:
    async def record() -> None:
        log.append(name)

    return record


async def test_the_starlette_adapter_runs_the_work_after_the_last_body_message() -> None:
    log: list[str] = []

    async def endpoint(request: Any) -> PlainTextResponse:
        after_response(request, recorder(log, "first"))
        after_response(request, recorder(log, "second"))
        return PlainTextResponse("created", status_code=201)

    app = Starlette(routes=[ResponseScopedRoute("/notes", endpoint, methods=["POST"])])

    exchange = await call(app, "/notes", method="POST", events=log)

    assert (exchange.status, log) == (201, [START, BODY, "first", "second"])


async def test_work_that_raises_is_logged_and_the_rest_still_runs(
    caplog: pytest.LogCaptureFixture,
) -> None:
    log: list[str] = []

    async def broken() -> None:
        raise RuntimeError("the cache is down")

    async def endpoint(request: Any) -> PlainTextResponse:
        after_response(request, broken)
        after_response(request, recorder(log, "after the broken one"))
        return PlainTextResponse("created", status_code=201)

    app = Starlette(routes=[ResponseScopedRoute("/notes", endpoint, methods=["POST"])])

    with caplog.at_level(logging.ERROR, logger="mintaka.core"):
        exchange = await call(app, "/notes", method="POST", events=log)

    assert (exchange.status, log) == (201, [START, BODY, "after the broken one"])
    (record,) = caplog.records
    assert record.getMessage().startswith("An after-response callback")


async def test_when_a_context_raises_http_exception_while_an_error_unwinds_the_work_runs() -> None:
    log: list[str] = []

    class Replacing:
        async def __aenter__(self) -> None:
            return None

        async def __aexit__(self, *exc: object) -> None:
            raise HTTPException(status_code=503)

    async def endpoint(request: Any) -> PlainTextResponse:
        await response_stack(request).enter_async_context(Replacing())
        after_response(request, recorder(log, "work"))
        raise ValueError("the endpoint failed")

    app = Starlette(routes=[ResponseScopedRoute("/notes", endpoint, methods=["POST"])])

    exchange = await call(app, "/notes", method="POST", events=log)

    # The exception's response is built after the route: the work cannot wait for it.
    assert (exchange.status, log) == (503, ["work", START, BODY])


@pytest.mark.parametrize("raises", [False, True], ids=["responded", "raised"])
async def test_the_middleware_runs_the_work_after_the_app_is_done(raises: bool) -> None:
    log: list[str] = []

    async def app(scope: Any, receive: Any, send: Any) -> None:
        after_response(scope, recorder(log, "work"))
        if raises:
            raise ValueError("the app failed before responding")
        await send({"type": "http.response.start", "status": 201, "headers": []})
        await send({"type": "http.response.body", "body": b"created"})

    exchange = await call(ResponseScopeMiddleware(app), "/notes", events=log, raises=ValueError)

    assert log == (["work"] if raises else [START, BODY, "work"])
    assert isinstance(exchange.raised, ValueError) is raises


async def test_bad_callbacks_and_late_ones_are_refused_naming_the_fix() -> None:
    refusals: list[str] = []

    async def endpoint(request: Any) -> PlainTextResponse:
        not_callable: Any = "refresh the cache"
        with pytest.raises(TypeError, match="expects an async function"):
            after_response(request, not_callable)

        async def too_late() -> None:
            try:
                after_response(request, recorder(refusals, "never"))
            except ResponseScopeError as error:
                refusals.append(str(error))

        after_response(request, too_late)
        return PlainTextResponse("created")

    app = Starlette(routes=[ResponseScopedRoute("/notes", endpoint, methods=["POST"])])

    await call(app, "/notes", method="POST")

    assert refusals == [
        "after_response(): the response of POST /notes (endpoint "
        "test_bad_callbacks_and_late_ones_are_refused_naming_the_fix.<locals>.endpoint) has "
        "already been sent and its after-response work has run. Add the callback earlier, "
        "while the endpoint or a response-scoped context runs."
    ]
