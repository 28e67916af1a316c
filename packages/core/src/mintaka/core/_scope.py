"""The response scope: an async exit stack that closes before the response is sent.

One [`ResponseScope`][mintaka.core.ResponseScope] per request, with one lifecycle:

1. **open** — an adapter enters it around the code that turns the request into a response;
   while it is open, [`response_stack`][mintaka.core.response_stack] hands out its stack;
2. **exiting** — once the response is ready (or the code raised), the stack is exited
   once, shielded from cancellation; contexts read the response's status with
   [`response_status`][mintaka.core.response_status];
3. **closed** — nothing can be entered any more; the response may now be sent.

The route adapters (`mintaka.core.fastapi`, `mintaka.core.starlette`) exit the scope when
the block around their handler ends; the ASGI middleware (`mintaka.core.asgi`) exits it
when the app starts its response. Both drive the same object.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Mapping
from contextlib import AsyncExitStack
from typing import TYPE_CHECKING, Any, Final, Literal, Protocol, TypeAlias, TypeVar, cast

import anyio
from starlette.datastructures import MutableHeaders
from starlette.exceptions import HTTPException

from mintaka.core import _tracing
from mintaka.core._again import ATTEMPT_KEY, HandleAgain, RespondEarly
from mintaka.core._errors import ResponseScopeError

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable, MutableMapping
    from types import TracebackType

    from opentelemetry.trace import Tracer
    from starlette.requests import HTTPConnection
    from starlette.responses import Response

__all__ = [
    "HandleAgain",
    "RequestLike",
    "ResponseScope",
    "ScopeState",
    "after_response",
    "call_in_response_scope",
    "request_attempt",
    "response_headers",
    "response_stack",
    "response_status",
]

_logger = logging.getLogger("mintaka.core")

_SCOPE_KEY: Final = "mintaka.response_scope"
"""Where the open response scope lives in the ASGI scope; reach it through the functions."""

ScopeState: TypeAlias = Literal["open", "exiting", "closed"]
"""Where a [`ResponseScope`][mintaka.core.ResponseScope] is in its lifecycle."""

_NO_SCOPE_FIX: Final = (
    "To fix it, make the route a mintaka.core.fastapi.ResponseScopedRoute "
    "(APIRouter(route_class=ResponseScopedRoute), or app.router.route_class = "
    "ResponseScopedRoute before the routes are added) or use a mintaka.router.Router; "
    "with plain Starlette, use mintaka.core.starlette.ResponseScopedRoute or wrap the "
    "endpoint in @response_scoped; with any other ASGI framework, wrap the app in "
    "mintaka.core.asgi.ResponseScopeMiddleware."
)

_CLOSED_FIX: Final = (
    "A streamed body, a background task or anything else that runs after the response "
    "must not use a response-scoped resource; give it a resource of its own."
)


class _HasScope(Protocol):
    @property
    def scope(self) -> Mapping[str, Any]: ...


RequestLike: TypeAlias = "HTTPConnection | _HasScope | Mapping[str, Any]"
"""What the functions of `mintaka.core` accept as "the request".

A Starlette `Request` or `WebSocket` (so FastAPI's too), any request object with an ASGI
`scope` mapping (Litestar's `Request`, Django's `ASGIRequest`, Quart's `request`), or the
ASGI scope mapping itself.
"""


class ResponseScope:
    """The response scope of one request: its exit stack and where it is in its lifecycle.

    Enter it (`async with`) around the code that produces the response; call
    [`respond`][mintaka.core.ResponseScope.respond] with the status once the response is
    ready. When the block ends, the stack is exited exactly once, shielded from
    cancellation:

    * normally: every context exits in LIFO order, and reads the status through
      [`response_status`][mintaka.core.response_status];
    * with an exception: the exception is thrown into the contexts (a generator sees it at
      its `yield`) and then propagates unchanged, even if a context swallowed it, because
      there would be no response to send. As with any `AsyncExitStack`, a context that
      swallows it hides it from the contexts entered before it, so contexts should not.

    An exception raised while exiting propagates from the block, so the adapter's normal
    error handling turns it into the response instead of the original one. An adapter
    that must exit before the block ends (the ASGI middleware exits when the app starts
    its response) calls [`exit`][mintaka.core.ResponseScope.exit] itself; the block's end
    then does nothing.

    If a response scope is already open on the same ASGI scope, entering returns that
    one: the inner block does nothing and the outer one owns the stack.

    The stack itself is created only when somebody asks for it, so a request that never
    uses it costs one small object.

    Example:
        An adapter for a framework whose handlers map a request to a response:

        ```python
        from mintaka.core import ResponseScope

        async def handle(request):
            async with ResponseScope(request.scope) as response_scope:
                response = await endpoint(request)
                response_scope.respond(response.status_code)
            return response  # every response-scoped context has exited here
        ```

    Args:
        scope: The ASGI connection scope of the request.
    """

    __slots__ = (
        "_after",
        "_after_ran",
        "_can_handle_again",
        "_headers",
        "_owner",
        "_response",
        "_scope",
        "_stack",
        "_state",
        "_status",
    )

    def __init__(self, scope: MutableMapping[str, Any]) -> None:
        self._scope: MutableMapping[str, Any] | None = scope
        self._owner = True
        self._stack: AsyncExitStack | None = None
        self._state: ScopeState = "open"
        self._status: int | None = None
        self._response: object | None = None
        self._headers: MutableHeaders | None = None
        self._after: list[Callable[[], Awaitable[object]]] | None = None
        self._after_ran = False
        self._can_handle_again = False

    @property
    def state(self) -> ScopeState:
        """`"open"`, then `"exiting"` while the stack exits, then `"closed"`."""
        return self._state

    @property
    def closed(self) -> bool:
        """Whether the stack has started exiting; nothing can be entered on it any more."""
        return self._state != "open"

    @property
    def status(self) -> int | None:
        """The status of the response this scope exits for; `None` on an exception."""
        return self._status

    @property
    def stack(self) -> AsyncExitStack:
        """The exit stack of this response scope, created on first use.

        Raises:
            ResponseScopeError: The scope is exiting or has closed.
        """
        if self._state != "open":
            raise ResponseScopeError(f"This response scope has already closed. {_CLOSED_FIX}")
        if self._stack is None:
            self._stack = AsyncExitStack()
        return self._stack

    @property
    def headers(self) -> MutableHeaders:
        """Headers that the adapters add to the response, whichever response is sent.

        Contexts set them while the stack exits (to tell the client what happened to its
        request); the adapters add them once the stack has exited, to the returned
        response, to an `HTTPException`'s headers, or, in the ASGI middleware, to the
        `http.response.start` message. Created on first use.
        """
        if self._headers is None:
            self._headers = MutableHeaders()
        return self._headers

    def after_response(self, callback: Callable[[], Awaitable[object]]) -> None:
        """Have `callback()` awaited once the response has been sent (or failed to send).

        See [`after_response`][mintaka.core.after_response] for when each adapter runs it.
        """
        if self._after is None:
            self._after = []
        self._after.append(callback)

    async def run_after_response(self) -> None:
        """Await the callbacks once, in order, shielded; log what they raise.

        The adapters call it when the response has been sent; a client that went away
        does not cancel them.
        """
        self._after_ran = True
        callbacks, self._after = self._after, None
        if not callbacks:
            return
        with anyio.CancelScope(shield=True):
            for callback in callbacks:
                try:
                    await callback()
                except Exception:
                    _logger.exception("An after-response callback %r raised", callback)

    def respond(self, status: int) -> None:
        """Record the status of the response that is ready, for the contexts that exit.

        Args:
            status: The HTTP status code the client is about to receive.
        """
        self._status = status

    def _attach(self) -> ResponseScope | None:
        """Attach to the ASGI scope; if one is open there already, return it instead."""
        scope = self._scope
        if scope is None:
            raise RuntimeError("a ResponseScope can be entered only once")
        # The ASGI scope points at this object; pointing back at the scope would make a
        # cycle that keeps every request alive until the garbage collector runs.
        self._scope = None
        current = scope.get(_SCOPE_KEY)
        if isinstance(current, ResponseScope) and current._state == "open":
            self._owner = False
            return current
        scope[_SCOPE_KEY] = self
        return None

    async def __aenter__(self) -> ResponseScope:
        return self._attach() or self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if self._owner:
            await self.exit(exc)

    async def exit(self, error: BaseException | None = None) -> None:
        """Exit the stack once, shielded from cancellation; later calls do nothing.

        Args:
            error: The exception that ends the request, thrown into every context; `None`
                when a response was produced (its status is what `respond` recorded).
        """
        if self._state != "open":
            return
        if error is not None:
            self._status = None
        stack = self._stack
        if stack is None:
            self._state = "closed"
            return
        self._state = "exiting"
        try:
            with anyio.CancelScope(shield=True):
                # Without opentelemetry-api, tracing costs this one check; with it and
                # no tracer provider configured, one more.
                if _tracing.AVAILABLE and (tracer := _tracing.tracer()) is not None:
                    await self._exit_traced(tracer, stack, error)
                else:
                    await _unwind(stack, error)
        finally:
            self._state = "closed"

    async def _exit_traced(
        self, tracer: Tracer, stack: AsyncExitStack, error: BaseException | None
    ) -> None:
        # CPython's AsyncExitStack keeps its contexts in `_exit_callbacks`; count them
        # before they are popped, for the span.
        contexts = len(getattr(stack, "_exit_callbacks", ()))
        if contexts == 0:
            await _unwind(stack, error)
            return
        await _tracing.traced_exit(
            tracer,
            functools.partial(_unwind, stack, error),
            contexts=contexts,
            status=self._status,
            error=error,
        )


async def _unwind(stack: AsyncExitStack, error: BaseException | None) -> None:
    """Exit `stack`, throwing `error` into its contexts when there is one."""
    if error is None:
        await stack.__aexit__(None, None, None)
    else:
        await stack.__aexit__(type(error), error, error.__traceback__)


_Request = TypeVar("_Request", bound="HTTPConnection")


class _HasStatus(Protocol):
    @property
    def status_code(self) -> int: ...


_Response = TypeVar("_Response", bound=_HasStatus)


async def call_in_response_scope(
    handler: Callable[[_Request], Awaitable[_Response]], request: _Request
) -> _Response:
    """Await `handler(request)` inside a response scope: what the route adapters do.

    Example:
        ```python
        from mintaka.core import call_in_response_scope

        async def handle(request: Request) -> Response:
            return await call_in_response_scope(build_response, request)
        ```

    Args:
        handler: Turns the request into the response object; it must not send anything.
        request: The request (any Starlette `HTTPConnection`) being handled.

    Returns:
        What `handler` returned, after every response-scoped context has exited.
    """
    # The `async with` block of the class docstring, spelled out and inlined: this runs on
    # every request, and the calls it spares are a measurable part of the route's cost.
    scope = request.scope
    current = scope.get(_SCOPE_KEY)
    if current is not None and current._state == "open":  # an outer adapter owns it
        return await handler(request)
    response_scope = scope[_SCOPE_KEY] = ResponseScope(scope)
    response_scope._scope = None  # attached: no reference back to the ASGI scope
    response_scope._can_handle_again = True
    try:
        response = await handler(request)
    except RespondEarly as early:
        response = cast("_Response", early.response)
    except BaseException as error:
        try:
            await response_scope.exit(error)
        except HandleAgain as again:
            return await _handle_again(handler, request, again)
        except BaseException as raised:
            _add_to_exception(raised, response_scope._headers)
            await response_scope.run_after_response()
            raise
        # The error response is built later, by whoever handles the exception: the
        # callbacks cannot wait for it, so they run now.
        _add_to_exception(error, response_scope._headers)
        await response_scope.run_after_response()
        raise
    response_scope._status = response.status_code
    response_scope._response = response
    if response_scope._stack is None:  # nothing to exit: spare the coroutine
        response_scope._state = "closed"
    else:
        try:
            await response_scope.exit()
        except HandleAgain as again:
            return await _handle_again(handler, request, again)
        except BaseException as raised:
            # The exception replaces the response; the work after it still runs.
            _add_to_exception(raised, response_scope._headers)
            await response_scope.run_after_response()
            raise
    if response_scope._headers is not None:
        _add_to_response(response, response_scope._headers)
    if response_scope._after is not None:
        return cast("_Response", _SentThenRun(response, response_scope))
    return response


async def _handle_again(
    handler: Callable[[_Request], Awaitable[_Response]], request: _Request, again: HandleAgain
) -> _Response:
    """Handle the request once more, in a new response scope, after `again.delay`.

    The failed attempt's after-response work is dropped with its scope.
    """
    scope = request.scope
    scope[ATTEMPT_KEY] = scope.get(ATTEMPT_KEY, 1) + 1
    await anyio.sleep(again.delay)
    return await call_in_response_scope(handler, request)


class _SentThenRun:
    """A response that, once sent (or once sending failed), runs the after-response work.

    The server gets it in place of the response object; everything else is delegated.
    """

    __slots__ = ("_response", "_response_scope")

    def __init__(self, response: object, response_scope: ResponseScope) -> None:
        self._response = response
        self._response_scope = response_scope

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        try:
            await cast("Callable[..., Awaitable[None]]", self._response)(scope, receive, send)
        finally:
            await self._response_scope.run_after_response()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._response, name)


def _add_to_response(response: object, headers: MutableHeaders) -> None:
    """Add the scope's headers to a returned response object (Starlette's or alike)."""
    raw_headers = getattr(response, "raw_headers", None)
    if isinstance(raw_headers, list):
        cast("Response", response).raw_headers.extend(headers.raw)


def _add_to_exception(error: BaseException, headers: MutableHeaders | None) -> None:
    """Add the scope's headers to the response an `HTTPException` will become."""
    if headers is None or not isinstance(error, HTTPException):
        return
    error.headers = {**(error.headers or {}), **headers}


def _asgi_scope(request: RequestLike) -> Mapping[str, Any]:
    """The ASGI scope of `request`, whatever kind of request object it is."""
    scope = getattr(request, "scope", None)
    if isinstance(scope, Mapping):
        return scope
    if isinstance(request, Mapping):
        return request
    raise TypeError(
        "Expected a request: a Starlette or FastAPI Request, any request object with an "
        f"ASGI `scope` mapping, or the ASGI scope itself; got {request!r} "
        f"({type(request).__qualname__})."
    )


def describe_request(scope: Mapping[str, Any]) -> str:
    """Name the request for an error message: method, path and endpoint when known."""
    method = scope.get("method", scope.get("type", "?"))
    description = f"{method} {scope.get('path', '?')}"
    endpoint = scope.get("endpoint")
    name = getattr(endpoint, "__qualname__", None)
    if name is not None:
        description += f" (endpoint {name})"
    return description


def _response_scope(request: RequestLike, caller: str) -> tuple[ResponseScope, Mapping[str, Any]]:
    """The response scope of `request` and its ASGI scope, or the error that names the fix."""
    scope = _asgi_scope(request)
    response_scope = scope.get(_SCOPE_KEY)
    if not isinstance(response_scope, ResponseScope):
        raise ResponseScopeError(
            f"{caller}() needs a response scope, but the route of {describe_request(scope)} does "
            f"not open one. {_NO_SCOPE_FIX}"
        )
    return response_scope, scope


def response_stack(request: RequestLike) -> AsyncExitStack:
    """Return the response-scoped exit stack of the current request.

    Contexts entered on it exit after the endpoint returned and the response was
    serialized, but before the response is sent.

    Example:
        ```python
        from mintaka.core import response_stack

        async def create_note(request: Request) -> dict[str, int]:
            stack = response_stack(request)
            session = await stack.enter_async_context(sessionmaker())
            ...
        ```

    Args:
        request: The request: a Starlette or FastAPI `Request`, any request object with
            an ASGI `scope` mapping, or the ASGI scope itself.

    Returns:
        The stack; it is created on first use and is the same object for the whole request.

    Raises:
        ResponseScopeError: The request is not handled by a response-scoped route, or its
            response scope has already closed (for example inside a background task).
        TypeError: `request` is none of the accepted kinds.
    """
    response_scope, scope = _response_scope(request, "response_stack")
    if response_scope.closed:
        raise ResponseScopeError(
            f"The response scope of {describe_request(scope)} has already closed: its "
            f"response is being sent or was sent. {_CLOSED_FIX}"
        )
    return response_scope.stack


def response_headers(request: RequestLike) -> MutableHeaders:
    """Return the headers the request's response will carry besides its own.

    Set them in a context that exits from the response stack, to tell the client what
    happened to its request: the adapters add them to whichever response is sent once
    the stack has exited — the endpoint's, an `HTTPException`'s, or (behind the ASGI
    middleware) any response the app starts. An exception handler of your own builds its
    response after the stack exited, from a `Request`: copy them into it with
    `response.headers.update(response_headers(request))`. A 500 that Starlette's server
    error middleware builds for an unhandled exception carries none.

    Example:
        ```python
        from mintaka.core import response_headers, response_stack, response_status

        @asynccontextmanager
        async def timed(request):
            started = time.perf_counter()
            yield
            elapsed = time.perf_counter() - started
            response_headers(request)["Server-Timing"] = f"app;dur={elapsed * 1000:.1f}"

        await response_stack(request).enter_async_context(timed(request))
        ```

    Args:
        request: The request: a Starlette or FastAPI `Request`, any request object with
            an ASGI `scope` mapping, or the ASGI scope itself.

    Returns:
        Starlette's `MutableHeaders`, the same object for the whole request; use `append`
        for a header that may repeat (`set-cookie`).

    Raises:
        ResponseScopeError: The request is not handled by a response-scoped route.
        TypeError: `request` is none of the accepted kinds.
    """
    response_scope, _ = _response_scope(request, "response_headers")
    return response_scope.headers


def after_response(request: RequestLike, callback: Callable[[], Awaitable[object]]) -> None:
    """Have `await callback()` run once the request's response has been sent.

    For work that must not keep the client waiting and must not change the response:
    the callbacks run in the order they were added, after the last byte of the response
    was handed to the server, or after sending failed because the client went away; they
    are shielded from cancellation, and what they raise is logged on the `mintaka.core`
    logger, never sent. When the route raised instead of returning a response, the error
    response is built by whoever handles the exception, so behind the route adapters the
    callbacks run as the exception leaves the route, just before that response; behind
    the ASGI middleware they always run after it.

    Example:
        ```python
        from mintaka.core import after_response

        async def create_note(request: Request) -> Response:
            ...
            after_response(request, functools.partial(search_index.refresh, note_id))
            return response
        ```

    Args:
        request: The request: a Starlette or FastAPI `Request`, any request object with
            an ASGI `scope` mapping, or the ASGI scope itself.
        callback: An async function that takes no arguments.

    Raises:
        ResponseScopeError: The request is not handled by a response-scoped route, or its
            response has already been sent.
        TypeError: `request` is none of the accepted kinds, or `callback` is not callable.
    """
    if not callable(callback):
        raise TypeError(f"after_response() expects an async function, got {callback!r}.")
    response_scope, scope = _response_scope(request, "after_response")
    if response_scope._after_ran:
        raise ResponseScopeError(
            f"after_response(): the response of {describe_request(scope)} has already been "
            "sent and its after-response work has run. Add the callback earlier, while the "
            "endpoint or a response-scoped context runs."
        )
    response_scope.after_response(callback)


def request_attempt(request: RequestLike) -> int | None:
    """Return which attempt at handling the request this is: 1, then 2 after a `HandleAgain`.

    Example:
        ```python
        from mintaka.core import HandleAgain, request_attempt

        class RetriedOnConflict:
            async def __aexit__(self, exc_type, exc, traceback):
                attempt = request_attempt(self.request)
                if is_conflict(exc) and attempt is not None and attempt <= 3:
                    raise HandleAgain("conflict", delay=0.01 * attempt)
        ```

    Args:
        request: The request: a Starlette or FastAPI `Request`, any request object with
            an ASGI `scope` mapping, or the ASGI scope itself.

    Returns:
        The attempt, counted from 1; `None` when the request cannot be handled again:
        behind the ASGI middleware, once its body outgrew what the middleware keeps.

    Raises:
        ResponseScopeError: The request is not handled by a response-scoped route.
        TypeError: `request` is none of the accepted kinds.
    """
    response_scope, scope = _response_scope(request, "request_attempt")
    if not response_scope._can_handle_again:
        return None
    attempt: int = scope.get(ATTEMPT_KEY, 1)
    return attempt


def response_status(request: RequestLike) -> int | None:
    """Return the status of the response the request's response scope exits for.

    Read it in a context that is exiting from the response stack: it is the status code
    that the client is about to receive. It is `None` when the scope exits because of an
    exception, and before the response is ready.

    Example:
        ```python
        from mintaka.core import response_stack, response_status

        @asynccontextmanager
        async def audited(request):
            yield
            if (response_status(request) or 500) < 400:
                await audit_log.write("success")

        await response_stack(request).enter_async_context(audited(request))
        ```

    Args:
        request: The request: a Starlette or FastAPI `Request`, any request object with
            an ASGI `scope` mapping, or the ASGI scope itself.

    Returns:
        The response status code, or `None`.

    Raises:
        ResponseScopeError: The request is not handled by a response-scoped route.
        TypeError: `request` is none of the accepted kinds.
    """
    response_scope, _ = _response_scope(request, "response_status")
    return response_scope.status if response_scope.closed else None


def response_object(request: RequestLike) -> object | None:
    """The response object the route adapter is about to send, while its scope exits.

    `None` behind the ASGI middleware (which sees only the messages), on an exception, and
    before the response is ready. For mintaka's own packages (the idempotency keys store
    the serialized body); not a public name.
    """
    response_scope, _ = _response_scope(request, "response_object")
    return response_scope._response if response_scope.closed else None
