"""What reading from a replica costs, measured side by side in one process.

Two targets (from the issue "Reads from PostgreSQL replicas that still show every client
its own writes"):

1. A read session with replicas costs at most 1.05x a plain read-only session on the
   primary, at replica lag 0: measured for a request without a position (the read goes
   to the replica in turn) and for one that carries the position of an earlier write
   (the replica must have replayed it; it has, so the read stays there).
2. A request that uses no session pays nothing: a route without a session on an app
   whose other routes read from replicas, against the same route on an app without them.

Every app is FastAPI with `GET /notes/{n}` on `ResponseScopedRoute`; the endpoint reads one
row by its key through the session it depends on. The variants run in interleaved rounds
whose order rotates, timed by raw ASGI calls; the verdict is the median of the per-round
ratios, printed with their quartiles.

The primary and its streaming replica are the test suite's own (`tests/_replica_cluster.py`:
`initdb` and `pg_basebackup -R` of Debian's PostgreSQL 15, as the `postgres` user, in a
temporary folder, on free ports), or yours: `--primary URL --replica URL`
(`postgresql+asyncpg://`; the replica streaming from that primary).

Run it with `hatch run bench:replicas`.
"""

import asyncio
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine

from benchmarks.response_scope_cost import (
    SCOPE,
    Variant,
    arguments,
    compare,
    discard,
    interleave,
    print_medians,
    receive,
)
from mintaka.core.fastapi import ResponseScopedRoute
from mintaka.depends.sqlalchemy import ReadReplicas, transactional_session
from testing.asgi import call
from testing.replica_cluster import ReplicaCluster, replica_cluster_at, server_binaries

READ_TARGET = 1.05
NO_SESSION_TARGET = 1.01
HEADER = "Mintaka-WAL-Position"
TABLE = f"bench_replica_notes_{uuid.uuid4().hex[:8]}"
ROWS = 100


def notes_app(get_session: Any) -> FastAPI:
    """`GET /notes/{n}` reads note `n` in `get_session`'s session; `GET /health` has none."""
    router = APIRouter(route_class=ResponseScopedRoute)
    query = text(f"SELECT body FROM {TABLE} WHERE id = :n")

    @router.get("/notes/{n}")
    async def read(n: int, db: Annotated[AsyncSession, Depends(get_session)]) -> dict[str, Any]:
        return {"body": (await db.execute(query, {"n": n})).scalar_one()}

    @router.get("/where")
    async def where(db: Annotated[AsyncSession, Depends(get_session)]) -> dict[str, bool]:
        recovery = await db.execute(text("SELECT pg_is_in_recovery()"))
        return {"replica": bool(recovery.scalar_one())}

    @router.get("/health")
    async def health() -> dict[str, bool]:
        return {"ok": True}

    app = FastAPI()
    app.include_router(router)
    return app


class Requests:
    """Sends `GET path` to one app, each with the next note's key, optionally a position."""

    def __init__(self, app: FastAPI, path: str, position: str | None = None) -> None:
        self.app = app
        self.path = path
        self.headers = [(b"host", b"bench")]
        if position is not None:
            self.headers.append((HEADER.lower().encode(), position.encode()))
        self.statuses: set[int] = set()
        self.sent = 0

    async def __call__(self, _scope: Any, receive_: Any, send: Any) -> None:
        """One request to the app."""
        self.sent += 1
        path = self.path.format(n=self.sent % ROWS)
        scope = {**SCOPE, "path": path, "raw_path": path.encode(), "headers": self.headers}

        async def keep(message: Any) -> None:
            if message["type"] == "http.response.start":
                self.statuses.add(message["status"])
            await send(message)

        await self.app(scope, receive_, keep)


@contextmanager
def servers(primary: str, replica: str) -> Iterator[tuple[str, str]]:
    """The URLs given, or the test suite's own primary and replica, started here."""
    if primary and replica:
        yield primary, replica
        return
    bindir = server_binaries()
    if bindir is None:
        raise SystemExit(
            "the PostgreSQL server binaries (initdb, pg_ctl, pg_basebackup) are missing: "
            "install Debian's postgresql-15, or pass --primary URL --replica URL"
        )
    cluster: ReplicaCluster
    with replica_cluster_at(bindir) as cluster:
        yield cluster.primary_url, cluster.replica_url


async def prepare(primary_url: str) -> str:
    """Create and fill the benchmark's table on the primary; the position after the fill."""
    engine = create_async_engine(primary_url)
    try:
        async with engine.begin() as connection:
            await connection.execute(text(f"CREATE TABLE {TABLE} (id int PRIMARY KEY, body text)"))
            await connection.execute(
                text(f"INSERT INTO {TABLE} SELECT n, 'note ' || n FROM generate_series(0, :z) n"),
                {"z": ROWS - 1},
            )
        async with engine.connect() as connection:
            now = await connection.execute(text("SELECT pg_current_wal_insert_lsn()::text"))
            return str(now.scalar_one())
    finally:
        await engine.dispose()


async def replayed(replica_url: str, position: str) -> None:
    """Wait until the replica has replayed `position` (lag 0: it takes milliseconds)."""
    engine = create_async_engine(replica_url)
    deadline = time.monotonic() + 30
    try:
        async with engine.connect() as connection:
            while time.monotonic() < deadline:
                behind = await connection.execute(
                    text("SELECT pg_last_wal_replay_lsn() < CAST(CAST(:p AS text) AS pg_lsn)"),
                    {"p": position},
                )
                if not behind.scalar_one():
                    return
                await asyncio.sleep(0.01)
    finally:
        await engine.dispose()
    raise SystemExit(f"the replica did not replay {position} within 30 s")


async def drop(primary_url: str) -> None:
    engine = create_async_engine(primary_url)
    try:
        async with engine.begin() as connection:
            await connection.execute(text(f"DROP TABLE IF EXISTS {TABLE}"))
    finally:
        await engine.dispose()


async def measure(
    primary_url: str, replica_url: str, rounds: int, requests: int, warmup: int
) -> list[Variant]:
    """Run the five variants against the primary and the replica."""
    position = await prepare(primary_url)
    try:
        await replayed(replica_url, position)
        primary = async_sessionmaker(create_async_engine(primary_url))
        replicas = ReadReplicas([async_sessionmaker(create_async_engine(replica_url))])
        plain = notes_app(transactional_session(primary, read_only=True))
        routed = notes_app(transactional_session(primary, read_only=True, replicas=replicas))
        senders = [
            Requests(plain, "/notes/{n}"),
            Requests(routed, "/notes/{n}"),
            Requests(routed, "/notes/{n}", position=position),
            Requests(plain, "/health"),
            Requests(routed, "/health"),
        ]
        found = [
            Variant("read-only session on the primary", senders[0]),
            Variant("read session with replicas, no position", senders[1]),
            Variant("read session with replicas, a replayed position", senders[2]),
            Variant("no session, app without replicas", senders[3]),
            Variant("no session, app with replicas", senders[4]),
        ]

        for sender, expected in zip(senders[:3], (False, True, True), strict=True):
            served = await call(sender.app, "/where", headers=sender.headers)
            if served.body != f'{{"replica":{str(expected).lower()}}}'.encode():
                raise SystemExit(f"{sender.path} was not read where it should be: {served.body!r}")

        async def block(variant: Variant) -> float:
            started = time.perf_counter()
            for _ in range(requests):
                await variant.app(SCOPE, receive, discard)
            return (time.perf_counter() - started) / requests

        await interleave(found, rounds, warmup, block)
        statuses = [sender.statuses for sender in senders]
        if statuses != [{200}] * len(senders):
            raise SystemExit(f"a variant did not answer 200 every time: {statuses}")
        return found
    finally:
        await drop(primary_url)


def main(argv: list[str] | None = None) -> int:
    """Measure, print the medians and the ratios; return 1 when a target is missed."""
    parser = arguments(__doc__.splitlines()[0], rounds=60, requests=50, warmup=3)
    parser.add_argument("--primary", default="", help="a postgresql+asyncpg:// URL of your primary")
    parser.add_argument("--replica", default="", help="a URL of its streaming replica")
    args = parser.parse_args(argv)
    if bool(args.primary) != bool(args.replica):
        parser.error("--primary and --replica go together")
    with servers(args.primary, args.replica) as (primary_url, replica_url):
        found = asyncio.run(
            measure(primary_url, replica_url, args.rounds, args.requests, args.warmup)
        )
    print_medians(found, "PostgreSQL primary and streaming replica, lag 0")
    met = compare(
        "read, no position:  with replicas / on the primary", found[1], found[0], READ_TARGET
    )
    met &= compare(
        "read, a position:   with replicas / on the primary", found[2], found[0], READ_TARGET
    )
    met &= compare("no session: app with replicas / without", found[4], found[3], NO_SESSION_TARGET)
    return int(not met)


if __name__ == "__main__":
    sys.exit(main())
