"""What the audit of dependency lifetimes reports: routes, their dependencies, findings."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

__all__ = [
    "Closing",
    "DependencyAudit",
    "DependencyLifetime",
    "Finding",
    "FindingKind",
    "RouteLifetimes",
    "Severity",
]

Closing = Literal["response", "function", "request", "nothing"]
"""When a dependency's teardown runs.

`"response"`: on mintaka's response scope, before the response is sent.
`"function"`: FastAPI's `Depends(..., scope="function")` (0.121+), before the response.
`"request"`: FastAPI's default for a `yield` dependency: after the response and after
background tasks on FastAPI 0.118+, before the response on 0.106 to 0.117.
`"nothing"`: the dependency has no teardown.
"""

Severity = Literal["error", "warning"]
"""`"error"`: the route fails, or a teardown uses a closed resource. `"warning"`: a risk."""

FindingKind = Literal[
    "no-response-scope", "teardown-after-resource", "two-scopes", "session-after-response"
]
"""What a finding is about; `audit_dependencies` describes each kind."""


@dataclass(frozen=True)
class DependencyLifetime:
    """One dependency of a route, and when it closes on the installed FastAPI.

    Example:
        ```python
        for dependency in audit.routes[0].dependencies:
            print(" → ".join(dependency.chain), dependency.closes, dependency.when)
        # get_service → get_session response before the response (response scope)
        ```

    Attributes:
        chain: The dependency's name, preceded by those of the dependencies that
            depend on it, outermost first (the endpoint is not part of it). A function
            or class defined at module level is named by its `__qualname__`; any other
            dependency (one a factory such as `transactional_session` made, a
            `functools.partial`, a callable instance, a response-scoped wrapper) by the
            module-level variable it was assigned to, found among the app's modules,
            else by its `__qualname__`.
        dependency: The same name after its module: `module.name`.
        closes: When its teardown runs: `"response"` (mintaka's response scope, before
            the response), `"function"` (FastAPI's `scope="function"`, 0.121+, before the
            response), `"request"` (FastAPI's default for a `yield` dependency: after the
            response and background tasks on 0.118+, before the response on
            0.106 to 0.117) or `"nothing"` (no teardown).
        when: The same in words, for the installed FastAPI version.
        provides: The type of the value it provides, briefly (`"AsyncSession"`), when
            its annotations say.
    """

    chain: tuple[str, ...]
    dependency: str
    closes: Closing
    when: str
    provides: str | None


@dataclass(frozen=True)
class Finding:
    """A dependency combination that fails or puts data at risk, with its fix.

    Example:
        ```python
        for finding in audit.findings:
            print(finding.severity, finding.route, finding.message, finding.fix)
        ```

    Attributes:
        severity: `"error"` or `"warning"`; `mintaka-routes --audit --strict` fails on
            errors.
        kind: Which problem it is: `"no-response-scope"`, `"teardown-after-resource"`,
            `"two-scopes"` or `"session-after-response"` (see
            [`audit_dependencies`][mintaka.introspect.audit_dependencies]).
        route: The route as `"METHODS /path"`, such as `"POST /notes"`.
        chain: The dependencies involved, outermost first.
        message: What goes wrong.
        fix: How to fix it.
    """

    severity: Severity
    kind: FindingKind
    route: str
    chain: tuple[str, ...]
    message: str
    fix: str


@dataclass(frozen=True)
class RouteLifetimes:
    """The dependencies of one route and when each closes.

    Example:
        ```python
        for route in audit.routes:
            print(route.route, "response scope" if route.response_scope else "")
        ```

    Attributes:
        route: The route as `"METHODS /path"`.
        endpoint: The endpoint's `module.qualname`.
        fastapi: Whether it is a FastAPI route; other routes have no dependencies.
        response_scope: Whether requests to it open a response scope (a
            `ResponseScopedRoute`, a `Router` route, or an app wrapped in
            `ResponseScopeMiddleware`).
        dependencies: Every dependency of the route, once each, outermost first:
            direct, nested, and those of `dependencies=[...]` of the route, its routers
            and the app.
    """

    route: str
    endpoint: str
    fastapi: bool
    response_scope: bool
    dependencies: tuple[DependencyLifetime, ...]


@dataclass(frozen=True)
class DependencyAudit:
    """The result of [`audit_dependencies`][mintaka.introspect.audit_dependencies].

    Example:
        ```python
        audit = audit_dependencies(app)
        if audit.errors:
            raise SystemExit(f"{len(audit.errors)} dependency lifetime errors")
        ```

    Attributes:
        fastapi_version: The installed FastAPI version the lifetimes are given for, or
            `None` when FastAPI is not installed.
        routes: One entry per HTTP route, sorted by path, then by methods.
        findings: Every finding, errors first, then by route.
        notes: Plain statements about the audit itself, such as that FastAPI is not
            installed, so only Starlette routes were listed.
    """

    fastapi_version: str | None
    routes: tuple[RouteLifetimes, ...]
    findings: tuple[Finding, ...]
    notes: tuple[str, ...] = ()

    @property
    def errors(self) -> tuple[Finding, ...]:
        """The findings of severity `"error"`."""
        return tuple(finding for finding in self.findings if finding.severity == "error")
