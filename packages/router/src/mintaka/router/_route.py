"""The route class of a `Router`: response-scoped, and honest about bodiless statuses."""

from __future__ import annotations

from typing import TYPE_CHECKING

from mintaka.core.fastapi import ResponseScopedRoute
from mintaka.router._no_body import body_allowed, without_body

if TYPE_CHECKING:
    from collections.abc import Callable, Coroutine
    from typing import Any

    from starlette.requests import Request
    from starlette.responses import Response

__all__ = ["RouterRoute"]


class RouterRoute(ResponseScopedRoute):
    """The default route class of [`Router`][mintaka.router.Router].

    It is a [`ResponseScopedRoute`][mintaka.core.fastapi.ResponseScopedRoute] (so
    [`response_stack`][mintaka.core.response_stack] works in its dependencies and
    endpoint) that also applies the wire rule for status codes that allow no body: when
    the response has status 1xx, 204, 205 or 304 — whether set by `status_code=`, by the
    endpoint through an injected `Response`, or by a `Response` the endpoint returned —
    it is sent with an empty body and without `Content-Type` or `Content-Length` headers
    (a 205 carries `Content-Length: 0`, as RFC 9110 asks). Every other header and the
    background task are kept.

    Pass your own `route_class` to `Router` and it is used as is; subclass `RouterRoute`
    to keep both the response scope and this rule.

    Example:
        ```python
        from mintaka.router import Router, RouterRoute

        class TimedRoute(RouterRoute):
            def get_route_handler(self):
                handler = super().get_route_handler()
                ...  # wrap it
                return handler

        router = Router(route_class=TimedRoute)
        ```
    """

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        """Return the response-scoped handler, with bodiless statuses stripped of a body.

        The stripping happens after the response scope closed, on the response object
        that is about to be sent.
        """
        handler = super().get_route_handler()

        async def handle_without_stray_body(request: Request) -> Response:
            response = await handler(request)
            if body_allowed(response.status_code):
                return response
            return without_body(response)

        return handle_without_stray_body
