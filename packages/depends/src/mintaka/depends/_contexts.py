"""Turn each accepted kind of dependency into a factory of async context managers.

The kind is decided once, when the dependency is decorated, so that a request pays only
for calling the factory. Blocking code of a sync dependency (the code around a
generator's `yield`, a sync context manager's `__enter__`/`__exit__`) runs in the
threadpool, as FastAPI runs it.
"""

from __future__ import annotations

import contextlib
import inspect
from typing import TYPE_CHECKING, Any, TypeAlias, TypeVar, cast

import anyio
import anyio.to_thread
from starlette.concurrency import run_in_threadpool

from mintaka.core._callables import callable_name

if TYPE_CHECKING:
    from collections.abc import Callable
    from contextlib import AbstractAsyncContextManager, AbstractContextManager
    from types import TracebackType

__all__ = ["ContextFactory", "context_factory", "run_in_own_thread"]

ContextFactory: TypeAlias = "Callable[..., AbstractAsyncContextManager[Any]]"

_EXPECTED = (
    "response_scoped_dependency() expects an async generator function, a generator "
    "function, or a callable that returns an async context manager or a context manager "
    "(for example async_sessionmaker.begin, or a class with __aenter__/__aexit__)"
)


_R = TypeVar("_R")


async def run_in_own_thread(function: Callable[..., _R], *args: Any) -> _R:
    """Run blocking teardown in a worker thread that does not wait for the threadpool.

    A limiter of its own: when every default worker thread is taken by requests that wait
    for a resource only this teardown releases (a pooled connection, a lock), the teardown
    must still run.
    """
    return await anyio.to_thread.run_sync(function, *args, limiter=anyio.CapacityLimiter(1))


class ContextInThreadpool:
    """Run a sync context manager's `__enter__` and `__exit__` in worker threads."""

    __slots__ = ("_context",)

    def __init__(self, context: AbstractContextManager[Any]) -> None:
        self._context = context

    async def __aenter__(self) -> Any:
        return await run_in_threadpool(self._context.__enter__)

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> bool | None:
        return await run_in_own_thread(self._context.__exit__, exc_type, exc, traceback)


class _Checked:
    """Adapt whatever a context-manager factory returned, or say why it cannot be used."""

    __slots__ = ("_dependency",)

    def __init__(self, dependency: Callable[..., Any]) -> None:
        self._dependency = dependency

    def __call__(self, **kwargs: Any) -> AbstractAsyncContextManager[Any]:
        context = self._dependency(**kwargs)
        if hasattr(context, "__aenter__") and hasattr(context, "__aexit__"):
            return context  # type: ignore[no-any-return]
        if hasattr(context, "__enter__") and hasattr(context, "__exit__"):
            return ContextInThreadpool(context)
        if inspect.iscoroutine(context):
            context.close()  # never awaited on purpose; do not warn about it
        raise TypeError(
            f"The response-scoped dependency {callable_name(self._dependency)} returned "
            f"{context!r} ({type(context).__qualname__}), which is not a context manager. "
            "It must return an async context manager (__aenter__/__aexit__) or a context "
            "manager (__enter__/__exit__); or make it an async generator function that "
            "yields the value."
        )


def _is_async_context_class(cls: type) -> bool:
    return hasattr(cls, "__aenter__") and hasattr(cls, "__aexit__")


def _is_context_class(cls: type) -> bool:
    return hasattr(cls, "__enter__") and hasattr(cls, "__exit__")


def _declares(dependency: Any, predicate: Callable[[Any], bool]) -> bool:
    """Whether the function, or the `__call__` of a callable object, satisfies `predicate`."""
    return predicate(dependency) or predicate(getattr(dependency, "__call__", None))  # noqa: B004


def context_factory(dependency: Any) -> tuple[ContextFactory, bool]:
    """Return a factory of async context managers for `dependency`.

    Args:
        dependency: What was passed to `response_scoped_dependency`.

    Returns:
        The factory, called with the dependency's keyword arguments, and whether the
        dependency is a generator function (its return annotation names an iterator).

    Raises:
        TypeError: `dependency` is not one of the accepted kinds.
    """
    if not callable(dependency):
        raise TypeError(
            f"{_EXPECTED}; got {dependency!r} ({type(dependency).__qualname__}), which is "
            "not callable."
        )
    if inspect.isclass(dependency):
        if _is_async_context_class(dependency):
            return cast("ContextFactory", dependency), False
        if _is_context_class(dependency):
            sync_class = cast("Callable[..., AbstractContextManager[Any]]", dependency)
            return lambda **kwargs: ContextInThreadpool(sync_class(**kwargs)), False
        raise TypeError(
            f"{_EXPECTED}; got the class {callable_name(dependency)}, which is not a context "
            "manager: it has neither __aenter__/__aexit__ nor __enter__/__exit__."
        )
    if _declares(dependency, inspect.isasyncgenfunction):
        return contextlib.asynccontextmanager(dependency), True
    if _declares(dependency, inspect.isgeneratorfunction):
        sync_factory = contextlib.contextmanager(dependency)
        return lambda **kwargs: ContextInThreadpool(sync_factory(**kwargs)), True
    if _declares(dependency, inspect.iscoroutinefunction):
        raise TypeError(
            f"{_EXPECTED}; got the coroutine function {callable_name(dependency)} (an async def "
            "without yield), which has nothing to tear down. Put a `yield` where the value "
            "is handed out and the teardown after it, or use it as a plain dependency "
            "with Depends()."
        )
    return _Checked(dependency), False
