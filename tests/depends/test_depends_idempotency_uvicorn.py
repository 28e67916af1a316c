"""Idempotency keys over real TCP: uvicorn on 127.0.0.1, an HTTP client, a database.

A client that sends one create twice at once and a third time after the first answer gets
one write, a 409 or the original answer for the concurrent copy, and the original status
and body, marked as replayed, for the late one. A commit that fails stores no key: the
client's retry runs the endpoint. Every test runs with an async and a sync session, on
SQLite and (in CI) PostgreSQL, and on every FastAPI version of the compat matrix (the
route adapter's hand-over of the early response changed between versions).
"""

from typing import TYPE_CHECKING, Any

import anyio
import httpx
import pytest

from mintaka.depends.sqlalchemy import REPLAYED_HEADER
from tests.depends._depends_orders import Orders, create_table
from tests.frameworks._serving import serving

if TYPE_CHECKING:
    from tests.depends._depends_db import Database

pytestmark = [pytest.mark.anyio, pytest.mark.server]

DEADLINE = 30.0  # a guard against a hang only


async def test_a_create_sent_twice_at_once_and_again_later_writes_once(
    orders: Any, database: "Database"
) -> None:
    app: Orders = await create_table(orders())
    headers = {"Idempotency-Key": "order-7"}
    answers: list[httpx.Response] = []
    async with serving(app.app) as port, httpx.AsyncClient(timeout=DEADLINE) as client:
        url = f"http://127.0.0.1:{port}/orders/a"

        async def send() -> None:
            answers.append(await client.post(url, headers=headers, content=b"{}"))

        async with anyio.create_task_group() as group:
            group.start_soon(send)
            group.start_soon(send)
        late = await client.post(url, headers=headers, content=b"{}")

    created = [a for a in answers if a.status_code == 201]
    assert sorted(a.status_code for a in answers) in ([201, 201], [201, 409])
    assert all(a.content == created[0].content for a in created)
    assert (late.status_code, late.content) == (201, created[0].content)
    assert late.headers[REPLAYED_HEADER] == "true"
    assert app.runs == 1
    assert await database.keys() == ["a-1"]


async def test_over_tcp_a_failed_commit_stores_no_key_and_the_retry_runs(
    orders: Any, database: "Database"
) -> None:
    app: Orders = await create_table(orders())
    headers = {"Idempotency-Key": "order-8"}
    async with serving(app.app) as port, httpx.AsyncClient(timeout=DEADLINE) as client:
        url = f"http://127.0.0.1:{port}/orders/a"
        failed = await client.post(f"{url}?fail=commit", headers=headers, content=b"{}")
        retried = await client.post(url, headers=headers, content=b"{}")

    assert failed.status_code == 500
    assert (retried.status_code, REPLAYED_HEADER in retried.headers) == (201, False)
    assert await app.stored() == 1
    assert await database.keys() == ["a-2"]
