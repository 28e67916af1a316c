"""Real databases for the transactional-session tests: tables of their own per test.

Test modules import it by its dotted name (`tests.depends._depends_db`); the fixture that
uses it lives in this folder's `conftest.py`. Every test gets uniquely named tables that
are dropped afterwards, so runs against the same PostgreSQL server do not collide.
"""

from __future__ import annotations

import uuid
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    Column,
    Engine,
    ForeignKey,
    Integer,
    MetaData,
    String,
    Table,
    create_engine,
    event,
    text,
)
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, create_async_engine
from sqlalchemy.orm import registry

if TYPE_CHECKING:
    from collections.abc import AsyncIterator


class Note:
    """A mapped row: `key` is the primary key, `parent_id` a deferred foreign key."""

    def __init__(self, key: str, parent_id: int | None = None) -> None:
        self.key = key
        self.parent_id = parent_id


class CountingSession(AsyncSession):
    """An `AsyncSession` that logs every `close()` to the `events` list of its subclass."""

    events: list[str]

    async def close(self) -> None:
        self.events.append("session close")
        await super().close()


@dataclass
class Database:
    """One backend with this test's tables, and an engine the app does not use."""

    url: str
    notes: Table
    note_class: type[Note]
    observer: AsyncEngine

    @property
    def dialect(self) -> str:
        """`"sqlite"` or `"postgresql"`."""
        return make_url(self.url).get_backend_name()

    def app_engine(self, **options: Any) -> AsyncEngine:
        """A new engine for the app under test; SQLite enforces foreign keys on it."""
        engine = create_async_engine(self.url, **options)
        if engine.dialect.name == "sqlite":
            event.listen(engine.sync_engine, "connect", _enforce_foreign_keys)
        return engine

    def sync_app_engine(self, **options: Any) -> Engine:
        """A new sync engine on the same database: pysqlite, or psycopg for PostgreSQL."""
        driver = "sqlite" if self.dialect == "sqlite" else "postgresql+psycopg"
        engine = create_engine(make_url(self.url).set(drivername=driver), **options)
        if engine.dialect.name == "sqlite":
            event.listen(engine, "connect", _enforce_foreign_keys)
        return engine

    async def keys(self) -> list[str]:
        """The committed note keys, read through a connection of its own."""
        async with self.observer.connect() as connection:
            rows = await connection.execute(text(f"SELECT key FROM {self.notes.name}"))
            return sorted(row[0] for row in rows)

    async def insert(self, key: str) -> None:
        """Commit a note outside the app."""
        async with self.observer.begin() as connection:
            await connection.execute(self.notes.insert().values(key=key))


def _enforce_foreign_keys(connection: Any, _record: Any) -> None:
    cursor = connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


@asynccontextmanager
async def database_at(url: str) -> AsyncIterator[Database]:
    """Create this test's tables at `url`, and drop them when the test is done."""
    name = f"mintaka_depends_{uuid.uuid4().hex[:12]}"
    metadata = MetaData()
    parents = Table(f"{name}_parent", metadata, Column("id", Integer, primary_key=True))
    deferred = ForeignKey(parents.c.id, deferrable=True, initially="DEFERRED")
    notes = Table(
        name,
        metadata,
        Column("key", String(40), primary_key=True),
        Column("parent_id", Integer, deferred, nullable=True),
    )
    note_class = type("Note", (Note,), {})
    registry().map_imperatively(note_class, notes)
    observer = create_async_engine(url)
    async with observer.begin() as connection:
        await connection.run_sync(metadata.create_all)
    try:
        yield Database(url=url, notes=notes, note_class=note_class, observer=observer)
    finally:
        async with observer.begin() as connection:
            await connection.run_sync(metadata.drop_all)
        await observer.dispose()
