"""One database and one server per backend, shared by the suite's tests.

`database` is this session's tables on a SQLite file, then on PostgreSQL; the PostgreSQL
half is marked `postgres` and skips, saying why, when `MINTAKA_TEST_POSTGRES_URL` is not
set (`.ci/run` sets it). `server` is uvicorn serving the test app on that database in a
process of its own. Tests tell their rows apart by a run id of their own in every key.
Starting a server takes a second or two, so tests share it where they can.
"""

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.integration._database import (
    POSTGRES_URL_VARIABLE,
    ProofDatabase,
    postgres_url,
    proof_database,
)
from tests.integration._server import Server, serve

APP = "tests.integration.service:create_app"


@pytest.fixture(
    scope="session", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def database(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ProofDatabase]:
    """The suite's tables on a SQLite file database, or on PostgreSQL."""
    if request.param == "sqlite":
        folder: Path = tmp_path_factory.mktemp("proof")
        url = f"sqlite+aiosqlite:///{folder / 'proof.db'}"
    else:
        url = postgres_url() or ""
        if not url:
            pytest.skip(f"{POSTGRES_URL_VARIABLE} is not set; it names the PostgreSQL to use")
    with proof_database(url) as database:
        yield database


@pytest.fixture(scope="session")
def server(database: ProofDatabase) -> Iterator[Server]:
    """uvicorn serving the test app (mintaka's session) on `database`, in its own process."""
    with serve(APP, database.app_env()) as server:
        yield server
