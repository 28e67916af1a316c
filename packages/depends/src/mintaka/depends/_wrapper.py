"""`response_scoped_dependency`: a FastAPI dependency whose teardown runs before the response."""

from __future__ import annotations

import functools
import inspect
from typing import TYPE_CHECKING, Any, ParamSpec, TypeVar, overload

from mintaka.core import ResponseScopeError, response_stack
from mintaka.core._callables import callable_name
from mintaka.depends._contexts import context_factory
from mintaka.depends._signature import wrapper_signature

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Callable, Coroutine, Iterator
    from contextlib import AbstractAsyncContextManager, AbstractContextManager

__all__ = ["response_scoped_dependency"]

_P = ParamSpec("_P")
_T = TypeVar("_T")


@overload
def response_scoped_dependency(
    dependency: Callable[_P, AsyncIterator[_T]],
) -> Callable[_P, Coroutine[Any, Any, _T]]: ...
@overload
def response_scoped_dependency(
    dependency: Callable[_P, Iterator[_T]],
) -> Callable[_P, Coroutine[Any, Any, _T]]: ...
@overload
def response_scoped_dependency(
    dependency: Callable[_P, AbstractAsyncContextManager[_T]],
) -> Callable[_P, Coroutine[Any, Any, _T]]: ...
@overload
def response_scoped_dependency(
    dependency: Callable[_P, AbstractContextManager[_T]],
) -> Callable[_P, Coroutine[Any, Any, _T]]: ...
def response_scoped_dependency(dependency: Callable[..., Any]) -> Callable[..., Any]:
    """Make a dependency's teardown run before the response is sent.

    FastAPI tears a `yield` dependency down after the response has been sent (since
    0.118). The dependency returned here is entered on the request's response stack
    instead, so its teardown (a commit, a release, a flush) has finished before the
    client receives anything, and an error in it becomes the response (see the
    guarantees G1 to G4).

    The returned callable is an ordinary `async def` dependency with the same
    parameters, name, qualified name, docstring and module as `dependency`; use it with
    `Depends()` like the original. Sub-dependencies, path/query/header parameters and
    `Annotated[...]` parameters keep working, a parameter annotated `Request` is passed
    through, `app.dependency_overrides[wrapped]` replaces it, and FastAPI's per-request
    cache enters it once per request. It deliberately has no `__wrapped__`, so FastAPI
    treats it as the coroutine function it is.

    The route must open a response scope: use `mintaka.router.Router` or
    `mintaka.core.fastapi.ResponseScopedRoute`.

    Accepted kinds of `dependency`:

    * an async generator function: the code after `yield` is the teardown;
    * a generator function: the code before and after `yield` runs in the threadpool;
    * a callable returning an async context manager (for example
      `async_sessionmaker.begin`, or a class with `__aenter__`/`__aexit__`);
    * a callable returning a context manager: `__enter__` and `__exit__` run in the
      threadpool. The callable itself runs on the event loop, so it should only build
      the context manager.

    If the endpoint, its response validation or serialization raises, the exception is
    thrown into the dependency (a generator sees it at its `yield`); then the error
    response follows.

    Example:
        ```python
        from collections.abc import AsyncIterator
        from typing import Annotated

        from fastapi import Depends, FastAPI
        from mintaka.depends import response_scoped_dependency
        from mintaka.router import Router

        @response_scoped_dependency
        async def audit_log(user: Annotated[str, Depends(current_user)]) -> AsyncIterator[Log]:
            log = await open_log(user)
            try:
                yield log
            finally:
                await log.flush()  # done before the client hears about the request

        router = Router()

        @router.post("/notes")
        async def create_note(log: Annotated[Log, Depends(audit_log)]) -> None: ...
        ```

    Args:
        dependency: The dependency to put on the response stack.

    Returns:
        An `async def` dependency for `Depends()`; awaiting it enters the context on the
        response stack and returns the value it provides.

    Raises:
        TypeError: `dependency` is not callable, is a coroutine function (`async def`
            without `yield`), is a class that is not a context manager, or has a
            parameter annotation that cannot be resolved. When a callable returns
            something that is not a context manager, the request fails with a
            `TypeError` naming the dependency.
    """
    open_context, yields_value = context_factory(dependency)
    shape = wrapper_signature(dependency, yields_value=yields_value)
    request_parameter = shape.request_parameter
    pass_request = shape.request_is_declared
    name = callable_name(dependency)

    async def enter_on_response_stack(**kwargs: Any) -> Any:
        request = kwargs[request_parameter] if pass_request else kwargs.pop(request_parameter)
        try:
            stack = response_stack(request)
        except ResponseScopeError as error:
            raise ResponseScopeError(
                f"Cannot enter the response-scoped dependency {name}: {error}"
            ) from None
        return await stack.enter_async_context(open_context(**kwargs))

    _present_as(enter_on_response_stack, dependency, shape.signature)
    return enter_on_response_stack


def _present_as(wrapper: Any, dependency: Any, signature: inspect.Signature) -> None:
    """Give the wrapper the face of the dependency, except `__wrapped__`.

    FastAPI >= 0.123.5 follows `__wrapped__` when it decides how to call a dependency;
    it must see the wrapper, a coroutine function, not the generator behind it.
    """
    target = dependency.func if isinstance(dependency, functools.partial) else dependency
    wrapper.__name__ = getattr(target, "__name__", type(dependency).__name__)
    wrapper.__qualname__ = getattr(target, "__qualname__", wrapper.__name__)
    wrapper.__doc__ = getattr(target, "__doc__", None)
    wrapper.__module__ = getattr(target, "__module__", None) or wrapper.__module__
    wrapper.__signature__ = signature
    annotations = {
        parameter.name: parameter.annotation
        for parameter in signature.parameters.values()
        if parameter.annotation is not inspect.Parameter.empty
    }
    if signature.return_annotation is not inspect.Signature.empty:
        annotations["return"] = signature.return_annotation
    wrapper.__annotations__ = annotations
    # How tools that must not import mintaka.depends (mintaka-routes --audit, the
    # Router's registration check) recognise a response-scoped dependency and its origin.
    wrapper.__mintaka_response_scoped__ = True
    wrapper.__mintaka_wrapped__ = dependency
