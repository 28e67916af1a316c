"""Every accepted kind of dependency closes before the response, and sees the errors.

Order is observed at the ASGI `send` callable: the dependencies append to the same event
log as the harness's `send`.
"""

import contextlib
import functools
import threading
from collections.abc import AsyncIterator, Callable, Iterator
from types import TracebackType
from typing import Annotated, Any

import pytest
from fastapi import APIRouter, Depends, FastAPI, HTTPException

from mintaka.core.fastapi import ResponseScopedRoute
from mintaka.depends import response_scoped_dependency
from testing.asgi import BODY, START, call

pytestmark = pytest.mark.anyio


def _log_exit(events: list[str], error: BaseException | None) -> None:
    events.append("exit" if error is None else f"exit {type(error).__name__}")


def async_generator_function(events: list[str]) -> Callable[..., Any]:
    async def provide() -> AsyncIterator[str]:
        events.append("enter")
        try:
            yield "value"
        except BaseException as error:
            _log_exit(events, error)
            raise
        _log_exit(events, None)

    return provide


def generator_function(events: list[str]) -> Callable[..., Any]:
    def provide() -> Iterator[str]:
        events.append("enter")
        try:
            yield "value"
        except BaseException as error:
            _log_exit(events, error)
            raise
        _log_exit(events, None)

    return provide


def function_returning_async_context_manager(events: list[str]) -> Callable[..., Any]:
    return contextlib.asynccontextmanager(async_generator_function(events))


def function_returning_context_manager(events: list[str]) -> Callable[..., Any]:
    return contextlib.contextmanager(generator_function(events))


def async_context_manager_class(events: list[str]) -> Callable[..., Any]:
    class Provide:
        async def __aenter__(self) -> str:
            events.append("enter")
            return "value"

        async def __aexit__(
            self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: Any
        ) -> None:
            _log_exit(events, exc)

    return Provide


def context_manager_class(events: list[str]) -> Callable[..., Any]:
    class Provide:
        def __enter__(self) -> str:
            events.append("enter")
            return "value"

        def __exit__(
            self,
            exc_type: type[BaseException] | None,
            exc: BaseException | None,
            tb: TracebackType | None,
        ) -> None:
            _log_exit(events, exc)

    return Provide


def callable_object_with_async_generator(events: list[str]) -> Callable[..., Any]:
    class Provider:
        async def __call__(self) -> AsyncIterator[str]:
            async with function_returning_async_context_manager(events)() as value:
                yield value

    return Provider()


def partial_of_async_generator_function(events: list[str]) -> Callable[..., Any]:
    async def provide(prefix: str) -> AsyncIterator[str]:
        async with function_returning_async_context_manager(events)() as value:
            yield prefix + value

    return functools.partial(provide, "")


def bound_method_returning_async_context_manager(events: list[str]) -> Callable[..., Any]:
    class Pool:
        def acquire(self) -> Any:
            return function_returning_async_context_manager(events)()

    return Pool().acquire


KINDS = pytest.mark.parametrize(
    "make",
    [
        async_generator_function,
        generator_function,
        function_returning_async_context_manager,
        function_returning_context_manager,
        async_context_manager_class,
        context_manager_class,
        callable_object_with_async_generator,
        partial_of_async_generator_function,
        bound_method_returning_async_context_manager,
    ],
)


def build_app(events: list[str], make: Callable[[list[str]], Callable[..., Any]]) -> FastAPI:
    dependency = response_scoped_dependency(make(events))
    router = APIRouter(route_class=ResponseScopedRoute)

    @router.get("/value")
    async def read(value: Annotated[str, Depends(dependency)]) -> str:
        events.append(f"endpoint {value}")
        return value

    @router.get("/conflict")
    async def conflict(value: Annotated[str, Depends(dependency)]) -> str:
        raise HTTPException(status_code=409, detail=value)

    @router.get("/crash")
    async def crash(value: Annotated[str, Depends(dependency)]) -> str:
        raise LookupError(value)

    app = FastAPI()
    app.include_router(router)
    return app


@KINDS
async def test_teardown_finishes_before_the_response_starts(
    make: Callable[[list[str]], Callable[..., Any]],
) -> None:
    events: list[str] = []
    exchange = await call(build_app(events, make), "/value", events=events)

    assert exchange.status == 200
    assert exchange.json() == "value"
    assert events == ["enter", "endpoint value", "exit", START, BODY]


@KINDS
async def test_http_exception_reaches_the_dependency_before_the_error_response(
    make: Callable[[list[str]], Callable[..., Any]],
) -> None:
    events: list[str] = []
    exchange = await call(build_app(events, make), "/conflict", events=events)

    assert exchange.status == 409
    assert exchange.json() == {"detail": "value"}
    assert events == ["enter", "exit HTTPException", START, BODY]


@KINDS
async def test_endpoint_error_reaches_the_dependency_before_the_500(
    make: Callable[[list[str]], Callable[..., Any]],
) -> None:
    events: list[str] = []
    exchange = await call(build_app(events, make), "/crash", events=events, raises=LookupError)

    assert exchange.status == 500
    assert isinstance(exchange.raised, LookupError)
    assert events == ["enter", "exit LookupError", START, BODY]


async def test_two_dependencies_exit_in_reverse_order_before_the_response() -> None:
    events: list[str] = []

    def logged(name: str) -> Callable[..., Any]:
        async def provide() -> AsyncIterator[str]:
            events.append(f"{name} enter")
            yield name
            events.append(f"{name} exit")

        return response_scoped_dependency(provide)

    outer = logged("outer")
    inner = logged("inner")
    router = APIRouter(route_class=ResponseScopedRoute)

    @router.get("/both")
    async def both(
        first: Annotated[str, Depends(outer)], second: Annotated[str, Depends(inner)]
    ) -> str:
        return first + second

    app = FastAPI()
    app.include_router(router)
    exchange = await call(app, "/both", events=events)

    assert exchange.json() == "outerinner"
    assert events == ["outer enter", "inner enter", "inner exit", "outer exit", START, BODY]


async def test_blocking_parts_of_a_generator_run_off_the_event_loop_thread() -> None:
    threads: dict[str, int] = {}

    @response_scoped_dependency
    def blocking() -> Iterator[str]:
        threads["before yield"] = threading.get_ident()
        yield "value"
        threads["after yield"] = threading.get_ident()

    @response_scoped_dependency
    class BlockingContext:
        def __enter__(self) -> str:
            threads["__enter__"] = threading.get_ident()
            return "value"

        def __exit__(self, *exc_info: object) -> None:
            threads["__exit__"] = threading.get_ident()

    router = APIRouter(route_class=ResponseScopedRoute)

    @router.get("/blocking")
    async def read(
        first: Annotated[str, Depends(blocking)], second: Annotated[str, Depends(BlockingContext)]
    ) -> str:
        threads["endpoint"] = threading.get_ident()
        return first + second

    app = FastAPI()
    app.include_router(router)
    exchange = await call(app, "/blocking")

    assert exchange.status == 200
    loop_thread = threads.pop("endpoint")
    assert loop_thread == threading.get_ident()
    assert set(threads) == {"before yield", "after yield", "__enter__", "__exit__"}
    assert loop_thread not in threads.values()


async def test_an_http_exception_from_the_teardown_replaces_the_response() -> None:
    events: list[str] = []

    @response_scoped_dependency
    async def version_checked() -> AsyncIterator[str]:
        yield "draft"
        events.append("conflict found at commit")
        raise HTTPException(status_code=409, detail="changed meanwhile")

    router = APIRouter(route_class=ResponseScopedRoute)

    @router.put("/draft")
    async def save(value: Annotated[str, Depends(version_checked)]) -> str:
        return value

    app = FastAPI()
    app.include_router(router)
    exchange = await call(app, "/draft", method="PUT", events=events)

    assert exchange.status == 409
    assert exchange.json() == {"detail": "changed meanwhile"}
    assert events == ["conflict found at commit", START, BODY]
