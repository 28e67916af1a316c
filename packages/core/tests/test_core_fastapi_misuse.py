"""G7 for the core: response_stack() on a route without a response scope fails loudly."""

import pytest

pytest.importorskip("fastapi", reason="the FastAPI adapter needs FastAPI")

from fastapi import Depends, FastAPI, Request

from mintaka.core import ResponseScopeError, response_stack
from testing.asgi import call

pytestmark = pytest.mark.anyio

FIX = (
    "To fix it, make the route a mintaka.core.fastapi.ResponseScopedRoute "
    "(APIRouter(route_class=ResponseScopedRoute), or app.router.route_class = "
    "ResponseScopedRoute before the routes are added) or use a mintaka.router.Router; "
    "with plain Starlette, use mintaka.core.starlette.ResponseScopedRoute or wrap the "
    "endpoint in @response_scoped; with any other ASGI framework, wrap the app in "
    "mintaka.core.asgi.ResponseScopeMiddleware."
)


async def test_plain_apiroute_endpoint_fails_and_names_the_route_and_the_fix() -> None:
    app = FastAPI()

    @app.post("/notes")
    async def create_note(request: Request) -> str:
        response_stack(request)
        return "unreachable"

    exchange = await call(app, "/notes", method="POST", raises=ResponseScopeError)

    assert exchange.status == 500
    assert str(exchange.raised) == (
        "response_stack() needs a response scope, but the route of POST /notes (endpoint "
        "test_plain_apiroute_endpoint_fails_and_names_the_route_and_the_fix.<locals>."
        f"create_note) does not open one. {FIX}"
    )


async def test_dependency_on_a_plain_route_never_degrades_silently() -> None:
    reached_endpoint: list[bool] = []

    async def open_session(request: Request) -> None:
        response_stack(request)

    app = FastAPI()

    @app.get("/notes", dependencies=[Depends(open_session)])
    async def read_notes() -> str:
        reached_endpoint.append(True)
        return "unreachable"

    exchange = await call(app, "/notes", raises=ResponseScopeError)

    assert exchange.status == 500
    assert isinstance(exchange.raised, RuntimeError)
    assert "ResponseScopedRoute" in str(exchange.raised)
    assert "mintaka.router.Router" in str(exchange.raised)
    assert reached_endpoint == []
