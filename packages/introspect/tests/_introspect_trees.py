"""Random route trees, the routes they should serve, and a check against the real app.

A tree is a tuple of nodes: leaves (routes) and branches (included routers, mounts,
hosts). Every node gets a number, and every path segment, route name and response body
is made from it, so no two routes can collide and every probe can tell which route
answered. The model below says what each tree serves, independently of
mintaka-introspect; the check compares the listing with the model and probes every
entry against the real app. FastAPI-free: the Starlette-only property test uses it too.
Test modules import it by its dotted name (`packages.introspect.tests._introspect_trees`).
"""

from __future__ import annotations

import dataclasses
import itertools
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from hypothesis import strategies as st
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import BaseRoute, Host, Mount, Route, Router, WebSocketRoute
from starlette.websockets import WebSocket

from mintaka.introspect import method_paths_from_routes, route_table
from packages.introspect.tests._introspect_probe import concrete_path, http, websocket_text

if TYPE_CHECKING:
    from collections.abc import Callable, Coroutine, Iterable
    from typing import Any

    from starlette.types import ASGIApp

LeafKind = Literal["route", "ws", "api", "apiws"]
BranchKind = Literal["include", "mount", "mount_app", "host"]
PARAMS = {"": "", "str": "/{p%d}", "int": "/{p%d:int}", "path": "/{p%d:path}"}


@dataclass(frozen=True)
class Leaf:
    kind: LeafKind
    methods: tuple[str, ...]
    param: str
    ident: int = 0

    @property
    def path(self) -> str:
        return f"/l{self.ident}" + (PARAMS[self.param] % self.ident if self.param else "")

    @property
    def name(self) -> str:
        return f"n{self.ident}"

    def served_methods(self) -> tuple[str, ...]:
        if self.kind in ("ws", "apiws"):
            return ("WS",)
        if self.kind == "route" and "GET" in self.methods:
            return (*self.methods, "HEAD")  # Starlette's Route adds it, FastAPI's does not
        return self.methods


@dataclass(frozen=True)
class Branch:
    kind: BranchKind
    children: tuple[Node, ...]
    own_prefix: bool
    flag: bool
    ident: int = 0

    @property
    def router_prefix(self) -> str:
        """The `APIRouter(prefix=...)` of the router this branch holds (FastAPI only)."""
        return f"/r{self.ident}" if self.own_prefix and self.kind != "mount_app" else ""

    @property
    def segment(self) -> str:
        """The include prefix, or the mount path (with a path parameter when flagged)."""
        if self.kind == "include":
            return f"/i{self.ident}" if self.flag else ""
        return f"/m{self.ident}" + (f"/{{q{self.ident}}}" if self.flag else "")

    @property
    def host(self) -> str:
        return f"h{self.ident}.example.com"


Node = Leaf | Branch


@dataclass(frozen=True)
class Entry:
    """One method of one route the model says the app serves."""

    host: str | None
    method: str
    path: str
    leaf: Leaf
    origin: Literal["api", "starlette", "branch"]


def trees(
    leaf_kinds: list[LeafKind], branch_kinds: list[BranchKind]
) -> st.SearchStrategy[tuple[Node, ...]]:
    def methods(kind: LeafKind) -> st.SearchStrategy[tuple[str, ...]]:
        pool = (
            ["GET", "POST", "PUT", "DELETE"]
            if kind == "route"
            else ["GET", "HEAD", "POST", "PATCH"]
        )
        return st.lists(st.sampled_from(pool), min_size=1, max_size=3, unique=True).map(
            lambda m: tuple(sorted(m))
        )

    leaf = st.sampled_from(leaf_kinds).flatmap(
        lambda kind: st.builds(
            Leaf, kind=st.just(kind), methods=methods(kind), param=st.sampled_from(list(PARAMS))
        )
    )

    def branch(children: st.SearchStrategy[Node]) -> st.SearchStrategy[Node]:
        return st.builds(
            Branch,
            kind=st.sampled_from(branch_kinds),
            children=st.lists(children, min_size=1, max_size=4).map(tuple),
            own_prefix=st.booleans(),
            flag=st.booleans(),
        )

    node = st.recursive(leaf, branch, max_leaves=12)
    return st.lists(node, min_size=2, max_size=5).map(lambda nodes: number(tuple(nodes)))


def number(
    nodes: tuple[Node, ...], counter: Iterable[int] | None = None, *, in_host: bool = False
) -> tuple[Node, ...]:
    """Give every node its own number; a host in a host (unreachable) becomes a mount."""
    counter = iter(counter if counter is not None else itertools.count(1))
    numbered: list[Node] = []
    for node in nodes:
        ident = next(counter)
        if isinstance(node, Leaf):
            numbered.append(dataclasses.replace(node, ident=ident))
            continue
        kind: BranchKind = "mount" if node.kind == "host" and in_host else node.kind
        children = number(node.children, counter, in_host=in_host or kind == "host")
        numbered.append(dataclasses.replace(node, kind=kind, children=children, ident=ident))
    return tuple(numbered)


def expected_entries(
    nodes: tuple[Node, ...], *, lazy_include: bool, router_prefix: str = "", host: str | None = None
) -> list[Entry]:
    """What a router holding `nodes` serves, by FastAPI's and Starlette's documented rules.

    `router_prefix` is the holding APIRouter's own prefix: FastAPI puts it in front of
    its FastAPI routes only. An include copies FastAPI routes with both the including
    router's prefix and the include prefix, Starlette routes with the include prefix
    only, and drops mounts and hosts, up to FastAPI 0.136; from 0.137 (`lazy_include`)
    every route of the included router is served under both prefixes.
    """
    entries: list[Entry] = []
    for node in nodes:
        if isinstance(node, Leaf):
            api = node.kind in ("api", "apiws")
            path = router_prefix + node.path if api else node.path
            origin: Literal["api", "starlette"] = "api" if api else "starlette"
            entries += (Entry(host, m, path, node, origin) for m in node.served_methods())
            continue
        inner_host = node.host if node.kind == "host" else host
        inner = expected_entries(
            node.children,
            lazy_include=lazy_include,
            router_prefix=node.router_prefix,
            host=inner_host,
        )
        if node.kind == "include":
            for entry in inner:
                if lazy_include or entry.origin == "api":
                    entries.append(
                        dataclasses.replace(entry, path=router_prefix + node.segment + entry.path)
                    )
                elif entry.origin == "starlette":
                    entries.append(dataclasses.replace(entry, path=node.segment + entry.path))
        else:
            mount = node.segment if node.kind != "host" else ""
            entries.extend(
                dataclasses.replace(entry, path=mount + entry.path, origin="branch")
                for entry in inner
            )
    return entries


def http_endpoint(leaf: Leaf) -> Callable[[Request], Coroutine[Any, Any, Response]]:
    async def endpoint(request: Request) -> Response:
        return PlainTextResponse(leaf.name)

    return endpoint


def websocket_endpoint(leaf: Leaf) -> Callable[[WebSocket], Coroutine[Any, Any, None]]:
    async def endpoint(websocket: WebSocket) -> None:
        await websocket.accept()
        await websocket.send_text(leaf.name)
        await websocket.close()

    return endpoint


def starlette_routes(nodes: tuple[Node, ...]) -> list[BaseRoute]:
    """Build a Starlette-only tree: routes, WebSocket routes, mounts and hosts."""
    routes: list[BaseRoute] = []
    for node in nodes:
        if isinstance(node, Leaf):
            if node.kind == "route":
                routes.append(
                    Route(
                        node.path, http_endpoint(node), methods=list(node.methods), name=node.name
                    )
                )
            else:
                routes.append(WebSocketRoute(node.path, websocket_endpoint(node), name=node.name))
        elif node.kind == "mount":
            routes.append(Mount(node.segment, routes=starlette_routes(node.children)))
        elif node.kind == "mount_app":
            routes.append(
                Mount(node.segment, app=Starlette(routes=starlette_routes(node.children)))
            )
        else:
            routes.append(Host(node.host, app=Router(routes=starlette_routes(node.children))))
    return routes


async def assert_listing_is_what_is_served(
    app: ASGIApp, nodes: tuple[Node, ...], *, lazy_include: bool
) -> None:
    """The listing equals the model, and every entry of the model answers as its own route."""
    expected = expected_entries(nodes, lazy_include=lazy_include)
    rows = route_table(app)
    assert sorted((r.host or "", r.method, r.path, r.name or "") for r in rows) == sorted(
        (e.host or "", e.method, e.path, e.leaf.name) for e in expected
    )
    assert method_paths_from_routes(app, include_websockets=True) == {
        f"{e.method} {e.path}" for e in expected
    }
    starlette_heads = {
        (e.host, e.path) for e in expected if e.leaf.kind == "route" and "GET" in e.leaf.methods
    }
    assert {(r.host, r.method, r.path) for r in route_table(app, include_implicit_head=False)} == {
        (e.host, e.method, e.path)
        for e in expected
        if not (e.method == "HEAD" and (e.host, e.path) in starlette_heads)
    }
    for entry in expected:
        path = concrete_path(entry.path)
        if entry.method == "WS":
            assert await websocket_text(app, path, entry.host) == entry.leaf.name, entry
            continue
        status, body = await http(app, entry.method, path, entry.host)
        assert status == 200, (entry, status)
        # The server drops a HEAD response's body, not the app, so HEAD may carry it here.
        assert body in (
            (b"", entry.leaf.name.encode())
            if entry.method == "HEAD"
            else (entry.leaf.name.encode(),)
        ), entry
