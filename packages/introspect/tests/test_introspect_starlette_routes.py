"""Every kind of Starlette route is listed, and what is listed is really served.

These tests need Starlette alone, so they run in the FastAPI-free environment too.
"""

from __future__ import annotations

import functools
import random
import subprocess
import sys

import pytest
from starlette.applications import Starlette
from starlette.endpoints import HTTPEndpoint
from starlette.middleware.gzip import GZipMiddleware
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import BaseRoute, Host, Mount, Route, Router, WebSocketRoute
from starlette.types import ASGIApp, Receive, Scope, Send
from starlette.websockets import WebSocket

from mintaka.introspect import (
    RouteInfo,
    UnlistedRouteWarning,
    method_paths_from_routes,
    route_table,
)
from packages.introspect.tests._introspect_probe import http, serves

pytestmark = pytest.mark.anyio


async def hello(request: Request) -> Response:
    return PlainTextResponse("hello")


async def chat(websocket: WebSocket) -> None:
    await websocket.accept()
    await websocket.send_text("chat")
    await websocket.close()


class Items(HTTPEndpoint):
    async def get(self, request: Request) -> Response:
        return PlainTextResponse("items")

    async def post(self, request: Request) -> Response:
        return PlainTextResponse("created")


class AnyMethodApp:
    """A bare ASGI app: it answers every method on every path it is given."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await PlainTextResponse("any")(scope, receive, send)


async def assert_all_served(app: ASGIApp, rows: list[RouteInfo]) -> None:
    for row in rows:
        method = "GET" if row.method == "*" else row.method
        assert await serves(app, method, row.path, row.host), f"{row} is listed but not served"


async def test_a_get_route_lists_the_head_starlette_adds_and_serves_both() -> None:
    app = Starlette(routes=[Route("/logs/", hello)])

    assert method_paths_from_routes(app.routes) == {"GET /logs/", "HEAD /logs/"}
    await assert_all_served(app, route_table(app))


async def test_implicit_head_can_be_left_out_while_a_declared_head_only_route_stays() -> None:
    app = Starlette(routes=[Route("/a", hello), Route("/h", hello, methods=["HEAD"])])

    assert method_paths_from_routes(app, include_implicit_head=False) == {"GET /a", "HEAD /h"}
    assert [row.method_path for row in route_table(app, include_implicit_head=False)] == [
        "GET /a",
        "HEAD /h",
    ]


async def test_paths_are_the_templates_the_router_matches_with_convertors_as_written() -> None:
    app = Starlette(
        routes=[
            Route("/files/{file_path:path}", hello),
            Route("/items/{item_id:int}", hello, methods=["DELETE"]),
        ]
    )

    assert method_paths_from_routes(app, include_implicit_head=False) == {
        "GET /files/{file_path:path}",
        "DELETE /items/{item_id:int}",
    }
    await assert_all_served(app, route_table(app))


async def test_mounted_routers_give_mount_path_plus_inner_path_without_doubled_slashes() -> None:
    app = Starlette(
        routes=[
            Mount(
                "/api/",
                routes=[
                    Mount("/v1", routes=[Route("/logs/", hello), Route("/", hello)]),
                    Mount("/users/{user_id}", routes=[Route("/posts", hello)]),
                ],
            ),
            Mount("", routes=[Route("/at-root", hello)]),
        ]
    )

    assert method_paths_from_routes(app, include_implicit_head=False) == {
        "GET /api/v1/logs/",
        "GET /api/v1/",
        "GET /api/users/{user_id}/posts",
        "GET /at-root",
    }
    await assert_all_served(app, route_table(app))


async def test_a_mounted_app_is_listed_through_the_middleware_around_it() -> None:
    sub_app = Starlette(routes=[Route("/report", hello)])
    app = Starlette(
        routes=[
            Mount("/sub", app=sub_app),
            Mount("/zipped", app=GZipMiddleware(sub_app)),
        ]
    )

    assert method_paths_from_routes(app, include_implicit_head=False) == {
        "GET /sub/report",
        "GET /zipped/report",
    }
    await assert_all_served(app, route_table(app))


async def test_an_app_mounted_as_a_black_box_is_one_mount_row_for_every_method() -> None:
    app = Starlette(routes=[Mount("/static", app=AnyMethodApp(), name="static")])

    assert route_table(app) == [
        RouteInfo(
            method="*",
            path="/static/{path:path}",
            host=None,
            name="static",
            endpoint=f"{__name__}.AnyMethodApp",
            kind="mount",
            include_in_schema=False,
        )
    ]
    assert method_paths_from_routes(app) == set(), "black-box mounts have no known methods"
    assert await serves(app, "PATCH", "/static/{path:path}")


async def test_host_routes_show_their_host_in_the_table_and_their_path_in_method_paths() -> None:
    app = Starlette(
        routes=[
            Host("api.example.com", app=Router(routes=[Route("/status", hello)]), name="api"),
            Host("{tenant}.example.com", app=Route("/home", hello)),
        ]
    )

    rows = route_table(app, include_implicit_head=False)
    assert [(row.host, row.method, row.path) for row in rows] == [
        ("{tenant}.example.com", "GET", "/home"),
        ("api.example.com", "GET", "/status"),
    ]
    assert method_paths_from_routes(app, include_implicit_head=False) == {
        "GET /home",
        "GET /status",
    }
    await assert_all_served(app, rows)
    assert await serves(app, "GET", "/home", "acme.example.com")
    assert not await serves(app, "GET", "/status", "other.example.com"), "the host matters"


async def test_websocket_routes_are_listed_only_when_asked_for() -> None:
    app = Starlette(routes=[WebSocketRoute("/chat", chat), Route("/", hello, methods=["POST"])])

    assert method_paths_from_routes(app) == {"POST /"}
    assert method_paths_from_routes(app, include_websockets=True) == {"POST /", "WS /chat"}
    assert [row.method for row in route_table(app)] == ["POST", "WS"]
    assert [row.method for row in route_table(app, include_websockets=False)] == ["POST"]
    assert route_table(app)[1].kind == "websocket"
    await assert_all_served(app, route_table(app))


async def test_an_http_endpoint_class_lists_exactly_the_methods_it_answers() -> None:
    app = Starlette(routes=[Route("/items", Items), Route("/read-only", Items, methods=["GET"])])

    assert method_paths_from_routes(app) == {
        "GET /items",
        "HEAD /items",
        "POST /items",
        "GET /read-only",
        "HEAD /read-only",
    }
    assert method_paths_from_routes(app, include_implicit_head=False) == {
        "GET /items",
        "POST /items",
        "GET /read-only",
    }
    await assert_all_served(app, route_table(app))
    status, _ = await http(app, "PUT", "/items")
    assert status == 405, "a method the endpoint does not define is not served"
    status, _ = await http(app, "POST", "/read-only")
    assert status == 405, "a method the route does not allow is not served"


def test_a_partial_endpoint_is_named_after_the_function_it_wraps() -> None:
    app = Starlette(routes=[Route("/hello", functools.partial(hello), name="partial")])

    assert route_table(app)[0].endpoint == f"{__name__}.hello"


async def test_a_route_whose_endpoint_is_a_bare_asgi_app_answers_any_method() -> None:
    app = Starlette(routes=[Route("/raw", AnyMethodApp())])

    assert method_paths_from_routes(app) == {"* /raw"}
    assert await serves(app, "DELETE", "/raw")


async def test_an_app_its_router_its_routes_and_middleware_around_it_list_the_same() -> None:
    app = Starlette(routes=[Route("/a", hello), Mount("/m", routes=[Route("/b", hello)])])
    expected = {"GET /a", "HEAD /a", "GET /m/b", "HEAD /m/b"}

    for target in (app, app.routes, app.router, GZipMiddleware(app), tuple(app.routes)):
        assert method_paths_from_routes(target) == expected, target


def test_something_without_routes_is_refused_with_what_was_expected() -> None:
    with pytest.raises(TypeError, match=r"a list of routes, or an app or router"):
        method_paths_from_routes(42)  # type: ignore[arg-type]


def test_a_route_of_an_unknown_kind_warns_instead_of_vanishing_silently() -> None:
    class CustomRoute(BaseRoute):
        pass

    routes = [CustomRoute(), Route("/kept", hello)]
    with pytest.warns(UnlistedRouteWarning, match=r"CustomRoute.*left out of the listing"):
        listed = method_paths_from_routes(routes)
    assert listed == {"GET /kept", "HEAD /kept"}


def test_the_table_is_sorted_by_the_chosen_column_the_same_way_every_time() -> None:
    routes = [
        Route("/b", hello, name="echo", methods=["PURGE"]),
        Route("/b", hello, name="alpha", methods=["POST"]),
        Route("/a", hello, name="charlie", methods=["DELETE", "GET"]),
        Route("/c", hello, name="bravo"),
        WebSocketRoute("/a", chat, name="delta"),
    ]
    by_path = [
        ("GET", "/a"),
        ("HEAD", "/a"),
        ("DELETE", "/a"),
        ("WS", "/a"),
        ("POST", "/b"),
        ("PURGE", "/b"),
        ("GET", "/c"),
        ("HEAD", "/c"),
    ]
    by_method = [
        ("GET", "/a"),
        ("GET", "/c"),
        ("HEAD", "/a"),
        ("HEAD", "/c"),
        ("POST", "/b"),
        ("DELETE", "/a"),
        ("PURGE", "/b"),
        ("WS", "/a"),
    ]
    by_name = ["alpha", "bravo", "bravo", "charlie", "charlie", "charlie", "delta", "echo"]
    for _ in range(5):
        random.shuffle(routes)
        assert [(r.method, r.path) for r in route_table(routes)] == by_path
        assert [(r.method, r.path) for r in route_table(routes, sort="method")] == by_method
        assert [r.name for r in route_table(routes, sort="name")] == by_name
    with pytest.raises(ValueError, match="cannot sort routes by 'host'; use one of path"):
        route_table(routes, sort="host")  # type: ignore[arg-type]


def test_importing_mintaka_introspect_imports_neither_fastapi_nor_pydantic() -> None:
    code = (
        "import sys, mintaka.introspect\n"
        "print(sorted(m for m in ('fastapi', 'pydantic') if m in sys.modules))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert result.stdout.strip() == "[]"
