"""Walk a route tree and report what every route in it serves.

The walk follows what the router really dispatches to: plain routes, `Mount`s (the mount
path joined to the inner paths), `Host`s, and the routers FastAPI includes. FastAPI up to
0.136 copies included routes into the parent's `routes`, so they are plain routes here;
from 0.137 `include_router` adds one lazy entry that holds the included router and the
inclusion's prefix, recognised by its shape, without importing FastAPI.
"""

from __future__ import annotations

import dataclasses
import functools
import inspect
import sys
import warnings
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from starlette.endpoints import HTTPEndpoint
from starlette.routing import BaseRoute, Host, Mount, Route, WebSocketRoute

from mintaka.introspect._route_info import RouteInfo, RouteKind

__all__ = [
    "ExtraColumns",
    "Place",
    "UnlistedRouteWarning",
    "Visit",
    "app_chain",
    "is_fastapi_route",
    "routes_of",
    "top_place",
    "visit_routes",
    "walk_routes",
]

_ENDPOINT_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "QUERY")
_CATCH_ALL = "/{path:path}"
_MAX_WRAPPERS = 64


class UnlistedRouteWarning(UserWarning):
    """A route of a kind mintaka-introspect does not know was left out of the listing.

    Raised as a warning, not an error, so that one custom route class does not hide all
    the others; turn it into an error (`-W error::mintaka.introspect.UnlistedRouteWarning`
    or pytest's `filterwarnings`) to make a CI check strict.

    Example:
        ```python
        import warnings
        from mintaka.introspect import UnlistedRouteWarning, route_table

        with warnings.catch_warnings():
            warnings.simplefilter("error", UnlistedRouteWarning)
            rows = route_table(app)
        ```
    """


@dataclass(frozen=True)
class Place:
    """Where the walk is: what the enclosing mounts, hosts and inclusions add to a route.

    Attributes:
        prefix: The path prefix of the enclosing mounts and router inclusions.
        host: The host template of the enclosing `Host`, if any.
        api_schema: FastAPI's `include_in_schema` of the enclosing inclusions, combined.
        dependencies: The `Depends` of enclosing lazy inclusions (FastAPI >= 0.137), which
            FastAPI adds to the route when it serves it; copied routes already hold them.
        tags: The tags of enclosing lazy inclusions.
        deprecated: Whether an enclosing lazy inclusion marked its routes deprecated.
        apps: The apps (with the middleware around them) the route is served under,
            outermost first.
    """

    prefix: str = ""
    host: str | None = None
    api_schema: bool = True
    dependencies: tuple[object, ...] = ()
    tags: tuple[object, ...] = ()
    deprecated: bool = False
    apps: tuple[object, ...] = ()

    def row(
        self,
        method: str,
        path: str,
        route: BaseRoute,
        endpoint: object,
        kind: RouteKind,
        *,
        in_schema: bool = False,
        extra: Mapping[str, Any] | None = None,
    ) -> RouteInfo:
        return RouteInfo(
            method=method,
            path=self.prefix + path,
            host=self.host,
            name=getattr(route, "name", None),
            endpoint=qualified_name(endpoint),
            kind=kind,
            include_in_schema=in_schema,
            **(extra or {}),
        )


@dataclass(frozen=True)
class Visit:
    """A route the walk reached, and where: a `Route`, a `WebSocketRoute` or a black-box `Mount`."""

    route: BaseRoute
    place: Place


def routes_of(target: object) -> list[BaseRoute] | None:
    """Return the routes an app, router or route list dispatches to, or `None`.

    Middleware that wraps an app keeps it as `.app`; the chain is followed until
    something with a `routes` list turns up. A single route serves as an app of its own.
    """
    if isinstance(target, Sequence) and not isinstance(target, str):
        return list(target)
    if isinstance(target, BaseRoute):
        return [target]
    seen: set[int] = set()
    current: object = target
    while id(current) not in seen and len(seen) < _MAX_WRAPPERS:
        seen.add(id(current))
        routes = getattr(current, "routes", None)
        if isinstance(routes, list):
            return routes
        current = getattr(current, "app", None)
        if current is None:
            return None
    return None


def qualified_name(obj: object) -> str:
    """Return `module.qualname` of a function or class, or of an instance's class."""
    while isinstance(obj, functools.partial):
        obj = obj.func
    if getattr(obj, "__qualname__", None) is None:
        obj = type(obj)
    module = getattr(obj, "__module__", None)
    qualname = str(getattr(obj, "__qualname__", repr(obj)))
    return f"{module}.{qualname}" if module else qualname


def is_fastapi_route(route: BaseRoute) -> bool:
    # FastAPI's route class can only exist once FastAPI has been imported by the app.
    api_route = getattr(sys.modules.get("fastapi.routing"), "APIRoute", None)
    return isinstance(api_route, type) and isinstance(route, api_route)


@dataclass(frozen=True)
class _Inclusion:
    """What FastAPI's (>= 0.137) included-router entry adds to the routes it includes."""

    prefix: str
    include_in_schema: bool
    dependencies: tuple[object, ...]
    tags: tuple[object, ...]
    deprecated: bool


def _lazy_inclusion(route: BaseRoute) -> tuple[list[BaseRoute], _Inclusion] | None:
    """Read FastAPI's (>= 0.137) included-router entry: its routes and what it adds."""
    context = getattr(route, "include_context", None)
    routes = getattr(getattr(route, "original_router", None), "routes", None)
    prefix = getattr(context, "prefix", None)
    if not isinstance(routes, list) or not isinstance(prefix, str):
        return None
    inclusion = _Inclusion(
        prefix=prefix,
        include_in_schema=bool(getattr(context, "include_in_schema", True)),
        dependencies=tuple(getattr(context, "dependencies", None) or ()),
        tags=tuple(getattr(context, "tags", None) or ()),
        deprecated=bool(getattr(context, "deprecated", False)),
    )
    return routes, inclusion


def app_chain(target: object) -> list[object]:
    """Return `target` and the apps it wraps (middleware keeps the app it wraps as `.app`)."""
    chain: list[object] = []
    seen: set[int] = set()
    current: object = target
    while current is not None and id(current) not in seen and len(seen) < _MAX_WRAPPERS:
        seen.add(id(current))
        chain.append(current)
        if isinstance(getattr(current, "routes", None), list):
            break
        current = getattr(current, "app", None)
    return chain


def top_place(target: object) -> Place:
    """Where the routes of `target` are served: under it and the apps it wraps, if an app."""
    if isinstance(target, Sequence | BaseRoute):
        return Place()
    return Place(apps=tuple(app_chain(target)))


def _http_methods(route: Route) -> tuple[list[str], set[str]]:
    """Return the methods `route` answers, and those of them Starlette added implicitly."""
    endpoint = route.endpoint
    if inspect.isclass(endpoint) and issubclass(endpoint, HTTPEndpoint):
        defined = {m for m in _ENDPOINT_METHODS if getattr(endpoint, m.lower(), None)}
        implicit = {"HEAD"} if "GET" in defined and "HEAD" not in defined else set()
        served = defined | implicit
        if route.methods is not None:
            served &= route.methods
        return sorted(served), implicit
    if route.methods is None:
        return ["*"], set()
    implicit = set()
    if "GET" in route.methods and "HEAD" in route.methods and not is_fastapi_route(route):
        implicit = {"HEAD"}
    return sorted(route.methods), implicit


ExtraColumns = Callable[[BaseRoute, Place], Mapping[str, Any]]


def _http_rows(
    route: Route, place: Place, *, implicit_head: bool, extra: Mapping[str, Any]
) -> Iterator[RouteInfo]:
    methods, implicit = _http_methods(route)
    in_schema = route.include_in_schema
    if is_fastapi_route(route):
        in_schema = in_schema and place.api_schema
    for method in methods:
        if implicit_head or method not in implicit:
            yield place.row(
                method, route.path, route, route.endpoint, "http", in_schema=in_schema, extra=extra
            )


def walk_routes(
    routes: Sequence[BaseRoute],
    *,
    implicit_head: bool,
    extra: ExtraColumns | None = None,
    place: Place | None = None,
    skip: Callable[[BaseRoute, Place], bool] | None = None,
) -> Iterator[RouteInfo]:
    """Yield a row for every method of every route reachable from `routes`.

    `extra`, when given, returns more fields of the rows of each HTTP route; `place` is
    where `routes` are served (the apps around them); `skip` leaves routes out.
    """
    for visit in visit_routes(routes, place):
        route, at = visit.route, visit.place
        if skip is not None and skip(route, at):
            continue
        if isinstance(route, Route):
            fields = extra(route, at) if extra is not None else {}
            yield from _http_rows(route, at, implicit_head=implicit_head, extra=fields)
        elif isinstance(route, WebSocketRoute):
            yield at.row("WS", route.path, route, route.endpoint, "websocket")
        else:
            yield at.row("*", _CATCH_ALL, route, getattr(route, "app", route), "mount")


def visit_routes(routes: Sequence[BaseRoute], place: Place | None = None) -> Iterator[Visit]:
    """Yield every route reachable from `routes`, with the place it is served at.

    `Mount`s and `Host`s are entered (a mount of an app without routes is yielded as the
    black box it is), and FastAPI's lazy inclusions are followed with their prefix,
    dependencies, tags and flags.
    """
    place = place or Place()
    for route in routes:
        if isinstance(route, Route | WebSocketRoute):
            yield Visit(route, place)
        elif isinstance(route, Mount | Host):
            yield from _visit_branch(route, place)
        elif (inclusion := _lazy_inclusion(route)) is not None:
            inner, context = inclusion
            inner_place = dataclasses.replace(
                place,
                prefix=place.prefix + context.prefix,
                api_schema=place.api_schema and context.include_in_schema,
                dependencies=(*place.dependencies, *context.dependencies),
                tags=(*place.tags, *context.tags),
                deprecated=place.deprecated or context.deprecated,
            )
            yield from visit_routes(inner, inner_place)
        else:
            warnings.warn(
                f"{route!r} ({qualified_name(route)}) is not a route mintaka-introspect "
                "knows (Route, WebSocketRoute, Mount, Host or a FastAPI included router) "
                "and was left out of the listing. If a newer FastAPI or Starlette "
                "added it, please report it to mintaka.",
                UnlistedRouteWarning,
                stacklevel=2,
            )


def _visit_branch(route: Mount | Host, place: Place) -> Iterator[Visit]:
    if isinstance(route, Mount):
        # Starlette strips a mount path's trailing slash, so the joint has exactly one.
        inner_place = Place(prefix=place.prefix + route.path, host=place.host, apps=place.apps)
    else:
        inner_place = Place(prefix=place.prefix, host=route.host, apps=place.apps)
    app: Any = route.app
    inner = routes_of(app)
    if inner is None:
        yield Visit(route, inner_place)
    else:
        inner_place = dataclasses.replace(inner_place, apps=(*place.apps, *app_chain(app)))
        yield from visit_routes(inner, inner_place)
