"""Conflicts handled again: `transactional_session(maker, retries=n)`, at the ASGI `send`.

Each conflict here is a real one, made to happen on the first attempt only: on SQLite, a
connection of the test holds the write lock while the endpoint's commit needs it
("database is locked"); on PostgreSQL, under REPEATABLE READ, the test commits an update
of the row between the endpoint's read and its own update (a serialization failure,
SQLSTATE 40001, at the statement). The endpoint counts its calls, so "handled again" is
what it observed, not what a log says.
"""

import logging
import re
import sqlite3
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Annotated, Any

import anyio
import pytest
from fastapi import APIRouter, Body, Depends, FastAPI
from sqlalchemy import Engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from sqlalchemy.orm import Session, sessionmaker

from mintaka.core.asgi import ResponseScopeMiddleware
from mintaka.core.fastapi import ResponseScopedRoute
from mintaka.depends._conflicts import FIRST_DELAY, LONGEST_DELAY, retry_delay
from mintaka.depends.sqlalchemy import on_commit, transactional_session
from testing.asgi import START, call
from tests.depends._depends_db import Database

pytestmark = pytest.mark.anyio


@pytest.fixture(params=["async", "sync"])
def kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture(params=["route", "middleware"])
def adapter(request: pytest.FixtureRequest) -> str:
    """Who handles the request again: `ResponseScopedRoute`, or the ASGI middleware."""
    return str(request.param)


@pytest.fixture
async def engines(database: Database) -> AsyncIterator[list[AsyncEngine | Engine]]:
    made: list[AsyncEngine | Engine] = []
    yield made
    for engine in made:
        if isinstance(engine, AsyncEngine):
            await engine.dispose()
        else:
            engine.dispose()


def maker_for(
    database: Database, kind: str, engines: list[AsyncEngine | Engine]
) -> async_sessionmaker[AsyncSession] | sessionmaker[Session]:
    """A sessionmaker whose conflicts surface fast: SQLite waits 50 ms for a lock."""
    if database.dialect == "sqlite":
        options: dict[str, Any] = {"connect_args": {"timeout": 0.05}}
    else:
        options = {"isolation_level": "REPEATABLE READ"}
    if kind == "async":
        engine = database.app_engine(**options)
        engines.append(engine)
        return async_sessionmaker(engine)
    sync_engine = database.sync_app_engine(**options)
    engines.append(sync_engine)
    return sessionmaker(sync_engine)


async def run(session: AsyncSession | Session, work: Callable[[Session], Any]) -> Any:
    if isinstance(session, AsyncSession):
        return await session.run_sync(work)
    return await anyio.to_thread.run_sync(work, session)


class SQLiteLock:
    """A connection of the test's own that holds SQLite's write lock while `held`."""

    def __init__(self, database: Database) -> None:
        self._connection = sqlite3.connect(str(make_url(database.url).database))
        self._connection.isolation_level = None
        self.held = False

    def take(self) -> None:
        self._connection.execute("BEGIN IMMEDIATE")
        self.held = True

    def release(self) -> None:
        if self.held:
            self._connection.execute("ROLLBACK")
            self.held = False

    def close(self) -> None:
        self.release()
        self._connection.close()


@pytest.fixture
def lock(database: Database) -> Iterator[SQLiteLock | None]:
    if database.dialect != "sqlite":
        yield None
        return
    held = SQLiteLock(database)
    yield held
    held.close()


class App:
    """POST /notes/{key}: writes a note; its first `conflicts` attempts meet a conflict."""

    def __init__(
        self,
        database: Database,
        maker: Any,
        lock: SQLiteLock | None,
        *,
        retries: int,
        conflicts: int = 1,
        adapter: str = "route",
    ) -> None:
        self.database = database
        self.calls = 0
        self.bodies: list[dict[str, Any]] = []
        self.committed: list[str] = []
        get_session = transactional_session(maker, retries=retries)
        Note = database.note_class
        notes = database.notes.name
        behind_middleware = adapter == "middleware"
        router = APIRouter() if behind_middleware else APIRouter(route_class=ResponseScopedRoute)

        @router.post("/notes/{key}", status_code=201)
        async def create(
            key: str,
            body: Annotated[dict[str, Any], Body()],
            session: Annotated[Any, Depends(get_session)],
        ) -> dict[str, int]:
            self.calls += 1
            self.bodies.append(body)
            conflicted = self.calls <= conflicts
            on_commit(session, self.committed.append, f"{key} on attempt {self.calls}")
            if lock is not None:  # SQLite: the commit will need the lock the test holds
                if conflicted and not lock.held:
                    lock.take()
                if not conflicted:
                    lock.release()
                await run(session, lambda s: s.add(Note(key)))
                return {"attempt": self.calls}
            # PostgreSQL: read, let another transaction change the row, then write it.
            touch = text(f"UPDATE {notes} SET parent_id = NULL WHERE key = 'base'")
            await run(session, lambda s: s.execute(text(f"SELECT * FROM {notes}")).all())
            if conflicted:
                async with database.observer.begin() as outside:
                    await outside.execute(touch)
            await run(session, lambda s: s.execute(touch))
            await run(session, lambda s: s.add(Note(key)))
            return {"attempt": self.calls}

        self.app = FastAPI()
        self.app.include_router(router)
        if behind_middleware:
            self.app.add_middleware(ResponseScopeMiddleware)

    async def post(self, key: str) -> Any:
        await self.database.insert("base")  # the row both transactions update
        return await call(
            self.app,
            f"/notes/{key}",
            method="POST",
            body=b'{"text": "caf\\u00e9"}',
            headers=[(b"content-type", b"application/json")],
        )


async def test_a_conflicting_request_is_handled_again_and_answered_once(
    database: Database,
    kind: str,
    adapter: str,
    engines: list[AsyncEngine | Engine],
    lock: SQLiteLock | None,
    caplog: pytest.LogCaptureFixture,
) -> None:
    app = App(database, maker_for(database, kind, engines), lock, retries=2, adapter=adapter)

    with caplog.at_level(logging.INFO, logger="mintaka.depends"):
        exchange = await app.post("a")

    assert (exchange.status, exchange.body) == (201, b'{"attempt":2}')
    assert exchange.events.count(START) == 1
    assert app.calls == 2  # the endpoint really ran again
    assert app.bodies == [{"text": "café"}, {"text": "café"}]  # the same body, replayed
    assert "a" in await database.keys()
    assert app.committed == ["a on attempt 2"]  # the failed attempt's callback was dropped
    (retry,) = [r for r in caplog.records if r.levelno == logging.INFO]
    message = retry.getMessage()
    waited = re.search(r"on attempt 1; handling the request again in ([0-9.]+) s$", message)
    assert waited is not None, message
    assert FIRST_DELAY / 2 <= float(waited[1]) <= FIRST_DELAY  # the documented bound
    # The abandoned attempt's failure is not this answer's: no partial commit reported.
    assert b"mintaka-partial-commit" not in {name.lower() for name, _ in exchange.headers}
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING] == []


@pytest.mark.parametrize("attempt", range(1, 12))
def test_the_wait_before_each_retry_doubles_up_to_a_bound_and_never_drops_below_half(
    attempt: int,
) -> None:
    bound = min(LONGEST_DELAY, FIRST_DELAY * 2 ** (attempt - 1))
    waits = [retry_delay(attempt) for _ in range(200)]
    assert all(bound / 2 <= wait <= bound for wait in waits)
    assert max(waits) - min(waits) > bound / 10  # jittered, not one fixed wait


@pytest.mark.parametrize("retries", [0, 1])
async def test_when_the_attempts_are_spent_the_client_gets_a_503_that_names_no_sql(
    database: Database,
    kind: str,
    adapter: str,
    engines: list[AsyncEngine | Engine],
    lock: SQLiteLock | None,
    retries: int,
    caplog: pytest.LogCaptureFixture,
) -> None:
    maker = maker_for(database, kind, engines)
    app = App(database, maker, lock, retries=retries, conflicts=99, adapter=adapter)

    with caplog.at_level(logging.WARNING, logger="mintaka.depends"):
        exchange = await app.post("a")

    assert exchange.status == 503
    # FastAPI's handler answers the route's 503; the middleware's default response, its own.
    assert (
        exchange.body
        == {
            "route": b'{"detail":"Service Unavailable"}',
            "middleware": b"Service Unavailable",
        }[adapter]
    )
    assert (b"retry-after", b"1") in exchange.headers
    assert app.calls == retries + 1
    assert "a" not in await database.keys()
    assert app.committed == []
    (gave_up,) = [r for r in caplog.records if r.name == "mintaka.depends"]
    assert gave_up.getMessage().startswith("POST /notes/a (endpoint App.__init__.<locals>.create)")
    assert f"on attempt {retries + 1} of {retries + 1}; answered 503" in gave_up.getMessage()


@pytest.mark.parametrize("retries", [-1, 1.5, True, "3"])
async def test_bad_retries_are_refused_naming_the_fix(
    database: Database, kind: str, engines: list[AsyncEngine | Engine], retries: Any
) -> None:
    with pytest.raises(TypeError, match=r"expects how many more times .* got "):
        transactional_session(maker_for(database, kind, engines), retries=retries)


async def test_a_read_only_session_takes_retries_too(
    database: Database, kind: str, engines: list[AsyncEngine | Engine]
) -> None:
    dependency = transactional_session(
        maker_for(database, kind, engines), read_only=True, retries=3
    )

    assert callable(dependency)
