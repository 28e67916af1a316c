"""The error raised when response-scoped code runs where no response scope exists."""

from __future__ import annotations

__all__ = ["ResponseScopeError"]


class ResponseScopeError(RuntimeError):
    """No response scope is open for this request, or it has already closed.

    Raised by [`response_stack`][mintaka.core.response_stack] when the request was not
    routed through a response-scoped route (for FastAPI, `ResponseScopedRoute` or
    `mintaka.router.Router`; for Starlette, `mintaka.core.starlette.ResponseScopedRoute`),
    or when a streamed body or a background task reaches for a resource whose response
    scope has already closed.
    """
