"""Endpoints that call `commit()` themselves, observed at the ASGI `send` callable.

FastAPI's and SQLModel's tutorials commit in the endpoint (or in a CRUD helper) and then
`refresh()`. On the transactional session that commit is durable at once, the session
goes on in a new transaction, and that transaction is settled by the usual rule before the
response. Each row of the guide's outcome table is one test here: what a connection of
its own sees when `http.response.start` is sent, the status, and the header that tells a
client of a failure that part of its request is durable.
"""

import logging
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import anyio
import pytest
from fastapi import APIRouter, Depends, FastAPI, HTTPException, Request
from fastapi.responses import JSONResponse
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError, InvalidRequestError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import Session

from mintaka.core import response_headers
from mintaka.core.fastapi import ResponseScopedRoute
from mintaka.depends.sqlalchemy import PARTIAL_COMMIT_HEADER, transactional_session
from testing.asgi import call

if TYPE_CHECKING:
    from collections.abc import Callable

    from tests.depends._depends_db import Database
    from tests.depends.conftest import SessionFactory

pytestmark = pytest.mark.anyio

_T = TypeVar("_T")


async def run(session: "AsyncSession | Session", work: "Callable[[Session], _T]") -> _T:
    """Run `work` on the session's sync API: in a greenlet for async, a thread for sync."""
    if isinstance(session, AsyncSession):
        return await session.run_sync(work)
    return await anyio.to_thread.run_sync(work, session)


def build_app(
    database: "Database",
    make_sessionmaker: "SessionFactory",
    *,
    explicit_commits: Any = "allow",
    handle_integrity_errors: bool = False,
) -> FastAPI:
    get_session = transactional_session(make_sessionmaker(), explicit_commits=explicit_commits)
    AnySession = Annotated[Any, Depends(get_session)]
    Note = database.note_class
    router = APIRouter(route_class=ResponseScopedRoute)

    def create_and_commit(session: Session, key: str) -> str:
        """A CRUD helper as the tutorials write it: add, commit, refresh."""
        note = Note(key)
        session.add(note)
        session.commit()
        session.refresh(note)
        return note.key  # expired by the commit, loaded again

    @router.post("/then-more/{key}", status_code=201)
    async def commit_then_more(key: str, session: AnySession) -> dict[str, str]:
        first = await run(session, lambda s: create_and_commit(s, key))
        await run(session, lambda s: s.add(Note(f"{key}-more")))
        return {"key": first}

    @router.post("/then-raise/{key}")
    async def commit_then_raise(key: str, session: AnySession) -> None:
        await run(session, lambda s: create_and_commit(s, key))
        await run(session, lambda s: s.add(Note(f"{key}-more")))
        raise ValueError("the endpoint failed after its commit")

    @router.post("/then-http-error/{key}")
    async def commit_then_http_error(key: str, session: AnySession) -> None:
        await run(session, lambda s: create_and_commit(s, key))
        await run(session, lambda s: s.add(Note(f"{key}-more")))
        raise HTTPException(status_code=409, detail="conflict", headers={"X-Kept": "yes"})

    @router.post("/then-decline/{key}")
    async def commit_then_decline(key: str, session: AnySession) -> JSONResponse:
        await run(session, lambda s: create_and_commit(s, key))
        await run(session, lambda s: s.add(Note(f"{key}-more")))
        return JSONResponse({"detail": "declined"}, status_code=409)

    @router.post("/then-refused/{key}", status_code=201)
    async def commit_then_refused(key: str, session: AnySession) -> dict[str, str]:
        await run(session, lambda s: create_and_commit(s, key))
        # The foreign key is deferred: only mintaka's commit, before the response, checks it.
        await run(session, lambda s: s.add(Note(f"{key}-orphan", parent_id=999)))
        return {"key": key}

    @router.post("/savepoint/{key}", status_code=201)
    async def savepoint(key: str, session: AnySession) -> dict[str, str]:
        def work(s: Session) -> None:
            s.add(Note(key))
            with s.begin_nested() as nested:
                s.add(Note(f"{key}-discarded"))
                s.flush()
                nested.rollback()
            with s.begin_nested():
                s.add(Note(f"{key}-kept"))

        await run(session, work)
        return {"key": key}

    @router.post("/only-commit/{key}", status_code=201)
    async def only_commit(key: str, session: AnySession) -> dict[str, str]:
        await run(session, lambda s: create_and_commit(s, key))
        return {"key": key}

    app = FastAPI()
    app.include_router(router)
    if handle_integrity_errors:

        @app.exception_handler(IntegrityError)
        async def conflict(request: Request, error: IntegrityError) -> JSONResponse:
            response = JSONResponse({"detail": "conflict"}, status_code=409)
            response.headers.update(response_headers(request))
            return response

    return app


async def exchange_of(app: FastAPI, database: "Database", path: str) -> tuple[int, list[str], Any]:
    """POST `path`: status, the table when the response started, and the start's headers."""
    seen: list[str] = []

    async def on_start(message: Any) -> None:
        seen.extend(await database.keys())

    exchange = await call(
        app, path, method="POST", raises=(ValueError, IntegrityError), on_start=on_start
    )
    return exchange.status, seen, {k.decode(): v.decode() for k, v in exchange.headers}


async def test_a_commit_in_the_endpoint_then_more_work_commits_both_before_the_response(
    database: "Database", make_sessionmaker: "SessionFactory"
) -> None:
    app = build_app(database, make_sessionmaker)

    status, at_start, headers = await exchange_of(app, database, "/then-more/a")

    assert (status, at_start) == (201, ["a", "a-more"])
    assert PARTIAL_COMMIT_HEADER.lower() not in headers


async def test_an_exception_after_a_commit_rolls_back_the_rest_and_the_log_says_what_stands(
    database: "Database", make_sessionmaker: "SessionFactory", caplog: pytest.LogCaptureFixture
) -> None:
    app = build_app(database, make_sessionmaker)

    with caplog.at_level(logging.WARNING, logger="mintaka.depends"):
        status, at_start, headers = await exchange_of(app, database, "/then-raise/a")

    # Starlette's server-error middleware builds the 500 outside the route: no header.
    assert (status, at_start) == (500, ["a"])
    assert PARTIAL_COMMIT_HEADER.lower() not in headers
    (record,) = caplog.records
    assert record.getMessage().startswith(
        "POST /then-raise/a (endpoint build_app.<locals>.commit_then_raise): the response "
        "reports a failure, but 1 commit(s) of this request are durable"
    )


@pytest.mark.parametrize("path", ["/then-http-error/a", "/then-decline/a"])
async def test_an_error_status_after_a_commit_tells_the_client_what_is_durable(
    database: "Database", make_sessionmaker: "SessionFactory", path: str
) -> None:
    app = build_app(database, make_sessionmaker)

    status, at_start, headers = await exchange_of(app, database, path)

    assert (status, at_start) == (409, ["a"])
    assert headers[PARTIAL_COMMIT_HEADER.lower()] == "1"
    if path == "/then-http-error/a":
        assert headers["x-kept"] == "yes"  # the exception's own headers stay


@pytest.mark.parametrize("handled", [False, True], ids=["unhandled", "handled"])
async def test_a_refused_commit_after_an_explicit_one_is_never_acknowledged(
    database: "Database", make_sessionmaker: "SessionFactory", handled: bool
) -> None:
    app = build_app(database, make_sessionmaker, handle_integrity_errors=handled)

    status, at_start, headers = await exchange_of(app, database, "/then-refused/a")

    assert at_start == ["a"]
    if handled:  # the handler copies response_headers(request) into its response
        assert (status, headers[PARTIAL_COMMIT_HEADER.lower()]) == (409, "1")
    else:
        assert status == 500
        assert PARTIAL_COMMIT_HEADER.lower() not in headers


async def test_savepoints_inside_the_request_transaction_keep_working(
    database: "Database", make_sessionmaker: "SessionFactory"
) -> None:
    app = build_app(database, make_sessionmaker)

    status, at_start, _ = await exchange_of(app, database, "/savepoint/a")

    assert (status, at_start) == (201, ["a", "a-kept"])


async def test_a_request_that_only_commits_by_hand_succeeds_without_the_header(
    database: "Database", make_sessionmaker: "SessionFactory"
) -> None:
    app = build_app(database, make_sessionmaker)

    status, at_start, headers = await exchange_of(app, database, "/only-commit/a")

    assert (status, at_start) == (201, ["a"])
    assert PARTIAL_COMMIT_HEADER.lower() not in headers


async def test_forbidden_explicit_commits_raise_naming_the_route_and_commit_nothing(
    database: "Database", make_sessionmaker: "SessionFactory"
) -> None:
    app = build_app(database, make_sessionmaker, explicit_commits="forbid")
    seen: list[str] = []

    async def on_start(message: Any) -> None:
        seen.extend(await database.keys())

    exchange = await call(
        app, "/only-commit/a", method="POST", raises=InvalidRequestError, on_start=on_start
    )

    assert (exchange.status, seen) == (500, [])
    assert str(exchange.raised).startswith(
        "POST /only-commit/a (endpoint build_app.<locals>.only_commit) called commit() on a "
        "transactional session made with explicit_commits='forbid' (transactional_session("
    )
    assert "remove the commit() (use flush() for generated keys)" in str(exchange.raised)


async def test_forbidden_explicit_commits_still_allow_savepoints(
    database: "Database", make_sessionmaker: "SessionFactory"
) -> None:
    app = build_app(database, make_sessionmaker, explicit_commits="forbid")

    status, at_start, _ = await exchange_of(app, database, "/savepoint/a")

    assert (status, at_start) == (201, ["a", "a-kept"])


async def test_the_async_api_refreshes_and_queries_after_an_explicit_commit(
    database: "Database",
) -> None:
    engine = database.app_engine()
    get_session = transactional_session(async_sessionmaker(engine))
    Note = database.note_class
    router = APIRouter(route_class=ResponseScopedRoute)

    @router.post("/notes/{key}", status_code=201)
    async def create(
        key: str, session: Annotated[AsyncSession, Depends(get_session)]
    ) -> dict[str, Any]:
        note = Note(key)
        session.add(note)
        await session.commit()
        await session.refresh(note)
        keys = (await session.scalars(select(database.notes.c.key))).all()
        session.add(Note(f"{key}-more"))
        return {"key": note.key, "seen": list(keys)}

    app = FastAPI()
    app.include_router(router)

    try:
        status, at_start, _ = await exchange_of(app, database, "/notes/a")
    finally:
        await engine.dispose()

    assert (status, at_start) == (201, ["a", "a-more"])


async def test_an_unknown_explicit_commits_value_is_refused_naming_the_choices(
    make_sessionmaker: "SessionFactory",
) -> None:
    never: Any = "never"
    with pytest.raises(ValueError, match=r"expects 'allow' .* or 'forbid' .*; got 'never'\."):
        transactional_session(make_sessionmaker(), explicit_commits=never)
