"""What ResponseScopeMiddleware and the tracing hook cost, measured side by side in one run.

Targets (from the issue "The response scope for every ASGI framework"):

1. The middleware costs at most 3% per request against the same app without it, on a
   plain Starlette route and on a FastAPI route (requests that do not use the stack).
2. With tracing off, a response-scope exit costs nothing beyond one check: a request that
   enters one context on the stack, with `opentelemetry-api` installed but no tracer
   provider configured, against the same request with the extra treated as absent.

Every variant is driven with raw ASGI calls in one event loop. A round times `--requests`
requests of every variant, in an order rotated from round to round so that drift hits all
alike; the verdict is the median of the per-round ratios.

Run it with `hatch run bench:middleware`.
"""

import argparse
import asyncio
import gc
import statistics
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any, TypeAlias

import fastapi
from fastapi import FastAPI, Request
from starlette.applications import Starlette
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from mintaka.core import _tracing, response_stack
from mintaka.core.asgi import ResponseScopeMiddleware

MIDDLEWARE_TARGET = 1.03
TRACING_OFF_TARGET = 1.01

App: TypeAlias = Callable[[dict[str, Any], Any, Any], Awaitable[None]]


@dataclass
class Variant:
    """One app under measurement; `setup` runs before each of its timed blocks."""

    name: str
    app: App
    setup: Callable[[], None] = lambda: None
    times: list[float] = field(default_factory=list)


async def read_notes(request: Request) -> Response:
    return JSONResponse({"count": 3})


@asynccontextmanager
async def resource() -> AsyncIterator[None]:
    yield


async def read_notes_with_context(request: Request) -> Response:
    await response_stack(request).enter_async_context(resource())
    return JSONResponse({"count": 3})


class SendWrapper:
    """The floor: an ASGI middleware that does nothing but see every message sent."""

    def __init__(self, app: App) -> None:
        self.app = app

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        """Pass the request on, with `send` wrapped."""

        async def forward(message: dict[str, Any]) -> None:
            await send(message)

        await self.app(scope, receive, forward)


def starlette_app(middleware: Any = None) -> App:
    app = Starlette(routes=[Route("/notes", read_notes)])
    return app if middleware is None else middleware(app)


def fastapi_app(middleware: Any = None) -> App:
    app = FastAPI()

    @app.get("/notes")
    async def notes() -> dict[str, int]:
        return {"count": 3}

    if middleware is not None:
        app.add_middleware(middleware)
    return app


def set_tracing_available(available: bool) -> Callable[[], None]:  # noqa: FBT001
    def setup() -> None:
        _tracing.AVAILABLE = available  # type: ignore[misc]

    return setup


def variants() -> list[Variant]:
    with_context = ResponseScopeMiddleware(
        Starlette(routes=[Route("/notes", read_notes_with_context)])
    )
    return [
        Variant("Starlette", starlette_app()),
        Variant("Starlette + middleware", starlette_app(ResponseScopeMiddleware)),
        Variant("FastAPI", fastapi_app()),
        Variant("FastAPI + middleware", fastapi_app(ResponseScopeMiddleware)),
        Variant("one context, extra absent", with_context, set_tracing_available(False)),
        Variant("one context, tracing off", with_context, set_tracing_available(True)),
        Variant("Starlette + send wrapper (floor)", starlette_app(SendWrapper)),
        Variant("FastAPI + send wrapper (floor)", fastapi_app(SendWrapper)),
    ]


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


async def receive() -> dict[str, Any]:
    return {"type": "http.request", "body": b"", "more_body": False}


async def discard(message: dict[str, Any]) -> None:
    pass


async def check(variant: Variant) -> None:
    """Fail loudly if a variant does not answer 200 with the expected body."""
    sent: list[dict[str, Any]] = []

    async def keep(message: dict[str, Any]) -> None:
        sent.append(message)

    variant.setup()
    await variant.app(dict(SCOPE), receive, keep)
    if sent[0].get("status") != 200 or sent[1].get("body") != b'{"count":3}':
        raise SystemExit(f"{variant.name} answered {sent!r}; the benchmark is broken")


async def seconds_per_request(variant: Variant, requests: int) -> float:
    variant.setup()
    app = variant.app
    # CPU time of this thread: the machine may be shared, and time spent descheduled
    # while another process runs would be noise in both variants of a ratio.
    start = time.thread_time()
    for _ in range(requests):
        await app(dict(SCOPE), receive, discard)
    return (time.thread_time() - start) / requests


async def measure(found: list[Variant], rounds: int, requests: int, warmup: int) -> None:
    for variant in found:
        await check(variant)
    for round_number in range(warmup + rounds):
        shift = round_number % len(found)
        for variant in found[shift:] + found[:shift]:
            gc.collect()
            elapsed = await seconds_per_request(variant, requests)
            if round_number >= warmup:
                variant.times.append(elapsed)


def verdict(label: str, ours: Variant, theirs: Variant, target: float) -> bool:
    """Print the median and quartiles of the per-round ratios `ours / theirs`."""
    ratios = [mine / other for mine, other in zip(ours.times, theirs.times, strict=True)]
    low, median, high = statistics.quantiles(ratios, n=4)
    met = median <= target
    print(
        f"{label} = {median:.4f} (target <= {target:.2f}) {'PASS' if met else 'MISS'}; "
        f"quartiles {low:.4f} / {high:.4f}"
    )
    return met


def report(found: list[Variant]) -> int:
    print(f"FastAPI {fastapi.__version__}, Python {sys.version.split()[0]}")
    width = max(len(variant.name) for variant in found)
    for variant in found:
        median = statistics.median(variant.times)
        print(f"  {variant.name:<{width}}  {median * 1e6:8.2f} µs/request")
    met = verdict("Starlette + middleware / Starlette", found[1], found[0], MIDDLEWARE_TARGET)
    met &= verdict("FastAPI + middleware / FastAPI", found[3], found[2], MIDDLEWARE_TARGET)
    met &= verdict(
        "tracing off / extra absent (one context)", found[5], found[4], TRACING_OFF_TARGET
    )
    print("For scale, what any middleware that sees http.response.start costs at least:")
    verdict("  Starlette + send wrapper / Starlette", found[6], found[0], MIDDLEWARE_TARGET)
    verdict("  FastAPI + send wrapper / FastAPI", found[7], found[2], MIDDLEWARE_TARGET)
    return int(not met)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=200, help="measured rounds (200)")
    parser.add_argument("--requests", type=int, default=300, help="requests per variant and round")
    parser.add_argument("--warmup", type=int, default=10, help="rounds run but not counted")
    args = parser.parse_args(argv)
    if not _tracing.AVAILABLE:
        raise SystemExit("install opentelemetry-api to measure the cost of tracing when off")
    found = variants()
    asyncio.run(measure(found, args.rounds, args.requests, args.warmup))
    return report(found)


if __name__ == "__main__":
    raise SystemExit(main())
