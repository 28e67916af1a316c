"""A proof's own tables on PostgreSQL, for the proofs that need PostgreSQL alone.

The test is skipped, saying why, when `MINTAKA_TEST_POSTGRES_URL` is not set.
"""

from __future__ import annotations

from contextlib import contextmanager
from typing import TYPE_CHECKING

import anyio
import pytest
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from tests.integration._database import POSTGRES_URL_VARIABLE, postgres_url

if TYPE_CHECKING:
    from collections.abc import Iterator

    from sqlalchemy import MetaData
    from sqlalchemy.ext.asyncio import AsyncEngine

PROOF_MARKS = [pytest.mark.integration, pytest.mark.server, pytest.mark.postgres, pytest.mark.anyio]
"""The `pytestmark` of such a proof: it serves with uvicorn and needs PostgreSQL."""


@contextmanager
def postgres_tables(metadata: MetaData) -> Iterator[tuple[str, AsyncEngine]]:
    """`metadata`'s tables created on PostgreSQL, dropped afterwards.

    Yields the URL and an engine the app does not use, to observe the tables. It keeps no
    connection between uses (`NullPool`), so each test's event loop can use it.
    """
    url = postgres_url()
    if not url:
        pytest.skip(f"{POSTGRES_URL_VARIABLE} is not set; the proof needs PostgreSQL")
    observer = create_async_engine(url, poolclass=NullPool)

    async def run(statement: str) -> None:
        async with observer.begin() as connection:
            await connection.run_sync(getattr(metadata, statement))

    anyio.run(run, "create_all")
    try:
        yield url, observer
    finally:
        anyio.run(run, "drop_all")
        anyio.run(observer.dispose)
