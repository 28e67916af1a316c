"""`HandleAgain`: a context that exits asks the route adapter to handle the request again."""

from typing import Any

import anyio
import pytest
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.responses import PlainTextResponse

from mintaka.core import HandleAgain, after_response, request_attempt, response_stack
from mintaka.core.asgi import ResponseScopeMiddleware
from mintaka.core.starlette import ResponseScopedRoute
from testing.asgi import START, call, http_scope

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


def body_app(attempts: list[int | None], bodies: list[bytes], *, last: int, on_error: bool) -> Any:
    """A bare ASGI app that reads the whole body, then meets `AgainUntil` on the stack."""

    async def app(scope: Any, receive: Any, send: Any) -> None:
        scope["written by the app"] = len(attempts)  # must not leak into the next attempt
        attempts.append(request_attempt(scope))
        received = b""
        while True:
            message = await receive()
            received += message.get("body", b"")
            if not message.get("more_body", False):
                break
        bodies.append(received)
        await response_stack(scope).enter_async_context(AgainUntil(scope, last, on_error=on_error))
        if on_error and attempts[-1] != last:
            raise ValueError("a conflict at a statement")
        await send({"type": "http.response.start", "status": 201, "headers": []})
        await send({"type": "http.response.body", "body": f"attempt {attempts[-1]}".encode()})

    return app


def chunked(chunks: list[bytes]) -> Any:
    """A `receive` that delivers `chunks` as several `http.request` messages."""
    pending = list(chunks)

    async def receive() -> dict[str, Any]:
        if pending:
            chunk = pending.pop(0)
            return {"type": "http.request", "body": chunk, "more_body": bool(pending)}
        await anyio.sleep_forever()
        raise AssertionError  # pragma: no cover - never wakes

    return receive


@pytest.mark.parametrize("on_error", [False, True], ids=["after-a-response", "after-an-error"])
async def test_the_middleware_handles_the_request_again_replaying_its_body(on_error: bool) -> None:
    attempts: list[int | None] = []
    bodies: list[bytes] = []
    chunks = [b'{"text": "caf', "\u00e9".encode(), b'"}\x00\xff']
    app = ResponseScopeMiddleware(body_app(attempts, bodies, last=3, on_error=on_error))

    exchange = await call(app, "/notes", method="POST", receive=chunked(chunks))

    assert (exchange.status, exchange.body, attempts) == (201, b"attempt 3", [1, 2, 3])
    assert bodies == [b"".join(chunks)] * 3  # byte for byte, every attempt
    assert exchange.events.count(START) == 1  # the abandoned attempts sent nothing


async def test_each_attempt_gets_the_scope_as_the_server_gave_it() -> None:
    seen: list[object] = []

    async def app(scope: Any, receive: Any, send: Any) -> None:
        seen.append((scope.get("written"), dict(scope["state"])))
        scope["written"] = True
        scope["state"]["written"] = True
        await response_stack(scope).enter_async_context(AgainUntil(scope, 2, on_error=False))
        await send({"type": "http.response.start", "status": 204, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b""}

    async def send(message: Any) -> None:
        pass

    scope = {**http_scope("/notes", method="POST"), "state": {"from lifespan": 1}}
    await ResponseScopeMiddleware(app)(scope, receive, send)

    assert seen == [(None, {"from lifespan": 1})] * 2


async def test_a_body_past_the_replay_limit_is_not_kept_and_the_request_not_handled_again() -> None:
    attempts: list[int | None] = []

    async def app(scope: Any, receive: Any, send: Any) -> None:
        await receive()
        attempts.append(request_attempt(scope))
        await send({"type": "http.response.start", "status": 201, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    within = await call(ResponseScopeMiddleware(app, replay_limit=5), "/", body=b"12345")
    past = await call(ResponseScopeMiddleware(app, replay_limit=5), "/", body=b"123456")

    assert (within.status, past.status, attempts) == (201, 201, [1, None])


async def test_a_context_asking_again_for_a_body_not_kept_gets_the_error_response() -> None:
    calls: list[int] = []

    class AlwaysAgain:
        async def __aenter__(self) -> None:
            return None

        async def __aexit__(self, *exc_info: object) -> None:
            raise HandleAgain("conflict")

    async def app(scope: Any, receive: Any, send: Any) -> None:
        await receive()
        calls.append(1)
        await response_stack(scope).enter_async_context(AlwaysAgain())
        await send({"type": "http.response.start", "status": 201, "headers": []})
        await send({"type": "http.response.body", "body": b"saved"})

    exchange = await call(ResponseScopeMiddleware(app, replay_limit=0), "/", body=b"x")

    assert (exchange.status, exchange.body, calls) == (500, b"Internal Server Error", [1])


async def test_the_abandoned_attempts_after_response_work_is_dropped() -> None:
    ran: list[int | None] = []

    async def app(scope: Any, receive: Any, send: Any) -> None:
        attempt = request_attempt(scope)

        async def record() -> None:
            ran.append(attempt)

        after_response(scope, record)
        await response_stack(scope).enter_async_context(AgainUntil(scope, 2, on_error=False))
        await send({"type": "http.response.start", "status": 204, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    exchange = await call(ResponseScopeMiddleware(app), "/notes", method="POST")

    assert (exchange.status, ran) == (204, [2])


@pytest.mark.parametrize("limit", [-1, 1.5, True, "1"])
def test_a_bad_replay_limit_is_refused_naming_the_fix(limit: Any) -> None:
    async def app(scope: Any, receive: Any, send: Any) -> None:
        pass  # pragma: no cover - never called

    with pytest.raises(TypeError, match=r"replay_limit=.*an int, 0 or more; got "):
        ResponseScopeMiddleware(app, replay_limit=limit)


async def test_a_503_asked_for_by_a_context_keeps_its_retry_after_header() -> None:
    class GaveUp:
        async def __aenter__(self) -> None:
            return None

        async def __aexit__(self, *exc_info: object) -> None:
            raise HTTPException(503, headers={"Retry-After": "1"})

    async def app(scope: Any, receive: Any, send: Any) -> None:
        await response_stack(scope).enter_async_context(GaveUp())
        await send({"type": "http.response.start", "status": 201, "headers": []})
        await send({"type": "http.response.body", "body": b"saved"})

    exchange = await call(ResponseScopeMiddleware(app), "/notes", method="POST")

    assert (exchange.status, exchange.body) == (503, b"Service Unavailable")
    assert (b"retry-after", b"1") in exchange.headers


async def test_an_error_a_context_replaced_is_answered_with_the_replacements_response() -> None:
    class Replacing:
        async def __aenter__(self) -> None:
            return None

        async def __aexit__(self, kind: object, error: object, tb: object) -> None:
            if isinstance(error, ValueError):
                raise HTTPException(503, headers={"Retry-After": "1"}) from error

    async def app(scope: Any, receive: Any, send: Any) -> None:
        await response_stack(scope).enter_async_context(Replacing())
        raise ValueError("a conflict at a statement, after the last attempt")

    exchange = await call(ResponseScopeMiddleware(app), "/notes", method="POST")

    assert (exchange.status, exchange.body) == (503, b"Service Unavailable")
    assert (b"retry-after", b"1") in exchange.headers
