"""The response scope: an async exit stack that closes before the response is sent.

This module is the framework-neutral primitive. An adapter (the FastAPI route class, the
Starlette route) wraps the code that turns a request into a response object in
[`ResponseScope`][mintaka.core.ResponseScope]; everything entered on the stack during that
code is exited when the block ends, that is before the response is handed to the server.
"""

from __future__ import annotations

from contextlib import AsyncExitStack
from typing import TYPE_CHECKING, Any, Final, TypeVar

import anyio

from mintaka.core._errors import ResponseScopeError

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable, MutableMapping
    from types import TracebackType

    from starlette.requests import HTTPConnection

__all__ = ["SCOPE_KEY", "ResponseScope", "call_in_response_scope", "response_stack"]

_R = TypeVar("_R", bound="HTTPConnection")
_T = TypeVar("_T")

SCOPE_KEY: Final = "mintaka.response_scope"
"""The ASGI scope key under which the open [`ResponseScope`][mintaka.core.ResponseScope] is kept."""

_NO_SCOPE_FIX: Final = (
    "To fix it, make the route a mintaka.core.fastapi.ResponseScopedRoute "
    "(APIRouter(route_class=ResponseScopedRoute), or app.router.route_class = "
    "ResponseScopedRoute before the routes are added) or use a mintaka.router.Router; "
    "with plain Starlette, use mintaka.core.starlette.ResponseScopedRoute or wrap the "
    "endpoint in @response_scoped."
)

_CLOSED_FIX: Final = (
    "A streamed body, a background task or anything else that runs after the response "
    "must not use a response-scoped resource; give it a resource of its own."
)


def _describe(scope: MutableMapping[str, Any]) -> str:
    """Name the request for an error message: method, path and endpoint when known."""
    method = scope.get("method", scope.get("type", "?"))
    description = f"{method} {scope.get('path', '?')}"
    endpoint = scope.get("endpoint")
    name = getattr(endpoint, "__qualname__", None)
    if name is not None:
        description += f" (endpoint {name})"
    return description


class ResponseScope:
    """Open the response-scoped exit stack for one request.

    Use it as an async context manager around the code that produces the response
    object. The stack itself is created only when somebody asks for it through
    [`response_stack`][mintaka.core.response_stack], so a request that never uses it
    costs one small object.

    When the block ends the stack is exited exactly once, shielded from cancellation:

    * normally: every context exits in LIFO order;
    * with an exception: the exception is thrown into the contexts (a generator sees it at
      its `yield`) and then propagates unchanged, even if a context swallowed it, because
      there would be no response to send. As with any `AsyncExitStack`, a context that
      swallows it hides it from the contexts entered before it, so contexts should not.

    An exception raised while exiting propagates from the block, so the adapter's normal
    error handling turns it into the response instead of the original one.

    If a response scope is already open on the same ASGI scope, the inner block does
    nothing and the outer one owns the stack.

    Example:
        An adapter for a framework whose handlers map a request to a response:

        ```python
        from mintaka.core import ResponseScope

        async def handle(request):
            async with ResponseScope(request.scope):
                response = await endpoint(request)
            return response  # every response-scoped context has exited here
        ```

    Args:
        scope: The ASGI connection scope of the request.
    """

    __slots__ = ("_closed", "_owner", "_scope", "_stack")

    def __init__(self, scope: MutableMapping[str, Any]) -> None:
        self._scope: MutableMapping[str, Any] | None = scope
        self._stack: AsyncExitStack | None = None
        self._closed = False
        self._owner = True

    @classmethod
    def _entered(cls) -> ResponseScope:
        """A scope for a request whose route opened it: it holds no reference to the request."""
        response_scope = cls.__new__(cls)
        response_scope._scope = None
        response_scope._stack = None
        response_scope._closed = False
        response_scope._owner = True
        return response_scope

    @property
    def closed(self) -> bool:
        """Whether the scope has been exited; no context can be entered on it any more."""
        return self._closed

    @property
    def stack(self) -> AsyncExitStack:
        """The exit stack of this response scope, created on first use.

        Raises:
            ResponseScopeError: The scope has already been exited.
        """
        if self._closed:
            raise ResponseScopeError(f"This response scope has already closed. {_CLOSED_FIX}")
        if self._stack is None:
            self._stack = AsyncExitStack()
        return self._stack

    async def __aenter__(self) -> ResponseScope:
        scope = self._scope
        if scope is None:
            raise RuntimeError("a ResponseScope can be entered only once")
        # The ASGI scope will point at this object; holding on to the scope as well would
        # make a cycle that keeps every request alive until the garbage collector runs.
        self._scope = None
        current = _open_scope_in(scope)
        if current is not None:
            self._owner = False
            return current
        scope[SCOPE_KEY] = self
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if self._owner and not self._closed:
            await self._close(exc)

    async def _close(self, exc: BaseException | None) -> None:
        """Exit the stack once, shielded from cancellation, throwing ``exc`` into it."""
        self._closed = True
        stack = self._stack
        if stack is None:
            return
        with anyio.CancelScope(shield=True):
            if exc is None:
                await stack.__aexit__(None, None, None)
            else:
                await stack.__aexit__(type(exc), exc, exc.__traceback__)


class _Marker:
    """A state of the response scope that needs no object of its own."""

    __slots__ = ("_state",)

    def __init__(self, state: str) -> None:
        self._state = state

    def __repr__(self) -> str:
        return f"<response scope {self._state}>"


# What the adapters keep under SCOPE_KEY while nobody has asked for the stack, and after
# the scope closed: a request that never uses the stack allocates nothing.
_OPEN: Final = _Marker("open, stack not created yet")
_CLOSED: Final = _Marker("closed")


def _open_scope_in(scope: MutableMapping[str, Any]) -> ResponseScope | None:
    """The response scope open on ``scope``, created from the open marker if need be."""
    current = scope.get(SCOPE_KEY)
    if current is _OPEN:
        current = scope[SCOPE_KEY] = ResponseScope._entered()
        return current
    if isinstance(current, ResponseScope) and not current.closed:
        return current
    return None


async def call_in_response_scope(handler: Callable[[_R], Awaitable[_T]], request: _R) -> _T:
    """Await ``handler(request)`` inside a response scope: what the adapters call per request.

    The same as `async with ResponseScope(request.scope): return await handler(request)`,
    made cheap for the common case: until somebody asks for the stack, the scope is a
    marker in the ASGI scope, so a request that never uses it allocates nothing.

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
        What ``handler`` returned, after every response-scoped context has exited.
    """
    scope = request.scope
    current = scope.get(SCOPE_KEY)
    if current is not None and (
        current is _OPEN or (isinstance(current, ResponseScope) and not current.closed)
    ):
        return await handler(request)
    scope[SCOPE_KEY] = _OPEN
    try:
        result = await handler(request)
    except BaseException as exc:
        await _close(scope, exc)
        raise
    if scope[SCOPE_KEY] is _OPEN:
        scope[SCOPE_KEY] = _CLOSED
    else:
        await _close(scope, None)
    return result


async def _close(scope: MutableMapping[str, Any], exc: BaseException | None) -> None:
    """Close the response scope that ``call_in_response_scope`` opened on ``scope``."""
    current = scope.get(SCOPE_KEY)
    scope[SCOPE_KEY] = _CLOSED
    if isinstance(current, ResponseScope):
        await current._close(exc)


def response_stack(request: HTTPConnection) -> AsyncExitStack:
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
        request: The request (any Starlette `HTTPConnection`) being handled.

    Returns:
        The stack; it is created on first use and is the same object for the whole request.

    Raises:
        ResponseScopeError: The request is not handled by a response-scoped route, or its
            response scope has already closed (for example inside a background task).
    """
    scope = request.scope
    response_scope = _open_scope_in(scope)
    if response_scope is not None:
        return response_scope.stack
    current = scope.get(SCOPE_KEY)
    if current is _CLOSED or isinstance(current, ResponseScope):
        raise ResponseScopeError(
            f"The response scope of {_describe(scope)} has already closed: its "
            f"response is being sent or was sent. {_CLOSED_FIX}"
        )
    raise ResponseScopeError(
        f"response_stack() needs a response scope, but the route of "
        f"{_describe(scope)} does not open one. {_NO_SCOPE_FIX}"
    )
