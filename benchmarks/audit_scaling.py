"""How long `audit_dependencies` takes, and how its time grows with the number of routes.

Targets (from the issue "mintaka-routes --audit"): auditing an app of 2,000 routes with 5
dependencies each takes under 2 seconds, and the time grows linearly with the number of
routes: 2,000 routes against 200 take at most 12 times as long.

Each app is built from the same parts: routers of 100 routes under a `Router` (response
scope), each route with five dependencies — a response-scoped session, a request-scoped
`yield` service on a plain dependency, a class dependency, and a router-level
`dependencies=[...]` entry — and every route has its own endpoint. The routers are
included into a FastAPI app with a prefix, so FastAPI 0.137+ includes them lazily and
older versions copy them. Building the apps is not timed. Each size is audited
`--rounds` times, alternating, and the median is reported.

Run it with `hatch run hatch-test:python benchmarks/audit_scaling.py` (newest FastAPI), or with
a `compat` cell's environment for another version
(`hatch run compat.py3.11-0.110.0:python benchmarks/audit_scaling.py`).
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import AsyncIterator  # noqa: TC003 - the audit reads it at runtime
from typing import Annotated, Any

import fastapi
from fastapi import Depends, FastAPI

from mintaka.depends import response_scoped_dependency
from mintaka.introspect import audit_dependencies
from mintaka.router import Router

TIME_TARGET = 2.0
RATIO_TARGET = 12.0
ROUTES_PER_ROUTER = 100


@response_scoped_dependency
async def get_session() -> AsyncIterator[str]:
    yield "session"


async def get_settings() -> dict[str, str]:
    return {}


async def get_service(
    settings: Annotated[dict[str, str], Depends(get_settings)],
) -> AsyncIterator[str]:
    yield "service"


class Pagination:
    """A class dependency, as FastAPI's tutorial writes query parameters."""

    def __init__(self, limit: int = 10) -> None:
        self.limit = limit


async def check_token() -> None:
    return None


def build_app(routes: int) -> FastAPI:
    app = FastAPI(docs_url=None, redoc_url=None, openapi_url=None)
    for first in range(0, routes, ROUTES_PER_ROUTER):
        router = Router(dependencies=[Depends(check_token)])
        for number in range(first, min(first + ROUTES_PER_ROUTER, routes)):

            async def endpoint(
                session: Annotated[str, Depends(get_session)],
                service: Annotated[str, Depends(get_service)],
                page: Annotated[Pagination, Depends()],
            ) -> int:
                return page.limit

            endpoint.__name__ = endpoint.__qualname__ = f"endpoint_{number}"
            router.add_api_route(f"/items/{number}", endpoint, methods=["GET"])
        app.include_router(router, prefix=f"/r{first // ROUTES_PER_ROUTER}")
    return app


def timed(app: Any) -> float:
    start = time.perf_counter()
    audit = audit_dependencies(app)
    elapsed = time.perf_counter() - start
    assert all(len(route.dependencies) == 5 for route in audit.routes)
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small", type=int, default=200)
    parser.add_argument("--large", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()

    small, large = build_app(args.small), build_app(args.large)
    timed(small), timed(large)  # warm up: imports, FastAPI's caches
    times: dict[int, list[float]] = {args.small: [], args.large: []}
    for _ in range(args.rounds):
        times[args.small].append(timed(small))
        times[args.large].append(timed(large))
    median_small = statistics.median(times[args.small])
    median_large = statistics.median(times[args.large])
    ratio = median_large / median_small

    print(f"FastAPI {fastapi.__version__}, {args.rounds} rounds, 5 dependencies per route")
    for size, median in ((args.small, median_small), (args.large, median_large)):
        per_route = median / size * 1e6
        print(f"  {size:>5} routes: median {median * 1000:8.1f} ms ({per_route:.0f} µs/route)")
    verdict = "PASS" if median_large < TIME_TARGET else "MISS"
    print(f"  {args.large} routes under {TIME_TARGET:.0f} s: {verdict}")
    verdict = "PASS" if ratio <= RATIO_TARGET else "MISS"
    scale = args.large / args.small
    print(
        f"  ratio {args.large}/{args.small} routes: {ratio:.2f} "
        f"(x{scale:.0f} routes; target <= {RATIO_TARGET:.0f}): {verdict}"
    )


if __name__ == "__main__":
    main()
