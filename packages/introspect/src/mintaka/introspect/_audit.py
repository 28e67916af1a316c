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
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from mintaka.introspect._audit_results import (
    DependencyAudit,
    DependencyLifetime,
    Finding,
    RouteLifetimes,
)
from mintaka.introspect._columns import type_name
from mintaka.introspect._fastapi_dependants import read_fastapi
from mintaka.introspect._listing import compile_exclude
from mintaka.introspect._route_info import method_rank
from mintaka.introspect._walk import (
    Place,
    app_chain,
    is_fastapi_route,
    qualified_name,
    routes_of,
    visit_routes,
)

if TYPE_CHECKING:
    import re
    from collections.abc import Iterable, Iterator

    from starlette.routing import BaseRoute
    from starlette.types import ASGIApp

    from mintaka.introspect._audit_results import Closing
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
WRAPPED_MARK = "__mintaka_wrapped__"

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


@dataclass
class _Node:
    """A dependant of the route's tree, with what the audit needs from it."""

    call: Any
    chain: tuple[str, ...]
    closes: Closing
    identity: int
    provides: object
    children: list[_Node] = field(default_factory=list)


class _Auditor:
    def __init__(self, api: InstalledFastAPI, session_types: frozenset[str]) -> None:
        self.api = api
        self.session_types = session_types
        self._hints: dict[int, dict[str, Any]] = {}
        self._extra: dict[int, Any] = {}
        self._session: dict[int, bool] = {}
        self._closes: dict[tuple[int, object], Closing] = {}
        self._returns: dict[int, object] = {}
        self._names: dict[int, tuple[str, str]] = {}
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

    def names(self, call: Any) -> tuple[str, str]:
        """The short and the qualified name of a dependency, computed once per audit."""
        key = id(call)
        if key not in self._names:
            self._names[key] = (_short_name(call), qualified_name(call))
        return self._names[key]

    def type_name(self, provided: object) -> str | None:
        if provided is None:
            return None
        key = id(provided)
        if key not in self._type_names:
            self._type_names[key] = type_name(provided)
        return self._type_names[key]

    def node(self, dependant: Any, consumer: Any, parents: tuple[str, ...]) -> _Node:
        call = dependant.call
        original = getattr(call, WRAPPED_MARK, call)
        chain = (*parents, self.names(call)[0])
        node = _Node(
            call=call,
            chain=chain,
            closes=self.closes(dependant),
            identity=id(original),
            provides=self.provided_type(call, consumer, dependant.name),
        )
        node.children = [
            self.node(child, call, chain) for child in dependant.dependencies if child.call
        ]
        return node

    def tree(self, route: Any, place: Place) -> list[_Node]:
        extra = [self._included(depends, route) for depends in place.dependencies]
        tops = [*extra, *route.dependant.dependencies]
        return [self.node(top, route.endpoint, ()) for top in tops if top.call is not None]

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
        self, route: str, nodes: list[_Node], *, response_scope: bool
    ) -> Iterator[Finding]:
        every = list(_flatten(nodes))
        if not response_scope:
            for node in _unique(every):
                if node.closes == "response":
                    yield _no_response_scope(route, node)
        pairs: set[tuple[int, int]] = set()
        for node in every:
            if node.closes in ("function", "request"):
                for below in _flatten(node.children):
                    pair = (id(node.call), id(below.call))
                    if below.closes == "response" and pair not in pairs:
                        pairs.add(pair)
                        yield self._teardown_after(route, node, below)
        yield from _two_scopes(route, every)
        if self.api.version >= (0, 118):
            for node in _unique(every):
                if node.closes == "request" and self.is_session(node.provides):
                    yield _session_after(route, node)

    def _teardown_after(self, route: str, node: _Node, below: _Node) -> Finding:
        parent, child = node.chain[-1], below.chain[-1]
        if node.closes == "request" and self.api.version < (0, 118):
            happens = (
                f"On this FastAPI ({self.api.version_text}) it happens to close first, but "
                "from FastAPI 0.118 on a request-scoped teardown runs after the response, "
                f"after {child} closed."
            )
        else:
            happens = f"Its teardown runs after {child} closed, on the resource it uses."
        return Finding(
            severity="error",
            kind="teardown-after-resource",
            route=route,
            chain=below.chain[below.chain.index(parent) :],
            message=(
                f"{parent} has a teardown ({node.closes} scope) and depends on {child}, "
                f"which is response-scoped and closes before the response. {happens}"
            ),
            fix=(
                f"Make {parent} response-scoped too (decorate it with "
                "mintaka.depends.response_scoped_dependency), so it closes before "
                f"{child}; or make it a plain function without a teardown."
            ),
        )


def _short_name(call: Any) -> str:
    while isinstance(call, functools.partial):
        call = call.func
    qualname = getattr(call, "__qualname__", None)
    return qualname if isinstance(qualname, str) else type(call).__qualname__


def _flatten(nodes: Iterable[_Node]) -> Iterator[_Node]:
    for node in nodes:
        yield node
        yield from _flatten(node.children)


def _unique(nodes: Iterable[_Node]) -> list[_Node]:
    """One node per dependency instance: FastAPI caches one per callable and scope."""
    seen: dict[tuple[int, int, Closing], _Node] = {}
    for node in nodes:
        seen.setdefault((id(node.call), node.identity, node.closes), node)
    return list(seen.values())


def _no_response_scope(route: str, node: _Node) -> Finding:
    return Finding(
        severity="error",
        kind="no-response-scope",
        route=route,
        chain=node.chain,
        message=(
            f"{node.chain[-1]} is response-scoped, but the route opens no response scope: "
            "every request to it fails with ResponseScopeError."
        ),
        fix=(
            "Register the route on a mintaka.router.Router, or give its router "
            "route_class=mintaka.core.fastapi.ResponseScopedRoute, or wrap the app in "
            "mintaka.core.asgi.ResponseScopeMiddleware."
        ),
    )


def _two_scopes(route: str, nodes: list[_Node]) -> Iterator[Finding]:
    by_identity: dict[int, list[_Node]] = {}
    for node in nodes:
        by_identity.setdefault(node.identity, []).append(node)
    for group in by_identity.values():
        scopes = sorted({node.closes for node in group})
        if len(scopes) == 1:
            continue
        name = group[0].chain[-1]
        chains = [next(node for node in group if node.closes == scope).chain for scope in scopes]
        yield Finding(
            severity="warning",
            kind="two-scopes",
            route=route,
            chain=chains[0],
            message=(
                f"{name} is used under {len(scopes)} scopes in this route "
                f"({', '.join(scopes)}; as {' and '.join(' → '.join(c) for c in chains)}): "
                "FastAPI makes one instance per scope and request, so writes through one "
                "are invisible to the other."
            ),
            fix=(
                f"Use {name} with one scope everywhere in the route: the same "
                "Depends(..., scope=...), or the response-scoped wrapper everywhere."
            ),
        )


def _session_after(route: str, node: _Node) -> Finding:
    return Finding(
        severity="warning",
        kind="session-after-response",
        route=route,
        chain=node.chain,
        message=(
            f"{node.chain[-1]} provides {type_name(node.provides)}, a database session or "
            "connection, and closes after the response (request scope): a commit in its "
            "teardown happens after the client "
            "has its response, and a failed commit is reported to nobody."
        ),
        fix=(
            "Use mintaka.depends.sqlalchemy.transactional_session, or decorate the "
            "dependency with mintaka.depends.response_scoped_dependency, so it commits "
            'and closes before the response (or Depends(..., scope="function") on '
            "FastAPI 0.121+)."
        ),
    )


def _lifetimes(auditor: _Auditor, nodes: list[_Node]) -> tuple[DependencyLifetime, ...]:
    return tuple(
        DependencyLifetime(
            chain=node.chain,
            dependency=auditor.names(node.call)[1],
            closes=node.closes,
            when=auditor.when(node.closes),
            provides=auditor.type_name(node.provides),
        )
        for node in _unique(_flatten(nodes))
    )


def _route_label(methods: Iterable[str], path: str) -> str:
    return f"{', '.join(sorted(methods, key=method_rank))} {path}"


def audit_dependencies(
    app: ASGIApp | list[BaseRoute],
    *,
    session_types: Iterable[str | type] = (),
    exclude: str | re.Pattern[str] | None = None,
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
      or connection closes after the response: "200 before the commit".

    Starlette routes are listed without dependencies. FastAPI is imported only when the
    app has FastAPI routes; `import mintaka.introspect` never imports it. The tree is the
    one the routes declare: `app.dependency_overrides` are not applied.

    Example:
        ```python
        from mintaka.introspect import audit_dependencies

        audit = audit_dependencies(app, exclude=r"^/(docs|redoc|openapi)")
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
    # A FastAPI route exists only once the app imported FastAPI; never import it here first.
    api = read_fastapi() if "fastapi" in sys.modules else None
    auditor = _Auditor(api, frozenset({*DEFAULT_SESSION_TYPES, *extra_types})) if api else None
    entries: list[RouteLifetimes] = []
    findings: list[Finding] = []
    top = Place(apps=tuple(app_chain(app)) if not isinstance(app, list) else ())
    for visit in visit_routes(routes, top):
        route: Any = visit.route
        methods = getattr(route, "methods", None)
        path = visit.place.prefix + str(getattr(route, "path", ""))
        if methods is None or (pattern is not None and pattern.search(path)):
            continue  # WebSocket routes and mounted black boxes have no HTTP dependencies
        label = _route_label(methods, path)
        if auditor is None or not is_fastapi_route(route):
            entries.append(
                RouteLifetimes(
                    route=label,
                    endpoint=qualified_name(route.endpoint),
                    fastapi=False,
                    response_scope=False,
                    dependencies=(),
                )
            )
            continue
        scoped = opens_response_scope(route, visit.place)
        nodes = auditor.tree(route, visit.place)
        entries.append(
            RouteLifetimes(
                route=label,
                endpoint=qualified_name(route.endpoint),
                fastapi=True,
                response_scope=scoped,
                dependencies=_lifetimes(auditor, nodes),
            )
        )
        findings.extend(auditor.route_findings(label, nodes, response_scope=scoped))
    entries.sort(key=lambda entry: (entry.route.partition(" ")[2], entry.route))
    findings.sort(key=lambda f: (f.severity != "error", f.route.partition(" ")[2], f.route))
    notes: tuple[str, ...] = ()
    if api is None and importlib.util.find_spec("fastapi") is None:
        notes = (
            "FastAPI is not installed, so no route is a FastAPI route: the audit of "
            "dependency lifetimes needs FastAPI for FastAPI apps. Starlette routes are "
            "listed; they have no dependencies.",
        )
    return DependencyAudit(
        fastapi_version=api.version_text if api else None,
        routes=tuple(entries),
        findings=tuple(findings),
        notes=notes,
    )
