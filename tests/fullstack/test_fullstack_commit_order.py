"""The same app at the ASGI `send` callable: when it commits, when it lets go of its session.

Every commit of the app's sessions (SQLAlchemy's `after_commit`) and every connection
going back to the pool is logged beside `http.response.start`, as the server sees it. The
plain app commits in its CRUD helpers, before the response too, but keeps the session and
its connection until after the response on FastAPI 0.118+; on mintaka everything is
settled and given back before the response starts. On both, no write that committed is
answered with a 5xx.
"""

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from fastapi import FastAPI
from sqlalchemy import Engine, event
from sqlmodel import Session, select

from examples.fullstack.app import create_app
from examples.fullstack.models import User
from mintaka.depends.sqlalchemy import PARTIAL_COMMIT_HEADER
from testing.asgi import BODY, START, Exchange, call, fastapi_version

pytestmark = pytest.mark.anyio

COMMIT = "commit"
RETURNED = "connection returned"


@contextmanager
def recording(engine: Engine, events: list[str]) -> Iterator[None]:
    """Log each commit of a session on `engine`, and each connection back in its pool."""

    def committed(session: Session) -> None:
        if session.bind is engine:
            events.append(COMMIT)

    def returned(*_: Any) -> None:
        events.append(RETURNED)

    event.listen(Session, "after_commit", committed)
    event.listen(engine, "checkin", returned)
    try:
        yield
    finally:
        event.remove(Session, "after_commit", committed)
        event.remove(engine, "checkin", returned)


async def send(
    app: FastAPI, method: str, target: str, data: dict[str, Any] | None = None, **options: Any
) -> Exchange:
    body = json.dumps(data).encode() if data is not None else b""
    headers = [(b"content-type", b"application/json")] if data is not None else []
    return await call(app, target, method=method, body=body, headers=headers, **options)


def after_start(events: list[str]) -> list[str]:
    """What was logged once the response had started, body chunks left out."""
    return [e for e in events[events.index(START) + 1 :] if e != BODY]


async def test_mintaka_commits_and_returns_the_connection_before_the_response_starts(
    engine: Engine,
) -> None:
    app = create_app(engine, mintaka=True)
    seen_at_start: list[list[str]] = []

    async def look(message: Any) -> None:
        with Session(engine) as session:
            seen_at_start.append(list(session.exec(select(User.email)).all()))

    events: list[str] = []
    with recording(engine, events):
        created = await send(
            app, "POST", "/users/", {"email": "ada@example.com"}, events=events, on_start=look
        )

    assert created.status == 200
    assert seen_at_start == [["ada@example.com"]]
    before = events[: events.index(START)]
    assert COMMIT in before
    assert RETURNED in before
    assert after_start(events) == []


async def test_plain_app_commits_before_the_response_but_keeps_its_session_past_it(
    engine: Engine,
) -> None:
    app = create_app(engine, mintaka=False)
    events: list[str] = []
    with recording(engine, events):
        created = await send(app, "POST", "/users/", {"email": "ada@example.com"}, events=events)

    assert created.status == 200
    assert COMMIT in events[: events.index(START)]
    if fastapi_version() >= (0, 118):
        # The teardown of a yield dependency runs after the response on FastAPI 0.118+.
        assert after_start(events) == [RETURNED]
    else:
        assert after_start(events) == []


async def test_no_write_that_committed_is_answered_with_a_5xx(app: FastAPI, engine: Engine) -> None:
    outcomes: list[tuple[str, int, int]] = []

    async def request(method: str, target: str, data: dict[str, Any] | None = None) -> Exchange:
        events: list[str] = []
        with recording(engine, events):
            exchange = await send(app, method, target, data, events=events)
        assert PARTIAL_COMMIT_HEADER.lower().encode() not in dict(exchange.headers)
        outcomes.append((f"{method} {target.split('/')[1]}", exchange.status, events.count(COMMIT)))
        return exchange

    user = (await request("POST", "/users/", {"email": "ada@example.com"})).json()
    await request("POST", "/users/", {"email": "ada@example.com"})
    await request("PATCH", f"/users/{user['id']}", {"full_name": "Ada"})
    owner = {"title": "notes", "owner_id": user["id"]}
    item = (await request("POST", "/items/", owner)).json()
    await request("POST", "/items/", {"title": "lost", "owner_id": "0" * 32})
    await request("PUT", f"/items/{item['id']}", {"title": "more notes"})
    await request("DELETE", f"/items/{item['id']}")
    await request("DELETE", f"/users/{user['id']}")

    assert [status for _, status, _ in outcomes] == [200, 409, 200, 200, 404, 200, 200, 200]
    # Each 200 is a durable write; each refusal left nothing behind.
    assert all(commits > 0 for _, status, commits in outcomes if status == 200), outcomes
    assert all(commits == 0 for _, status, commits in outcomes if status != 200), outcomes
