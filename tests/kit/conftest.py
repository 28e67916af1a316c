"""A notes table on a SQLite file or on PostgreSQL, and a session maker of either kind.

The PostgreSQL runs are marked `postgres` and skip, saying why, when
`MINTAKA_TEST_POSTGRES_URL` is not set.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Generator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import anyio
import pytest
from sqlalchemy import Engine, Table, create_engine, func, select
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
from sqlalchemy.orm import sessionmaker

from tests.kit._kit_app import notes_table

POSTGRES_URL_VARIABLE = "MINTAKA_TEST_POSTGRES_URL"


@dataclass
class Notes:
    """A notes table of its own on one database, and how to reach it."""

    table: Table
    sync_url: str
    async_url: str
    engine: Engine
    """A sync engine of the test's own, outside every transaction of the app."""

    def count(self) -> int:
        """The notes committed for real: what is left once the outer transaction is gone."""
        with self.engine.connect() as connection:
            counted = connection.execute(select(func.count()).select_from(self.table))
            return int(counted.scalar_one())


def _urls(param: str, folder: Path, name: str) -> tuple[str, str]:
    if param == "sqlite":
        path = folder / f"{name}.db"
        return f"sqlite:///{path}", f"sqlite+aiosqlite:///{path}"
    url = os.environ.get(POSTGRES_URL_VARIABLE, "")
    if not url:
        pytest.skip(f"{POSTGRES_URL_VARIABLE} is not set; it names the PostgreSQL to use")
    parsed = make_url(url)
    return (
        parsed.set(drivername="postgresql+psycopg").render_as_string(hide_password=False),
        parsed.set(drivername="postgresql+asyncpg").render_as_string(hide_password=False),
    )


def make_notes(param: str, folder: Path) -> Generator[Notes]:
    name = f"kit_notes_{uuid.uuid4().hex[:10]}"
    sync_url, async_url = _urls(param, folder, name)
    table = notes_table(name)
    engine = create_engine(sync_url)
    table.metadata.create_all(engine)
    try:
        yield Notes(table, sync_url, async_url, engine)
    finally:
        table.metadata.drop_all(engine)
        engine.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def notes(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Notes]:
    """A notes table on a SQLite file, or on PostgreSQL."""
    yield from make_notes(request.param, tmp_path)


@pytest.fixture(params=["async", "sync"])
def kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def make_maker(kind: str) -> Iterator[Any]:
    """Make a sessionmaker of the test's kind on a database's URLs; engines disposed after."""
    engines: list[Engine | AsyncEngine] = []

    def make(notes: Notes) -> Any:
        if kind == "async":
            async_engine = create_async_engine(notes.async_url)
            engines.append(async_engine)
            return async_sessionmaker(async_engine)
        engine = create_engine(notes.sync_url)
        engines.append(engine)
        return sessionmaker(engine)

    yield make
    for engine in engines:
        if isinstance(engine, AsyncEngine):
            anyio.run(engine.dispose)
        else:
            engine.dispose()
