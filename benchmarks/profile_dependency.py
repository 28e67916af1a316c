"""Where a response-scoped dependency spends its time, against `Depends(scope="function")`.

    python -m benchmarks.profile_dependency [REQUESTS]
    hatch run hatch-test.py3.11-0.137.0:python -m benchmarks.profile_dependency

Runs the two apps of the per-request "one dependency" table under `cProfile` and prints
the Python function calls per request (deterministic, unlike times on a busy machine)
and where the time goes. The Benchmarks page quotes its figures.
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
from benchmarks.suite._features import Missing


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
    dependency = _apps.resource_dependency()
    scoped, scoped_name = _apps.fastapi_scoped(dependency)
    if "scope" not in scoped_name:
        raise Missing('needs Depends(scope="function"), FastAPI >= 0.121')
    apps: dict[str, ASGIApp] = {
        "ResponseScopedRoute + response_scoped_dependency": _apps.notes_app(
            _apps.route_class(), _apps.mintaka_scoped(dependency)
        ),
        f"APIRoute + {scoped_name}": _apps.notes_app(APIRoute, scoped),
    }
    for name, app in apps.items():
        await profile(name, app, requests)


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]) if len(sys.argv) > 1 else 3000))
