"""What a response scope costs, measured side by side in one process.

Two targets (from the issue "The response scope"):

1. A route on `ResponseScopedRoute` whose request never uses the stack costs within 2% of
   the same route on `APIRoute`.
2. A response-scoped dependency is no slower than the same async generator dependency with
   FastAPI's own `Depends(..., scope="function")` (FastAPI >= 0.121), which is what a user
   would otherwise write to close a resource before the response.

Every variant is a separate FastAPI app with one route, driven with raw ASGI calls (no
server, no client library) in the same event loop. A round times `--requests` requests
of every variant, in an order rotated from round to round so that drift (CPU frequency,
cache, the garbage collector) hits every variant alike. The script prints the median of
the per-round times of each variant, the median of the per-round ratios (the verdict,
PASS or MISS) and, to show the noise, their quartiles and the ratio of the medians.

Run it with `hatch run bench:run` (newest FastAPI) or, for one FastAPI version,
`hatch run compat.py3.11-0.121.0:python benchmarks/response_scope_cost.py`.
"""

import argparse
import asyncio
import gc
import statistics
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Annotated, Any, TypeAlias

import fastapi
from fastapi import APIRouter, Depends, FastAPI
from fastapi.routing import APIRoute

from mintaka.core.fastapi import ResponseScopedRoute
from mintaka.depends import response_scoped_dependency

ROUTE_TARGET = 1.02
DEPENDENCY_TARGET = 1.00

ASGIApp: TypeAlias = Callable[[dict[str, Any], Any, Any], Awaitable[None]]


@dataclass
class Variant:
    """One app under measurement and its per-round times (seconds per request)."""

    name: str
    app: ASGIApp
    times: list[float] = field(default_factory=list)
    garbage: float = 0.0

    @property
    def median(self) -> float:
        """The median of the per-round times."""
        return statistics.median(self.times)


class Resource:
    """What the dependency hands out: opened before the endpoint, closed after it."""

    __slots__ = ("open",)

    def __init__(self) -> None:
        self.open = True


async def resource() -> AsyncIterator[Resource]:
    """The same async generator dependency for FastAPI's scope and for mintaka's."""
    held = Resource()
    try:
        yield held
    finally:
        held.open = False


def route_app(route_class: type[APIRoute], dependency: Any = None) -> FastAPI:
    """An app with `GET /notes`, optionally depending on `dependency`."""
    router = APIRouter(route_class=route_class)
    if dependency is None:

        @router.get("/notes")
        async def read_notes() -> dict[str, int]:
            return {"count": 3}

    else:

        @router.get("/notes")
        async def read_notes_with(held: Annotated[Resource, dependency]) -> dict[str, int]:
            return {"count": 3 if held.open else -1}

    app = FastAPI()
    app.include_router(router)
    return app


def variants() -> tuple[list[Variant], bool]:
    """Every variant, and whether FastAPI has `Depends(scope=...)` (0.121 and newer)."""
    found = [
        Variant("APIRoute", route_app(APIRoute)),
        Variant("ResponseScopedRoute", route_app(ResponseScopedRoute)),
        Variant(
            "ResponseScopedRoute + response_scoped_dependency",
            route_app(ResponseScopedRoute, Depends(response_scoped_dependency(resource))),
        ),
    ]
    try:
        function_scoped = Depends(resource, scope="function")
    except TypeError:
        return found, False
    theirs = Variant('APIRoute + Depends(scope="function")', route_app(APIRoute, function_scoped))
    found.append(theirs)
    return found, True


SCOPE: dict[str, Any] = {
    "type": "http",
    "asgi": {"version": "3.0"},
    "http_version": "1.1",
    "method": "GET",
    "scheme": "http",
    "path": "/notes",
    "raw_path": b"/notes",
    "query_string": b"",
    "root_path": "",
    "headers": [(b"host", b"bench")],
    "client": ("127.0.0.1", 50000),
    "server": ("bench", 80),
}
REQUEST = {"type": "http.request", "body": b"", "more_body": False}


async def receive() -> dict[str, Any]:
    return REQUEST


async def discard(message: dict[str, Any]) -> None:
    pass


async def check(variant: Variant) -> None:
    """Fail loudly if a variant does not answer 200 with the expected body."""
    sent: list[dict[str, Any]] = []

    async def keep(message: dict[str, Any]) -> None:
        sent.append(message)

    await variant.app(dict(SCOPE), receive, keep)
    if sent[0].get("status") != 200 or sent[1].get("body") != b'{"count":3}':
        raise SystemExit(f"{variant.name} answered {sent!r}; the benchmark is broken")


async def time_requests(app: ASGIApp, requests: int) -> float:
    """Seconds per request for `requests` requests in a row."""
    scope = SCOPE
    start = time.perf_counter()
    for _ in range(requests):
        await app(dict(scope), receive, discard)
    return (time.perf_counter() - start) / requests


async def cyclic_garbage(app: ASGIApp, requests: int = 200) -> float:
    """Objects per request that only the cycle collector can free (0 for plain FastAPI).

    A reference cycle per request keeps the whole request (scope, Request, response)
    alive until the next collection: memory churn and collector time on every request.
    """
    gc.collect()
    gc.disable()
    try:
        for _ in range(requests):
            await app(dict(SCOPE), receive, discard)
        return gc.collect() / requests
    finally:
        gc.enable()


async def interleave(
    found: list[Variant], rounds: int, warmup: int, block: Callable[[Variant], Awaitable[float]]
) -> None:
    """`warmup + rounds` rounds of one timed `block` per variant, in a rotated order.

    `block` returns seconds per request; the first `warmup` rounds are not kept.
    """
    for round_number in range(warmup + rounds):
        shift = round_number % len(found)
        for variant in found[shift:] + found[:shift]:
            # The collector stays on, as in production; each block starts from a clean heap.
            gc.collect()
            per_request = await block(variant)
            if round_number >= warmup:
                variant.times.append(per_request)


async def measure(found: list[Variant], rounds: int, requests: int, warmup: int) -> None:
    for variant in found:
        await check(variant)
        variant.garbage = await cyclic_garbage(variant.app)

    async def block(variant: Variant) -> float:
        return await time_requests(variant.app, requests)

    await interleave(found, rounds, warmup, block)


def compare(label: str, ours: Variant, theirs: Variant, target: float) -> bool:
    """Print `ours / theirs` against `target`; return whether it is met.

    The verdict uses the median of the per-round ratios: both variants ran in the same
    round, so drift of the machine between rounds cancels out of each ratio. The ratio of
    the two medians and the quartiles of the per-round ratios show how much noise is left.
    """
    paired = statistics.quantiles(
        [mine / other for mine, other in zip(ours.times, theirs.times, strict=True)], n=4
    )
    ratio = paired[1]
    met = ratio <= target
    print(
        f"{label} = {ratio:.4f} (target <= {target:.2f}) {'PASS' if met else 'MISS'}; "
        f"quartiles of the per-round ratios {paired[0]:.4f} / {paired[2]:.4f}, "
        f"ratio of the medians {ours.median / theirs.median:.4f}"
    )
    return met


def report(found: list[Variant], *, has_scope: bool) -> int:
    """Print the medians and both ratios; return 1 when a target is missed."""
    print(f"FastAPI {fastapi.__version__}, Python {sys.version.split()[0]}")
    width = max(len(variant.name) for variant in found)
    for variant in found:
        print(
            f"  {variant.name:<{width}}  {variant.median * 1e6:8.2f} µs/request (median), "
            f"{variant.garbage:4.1f} objects/request left to the cycle collector"
        )
    met = compare("route:      ResponseScopedRoute / APIRoute", found[1], found[0], ROUTE_TARGET)
    if not has_scope:
        print('dependency: skipped, Depends(scope="function") needs FastAPI >= 0.121')
        return int(not met)
    met &= compare(
        'dependency: response_scoped_dependency / Depends(scope="function")',
        found[2],
        found[3],
        DEPENDENCY_TARGET,
    )
    return int(not met)


def print_medians(found: list[Variant], where: str) -> None:
    """The versions, the database (`where`) and each variant's median time per request."""
    print(f"FastAPI {fastapi.__version__}, Python {sys.version.split()[0]}, {where}")
    width = max(len(variant.name) for variant in found)
    for variant in found:
        print(f"  {variant.name:<{width}}  {variant.median * 1e6:8.2f} µs/request (median)")


def arguments(
    description: str, *, rounds: int, requests: int, warmup: int, baseline: str = ""
) -> argparse.ArgumentParser:
    """The options of a side-by-side benchmark, with its defaults; `--baseline` if given one.

    The script adds its own options to the parser and parses them.
    """
    parser = argparse.ArgumentParser(description=description)
    if baseline:
        parser.add_argument("--baseline", default=baseline, help=f"git revision ({baseline})")
    parser.add_argument("--rounds", type=int, default=rounds, help=f"measured rounds ({rounds})")
    parser.add_argument(
        "--requests", type=int, default=requests, help="requests per variant and round"
    )
    parser.add_argument("--warmup", type=int, default=warmup, help="rounds run but not counted")
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = arguments(__doc__.splitlines()[0], rounds=250, requests=300, warmup=10)
    args = parser.parse_args(argv)
    found, has_scope = variants()
    asyncio.run(measure(found, args.rounds, args.requests, args.warmup))
    return report(found, has_scope=has_scope)


if __name__ == "__main__":
    raise SystemExit(main())
