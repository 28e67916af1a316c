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
from collections.abc import Mapping
from http import HTTPStatus
from typing import TYPE_CHECKING, Any, Final, Protocol, TypeAlias

import anyio

from mintaka.core._again import ATTEMPT_KEY as _ATTEMPT_KEY
from mintaka.core._again import HandleAgain
from mintaka.core._scope import ResponseScope

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable, MutableMapping

__all__ = [
    "DEFAULT_REPLAY_LIMIT",
    "ASGIApp",
    "ErrorHandler",
    "ResponseScopeMiddleware",
    "default_error_response",
]

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

DEFAULT_REPLAY_LIMIT: Final = 1024 * 1024
"""How many bytes of request body the middleware keeps by default, to handle it again."""


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


def _error_headers(error: Exception) -> list[tuple[bytes, bytes]]:
    """The headers `error` asks for, as an `HTTPException`'s `headers` mapping does."""
    headers = getattr(error, "headers", None)
    if not isinstance(headers, Mapping):
        return []
    return [
        (str(name).lower().encode("latin-1"), str(value).encode("latin-1"))
        for name, value in headers.items()
    ]


class _PlainResponse:
    """A short plain-text response that says nothing about the error but its status."""

    __slots__ = ("headers", "status")

    def __init__(self, status: int, headers: list[tuple[bytes, bytes]] | None = None) -> None:
        self.status = status
        self.headers = headers or []

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
                    *self.headers,
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})


async def default_error_response(scope: _Scope, error: Exception) -> ASGIApp:
    """The response the middleware sends when exiting failed and there is no `on_error`.

    A plain-text response with the status's phrase as its body (`Internal Server Error`):
    status 500, or the exception's own `status_code` attribute when it carries a client or
    server error status (Starlette's `HTTPException` does), with the headers of its
    `headers` mapping when it has one (`Retry-After`, say). Nothing else of the exception
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
    return _PlainResponse(_error_status(error), _error_headers(error))


async def _finish(
    response_scope: ResponseScope, body: _KeptBody, error: BaseException | None
) -> HandleAgain | None:
    """Exit the scope if the app left it open, then run the work after the response.

    Returns the request to handle the request again instead, when a context asked for it
    and the body was kept; that attempt's after-response work is then dropped.
    """
    try:
        await response_scope.exit(error)
    except HandleAgain as asked:
        if body.kept and (error is None or isinstance(error, Exception)):
            return asked
        await response_scope.run_after_response()
        raise
    except BaseException:
        await response_scope.run_after_response()
        raise
    await response_scope.run_after_response()
    return None


def _copy_scope(scope: _Scope) -> _Scope:
    """A copy of `scope` that the app can write into, its `state` mapping included."""
    copied = dict(scope)
    state = copied.get("state")
    if state:
        copied["state"] = dict(state)
    return copied


class _KeptBody:
    """The request's `receive`, keeping the body it delivers so that it can be replayed.

    It keeps up to `limit` bytes of `http.request` messages. A body that grows past the
    limit is let go, and the request can no longer be handled again.
    """

    __slots__ = ("_limit", "_messages", "_position", "_receive", "_size", "kept", "response_scope")

    def __init__(self, receive: _Receive, limit: int) -> None:
        self._receive = receive
        self._limit = limit
        self._messages: list[_Message] = []
        self._position = 0
        self._size = 0
        self.kept = True
        self.response_scope: ResponseScope | None = None

    async def receive(self) -> _Message:
        if self._position < len(self._messages):
            message = self._messages[self._position]
            self._position += 1
            return message
        message = await self._receive()
        if self.kept and message["type"] == "http.request":
            self._size += len(message.get("body", b""))
            if self._size > self._limit:
                self._let_go()
            else:
                self._messages.append(message)
                self._position += 1
        return message

    def _let_go(self) -> None:
        self.kept = False
        self._messages = []
        if self.response_scope is not None:
            self.response_scope._can_handle_again = False

    def rewind(self) -> None:
        """Deliver the kept body again, from its first message, then what is still to come."""
        self._position = 0


def _checked_replay_limit(limit: object) -> int:
    if isinstance(limit, bool) or not isinstance(limit, int) or limit < 0:
        raise TypeError(
            "ResponseScopeMiddleware(replay_limit=...) expects how many bytes of request "
            f"body to keep for handling a request again: an int, 0 or more; got {limit!r}."
        )
    return limit


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
      If a context raises another exception instead (a transactional session turns a
      conflict into a 503), the client gets the `on_error` response for that one.
      A framework that turns the exception into an error response itself (most do) starts
      that response instead, and the contexts read its status.
    * **The app returned without a response**, or the client went away: the stack is
      still exited, once, with `response_status()` returning `None`.
    * **A context asked for the request to be handled again**
      ([`HandleAgain`][mintaka.core.HandleAgain], as a transactional session with
      `retries` does on a conflict): nothing of the attempt's response is sent; after the
      requested delay the app is called again, in a new response scope, with a fresh copy
      of the server's scope and the request body replayed byte for byte. The middleware
      keeps up to `replay_limit` bytes of body for that; a request whose body grew past
      the limit cannot be handled again
      ([`request_attempt`][mintaka.core.request_attempt] returns `None` for it). Nothing
      is ever handled again once `http.response.start` has been forwarded.

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
        replay_limit: How many bytes of request body to keep, so that the request can be
            handled again; 1 MiB by default, 0 to keep none (no request is then handled
            again).
    """

    __slots__ = ("app", "on_error", "replay_limit")

    def __init__(
        self,
        app: ASGIApp,
        *,
        on_error: ErrorHandler | None = None,
        replay_limit: int = DEFAULT_REPLAY_LIMIT,
    ) -> None:
        if not callable(app):
            raise TypeError(f"ResponseScopeMiddleware expects an ASGI app, got {app!r}.")
        self.replay_limit = _checked_replay_limit(replay_limit)
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
        body = _KeptBody(receive, self.replay_limit)
        # Each attempt gets the scope as the server gave it: frameworks write into it.
        pristine = _copy_scope(scope)
        again = await self._attempt(scope, body, send)
        attempt = 1
        while again is not None:
            attempt += 1
            await anyio.sleep(again.delay)
            body.rewind()
            retry_scope = {**_copy_scope(pristine), _ATTEMPT_KEY: attempt}
            again = await self._attempt(retry_scope, body, send)

    async def _attempt(self, scope: _Scope, body: _KeptBody, send: _Send) -> HandleAgain | None:
        """Call the app once in a response scope; return the request to handle it again."""
        response_scope = ResponseScope(scope)
        # Entered and exited by hand rather than with `async with`: two coroutines fewer
        # on every request, and the exit usually happened already, at the response start.
        if await response_scope.__aenter__() is not response_scope:
            await self.app(scope, body.receive, send)
            return None
        response_scope._can_handle_again = body.kept
        body.response_scope = response_scope
        started = replaced = False
        again: HandleAgain | None = None
        exited: anyio.Event | None = None

        async def receive_after_exit() -> _Message:
            # Django and Quart cancel the request's task natively (`task.cancel()`) when
            # the client disconnects; a cancel scope cannot shield an exit from that, so
            # the news of a disconnect waits until the exit is over.
            nonlocal exited
            message = await body.receive()
            if message["type"] == "http.disconnect" and response_scope.state == "exiting":
                if exited is None:
                    exited = anyio.Event()
                await exited.wait()
            return message

        async def send_after_exit(message: _Message) -> None:
            nonlocal started, replaced, again
            if replaced:
                return
            if not started and message["type"] == "http.response.start":
                started = True
                response_scope.respond(message["status"])
                try:
                    await response_scope.exit()
                except Exception as error:
                    replaced = True
                    if isinstance(error, HandleAgain) and body.kept:
                        again = error  # nothing was sent: the request is handled again
                        return
                    await self._send_error(
                        scope,
                        body.receive,
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
            if again is not None and isinstance(error, Exception):
                return again  # the abandoned attempt's later failure is not the client's
            return await self._after_app_raised(
                scope, body, send, response_scope, error, started=started
            )
        if again is not None:
            return again  # the abandoned attempt's after-response work is dropped with it
        if not started:
            return await _finish(response_scope, body, None)
        await response_scope.run_after_response()
        return None

    async def _after_app_raised(
        self,
        scope: _Scope,
        body: _KeptBody,
        send: _Send,
        response_scope: ResponseScope,
        error: BaseException,
        *,
        started: bool,
    ) -> HandleAgain | None:
        """Throw the app's `error` into the contexts; re-raise it unless they ask again.

        Returns `None` when a context replaced the error with another exception, after
        sending the response for that one.
        """
        try:
            asked = await _finish(response_scope, body, error)
        except Exception as replacement:
            if replacement is error or started:
                raise
            # A context replaced the app's error (a conflict that became a 503): the
            # client gets the response for the replacement, as when exiting raised.
            await self._send_error(
                scope,
                body.receive,
                send,
                replacement,
                original=None,
                response_scope=response_scope,
            )
            return None
        if asked is not None:
            return asked
        raise error

    async def _send_error(
        self,
        scope: _Scope,
        receive: _Receive,
        send: _Send,
        error: Exception,
        *,
        original: int | None,
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
        if original is None:
            _logger.error(
                "The response scope of %s %s replaced the app's error while exiting",
                method,
                path,
                exc_info=error,
            )
        else:
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
