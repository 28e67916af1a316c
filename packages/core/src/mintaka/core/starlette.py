"""The Starlette adapter: response scopes for plain Starlette routes, no FastAPI needed.

Frameworks built on Starlette can use it as a model: open a
[`ResponseScope`][mintaka.core.ResponseScope] around the code that turns the request into
a response object, and hand the response to the server only after the block ended.
"""

from __future__ import annotations

import functools
import inspect
from typing import TYPE_CHECKING, Any

from starlette.routing import Route

from mintaka.core._scope import call_in_response_scope

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

    from starlette.requests import Request
    from starlette.responses import Response

__all__ = ["ResponseScopedRoute", "response_scoped"]


def response_scoped(
    endpoint: Callable[[Request], Awaitable[Response]],
) -> Callable[[Request], Awaitable[Response]]:
    """Wrap an async Starlette endpoint so that its requests have a response scope.

    Example:
        ```python
        from mintaka.core import response_stack
        from mintaka.core.starlette import response_scoped

        @response_scoped
        async def create_note(request: Request) -> Response:
            session = await response_stack(request).enter_async_context(sessionmaker())
            ...

        app = Starlette(routes=[Route("/notes", create_note, methods=["POST"])])
        ```

    Args:
        endpoint: An `async def endpoint(request) -> Response` function.

    Returns:
        An endpoint with the same name and docstring that runs `endpoint` inside a
        response scope.

    Raises:
        TypeError: `endpoint` is not an async function.
    """
    if not inspect.iscoroutinefunction(endpoint):
        raise TypeError(
            "response_scoped() expects an async function, `async def endpoint(request) -> "
            f"Response`, got {endpoint!r}. Make the endpoint async; in a FastAPI app use "
            "mintaka.core.fastapi.ResponseScopedRoute instead, which also runs sync "
            "endpoints."
        )

    @functools.wraps(endpoint)
    async def endpoint_in_response_scope(request: Request) -> Response:
        return await call_in_response_scope(endpoint, request)

    return endpoint_in_response_scope


class ResponseScopedRoute(Route):
    """A Starlette `Route` whose async function endpoint runs inside a response scope.

    Example:
        ```python
        from starlette.applications import Starlette
        from mintaka.core.starlette import ResponseScopedRoute

        app = Starlette(routes=[ResponseScopedRoute("/notes", create_note, methods=["POST"])])
        ```

    Raises:
        TypeError: The endpoint is not an async function (for example an `HTTPEndpoint`
            class or a sync function).
    """

    def __init__(
        self, path: str, endpoint: Callable[[Request], Awaitable[Response]], **kwargs: Any
    ) -> None:
        if not inspect.iscoroutinefunction(endpoint):
            raise TypeError(
                f"ResponseScopedRoute({path!r}) expects an async function endpoint, "
                f"`async def endpoint(request) -> Response`, got {endpoint!r}. Make the "
                "function async; for a class endpoint (HTTPEndpoint) use a plain Route and "
                "open `async with ResponseScope(request.scope):` around the code that "
                "builds the response."
            )
        super().__init__(path, response_scoped(endpoint), **kwargs)
