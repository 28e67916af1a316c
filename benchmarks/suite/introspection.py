"""Item 4: introspection on 200, 2,000 and 20,000 routes, in three shapes; growth is linear.

Shapes: flat (every route on the app), nested includes (routers of 10 routes included in
routers included in the app, with prefixes) and mounts (`FastAPI` sub-apps of 100 routes
mounted on the app). Every route is a FastAPI route with a `yield` dependency. Building
tens of thousands of distinct `APIRoute`s takes minutes, so the apps hold shallow copies
of 100 distinct routes, each copy with its own path; the functions under measurement walk
every copy as they would walk distinct routes.

The sizes of one function and shape run in interleaved rounds; the ratio of a 10x step
is the median of the per-round ratios of the time per call (goal: at most 12x).
"""

from __future__ import annotations

import copy
import cProfile
import itertools
import pstats
import time
from typing import TYPE_CHECKING, Annotated, Any

from fastapi import APIRouter, Depends, FastAPI
from fastapi.routing import APIRoute
from starlette.routing import BaseRoute, Mount, compile_path

from benchmarks.suite._features import Missing, attribute
from benchmarks.suite._section import Group, Options, section, skip
from benchmarks.suite._timing import compare, interleave, variant

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Callable

TITLE = "Introspection scaling"

STEP_GOAL = 12.0
DISTINCT = 100
MINIMUM_BLOCK = 0.02  # seconds; small sizes repeat their call until a block lasts this long


async def _database() -> AsyncIterator[int]:
    yield 1


def _template(distinct: int) -> list[APIRoute]:
    router = APIRouter()
    for number in range(distinct):

        async def read_item(
            item_id: int, database: Annotated[int, Depends(_database)]
        ) -> dict[str, int]:
            return {"id": item_id + database}

        read_item.__name__ = f"read_item_{number}"
        router.add_api_route(f"/items/{number}/{{item_id}}", read_item, methods=["GET"])
    return [route for route in router.routes if isinstance(route, APIRoute)]


def _copies(template: list[APIRoute], count: int, prefix: str = "") -> list[BaseRoute]:
    routes: list[BaseRoute] = []
    for number in range(count):
        route = copy.copy(template[number % len(template)])
        route.path = f"{prefix}/r{number}/{{item_id}}"
        route.path_regex, route.path_format, route.param_convertors = compile_path(route.path)
        routes.append(route)
    return routes


def flat(template: list[APIRoute], count: int) -> FastAPI:
    """Every route on the app."""
    app = FastAPI(openapi_url=None, docs_url=None, redoc_url=None)
    app.router.routes.extend(_copies(template, count))
    return app


def nested(template: list[APIRoute], count: int) -> FastAPI:
    """Leaf routers of 10 routes, 10 leaves per branch router, branches on the app."""
    app = FastAPI(openapi_url=None, docs_url=None, redoc_url=None)
    routes = _copies(template, count)
    leaves = [routes[start : start + 10] for start in range(0, count, 10)]
    for branch_start in range(0, len(leaves), 10):
        branch = APIRouter()
        for number, routes in enumerate(leaves[branch_start : branch_start + 10]):
            leaf = APIRouter()
            leaf.routes.extend(routes)
            branch.include_router(leaf, prefix=f"/leaf{number}")
        app.include_router(branch, prefix=f"/branch{branch_start // 10}")
    return app


def mounts(template: list[APIRoute], count: int) -> FastAPI:
    """`FastAPI` sub-apps of 100 routes mounted on the app."""
    app = FastAPI(openapi_url=None, docs_url=None, redoc_url=None)
    for start in range(0, count, 100):
        sub = FastAPI(openapi_url=None, docs_url=None, redoc_url=None)
        sub.router.routes.extend(_copies(template, min(100, count - start)))
        app.router.routes.append(Mount(f"/sub{start // 100}", app=sub))
    return app


SHAPES: dict[str, Callable[[list[APIRoute], int], FastAPI]] = {
    "flat": flat,
    "nested includes": nested,
    "mounts": mounts,
}


def _functions() -> tuple[dict[str, Callable[[Any], object]], str | None]:
    from mintaka.introspect import method_paths_from_routes, route_table

    functions: dict[str, Callable[[Any], object]] = {
        "method_paths_from_routes": method_paths_from_routes,
        "route_table": route_table,
    }
    try:
        functions["audit_dependencies"] = attribute(
            "mintaka.introspect", "audit_dependencies", why="issue 12"
        )
    except Missing as missing:
        return functions, str(missing)
    return functions, None


def calls_per_route(function: Callable[[Any], object], app: FastAPI, routes: int) -> float:
    """Python function calls per route of one call, counted by `cProfile`.

    Deterministic, unlike a time: the same count at every size means the work grows
    linearly, and any superlinear time comes from the machine (caches), not the code.
    """
    profiler = cProfile.Profile()
    profiler.enable()
    function(app)
    profiler.disable()
    counts = pstats.Stats(profiler).stats  # type: ignore[attr-defined]
    return sum(entry[1] for entry in counts.values()) / routes  # type: ignore[no-any-return]


def _timer(function: Callable[[Any], object], app: FastAPI, minimum: float) -> Callable[[], float]:
    start = time.perf_counter()
    function(app)
    single = max(time.perf_counter() - start, 1e-6)
    repeats = max(1, round(minimum / single))

    def block() -> float:
        start = time.perf_counter()
        for _ in range(repeats):
            function(app)
        return (time.perf_counter() - start) / repeats

    return block


def run(options: Options) -> dict[str, Any]:
    """Time every function on every shape and size; the section for results.json."""
    sizes = (200, 2000, 20000) if not options.quick else (20, 200)
    schedule = options.rounds(5)
    minimum = options.pick(MINIMUM_BLOCK, 0)
    template = _template(options.size(DISTINCT, 10))
    functions, audit_missing = _functions()
    groups: list[Group] = []
    for shape, build in SHAPES.items():
        apps = {size: build(template, size) for size in sizes}
        for function_name, function in functions.items():
            group = Group(f"{function_name}, {shape}")
            names = {size: f"{size:,} routes" for size in sizes}
            samples = interleave(
                {names[size]: _timer(function, apps[size], minimum) for size in sizes}, **schedule
            )
            group.variants = [
                variant(
                    names[size],
                    samples[names[size]],
                    scale=1e3,
                    unit="ms per call",
                    calls_per_route=calls_per_route(function, apps[size], size),
                )
                for size in sizes
            ]
            group.comparisons = [
                compare(
                    f"{function_name}, {shape}: {names[larger]} / {names[smaller]}",
                    samples,
                    names[larger],
                    names[smaller],
                    goal=STEP_GOAL,
                )
                for smaller, larger in itertools.pairwise(sizes)
            ]
            groups.append(group)
        del apps
    if audit_missing is not None:
        groups.append(skip(Group("audit_dependencies"), audit_missing))
    return section(
        TITLE,
        f"Sizes {', '.join(f'{s:,}' for s in sizes)} routes; {schedule['rounds']} interleaved "
        "rounds after "
        "one warm-up; a block repeats a call until it lasts 20 ms; the ratio of a 10x step is "
        "the median of the per-round ratios of the time per call (linear growth reads 10). "
        "The Python function calls per route of one call are counted with cProfile.",
        groups,
        sizes=list(sizes),
    )
