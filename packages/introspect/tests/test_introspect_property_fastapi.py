"""Property: for random trees of FastAPI routers (nested includes with prefixes), mounts
and hosts, the listing is exactly what the app serves, on this FastAPI version."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

import pytest

pytest.importorskip("fastapi", reason="these trees are built from FastAPI routers")

import anyio
import fastapi
from fastapi import APIRouter, FastAPI
from hypothesis import HealthCheck, assume, given, settings
from starlette.responses import PlainTextResponse, Response

from packages.introspect.tests._introspect_trees import (
    Branch,
    Leaf,
    Node,
    assert_listing_is_what_is_served,
    http_endpoint,
    number,
    trees,
    websocket_endpoint,
)

# FastAPI 0.137 replaced copying included routes with a lazy included-router entry,
# which changes what an included router serves (see expected_entries).
LAZY_INCLUDE = tuple(int(part) for part in fastapi.__version__.split(".")[:2]) >= (0, 137)


def old_fastapi_can_include(nodes: tuple[Node, ...]) -> bool:
    """FastAPI up to 0.136 fails to include a router that holds a Host without a prefix.

    Its include_router reads `route.path` of every route when the prefix is empty, and
    a Host has none (AttributeError); such trees cannot be built there.
    """
    return all(
        isinstance(node, Leaf)
        or (
            not (
                node.kind == "include"
                and not node.segment
                and any(
                    isinstance(child, Branch) and child.kind == "host" for child in node.children
                )
            )
            and old_fastapi_can_include(node.children)
        )
        for node in nodes
    )


def bare_app() -> FastAPI:
    return FastAPI(openapi_url=None, docs_url=None, redoc_url=None)


def api_endpoint(leaf: Leaf) -> Callable[[], Coroutine[Any, Any, Response]]:
    async def endpoint() -> Response:
        return PlainTextResponse(leaf.name)

    return endpoint


def fill(router: APIRouter, nodes: tuple[Node, ...]) -> None:
    for node in nodes:
        if isinstance(node, Leaf):
            methods = list(node.methods)
            if node.kind == "api":
                router.add_api_route(node.path, api_endpoint(node), methods=methods, name=node.name)
            elif node.kind == "apiws":
                router.add_api_websocket_route(node.path, websocket_endpoint(node), name=node.name)
            elif node.kind == "route":
                router.add_route(node.path, http_endpoint(node), methods=methods, name=node.name)
            else:
                router.add_websocket_route(node.path, websocket_endpoint(node), name=node.name)
            continue
        if node.kind == "mount_app":
            sub_app = bare_app()
            fill(sub_app.router, node.children)
            router.mount(node.segment, app=sub_app)
            continue
        child = APIRouter(prefix=node.router_prefix)
        fill(child, node.children)
        if node.kind == "include":
            router.include_router(child, prefix=node.segment)
        elif node.kind == "mount":
            router.mount(node.segment, app=child)
        else:
            router.host(node.host, app=child)


@settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    trees(
        leaf_kinds=["api", "apiws", "route", "ws"],
        branch_kinds=["include", "include", "mount", "mount_app", "host"],
    )
)
def test_listing_of_random_fastapi_trees_is_exactly_what_is_served(nodes: tuple[Node, ...]) -> None:
    assume(LAZY_INCLUDE or old_fastapi_can_include(nodes))
    app = bare_app()
    fill(app.router, nodes)

    anyio.run(lambda: assert_listing_is_what_is_served(app, nodes, lazy_include=LAZY_INCLUDE))


def test_an_included_router_with_every_kind_matches_the_model() -> None:
    """A fixed tree that holds every branch inside an include, so no cell can miss one."""
    nodes = trees_fixed()
    app = bare_app()
    fill(app.router, nodes)

    anyio.run(lambda: assert_listing_is_what_is_served(app, nodes, lazy_include=LAZY_INCLUDE))


def trees_fixed() -> tuple[Node, ...]:
    leaves = (
        Leaf("api", ("GET", "HEAD"), "int"),
        Leaf("apiws", (), ""),
        Leaf("route", ("GET", "POST"), "path"),
        Leaf("ws", (), "str"),
    )
    branches = tuple(
        Branch(kind, leaves, own_prefix=True, flag=True) for kind in ("mount", "mount_app", "host")
    )
    inner = Branch("include", (*leaves, *branches), own_prefix=True, flag=True)
    return number((Branch("include", (inner, *leaves), own_prefix=True, flag=True),))
