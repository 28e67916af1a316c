"""Conflicts retried over real TCP: no increment lost, none applied twice.

uvicorn serves `tests/integration/retry_service.py` on PostgreSQL twice: with
`retries=0` (the control) and with `retries=10`. Each proof sends 200 requests, 20 at a
time, each over its own connection:

* **serialization failures**: 200 read-modify-write increments of one counter under
  `SERIALIZABLE`. The control answers the losers of each race 503; with retries every
  request is answered 200 and the counter reads exactly 200;
* **deadlocks**: 200 requests that each add one to both rows of a pair, ten pairs, the
  requests of each pair alternating the order they lock its rows in. The control answers
  each deadlock's victim 503 (its increments rolled back); with retries every request is
  answered 200 and every row reads exactly 20;
* **a hot pair**: the same 200 requests all on one pair, where nearly every attempt
  deadlocks. Ten retries need not get all of them through (the proof prints how many do),
  and what the clients hear stays true: each 200 applied once, each 503 not at all.

The endpoints count their calls, so the proof also shows that the retried requests ran
the endpoint again. It prints its figures (`-s`).
"""

from __future__ import annotations

import re
import uuid
from collections import Counter
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING

import pytest
from sqlalchemy import select

from tests.integration._postgres import PROOF_MARKS, postgres_tables
from tests.integration._server import Server, serve
from tests.integration._traffic import one_connection_per_request, run_limited
from tests.integration.retry_service import counters_table

if TYPE_CHECKING:
    from collections.abc import Iterator

    import httpx
    from sqlalchemy import Table
    from sqlalchemy.ext.asyncio import AsyncEngine

pytestmark = PROOF_MARKS

APP = "tests.integration.retry_service:create_app"
REQUESTS = 200
CONCURRENCY = 20
RETRIES = 10


@dataclass
class Counters:
    """The proof's table on PostgreSQL, seen through an engine the app does not use."""

    url: str
    table: Table
    observer: AsyncEngine

    async def create(self, *names: str) -> None:
        async with self.observer.begin() as connection:
            await connection.execute(self.table.insert(), [{"name": n, "value": 0} for n in names])

    async def value(self, name: str) -> int:
        async with self.observer.connect() as connection:
            found = await connection.scalar(
                select(self.table.c.value).where(self.table.c.name == name)
            )
        assert found is not None, name
        return int(found)


@pytest.fixture(scope="module")
def counters() -> Iterator[Counters]:
    table = counters_table(f"mintaka_retry_{uuid.uuid4().hex[:10]}")
    with postgres_tables(table.metadata) as (url, observer):
        yield Counters(url, table, observer)


@dataclass
class RetryingServer:
    """uvicorn serving the conflicting endpoints with `retries`."""

    server: Server
    retries: int


@pytest.fixture(scope="module", params=[0, RETRIES], ids=["retries=0", f"retries={RETRIES}"])
def retrying(request: pytest.FixtureRequest, counters: Counters) -> Iterator[RetryingServer]:
    env = {
        "MINTAKA_PROOF_DATABASE_URL": counters.url,
        "MINTAKA_PROOF_TABLES": counters.table.name,
        "MINTAKA_PROOF_RETRIES": str(request.param),
    }
    with serve(APP, env) as server:
        yield RetryingServer(server, request.param)


async def send_all(server: Server, requests: list[tuple[str, dict[str, str]]]) -> Counter[int]:
    """POST every `(path, params)`, `CONCURRENCY` at a time; how many got each status."""
    async with one_connection_per_request(server.base_url) as client:

        async def post(path: str, params: dict[str, str]) -> httpx.Response:
            return await client.post(path, params=params)

        responses = await run_limited(CONCURRENCY, [partial(post, *r) for r in requests])
    return Counter(response.status_code for response in responses)


async def calls(server: Server) -> Counter[str]:
    async with one_connection_per_request(server.base_url) as client:
        return Counter((await client.get("/calls")).json())


def conflicts_logged(server: Server, since: int) -> dict[str, int]:
    """The conflicts the server logged after its first `since` lines, by SQLSTATE."""
    log = "".join(server.log[since:])
    return {code: log.count(f"({code}) on attempt") for code in ("40001", "40P01")}


def most_attempts(server: Server, since: int) -> int:
    """How many attempts the most retried request that was handled again made (1: none was).

    Counted from the retries logged after the server's first `since` lines: a request
    logged as retried on attempt n made at least n + 1 attempts.
    """
    log = "".join(server.log[since:])
    retried = [int(n) for n in re.findall(r"on attempt (\d+); handling the request again", log)]
    return max(retried, default=0) + 1


async def test_serializable_increments_lose_nothing_and_apply_nothing_twice(
    retrying: RetryingServer, counters: Counters
) -> None:
    server, retries = retrying.server, retrying.retries
    log_mark = len(server.log)
    name = f"counter-{uuid.uuid4().hex[:8]}"
    await counters.create(name)
    before = await calls(server)

    statuses = await send_all(server, [(f"/counters/{name}/increment", {})] * REQUESTS)

    value = await counters.value(name)
    ran = (await calls(server))["increment"] - before["increment"]
    print(
        f"\nconflict retries, PostgreSQL SERIALIZABLE, {REQUESTS} increments of one counter, "
        f"{CONCURRENCY} at a time, retries={retries}: {statuses[200]} answered 200, "
        f"{REQUESTS - statuses[200]} non-2xx {dict(statuses)}; counter {value}; "
        f"endpoint ran {ran} times; conflicts logged {conflicts_logged(server, log_mark)}; "
        f"most attempts by one request {most_attempts(server, log_mark)}"
    )
    # Every 200 is exactly one increment, and nothing else is: no lost update, no double.
    assert value == statuses[200]
    if retries:
        assert statuses == {200: REQUESTS}, server.tail()
        assert value == REQUESTS
        assert ran > REQUESTS  # the conflicting requests really ran the endpoint again
    else:
        assert set(statuses) <= {200, 503}, server.tail()
        assert statuses[503] > 0  # the control must race, or the proof proves nothing
        assert ran == REQUESTS


async def deadlocking_pairs(
    retrying: RetryingServer, counters: Counters, pairs: int
) -> tuple[Counter[int], list[int], int, dict[str, int]]:
    """`REQUESTS` requests over `pairs` pairs of rows, alternating the order of each pair.

    Returns the statuses, every row's final value, the endpoint's calls and the conflicts
    logged.
    """
    server = retrying.server
    log_mark = len(server.log)
    run = uuid.uuid4().hex[:8]
    names = [f"pair-{run}-{index}" for index in range(pairs)]
    await counters.create(*(f"{name}-{row}" for name in names for row in "ab"))
    before = await calls(server)
    requests = [
        (f"/pairs/{names[index % pairs]}", {"order": ("forward", "backward")[index // pairs % 2]})
        for index in range(REQUESTS)
    ]

    statuses = await send_all(server, requests)

    values = [await counters.value(f"{name}-{row}") for name in names for row in "ab"]
    ran = (await calls(server))["pair"] - before["pair"]
    return statuses, values, ran, conflicts_logged(server, log_mark)


async def test_opposite_lock_orders_deadlock_and_are_retried(
    retrying: RetryingServer, counters: Counters
) -> None:
    pairs = 10
    statuses, values, ran, logged = await deadlocking_pairs(retrying, counters, pairs)

    print(
        f"\nconflict retries, PostgreSQL, {REQUESTS} requests each locking two rows of "
        f"{pairs} pairs, in alternating orders, {CONCURRENCY} at a time, "
        f"retries={retrying.retries}: {statuses[200]} answered 200, "
        f"{REQUESTS - statuses[200]} non-2xx {dict(statuses)}; every row adds up to "
        f"{sum(values) // 2}; endpoint ran {ran} times; conflicts logged {logged}"
    )
    # Each row of a pair counts the requests answered 200 for it: none lost, none doubled.
    assert sum(values) == 2 * statuses[200]
    assert all(values[i] == values[i + 1] for i in range(0, len(values), 2))
    if retrying.retries:
        assert statuses == {200: REQUESTS}, retrying.server.tail()
        assert values == [REQUESTS // pairs] * (2 * pairs)
        assert ran > REQUESTS
    else:
        assert set(statuses) <= {200, 503}, retrying.server.tail()
        assert logged["40P01"] > 0  # the control must deadlock, or the proof proves nothing
        assert ran == REQUESTS


async def test_one_hot_pair_of_rows_loses_nothing_even_when_retries_run_out(
    retrying: RetryingServer, counters: Counters
) -> None:
    """All 200 requests on the same two rows: a deadlock for nearly every attempt.

    Ten retries need not get every request through this (the proof prints how many did),
    but what the clients hear stays true: each 200 is applied once, each 503 not at all.
    """
    statuses, values, ran, logged = await deadlocking_pairs(retrying, counters, 1)

    print(
        f"\nconflict retries, PostgreSQL, {REQUESTS} requests locking the same two rows in "
        f"alternating orders, {CONCURRENCY} at a time, retries={retrying.retries}: "
        f"{statuses[200]} answered 200, {REQUESTS - statuses[200]} non-2xx {dict(statuses)}; "
        f"rows {values}; endpoint ran {ran} times; conflicts logged {logged}"
    )
    assert set(statuses) <= {200, 503}, retrying.server.tail()
    assert values == [statuses[200]] * 2
    assert logged["40P01"] > 0
