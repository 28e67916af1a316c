"""`HandleAgain` behind `ResponseScopeMiddleware` on Litestar, Django and Quart.

Each framework's endpoint reads the request body, records it and the attempt, and enters
a context that asks for the request to be handled again when it exits on the first
attempt. The framework is called again by the middleware, with the body replayed; the
client, at the ASGI `send`, sees one response: the second attempt's.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from mintaka.core import HandleAgain, request_attempt, response_stack
from mintaka.core.asgi import ResponseScopeMiddleware
from testing.asgi import START, call

pytestmark = [pytest.mark.anyio, pytest.mark.once]

BODY = '{"text": "café"}'.encode()


class AgainOnFirstAttempt:
    """Asks for the request to be handled again when it exits on the first attempt."""

    def __init__(self, scope: Any) -> None:
        self.scope = scope

    async def __aenter__(self) -> None:
        return None

    async def __aexit__(self, *exc_info: object) -> None:
        if request_attempt(self.scope) == 1:
            raise HandleAgain("a conflict, for the test")


class Seen:
    """What the endpoint saw on each attempt."""

    def __init__(self) -> None:
        self.attempts: list[int | None] = []
        self.bodies: list[bytes] = []

    async def record(self, scope: Any, body: bytes) -> dict[str, Any]:
        self.attempts.append(request_attempt(scope))
        self.bodies.append(body)
        await response_stack(scope).enter_async_context(AgainOnFirstAttempt(scope))
        return {"attempt": self.attempts[-1], "text": json.loads(body)["text"]}


def litestar_app(seen: Seen) -> Any:
    from litestar import Litestar, Request, post

    @post("/notes", status_code=201)
    async def create_note(request: Request[Any, Any, Any]) -> dict[str, Any]:
        return await seen.record(request.scope, await request.body())

    return Litestar(route_handlers=[create_note])


def django_app(seen: Seen) -> Any:
    from django.http import HttpResponse, JsonResponse
    from django.urls import clear_url_caches, path

    from examples.asgi import django_app as example

    async def create_note(request: Any) -> HttpResponse:
        return JsonResponse(await seen.record(request.scope, request.body), status=201)

    handler = example.create_app(None).app  # type: ignore[arg-type]  # the view is replaced
    example.urlpatterns[:] = [path("notes", create_note)]
    clear_url_caches()
    return handler


def quart_app(seen: Seen) -> Any:
    from quart import Quart, request

    app = Quart(__name__)

    async def create_note() -> tuple[dict[str, Any], int]:
        body = await request.get_data(as_text=False)
        assert isinstance(body, bytes)
        return await seen.record(request.scope, body), 201

    app.add_url_rule("/notes", view_func=create_note, methods=["POST"])
    return app


@pytest.mark.parametrize(
    "make_app", [litestar_app, django_app, quart_app], ids=["litestar", "django", "quart"]
)
async def test_the_framework_is_called_again_with_the_body_replayed(make_app: Any) -> None:
    seen = Seen()
    app = ResponseScopeMiddleware(make_app(seen))

    exchange = await call(
        app,
        "/notes",
        method="POST",
        body=BODY,
        headers=[
            (b"content-type", b"application/json"),
            (b"content-length", str(len(BODY)).encode()),
        ],
    )

    assert exchange.status == 201, exchange.body
    assert exchange.json() == {"attempt": 2, "text": "café"}
    assert (seen.attempts, seen.bodies) == ([1, 2], [BODY, BODY])
    assert exchange.events.count(START) == 1
