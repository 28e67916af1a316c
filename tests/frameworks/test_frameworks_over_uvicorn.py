"""G1 to G4 with ResponseScopeMiddleware on real frameworks served by uvicorn.

Each framework serves the example of the docs (`examples/asgi`): `POST /notes` stores a
note in an async SQLAlchemy session entered on the response stack. The frameworks that do
not involve FastAPI are marked `integration` (they run once per CI run); the FastAPI case
runs on every FastAPI version of the matrix.
"""

from __future__ import annotations

import asyncio
import importlib
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import anyio
import httpx
import pytest
from sqlalchemy import event

from tests.frameworks._serving import Database, Probe, database, serving

pytestmark = [pytest.mark.anyio, pytest.mark.server, pytest.mark.once]

# 200 writers queue for SQLite's one write lock: on a loaded machine, under coverage, the
# last one waits a while. The test is about exiting once, not about latency.
TIMEOUT = 60.0

FRAMEWORKS = [
    pytest.param("starlette", marks=pytest.mark.integration),
    pytest.param("litestar", marks=pytest.mark.integration),
    pytest.param("django", marks=pytest.mark.integration),
    pytest.param("quart", marks=pytest.mark.integration),
    pytest.param("fastapi"),
]
# What each example answers when a commit fails: the Starlette example maps the unique
# constraint to 409 with its on_error; the others send the middleware's default 500.
FAILED_COMMIT_STATUS = {"starlette": 409}


@pytest.fixture(params=FRAMEWORKS)
def framework(request: pytest.FixtureRequest) -> str:
    name: str = request.param
    pytest.importorskip(name, reason=f"{name} is a test dependency of this suite")
    return name


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    async with database(tmp_path / "notes.db") as found:
        yield found


@pytest.fixture
async def served(framework: str, db: Database) -> AsyncIterator[tuple[Probe, str]]:
    """The framework's example app behind a probe, served by uvicorn; yields its URL."""
    example = importlib.import_module(f"examples.asgi.{framework}_app")
    probe = Probe(example.create_app(db.sessionmaker), db)
    async with serving(probe) as port:
        yield probe, f"http://127.0.0.1:{port}"


async def post_note(client: httpx.AsyncClient, url: str, text: str) -> httpx.Response:
    return await client.post(f"{url}/notes", json={"text": text}, timeout=TIMEOUT)


async def test_the_commit_is_visible_before_the_response_starts(
    served: tuple[Probe, str], db: Database
) -> None:
    probe, url = served
    async with httpx.AsyncClient() as client:
        response = await post_note(client, url, "first")

    assert response.status_code == 201
    assert response.json() == {"text": "first"}
    assert [(s.status, s.visible) for s in probe.starts] == [(201, True)]
    assert db.ended == ["commit"]


async def test_a_failing_commit_is_never_answered_with_a_success(
    served: tuple[Probe, str], db: Database, framework: str
) -> None:
    probe, url = served
    async with httpx.AsyncClient() as client:
        first = await post_note(client, url, "twice")
        second = await post_note(client, url, "twice")

    expected = FAILED_COMMIT_STATUS.get(framework, 500)
    assert first.status_code == 201
    assert second.status_code == expected
    assert [s.status for s in probe.starts] == [201, expected]
    assert "UNIQUE" not in second.text
    assert "IntegrityError" not in second.text
    assert db.ended == ["commit", "rollback"]
    assert db.texts() == {"twice"}


async def test_an_endpoint_error_rolls_back_and_commits_nothing(
    served: tuple[Probe, str], db: Database
) -> None:
    probe, url = served
    async with httpx.AsyncClient() as client:
        response = await client.post(f"{url}/notes", json={"title": "no text"}, timeout=TIMEOUT)

    assert response.status_code == 500
    assert [s.status for s in probe.starts] == [500]
    assert "commit" not in db.ended
    assert db.texts() == set()


async def test_a_client_that_hangs_up_during_the_commit_gets_exactly_one_exit(
    served: tuple[Probe, str], db: Database
) -> None:
    """The commit waits on a lock the test holds; the client hangs up meanwhile."""
    _, url = served
    inserting = anyio.Event()

    def on_insert(*args: Any) -> None:
        inserting.set()

    event.listen(db.engine.sync_engine, "before_cursor_execute", on_insert)
    lock = sqlite3.connect(db.path, isolation_level=None, check_same_thread=False)
    lock.execute("BEGIN IMMEDIATE")
    try:
        host, port = url.removeprefix("http://").split(":")
        client = await anyio.connect_tcp(host, int(port))
        body = b'{"text": "hung up"}'
        await client.send(
            b"POST /notes HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            b"Content-Length: %d\r\n\r\n%s" % (len(body), body)
        )
        with anyio.fail_after(TIMEOUT):
            await inserting.wait()
        await client.aclose()
        # Let the server and the framework notice the hang-up while the commit waits.
        await anyio.sleep(0.3)
    finally:
        lock.execute("COMMIT")
        lock.close()

    with anyio.fail_after(TIMEOUT):
        await db.some_ended.wait()
    # Give a second exit, if there were one, time to happen.
    await anyio.sleep(0.2)

    assert db.ended == ["commit"]
    assert db.texts() == {"hung up"}


async def test_200_concurrent_requests_each_exit_once(
    served: tuple[Probe, str], db: Database
) -> None:
    probe, url = served
    texts = [f"note {number}" for number in range(200)]
    limits = httpx.Limits(max_connections=200)
    async with httpx.AsyncClient(limits=limits) as client:
        responses = await asyncio.gather(*(post_note(client, url, text) for text in texts))

    assert [r.status_code for r in responses] == [201] * 200
    assert db.ended == ["commit"] * 200
    assert db.texts() == set(texts)
    assert sorted((s.text or "", s.status, s.visible) for s in probe.starts) == sorted(
        (text, 201, True) for text in texts
    )
