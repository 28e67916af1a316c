"""What an `Idempotency-Key` costs a create, measured side by side in one process.

Two targets (from the issue "Idempotent POSTs"):

1. A request that carries a new key costs at most 1.15x the same request on the same route
   without `idempotent_requests` (one more row, inserted in the same transaction).
2. A request whose key is already stored (a replay) costs less than running the endpoint:
   below 1.0x the request without the feature.

Every app is FastAPI with one `POST /orders/{n}` on `ResponseScopedRoute` and an async
`transactional_session` of its own on the same SQLite file (or PostgreSQL). Two endpoint
shapes are measured, each against itself without the feature:

* **minimal**: no request body; the endpoint inserts a row of one column and returns a
  dict. The least work a create can do, so the feature's two statements weigh most;
* **typical**: a JSON body validated by a Pydantic model, a row of five columns inserted
  and flushed, the created order returned through a response model — a create as
  FastAPI's tutorials write one.

Each request of the first two variants of a shape has a path and a key of its own; the
replayed variant sends one stored key again. The variants run in interleaved rounds whose
order rotates, timed by raw ASGI calls; the verdict is the median of the per-round
ratios, printed with their quartiles.

Run it with `hatch run bench:idempotency`.
"""

import argparse
import asyncio
import itertools
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Annotated, Any

import fastapi
from fastapi import APIRouter, Depends, FastAPI
from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from benchmarks.response_scope_cost import (
    SCOPE,
    Variant,
    arguments,
    compare,
    discard,
    interleave,
    receive,
)
from mintaka.core.fastapi import ResponseScopedRoute
from mintaka.depends.sqlalchemy import IdempotencyKeys, idempotent_requests, transactional_session

NEW_KEY_TARGET = 1.15
REPLAY_TARGET = 1.0


class Base(DeclarativeBase):
    """The benchmark's tables."""


class Order(Base):
    """One order row per request that runs the endpoint."""

    __tablename__ = f"bench_orders_{uuid.uuid4().hex[:8]}"  # a shared PostgreSQL too
    id: Mapped[str] = mapped_column(primary_key=True)


class PlacedOrder(Base):
    """One order row per request of the typical shape."""

    __tablename__ = f"bench_placed_{uuid.uuid4().hex[:8]}"
    id: Mapped[str] = mapped_column(primary_key=True)
    customer: Mapped[str]
    item: Mapped[str]
    quantity: Mapped[int]
    note: Mapped[str]


class OrderIn(BaseModel):
    """The typical shape's request body."""

    customer: str
    item: str
    quantity: int
    note: str


class OrderOut(OrderIn):
    """The typical shape's response body."""

    id: str


TYPICAL_BODY = (
    OrderIn(customer="customer-4711", item="espresso beans, 1 kg", quantity=3, note="ring twice")
    .model_dump_json()
    .encode()
)
SHAPES = ("minimal", "typical")


def orders_app(url: str, keys: IdempotencyKeys | None, shape: str) -> FastAPI:
    """`POST /orders/{n}` creates order `n` in `shape`; idempotent when `keys` is given."""
    get_session = transactional_session(async_sessionmaker(create_async_engine(url)))
    router = APIRouter(route_class=ResponseScopedRoute)
    dependencies = [] if keys is None else [Depends(idempotent_requests(get_session, keys))]
    Db = Annotated[AsyncSession, Depends(get_session)]  # noqa: N806 - a type alias

    if shape == "minimal":

        @router.post("/orders/{n}", status_code=201, dependencies=dependencies)
        async def create(n: str, db: Db) -> dict[str, str]:
            db.add(Order(id=n))
            await db.flush()
            return {"id": n}

    else:

        @router.post("/orders/{n}", status_code=201, dependencies=dependencies)
        async def place(n: str, order: OrderIn, db: Db) -> OrderOut:
            row = PlacedOrder(id=n, **order.model_dump())
            db.add(row)
            await db.flush()
            return OrderOut(
                id=row.id,
                customer=row.customer,
                item=row.item,
                quantity=row.quantity,
                note=row.note,
            )

    app = FastAPI()
    app.include_router(router)
    return app


class Requests:
    """Calls an app with a path and a key of its own per request, or always the same."""

    counter = itertools.count()

    def __init__(self, app: FastAPI, name: str, *, body: bytes, same: bool = False) -> None:
        self.app = app
        self.name = name
        self.body = body
        self.same = same
        self.statuses: set[int] = set()

    async def __call__(self, _scope: Any, receive_: Any, send: Any) -> None:
        """Send one request to the app, with this variant's path and key."""
        n = "replayed" if self.same else f"{self.name}-{next(self.counter)}"
        scope = {
            **SCOPE,
            "method": "POST",
            "path": f"/orders/{n}",
            "raw_path": f"/orders/{n}".encode(),
            "headers": [
                (b"host", b"bench"),
                (b"idempotency-key", n.encode()),
                (b"content-type", b"application/json"),
                (b"content-length", str(len(self.body)).encode()),
            ],
        }
        message = {"type": "http.request", "body": self.body, "more_body": False}

        async def receive_body() -> Any:
            return message

        async def keep(message: Any) -> None:
            if message["type"] == "http.response.start":
                self.statuses.add(message["status"])
            await send(message)

        await self.app(scope, receive_body, keep)


async def run(found: list[Variant], rounds: int, requests: int, warmup: int) -> None:
    """Interleaved rounds, rotating the order, as `response_scope_cost.measure` does."""

    async def block(variant: Variant) -> float:
        start = time.perf_counter()
        for _ in range(requests):
            await variant.app(SCOPE, receive, discard)
        return (time.perf_counter() - start) / requests

    await interleave(found, rounds, warmup, block)


async def measure_at(
    url: str, shape: str, args: argparse.Namespace
) -> tuple[list[Variant], list[Requests], int]:
    """Create the tables at `url`, run the three variants of `shape`, drop the tables."""
    keys = IdempotencyKeys(name=f"bench_keys_{uuid.uuid4().hex[:8]}")
    engine = create_async_engine(url)
    async with engine.begin() as connection:
        await connection.run_sync(Base.metadata.create_all)
        await connection.run_sync(keys.create)
    body = TYPICAL_BODY if shape == "typical" else b""
    requests = [
        Requests(orders_app(url, None, shape), f"{shape}-plain", body=body),
        Requests(orders_app(url, keys, shape), f"{shape}-new", body=body),
        Requests(orders_app(url, keys, shape), f"{shape}-again", body=body, same=True),
    ]
    found = [
        Variant("no Idempotency-Key feature", requests[0]),
        Variant("a new Idempotency-Key", requests[1]),
        Variant("a replayed Idempotency-Key", requests[2]),
    ]
    try:
        await run(found, args.rounds, args.requests, args.warmup)
        async with engine.connect() as connection:
            stored = len((await connection.execute(keys.table.select())).all())
    finally:
        async with engine.begin() as connection:
            await connection.run_sync(keys.table.drop)
            await connection.run_sync(Base.metadata.drop_all)
        await engine.dispose()
    return found, requests, stored


def main(argv: list[str] | None = None) -> int:
    """Measure, print the medians and both ratios; return 1 when a target is missed."""
    parser = arguments(__doc__.splitlines()[0], rounds=60, requests=50, warmup=3)
    parser.add_argument(
        "--postgres", default="", help="a postgresql+asyncpg:// URL instead of a SQLite file"
    )
    args = parser.parse_args(argv)
    where = "PostgreSQL" if args.postgres else "SQLite file"
    print(f"FastAPI {fastapi.__version__}, Python {sys.version.split()[0]}, {where}")
    met = True
    for shape in SHAPES:
        with tempfile.TemporaryDirectory(prefix="mintaka-bench-") as folder:
            url = args.postgres or f"sqlite+aiosqlite:///{Path(folder) / 'bench.db'}"
            found, requests, stored = asyncio.run(measure_at(url, shape, args))
        print(f"{shape} create:")
        for variant in found:
            print(f"  {variant.name:<28}  {variant.median * 1e6:8.2f} µs/request (median)")
        statuses = tuple(each.statuses for each in requests)
        print(f"  statuses: {[sorted(s) for s in statuses]}; keys stored: {stored}")
        if statuses != ({201}, {201}, {201}) or not stored:
            print("a variant did not answer 201 every time; the benchmark is broken")
            return 2
        met &= compare(
            f"  {shape} new key: idempotent / without", found[1], found[0], NEW_KEY_TARGET
        )
        met &= compare(
            f"  {shape} replay:  replayed / running the endpoint",
            found[2],
            found[0],
            REPLAY_TARGET,
        )
    return int(not met)


if __name__ == "__main__":
    raise SystemExit(main())
