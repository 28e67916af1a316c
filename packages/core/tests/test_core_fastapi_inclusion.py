"""Response scopes survive how FastAPI builds handlers, and nest without closing early.

From FastAPI 0.137 `include_router` no longer copies routes; it builds a handler per
inclusion by calling `get_route_handler()` again. Older versions copy the route with its
class. Either way every path a router is reachable under must have a response scope.
"""

from collections.abc import Awaitable, Callable

import pytest

pytest.importorskip("fastapi", reason="the FastAPI adapter needs FastAPI")

from fastapi import APIRouter, Depends, FastAPI, Request
from pydantic import BaseModel, field_serializer
from starlette.responses import Response

from mintaka.core import ResponseScope, response_stack
from mintaka.core.fastapi import ResponseScopedRoute
from mintaka.core.starlette import response_scoped
from testing.asgi import BODY, START, call, recorded

pytestmark = pytest.mark.anyio


@pytest.mark.parametrize("path", ["/a/notes", "/b/notes", "/outer/c/notes"])
async def test_router_included_several_times_has_a_response_scope_everywhere(
    path: str,
) -> None:
    events: list[str] = []

    async def include_level(request: Request) -> None:
        await response_stack(request).enter_async_context(recorded(events, "include"))

    router = APIRouter(route_class=ResponseScopedRoute)

    @router.get("/notes")
    async def read_notes(request: Request) -> list[str]:
        await response_stack(request).enter_async_context(recorded(events, "route"))
        return []

    outer = APIRouter(route_class=ResponseScopedRoute)
    outer.include_router(router, prefix="/c", dependencies=[Depends(include_level)])
    app = FastAPI()
    app.include_router(router, prefix="/a")
    app.include_router(router, prefix="/b", dependencies=[Depends(include_level)])
    app.include_router(outer, prefix="/outer")

    exchange = await call(app, path, events=events)

    assert exchange.status == 200
    opened = ["route"] if path.startswith("/a") else ["include", "route"]
    assert events == [
        *(f"{name} enter" for name in opened),
        *(f"{name} exit" for name in reversed(opened)),
        START,
        BODY,
    ]


def open_inner_scope_directly(events: list[str]) -> Callable[[Request], Awaitable[None]]:
    """Open a second ResponseScope on the same ASGI scope inside the route's."""

    async def open_inner(request: Request) -> None:
        async with ResponseScope(request.scope):
            await response_stack(request).enter_async_context(recorded(events, "db"))

    return open_inner


def open_inner_scope_with_the_starlette_adapter(
    events: list[str],
) -> Callable[[Request], Awaitable[None]]:
    """Run a Starlette `@response_scoped` handler inside the route's scope."""

    @response_scoped
    async def starlette_handler(request: Request) -> Response:
        await response_stack(request).enter_async_context(recorded(events, "db"))
        return Response()

    async def open_inner(request: Request) -> None:
        await starlette_handler(request)

    return open_inner


@pytest.mark.parametrize(
    "inner", [open_inner_scope_directly, open_inner_scope_with_the_starlette_adapter]
)
async def test_nested_response_scope_leaves_closing_to_the_outer_one(
    inner: Callable[[list[str]], Callable[[Request], Awaitable[None]]],
) -> None:
    events: list[str] = []
    open_inner = inner(events)

    class Note(BaseModel):
        text: str

        @field_serializer("text")
        def _log_serialization(self, value: str) -> str:
            events.append("serialize")
            return value

    router = APIRouter(route_class=ResponseScopedRoute)

    @router.get("/notes", response_model=Note)
    async def read_note(request: Request) -> dict[str, str]:
        await open_inner(request)
        events.append("inner scope ended")
        return {"text": "hello"}

    app = FastAPI()
    app.include_router(router)
    exchange = await call(app, "/notes", events=events)

    assert exchange.json() == {"text": "hello"}
    # Had the inner scope closed the stack, "db exit" would precede "inner scope ended".
    assert events == ["db enter", "inner scope ended", "serialize", "db exit", START, BODY]
