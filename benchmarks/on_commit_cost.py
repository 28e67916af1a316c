"""What `on_commit` costs a request, measured side by side in one process.

Two targets (from the issue "After-commit effects: on_commit"):

1. A request that registers one `on_commit` callback costs at most 1.05x the same request
   that adds one FastAPI `BackgroundTasks` task doing the same work (an async function
   that counts its runs). Both run after the response has been sent.
2. A request that registers none costs at most 1.01x the same request on the code from
   before `on_commit` existed: mintaka-core and mintaka-depends as they were at a git
   revision (`--baseline`, by default the commit before `on_commit` arrived), loaded from
   git into this process under another package name (`mintaka_baseline`), so that its
   `ResponseScopedRoute` and `transactional_session` serve the baseline app. Everything
   that arrived since (`on_commit`, `after_response`, `retries`, the test kit's hooks) is
   in this checkout's figure, so the ratio bounds what `on_commit` adds from above.

Every app is FastAPI with one `GET /notes` on `ResponseScopedRoute`, an async
`transactional_session` of its own reading one row of the same SQLite file
(`session.get`), so each variant does the same database work and commits. The apps are
driven with raw ASGI calls in interleaved rounds whose order rotates, as in
`response_scope_cost.py`, whose measuring functions this script reuses; the verdict is the
median of the per-round ratios, printed with their quartiles.

Run it with `hatch run bench:on-commit` from a git checkout.
"""

import asyncio
import importlib
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, BackgroundTasks, Depends, FastAPI
from fastapi.routing import APIRoute
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine

from benchmarks.response_scope_cost import Variant, arguments, compare, measure, print_medians
from benchmarks.session_cost import Counter, counter_database
from mintaka.core.fastapi import ResponseScopedRoute
from mintaka.depends.sqlalchemy import on_commit, transactional_session

CALLBACK_TARGET = 1.05
NONE_TARGET = 1.01
BASELINE = "c9c6062"
"""The last commit of main before `on_commit` (and `after_response`) arrived."""
PACKAGES = ("core", "depends")
RENAMED = "mintaka_baseline"
ROOT = Path(__file__).resolve().parent.parent


class Runs:
    """How many times the effect ran, per variant: both must run it once per request."""

    def __init__(self) -> None:
        self.count = 0

    async def effect(self, count: int) -> None:
        """The work both the callback and the background task do."""
        self.count += count


def baseline_at(revision: str, folder: Path) -> tuple[type[APIRoute], Any]:
    """`ResponseScopedRoute` and `transactional_session` as they were at `revision`."""

    def git(*command: str) -> str:
        return subprocess.run(
            ["git", *command], check=True, capture_output=True, text=True, cwd=ROOT
        ).stdout

    for package in PACKAGES:
        sources = Path(f"packages/{package}/src/mintaka")
        for name in git("ls-tree", "-r", "--name-only", revision, str(sources / package)).split():
            if not name.endswith(".py"):
                continue
            source = git("show", f"{revision}:{name}")
            for renamed in PACKAGES:
                source = source.replace(f"mintaka.{renamed}", f"{RENAMED}.{renamed}")
            target = folder / RENAMED / Path(name).relative_to(sources)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(source)
    sys.path.insert(0, str(folder))
    route: type[APIRoute] = importlib.import_module(f"{RENAMED}.core.fastapi").ResponseScopedRoute
    session = importlib.import_module(f"{RENAMED}.depends.sqlalchemy").transactional_session
    return route, session


def app_with(route_class: type[APIRoute], get_session: Any, effect: str, runs: Runs) -> FastAPI:
    """`GET /notes` reads the counter; then `effect` is `none`, `on_commit` or `task`."""
    router = APIRouter(route_class=route_class)
    DB = Annotated[AsyncSession, Depends(get_session)]  # noqa: N806 - a type alias

    if effect == "on_commit":

        @router.get("/notes")
        async def read_with_callback(db: DB) -> dict[str, int]:
            counter = await db.get(Counter, 1)
            on_commit(db, runs.effect, 1)
            return {"count": counter.count if counter else 0}

    elif effect == "task":

        @router.get("/notes")
        async def read_with_task(db: DB, tasks: BackgroundTasks) -> dict[str, int]:
            counter = await db.get(Counter, 1)
            tasks.add_task(runs.effect, 1)
            return {"count": counter.count if counter else 0}

    else:

        @router.get("/notes")
        async def read(db: DB) -> dict[str, int]:
            counter = await db.get(Counter, 1)
            return {"count": counter.count if counter else 0}

    app = FastAPI()
    app.include_router(router)
    return app


def variants(folder: Path, revision: str) -> tuple[list[Variant], Runs, Runs]:
    """The callback pair, then the no-callback pair; and the two effects' counters."""
    engine, url = counter_database(folder / "bench.db")
    engine.dispose()

    def maker() -> async_sessionmaker[AsyncSession]:
        return async_sessionmaker(create_async_engine(url))

    old_route, old_session = baseline_at(revision, folder / "baseline")
    tasks, callbacks = Runs(), Runs()
    found = [
        Variant(
            "one BackgroundTasks task",
            app_with(ResponseScopedRoute, transactional_session(maker()), "task", tasks),
        ),
        Variant(
            "one on_commit callback",
            app_with(ResponseScopedRoute, transactional_session(maker()), "on_commit", callbacks),
        ),
        Variant(
            f"no callback, code at {revision}",
            app_with(old_route, old_session(maker()), "none", Runs()),
        ),
        Variant(
            "no callback, this code",
            app_with(ResponseScopedRoute, transactional_session(maker()), "none", Runs()),
        ),
    ]
    return found, tasks, callbacks


def report(found: list[Variant], tasks: Runs, callbacks: Runs, revision: str) -> int:
    """Print the medians and both ratios; return 1 when a target is missed."""
    print_medians(found, "SQLite file")
    print(f"  effects run: {tasks.count} by the tasks, {callbacks.count} by the callbacks")
    if tasks.count != callbacks.count or not callbacks.count:
        print("the callbacks and the tasks did not run alike; the benchmark is broken")
        return 2
    met = compare("one callback: on_commit / BackgroundTasks", found[1], found[0], CALLBACK_TARGET)
    met &= compare(f"no callback: this code / code at {revision}", found[3], found[2], NONE_TARGET)
    return int(not met)


def main(argv: list[str] | None = None) -> int:
    parser = arguments(
        __doc__.splitlines()[0], rounds=100, requests=100, warmup=5, baseline=BASELINE
    )
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="mintaka-bench-") as folder:
        found, tasks, callbacks = variants(Path(folder), args.baseline)
        asyncio.run(measure(found, args.rounds, args.requests, args.warmup))
    return report(found, tasks, callbacks, args.baseline)


if __name__ == "__main__":
    raise SystemExit(main())
