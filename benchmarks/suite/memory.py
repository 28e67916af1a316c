"""Item 6: memory over many requests through a response-scoped route with a session.

`tracemalloc` traces every allocation while the requests run (raw ASGI calls, one event
loop); after each checkpoint the cycle collector runs and the traced size is read. The
growth from the first checkpoint (after a warm-up) to the last must stay under 1 MiB. The
objects each request leaves for the cycle collector are counted with the collector off
(0 means that reference counting frees every request).
"""

from __future__ import annotations

import asyncio
import gc
import tracemalloc
from typing import Any

from fastapi import Depends
from fastapi.routing import APIRoute

from benchmarks.suite import _apps
from benchmarks.suite._asgi import ASGIApp, cyclic_garbage, same_answers, seconds_per_request
from benchmarks.suite._section import Group, Options, section

TITLE = "Memory"

GROWTH_GOAL = 1024 * 1024  # bytes
CHECKPOINTS = 25


async def _curve(app: ASGIApp, requests: int, checkpoints: int) -> list[tuple[int, int]]:
    """(requests so far, traced bytes after a collection) at every checkpoint."""
    await seconds_per_request(app, max(20, requests // 50))  # warm caches and pools
    step = max(1, requests // checkpoints)
    points: list[tuple[int, int]] = []
    tracemalloc.start()
    try:
        done = 0
        gc.collect()
        points.append((0, tracemalloc.get_traced_memory()[0]))
        while done < requests:
            await seconds_per_request(app, step)
            done += step
            gc.collect()
            points.append((done, tracemalloc.get_traced_memory()[0]))
    finally:
        tracemalloc.stop()
    return points


async def _measure(options: Options) -> tuple[Group, list[tuple[int, int]]]:
    requests = options.size(50_000, 200)
    database = _apps.Database()
    try:
        maker = database.async_sessionmaker
        ours = _apps.async_session_app(
            _apps.route_class(), Depends(_apps.mintaka_session(maker, sync=False))
        )
        scoped, scoped_name = _apps.fastapi_scoped(_apps.fastapi_async_recipe(maker))
        theirs = _apps.async_session_app(APIRoute, scoped)
        await same_answers({"mintaka": ours, "fastapi": theirs})
        points = await _curve(ours, requests, options.size(CHECKPOINTS, 4))
        garbage_ours = await cyclic_garbage(ours, options.size(500, 20))
        garbage_theirs = await cyclic_garbage(theirs, options.size(500, 20))
    finally:
        await database.dispose()
    growth = points[-1][1] - points[0][1]
    group = Group(f"{requests:,} requests: ResponseScopedRoute + transactional_session")
    group.comparisons = [
        {
            "label": f"traced memory growth over {requests:,} requests (bytes)",
            "value": growth,
            "goal": GROWTH_GOAL,
            "goal_text": "< 1 MiB",
            "met": growth < GROWTH_GOAL,
        },
        {
            "label": "objects per request left to the cycle collector, mintaka",
            "value": garbage_ours,
            "goal": 0,
            "goal_text": "0",
            "met": garbage_ours == 0,
        },
        {
            "label": f"the same, APIRoute + {scoped_name} session recipe (for reference)",
            "value": garbage_theirs,
            "goal": None,
            "met": None,
        },
    ]
    return group, points


def run(options: Options) -> dict[str, Any]:
    """Trace the requests; the section for results.json."""
    group, points = asyncio.run(_measure(options))
    return section(
        TITLE,
        "`GET /notes` reading one row through `transactional_session` on SQLite (aiosqlite), "
        f"raw ASGI calls; traced size read after a collection at {CHECKPOINTS} checkpoints.",
        [group],
        curve=[{"requests": done, "traced_bytes": size} for done, size in points],
    )
