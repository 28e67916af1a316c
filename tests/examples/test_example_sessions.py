"""The session recipes the depends guide shows, run at the ASGI `send` on SQLite files."""

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Annotated

import pytest
from fastapi import Depends, FastAPI
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError, InvalidRequestError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine

from examples.sessions import (
    after_commit,
    commit_rule,
    explicit_commits,
    idempotency,
    read_only,
    retries,
    several_databases,
)
from mintaka.core.fastapi import ResponseScopedRoute
from mintaka.depends.sqlalchemy import PARTIAL_COMMIT_HEADER, REPLAYED_HEADER
from testing.asgi import call
from tests.depends._depends_asgi import observe

pytestmark = pytest.mark.anyio


def reader(url: str, table: str, column: str) -> Callable[[], Awaitable[list[str]]]:
    """Read `column` of `table` at `url` through an engine of its own."""

    async def read() -> list[str]:
        engine = create_async_engine(url)
        try:
            async with engine.connect() as connection:
                rows = await connection.execute(text(f"SELECT {column} FROM {table}"))
                return sorted(str(row[0]) for row in rows)
        finally:
            await engine.dispose()

    return read


@asynccontextmanager
async def running(app: FastAPI) -> AsyncIterator[FastAPI]:
    async with app.router.lifespan_context(app):
        yield app


async def test_the_commit_rule_recipe(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'bookings.db'}"
    rooms = reader(url, "bookings", "room")

    async with running(commit_rule.create_app(url)) as app:
        statuses = [(await observe(app, f"/bookings/{room}", rooms)) for room in "abc"]
        held = await observe(app, "/holds/d", rooms)

    assert [(o.status, o.at_start) for o in statuses] == [
        (201, ["a"]),
        (201, ["a", "b"]),
        (409, ["a", "b"]),
    ]
    assert (held.status, held.at_start) == (303, ["a", "b"])


async def test_the_several_databases_recipe(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'bookings.db'}"
    audit_url = f"sqlite+aiosqlite:///{tmp_path / 'audit.db'}"
    rooms = reader(url, "bookings", "room")
    actions = reader(audit_url, "audit", "action")

    async def both() -> tuple[list[str], list[str]]:
        return await rooms(), await actions()

    async with running(several_databases.create_app(url, audit_url)) as app:
        observed = await observe(app, "/bookings/a", both)

    assert (observed.status, observed.at_start) == (201, (["a"], ["booked a"]))


async def test_the_read_only_recipe(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'bookings.db'}"
    body: list[bytes] = []

    async with running(read_only.create_app(url)) as app:
        mistake = await observe(app, "/bookings/a", reader(url, "bookings", "room"))
        listing = await observe(
            app, "/bookings", reader(url, "bookings", "room"), method="GET", body=body
        )

    assert (mistake.status, mistake.at_start) == (500, [])
    assert isinstance(mistake.raised, DBAPIError)
    assert "attempt to write a readonly database" in str(mistake.raised)
    assert (listing.status, b"".join(body)) == (200, b"[]")


async def test_the_explicit_commits_recipe(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'bookings.db'}"
    rooms = reader(url, "bookings", "room")

    async with running(explicit_commits.create_app(url)) as app:
        booked = await observe(app, "/bookings/a", rooms)
        pair = await observe(app, "/pairs/b/c", rooms)
        taken = await call(app, "/pairs/d/a", method="POST")
        after_taken = await rooms()
        again = await call(app, "/bookings/a", method="POST")  # the handler's 409

    assert (booked.status, booked.at_start) == (201, ["a"])
    assert (pair.status, pair.at_start) == (201, ["a", "b", "c"])
    # d was committed before a was found taken: the 409 says that part is durable.
    assert (taken.status, after_taken) == (409, ["a", "b", "c", "d"])
    assert (PARTIAL_COMMIT_HEADER.lower().encode(), b"1") in taken.headers
    assert (again.status, again.body) == (409, b'{"detail":"already booked"}')
    assert PARTIAL_COMMIT_HEADER.lower().encode() not in dict(again.headers)  # none durable


async def test_the_all_or_nothing_recipe_refuses_a_commit(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'bookings.db'}"
    engine = create_async_engine(url)
    maker = async_sessionmaker(engine)
    app = FastAPI()
    app.router.route_class = ResponseScopedRoute
    get_session = explicit_commits.all_or_nothing(maker)

    @app.post("/commits")
    async def commit(session: Annotated[AsyncSession, Depends(get_session)]) -> None:
        await session.commit()

    try:
        exchange = await call(app, "/commits", method="POST", raises=InvalidRequestError)
    finally:
        await engine.dispose()

    assert exchange.status == 500
    assert "explicit_commits='forbid'" in str(exchange.raised)


async def test_the_after_commit_recipe(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'bookings.db'}"
    outbox = after_commit.Outbox()
    seen_at_start: list[dict[int, str]] = []

    async def jobs_at_start(message: object) -> None:
        seen_at_start.append(dict(outbox.jobs))

    async with running(after_commit.create_app(url, outbox)) as app:
        booked = await call(app, "/bookings/a?guest=ada", method="POST", on_start=jobs_at_start)
        taken = await call(app, "/bookings/a?guest=bob", method="POST", raises=DBAPIError)

    assert (booked.status, booked.body) == (201, b'{"invoice_job":1}')
    assert seen_at_start[0] == {1: "invoice a"}  # enqueued before the client heard of it
    assert taken.status == 500  # the room is taken: the commit fails, nothing follows it
    assert outbox.jobs == {1: "invoice a"}
    assert outbox.mails == ["ada: room a is yours"]
    assert outbox.cache == {}


async def test_the_retries_recipe_keeps_its_limit(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'bookings.db'}"

    async with running(retries.create_app(url)) as app:
        statuses = [(await call(app, f"/bookings/{room}", method="POST")).status for room in "abcd"]

    assert statuses == [201, 201, 201, 409]


async def test_the_idempotency_recipe_books_once_and_replays(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'bookings.db'}"
    rooms = reader(url, "bookings", "room")
    alice = [(b"idempotency-key", b"b-1"), (b"x-user", b"alice")]
    bob = [(b"idempotency-key", b"b-1"), (b"x-user", b"bob")]

    async with running(idempotency.create_app(url)) as app:
        first = await call(app, "/bookings/a", method="POST", headers=alice)
        resent = await call(app, "/bookings/a", method="POST", headers=alice)
        other_user = await call(app, "/bookings/b", method="POST", headers=bob)
        no_key = await call(app, "/bookings/c", method="POST")

    assert (first.status, first.body) == (201, b'{"booked":"a"}')
    assert (resent.status, resent.body) == (201, first.body)
    assert (REPLAYED_HEADER.lower().encode(), b"true") in resent.headers
    assert other_user.status == 201  # the same key, another user: a booking of its own
    assert no_key.status == 400
    assert await rooms() == ["a", "b"]
