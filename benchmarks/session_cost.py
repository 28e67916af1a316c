"""What a transactional session dependency costs, measured side by side in one process.

Two targets (from the issue "Sessions as people really use them"):

1. The sync session, `transactional_session(sessionmaker(engine))`, costs at most 1.10x
   FastAPI's plain sync `yield` session dependency doing the same work.
2. The async session, `transactional_session(async_sessionmaker(engine))`, costs at most
   1.05x the same session recipe with FastAPI's `Depends(..., scope="function")`
   (FastAPI >= 0.121).

Both recipes are what a user writes: a session with a transaction begun on it, committed
when the request went well. Every request reads one row of the same SQLite file
(`session.get`), so each variant does the same database work. The apps are driven with raw
ASGI calls in rounds whose order rotates, as in `response_scope_cost.py`, whose measuring
functions this script reuses; the verdict is the median of the per-round ratios.

Run it with `hatch run bench:sessions`, or for one FastAPI version
`hatch run compat.py3.11-0.121.0:python -m benchmarks.session_cost`.
"""

import asyncio
import tempfile
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI
from fastapi.routing import APIRoute
from sqlalchemy import Engine, create_engine
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, sessionmaker

from benchmarks.response_scope_cost import Variant, arguments, compare, measure, print_medians
from mintaka.core.fastapi import ResponseScopedRoute
from mintaka.depends.sqlalchemy import transactional_session

SYNC_TARGET = 1.10
ASYNC_TARGET = 1.05


class Base(DeclarativeBase):
    """The benchmark's table."""


class Counter(Base):
    """The one row every request reads: `{"count": 3}` is what the apps answer."""

    __tablename__ = "counters"

    id: Mapped[int] = mapped_column(primary_key=True)
    count: Mapped[int]


def app_with(route_class: type[APIRoute], session: Any, *, sync: bool) -> FastAPI:
    """An app whose `GET /notes` reads the counter through the `session` dependency."""
    router = APIRouter(route_class=route_class)
    if sync:

        @router.get("/notes")
        def read_sync(db: Annotated[Session, session]) -> dict[str, int]:
            counter = db.get(Counter, 1)
            return {"count": counter.count if counter else 0}

    else:

        @router.get("/notes")
        async def read_async(db: Annotated[AsyncSession, session]) -> dict[str, int]:
            counter = await db.get(Counter, 1)
            return {"count": counter.count if counter else 0}

    app = FastAPI()
    app.include_router(router)
    return app


def counter_database(path: Path) -> tuple[Engine, str]:
    """A SQLite file at `path` holding the counter row: its sync engine and aiosqlite URL."""
    engine = create_engine(f"sqlite:///{path}")
    Base.metadata.create_all(engine)
    with Session(engine) as session, session.begin():
        session.add(Counter(id=1, count=3))
    return engine, f"sqlite+aiosqlite:///{path}"


def variants(folder: Path) -> tuple[list[Variant], bool]:
    """The sync pair, then the async pair when FastAPI has `Depends(scope=...)`."""
    engine, url = counter_database(folder / "bench.db")
    sync_maker = sessionmaker(engine)
    async_maker = async_sessionmaker(create_async_engine(url))

    def sync_session() -> Iterator[Session]:
        with sync_maker() as session, session.begin():
            yield session

    async def async_session() -> AsyncIterator[AsyncSession]:
        async with async_maker() as session, session.begin():
            yield session

    found = [
        Variant(
            "FastAPI: sync yield session", app_with(APIRoute, Depends(sync_session), sync=True)
        ),
        Variant(
            "mintaka: transactional_session(sessionmaker)",
            app_with(ResponseScopedRoute, Depends(transactional_session(sync_maker)), sync=True),
        ),
    ]
    try:
        function_scoped = Depends(async_session, scope="function")
    except TypeError:
        return found, False
    found += [
        Variant(
            'FastAPI: async session, Depends(scope="function")',
            app_with(APIRoute, function_scoped, sync=False),
        ),
        Variant(
            "mintaka: transactional_session(async_sessionmaker)",
            app_with(ResponseScopedRoute, Depends(transactional_session(async_maker)), sync=False),
        ),
    ]
    return found, True


def report(found: list[Variant], *, has_scope: bool) -> int:
    """Print the medians and both ratios; return 1 when a target is missed."""
    print_medians(found, "SQLite file")
    met = compare("sync:  mintaka / FastAPI sync yield", found[1], found[0], SYNC_TARGET)
    if not has_scope:
        print('async: skipped, Depends(scope="function") needs FastAPI >= 0.121')
        return int(not met)
    met &= compare(
        'async: mintaka / FastAPI Depends(scope="function")', found[3], found[2], ASYNC_TARGET
    )
    return int(not met)


def main(argv: list[str] | None = None) -> int:
    parser = arguments(__doc__.splitlines()[0], rounds=100, requests=100, warmup=5)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="mintaka-bench-") as folder:
        found, has_scope = variants(Path(folder))
        asyncio.run(measure(found, args.rounds, args.requests, args.warmup))
    return report(found, has_scope=has_scope)


if __name__ == "__main__":
    raise SystemExit(main())
