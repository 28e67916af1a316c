"""This run's tables on a real database, and a connection of the test's own to check them.

Every use gets uniquely named tables (dropped afterwards) and a unique PostgreSQL
`application_name` for the app's connections, so runs against the same server do not
collide and a test can count exactly its app's backends.
"""

from __future__ import annotations

import os
import uuid
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING

import anyio
from sqlalchemy import func, select, text
from sqlalchemy.pool import NullPool

from tests.integration.service import PARENT_ID, Tables, create_async_engine, tables

if TYPE_CHECKING:
    from collections.abc import Iterator

    from sqlalchemy.ext.asyncio import AsyncEngine

POSTGRES_URL_VARIABLE = "MINTAKA_TEST_POSTGRES_URL"


def postgres_url() -> str | None:
    """The PostgreSQL to test against, or None when `MINTAKA_TEST_POSTGRES_URL` is unset."""
    return os.environ.get(POSTGRES_URL_VARIABLE) or None


@dataclass
class ProofDatabase:
    """One backend with this run's tables, seen through an engine the app does not use."""

    url: str
    prefix: str
    tables: Tables
    observer: AsyncEngine
    application_name: str

    @property
    def dialect(self) -> str:
        """`sqlite` or `postgresql`."""
        return self.observer.dialect.name

    def app_env(self, session: str = "mintaka") -> dict[str, str]:
        """The environment of a server for `tests.integration.service:create_app`."""
        return {
            "MINTAKA_PROOF_DATABASE_URL": self.url,
            "MINTAKA_PROOF_TABLES": self.prefix,
            "MINTAKA_PROOF_SESSION": session,
            "MINTAKA_PROOF_APPLICATION_NAME": self.application_name,
        }

    async def stored(self, run: str) -> dict[str, str]:
        """Every committed item whose key contains `run`: key -> text."""
        items = self.tables.items
        query = select(items.c.key, items.c.text).where(items.c.key.contains(run))
        async with self.observer.connect() as connection:
            rows = await connection.execute(query)
            return {row.key: row.text for row in rows}

    async def insert(self, rows: list[dict[str, object]]) -> None:
        """Commit items outside the app."""
        async with self.observer.begin() as connection:
            await connection.execute(self.tables.items.insert(), rows)

    async def batch_sizes(self, run: str) -> dict[str, int]:
        """How many committed rows each batch whose name contains `run` has."""
        items = self.tables.items
        query = select(items.c.batch, func.count()).where(items.c.batch.contains(run))
        async with self.observer.connect() as connection:
            rows = await connection.execute(query.group_by(items.c.batch))
            return {row[0]: row[1] for row in rows}

    async def idle_in_transaction(self) -> int:
        """The app's PostgreSQL backends left `idle in transaction` (0 on SQLite)."""
        if self.dialect != "postgresql":
            return 0
        query = text(
            "SELECT count(*) FROM pg_stat_activity "
            "WHERE application_name = :name AND state LIKE 'idle in transaction%'"
        )
        async with self.observer.connect() as connection:
            return int(await connection.scalar(query, {"name": self.application_name}) or 0)


@contextmanager
def proof_database(url: str) -> Iterator[ProofDatabase]:
    """Create this run's tables at `url` with the one parent row; drop them afterwards.

    The observer keeps no connection between uses (`NullPool`), so each test's event loop
    can use it.
    """
    prefix = f"mintaka_proof_{uuid.uuid4().hex[:10]}"
    observer = create_async_engine(url, poolclass=NullPool)
    schema = tables(prefix, observer.dialect.name)

    async def create() -> None:
        async with observer.begin() as connection:
            await connection.run_sync(schema.metadata.create_all)
            await connection.execute(schema.parents.insert().values(id=PARENT_ID))

    async def drop() -> None:
        async with observer.begin() as connection:
            await connection.run_sync(schema.metadata.drop_all)
        await observer.dispose()

    anyio.run(create)
    try:
        yield ProofDatabase(url, prefix, schema, observer, application_name=prefix)
    finally:
        anyio.run(drop)
