"""The findings of the dependency audit: what each combination puts at risk, in words."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from mintaka.introspect._audit_results import Finding
from mintaka.introspect._columns import type_name

if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator

    from mintaka.introspect._audit_results import Closing

__all__ = [
    "Node",
    "flatten",
    "no_response_scope",
    "session_after_response",
    "teardown_after_resource",
    "two_scopes",
    "unique",
]


@dataclass
class Node:
    """A dependant of the route's tree, with what the audit needs from it.

    Attributes:
        call: The callable FastAPI calls.
        chain: The names of the dependencies from the route's down to this one.
        dependency: Its qualified name, `module.name`.
        closes: When its teardown runs.
        identity: The `id` of the dependency it was made from (a response-scoped wrapper's
            own dependency), so that one dependency under two scopes is seen as one.
        origin: The name of that dependency.
        provides: The type of the value it provides, when known.
    """

    call: Any
    chain: tuple[str, ...]
    dependency: str
    closes: Closing
    identity: int
    origin: str
    provides: object
    children: list[Node] = field(default_factory=list)


def flatten(nodes: Iterable[Node]) -> Iterator[Node]:
    for node in nodes:
        yield node
        yield from flatten(node.children)


def unique(nodes: Iterable[Node]) -> list[Node]:
    """One node per dependency instance: FastAPI caches one per callable and scope."""
    seen: dict[tuple[int, int, Closing], Node] = {}
    for node in nodes:
        seen.setdefault((id(node.call), node.identity, node.closes), node)
    return list(seen.values())


def no_response_scope(route: str, node: Node) -> Finding:
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


def teardown_after_resource(route: str, node: Node, below: Node, *, happens: str) -> Finding:
    parent, child = node.chain[-1], below.chain[-1]
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


def two_scopes(route: str, nodes: list[Node]) -> Iterator[Finding]:
    by_identity: dict[int, list[Node]] = {}
    for node in nodes:
        by_identity.setdefault(node.identity, []).append(node)
    for group in by_identity.values():
        scopes = sorted({node.closes for node in group})
        if len(scopes) == 1:
            continue
        name = group[0].origin
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


def session_after_response(route: str, node: Node) -> Finding:
    # Whether the teardown commits or only closes is in code the audit does not run (a
    # context manager's __exit__, a helper), so the words hold for both.
    return Finding(
        severity="warning",
        kind="session-after-response",
        route=route,
        chain=node.chain,
        message=(
            f"{node.chain[-1]} provides {type_name(node.provides)}, a database session or "
            "connection, and its teardown — closing it, or committing it if the teardown "
            "commits — runs after the response (request scope). A commit there is unseen "
            "by the client, which already has its response, and a failed commit is "
            "reported to nobody; a teardown that only closes keeps the session open, with "
            "any connection and transaction it still holds, until the response has been "
            "sent and the background tasks have run."
        ),
        fix=(
            "Use mintaka.depends.sqlalchemy.transactional_session (it commits and closes "
            "before the response), or decorate the dependency with "
            "mintaka.depends.response_scoped_dependency (its teardown then runs before the "
            'response), or declare it with Depends(..., scope="function") on FastAPI 0.121+.'
        ),
    )
