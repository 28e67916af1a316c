"""Where mintaka's per-request cost goes: the route and the dependency, under cProfile.

    python -m benchmarks.profile_costs [REQUESTS]
    hatch run compat.py3.11-0.137.0:python -m benchmarks.profile_costs

Runs the apps of the per-request tables "a plain endpoint" (`ResponseScopedRoute`
against `APIRoute`) and "one dependency" (`response_scoped_dependency` against
`Depends(scope="function")`, FastAPI 0.121 and newer) under `cProfile` and prints the
Python function calls per request (deterministic, unlike times on a busy machine) and
where the time goes. The Benchmarks page quotes its figures.
"""

from __future__ import annotations

import asyncio
import cProfile
import io
import pstats
import sys

import fastapi
from fastapi.routing import APIRoute

from benchmarks.suite import _apps
from benchmarks.suite._asgi import ASGIApp, seconds_per_request


async def profile(name: str, app: ASGIApp, requests: int) -> None:
    """Profile `requests` requests to `app` after a warm-up; print the summary."""
    await seconds_per_request(app, 200)
    profiler = cProfile.Profile()
    profiler.enable()
    await seconds_per_request(app, requests)
    profiler.disable()
    output = io.StringIO()
    stats = pstats.Stats(profiler, stream=output)
    calls = sum(entry[1] for entry in stats.stats.values())  # type: ignore[attr-defined]
    print(f"== {name}: {calls / requests:.0f} Python function calls per request")
    stats.sort_stats("tottime").print_stats(12)
    print("\n".join(line for line in output.getvalue().splitlines() if "(" in line))


async def main(requests: int) -> None:
    print(f"FastAPI {fastapi.__version__}, {requests:,} requests per app")
    apps: dict[str, ASGIApp] = {
        "ResponseScopedRoute": _apps.notes_app(_apps.route_class()),
        "APIRoute": _apps.notes_app(APIRoute),
    }
    dependency = _apps.resource_dependency()
    scoped, scoped_name = _apps.fastapi_scoped(dependency)
    if "scope" in scoped_name:
        apps["ResponseScopedRoute + response_scoped_dependency"] = _apps.notes_app(
            _apps.route_class(), _apps.mintaka_scoped(dependency)
        )
        apps[f"APIRoute + {scoped_name}"] = _apps.notes_app(APIRoute, scoped)
    else:
        print('dependency: skipped, Depends(scope="function") needs FastAPI >= 0.121')
    for name, app in apps.items():
        await profile(name, app, requests)


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]) if len(sys.argv) > 1 else 3000))
