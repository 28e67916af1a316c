"""Read-your-write and false successes: mintaka's session beside a plain `yield` session.

The control for the integration suite (`tests/integration`). The same items app is
served twice by uvicorn in a process of its own on 127.0.0.1, once with mintaka's
`transactional_session` (commits before the response is sent) and once with the session
a FastAPI user writes as a plain `yield` dependency (commits in FastAPI's teardown,
after the response on FastAPI >= 0.118). Against each, the script runs:

* create-then-read pairs, every request on its own connection, at concurrency 1, 5 and
  50, without and with a modelled slow commit (a 10 ms sleep just before the commit),
  and counts the reads that did not find the item the client had just been told was
  created (misses);
* writes that fail at COMMIT (a deferred foreign key), and counts those answered with a
  2xx (false successes) and the 2xx answers whose write is not stored.

It runs on a SQLite file, and on PostgreSQL too when `MINTAKA_TEST_POSTGRES_URL` is set.
How often the control misses depends on timing (the machine, the load, the pool), which
is why this is a script that prints its counts and not a test that asserts them.

Run it with `hatch run bench:read-your-write` (`--pairs`, `--failing` to change the
counts).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import uuid
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import fastapi

from tests.integration._database import ProofDatabase, postgres_url, proof_database
from tests.integration._server import serve
from tests.integration._traffic import one_connection_per_request, read_your_write, run_limited

APP = "tests.integration.service:create_app"
VARIANTS = ("mintaka", "plain")
SLOW_COMMIT = 0.010
CASES = [(1, 0.0), (5, 0.0), (50, 0.0), (5, SLOW_COMMIT), (50, SLOW_COMMIT)]


@dataclass(frozen=True)
class Row:
    """One line of the report."""

    database: str
    variant: str
    case: str
    tried: int
    wrong: int
    what: str


async def false_successes(
    base_url: str, database: ProofDatabase, variant: str, failing: int
) -> list[Row]:
    """Send `failing` writes that break a deferred foreign key; count the 2xx answers."""
    run = uuid.uuid4().hex[:8]
    bodies = [{"key": f"fk-{run}-{i}", "text": "x", "parent_id": 999_999} for i in range(failing)]
    async with one_connection_per_request(base_url) as client:
        jobs = [partial(client.post, "/items", json=body) for body in bodies]
        responses = await run_limited(5, jobs)
    await asyncio.sleep(0.5)  # let the control's late commits finish (or fail)
    stored = await database.stored(run)
    answered_2xx = [b["key"] for b, r in zip(bodies, responses, strict=True) if r.is_success]
    lost = [key for key in answered_2xx if key not in stored]
    return [
        Row(database.dialect, variant, "fail at COMMIT", failing, len(answered_2xx), "2xx answers"),
        Row(database.dialect, variant, "fail at COMMIT", failing, len(lost), "2xx not stored"),
    ]


async def measure(database: ProofDatabase, pairs: int, failing: int) -> list[Row]:
    """Every case against both variants of the app on `database`."""
    rows: list[Row] = []
    for variant in VARIANTS:
        with serve(APP, database.app_env(variant)) as server:
            for concurrency, delay in CASES:
                result = await read_your_write(
                    server.base_url, pairs=pairs, concurrency=concurrency, commit_delay=delay
                )
                case = f"concurrency {concurrency}" + (
                    f", {delay * 1000:.0f} ms commit" if delay else ""
                )
                rows.append(Row(database.dialect, variant, case, pairs, result.misses, "misses"))
                progress = f"  {database.dialect:10} {variant:8} {case:30} misses {result.misses}"
                print(progress, flush=True)
            rows += await false_successes(server.base_url, database, variant, failing)
    return rows


def report(rows: list[Row]) -> None:
    """Print mintaka's figure beside the control's for every case."""
    print()
    print(f"FastAPI {fastapi.__version__}, Python {sys.version.split()[0]}")
    print(f"{'database':10} {'case':30} {'counted':14} {'tried':>6} {'mintaka':>8} {'plain':>6}")
    keys = dict.fromkeys((row.database, row.case, row.what) for row in rows)
    for database, case, what in keys:
        key = (database, case, what)
        found = {r.variant: r for r in rows if (r.database, r.case, r.what) == key}
        tried = "/".join(sorted({str(r.tried) for r in found.values()}))
        mintaka, plain = found["mintaka"].wrong, found["plain"].wrong
        print(f"{database:10} {case:30} {what:14} {tried:>6} {mintaka:>8} {plain:>6}")


def main(argv: list[str] | None = None) -> int:
    """Measure on SQLite and, when it is configured, on PostgreSQL; print the report."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pairs", type=int, default=300, help="create-read pairs per case")
    parser.add_argument("--failing", type=int, default=200, help="writes that fail at COMMIT")
    args = parser.parse_args(argv)
    urls = []
    with tempfile.TemporaryDirectory(prefix="mintaka-ryw-") as folder:
        urls.append(f"sqlite+aiosqlite:///{Path(folder) / 'ryw.db'}")
        if (postgres := postgres_url()) is not None:
            urls.append(postgres)
        else:
            print("MINTAKA_TEST_POSTGRES_URL is not set: SQLite only")
        rows: list[Row] = []
        for url in urls:
            with proof_database(url) as database:
                rows += asyncio.run(measure(database, args.pairs, args.failing))
    report(rows)
    return 0 if all(r.wrong == 0 for r in rows if r.variant == "mintaka") else 1


if __name__ == "__main__":
    sys.exit(main())
