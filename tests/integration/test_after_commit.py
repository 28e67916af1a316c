"""`on_commit` over real TCP: a callback runs once for every committed write, and only then.

`POST /effects` (`tests/integration/service.py`) writes an item and registers an
`on_commit` callback that appends the item's key to a file. Mixed and shuffled, 20 at a
time, each over its own connection:

* 1,000 valid creates, each of whose keys must be in the file exactly once;
* 240 writes that fail at `COMMIT` (a deferred foreign key to no parent, or a taken unique
  `slot`, as in `test_no_false_success.py`), answered 409;
* 200 writes the endpoint refuses with a 4xx after registering its callback: 100 raise
  `HTTPException`, 100 return a `JSONResponse`;
* 100 valid creates whose callback raises once it has recorded the key.

None of the 440 failures may leave a key in the file; the 100 raising callbacks leave
their 100 rows committed and their 100 responses the same `201` as any other create.
The server counts the `/effects` requests whose app call (callbacks included) is not over,
so the test reads the file once that count is back to 0. It prints its figures (`-s`).
"""

import random
import uuid
from collections import Counter
from collections.abc import Iterator
from functools import partial
from pathlib import Path

import anyio
import pytest

from tests.integration._database import ProofDatabase
from tests.integration._server import Server, serve
from tests.integration._traffic import one_connection_per_request, run_limited, wait_until
from tests.integration.conftest import APP
from tests.integration.service import PARENT_ID

pytestmark = [pytest.mark.integration, pytest.mark.server, pytest.mark.anyio]

CREATES = 1000
COMMIT_FAULTS = 240
REFUSED = 200
RAISING = 100
CONCURRENCY = 20
RAISED = "the on_commit callback tests.integration.service.record_effect raised"


@pytest.fixture
def effects_log(tmp_path: Path) -> Path:
    path = tmp_path / "effects.log"
    path.touch()
    return path


@pytest.fixture
def effects_server(database: ProofDatabase, effects_log: Path) -> Iterator[Server]:
    """The test app on `database`, its `on_commit` callbacks appending to `effects_log`."""
    env = {**database.app_env(), "MINTAKA_PROOF_EFFECTS_LOG": str(effects_log)}
    with serve(APP, env) as server:
        yield server


def bodies(run: str, base: int) -> dict[str, dict[str, object]]:
    """Every request's body, by kind of request (the key's prefix) and index."""
    found: dict[str, dict[str, object]] = {}

    def add(kind: str, index: int, **columns: object) -> None:
        key = f"{kind}-{run}-{index}"
        found[key] = {"key": key, "text": key, **columns}

    for index in range(CREATES):
        add("create", index, parent_id=PARENT_ID)
    for index in range(COMMIT_FAULTS):
        # Even: a parent that does not exist; odd: a slot that is already taken.
        broken = {"parent_id": 999_999} if index % 2 == 0 else {"slot": base + index}
        add("fault", index, **broken)
    for index in range(REFUSED):
        add("refused", index, answer=404 + index % 2 * 18, raise_it=index % 2 == 0)
    for index in range(RAISING):
        add("raising", index, callback="raise")
    return found


async def test_callbacks_run_once_per_committed_write_and_never_for_a_failed_one(
    database: ProofDatabase, effects_server: Server, effects_log: Path
) -> None:
    server = effects_server
    run = uuid.uuid4().hex[:8]
    base = random.Random(run).randrange(1_000_000) * 1000
    taken = [
        {"key": f"taken-{run}-{i}", "text": "taken", "slot": base + i} for i in range(COMMIT_FAULTS)
    ]
    await database.insert(taken)
    writes = bodies(run, base)

    async with one_connection_per_request(server.base_url) as client:
        ordered = list(writes.values())
        random.Random(17).shuffle(ordered)
        jobs = [partial(client.post, "/effects", json=body) for body in ordered]
        responses = await run_limited(CONCURRENCY, jobs)

        async def callbacks_settled() -> bool:
            diagnostics = (await client.get("/diagnostics")).json()
            return bool(diagnostics["effects_in_flight"] == 0)

        await wait_until(callbacks_settled, server)

    answered = {str(body["key"]): r for body, r in zip(ordered, responses, strict=True)}
    runs = Counter((await anyio.Path(effects_log).read_text()).split())
    stored = await database.stored(run)

    def keys(kind: str) -> set[str]:
        return {key for key in writes if key.startswith(f"{kind}-")}

    def statuses(kind: str) -> Counter[int]:
        return Counter(answered[key].status_code for key in keys(kind))

    def ran(kind: str) -> int:
        return sum(count for key, count in runs.items() if key.startswith(f"{kind}-"))

    unchanged = sum(
        1 for key in keys("raising") if answered[key].json() == {"key": key, "text": key}
    )
    raised = server.log_text().count(RAISED)
    print(
        f"\non_commit over uvicorn, {database.dialect}, {CONCURRENCY} at a time: "
        f"{CREATES} creates -> {ran('create')} callback runs "
        f"({len(keys('create') & set(runs))} distinct keys, "
        f"{max(runs.values(), default=0)} at most per key); "
        f"{COMMIT_FAULTS} commit faults -> {ran('fault')} runs; "
        f"{REFUSED} returned 4xx -> {ran('refused')} runs; "
        f"{RAISING} raising callbacks -> {ran('raising')} runs, {raised} logged, "
        f"{len(keys('raising') & set(stored))} rows committed, "
        f"{unchanged} unchanged 201 responses"
    )
    assert statuses("create") == {201: CREATES}, server.tail()
    assert statuses("fault") == {409: COMMIT_FAULTS}
    assert statuses("refused") == {404: REFUSED // 2, 422: REFUSED // 2}
    assert statuses("raising") == {201: RAISING}
    assert runs == Counter(keys("create") | keys("raising"))  # each once, no other
    assert set(stored) == {row["key"] for row in taken} | keys("create") | keys("raising")
    assert unchanged == RAISING
    assert raised == RAISING
    assert all(answered[key].json() == {"key": key, "text": key} for key in keys("create"))
