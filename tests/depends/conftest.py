"""The `database` fixture: each test runs on a SQLite file, then on PostgreSQL.

The PostgreSQL run is marked `postgres` and skips, saying why, when
`MINTAKA_TEST_POSTGRES_URL` is not set.
"""

import os
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.depends._depends_db import Database, database_at

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
