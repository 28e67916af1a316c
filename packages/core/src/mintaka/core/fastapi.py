"""The FastAPI adapter: a route class whose requests have a response scope.

Needs the `[fastapi]` extra: `pip install "./packages/core[fastapi]"` from a checkout,
`pip install 'mintaka-core[fastapi]'` once released.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING

try:
    from fastapi.routing import APIRoute
except ImportError as error:  # pragma: no cover - exercised by the packaging tests
    raise ImportError(
        "mintaka.core.fastapi needs FastAPI, which is not installed. "
        "Install it with: pip install 'mintaka-core[fastapi]'"
    ) from error

from mintaka.core._scope import call_in_response_scope

if TYPE_CHECKING:
    from collections.abc import Callable, Coroutine
    from typing import Any

    from starlette.requests import Request
    from starlette.responses import Response

__all__ = ["ResponseScopedRoute"]


class ResponseScopedRoute(APIRoute):
    """An `APIRoute` that opens a response scope around FastAPI's request handler.

    A drop-in for `APIRoute`: validation, serialization, status codes, exception handlers,
    `dependency_overrides` and OpenAPI behave exactly as before. The only difference is
    that [`response_stack(request)`][mintaka.core.response_stack] works in the route's
    dependencies and endpoint, and what is entered on it exits after the response was
    serialized and before it is sent.

    The scope wraps the whole of FastAPI's handler (dependencies, endpoint, response
    validation and serialization), so an exception raised anywhere in it is thrown into
    the response-scoped contexts before the error response is built.

    Example:
        ```python
        from fastapi import APIRouter, FastAPI
        from mintaka.core.fastapi import ResponseScopedRoute

        router = APIRouter(route_class=ResponseScopedRoute)

        @router.post("/notes")
        async def create_note(session: Session) -> Note: ...

        app = FastAPI()
        app.include_router(router)
        # or for every route of the app: app.router.route_class = ResponseScopedRoute
        ```
    """

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        """Return FastAPI's handler for this route, wrapped in a response scope.

        FastAPI calls this when the route is created. From FastAPI 0.137 on it calls it
        again for a route reached through `include_router`: once per inclusion, and on
        0.137 itself once per request. Every handler it returns is wrapped, so every path
        the route is reachable under has a response scope.
        """
        # A partial, not a closure: one coroutine frame fewer on every request.
        return functools.partial(call_in_response_scope, super().get_route_handler())
