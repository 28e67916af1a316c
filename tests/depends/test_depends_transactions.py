"""The transactional session on real databases, observed at the ASGI `send` callable.

At the moment the app sends `http.response.start`, a connection of its own reads the
table: what it sees is what the client may rely on when it reads the status.
"""

from collections.abc import AsyncIterator
from typing import Annotated

import anyio
import pytest
from fastapi import APIRouter, BackgroundTasks, Depends, FastAPI, HTTPException
from fastapi.responses import JSONResponse
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from starlette.types import Message

from mintaka.core.fastapi import ResponseScopedRoute
from mintaka.depends.sqlalchemy import transactional_session
from testing.asgi import http_scope
from tests.depends._depends_asgi import START, Observed, observe
from tests.depends._depends_db import CountingSession, Database

pytestmark = pytest.mark.anyio


@pytest.fixture
async def app_engine(database: Database) -> AsyncIterator[AsyncEngine]:
    engine = database.app_engine()
    yield engine
    await engine.dispose()


def build_app(
    database: Database, engine: AsyncEngine, events: list[str], flushed: anyio.Event | None = None
) -> FastAPI:
    session_class: type[CountingSession] = type(
        "LoggedSession", (CountingSession,), {"events": events}
    )
    sessionmaker = async_sessionmaker(engine, class_=session_class)
    get_session = transactional_session(sessionmaker)
    Session = Annotated[AsyncSession, Depends(get_session)]
    Note = database.note_class

    async def same_session(session: Session) -> AsyncSession:
        return session

    router = APIRouter(route_class=ResponseScopedRoute)

    @router.post("/notes/{key}", status_code=201)
    async def create(
        key: str, session: Session, again: Annotated[AsyncSession, Depends(same_session)]
    ) -> dict[str, str]:
        assert again is session
        session.add(Note(key))
        await session.flush()
        return {"key": key}

    @router.post("/orphans/{key}", status_code=201)
    async def create_orphan(key: str, session: Session) -> dict[str, str]:
        session.add(Note(key, parent_id=999))
        await session.flush()  # the foreign key is deferred: only the commit checks it
        return {"key": key}

    @router.post("/pairs/{key}", status_code=201)
    async def create_pair(key: str, session: Session) -> dict[str, str]:
        session.add_all([Note(f"fresh-{key}"), Note(key)])  # flushed by the commit
        return {"key": key}

    @router.post("/fails/{key}")
    async def fail(key: str, session: Session) -> None:
        session.add(Note(key))
        await session.flush()
        raise ValueError("the endpoint failed after writing")

    @router.post("/refused/{key}")
    async def refuse(key: str, session: Session) -> None:
        session.add(Note(key))
        await session.flush()
        raise HTTPException(status_code=409, detail="refused")

    @router.post("/declined/{key}")
    async def decline(key: str, session: Session) -> JSONResponse:
        session.add(Note(key))
        await session.flush()
        return JSONResponse({"detail": "declined"}, status_code=409)

    @router.post("/discarded/{key}")
    async def discard(key: str, session: Session) -> dict[str, str]:
        session.add(Note(key))
        await session.flush()
        await session.rollback()
        return {"key": key}

    @router.post("/late/{key}", status_code=202)
    async def write_later(key: str, session: Session, tasks: BackgroundTasks) -> dict[str, str]:
        async def late_write() -> None:
            try:
                session.add(Note(key))
                await session.flush()
            except Exception as error:
                events.append(f"late write refused: {type(error).__name__}")
            else:
                events.append("late write accepted")

        tasks.add_task(late_write)
        return {"key": key}

    @router.post("/hangs/{key}")
    async def hang(key: str, session: Session) -> None:
        session.add(Note(key))
        await session.flush()
        assert flushed is not None
        flushed.set()
        await anyio.sleep_forever()

    app = FastAPI()
    app.include_router(router)
    return app


async def post(database: Database, engine: AsyncEngine, path: str) -> Observed:
    """POST to a fresh app; read the table the moment `http.response.start` is sent."""
    events: list[str] = []
    return await observe(build_app(database, engine, events), path, database.keys, events=events)


async def test_the_commit_is_visible_when_the_response_starts(
    database: Database, app_engine: AsyncEngine
) -> None:
    observed = await post(database, app_engine, "/notes/a")

    assert observed.status == 201
    assert observed.at_start == ["a"]
    assert observed.events == ["session close", START]


async def test_a_commit_that_fails_on_a_deferred_constraint_is_never_acknowledged(
    database: Database, app_engine: AsyncEngine
) -> None:
    observed = await post(database, app_engine, "/orphans/a")

    assert observed.status == 500
    assert isinstance(observed.raised, IntegrityError)
    assert observed.at_start == []
    assert observed.events == ["session close", START]
    assert await database.keys() == []


async def test_a_duplicate_found_when_the_commit_flushes_rolls_back_everything(
    database: Database, app_engine: AsyncEngine
) -> None:
    await database.insert("taken")

    observed = await post(database, app_engine, "/pairs/taken")

    assert observed.status == 500
    assert isinstance(observed.raised, IntegrityError)
    assert observed.at_start == ["taken"]
    assert observed.events == ["session close", START]


async def test_an_endpoint_error_rolls_back_what_it_flushed(
    database: Database, app_engine: AsyncEngine
) -> None:
    observed = await post(database, app_engine, "/fails/a")

    assert observed.status == 500
    assert isinstance(observed.raised, ValueError)
    assert observed.at_start == []
    assert observed.events == ["session close", START]


async def test_an_http_exception_rolls_back_too(
    database: Database, app_engine: AsyncEngine
) -> None:
    observed = await post(database, app_engine, "/refused/a")

    assert observed.status == 409
    assert observed.at_start == []
    assert observed.events == ["session close", START]


async def test_a_returned_error_response_rolls_back(
    database: Database, app_engine: AsyncEngine
) -> None:
    observed = await post(database, app_engine, "/declined/a")

    assert observed.status == 409
    assert observed.at_start == []
    assert observed.events == ["session close", START]


async def test_each_request_gets_its_own_session(
    database: Database, app_engine: AsyncEngine
) -> None:
    first = await post(database, app_engine, "/notes/a")
    second = await post(database, app_engine, "/notes/b")

    assert (first.at_start, second.at_start) == (["a"], ["a", "b"])
    assert first.events == second.events == ["session close", START]


async def test_an_explicit_rollback_then_a_returned_response_commits_nothing(
    database: Database, app_engine: AsyncEngine
) -> None:
    observed = await post(database, app_engine, "/discarded/a")

    assert observed.status == 200
    assert observed.at_start == []
    assert observed.events == ["session close", START]


async def test_a_background_task_cannot_write_silently_through_the_closed_session(
    database: Database, app_engine: AsyncEngine
) -> None:
    observed = await post(database, app_engine, "/late/a")

    assert observed.status == 202
    assert observed.events == [
        "session close",
        START,
        "late write refused: InvalidRequestError",
    ]
    assert await database.keys() == []


async def test_a_cancelled_request_rolls_back_and_closes_the_session_once(
    database: Database, app_engine: AsyncEngine
) -> None:
    events: list[str] = []
    flushed = anyio.Event()
    app = build_app(database, app_engine, events, flushed)

    async def receive() -> Message:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: Message) -> None:
        events.append(message["type"])

    async with anyio.create_task_group() as group:
        group.start_soon(app, http_scope("/hangs/a", method="POST"), receive, send)
        await flushed.wait()
        group.cancel_scope.cancel()

    assert events == ["session close"]
    assert await database.keys() == []
