"""Idempotency keys at the ASGI `send`: claimed and stored in the request's own transaction.

Every test runs with an async and a sync session, on SQLite and (in CI) PostgreSQL. The
endpoint counts its runs and writes one note per run; what a test asserts is what the
client receives and what the database holds at the end.
"""

import json
from datetime import timedelta
from typing import TYPE_CHECKING, Any

import anyio
import pytest
from sqlalchemy import select
from sqlalchemy.exc import InvalidRequestError
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlalchemy.orm import sessionmaker

from mintaka.depends.sqlalchemy import REPLAYED_HEADER
from testing.asgi import Exchange, call
from tests.depends._depends_orders import create_table, header
from tests.depends.test_depends_retries import SQLiteLock

if TYPE_CHECKING:
    from tests.depends._depends_db import Database
    from tests.depends.conftest import SessionFactory

pytestmark = pytest.mark.anyio


async def test_a_repeated_key_replays_the_committed_response_without_running_the_endpoint(
    orders: Any, database: "Database"
) -> None:
    app = await create_table(orders())
    first = await app.post("/orders/a")
    again = await app.post("/orders/a")

    assert first.status == 201
    assert header(first, REPLAYED_HEADER) is None
    assert (again.status, again.body) == (201, first.body)
    assert json.loads(again.body) == {"key": "a", "run": 1}
    assert header(again, REPLAYED_HEADER) == "true"
    assert header(again, "location") == "/o/a"
    assert header(again, "content-type") == "application/json"
    assert app.runs == 1
    assert await database.keys() == ["a-1"]


async def test_the_same_key_for_another_request_is_refused_with_422(orders: Any) -> None:
    app = await create_table(orders())
    await app.post("/orders/a", body=b'{"n": 1}')
    other_body = await app.post("/orders/a", body=b'{"n": 2}')
    other_path = await app.post("/orders/b")

    assert other_body.status == other_path.status == 422
    assert b"different request" in other_body.body
    assert app.runs == 1


async def test_a_request_while_the_first_with_its_key_is_in_flight_gets_409(
    orders: Any, database: "Database"
) -> None:
    app = await create_table(orders())
    answers: dict[str, Exchange] = {}

    async def first() -> None:
        answers["first"] = await app.post("/orders/a?wait=1")

    async with anyio.create_task_group() as group:
        group.start_soon(first)
        await app.entered.wait()
        answers["second"] = await app.post("/orders/a?wait=1")
        app.release.set()
    after = await app.post("/orders/a?wait=1")

    assert answers["second"].status == 409
    assert answers["first"].status == 201
    assert (after.status, after.body) == (201, answers["first"].body)
    assert app.runs == 1
    assert await database.keys() == ["a-1"]


async def test_a_failed_commit_stores_no_key_so_the_retry_runs_the_endpoint(
    orders: Any, database: "Database"
) -> None:
    app = await create_table(orders())
    failed = await call(
        app.app,
        "/orders/a?fail=commit",
        method="POST",
        body=b"{}",
        headers=[(b"idempotency-key", b"k-1")],
        raises=Exception,
    )
    assert failed.status == 500
    assert await app.stored() == 0

    retried = await app.post("/orders/a")
    assert retried.status == 201
    assert app.runs == 2
    assert await database.keys() == ["a-2"]


async def test_a_status_that_rolls_back_stores_nothing(orders: Any) -> None:
    app = await create_table(orders())
    refused = await app.post("/orders/a?status=409")
    again = await app.post("/orders/a?status=409")

    assert refused.status == again.status == 409
    assert header(again, REPLAYED_HEADER) is None
    assert app.runs == 2
    assert await app.stored() == 0


async def test_a_required_key_missing_or_malformed_gets_400(orders: Any) -> None:
    app = await create_table(orders(required=True))
    missing = await app.post("/orders/a", key=None)
    long_key = await app.post("/orders/a", key=b"x" * 256)
    spaced = await app.post("/orders/a", key=b"two words")
    empty = await app.post("/orders/a", key=b'""')
    quoted = await app.post("/orders/a", key=b'"k-1"')
    bare = await app.post("/orders/a", key=b"k-1")

    assert [missing.status, long_key.status, spaced.status, empty.status] == [400] * 4
    assert b"Idempotency-Key" in missing.body
    assert b"255" in long_key.body
    assert (quoted.status, bare.status) == (201, 201)
    assert header(bare, REPLAYED_HEADER) == "true"  # "k-1" and k-1 are one key
    assert app.runs == 1


async def test_a_commit_by_the_endpoint_of_a_keyed_request_is_refused_naming_the_route(
    orders: Any, database: "Database"
) -> None:
    app = await create_table(orders())
    keyed = await app.post("/orders/a?commit=1", raises=InvalidRequestError)
    unkeyed = await app.post("/orders/b?commit=1", key=None)

    assert keyed.status == 500
    message = str(keyed.raised)
    assert "POST /orders/a" in message
    assert "idempotent_requests" in message
    assert "Remove the commit()" in message
    assert unkeyed.status == 201  # no key: the endpoint's own commit is allowed
    assert await database.keys() == ["b-2"]
    assert await app.stored() == 0


async def test_without_a_key_an_optional_route_runs_every_time(orders: Any) -> None:
    app = await create_table(orders())
    await app.post("/orders/a", key=None)
    await app.post("/orders/b", key=None)
    assert app.runs == 2
    assert await app.stored() == 0


async def test_a_body_over_the_limit_is_refused_with_413(orders: Any) -> None:
    app = await create_table(orders(max_body=10))
    refused = await app.post("/orders/a", body=b"x" * 11)
    assert refused.status == 413
    assert app.runs == 0


async def test_keys_are_scoped_so_two_subjects_never_collide(orders: Any) -> None:
    app = await create_table(orders(scope=lambda request: request.headers.get("user", "")))
    alice = await app.post("/orders/a", user="alice")
    bob = await app.post("/orders/a", user="bob")
    alice_again = await app.post("/orders/a", user="alice")

    assert (alice.status, bob.status) == (201, 201)
    assert json.loads(bob.body)["run"] == 2
    assert alice_again.body == alice.body
    assert app.runs == 2


async def test_an_expired_key_is_absent_and_purge_deletes_it(orders: Any) -> None:
    app = await create_table(orders(expires_after=timedelta(seconds=0)))
    await app.post("/orders/a")
    await app.post("/orders/a")
    assert app.runs == 2  # expired at once: the second ran, and replaced the key
    assert await app.stored() == 1

    async with app.database.observer.begin() as connection:
        purged = await connection.run_sync(app.keys.purge)
    assert purged == 1
    assert await app.stored() == 0


@pytest.mark.postgres
async def test_on_postgresql_a_second_worker_sees_the_key_in_flight_too(
    orders: Any, database: "Database"
) -> None:
    if database.dialect != "postgresql":
        pytest.skip("SQLite serialises writers: a second worker waits, then replays")
    first_worker = await create_table(orders())
    # Its own table object, registry and engine: only the database is shared.
    second_worker = orders(table=first_worker.keys.table.name)
    answers: dict[str, Exchange] = {}

    async def first() -> None:
        answers["first"] = await first_worker.post("/orders/a?wait=1")

    async with anyio.create_task_group() as group:
        group.start_soon(first)
        await first_worker.entered.wait()
        try:
            # Without the claim it would block on the first one's uncommitted note.
            with anyio.fail_after(10):
                answers["second"] = await second_worker.post("/orders/a?wait=1")
        finally:
            first_worker.release.set()
    after = await second_worker.post("/orders/a?wait=1")

    assert answers["second"].status == 409
    assert (after.status, after.body) == (201, answers["first"].body)
    assert header(after, REPLAYED_HEADER) == "true"
    assert (first_worker.runs, second_worker.runs) == (1, 0)
    assert await database.keys() == ["a-1"]


def store_meanwhile(orders: Any, database: "Database", key: str, fingerprint: str) -> None:
    """When the endpoint next runs, commit `key` from another connection, as another
    process would between this request's look-up and its commit."""
    engine = database.sync_app_engine()
    next_run = orders.runs + 1

    def commit_key(run: int) -> None:
        if run != next_run:
            return
        with engine.begin() as connection:
            connection.execute(
                orders.keys.table.insert().values(
                    scope="",
                    key=key,
                    fingerprint=fingerprint,
                    status=201,
                    headers=json.dumps({"content-type": "application/json"}),
                    body=b'{"stored": "meanwhile"}',
                    created_at=0.0,
                    expires_at=4.0e9,
                )
            )
        engine.dispose()

    orders.on_run = commit_key


async def fingerprint_of(orders: Any, key: str) -> str:
    async with orders.database.observer.connect() as connection:
        table = orders.keys.table
        found = await connection.execute(select(table.c.fingerprint).where(table.c.key == key))
        return str(found.scalar_one())


@pytest.mark.parametrize("same_request", [True, False], ids=["same-request", "other-request"])
async def test_a_key_stored_between_the_look_up_and_the_commit_is_met_and_answered(
    orders: Any, database: "Database", same_request: bool
) -> None:
    app = await create_table(orders())
    reference = await app.post("/orders/a", key=b"ref")  # its fingerprint: POST /orders/a {}
    fingerprint = await fingerprint_of(app, "ref") if same_request else "0" * 64
    store_meanwhile(app, database, "k-1", fingerprint)

    answered = await app.post("/orders/a", key=b"k-1")

    assert reference.status == 201
    if same_request:
        assert (answered.status, answered.body) == (201, b'{"stored": "meanwhile"}')
        assert header(answered, REPLAYED_HEADER) == "true"
    else:
        assert answered.status == 422
    assert app.runs == 2  # the reference, and the attempt whose write was rolled back
    assert await database.keys() == ["a-1"]
    assert await app.stored() == 2


async def test_a_request_handled_again_after_a_conflict_is_not_409_against_its_own_claim(
    orders: Any, database: "Database", make_sessionmaker: "SessionFactory"
) -> None:
    if database.dialect != "sqlite":
        pytest.skip("the conflict here is SQLite's 'database is locked'")
    kind = type(make_sessionmaker())  # async_sessionmaker or sessionmaker
    quick = {"connect_args": {"timeout": 0.05}}  # a held write lock fails fast
    engine = database.app_engine(**quick) if kind is async_sessionmaker else None
    sync_engine = database.sync_app_engine(**quick) if engine is None else None
    maker = async_sessionmaker(engine) if engine is not None else sessionmaker(sync_engine)
    app = await create_table(orders(maker=maker, retries=2))
    lock = SQLiteLock(database)
    lock.take()  # the first attempt's write meets "database is locked"
    app.on_run = lambda run: lock.release() if run == 2 else None
    try:
        answered = await app.post("/orders/a")
        again = await app.post("/orders/a")
    finally:
        lock.close()
        if engine is not None:
            await engine.dispose()
        if sync_engine is not None:
            sync_engine.dispose()

    assert answered.status == 201
    assert json.loads(answered.body) == {"key": "a", "run": 2}
    assert (again.status, again.body) == (201, answered.body)
    assert header(again, REPLAYED_HEADER) == "true"
    assert await database.keys() == ["a-2"]
