"""The response scope for any ASGI framework: a pure ASGI middleware.

[`ResponseScopeMiddleware`][mintaka.core.asgi.ResponseScopeMiddleware] gives every HTTP
request a response scope and exits it when the app starts its response, before the
`http.response.start` message reaches the server. It imports no framework, so it serves
Litestar, Django, Quart, Starlette, FastAPI or a bare ASGI callable alike; inside the app,
[`response_stack`][mintaka.core.response_stack] and
[`response_status`][mintaka.core.response_status] accept the framework's own request
object.
"""

from __future__ import annotations

import logging
from http import HTTPStatus
from typing import TYPE_CHECKING, Any, Final, Protocol, TypeAlias

import anyio

from mintaka.core._scope import ResponseScope

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable, MutableMapping

__all__ = ["ASGIApp", "ErrorHandler", "ResponseScopeMiddleware", "default_error_response"]

_Scope: TypeAlias = "MutableMapping[str, Any]"
_Message: TypeAlias = "MutableMapping[str, Any]"
_Receive: TypeAlias = "Callable[[], Awaitable[_Message]]"
_Send: TypeAlias = "Callable[[_Message], Awaitable[None]]"


class ASGIApp(Protocol):
    """Any ASGI 3 application: Starlette's and FastAPI's, Litestar's, Django's, Quart's.

    The arguments are typed loosely on purpose: each framework declares its own precise
    types for the scope and the callables, and all of them are accepted.

    Example:
        An `on_error` hook returns one, here a Starlette response:

        ```python
        from starlette.responses import JSONResponse
        from mintaka.core.asgi import ASGIApp

        async def on_error(scope, error: Exception) -> ASGIApp:
            return JSONResponse({"detail": "not saved"}, status_code=409)
        ```
    """

    def __call__(self, scope: Any, receive: Any, send: Any, /) -> Awaitable[None]:
        """Handle one connection."""
        ...


ErrorHandler: TypeAlias = "Callable[[Any, Exception], Awaitable[ASGIApp]]"
"""`async def on_error(scope, error) -> ASGIApp`: the response to send when exiting failed.

It receives the request's ASGI scope (annotate it with your framework's scope type) and
the exception the response scope raised while exiting, and returns an ASGI app that sends
the replacement response, for example a Starlette `Response`, which is one.
"""

_logger: Final = logging.getLogger("mintaka.core.asgi")
"""Where the middleware logs an exit that failed, with the request's method and path."""


_SERVER_ERROR: Final = 500


def _error_status(error: Exception) -> int:
    """The status for `error`: its own `status_code` when it carries a valid one, else 500."""
    status = getattr(error, "status_code", None)
    if isinstance(status, int) and not isinstance(status, bool) and 400 <= status <= 599:  # noqa: PLR2004
        return status
    return _SERVER_ERROR


def _with_scope_headers(message: _Message, response_scope: ResponseScope) -> _Message:
    """`http.response.start` with the headers the response scope's contexts added."""
    added = response_scope._headers
    if not added:
        return message
    return {**message, "headers": [*message.get("headers", ()), *added.raw]}


class _PlainResponse:
    """A short plain-text response that says nothing about the error but its status."""

    __slots__ = ("status",)

    def __init__(self, status: int) -> None:
        self.status = status

    async def __call__(self, scope: _Scope, receive: _Receive, send: _Send) -> None:
        try:
            body = HTTPStatus(self.status).phrase.encode()
        except ValueError:
            body = b"Error"
        await send(
            {
                "type": "http.response.start",
                "status": self.status,
                "headers": [
                    (b"content-type", b"text/plain; charset=utf-8"),
                    (b"content-length", str(len(body)).encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})


async def default_error_response(scope: _Scope, error: Exception) -> ASGIApp:
    """The response the middleware sends when exiting failed and there is no `on_error`.

    A plain-text response with the status's phrase as its body (`Internal Server Error`):
    status 500, or the exception's own `status_code` attribute when it carries a client or
    server error status (Starlette's `HTTPException` does). Nothing of the exception
    reaches the client: no message, no SQL, no traceback.

    Example:
        An `on_error` that answers conflicts itself and leaves the rest to the default:

        ```python
        from sqlalchemy.exc import IntegrityError
        from starlette.responses import JSONResponse
        from mintaka.core.asgi import default_error_response

        async def on_error(scope, error):
            if isinstance(error, IntegrityError):
                return JSONResponse({"detail": "conflict"}, status_code=409)
            return await default_error_response(scope, error)
        ```

    Args:
        scope: The request's ASGI scope.
        error: The exception raised while the response scope exited.

    Returns:
        An ASGI app that sends the response.
    """
    return _PlainResponse(_error_status(error))


class ResponseScopeMiddleware:
    """Open a response scope for each HTTP request; exit it before the response starts.

    When the app sends `http.response.start`, the middleware records its status (for
    [`response_status`][mintaka.core.response_status]), exits the response stack, and
    only then forwards the message, so everything entered on the stack has exited before
    the server sends a byte of the response.

    * **Exiting raised**: the app's response is discarded, start and body, and the client
      receives the response that `on_error` builds; by default a short plain-text 500 that
      reveals nothing of the exception, or the exception's own `status_code` when it has
      one (Starlette's `HTTPException`). The error is logged on the `mintaka.core.asgi`
      logger with the request's method and path. The app's own exception handlers do not
      see this error: it happens after the app produced its response.
    * **The app raised before it started a response**: the exception is thrown into the
      contexts on the stack, so a transaction rolls back, then re-raised to the server.
      A framework that turns the exception into an error response itself (most do) starts
      that response instead, and the contexts read its status.
    * **The app returned without a response**, or the client went away: the stack is
      still exited, once, with `response_status()` returning `None`.

    The exit happens exactly once per request and is shielded from cancellation: from
    a cancel scope, and from the native task cancellation with which Django and Quart stop
    a request whose client disconnected (the app hears of a disconnect that arrives while
    the scope exits only once the exit is over).
    WebSocket and lifespan connections pass through untouched. Inside a request that
    already has a response scope (a response-scoped FastAPI route behind this middleware,
    or the middleware twice), the outer scope serves both: there is one scope, not two.

    Example:
        ```python
        from litestar import Litestar
        from mintaka.core.asgi import ResponseScopeMiddleware

        app = ResponseScopeMiddleware(Litestar(route_handlers=[create_note]))

        # FastAPI and Starlette: app.add_middleware(ResponseScopeMiddleware)
        ```

    Args:
        app: The ASGI application to wrap.
        on_error: `async def on_error(scope, error) -> ASGIApp`, called when exiting the
            response scope raised an `Exception`; it returns the ASGI app (a Starlette
            `Response`, for example) that sends the replacement response. Defaults to
            [`default_error_response`][mintaka.core.asgi.default_error_response]. If it
            raises, its error is logged and the default response is sent.
    """

    __slots__ = ("app", "on_error")

    def __init__(self, app: ASGIApp, *, on_error: ErrorHandler | None = None) -> None:
        if not callable(app):
            raise TypeError(f"ResponseScopeMiddleware expects an ASGI app, got {app!r}.")
        if on_error is not None and not callable(on_error):
            raise TypeError(
                "ResponseScopeMiddleware(on_error=...) expects `async def on_error(scope, "
                f"error) -> ASGIApp`, got {on_error!r}."
            )
        self.app = app
        self.on_error: ErrorHandler = on_error or default_error_response

    async def __call__(self, scope: _Scope, receive: _Receive, send: _Send) -> None:
        """Handle one connection: HTTP requests get a response scope, others pass through."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        response_scope = ResponseScope(scope)
        # Entered and exited by hand rather than with `async with`: two coroutines fewer
        # on every request, and the exit usually happened already, at the response start.
        if await response_scope.__aenter__() is not response_scope:
            await self.app(scope, receive, send)
            return
        started = replaced = False
        exited: anyio.Event | None = None

        async def receive_after_exit() -> _Message:
            # Django and Quart cancel the request's task natively (`task.cancel()`) when
            # the client disconnects; a cancel scope cannot shield an exit from that, so
            # the news of a disconnect waits until the exit is over.
            nonlocal exited
            message = await receive()
            if message["type"] == "http.disconnect" and response_scope.state == "exiting":
                if exited is None:
                    exited = anyio.Event()
                await exited.wait()
            return message

        async def send_after_exit(message: _Message) -> None:
            nonlocal started, replaced
            if replaced:
                return
            if not started and message["type"] == "http.response.start":
                started = True
                response_scope.respond(message["status"])
                try:
                    await response_scope.exit()
                except Exception as error:
                    replaced = True
                    await self._send_error(
                        scope,
                        receive,
                        send,
                        error,
                        original=message["status"],
                        response_scope=response_scope,
                    )
                    return
                finally:
                    if exited is not None:
                        exited.set()
                message = _with_scope_headers(message, response_scope)
            await send(message)

        try:
            await self.app(scope, receive_after_exit, send_after_exit)
        except BaseException as error:
            try:
                await response_scope.exit(error)
            finally:
                await response_scope.run_after_response()
            raise
        try:
            if not started:
                await response_scope.exit()
        finally:
            await response_scope.run_after_response()

    async def _send_error(
        self,
        scope: _Scope,
        receive: _Receive,
        send: _Send,
        error: Exception,
        *,
        original: int,
        response_scope: ResponseScope,
    ) -> None:
        """Send the replacement for the app's response after exiting raised `error`."""
        method = scope.get("method", "?")
        path = scope.get("path", "?")
        try:
            response = await self.on_error(scope, error)
        except Exception:
            _logger.exception(
                "on_error failed for %s %s; sending the default error response", method, path
            )
            response = await default_error_response(scope, error)
        _logger.error(
            "The response scope of %s %s failed to exit; the app's %d response was replaced",
            method,
            path,
            original,
            exc_info=error,
        )

        async def send_with_scope_headers(message: _Message) -> None:
            if message["type"] == "http.response.start":
                message = _with_scope_headers(message, response_scope)
            await send(message)

        await response(scope, receive, send_with_scope_headers)
