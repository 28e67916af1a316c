"""No false success over real TCP: a write that fails at COMMIT is never answered 2xx.

Every failing write breaks a constraint that is only checked when the transaction
commits: a `DEFERRABLE INITIALLY DEFERRED` foreign key (both databases), and a unique
`slot` that is deferred on PostgreSQL and, on SQLite (which cannot defer a unique
constraint), violated by the `INSERT` the commit flushes. Valid writes run among them.
"""

import random
import uuid
from functools import partial

import pytest

from tests.integration._database import ProofDatabase
from tests.integration._server import Server
from tests.integration._traffic import one_connection_per_request, run_limited
from tests.integration.service import PARENT_ID

pytestmark = [pytest.mark.integration, pytest.mark.server, pytest.mark.anyio]

FAILING = 240
VALID = 60


async def test_writes_that_fail_at_commit_are_errors_and_store_nothing(
    database: ProofDatabase, server: Server
) -> None:
    run = uuid.uuid4().hex[:8]
    base = random.Random(run).randrange(1_000_000) * 1000
    # Every duplicate takes a slot of its own, so no two writes in flight wait on each
    # other's unique entry (on PostgreSQL they could deadlock at COMMIT instead).
    taken = [{"key": f"taken-{run}-{i}", "text": "taken", "slot": base + i} for i in range(FAILING)]
    await database.insert(taken)
    writes: dict[str, dict[str, object]] = {}
    for index in range(FAILING):
        key = f"bad-{run}-{index}"
        # Even: a parent that does not exist; odd: a slot that is already taken.
        broken = {"parent_id": 999_999} if index % 2 == 0 else {"slot": base + index}
        writes[key] = {"key": key, "text": key, **broken}
    for index in range(VALID):
        key = f"good-{run}-{index}"
        slot = base + FAILING + index
        writes[key] = {"key": key, "text": key, "parent_id": PARENT_ID, "slot": slot}

    async with one_connection_per_request(server.base_url) as client:
        ordered = list(writes.values())
        random.Random(13).shuffle(ordered)
        jobs = [partial(client.post, "/items", json=body) for body in ordered]
        responses = await run_limited(20, jobs)

    statuses = {str(body["key"]): r.status_code for body, r in zip(ordered, responses, strict=True)}
    stored = await database.stored(run)
    false_successes = [k for k, s in statuses.items() if k.startswith("bad-") and s < 400]
    answered_2xx_not_stored = [k for k, s in statuses.items() if s < 300 and k not in stored]
    stored_failures = [k for k in stored if k.startswith("bad-")]
    assert false_successes == [], server.tail()
    assert answered_2xx_not_stored == []
    assert stored_failures == []
    assert {s for k, s in statuses.items() if k.startswith("bad-")} == {409}
    assert {s for k, s in statuses.items() if k.startswith("good-")} == {201}
    good = {k for k in statuses if k.startswith("good-")}
    assert set(stored) == {row["key"] for row in taken} | good
