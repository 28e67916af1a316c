"""A response-scoped dependency keeps working with everything FastAPI offers dependencies."""

import inspect
from collections.abc import AsyncIterator
from typing import Annotated

import pytest
from fastapi import APIRouter, Depends, FastAPI, Header, Path, Query, Request
from starlette.requests import HTTPConnection

from mintaka.core.fastapi import ResponseScopedRoute
from mintaka.depends import response_scoped_dependency
from testing.asgi import BODY, START, call, fastapi_version

pytestmark = pytest.mark.anyio


def app_with(router: APIRouter) -> FastAPI:
    app = FastAPI()
    app.include_router(router)
    return app


async def current_user(x_user: Annotated[str, Header()]) -> str:
    return x_user.upper()


async def test_sub_dependencies_and_request_parameters_reach_the_dependency() -> None:
    events: list[str] = []

    @response_scoped_dependency
    async def workspace(
        note_id: Annotated[int, Path(ge=1)],
        user: Annotated[str, Depends(current_user)],
        limit: Annotated[int, Query(le=10)] = 5,
        x_trace: Annotated[str | None, Header()] = None,
    ) -> AsyncIterator[str]:
        events.append("enter")
        yield f"{user}:{note_id}:{limit}:{x_trace}"
        events.append("exit")

    router = APIRouter(route_class=ResponseScopedRoute)

    @router.get("/notes/{note_id}")
    async def read(ws: Annotated[str, Depends(workspace)]) -> str:
        return ws

    app = app_with(router)
    headers = [(b"x-user", b"ada"), (b"x-trace", b"t1")]
    exchange = await call(app, "/notes/7?limit=3", events=events, headers=headers)
    invalid = await call(app, "/notes/7?limit=11", headers=headers)

    assert exchange.json() == "ADA:7:3:t1"
    assert events == ["enter", "exit", START, BODY]
    assert invalid.status == 422
    assert invalid.json()["detail"][0]["loc"] == ["query", "limit"]


async def test_default_parameter_style_depends_works_too() -> None:
    @response_scoped_dependency
    async def workspace(user: str = Depends(current_user)) -> AsyncIterator[str]:
        yield user

    router = APIRouter(route_class=ResponseScopedRoute)

    @router.get("/who")
    async def who(ws: str = Depends(workspace)) -> str:
        return ws

    exchange = await call(app_with(router), "/who", headers=[(b"x-user", b"lin")])

    assert exchange.json() == "LIN"


@pytest.mark.parametrize("annotation", [Request, HTTPConnection], ids=lambda a: a.__name__)
async def test_a_declared_request_is_passed_through_under_its_own_name(
    annotation: type[HTTPConnection],
) -> None:
    async def tagged(incoming: HTTPConnection) -> AsyncIterator[str]:
        yield f"{incoming.scope['method']} {incoming.url.path}"

    tagged.__annotations__["incoming"] = annotation
    dependency = response_scoped_dependency(tagged)
    router = APIRouter(route_class=ResponseScopedRoute)

    @router.get("/tag")
    async def read(tag: Annotated[str, Depends(dependency)]) -> str:
        return tag

    exchange = await call(app_with(router), "/tag")

    assert exchange.json() == "GET /tag"
    assert list(inspect.signature(dependency).parameters) == ["incoming"]


async def test_a_parameter_named_like_the_private_request_keeps_its_meaning() -> None:
    @response_scoped_dependency
    async def echo(_mintaka_request: str = "default") -> AsyncIterator[str]:
        yield _mintaka_request

    router = APIRouter(route_class=ResponseScopedRoute)

    @router.get("/echo")
    async def read(value: Annotated[str, Depends(echo)]) -> str:
        return value

    exchange = await call(app_with(router), "/echo?_mintaka_request=query")

    assert exchange.json() == "query"


async def test_dependency_overrides_replace_the_wrapped_dependency() -> None:
    events: list[str] = []

    @response_scoped_dependency
    async def real() -> AsyncIterator[str]:
        events.append("real entered")
        yield "real"

    router = APIRouter(route_class=ResponseScopedRoute)

    @router.get("/which")
    async def which(value: Annotated[str, Depends(real)]) -> str:
        return value

    app = app_with(router)
    app.dependency_overrides[real] = lambda: "override"
    overridden = await call(app, "/which")
    app.dependency_overrides.clear()
    restored = await call(app, "/which")

    assert overridden.json() == "override"
    assert restored.json() == "real"
    assert events == ["real entered"]


async def test_one_request_enters_a_cached_dependency_once() -> None:
    events: list[str] = []

    @response_scoped_dependency
    async def session() -> AsyncIterator[object]:
        events.append("enter")
        yield object()
        events.append("exit")

    async def repository(s: Annotated[object, Depends(session)]) -> object:
        return s

    router = APIRouter(route_class=ResponseScopedRoute)

    @router.get("/cached")
    async def cached(
        direct: Annotated[object, Depends(session)],
        via_repository: Annotated[object, Depends(repository)],
    ) -> bool:
        return direct is via_repository

    @router.get("/uncached")
    async def uncached(
        direct: Annotated[object, Depends(session)],
        fresh: Annotated[object, Depends(session, use_cache=False)],
    ) -> bool:
        return direct is fresh

    app = app_with(router)
    cached_exchange = await call(app, "/cached", events=events)
    cached_events = list(events)
    events.clear()
    uncached_exchange = await call(app, "/uncached", events=events)

    assert cached_exchange.json() is True
    assert cached_events == ["enter", "exit", START, BODY]
    assert uncached_exchange.json() is False
    assert events == ["enter", "enter", "exit", "exit", START, BODY]


async def test_a_plain_yield_sub_dependency_closes_on_fastapi_s_own_schedule() -> None:
    events: list[str] = []

    async def connection() -> AsyncIterator[str]:
        events.append("connection open")
        yield "connection"
        events.append("connection close")

    @response_scoped_dependency
    async def session(conn: Annotated[str, Depends(connection)]) -> AsyncIterator[str]:
        events.append("session open")
        yield conn
        events.append("session close")

    router = APIRouter(route_class=ResponseScopedRoute)

    @router.get("/layered")
    async def layered(value: Annotated[str, Depends(session)]) -> str:
        return value

    await call(app_with(router), "/layered", events=events)

    opened = ["connection open", "session open"]
    if fastapi_version() < (0, 118):
        # FastAPI 0.106 to 0.117 closes its own yield dependencies inside the route
        # handler, so the plain one closes first, although the session depends on it.
        assert events == [*opened, "connection close", "session close", START, BODY]
    else:
        assert events == [*opened, "session close", START, BODY, "connection close"]
