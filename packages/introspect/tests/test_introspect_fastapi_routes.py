"""FastAPI's routes, included routers (copied or lazy), mounts and hosts are all listed.

FastAPI up to 0.136 copies an included router's routes into the parent and drops its
mounts and hosts; from 0.137 it keeps one lazy entry per inclusion and serves those too.
Every test here compares the listing with what the app really serves on this cell.
"""

from __future__ import annotations

import subprocess
import sys

import pytest

pytest.importorskip("fastapi", reason="these tests list FastAPI routes; FastAPI is not installed")

import fastapi
from fastapi import APIRouter, FastAPI, WebSocket
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Mount, Route, Router

from mintaka.introspect import method_paths_from_routes, route_table
from packages.introspect.tests._introspect_probe import http, serves

pytestmark = pytest.mark.anyio

# From 0.137, include_router keeps a lazy entry that also serves the included router's
# mounts and hosts, and applies the including router's prefix to plain Starlette routes.
LAZY_INCLUDE = tuple(int(part) for part in fastapi.__version__.split(".")[:2]) >= (0, 137)


def bare_app() -> FastAPI:
    return FastAPI(openapi_url=None, docs_url=None, redoc_url=None)


async def plain(request: Request) -> Response:
    return PlainTextResponse("plain")


def add_every_kind(router: APIRouter, host: str) -> None:
    @router.get("/items/{item_id}", name="read_item")
    async def read_item(item_id: int) -> dict[str, int]:
        return {"item_id": item_id}

    @router.api_route("/items", methods=["POST", "HEAD"], name="create_item")
    async def create_item() -> dict[str, str]:
        return {}

    @router.websocket("/feed", name="feed")
    async def feed(websocket: WebSocket) -> None:
        await websocket.accept()
        await websocket.send_text("feed")
        await websocket.close()

    router.add_route("/plain", plain, name="plain")
    router.mount("/files", app=Router(routes=[Route("/{name:path}", plain, name="file")]))
    router.host(host, app=Router(routes=[Route("/panel", plain, name="panel")]))


def every_kind_app() -> FastAPI:
    inner = APIRouter(prefix="/inner")
    # A Host answers every path on its host name, so each router gets a host of its own.
    add_every_kind(inner, "inner.example.com")
    outer = APIRouter(prefix="/outer")
    outer.include_router(inner, prefix="/v1")
    app = bare_app()
    add_every_kind(app.router, "admin.example.com")
    app.include_router(outer, prefix="/api")
    app.mount("/sub", app=sub_app())
    return app


def sub_app() -> FastAPI:
    sub = bare_app()

    @sub.get("/health")
    async def health() -> dict[str, str]:
        return {}

    return sub


def test_every_route_kind_is_listed_on_this_fastapi_version() -> None:
    app = every_kind_app()
    expected = {
        ("GET", "/items/{item_id}", None),
        ("POST", "/items", None),
        ("HEAD", "/items", None),
        ("WS", "/feed", None),
        ("GET", "/plain", None),
        ("HEAD", "/plain", None),
        ("GET", "/files/{name:path}", None),
        ("HEAD", "/files/{name:path}", None),
        ("GET", "/panel", "admin.example.com"),
        ("HEAD", "/panel", "admin.example.com"),
        ("GET", "/sub/health", None),
        # Included twice over: the routers' own prefixes and the include prefixes.
        ("GET", "/api/outer/v1/inner/items/{item_id}", None),
        ("POST", "/api/outer/v1/inner/items", None),
        ("HEAD", "/api/outer/v1/inner/items", None),
        ("WS", "/api/outer/v1/inner/feed", None),
    }
    if LAZY_INCLUDE:
        expected |= {
            ("GET", "/api/outer/v1/plain", None),
            ("HEAD", "/api/outer/v1/plain", None),
            ("GET", "/api/outer/v1/files/{name:path}", None),
            ("HEAD", "/api/outer/v1/files/{name:path}", None),
            ("GET", "/api/outer/v1/panel", "inner.example.com"),
            ("HEAD", "/api/outer/v1/panel", "inner.example.com"),
        }
    else:
        # Starlette routes are copied with the include prefixes only; mounts and
        # hosts of an included router are not copied, so they are not served.
        expected |= {("GET", "/api/v1/plain", None), ("HEAD", "/api/v1/plain", None)}

    listed = {(row.method, row.path, row.host) for row in route_table(app)}

    assert listed == expected
    assert method_paths_from_routes(app, include_websockets=True) == {
        f"{method} {path}" for method, path, _ in expected
    }


async def test_everything_listed_is_served_and_what_is_left_out_is_not() -> None:
    app = every_kind_app()

    for row in route_table(app):
        assert await serves(app, row.method, row.path, row.host), f"{row} is not served"
    if not LAZY_INCLUDE:
        assert not await serves(app, "GET", "/api/outer/v1/files/x")
        assert not await serves(app, "GET", "/api/outer/v1/panel", "inner.example.com")


async def test_fastapi_routes_serve_no_implicit_head_and_a_declared_head_is_kept() -> None:
    app = bare_app()

    @app.get("/only-get")
    async def only_get() -> dict[str, str]:
        return {}

    @app.api_route("/get-and-head", methods=["GET", "HEAD"])
    async def get_and_head() -> dict[str, str]:
        return {}

    app.add_route("/starlette", plain)

    assert method_paths_from_routes(app, include_implicit_head=False) == {
        "GET /only-get",
        "GET /get-and-head",
        "HEAD /get-and-head",
        "GET /starlette",
    }
    assert "HEAD /only-get" not in method_paths_from_routes(app)
    status, _ = await http(app, "HEAD", "/only-get")
    assert status == 405, "FastAPI does not add HEAD, so it must not be listed"


def test_the_rows_carry_name_endpoint_kind_and_the_combined_schema_flag() -> None:
    hidden = APIRouter(include_in_schema=False)
    visible = APIRouter()

    @visible.get("/shown", name="shown")
    async def shown() -> dict[str, str]:
        return {}

    @visible.get("/hidden", include_in_schema=False)
    async def hidden_route() -> dict[str, str]:
        return {}

    hidden.add_route("/plain", plain, include_in_schema=True)
    app = bare_app()
    app.include_router(visible, prefix="/visible")
    app.include_router(visible, prefix="/hidden-by-include", include_in_schema=False)
    app.include_router(hidden, prefix="/hidden-router")

    rows = {(row.path, row.method): row for row in route_table(app)}

    shown_row = rows["/visible/shown", "GET"]
    assert (shown_row.name, shown_row.kind, shown_row.host) == ("shown", "http", None)
    assert shown_row.endpoint == f"{__name__}.{shown.__qualname__}"
    assert shown_row.include_in_schema
    assert not rows["/visible/hidden", "GET"].include_in_schema
    assert not rows["/hidden-by-include/shown", "GET"].include_in_schema
    # FastAPI keeps a plain Starlette route's own flag however it was included.
    assert rows["/hidden-router/plain", "GET"].include_in_schema


def test_an_include_with_an_empty_path_and_a_prefix_lists_the_prefix() -> None:
    router = APIRouter()

    @router.get("")
    async def collection() -> list[str]:
        return []

    app = bare_app()
    app.include_router(router, prefix="/things")

    assert method_paths_from_routes(app) == {"GET /things"}


def test_importing_mintaka_introspect_does_not_import_fastapi_even_when_installed() -> None:
    code = "import sys, mintaka.introspect; print('fastapi' in sys.modules)"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert result.stdout.strip() == "False"


def test_a_mounted_starlette_mount_inside_a_fastapi_app_is_walked() -> None:
    app = bare_app()
    app.router.routes.append(Mount("/legacy", routes=[Route("/ping", plain)]))

    assert method_paths_from_routes(app) == {"GET /legacy/ping", "HEAD /legacy/ping"}
