"""G4: the response scope is exited exactly once per request, shielded from cancellation."""

import asyncio
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import anyio
import anyio.lowlevel
import pytest

pytest.importorskip("fastapi", reason="the FastAPI adapter needs FastAPI")

from fastapi import APIRouter, FastAPI, Request

from mintaka.core import response_stack
from mintaka.core.fastapi import ResponseScopedRoute
from testing.asgi import call

pytestmark = pytest.mark.anyio

CONCURRENT_REQUESTS = 500


@asynccontextmanager
async def rolls_back(events: list[str]) -> AsyncIterator[None]:
    """A transaction whose rollback awaits several times, as a database driver does."""
    events.append("begin")
    try:
        yield
    except BaseException as error:
        events.append(f"rollback after {type(error).__name__}")
        for _ in range(3):
            await anyio.lowlevel.checkpoint()
        events.append("rollback done")
        raise
    events.append("commit")


def waiting_app(events: list[str], started: anyio.Event) -> FastAPI:
    """An app whose endpoint opens a transaction and then waits until it is cancelled."""
    router = APIRouter(route_class=ResponseScopedRoute)

    @router.get("/wait")
    async def wait(request: Request) -> str:
        await response_stack(request).enter_async_context(rolls_back(events))
        started.set()
        await anyio.sleep_forever()
        return "unreachable"

    app = FastAPI()
    app.include_router(router)
    return app


async def test_every_request_exits_its_scope_exactly_once_under_concurrency() -> None:
    entered: Counter[str] = Counter()
    exited: Counter[str] = Counter()
    open_now = 0
    most_open = 0

    @asynccontextmanager
    async def counted(request_id: str) -> AsyncIterator[None]:
        nonlocal open_now, most_open
        entered[request_id] += 1
        open_now += 1
        most_open = max(most_open, open_now)
        try:
            yield
        finally:
            await anyio.lowlevel.checkpoint()
            open_now -= 1
            exited[request_id] += 1

    router = APIRouter(route_class=ResponseScopedRoute)

    @router.get("/items/{item_id}")
    async def read_item(item_id: str, request: Request) -> dict[str, str]:
        await response_stack(request).enter_async_context(counted(item_id))
        await anyio.lowlevel.checkpoint()
        return {"id": item_id}

    app = FastAPI()
    app.include_router(router)
    ids = [str(number) for number in range(CONCURRENT_REQUESTS)]

    exchanges = await asyncio.gather(*(call(app, f"/items/{i}") for i in ids))

    assert [(e.status, e.json()) for e in exchanges] == [(200, {"id": i}) for i in ids]
    assert entered == exited == Counter(dict.fromkeys(ids, 1))
    assert most_open > 1, "the requests did not overlap, so the test proved nothing"


async def test_cancelled_request_rolls_back_once_and_sends_nothing() -> None:
    events: list[str] = []
    started = anyio.Event()
    app = waiting_app(events, started)

    request = asyncio.ensure_future(call(app, "/wait", events=events))
    await started.wait()
    request.cancel()
    with pytest.raises(asyncio.CancelledError):
        await request

    assert events == ["begin", "rollback after CancelledError", "rollback done"]


async def test_exit_is_shielded_from_a_cancel_scope_that_keeps_cancelling() -> None:
    # An anyio cancel scope (a task group, a timeout, Starlette's disconnect watcher)
    # cancels again at every await until its work is done; only a shielded exit finishes.
    events: list[str] = []
    started = anyio.Event()
    app = waiting_app(events, started)

    async with anyio.create_task_group() as group:
        group.start_soon(lambda: call(app, "/wait", events=events))
        await started.wait()
        group.cancel_scope.cancel()

    assert events == ["begin", "rollback after CancelledError", "rollback done"]
