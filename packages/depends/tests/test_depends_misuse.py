"""G7: misuse fails loudly, names what was given and says what to do instead."""

import contextlib
from collections.abc import AsyncIterator, Coroutine
from typing import Annotated, Any

import pytest
from fastapi import APIRouter, Depends, FastAPI

from mintaka.core import ResponseScopeError
from mintaka.core.fastapi import ResponseScopedRoute
from mintaka.depends import response_scoped_dependency
from testing.asgi import call

pytestmark = pytest.mark.anyio

EXPECTED = (
    "response_scoped_dependency() expects an async generator function, a generator "
    "function, or a callable that returns an async context manager or a context manager "
    "(for example async_sessionmaker.begin, or a class with __aenter__/__aexit__); "
)
MODULE = "packages.depends.tests.test_depends_misuse"


def test_something_not_callable_is_refused_at_decoration() -> None:
    with pytest.raises(TypeError) as caught:
        response_scoped_dependency(42)  # type: ignore[call-overload]

    assert str(caught.value) == EXPECTED + "got 42 (int), which is not callable."


def test_a_context_manager_instance_is_refused_at_decoration() -> None:
    lock = contextlib.nullcontext()

    with pytest.raises(TypeError, match=r"got <contextlib\.nullcontext .*> \(nullcontext\)"):
        response_scoped_dependency(lock)  # type: ignore[call-overload]


def test_a_coroutine_function_is_refused_at_decoration() -> None:
    async def fetch_user() -> str:
        return "ada"

    with pytest.raises(TypeError) as caught:
        response_scoped_dependency(fetch_user)  # type: ignore[arg-type]

    assert str(caught.value) == EXPECTED + (
        f"got the coroutine function {MODULE}.test_a_coroutine_function_is_refused_at_"
        "decoration.<locals>.fetch_user (an async def without yield), which has nothing to "
        "tear down. Put a `yield` where the value is handed out and the teardown after it, "
        "or use it as a plain dependency with Depends()."
    )


def test_a_class_that_is_no_context_manager_is_refused_at_decoration() -> None:
    class Settings:
        pass

    with pytest.raises(TypeError) as caught:
        response_scoped_dependency(Settings)  # type: ignore[arg-type]

    assert str(caught.value) == EXPECTED + (
        f"got the class {MODULE}.test_a_class_that_is_no_context_manager_is_refused_at_"
        "decoration.<locals>.Settings, which is not a context manager: it has neither "
        "__aenter__/__aexit__ nor __enter__/__exit__."
    )


def app_using(dependency: Any) -> FastAPI:
    router = APIRouter(route_class=ResponseScopedRoute)

    @router.get("/use")
    async def use(value: Annotated[Any, Depends(dependency)]) -> str:
        return "unreachable"

    app = FastAPI()
    app.include_router(router)
    return app


async def test_a_factory_returning_no_context_manager_fails_the_request_naming_it() -> None:
    def make_client() -> str:
        return "not a context manager"

    exchange = await call(
        app_using(response_scoped_dependency(make_client)),  # type: ignore[arg-type]
        "/use",
        raises=TypeError,
    )

    assert exchange.status == 500
    assert str(exchange.raised) == (
        f"The response-scoped dependency {MODULE}.test_a_factory_returning_no_context_"
        "manager_fails_the_request_naming_it.<locals>.make_client returned 'not a context "
        "manager' (str), which is not a context manager. It must return an async context "
        "manager (__aenter__/__aexit__) or a context manager (__enter__/__exit__); or make "
        "it an async generator function that yields the value."
    )


async def test_a_factory_returning_a_coroutine_fails_without_an_unawaited_warning() -> None:
    async def connect() -> str:
        return "connection"

    def make_connection() -> Coroutine[Any, Any, str]:
        return connect()

    exchange = await call(
        app_using(response_scoped_dependency(make_connection)),  # type: ignore[arg-type]
        "/use",
        raises=TypeError,
    )

    # An unawaited coroutine would warn when collected; warnings are errors here.
    assert exchange.status == 500
    assert "returned <coroutine object" in str(exchange.raised)


async def test_a_route_without_the_stack_fails_with_the_fix_and_never_enters() -> None:
    events: list[str] = []

    @response_scoped_dependency
    async def session() -> AsyncIterator[str]:
        events.append("entered")
        yield "session"
        events.append("closed")

    app = FastAPI()

    @app.get("/plain")
    async def plain(value: Annotated[str, Depends(session)]) -> str:
        events.append("endpoint")
        return value

    exchange = await call(app, "/plain", events=events, raises=ResponseScopeError)

    assert exchange.status == 500
    message = str(exchange.raised)
    assert message.startswith(
        f"Cannot enter the response-scoped dependency {MODULE}.test_a_route_without_the_"
        "stack_fails_with_the_fix_and_never_enters.<locals>.session: response_stack() "
        "needs a response scope, but the route of GET /plain"
    )
    assert "ResponseScopedRoute" in message
    assert "mintaka.router.Router" in message
    assert events == ["response.start", "response.body"]
