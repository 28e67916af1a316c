"""G5: response-scoped teardown against the rest of FastAPI, observed at `send`.

The response scope closes before FastAPI's own yield-dependency teardown (except on
FastAPI 0.106 to 0.117, where FastAPI closes its dependencies inside the route handler,
earlier still), before background tasks, and before a streamed body starts. Whatever runs
after it cannot reach the closed scope.
"""

from collections.abc import AsyncIterator, Callable

import pytest

pytest.importorskip("fastapi", reason="the FastAPI adapter needs FastAPI")

from fastapi import APIRouter, BackgroundTasks, Depends, FastAPI, Request
from fastapi.responses import StreamingResponse

from mintaka.core import ResponseScopeError, response_stack
from mintaka.core.fastapi import ResponseScopedRoute
from testing.asgi import BODY, START, call, fastapi_version, recorded

pytestmark = pytest.mark.anyio

CLOSED = (
    "The response scope of GET {path} (endpoint {endpoint}) has already closed: its "
    "response is being sent or was sent. A streamed body, a background task or anything "
    "else that runs after the response must not use a response-scoped resource; give it "
    "a resource of its own."
)


def build_app(events: list[str]) -> FastAPI:
    """Routes that mix a response-scoped context with FastAPI's own teardown points."""

    async def fastapi_dependency() -> AsyncIterator[None]:
        events.append("fastapi dependency enter")
        yield
        events.append("fastapi dependency exit")

    async def scoped(request: Request) -> None:
        await response_stack(request).enter_async_context(recorded(events, "scoped"))

    router = APIRouter(route_class=ResponseScopedRoute)

    @router.get("/dependency", dependencies=[Depends(fastapi_dependency), Depends(scoped)])
    async def dependency(tasks: BackgroundTasks) -> str:
        events.append("endpoint")
        tasks.add_task(events.append, "background")
        return "ok"

    @router.get("/background", dependencies=[Depends(scoped)])
    async def background(request: Request, tasks: BackgroundTasks) -> str:
        async def task() -> None:
            events.append("background")
            try:
                response_stack(request)
            except ResponseScopeError as error:
                events.append(str(error))

        tasks.add_task(task)
        return "ok"

    @router.get("/stream", dependencies=[Depends(scoped)])
    async def stream(request: Request) -> StreamingResponse:
        async def chunks() -> AsyncIterator[bytes]:
            events.append("stream starts")
            try:
                response_stack(request)
            except ResponseScopeError as error:
                events.append(str(error))
            yield b"one"
            yield b"two"

        return StreamingResponse(chunks())

    app = FastAPI()
    app.include_router(router)
    return app


async def test_response_scope_closes_before_fastapis_yield_dependencies() -> None:
    events: list[str] = []
    exchange = await call(build_app(events), "/dependency", events=events)

    assert exchange.status == 200
    if fastapi_version() >= (0, 118):
        assert events == [
            "fastapi dependency enter",
            "scoped enter",
            "endpoint",
            "scoped exit",
            START,
            BODY,
            "background",
            "fastapi dependency exit",
        ]
    else:
        # The measured exception of G5: FastAPI 0.106 to 0.117 closes its yield
        # dependencies inside the route handler, so they close first; both still close
        # before the response is sent.
        assert events == [
            "fastapi dependency enter",
            "scoped enter",
            "endpoint",
            "fastapi dependency exit",
            "scoped exit",
            START,
            BODY,
            "background",
        ]


async def test_response_scope_closes_before_background_tasks_run() -> None:
    events: list[str] = []
    exchange = await call(build_app(events), "/background", events=events)

    assert exchange.status == 200
    assert events == [
        "scoped enter",
        "scoped exit",
        START,
        BODY,
        "background",
        CLOSED.format(path="/background", endpoint="build_app.<locals>.background"),
    ]


async def test_response_scope_closes_before_a_streamed_body_starts() -> None:
    events: list[str] = []
    exchange = await call(build_app(events), "/stream", events=events)

    assert exchange.status == 200
    assert exchange.body == b"onetwo"
    assert events[:4] == ["scoped enter", "scoped exit", START, "stream starts"]
    assert events[4] == CLOSED.format(path="/stream", endpoint="build_app.<locals>.stream")
    assert events[5:] == [BODY, BODY, BODY]


@pytest.mark.skipif(
    fastapi_version() < (0, 121), reason="Depends(scope=...) arrived in FastAPI 0.121"
)
async def test_response_scope_closes_before_function_and_request_scoped_dependencies() -> None:
    events: list[str] = []

    def teardown(name: str) -> Callable[[], AsyncIterator[None]]:
        async def dependency() -> AsyncIterator[None]:
            async with recorded(events, name):
                yield

        return dependency

    async def scoped(request: Request) -> None:
        await response_stack(request).enter_async_context(recorded(events, "scoped"))

    router = APIRouter(route_class=ResponseScopedRoute)

    # Parameters rather than route `dependencies=[...]`: FastAPI 0.121.0 drops the scope of
    # parameterless dependencies and closes them with the request.
    @router.get("/scopes")
    async def scopes(
        tasks: BackgroundTasks,
        _request: None = Depends(teardown("request"), scope="request"),
        _function: None = Depends(teardown("function"), scope="function"),
        _scoped: None = Depends(scoped),
    ) -> str:
        events.append("endpoint")
        tasks.add_task(events.append, "background")
        return "ok"

    app = FastAPI()
    app.include_router(router)
    exchange = await call(app, "/scopes", events=events)

    assert exchange.status == 200
    assert events == [
        "request enter",
        "function enter",
        "scoped enter",
        "endpoint",
        "scoped exit",
        "function exit",
        START,
        BODY,
        "background",
        "request exit",
    ]
