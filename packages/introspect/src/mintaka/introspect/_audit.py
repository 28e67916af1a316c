"""The audit of dependency lifetimes: when each dependency of each route closes, and the risks.

FastAPI decides when a `yield` dependency's teardown runs, and that moved across versions;
mintaka's response-scoped dependencies close before the response on every version. The
audit reads each FastAPI route's dependency tree through what the installed FastAPI
exposes and reports, per route, when every dependency closes, and the combinations that
fail or put data at risk. FastAPI is imported only when the app has FastAPI routes.
"""

from __future__ import annotations

import collections.abc
import functools
import importlib.util
import inspect
import sys
import types
import typing
from typing import TYPE_CHECKING, Any

from mintaka.introspect._audit_findings import (
    Node,
    flatten,
    no_response_scope,
    session_after_response,
    teardown_after_resource,
    two_scopes,
    unique,
)
from mintaka.introspect._audit_results import DependencyAudit, DependencyLifetime, RouteLifetimes
from mintaka.introspect._columns import type_name
from mintaka.introspect._dependency_names import WRAPPED_MARK, DependencyNames
from mintaka.introspect._docs_routes import DocumentationRoutes
from mintaka.introspect._fastapi_dependants import read_fastapi
from mintaka.introspect._listing import compile_exclude
from mintaka.introspect._route_info import method_rank
from mintaka.introspect._walk import (
    Place,
    Visit,
    is_fastapi_route,
    qualified_name,
    routes_of,
    top_place,
    visit_routes,
)

if TYPE_CHECKING:
    import re
    from collections.abc import Iterable, Iterator

    from starlette.routing import BaseRoute
    from starlette.types import ASGIApp

    from mintaka.introspect._audit_results import Closing, Finding
    from mintaka.introspect._fastapi_dependants import InstalledFastAPI

__all__ = ["DEFAULT_SESSION_TYPES", "audit_dependencies", "opens_response_scope"]

DEFAULT_SESSION_TYPES: tuple[str, ...] = (
    "sqlalchemy.orm.session.Session",
    "sqlalchemy.ext.asyncio.session.AsyncSession",
    "sqlalchemy.engine.base.Connection",
    "sqlalchemy.ext.asyncio.engine.AsyncConnection",
    "sqlmodel.orm.session.Session",
    "sqlmodel.ext.asyncio.session.AsyncSession",
)
"""The classes (by `module.qualname`, subclasses included) whose instances are database
sessions or connections for the finding `"session-after-response"`."""

# What gives a route a response scope, by (module, class name), so that mintaka-core need
# not be installed for the audit to recognise it.
RESPONSE_SCOPED_ROUTE_CLASSES = frozenset({("mintaka.core.fastapi", "ResponseScopedRoute")})
RESPONSE_SCOPE_MIDDLEWARE = frozenset({("mintaka.core.asgi", "ResponseScopeMiddleware")})
# Set by mintaka.depends.response_scoped_dependency on the dependencies it returns.
RESPONSE_SCOPED_MARK = "__mintaka_response_scoped__"

_ITERATORS = {
    collections.abc.AsyncIterator,
    collections.abc.AsyncGenerator,
    collections.abc.AsyncIterable,
    collections.abc.Iterator,
    collections.abc.Generator,
    collections.abc.Iterable,
}


def _named(cls: type, names: frozenset[tuple[str, str]]) -> bool:
    return any((klass.__module__, klass.__name__) in names for klass in cls.__mro__)


def opens_response_scope(route: BaseRoute, place: Place) -> bool:
    """Whether a request to `route` has a response scope: its class or an app's middleware."""
    if _named(type(route), RESPONSE_SCOPED_ROUTE_CLASSES):
        return True
    for app in place.apps:
        if _named(type(app), RESPONSE_SCOPE_MIDDLEWARE):
            return True
        for middleware in getattr(app, "user_middleware", None) or ():
            cls = getattr(middleware, "cls", None)
            if isinstance(cls, type) and _named(cls, RESPONSE_SCOPE_MIDDLEWARE):
                return True
    return False


class _Auditor:
    def __init__(
        self, api: InstalledFastAPI, session_types: frozenset[str], names: DependencyNames
    ) -> None:
        self.api = api
        self.session_types = session_types
        self.names = names
        self._hints: dict[int, dict[str, Any]] = {}
        self._extra: dict[int, Any] = {}
        self._session: dict[int, bool] = {}
        self._closes: dict[tuple[int, object], Closing] = {}
        self._returns: dict[int, object] = {}
        self._type_names: dict[int, str] = {}

    # -- reading the tree -------------------------------------------------------------

    def hints(self, call: Any) -> dict[str, Any]:
        key = id(call)
        if key not in self._hints:
            target = call
            while isinstance(target, functools.partial):
                target = target.func  # what a partial returns is what its function returns
            if inspect.isclass(target):
                found = {"return": target}
            else:
                if not inspect.isroutine(target):
                    target = getattr(target, "__call__", None)  # noqa: B004
                try:
                    found = typing.get_type_hints(target, include_extras=True) if target else {}
                except Exception:
                    found = {}
            self._hints[key] = found
        return self._hints[key]

    def provided_type(self, call: Any, consumer: Any, name: str | None) -> object:
        key = id(call)
        if key not in self._returns:
            returned = self.hints(call).get("return")
            if typing.get_origin(returned) in _ITERATORS:
                # A generator dependency provides what it yields.
                returned = next(iter(typing.get_args(returned)), None)
            self._returns[key] = returned
        returned = self._returns[key]
        if returned is None and consumer is not None and name is not None:
            returned = self.hints(consumer).get(name)
        return returned

    def closes(self, dependant: Any) -> Closing:
        call = dependant.call
        key = (id(call), getattr(dependant, "scope", None))
        closes = self._closes.get(key)
        if closes is None:
            if getattr(call, RESPONSE_SCOPED_MARK, False) is True:
                closes = "response"
            elif not self.api.has_teardown(dependant):
                closes = "nothing"
            elif self.api.scope_of(dependant) == "function":
                closes = "function"
            else:
                closes = "request"
            self._closes[key] = closes
        return closes

    def type_name(self, provided: object) -> str | None:
        if provided is None:
            return None
        key = id(provided)
        if key not in self._type_names:
            self._type_names[key] = type_name(provided)
        return self._type_names[key]

    def node(self, dependant: Any, consumer: Any, endpoint: Any, parents: tuple[str, ...]) -> Node:
        call = dependant.call
        original = getattr(call, WRAPPED_MARK, call)
        name, qualified = self.names.names(call, consumer, endpoint)
        chain = (*parents, name)
        node = Node(
            call=call,
            chain=chain,
            dependency=qualified,
            closes=self.closes(dependant),
            identity=id(original),
            origin=name if original is call else self.names.names(original, call, endpoint)[0],
            provides=self.provided_type(call, consumer, dependant.name),
        )
        node.children = [
            self.node(child, call, endpoint, chain)
            for child in dependant.dependencies
            if child.call
        ]
        return node

    def tree(self, route: Any, place: Place) -> list[Node]:
        extra = [self._included(depends, route) for depends in place.dependencies]
        tops = [*extra, *route.dependant.dependencies]
        endpoint = route.endpoint
        return [self.node(top, endpoint, endpoint, ()) for top in tops if top.call is not None]

    def _included(self, depends: Any, route: Any) -> Any:
        key = id(depends)
        if key not in self._extra:
            self._extra[key] = self.api.parameterless(depends=depends, path=route.path_format)
        return self._extra[key]

    def is_session(self, provided: object) -> bool:
        target = provided
        if isinstance(target, typing.TypeVar):
            # transactional_session() provides a TypeVar bound to the session class.
            if target.__constraints__:
                return any(self.is_session(option) for option in target.__constraints__)
            target = target.__bound__
        origin = typing.get_origin(target)
        if origin is typing.Annotated:
            target = typing.get_args(target)[0]
            origin = typing.get_origin(target)
        if origin in (typing.Union, types.UnionType):
            return any(self.is_session(arg) for arg in typing.get_args(target))
        if not isinstance(target, type):
            return False
        key = id(target)
        if key not in self._session:
            self._session[key] = any(
                f"{klass.__module__}.{klass.__qualname__}" in self.session_types
                for klass in target.__mro__
            )
        return self._session[key]

    # -- what a route's tree says -----------------------------------------------------

    def when(self, closes: Closing) -> str:
        if closes == "response":
            return "before the response (response scope)"
        if closes == "function":
            return "before the response (function scope)"
        if closes == "request":
            if self.api.version >= (0, 118):
                return "after the response and background tasks (request scope)"
            return "before the response, in the route handler (request scope, FastAPI < 0.118)"
        return "nothing to close"

    def route_findings(
        self, route: str, nodes: list[Node], *, response_scope: bool
    ) -> Iterator[Finding]:
        every = list(flatten(nodes))
        if not response_scope:
            for node in unique(every):
                if node.closes == "response":
                    yield no_response_scope(route, node)
        pairs: set[tuple[int, int]] = set()
        for node in every:
            if node.closes in ("function", "request"):
                for below in flatten(node.children):
                    pair = (id(node.call), id(below.call))
                    if below.closes == "response" and pair not in pairs:
                        pairs.add(pair)
                        yield self._teardown_after(route, node, below)
        yield from two_scopes(route, every)
        if self.api.version >= (0, 118):
            for node in unique(every):
                if node.closes == "request" and self.is_session(node.provides):
                    yield session_after_response(route, node)

    def _teardown_after(self, route: str, node: Node, below: Node) -> Finding:
        child = below.chain[-1]
        if node.closes == "request" and self.api.version < (0, 118):
            happens = (
                f"On this FastAPI ({self.api.version_text}) it happens to close first, but "
                "from FastAPI 0.118 on a request-scoped teardown runs after the response, "
                f"after {child} closed."
            )
        else:
            happens = f"Its teardown runs after {child} closed, on the resource it uses."
        return teardown_after_resource(route, node, below, happens=happens)


def _lifetimes(auditor: _Auditor, nodes: list[Node]) -> tuple[DependencyLifetime, ...]:
    return tuple(
        DependencyLifetime(
            chain=node.chain,
            dependency=node.dependency,
            closes=node.closes,
            when=auditor.when(node.closes),
            provides=auditor.type_name(node.provides),
        )
        for node in unique(flatten(nodes))
    )


def _route_label(methods: Iterable[str], path: str) -> str:
    return f"{', '.join(sorted(methods, key=method_rank))} {path}"


def _path(visit: Visit) -> str:
    return visit.place.prefix + str(getattr(visit.route, "path", ""))


def _route_order(methods: Iterable[str], path: str) -> tuple[object, ...]:
    """Sort by path, then by the methods: "GET, HEAD /docs" sorts as /docs does."""
    return (path, tuple(sorted(map(method_rank, methods))))


def _declared_calls(route: Any, place: Place) -> Iterator[object]:
    """Every callable the route's dependency tree declares, before the audit reads it."""
    yield from (getattr(depends, "dependency", None) for depends in place.dependencies)
    pending = list(route.dependant.dependencies)
    while pending:
        dependant = pending.pop()
        yield dependant.call
        pending.extend(dependant.dependencies)


def _dependency_names(visits: list[Visit]) -> DependencyNames:
    routes = [visit for visit in visits if is_fastapi_route(visit.route)]
    endpoints = [getattr(visit.route, "endpoint", None) for visit in routes]
    calls = [call for visit in routes for call in _declared_calls(visit.route, visit.place)]
    return DependencyNames(endpoints=endpoints, dependencies=calls)


def audit_dependencies(
    app: ASGIApp | list[BaseRoute],
    *,
    session_types: Iterable[str | type] = (),
    exclude: str | re.Pattern[str] | None = None,
    include_docs_routes: bool = True,
) -> DependencyAudit:
    """Report when every dependency of every route closes, and what that puts at risk.

    For every FastAPI route (routes of included routers and of mounted FastAPI apps too)
    each dependency is listed, direct or nested, and those of `dependencies=[...]` on the
    route, its routers and the app, with when it closes on the installed FastAPI:
    on mintaka's response scope, on FastAPI's function scope, on FastAPI's request scope
    (after the response on 0.118+), or not at all. Then the findings:

    * `no-response-scope` (error): a response-scoped dependency on a route that opens no
      response scope; every request fails.
    * `teardown-after-resource` (error): a dependency with a teardown depends on a
      response-scoped one, so its teardown runs after that resource closed.
    * `two-scopes` (warning): one dependency used under two scopes in one route, so
      each request gets two instances.
    * `session-after-response` (warning): a dependency that provides a database session
      or connection has its teardown after the response: a commit there is unseen by
      the client ("200 before the commit"), and one that only closes holds the session
      open past the response.

    Dependencies are named as the app wrote them: see
    [`DependencyLifetime.chain`][mintaka.introspect.DependencyLifetime]. Routes are sorted
    by path, then by methods. Starlette routes are listed without dependencies. FastAPI
    is imported only when the app has FastAPI routes; `import mintaka.introspect` never
    imports it. The tree is the one the routes declare: `app.dependency_overrides` are
    not applied.

    Example:
        ```python
        from mintaka.introspect import audit_dependencies

        audit = audit_dependencies(app, include_docs_routes=False)
        for finding in audit.findings:
            print(f"{finding.severity}: {finding.route}: {finding.message}")
            print(f"  fix: {finding.fix}")
        ```

    Args:
        app: An app or router (middleware around it included), or a list of routes.
        session_types: More classes whose instances count as database sessions, as
            classes or `module.qualname` strings, added to the defaults: SQLAlchemy's
            `Session`, `AsyncSession`, `Connection` and `AsyncConnection`, SQLModel's
            `Session` and `AsyncSession`, and their subclasses.
        exclude: A regular expression; routes whose path it matches are left out.
        include_docs_routes: List the routes a FastAPI app serves its documentation at
            (`/openapi.json`, `/docs`, ...: see
            [`route_table`][mintaka.introspect.route_table]); they have no
            dependencies. `False` leaves them out, as `mintaka-routes --audit` does by
            default.

    Returns:
        The routes with their dependencies, and the findings.

    Raises:
        TypeError: `app` is neither a list of routes nor something that has one.
        ValueError: `exclude` is not a valid regular expression.
    """
    routes = routes_of(app)
    if routes is None:
        raise TypeError(
            f"expected a list of routes, or an app or router with a `routes` list, got {app!r}"
        )
    pattern = compile_exclude(exclude)
    extra_types = {t if isinstance(t, str) else qualified_name(t) for t in session_types}
    documentation = None if include_docs_routes else DocumentationRoutes()
    visits = [
        visit
        for visit in visit_routes(routes, top_place(app))
        # WebSocket routes and mounted black boxes have no HTTP dependencies.
        if getattr(visit.route, "methods", None) is not None
        and not (pattern is not None and pattern.search(_path(visit)))
        and not (documentation is not None and documentation(visit.route, visit.place))
    ]
    # A FastAPI route exists only once the app imported FastAPI; never import it here first.
    api = read_fastapi() if "fastapi" in sys.modules else None
    auditor = None
    if api is not None:
        session_classes = frozenset({*DEFAULT_SESSION_TYPES, *extra_types})
        auditor = _Auditor(api, session_classes, _dependency_names(visits))
    entries: list[tuple[tuple[object, ...], RouteLifetimes]] = []
    findings: list[tuple[tuple[object, ...], Finding]] = []
    for visit in visits:
        route: Any = visit.route
        label = _route_label(route.methods, _path(visit))
        order = _route_order(route.methods, _path(visit))
        if auditor is None or not is_fastapi_route(route):
            lifetimes = RouteLifetimes(
                route=label,
                endpoint=qualified_name(route.endpoint),
                fastapi=False,
                response_scope=False,
                dependencies=(),
            )
            entries.append((order, lifetimes))
            continue
        scoped = opens_response_scope(route, visit.place)
        nodes = auditor.tree(route, visit.place)
        lifetimes = RouteLifetimes(
            route=label,
            endpoint=qualified_name(route.endpoint),
            fastapi=True,
            response_scope=scoped,
            dependencies=_lifetimes(auditor, nodes),
        )
        entries.append((order, lifetimes))
        found = auditor.route_findings(label, nodes, response_scope=scoped)
        findings.extend(((f.severity != "error", *order), f) for f in found)
    entries.sort(key=lambda pair: (pair[0], pair[1].route))
    findings.sort(key=lambda pair: pair[0])
    notes: tuple[str, ...] = ()
    if api is None and importlib.util.find_spec("fastapi") is None:
        notes = (
            "FastAPI is not installed, so no route is a FastAPI route: the audit of "
            "dependency lifetimes needs FastAPI for FastAPI apps. Starlette routes are "
            "listed; they have no dependencies.",
        )
    return DependencyAudit(
        fastapi_version=api.version_text if api else None,
        routes=tuple(entry for _, entry in entries),
        findings=tuple(finding for _, finding in findings),
        notes=notes,
    )
