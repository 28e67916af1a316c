"""An endpoint decorator that lives in a module of its own, as application decorators do.

Its wrapper's `__globals__` are this module's, not the endpoint's: string annotations of a
decorated endpoint must be resolved against the endpoint's module, which this module
does not import.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, ParamSpec, TypeVar

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

P = ParamSpec("P")
T = TypeVar("T")


def counted(calls: list[str]) -> Callable[[Callable[P, Awaitable[T]]], Callable[P, Awaitable[T]]]:
    """Append the endpoint's name to `calls` each time it runs."""

    def decorate(endpoint: Callable[P, Awaitable[T]]) -> Callable[P, Awaitable[T]]:
        @functools.wraps(endpoint)
        async def wrapper(*args: P.args, **kwargs: P.kwargs) -> T:
            calls.append(endpoint.__name__)
            return await endpoint(*args, **kwargs)

        return wrapper

    return decorate
