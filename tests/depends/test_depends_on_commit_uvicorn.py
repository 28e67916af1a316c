"""`on_commit` callbacks over real TCP: uvicorn on 127.0.0.1, an HTTP client, a database.

The tests at the ASGI `send` callable (`test_depends_on_commit.py`) show the order of the
messages; these show what a client on the other end of a socket sees. A default
(`after_response`) callback waits on an event that only the test sets, once the client
holds the whole response: if the callback ran before the response, the client would wait
for it, and the request would time out instead of answering. A client that resets the
connection after the commit, before the response reaches it, does not cancel the
callbacks. Every test runs with an async and a sync session, on SQLite and (in CI)
PostgreSQL.
"""

import asyncio
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Annotated, Any

import anyio
import httpx
import pytest
from fastapi import APIRouter, Depends, FastAPI, Request

from mintaka.core.fastapi import ResponseScopedRoute
from mintaka.depends.sqlalchemy import on_commit, transactional_session
from tests.depends.test_depends_on_commit import run
from tests.frameworks._serving import serving
from tests.integration.test_disconnects import hang_up, post

if TYPE_CHECKING:
    from collections.abc import MutableMapping

    from sqlalchemy.orm import Session

    from tests.depends._depends_db import Database
    from tests.depends.conftest import SessionFactory

pytestmark = [pytest.mark.anyio, pytest.mark.server, pytest.mark.once]

# Only a guard against a hang: a request that never finishes fails the test instead of
# blocking the suite. Nothing is asserted about how long anything took.
DEADLINE = 30.0

BODY_SENT = "the last body message was sent"


class Served:
    """The app behind a wrapper that logs the last body message and the end of each call."""

    def __init__(self, app: FastAPI, log: list[str]) -> None:
        self.app = app
        self.log = log
        self.calls_done = anyio.Event()

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def logging_send(message: "MutableMapping[str, Any]") -> None:
            await send(message)
            if message["type"] == "http.response.body" and not message.get("more_body"):
                self.log.append(BODY_SENT)

        try:
            await self.app(scope, receive, logging_send)
        finally:
            self.calls_done.set()


def notes_app(
    database: "Database",
    make_sessionmaker: "SessionFactory",
    register: Callable[[Any, Request], None],
) -> FastAPI:
    """`POST /notes/{key}` writes a note and calls `register(session, request)`."""
    get_session = transactional_session(make_sessionmaker())
    router = APIRouter(route_class=ResponseScopedRoute)
    Note = database.note_class

    @router.post("/notes/{key}", status_code=201)
    async def create(
        key: str, session: Annotated[Any, Depends(get_session)], request: Request
    ) -> dict[str, str]:
        def write(s: "Session") -> None:
            s.add(Note(key))
            s.flush()

        await run(session, write)
        register(session, request)
        return {"key": key, "padding": "x" * 100_000}  # more than one socket write

    app = FastAPI()
    app.include_router(router)
    return app


async def test_the_client_holds_the_whole_response_before_a_callback_takes_effect(
    database: "Database", make_sessionmaker: "SessionFactory"
) -> None:
    log: list[str] = []
    release = anyio.Event()

    async def send_mail(key: str) -> None:
        log.append("the callback started")
        await release.wait()  # until the test has the whole response
        log.append(f"the callback sent its mail, the notes are {await database.keys()}")

    def register(session: Any, request: Request) -> None:
        on_commit(session, send_mail, "a")

    served = Served(notes_app(database, make_sessionmaker, register), log)
    async with serving(served) as port, httpx.AsyncClient(timeout=DEADLINE) as client:
        try:
            response = await client.post(f"http://127.0.0.1:{port}/notes/a")
            seen_with_the_response = list(log)
        finally:
            release.set()  # a callback that ran too early holds the response: let it go
        with anyio.fail_after(DEADLINE):
            await served.calls_done.wait()

    assert response.status_code == 201
    assert response.json()["key"] == "a"
    assert len(response.content) > 100_000
    assert BODY_SENT in seen_with_the_response
    assert "the callback sent its mail, the notes are ['a']" not in seen_with_the_response
    assert log == [
        BODY_SENT,
        "the callback started",
        "the callback sent its mail, the notes are ['a']",
    ]


async def test_a_client_that_resets_the_connection_after_the_commit_cancels_no_callback(
    database: "Database", make_sessionmaker: "SessionFactory"
) -> None:
    log: list[str] = []
    committed = anyio.Event()

    async def wait_for_the_client_to_go(receive: Callable[[], Awaitable[Any]]) -> None:
        committed.set()
        while (await receive())["type"] != "http.disconnect":
            pass
        log.append("the client is gone")

    async def send_mail(key: str) -> None:
        await asyncio.sleep(0)  # a callback that awaits is not cancelled either
        log.append(f"the callback sent its mail, the notes are {await database.keys()}")

    def register(session: Any, request: Request) -> None:
        on_commit(session, wait_for_the_client_to_go, request.receive, when="before_response")
        on_commit(session, send_mail, "a")

    served = Served(notes_app(database, make_sessionmaker, register), log)
    async with serving(served) as port:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(post("/notes/a", b""))
        await writer.drain()
        with anyio.fail_after(DEADLINE):
            await committed.wait()  # the transaction committed; no response yet
            await hang_up(writer, reader, reset=True)
            await served.calls_done.wait()

    assert log == [
        "the client is gone",
        BODY_SENT,  # uvicorn takes the messages of a closed connection and drops them
        "the callback sent its mail, the notes are ['a']",
    ]
    assert await database.keys() == ["a"]
