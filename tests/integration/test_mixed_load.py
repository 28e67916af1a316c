"""Mixed load over real TCP: 2,000 requests, 100 at a time, each on its own connection.

Reads of stored and missing items, valid writes, writes that fail at commit and invalid
bodies, shuffled together. Every answer is the one its own request called for (no 5xx,
no state from another request), every 201 is stored with its own text, no failed write
is stored, and the server still serves with its pool whole.
"""

import random
import uuid
from functools import partial

import httpx
import pytest

from tests.integration._database import ProofDatabase
from tests.integration._server import Server
from tests.integration._traffic import one_connection_per_request, run_limited, wait_until

pytestmark = [pytest.mark.integration, pytest.mark.server, pytest.mark.anyio]

REQUESTS = 2000
CONCURRENCY = 100
SEEDED = 50
KINDS = ("read", "write", "failing write", "invalid body", "missing")
EXPECTED = {"read": 200, "write": 201, "failing write": 409, "invalid body": 422, "missing": 404}
INVALID_BODIES = [
    b'{"key": "x", "text": ',  # malformed JSON
    b'{"key": 12, "text": ["not", "a", "string"]}',  # wrong types
    b'{"text": "no key"}',  # a required field missing
    b"[]",  # not an object
]


async def test_mixed_load_answers_each_request_for_itself(
    database: ProofDatabase, server: Server
) -> None:
    run = uuid.uuid4().hex[:8]
    seeded = {f"seed-{run}-{i}": f"text of seed {i} {uuid.uuid4().hex}" for i in range(SEEDED)}
    rng = random.Random(run)
    seeded_keys = sorted(seeded)
    plan = [(KINDS[index % len(KINDS)], index) for index in range(REQUESTS)]
    rng.shuffle(plan)

    async with one_connection_per_request(server.base_url) as client:
        for key, text in seeded.items():
            assert (await client.post("/items", json={"key": key, "text": text})).status_code == 201

        async def request(kind: str, index: int) -> tuple[str, httpx.Response, str]:
            key = f"{kind.replace(' ', '-')}-{run}-{index}"
            if kind == "read":
                key = rng.choice(seeded_keys)
                return kind, await client.get(f"/items/{key}"), key
            if kind == "missing":
                return kind, await client.get(f"/items/{key}"), key
            if kind == "write":
                body = {"key": key, "text": f"written by request {index}"}
                return kind, await client.post("/items", json=body), key
            if kind == "failing write":
                broken = {"key": key, "text": "never stored", "parent_id": -index - 1}
                return kind, await client.post("/items", json=broken), key
            content = INVALID_BODIES[index % len(INVALID_BODIES)]
            headers = {"Content-Type": "application/json"}
            return kind, await client.post("/items", content=content, headers=headers), key

        results = await run_limited(CONCURRENCY, [partial(request, *step) for step in plan])

        unexpected = [
            (kind, key, response.status_code, response.text)
            for kind, response, key in results
            if response.status_code != EXPECTED[kind]
        ]
        assert unexpected == [], server.tail()
        for kind, response, key in results:
            if kind == "read":
                assert response.json() == {"key": key, "text": seeded[key]}
            elif kind == "write":
                assert response.json()["key"] == key
            elif kind == "missing":
                assert key in response.json()["detail"]

        async def no_connection_checked_out() -> bool:
            return bool((await client.get("/diagnostics")).json()["checked_out"] == 0)

        await wait_until(no_connection_checked_out, server)
        assert (await client.get("/health")).status_code == 204

    stored = await database.stored(run)
    written = {key: str(r.json()["text"]) for kind, r, key in results if kind == "write"}
    assert stored == {**seeded, **written}
    assert await database.idle_in_transaction() == 0
