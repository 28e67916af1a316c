"""Routes are response-scoped by default, and a route class the user passes wins.

The registration conventions live in `Router.add_api_route`, so they hold for any route
class; the wire rule for bodiless statuses and the response scope live in `RouterRoute`,
so a user's class keeps them by subclassing it.
"""

from collections.abc import Callable, Coroutine
from typing import Any

import pytest
from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse, RedirectResponse
from fastapi.routing import APIRoute

from mintaka.core import ResponseScopeError, response_stack
from mintaka.router import Router, RouterRoute
from packages.router.tests._router_apps import app_with
from testing.asgi import START, call, recorded

pytestmark = pytest.mark.anyio


class PlainRoute(APIRoute):
    """A user's route class that knows nothing about mintaka."""


class StampedRoute(RouterRoute):
    """A user's route class built on RouterRoute: it adds a header to every response."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def stamped(request: Request) -> Response:
            response = await handler(request)
            response.headers["x-stamp"] = "1"
            return response

        return stamped


def has_response_scope(request: Request) -> bool:
    try:
        response_stack(request)
    except ResponseScopeError:
        return False
    return True


async def test_routes_are_response_scoped_by_default() -> None:
    events: list[str] = []
    router = Router()

    @router.post("/notes")
    async def create_note(request: Request) -> dict[str, str]:
        await response_stack(request).enter_async_context(recorded(events, "session"))
        return {"status": "created"}

    exchange = await call(app_with(router), "/notes", method="POST", events=events)

    assert exchange.json() == {"status": "created"}
    assert exchange.before("session exit", START)


async def test_a_users_route_class_is_used_as_is() -> None:
    router = Router(route_class=PlainRoute)

    @router.get("/scope")
    async def scope(request: Request) -> dict[str, bool]:
        return {"scoped": has_response_scope(request)}

    app = app_with(router)
    exchange = await call(app, "/scope")

    assert exchange.json() == {"scoped": False}
    assert [type(route) for route in router.routes] == [PlainRoute]


async def test_registration_conventions_hold_for_a_users_route_class() -> None:
    router = Router(route_class=PlainRoute)

    @router.get("/go")
    async def go() -> JSONResponse | RedirectResponse:
        return RedirectResponse("/elsewhere")

    exchange = await call(app_with(router), "/go")

    assert exchange.status == 307


async def test_a_route_class_built_on_router_route_keeps_scope_and_wire_rule() -> None:
    router = Router(route_class=StampedRoute)

    @router.post("/reset", status_code=205)
    async def reset(request: Request) -> None:
        assert has_response_scope(request)

    exchange = await call(app_with(router), "/reset", method="POST")

    assert exchange.status == 205
    assert exchange.headers == [(b"content-length", b"0"), (b"x-stamp", b"1")]
    assert exchange.body == b""


async def test_route_class_override_on_a_single_route_wins() -> None:
    router = Router()

    async def scope(request: Request) -> dict[str, bool]:
        return {"scoped": has_response_scope(request)}

    router.add_api_route("/plain", scope, route_class_override=PlainRoute)
    router.add_api_route("/scoped", scope)

    app = app_with(router)

    assert (await call(app, "/plain")).json() == {"scoped": False}
    assert (await call(app, "/scoped")).json() == {"scoped": True}


async def test_routes_of_a_plain_router_included_into_a_router_stay_plain() -> None:
    plain = APIRouter()

    @plain.get("/scope")
    async def scope(request: Request) -> dict[str, bool]:
        return {"scoped": has_response_scope(request)}

    router = Router()
    router.include_router(plain)

    exchange = await call(app_with(router), "/scope")

    assert exchange.json() == {"scoped": False}
