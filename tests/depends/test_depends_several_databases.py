"""Two session dependencies on one route: each commits before the response, in LIFO order.

The app's database is the `database` fixture (a SQLite file, or PostgreSQL); the audit
database is another SQLite file. Both are read the moment `http.response.start` is sent.
"""

import logging
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Annotated, Any

import fastapi
import pytest
from fastapi import APIRouter, Depends, FastAPI
from sqlalchemy import event
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import Session

from mintaka.core.fastapi import ResponseScopedRoute
from mintaka.depends import response_scoped_dependency
from mintaka.depends.sqlalchemy import transactional_session
from tests.depends._depends_asgi import Observed, observe
from tests.depends._depends_db import Database, database_at

pytestmark = pytest.mark.anyio


@pytest.fixture
async def audit(tmp_path: Path) -> AsyncIterator[Database]:
    async with database_at(f"sqlite+aiosqlite:///{tmp_path / 'audit.db'}") as database:
        yield database


def recording_sessions(name: str, events: list[str]) -> type[Session]:
    """A `Session` class that logs when a session opens and when it commits."""

    class Recording(Session):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            events.append(f"{name} open")
            super().__init__(*args, **kwargs)

    event.listen(Recording, "after_commit", lambda _: events.append(f"{name} commit"))
    return Recording


class TwoDatabases:
    """An app whose routes write to the app's database and to the audit database."""

    def __init__(self, database: Database, audit: Database) -> None:
        self.database, self.audit = database, audit
        self.events: list[str] = []
        self.engines = [database.app_engine(), audit.app_engine()]
        app_sessions, audit_sessions = (
            async_sessionmaker(engine, sync_session_class=recording_sessions(name, self.events))
            for engine, name in zip(self.engines, ["app", "audit"], strict=True)
        )
        AppSession = Annotated[AsyncSession, Depends(transactional_session(app_sessions))]
        AuditSession = Annotated[AsyncSession, Depends(transactional_session(audit_sessions))]
        Note, Entry = database.note_class, audit.note_class
        router = APIRouter(route_class=ResponseScopedRoute)

        def both(app: AppSession, audit: AuditSession) -> tuple[AsyncSession, AsyncSession]:
            return app, audit

        # FastAPI enters `app` first, then `audit`: `audit` commits first.
        @router.post("/notes/{key}", status_code=201)
        async def create(
            key: str,
            app: AppSession,
            audit: AuditSession,
            again: Annotated[tuple[AsyncSession, AsyncSession], Depends(both)],
        ) -> None:
            assert again == (app, audit)  # the same two sessions, not two more
            app.add(Note(key, parent_id=999 if key == "orphan" else None))
            audit.add(Entry(key, parent_id=999 if key == "orphan-entry" else None))

        self.app = FastAPI()
        self.app.include_router(router)

    async def keys(self) -> tuple[list[str], list[str]]:
        return await self.database.keys(), await self.audit.keys()

    async def post(self, path: str) -> Observed:
        return await observe(self.app, path, self.keys, events=self.events)

    async def dispose(self) -> None:
        for engine in self.engines:
            await engine.dispose()


@pytest.fixture
async def two(database: Database, audit: Database) -> AsyncIterator[TwoDatabases]:
    app = TwoDatabases(database, audit)
    yield app
    await app.dispose()


async def test_both_commit_before_the_response_the_one_entered_last_first(
    two: TwoDatabases,
) -> None:
    observed = await two.post("/notes/a")

    assert (observed.status, observed.at_start) == (201, (["a"], ["a"]))
    assert observed.events == [
        "app open",
        "audit open",
        "audit commit",
        "app commit",
        "response.start",
    ]


async def test_a_later_commit_that_fails_is_an_error_and_the_earlier_commit_stands(
    two: TwoDatabases, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="mintaka.depends"):
        observed = await two.post("/notes/orphan")  # the app's foreign key fails at commit

    # The log names the request whose response reports a failure although part is durable.
    (record,) = caplog.records
    assert "but 1 commit(s) of this request are durable" in record.getMessage()
    assert observed.status == 500
    assert isinstance(observed.raised, IntegrityError)
    assert observed.at_start == ([], ["orphan"])  # no distributed transaction
    assert observed.events == ["app open", "audit open", "audit commit", "response.start"]


async def test_an_earlier_commit_that_fails_rolls_the_later_one_back(
    two: TwoDatabases, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="mintaka.depends"):
        observed = await two.post("/notes/orphan-entry")  # the audit's foreign key fails

    assert caplog.records == []  # nothing is durable: all or nothing after all
    assert observed.status == 500
    assert isinstance(observed.raised, IntegrityError)
    assert observed.at_start == ([], [])
    assert observed.events == ["app open", "audit open", "response.start"]


def fastapi_has_dependency_scopes() -> bool:
    major, minor = (int(part) for part in fastapi.__version__.split(".")[:2])
    return (major, minor) >= (0, 121)


@pytest.mark.skipif(
    not fastapi_has_dependency_scopes(), reason="Depends(scope=...) arrived in FastAPI 0.121"
)
async def test_fastapi_opens_two_sessions_when_scopes_mix_where_mintaka_opens_one() -> None:
    opened: list[str] = []

    async def get_db() -> AsyncIterator[object]:
        opened.append("fastapi")
        yield object()

    async def get_session() -> AsyncIterator[object]:
        opened.append("mintaka")
        yield object()

    mintaka_session = response_scoped_dependency(get_session)
    router = APIRouter(route_class=ResponseScopedRoute)

    def repository(db: Annotated[object, Depends(get_db)]) -> object:
        return db

    def mintaka_repository(db: Annotated[object, Depends(mintaka_session)]) -> object:
        return db

    @router.post("/fastapi")
    async def with_fastapi(
        db: Annotated[object, Depends(get_db, scope="function")],  # type: ignore[call-arg,unused-ignore]
        repo: Annotated[object, Depends(repository)],
    ) -> bool:
        return db is repo

    @router.post("/mintaka")
    async def with_mintaka(
        db: Annotated[object, Depends(mintaka_session)],
        repo: Annotated[object, Depends(mintaka_repository)],
    ) -> bool:
        return db is repo

    app = FastAPI()
    app.include_router(router)

    async def nothing() -> None:
        return None

    await observe(app, "/fastapi", nothing)
    await observe(app, "/mintaka", nothing)

    assert opened == ["fastapi", "fastapi", "mintaka"]
