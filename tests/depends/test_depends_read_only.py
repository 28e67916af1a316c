"""Read-only sessions: never committed, and a write fails loudly at its statement.

On PostgreSQL the transaction is started `READ ONLY`; on SQLite the connection runs with
`PRAGMA query_only = ON` until it goes back to the pool. One pooled connection per engine
proves that the next request gets a writable connection again.
"""

from collections.abc import AsyncIterator
from typing import Annotated, Any

import anyio.to_thread
import pytest
from fastapi import APIRouter, Depends, FastAPI
from sqlalchemy import Engine, TextClause, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from sqlalchemy.orm import Session, sessionmaker

from mintaka.core.fastapi import ResponseScopedRoute
from mintaka.depends.sqlalchemy import transactional_session
from tests.depends._depends_asgi import observe
from tests.depends._depends_db import Database

pytestmark = pytest.mark.anyio


@pytest.fixture(params=["async", "sync"])
async def engine(request: pytest.FixtureRequest, database: Database) -> AsyncIterator[Any]:
    """An engine of the kind asked for, with one pooled connection and no overflow."""
    if request.param == "async":
        async_engine = database.app_engine(pool_size=1, max_overflow=0)
        yield async_engine
        await async_engine.dispose()
    else:
        sync_engine = database.sync_app_engine(pool_size=1, max_overflow=0)
        yield sync_engine
        sync_engine.dispose()


def first_value(result: Any) -> Any:
    """The first value of a result with rows (a `CursorResult`), `None` without rows."""
    return result.scalar() if result.returns_rows else None


async def execute(session: AsyncSession | Session, statement: TextClause) -> Any:
    """Run `statement` and return its first value, if any, without blocking the loop."""
    if isinstance(session, AsyncSession):
        return first_value(await session.execute(statement))
    return await anyio.to_thread.run_sync(lambda: first_value(session.execute(statement)))


def build_app(database: Database, engine: AsyncEngine | Engine, refused: list[str]) -> FastAPI:
    maker: Any = (
        async_sessionmaker(engine) if isinstance(engine, AsyncEngine) else sessionmaker(engine)
    )
    Reader = Annotated[Any, Depends(transactional_session(maker, read_only=True))]
    Writer = Annotated[Any, Depends(transactional_session(maker))]
    read_only_flag = text(
        "SHOW transaction_read_only" if database.dialect == "postgresql" else "PRAGMA query_only"
    )
    insert = text(f"INSERT INTO {database.notes.name} (key) VALUES (:key)")
    router = APIRouter(route_class=ResponseScopedRoute)

    @router.get("/flag/read-only")
    async def flag_read_only(session: Reader) -> str:
        return str(await execute(session, read_only_flag))

    @router.get("/flag/writable")
    async def flag_writable(session: Writer) -> str:
        return str(await execute(session, read_only_flag))

    @router.post("/read-only/{key}", status_code=201)
    async def write_read_only(key: str, session: Reader) -> None:
        try:
            await execute(session, insert.bindparams(key=key))
        except DBAPIError as error:
            refused.append(str(error.orig))
            raise

    @router.post("/writable/{key}", status_code=201)
    async def write(key: str, session: Writer) -> None:
        await execute(session, insert.bindparams(key=key))

    app = FastAPI()
    app.include_router(router)
    return app


async def read_flag(app: FastAPI, path: str) -> str:
    body: list[bytes] = []

    async def nothing() -> None:
        return None

    observed = await observe(app, path, nothing, method="GET", body=body)
    assert observed.status == 200
    return b"".join(body).decode()


async def test_the_database_refuses_writes_in_a_read_only_session_only(
    database: Database, engine: AsyncEngine | Engine
) -> None:
    app = build_app(database, engine, [])

    flags = [
        await read_flag(app, "/flag/read-only"),
        await read_flag(app, "/flag/writable"),  # the same pooled connection, writable again
    ]

    assert flags == (['"on"', '"off"'] if database.dialect == "postgresql" else ['"1"', '"0"'])


async def test_every_read_only_session_on_one_engine_is_read_only_and_the_next_writable(
    database: Database, engine: AsyncEngine | Engine
) -> None:
    app = build_app(database, engine, [])

    # One pooled connection: each request gets the one the previous request gave back.
    flags = [
        await read_flag(app, path)
        for path in ["/flag/read-only", "/flag/writable"] * 2 + ["/flag/read-only"] * 2
    ]

    on, off = ('"on"', '"off"') if database.dialect == "postgresql" else ('"1"', '"0"')
    assert flags == [on, off, on, off, on, on]
    assert await read_flag(app, "/flag/writable") == off


async def test_a_write_fails_loudly_at_its_statement_and_nothing_is_stored(
    database: Database, engine: AsyncEngine | Engine
) -> None:
    refused: list[str] = []
    app = build_app(database, engine, refused)

    observed = await observe(app, "/read-only/a", database.keys)
    after = await observe(app, "/writable/b", database.keys)

    assert (observed.status, observed.at_start) == (500, [])
    assert isinstance(observed.raised, DBAPIError)
    expected = {
        "postgresql": "cannot execute INSERT in a read-only transaction",
        "sqlite": "attempt to write a readonly database",
    }
    assert refused == [expected[database.dialect]]
    assert (after.status, after.at_start) == (201, ["b"])
