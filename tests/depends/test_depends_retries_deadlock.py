"""A real deadlock (SQLSTATE 40P01) on PostgreSQL, handled again: `retries=n`.

Two requests run at once. One updates row 1 then row 2, the other row 2 then row 1; on
their first attempts each waits, holding its first row, until the other holds its own,
so the second updates close a cycle that PostgreSQL breaks by aborting one of them with
a deadlock. With `retries`, the aborted request is handled again once the other has
committed, and both are answered 2xx with each one's work applied exactly once; with
`retries=0`, the aborted one is answered 503 and none of its work is applied.

PostgreSQL only: SQLite takes one write lock for the whole database, so it cannot
deadlock on rows. The connections use a short `deadlock_timeout`, so that PostgreSQL
looks for the cycle after 50 ms instead of a second.
"""

import logging
import os
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Annotated

import anyio
import pytest
from fastapi import APIRouter, Depends, FastAPI
from sqlalchemy import Column, Integer, MetaData, String, Table, Update, select, update
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from mintaka.core.asgi import ResponseScopeMiddleware
from mintaka.core.fastapi import ResponseScopedRoute
from mintaka.depends.sqlalchemy import transactional_session
from testing.asgi import Exchange, call

pytestmark = [pytest.mark.anyio, pytest.mark.postgres]

POSTGRES_URL_VARIABLE = "MINTAKA_TEST_POSTGRES_URL"
ORDERS = {"forward": (1, 2), "backward": (2, 1)}


@dataclass
class Rows:
    """This test's tables: two counters both requests lock, and one row per applied request."""

    engine: AsyncEngine
    counters: Table
    applied: Table

    async def values(self) -> dict[int, int]:
        async with self.engine.connect() as connection:
            rows = await connection.execute(select(self.counters.c.id, self.counters.c.value))
            return {row.id: row.value for row in rows}

    async def applied_keys(self) -> list[str]:
        async with self.engine.connect() as connection:
            return sorted((await connection.scalars(select(self.applied.c.key))).all())


@pytest.fixture
async def rows() -> AsyncIterator[Rows]:
    url = os.environ.get(POSTGRES_URL_VARIABLE, "")
    if not url:
        pytest.skip(f"{POSTGRES_URL_VARIABLE} is not set; it names the PostgreSQL to use")
    name = f"mintaka_deadlock_{uuid.uuid4().hex[:12]}"
    metadata = MetaData()
    counters = Table(
        f"{name}_counters",
        metadata,
        Column("id", Integer, primary_key=True),
        Column("value", Integer, nullable=False),
    )
    applied = Table(f"{name}_applied", metadata, Column("key", String(40), primary_key=True))
    engine = create_async_engine(url)
    async with engine.begin() as connection:
        await connection.run_sync(metadata.create_all)
        await connection.execute(counters.insert(), [{"id": 1, "value": 0}, {"id": 2, "value": 0}])
    try:
        yield Rows(engine, counters, applied)
    finally:
        async with engine.begin() as connection:
            await connection.run_sync(metadata.drop_all)
        await engine.dispose()


@pytest.fixture
async def app_engine(rows: Rows) -> AsyncIterator[AsyncEngine]:
    """The app's engine, on the database of `rows`; PostgreSQL looks for deadlocks at 50 ms."""
    settings = {"deadlock_timeout": "50ms"}
    engine = create_async_engine(rows.engine.url, connect_args={"server_settings": settings})
    yield engine
    await engine.dispose()


class App:
    """POST /transfer/{order}: add 1 to both counters in `order`, record the request's key.

    On the first attempt of each order, the endpoint waits after its first update until
    the other order's request holds its first row too; later attempts do not wait.
    """

    def __init__(self, rows: Rows, engine: AsyncEngine, *, retries: int, adapter: str) -> None:
        self.calls = dict.fromkeys(ORDERS, 0)
        holding = {order: anyio.Event() for order in ORDERS}
        get_session = transactional_session(async_sessionmaker(engine), retries=retries)
        counters = rows.counters
        behind_middleware = adapter == "middleware"
        router = APIRouter() if behind_middleware else APIRouter(route_class=ResponseScopedRoute)

        def add_one(row: int) -> Update:
            return update(counters).where(counters.c.id == row).values(value=counters.c.value + 1)

        @router.post("/transfer/{order}")
        async def transfer(
            order: str, session: Annotated[AsyncSession, Depends(get_session)]
        ) -> dict[str, int]:
            self.calls[order] += 1
            first, second = ORDERS[order]
            await session.execute(add_one(first))
            if self.calls[order] == 1:
                holding[order].set()
                (other,) = set(ORDERS) - {order}
                with anyio.fail_after(10):  # only if the other request never came
                    await holding[other].wait()
            await session.execute(add_one(second))
            await session.execute(rows.applied.insert().values(key=order))
            return {"attempt": self.calls[order]}

        self.app = FastAPI()
        self.app.include_router(router)
        if behind_middleware:
            self.app.add_middleware(ResponseScopeMiddleware)

    async def both_at_once(self) -> dict[str, Exchange]:
        exchanges: dict[str, Exchange] = {}

        async def post(order: str) -> None:
            exchanges[order] = await call(self.app, f"/transfer/{order}", method="POST")

        async with anyio.create_task_group() as group:
            for order in ORDERS:
                group.start_soon(post, order)
        return exchanges


@pytest.fixture(params=["route", "middleware"])
def adapter(request: pytest.FixtureRequest) -> str:
    """Who handles the request again: `ResponseScopedRoute`, or the ASGI middleware."""
    return str(request.param)


def deadlocks_logged(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if "deadlock (40P01)" in r.getMessage()]


async def test_with_retries_both_deadlocked_requests_succeed_each_applied_once(
    rows: Rows, app_engine: AsyncEngine, adapter: str, caplog: pytest.LogCaptureFixture
) -> None:
    app = App(rows, app_engine, retries=2, adapter=adapter)

    with caplog.at_level(logging.INFO, logger="mintaka.depends"):
        exchanges = await app.both_at_once()

    assert {order: e.status for order, e in exchanges.items()} == {"forward": 200, "backward": 200}
    # One of them was the deadlock's victim and ran again; the other ran once.
    assert sorted(app.calls.values()) == [1, 2]
    (retried,) = deadlocks_logged(caplog)
    assert "on attempt 1; handling the request again in " in retried
    assert await rows.values() == {1: 2, 2: 2}  # each request added 1 to each row, once
    assert await rows.applied_keys() == ["backward", "forward"]


async def test_without_retries_the_deadlock_victim_gets_the_503_and_nothing_of_it_is_applied(
    rows: Rows, app_engine: AsyncEngine, adapter: str, caplog: pytest.LogCaptureFixture
) -> None:
    app = App(rows, app_engine, retries=0, adapter=adapter)

    with caplog.at_level(logging.INFO, logger="mintaka.depends"):
        exchanges = await app.both_at_once()

    assert sorted(e.status for e in exchanges.values()) == [200, 503]
    assert app.calls == {"forward": 1, "backward": 1}
    (gave_up,) = deadlocks_logged(caplog)
    assert "on attempt 1 of 1; answered 503" in gave_up
    (winner,) = [order for order, e in exchanges.items() if e.status == 200]
    assert await rows.values() == {1: 1, 2: 1}
    assert await rows.applied_keys() == [winner]
