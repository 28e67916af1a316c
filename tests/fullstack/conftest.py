"""Fixtures of the full-stack suite: every test runs on both apps, on SQLite and PostgreSQL.

`app` is built by `examples.fullstack.app.create_app` twice over: `plain` is the app as
the template writes it, `mintaka` the same app after the documented adoption. The tests
do not know which one they talk to. Each database is this test's own: a SQLite file, or
a PostgreSQL schema of its own (marked `postgres`; it skips, saying why, when
`MINTAKA_TEST_POSTGRES_URL` is not set).
"""

import os
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from sqlalchemy import Engine, event, text
from sqlalchemy.engine import make_url
from sqlmodel import Session, create_engine

from examples.fullstack.app import create_app, create_tables
from tests.fullstack._fullstack_utils import TestClient, client_of

POSTGRES_URL_VARIABLE = "MINTAKA_TEST_POSTGRES_URL"


def _enforce_foreign_keys(connection: Any, _record: Any) -> None:
    cursor = connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def sqlite_engine(path: Path) -> Engine:
    """A file database; TestClient runs sync endpoints in worker threads."""
    engine = create_engine(f"sqlite:///{path}", connect_args={"check_same_thread": False})
    event.listen(engine, "connect", _enforce_foreign_keys)
    return engine


def postgres_engine(url: str, schema: str) -> Engine:
    """An engine whose tables live in `schema`, through psycopg whatever driver `url` names."""
    engine = create_engine(make_url(url).set(drivername="postgresql+psycopg"))
    with engine.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    return engine.execution_options(schema_translate_map={None: schema})


def drop_schema(engine: Engine, schema: str) -> None:
    with engine.begin() as connection:
        connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """This test's database, with the app's tables and nothing in them."""
    if request.param == "sqlite":
        engine = sqlite_engine(tmp_path / "fullstack.db")
        create_tables(engine)
        yield engine
        engine.dispose()
        return
    url = os.environ.get(POSTGRES_URL_VARIABLE, "")
    if not url:
        pytest.skip(f"{POSTGRES_URL_VARIABLE} is not set; it names the PostgreSQL to use")
    schema = f"mintaka_fullstack_{uuid.uuid4().hex[:12]}"
    engine = postgres_engine(url, schema)
    try:
        create_tables(engine)
        yield engine
    finally:
        drop_schema(engine, schema)
        engine.dispose()


@pytest.fixture(params=[False, True], ids=["plain", "mintaka"])
def app(request: pytest.FixtureRequest, engine: Engine) -> FastAPI:
    """The app, as the template has it (`plain`) or after adopting mintaka (`mintaka`)."""
    return create_app(engine, mintaka=request.param)


@pytest.fixture
def client(app: FastAPI) -> TestClient:
    return client_of(app)


@pytest.fixture
def db(engine: Engine) -> Callable[[], Session]:
    """Open a session of the test's own, to look at what the app stored."""
    return lambda: Session(engine)
