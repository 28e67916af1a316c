"""Idempotent creates over real TCP: no order placed twice, no key without its order.

uvicorn serves `tests/integration/idempotency_service.py` on PostgreSQL with two worker
processes, so the in-flight claim must hold across processes. The proof:

* **500 creates**, each sent twice at once and a third time after the first answer, each
  over its own connection, 20 creates at a time. A client that gets 409 (the first copy
  still in flight) retries after a moment, as the draft advises. Exactly 500 orders
  exist afterwards, and every copy was answered with the original status and body (the
  replays marked `Idempotent-Replayed: true`);
* **100 injected commit faults**: each create's first send fails at the commit (a
  deferred foreign key) and gets 500; then the client resends it without the fault. No
  stored key points at an order that does not exist, and each retried create ran.

It prints its figures (`-s`).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING

import anyio
import pytest
from sqlalchemy import func, select

from mintaka.depends.sqlalchemy import REPLAYED_HEADER
from tests.integration._postgres import PROOF_MARKS, postgres_tables
from tests.integration._server import Server, serve
from tests.integration._traffic import one_connection_per_request, run_limited
from tests.integration.idempotency_service import proof_tables

if TYPE_CHECKING:
    from collections.abc import Iterator

    import httpx
    from sqlalchemy import Table
    from sqlalchemy.ext.asyncio import AsyncEngine

    from mintaka.depends.sqlalchemy import IdempotencyKeys

pytestmark = PROOF_MARKS

APP = "tests.integration.idempotency_service:create_app"
CREATES = 500
FAULTS = 100
CONCURRENCY = 20
RETRY_409_AFTER = 0.02


@dataclass
class Proof:
    """The running server and the tables, seen through an engine the app does not use."""

    server: Server
    orders: Table
    keys: IdempotencyKeys
    observer: AsyncEngine

    async def count(self, statement: object) -> int:
        async with self.observer.connect() as connection:
            return int((await connection.execute(statement)).scalar_one())  # type: ignore[call-overload]


@pytest.fixture(scope="module")
def proof() -> Iterator[Proof]:
    prefix = f"mintaka_idem_{uuid.uuid4().hex[:10]}"
    metadata, orders, keys = proof_tables(prefix)
    with postgres_tables(metadata) as (url, observer):
        env = {"MINTAKA_PROOF_DATABASE_URL": url, "MINTAKA_PROOF_TABLES": prefix}
        with serve(APP, env, workers=2) as server:
            yield Proof(server, orders, keys, observer)


async def send(
    client: httpx.AsyncClient, key: str, item: int, fault: str = ""
) -> tuple[httpx.Response, int]:
    """POST one create; retry while it answers 409. The answer, and how many 409s it met."""
    conflicts = 0
    while True:
        response = await client.post(
            "/orders",
            json={"item": item},
            params={"fault": fault} if fault else {},
            headers={"Idempotency-Key": key},
        )
        if response.status_code != 409:
            return response, conflicts
        conflicts += 1
        await anyio.sleep(RETRY_409_AFTER)


async def test_500_creates_sent_three_times_place_500_orders_and_answer_alike(
    proof: Proof,
) -> None:
    async with one_connection_per_request(proof.server.base_url) as client:

        async def create(item: int) -> tuple[list[httpx.Response], int]:
            key = f"create-{item}"
            answers: list[tuple[httpx.Response, int]] = []

            async def copy() -> None:
                answers.append(await send(client, key, item))

            async with anyio.create_task_group() as group:
                group.start_soon(copy)
                group.start_soon(copy)
            await copy()
            return [a for a, _ in answers], sum(c for _, c in answers)

        results = await run_limited(CONCURRENCY, [partial(create, i) for i in range(CREATES)])

    orders = await proof.count(select(func.count()).select_from(proof.orders))
    originals = [[a for a in answers if REPLAYED_HEADER not in a.headers] for answers, _ in results]
    alike = sum(len({(a.status_code, a.content) for a in answers}) == 1 for answers, _ in results)
    conflicts = sum(c for _, c in results)
    print(
        f"\n{CREATES} creates x 3 sends (2 at once, 1 after): {orders} orders; "
        f"{alike} creates answered alike 3 times; {conflicts} 409s retried"
    )
    assert orders == CREATES
    assert alike == CREATES
    assert all(len(o) == 1 and o[0].status_code == 201 for o in originals)


async def test_under_100_commit_faults_no_key_is_stored_for_an_order_that_does_not_exist(
    proof: Proof,
) -> None:
    async with one_connection_per_request(proof.server.base_url) as client:

        async def fault_then_retry(item: int) -> tuple[int, int]:
            key = f"fault-{item}"
            failed, _ = await send(client, key, item, fault="commit")
            retried, _ = await send(client, key, item)
            return failed.status_code, retried.status_code

        jobs = [partial(fault_then_retry, i) for i in range(FAULTS)]
        results = await run_limited(CONCURRENCY, jobs)

    keys, orders = proof.keys.table, proof.orders
    orphans = await proof.count(
        select(func.count())
        .select_from(keys)
        .where(~select(orders.c.id).where(orders.c.idempotency_key == keys.c.key).exists())
    )
    faulted = await proof.count(
        select(func.count()).select_from(orders).where(orders.c.idempotency_key.like("fault-%"))
    )
    print(
        f"\n{FAULTS} commit faults: first sends {sorted({f for f, _ in results})}, "
        f"retries {sorted({r for _, r in results})}; {faulted} orders; "
        f"{orphans} stored keys without their order"
    )
    assert all(result == (500, 201) for result in results)
    assert faulted == FAULTS
    assert orphans == 0
