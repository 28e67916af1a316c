"""What handling a request again costs the middleware on requests that never ask for it.

`ResponseScopeMiddleware` keeps the request body it hands the app and a copy of the
server's scope, so that it can call the app again when a context raises `HandleAgain`
(a transactional session with `retries`, on a conflict). This measures that bookkeeping
on requests that never conflict: the middleware of this checkout against the middleware
of a git revision from before it could handle a request again (`--baseline`, by default
the commit before it arrived), loaded from git into the same process and run side by
side, interleaved, on two apps: a FastAPI route whose transactional session (`retries=3`)
reads a row of a SQLite file, where the target is 1.01 (the issue "Conflicts retried
before the client hears anything"), and, for the absolute cost, a Starlette route that
enters one empty context.

Run it with `hatch run bench:handle-again` from a git checkout.
"""

import argparse
import asyncio
import importlib.util
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

from fastapi import APIRouter, Depends, FastAPI
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine
from starlette.applications import Starlette
from starlette.routing import Route

from benchmarks.middleware_cost import Variant, measure, read_notes_with_context, verdict
from benchmarks.response_scope_cost import arguments
from mintaka.core.asgi import ResponseScopeMiddleware
from mintaka.depends.sqlalchemy import transactional_session

if TYPE_CHECKING:
    from types import ModuleType

TARGET = 1.01
BASELINE = "db7829c"
"""The last commit of main whose middleware could not handle a request again."""
MODULE = "packages/core/src/mintaka/core/asgi.py"


def middleware_at(revision: str) -> type:
    """`ResponseScopeMiddleware` as the module was at `revision`, imported under another name."""
    source = subprocess.run(
        ["git", "show", f"{revision}:{MODULE}"],
        check=True,
        capture_output=True,
        text=True,
        cwd=Path(__file__).resolve().parent.parent,
    ).stdout
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "baseline_asgi.py"
        path.write_text(source)
        spec = importlib.util.spec_from_file_location("baseline_asgi", path)
        assert spec is not None
        assert spec.loader is not None
        module: ModuleType = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
    middleware: type = module.ResponseScopeMiddleware
    return middleware


def session_app(maker: async_sessionmaker[AsyncSession]) -> FastAPI:
    """GET /notes: a transactional session that may retry reads a row; no conflict."""
    get_session = transactional_session(maker, retries=3)
    router = APIRouter()

    @router.get("/notes")
    async def notes(session: Annotated[AsyncSession, Depends(get_session)]) -> dict[str, int]:
        return {"count": (await session.execute(text("SELECT 3"))).scalar_one()}

    app = FastAPI()
    app.include_router(router)
    return app


def starlette_app() -> Starlette:
    return Starlette(routes=[Route("/notes", read_notes_with_context)])


async def run(args: argparse.Namespace, found: list[Variant], folder: str) -> None:
    engine = create_async_engine(f"sqlite+aiosqlite:///{folder}/bench.db")
    maker = async_sessionmaker(engine)
    baseline = middleware_at(args.baseline)
    found += [
        Variant(f"session, middleware at {args.baseline}", baseline(session_app(maker))),
        Variant("session, this middleware", ResponseScopeMiddleware(session_app(maker))),
        Variant(f"one context, middleware at {args.baseline}", baseline(starlette_app())),
        Variant("one context, this middleware", ResponseScopeMiddleware(starlette_app())),
    ]
    await measure(found, args.rounds, args.requests, args.warmup)
    await engine.dispose()


def main(argv: list[str] | None = None) -> int:
    parser = arguments(
        __doc__.splitlines()[0], rounds=100, requests=100, warmup=5, baseline=BASELINE
    )
    args = parser.parse_args(argv)
    found: list[Variant] = []
    with tempfile.TemporaryDirectory() as folder:
        asyncio.run(run(args, found, folder))
    print(f"Python {sys.version.split()[0]}; requests that never conflict")
    for variant in found:
        median = sorted(variant.times)[len(variant.times) // 2]
        print(f"  {variant.name:<40}  {median * 1e6:8.2f} µs/request")
    met = verdict("session: this middleware / baseline", found[1], found[0], TARGET)
    print("For the absolute cost, on a request that does nothing else:")
    verdict("  one context: this middleware / baseline", found[3], found[2], TARGET)
    return int(not met)


if __name__ == "__main__":
    raise SystemExit(main())
