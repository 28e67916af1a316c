"""`on_commit` callbacks, observed at the ASGI `send` callable on real databases.

The callbacks and the harness write to one log, so the order of "the transaction
committed", "the callback ran", "the response started" and "the last body message was
sent" is what the log shows. Every test runs with an async and a sync session, on SQLite
and (in CI) PostgreSQL.
"""

import logging
import threading
from typing import TYPE_CHECKING, Annotated, Any

import anyio
import pytest
from fastapi import APIRouter, BackgroundTasks, Depends, FastAPI, HTTPException
from fastapi.responses import JSONResponse
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from mintaka.core import ResponseScopeError
from mintaka.core.fastapi import ResponseScopedRoute
from mintaka.depends.sqlalchemy import on_commit, transactional_session
from packages.core.tests._spans import exporter
from testing.asgi import BODY, START, call, http_scope

if TYPE_CHECKING:
    from collections.abc import Callable, MutableMapping

    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    from tests.depends._depends_db import Database
    from tests.depends.conftest import SessionFactory

__all__ = ["exporter"]  # the fixture

pytestmark = pytest.mark.anyio

LOCALS = "tests.depends.test_depends_on_commit.App.__init__.<locals>"


async def run(session: "AsyncSession | Session", work: "Callable[[Session], Any]") -> Any:
    """Run `work` on the session's sync API: in a greenlet for async, a thread for sync."""
    if isinstance(session, AsyncSession):
        return await session.run_sync(work)
    return await anyio.to_thread.run_sync(work, session)


class App:
    """An app whose routes register callbacks that write to `log`."""

    def __init__(  # noqa: PLR0915 - one route per rule, side by side
        self, database: "Database", make_sessionmaker: "SessionFactory", **options: Any
    ) -> None:
        self.database = database
        self.log: list[str] = []
        self.loop_thread = threading.get_ident()
        get_session = transactional_session(make_sessionmaker(), **options)
        AnySession = Annotated[Any, Depends(get_session)]
        Note = database.note_class
        log = self.log
        router = APIRouter(route_class=ResponseScopedRoute)

        async def seen_by_async(name: str) -> None:
            log.append(f"{name} async {await database.keys()}")

        def seen_by_sync(name: str) -> None:
            thread = "loop" if threading.get_ident() == self.loop_thread else "worker"
            log.append(f"{name} sync in {thread}")

        def write(session: Session, key: str, **columns: Any) -> None:
            session.add(Note(key, **columns))
            session.flush()

        @router.post("/notes/{key}", status_code=201)
        async def create(key: str, session: AnySession) -> None:
            await run(session, lambda s: write(s, key))
            on_commit(session, seen_by_async, "first")
            on_commit(session, seen_by_sync, name="second")
            on_commit(session, seen_by_async, "early", when="before_response")

        @router.post("/fails/{key}")
        async def fails(key: str, session: AnySession) -> None:
            await run(session, lambda s: write(s, key))
            on_commit(session, seen_by_async, "never")
            on_commit(session, seen_by_async, "never", when="before_response")
            raise ValueError("the endpoint failed")

        @router.post("/refused/{key}")
        async def refused(key: str, session: AnySession) -> None:
            await run(session, lambda s: write(s, key))
            on_commit(session, seen_by_async, "never")
            raise HTTPException(status_code=409)

        @router.post("/declined/{key}")
        async def declined(key: str, session: AnySession) -> JSONResponse:
            await run(session, lambda s: write(s, key))
            on_commit(session, seen_by_async, "never")
            return JSONResponse({"detail": "declined"}, status_code=409)

        @router.post("/orphans/{key}", status_code=201)
        async def orphan(key: str, session: AnySession) -> None:
            await run(session, lambda s: write(s, key, parent_id=999))  # deferred FK
            on_commit(session, seen_by_async, "never")

        @router.post("/savepoints/{key}", status_code=201)
        async def savepoints(key: str, session: AnySession) -> None:
            def work(s: Session) -> None:
                write(s, key)
                with s.begin_nested() as discarded:
                    write(s, f"{key}-discarded")
                    on_commit(s, seen_by_sync, "dropped with its savepoint")
                    discarded.rollback()
                with s.begin_nested():
                    write(s, f"{key}-kept")
                    on_commit(s, seen_by_sync, "kept with its savepoint")

            await run(session, work)

        @router.post("/outside-savepoint/{key}", status_code=201)
        async def outside_savepoint(key: str, session: AnySession) -> None:
            def work(s: Session) -> None:
                write(s, key)
                on_commit(s, seen_by_sync, "registered outside the savepoint")
                with s.begin_nested() as discarded:
                    write(s, f"{key}-discarded")
                    discarded.rollback()

            await run(session, work)

        @router.post("/commits-twice/{key}", status_code=201)
        async def commits_twice(key: str, session: AnySession) -> None:
            await run(session, lambda s: write(s, key))
            on_commit(session, seen_by_async, "once")
            await run(session, lambda s: s.commit())
            await run(session, lambda s: write(s, f"{key}-more"))
            await run(session, lambda s: s.commit())  # nothing waits on this one

        @router.post("/raising/{key}", status_code=201)
        async def raising(key: str, session: AnySession) -> None:
            await run(session, lambda s: write(s, key))

            def broken() -> None:
                raise RuntimeError("the mail server is down")

            on_commit(session, broken)
            on_commit(session, seen_by_async, "after the broken one")

        @router.post("/committed-then-fails/{key}")
        async def committed_then_fails(key: str, session: AnySession) -> None:
            await run(session, lambda s: write(s, key))
            on_commit(session, seen_by_async, "explicitly committed")
            await run(session, lambda s: s.commit())
            await run(session, lambda s: write(s, f"{key}-more"))
            on_commit(session, seen_by_async, "never")
            raise ValueError("failed after the commit")

        @router.post("/registered-first/{key}", status_code=201)
        async def registered_first(key: str, session: AnySession) -> None:
            on_commit(session, seen_by_async, "registered before any work")
            await run(session, lambda s: write(s, key))

        @router.get("/reads")
        async def reads(session: AnySession) -> None:
            on_commit(session, seen_by_async, "read-only")

        @router.get("/reads-and-commits")
        async def reads_and_commits(session: AnySession) -> None:
            on_commit(session, seen_by_async, "read-only")
            await run(session, lambda s: s.connection())
            await run(session, lambda s: s.commit())
            await run(session, lambda s: s.connection())  # a new transaction, read-only too

        @router.post("/late/{key}", status_code=202)
        async def late(key: str, session: AnySession, tasks: BackgroundTasks) -> None:
            def register_late() -> None:
                try:
                    on_commit(session, seen_by_sync, "late")
                except ResponseScopeError as error:
                    log.append(f"refused: {error}")

            tasks.add_task(register_late)

        self.app = FastAPI()
        self.app.include_router(router)

    async def post(self, path: str, *, method: str = "POST") -> int:
        exchange = await call(
            self.app, path, method=method, events=self.log, raises=(ValueError, IntegrityError)
        )
        return exchange.status


async def test_callbacks_run_in_order_after_the_last_body_message_and_early_ones_before(
    database: "Database", make_sessionmaker: "SessionFactory"
) -> None:
    app = App(database, make_sessionmaker)

    status = await app.post("/notes/a")

    assert status == 201
    assert app.log == [
        "early async ['a']",  # after the commit, before the response
        START,
        BODY,
        "first async ['a']",
        "second sync in worker",  # a plain function never runs on the event loop
    ]


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/fails/a", 500),
        ("/refused/a", 409),
        ("/declined/a", 409),
        ("/orphans/a", 500),  # the database refused the commit
    ],
)
async def test_a_transaction_that_does_not_commit_runs_no_callback(
    database: "Database", make_sessionmaker: "SessionFactory", path: str, status: int
) -> None:
    app = App(database, make_sessionmaker)

    assert await app.post(path) == status
    assert app.log == [START, BODY]
    assert await database.keys() == []


@pytest.mark.parametrize("path", ["/reads", "/reads-and-commits"])
async def test_a_read_only_session_runs_no_callback(
    database: "Database", make_sessionmaker: "SessionFactory", path: str
) -> None:
    app = App(database, make_sessionmaker, read_only=True)

    assert await app.post(path, method="GET") == 200
    assert app.log == [START, BODY]


async def test_savepoints_decide_for_the_callbacks_registered_in_them(
    database: "Database", make_sessionmaker: "SessionFactory"
) -> None:
    app = App(database, make_sessionmaker)

    assert await app.post("/savepoints/a") == 201
    assert app.log == [START, BODY, "kept with its savepoint sync in worker"]
    assert await database.keys() == ["a", "a-kept"]


async def test_a_savepoint_that_rolls_back_keeps_the_callbacks_registered_before_it(
    database: "Database", make_sessionmaker: "SessionFactory"
) -> None:
    app = App(database, make_sessionmaker)

    assert await app.post("/outside-savepoint/a") == 201
    assert app.log == [START, BODY, "registered outside the savepoint sync in worker"]


async def test_a_callback_runs_once_however_many_commits_follow(
    database: "Database", make_sessionmaker: "SessionFactory"
) -> None:
    app = App(database, make_sessionmaker)

    assert await app.post("/commits-twice/a") == 201
    # Ready after the first commit, run once, after the response: both commits are seen.
    assert app.log == [START, BODY, "once async ['a', 'a-more']"]


async def test_a_raising_callback_is_logged_and_changes_nothing_else(
    database: "Database", make_sessionmaker: "SessionFactory", caplog: pytest.LogCaptureFixture
) -> None:
    app = App(database, make_sessionmaker)

    with caplog.at_level(logging.ERROR, logger="mintaka.depends"):
        status = await app.post("/raising/a")

    assert status == 201  # the write is durable: the response says so
    assert app.log == [START, BODY, "after the broken one async ['a']"]
    (record,) = caplog.records
    assert record.getMessage() == (
        "POST /raising/a (endpoint App.__init__.<locals>.raising): the on_commit callback "
        "tests.depends.test_depends_on_commit.App.__init__.<locals>.raising.<locals>.broken "
        "raised; the write it followed is committed and the response is unchanged"
    )
    assert record.exc_info is not None
    assert str(record.exc_info[1]) == "the mail server is down"


async def test_a_callback_of_an_explicit_commit_runs_though_the_request_then_fails(
    database: "Database", make_sessionmaker: "SessionFactory"
) -> None:
    app = App(database, make_sessionmaker)

    assert await app.post("/committed-then-fails/a") == 500
    assert app.log == ["explicitly committed async ['a']", START, BODY]
    assert await database.keys() == ["a"]


async def test_a_callback_registered_before_any_work_follows_the_transaction_after_it(
    database: "Database", make_sessionmaker: "SessionFactory"
) -> None:
    app = App(database, make_sessionmaker)

    assert await app.post("/registered-first/a") == 201
    assert app.log == [START, BODY, "registered before any work async ['a']"]


async def test_registering_after_the_request_is_over_names_the_request_and_the_fix(
    database: "Database", make_sessionmaker: "SessionFactory"
) -> None:
    app = App(database, make_sessionmaker)

    assert await app.post("/late/a") == 202
    assert app.log[:2] == [START, BODY]
    (refusal,) = app.log[2:]
    assert refusal.startswith(
        "refused: on_commit(tests.depends.test_depends_on_commit.App.__init__.<locals>."
        "seen_by_sync) on the session of POST /late/a (endpoint App.__init__.<locals>.late): "
        "the request's transaction has already ended"
    )


async def test_a_client_that_disconnects_after_the_commit_does_not_cancel_the_callbacks(
    database: "Database", make_sessionmaker: "SessionFactory"
) -> None:
    app = App(database, make_sessionmaker)
    log = app.log

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def gone(message: "MutableMapping[str, Any]") -> None:
        log.append(message["type"])
        if message["type"] == "http.response.body":
            raise OSError("the client went away")

    with pytest.raises(OSError, match="the client went away"):
        await app.app(http_scope("/notes/a", method="POST"), receive, gone)

    assert log == [
        "early async ['a']",
        "http.response.start",
        "http.response.body",
        "first async ['a']",
        "second sync in worker",
    ]


async def test_each_database_s_callbacks_follow_that_session_s_own_commit(
    database: "Database", make_sessionmaker: "SessionFactory"
) -> None:
    log: list[str] = []
    Note = database.note_class
    get_first = transactional_session(make_sessionmaker())
    get_second = transactional_session(make_sessionmaker())
    router = APIRouter(route_class=ResponseScopedRoute)

    @router.post("/notes/{key}", status_code=201)
    async def create(
        key: str,
        first: Annotated[Any, Depends(get_first)],
        second: Annotated[Any, Depends(get_second)],
    ) -> None:
        # `second` is entered last, so it commits first; then `first`'s commit is refused.
        await run(first, lambda s: s.add(Note(f"{key}-orphan", parent_id=999)))
        await run(second, lambda s: s.add(Note(key)))
        on_commit(first, log.append, "first's callback")
        on_commit(second, log.append, "second's callback")

    app = FastAPI()
    app.include_router(router)

    exchange = await call(app, "/notes/a", method="POST", events=log, raises=IntegrityError)

    assert exchange.status == 500
    assert log == ["second's callback", START, BODY]  # before the error response is built
    assert await database.keys() == ["a"]


async def test_bad_registrations_are_refused_naming_the_fix(
    make_sessionmaker: "SessionFactory",
) -> None:
    maker = make_sessionmaker()
    plain = maker()
    try:
        with pytest.raises(TypeError, match=r"needs a session that a transactional_session\(\)"):
            on_commit(plain, print)
        not_callable: Any = "send_mail"
        with pytest.raises(TypeError, match="expects a function or coroutine function"):
            on_commit(plain, not_callable)
        when: Any = "later"
        with pytest.raises(ValueError, match=r"'after_response' .* or 'before_response'"):
            on_commit(plain, print, when=when)
    finally:
        closing = plain.close()
        if closing is not None:
            await closing


@pytest.mark.parametrize(
    ("path", "status", "task_ran"),
    [
        ("/created/a", 201, True),
        ("/declined/a", 409, True),  # rolled back, yet FastAPI runs the task
        ("/refused/a", 409, False),  # the exception's response has no tasks
        ("/orphans/a", 500, False),  # the failed commit replaced the response and its tasks
    ],
)
async def test_what_a_fastapi_background_task_does_when_the_transaction_rolls_back(
    database: "Database",
    make_sessionmaker: "SessionFactory",
    path: str,
    status: int,
    task_ran: bool,
) -> None:
    log: list[str] = []
    Note = database.note_class
    get_session = transactional_session(make_sessionmaker())
    AnySession = Annotated[Any, Depends(get_session)]
    router = APIRouter(route_class=ResponseScopedRoute)

    @router.post("/{outcome}/{key}", status_code=201, response_model=None)
    async def write(
        outcome: str, key: str, session: AnySession, tasks: BackgroundTasks
    ) -> JSONResponse | None:
        await run(session, lambda s: s.add(Note(key, 999 if outcome == "orphans" else None)))
        await run(session, lambda s: s.flush())
        tasks.add_task(log.append, "background task")
        if outcome == "refused":
            raise HTTPException(status_code=409)
        if outcome == "declined":
            return JSONResponse({"detail": "declined"}, status_code=409)
        return None

    app = FastAPI()
    app.include_router(router)

    exchange = await call(app, path, method="POST", events=log, raises=IntegrityError)

    assert exchange.status == status
    assert ("background task" in log) is task_ran
    assert await database.keys() == (["a"] if status == 201 else [])


async def test_each_callback_gets_a_span_with_its_name_and_outcome(
    database: "Database", make_sessionmaker: "SessionFactory", exporter: "InMemorySpanExporter"
) -> None:
    app = App(database, make_sessionmaker)

    assert await app.post("/raising/a") == 201

    spans = [s for s in exporter.get_finished_spans() if s.name == "mintaka.on_commit"]
    assert [
        (s.attributes["mintaka.callback"], s.attributes["mintaka.callback.outcome"])
        for s in spans
        if s.attributes is not None
    ] == [
        (f"{LOCALS}.raising.<locals>.broken", "raised"),
        (f"{LOCALS}.seen_by_async", "ran"),
    ]
