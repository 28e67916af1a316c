"""Asking for a request to be handled again, and which attempt a request is on."""

from __future__ import annotations

from typing import Final

__all__ = ["ATTEMPT_KEY", "HandleAgain", "RespondEarly"]

ATTEMPT_KEY: Final = "mintaka.attempt"
"""The ASGI scope key holding the attempt at handling the request, from 2 on."""


class HandleAgain(Exception):  # noqa: N818 - a request, not an error
    """Raised by a response-scoped context while it exits: handle the request again.

    The route adapters (FastAPI's and Starlette's) catch it before anything of the
    response was sent, wait `delay` seconds, and call the route's handler again with the
    same request, in a new response scope: dependencies are solved anew and the endpoint
    runs again. [`ResponseScopeMiddleware`][mintaka.core.asgi.ResponseScopeMiddleware]
    does the same at the response start, calling the app again with the request body it
    kept. Raise it only when [`request_attempt`][mintaka.core.request_attempt] is not
    `None` (it is `None` when the request cannot be handled again: a body too large to
    keep), and bound the attempts yourself: the adapters do not.

    Args:
        reason: Why, for the log and the exit span.
        delay: Seconds to wait before the next attempt.
    """

    def __init__(self, reason: str, *, delay: float = 0.0) -> None:
        super().__init__(reason)
        self.reason = reason
        self.delay = delay


class RespondEarly(Exception):  # noqa: N818 - a request, not an error
    """Raised by a dependency of a route adapter: send `response` without the endpoint.

    The route adapters (`mintaka.core.fastapi`, `mintaka.core.starlette`) catch it as the
    handler's result: the response scope exits as for a returned response (its contexts
    read `response.status_code`), and `response` is sent. Behind the ASGI middleware it is
    an unhandled exception. Used by mintaka's idempotency keys to replay a stored response;
    not a public name.
    """

    def __init__(self, response: object) -> None:
        super().__init__("respond early")
        self.response = response
