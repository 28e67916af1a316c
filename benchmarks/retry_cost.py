"""What `transactional_session(retries=...)` costs, measured side by side in one process.

Two figures (from the issue "Conflicts retried before the client hears anything"):

1. On requests that never conflict, the retry machinery costs at most 1.01x: a route
   whose session has `retries=3` against the same route on mintaka-core and
   mintaka-depends as they were before requests could be handled again (`--baseline`, by
   default the commit before `retries` arrived), loaded from git under another package
   name as in `on_commit_cost.py`. The same route with `retries=0` is printed beside
   them. Every app is FastAPI with one `GET /notes` on `ResponseScopedRoute` whose async
   session reads one row of the same SQLite file; interleaved rounds, the verdict is the
   median of the per-round ratios, printed with their quartiles.
2. The latency of a request that needed one retry: `POST /notes` writes a row; on the
   conflicting variant's first attempt a connection of the benchmark holds SQLite's
   write lock, so the flush meets a real "database is locked", and the request is handled
   again. Its median against the same write with no conflict; the difference is the
   failed attempt, the rollback and the jittered backoff before the second attempt
   (uniform between half and all of `FIRST_DELAY`, 50 ms: 37.5 ms on average).

Run it with `hatch run bench:retries` from a git checkout.
"""

import asyncio
import sqlite3
import statistics
import tempfile
import time
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.routing import APIRoute
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine

from benchmarks.on_commit_cost import baseline_at
from benchmarks.response_scope_cost import Variant, arguments, compare, measure, print_medians
from benchmarks.session_cost import Counter, counter_database
from mintaka.core import request_attempt
from mintaka.core.fastapi import ResponseScopedRoute
from mintaka.depends._conflicts import FIRST_DELAY
from mintaka.depends.sqlalchemy import transactional_session
from testing.asgi import call

TARGET = 1.01
BASELINE = "a7813c9"
"""The last commit of main before `retries` (and `HandleAgain`) arrived."""


def read_app(route_class: type[APIRoute], get_session: Any) -> FastAPI:
    """`GET /notes` reads the counter row in the session `get_session` provides."""
    router = APIRouter(route_class=route_class)

    @router.get("/notes")
    async def read(db: Annotated[AsyncSession, Depends(get_session)]) -> dict[str, int]:
        counter = await db.get(Counter, 1)
        return {"count": counter.count if counter else 0}

    app = FastAPI()
    app.include_router(router)
    return app


class WriteLock:
    """A connection of the benchmark's own that holds SQLite's write lock while taken."""

    def __init__(self, path: Path) -> None:
        self._connection = sqlite3.connect(str(path), isolation_level=None)
        self.taken = 0

    def take(self) -> None:
        """Hold the write lock until `release`."""
        self._connection.execute("BEGIN IMMEDIATE")
        self.taken += 1

    def release(self) -> None:
        """Let the lock go, if held."""
        if self._connection.in_transaction:
            self._connection.execute("ROLLBACK")

    def close(self) -> None:
        """Let the lock go and close the connection."""
        self.release()
        self._connection.close()


def write_app(url: str, lock: WriteLock) -> FastAPI:
    """`POST /notes?conflict=true` meets a locked database on its first attempt."""
    # timeout=0: a locked database is reported at once, not after the driver's 5 s wait.
    engine = create_async_engine(url, connect_args={"timeout": 0})
    get_session = transactional_session(async_sessionmaker(engine), retries=3)
    router = APIRouter(route_class=ResponseScopedRoute)

    @router.post("/notes")
    async def write(
        db: Annotated[AsyncSession, Depends(get_session)],
        request: Request,
        *,
        conflict: bool,
    ) -> dict[str, int]:
        if conflict and request_attempt(request) == 1:
            lock.take()
        try:
            counter = await db.get(Counter, 1)
            assert counter is not None
            counter.count += 1
            await db.flush()
        finally:
            lock.release()
        return {"attempt": request_attempt(request) or 1}

    app = FastAPI()
    app.include_router(router)
    return app


async def one_retry_latency(app: FastAPI, requests: int) -> tuple[float, float]:
    """Median seconds of a write without and with one retry, alternating the two."""
    times: dict[bool, list[float]] = {False: [], True: []}
    for index in range(2 * requests):
        conflict = index % 2 == 1
        started = time.perf_counter()
        exchange = await call(app, f"/notes?conflict={str(conflict).lower()}", method="POST")
        times[conflict].append(time.perf_counter() - started)
        expected = b'{"attempt":2}' if conflict else b'{"attempt":1}'
        if (exchange.status, exchange.body) != (200, expected):
            raise RuntimeError(f"the write answered {exchange.status} {exchange.body!r}")
    return statistics.median(times[False]), statistics.median(times[True])


def main(argv: list[str] | None = None) -> int:
    parser = arguments(
        __doc__.splitlines()[0], rounds=100, requests=100, warmup=5, baseline=BASELINE
    )
    parser.add_argument("--writes", type=int, default=200, help="writes of each kind (200)")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="mintaka-bench-") as folder:
        path = Path(folder) / "bench.db"
        engine, url = counter_database(path)
        engine.dispose()

        def maker() -> async_sessionmaker[AsyncSession]:
            return async_sessionmaker(create_async_engine(url))

        old_route, old_session = baseline_at(args.baseline, Path(folder) / "baseline")
        found = [
            Variant(f"code at {args.baseline}", read_app(old_route, old_session(maker()))),
            Variant("retries=0", read_app(ResponseScopedRoute, transactional_session(maker()))),
            Variant(
                "retries=3",
                read_app(ResponseScopedRoute, transactional_session(maker(), retries=3)),
            ),
        ]
        asyncio.run(measure(found, args.rounds, args.requests, args.warmup))
        lock = WriteLock(path)
        try:
            clean, retried = asyncio.run(one_retry_latency(write_app(url, lock), args.writes))
        finally:
            lock.close()
    print_medians(found, "SQLite file")
    met = compare(f"no conflict: retries=3 / code at {args.baseline}", found[2], found[0], TARGET)
    compare("no conflict: retries=3 / retries=0", found[2], found[1], TARGET)
    print(
        f"one retry: a write that met one conflict {retried * 1e3:.2f} ms against "
        f"{clean * 1e3:.2f} ms without (medians of {args.writes} each, {lock.taken} conflicts "
        f"made); the retry added {(retried - clean) * 1e3:.2f} ms, the backoff "
        f"{FIRST_DELAY * 0.75 * 1e3:.1f} ms of it on average"
    )
    return int(not met)


if __name__ == "__main__":
    raise SystemExit(main())
