"""The error raised when a route breaks a `Router` convention at registration."""

from __future__ import annotations

from typing import TYPE_CHECKING

from mintaka.core._callables import callable_name

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable
    from typing import Any

__all__ = ["RouteRegistrationError", "describe_route"]


class RouteRegistrationError(TypeError):
    """A route cannot be registered on a [`Router`][mintaka.router.Router] as declared.

    Raised by `add_api_route` (and so by `@router.get(...)` and the other decorators) at
    import time, never while a request is served. The message names the method(s), the
    path and the endpoint, says what is wrong and how to fix it. It is a `TypeError`
    because in every case the route's declared types do not fit together: a response
    model on a status code that has no body, or a return annotation that does not name a
    type.

    Example:
        ```python
        from fastapi import status
        from mintaka.router import RouteRegistrationError, Router

        router = Router()
        try:
            @router.post("/reset", status_code=status.HTTP_205_RESET_CONTENT)
            async def reset() -> Item: ...
        except RouteRegistrationError as error:
            print(error)
            # POST /reset (app.reset): status code 205 allows no response body, but the
            # return annotation implies response_model=Item; ...
        ```
    """


def describe_route(methods: Iterable[str] | None, path: str, endpoint: Callable[..., Any]) -> str:
    """Name a route the way registration errors do: `GET, HEAD /items/{id} (app.items.read)`."""
    verbs = ", ".join(sorted({method.upper() for method in methods})) if methods else "GET"
    return f"{verbs} {path} ({callable_name(endpoint)})"
