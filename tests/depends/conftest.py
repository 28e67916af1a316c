"""The `database` fixture: each test runs on a SQLite file, then on PostgreSQL.

`make_sessionmaker` runs a test once with `async_sessionmaker` and once with a sync
`sessionmaker` on that database.

The PostgreSQL run is marked `postgres` and skips, saying why, when
`MINTAKA_TEST_POSTGRES_URL` is not set.
"""

import os
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from sqlalchemy.orm import Session, sessionmaker

from tests.depends._depends_db import Database, database_at
from tests.depends._depends_orders import orders  # noqa: F401 - the fixture, for every module

POSTGRES_URL_VARIABLE = "MINTAKA_TEST_POSTGRES_URL"


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def database(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Database]:
    """This test's tables on a SQLite file database, or on PostgreSQL."""
    if request.param == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp_path / 'notes.db'}"
    else:
        url = os.environ.get(POSTGRES_URL_VARIABLE, "")
        if not url:
            pytest.skip(f"{POSTGRES_URL_VARIABLE} is not set; it names the PostgreSQL to use")
    async with database_at(url) as database:
        yield database


SessionFactory = Callable[..., "async_sessionmaker[AsyncSession] | sessionmaker[Session]"]


@pytest.fixture(params=["async", "sync"])
async def make_sessionmaker(
    request: pytest.FixtureRequest, database: Database
) -> AsyncIterator[SessionFactory]:
    """Make sessionmakers for the app under test: `async_sessionmaker`, or sync `sessionmaker`.

    Call it with `sessionmaker` keyword arguments (`class_=...`); every engine it made is
    disposed of after the test.
    """
    async_engines: list[AsyncEngine] = []
    sync_engines: list[Engine] = []

    def make(**options: Any) -> async_sessionmaker[AsyncSession] | sessionmaker[Session]:
        if request.param == "async":
            async_engines.append(database.app_engine())
            return async_sessionmaker(async_engines[-1], **options)
        sync_engines.append(database.sync_app_engine())
        return sessionmaker(sync_engines[-1], **options)

    yield make
    for engine in async_engines:
        await engine.dispose()
    for sync_engine in sync_engines:
        sync_engine.dispose()
