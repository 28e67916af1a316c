"""Read-your-write over real TCP: a 201 means the very next request sees the write.

Each pair creates an item and reads it back at once, each request on its own connection,
against uvicorn in a separate process. With mintaka's transactional session no read may
miss, at any concurrency, with a slow commit, and with two uvicorn workers. (The control,
the same app with a plain `yield` session, lives in `benchmarks/read_your_write.py`: how
often it misses depends on timing, so it is measured there, not asserted here.)
"""

import pytest

from tests.integration._database import ProofDatabase
from tests.integration._server import Server, serve
from tests.integration._traffic import read_your_write
from tests.integration.conftest import APP

pytestmark = [pytest.mark.integration, pytest.mark.server, pytest.mark.anyio]

# (concurrency, pairs, seconds of sleep just before the commit)
CASES = [(1, 20, 0.0), (5, 50, 0.0), (50, 150, 0.0), (5, 50, 0.01), (50, 100, 0.01)]


async def assert_no_misses(base_url: str, cases: list[tuple[int, int, float]]) -> None:
    results = {
        case: await read_your_write(
            base_url, pairs=case[1], concurrency=case[0], commit_delay=case[2]
        )
        for case in cases
    }
    broken = {case: r for case, r in results.items() if r.misses or r.failed_writes}
    assert not broken, f"(concurrency, pairs, commit delay) -> result: {broken}"


async def test_every_read_sees_the_write_just_created(server: Server) -> None:
    await assert_no_misses(server.base_url, CASES)


async def test_every_read_sees_the_write_with_two_workers(database: ProofDatabase) -> None:
    with serve(APP, database.app_env(), workers=2) as server:
        await assert_no_misses(server.base_url, [(5, 50, 0.0), (50, 100, 0.01)])
