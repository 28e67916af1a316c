"""Refuse a route whose FastAPI-managed teardown would use a response-scoped resource."""

from __future__ import annotations

import functools
import inspect
from typing import TYPE_CHECKING, Any

from mintaka.router._errors import RouteRegistrationError

if TYPE_CHECKING:
    from collections.abc import Iterator

    from fastapi.dependencies.models import Dependant

__all__ = ["check_dependency_lifetimes"]

# Set by mintaka.depends.response_scoped_dependency; read by name, so that mintaka-router
# does not depend on mintaka-depends.
_RESPONSE_SCOPED = "__mintaka_response_scoped__"


def _name(call: Any) -> str:
    while isinstance(call, functools.partial):
        call = call.func
    return str(getattr(call, "__qualname__", None) or type(call).__qualname__)


def _has_fastapi_teardown(call: Any) -> bool:
    """Whether FastAPI tears `call` down itself: a generator, not mintaka's wrapper."""
    if getattr(call, _RESPONSE_SCOPED, False) is True:
        return False
    while isinstance(call, functools.partial):
        call = call.func
    candidates = [call, inspect.unwrap(call)]
    if not inspect.isclass(call):
        candidates.append(getattr(call, "__call__", None))  # noqa: B004 - the method itself
    return any(inspect.isgeneratorfunction(c) or inspect.isasyncgenfunction(c) for c in candidates)


def _response_scoped_below(dependant: Dependant) -> Iterator[Any]:
    for child in dependant.dependencies:
        if getattr(child.call, _RESPONSE_SCOPED, False) is True:
            yield child.call
        yield from _response_scoped_below(child)


def _walk(dependant: Dependant) -> Iterator[Dependant]:
    for child in dependant.dependencies:
        yield child
        yield from _walk(child)


def check_dependency_lifetimes(dependant: Dependant, where: str) -> None:
    """Raise when a dependency FastAPI tears down depends on a response-scoped one.

    FastAPI runs such a teardown after the response scope closed (after the response
    on 0.118+; at the end of the route handler with `scope="function"`), so it would
    use a resource that is already closed. FastAPI refuses the same shape for its own
    scopes (`DependencyScopeError`); on 0.106-0.117 the order happens to be right, and
    the route is refused there too, so that it does not break on an upgrade.

    Raises:
        RouteRegistrationError: The first such pair, named with the fix.
    """
    for node in _walk(dependant):
        if node.call is None or not _has_fastapi_teardown(node.call):
            continue
        for inner in _response_scoped_below(node):
            parent, child = _name(node.call), _name(inner)
            raise RouteRegistrationError(
                f"{where}: the dependency {parent} has a teardown that FastAPI runs after "
                f"the response scope closed, and it depends on the response-scoped "
                f"{child}, so its teardown would use {child} after it closed. Make "
                f"{parent} response-scoped too (decorate it with "
                "mintaka.depends.response_scoped_dependency) so it closes first, or make "
                "it a function without a teardown."
            )
