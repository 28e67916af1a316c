"""A sync `Session` from a `sessionmaker`, and SQLModel's: threads, guarantees, real databases.

The session's begin, commit, rollback and close must run in worker threads, never on the
event loop, and its teardown must not need a thread from the default threadpool (which
requests waiting for a connection may all hold).
"""

import threading
import uuid
from collections.abc import Iterator
from typing import Annotated, Any

import anyio
import anyio.from_thread
import anyio.to_thread
import pytest
import sqlmodel
from fastapi import APIRouter, Depends, FastAPI, HTTPException
from sqlalchemy import Engine, event, text
from sqlalchemy.orm import Session, registry, sessionmaker

from mintaka.core.fastapi import ResponseScopedRoute
from mintaka.depends.sqlalchemy import transactional_session
from tests.depends._depends_asgi import START, observe
from tests.depends._depends_db import Database

pytestmark = pytest.mark.anyio


@pytest.fixture
def sync_engine(database: Database) -> Iterator[Engine]:
    engine = database.sync_app_engine()
    yield engine
    engine.dispose()


def threads_of(events: list[tuple[str, int]], loop_thread: int) -> list[tuple[str, str]]:
    """Each event with `"loop"` or `"worker"` for the thread it ran in."""
    return [(name, "loop" if ident == loop_thread else "worker") for name, ident in events]


@pytest.mark.parametrize("outcome", ["commit", "rollback"])
async def test_begin_commit_rollback_and_close_run_in_worker_threads(
    database: Database, sync_engine: Engine, outcome: str
) -> None:
    seen: list[tuple[str, int]] = []

    class ThreadRecordingSession(Session):
        def close(self) -> None:
            seen.append(("close", threading.get_ident()))
            super().close()

    # The transaction object is created on the loop, by session.add(); what blocks is
    # taking a connection and beginning on it.
    @event.listens_for(ThreadRecordingSession, "after_begin")
    def begun(session: Session, transaction: Any, connection: Any) -> None:
        seen.append(("begin", threading.get_ident()))

    @event.listens_for(ThreadRecordingSession, "after_commit")
    def committed(session: Session) -> None:
        seen.append(("commit", threading.get_ident()))

    @event.listens_for(ThreadRecordingSession, "after_soft_rollback")
    def rolled_back(session: Session, previous_transaction: Any) -> None:
        if previous_transaction.parent is None:
            seen.append(("rollback", threading.get_ident()))

    get_session = transactional_session(sessionmaker(sync_engine, class_=ThreadRecordingSession))
    Note = database.note_class
    router = APIRouter(route_class=ResponseScopedRoute)

    @router.post("/notes/{key}", status_code=201)
    async def create(key: str, session: Annotated[Session, Depends(get_session)]) -> None:
        session.add(Note(key))  # no I/O on the loop: the commit flushes, in its thread
        if outcome == "rollback":
            raise HTTPException(status_code=409)

    app = FastAPI()
    app.include_router(router)

    observed = await observe(app, "/notes/a", database.keys)

    loop_thread = threading.get_ident()
    # Rolled back before anything was flushed, the transaction never took a connection.
    began = [("begin", "worker")] if outcome == "commit" else []
    assert threads_of(seen, loop_thread) == [*began, (outcome, "worker"), ("close", "worker")]
    assert (observed.status, observed.at_start) == (
        (201, ["a"]) if outcome == "commit" else (409, [])
    )


async def test_teardown_runs_when_every_default_worker_thread_waits_for_its_connection(
    database: Database,
) -> None:
    # One connection. The first request holds it until its commit; two sync endpoints take
    # both default worker threads and wait for it. A teardown that needed a default worker
    # thread would wait for them, and they for it, until the pool gives up.
    engine = database.sync_app_engine(pool_size=1, max_overflow=0, pool_timeout=10)
    limiter = anyio.to_thread.current_default_thread_limiter()
    tokens = limiter.total_tokens
    limiter.total_tokens = 2
    get_session = transactional_session(sessionmaker(engine))
    Note = database.note_class
    holding, waiting = anyio.Event(), anyio.Event()
    router = APIRouter(route_class=ResponseScopedRoute)

    @router.post("/holder", status_code=201)
    async def holder(session: Annotated[Session, Depends(get_session)]) -> None:
        session.add(Note("holder"))
        await anyio.to_thread.run_sync(session.flush)  # checks the one connection out
        holding.set()
        await waiting.wait()
        await anyio.sleep(0.1)  # both waiters are blocked in the pool now

    @router.post("/waiter/{key}", status_code=201)
    def waiter(key: str, session: Annotated[Session, Depends(get_session)]) -> None:
        if limiter.borrowed_tokens == limiter.total_tokens:
            anyio.from_thread.run_sync(waiting.set)
        session.add(Note(key))
        session.flush()

    app = FastAPI()
    app.include_router(router)
    statuses: dict[str, int] = {}

    async def post(path: str) -> None:
        statuses[path] = (await observe(app, path, database.keys)).status

    try:
        with anyio.fail_after(30):
            async with anyio.create_task_group() as group:
                group.start_soon(post, "/holder")
                await holding.wait()
                group.start_soon(post, "/waiter/a")
                group.start_soon(post, "/waiter/b")
    finally:
        limiter.total_tokens = tokens
        engine.dispose()

    assert statuses == {"/holder": 201, "/waiter/a": 201, "/waiter/b": 201}
    assert await database.keys() == ["a", "b", "holder"]


async def test_sync_endpoints_flush_and_read_back_through_the_sync_session(
    database: Database, sync_engine: Engine
) -> None:
    get_session = transactional_session(sessionmaker(sync_engine))
    Session_ = Annotated[Session, Depends(get_session)]
    notes = database.notes
    router = APIRouter(route_class=ResponseScopedRoute)

    def same_session(session: Session_) -> Session:
        return session

    @router.post("/notes/{key}", status_code=201)
    def create(
        key: str, session: Session_, again: Annotated[Session, Depends(same_session)]
    ) -> dict[str, Any]:
        assert again is session
        session.execute(notes.insert().values(key=key))
        count = session.scalar(text(f"SELECT count(*) FROM {notes.name}"))
        return {"key": key, "count": count}

    app = FastAPI()
    app.include_router(router)
    events: list[str] = []

    observed = await observe(app, "/notes/a", database.keys, events=events)

    assert (observed.status, observed.at_start, events) == (201, ["a"], [START])


async def test_a_refused_sync_commit_leaves_no_transaction_or_lock_behind(
    database: Database, sync_engine: Engine
) -> None:
    get_session = transactional_session(sessionmaker(sync_engine))
    notes = database.notes
    router = APIRouter(route_class=ResponseScopedRoute)

    @router.post("/orphans/{key}", status_code=201)
    def create_orphan(key: str, session: Annotated[Session, Depends(get_session)]) -> str:
        # The foreign key is deferred: only the COMMIT checks it, and refuses it.
        session.execute(notes.insert().values(key=key, parent_id=999))
        return key

    app = FastAPI()
    app.include_router(router)

    observed = await observe(app, "/orphans/a", database.keys)
    with anyio.fail_after(3):
        await database.insert("written-after")

    assert (observed.status, observed.at_start) == (500, [])
    assert await database.keys() == ["written-after"]


@pytest.fixture
def hero_model(sync_engine: Engine) -> Iterator[type[sqlmodel.SQLModel]]:
    """A SQLModel table and registry of its own, so that tests and runs do not collide."""
    table_name = f"mintaka_hero_{uuid.uuid4().hex[:12]}"

    class Base(sqlmodel.SQLModel, registry=registry()):
        pass

    class Hero(Base, table=True):
        __tablename__ = table_name
        id: int | None = sqlmodel.Field(default=None, primary_key=True)
        name: str = sqlmodel.Field(unique=True)

    table: Any = Hero.__table__  # type: ignore[attr-defined]
    table.create(sync_engine)
    yield Hero
    table.drop(sync_engine)


async def test_sqlmodel_sessions_commit_before_the_response_and_refuse_a_false_201(
    database: Database, sync_engine: Engine, hero_model: type[sqlmodel.SQLModel]
) -> None:
    Hero: Any = hero_model
    get_session = transactional_session(sessionmaker(sync_engine, class_=sqlmodel.Session))
    router = APIRouter(route_class=ResponseScopedRoute)

    @router.post("/heroes/{name}", status_code=201)
    def create(name: str, session: Annotated[sqlmodel.Session, Depends(get_session)]) -> Any:
        assert isinstance(session, sqlmodel.Session)
        hero = Hero(name=name)
        session.add(hero)
        session.flush()
        session.refresh(hero)
        return hero

    @router.post("/heroes/{name}/unflushed", status_code=201)
    def create_unflushed(
        name: str, session: Annotated[sqlmodel.Session, Depends(get_session)]
    ) -> None:
        session.add(Hero(name=name))  # a duplicate name fails at commit

    app = FastAPI()
    app.include_router(router)

    def names() -> list[str]:
        with sqlmodel.Session(sync_engine) as reader:
            return sorted(reader.exec(sqlmodel.select(Hero.name)).all())

    async def at_start() -> list[str]:
        return await anyio.to_thread.run_sync(names)

    created = await observe(app, "/heroes/deadpond", at_start)
    duplicate = await observe(app, "/heroes/deadpond/unflushed", at_start)

    assert (created.status, created.at_start) == (201, ["deadpond"])
    assert (duplicate.status, duplicate.at_start) == (500, ["deadpond"])
