"""Item 3: building an app of 2,000 routes with mintaka's `Router` against `APIRouter`.

Each build creates the router, adds every route (each endpoint has a return annotation,
so the response model is inferred) and includes the router into a new `FastAPI` app. The
endpoints are created once, outside the timing; both routers get the same functions.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, FastAPI
from pydantic import BaseModel

from benchmarks.suite._section import Group, Options, section
from benchmarks.suite._timing import compare, interleave, variant

if TYPE_CHECKING:
    from collections.abc import Callable

TITLE = "Startup: building an app"

GOAL = 1.15


class Item(BaseModel):
    """What every endpoint returns; the routers infer it as the response model."""

    id: int
    name: str


def _endpoint(number: int) -> Callable[..., Any]:
    async def read_item(item_id: int) -> Item:
        return Item(id=item_id, name=str(number))

    read_item.__name__ = f"read_item_{number}"
    return read_item


def endpoints(count: int) -> list[Callable[..., Any]]:
    """`count` distinct endpoint functions."""
    return [_endpoint(number) for number in range(count)]


def build(router_class: type[APIRouter], functions: list[Callable[..., Any]]) -> FastAPI:
    """A `FastAPI` app with one route per function, added through `router_class`."""
    router = router_class()
    for number, function in enumerate(functions):
        router.add_api_route(f"/items/{number}/{{item_id}}", function, methods=["GET"])
    app = FastAPI()
    app.include_router(router)
    return app


def run(options: Options) -> dict[str, Any]:
    """Time both builds in interleaved rounds; the section for results.json."""
    from mintaka.router import Router

    count = options.size(2000, 20)
    functions = endpoints(count)
    classes: dict[str, type[APIRouter]] = {
        "APIRouter": APIRouter,
        "APIRouter (A/A copy)": APIRouter,
        "mintaka.router.Router": Router,
    }

    def timer(router_class: type[APIRouter]) -> Callable[[], float]:
        def once() -> float:
            start = time.perf_counter()
            build(router_class, functions)
            return time.perf_counter() - start

        return once

    samples = interleave({name: timer(cls) for name, cls in classes.items()}, **options.rounds(5))
    group = Group(f"An app of {count:,} routes")
    group.variants = [variant(name, samples[name], scale=1e3, unit="ms") for name in classes]
    group.comparisons = [
        compare(
            "A/A control: APIRouter / APIRouter",
            samples,
            "APIRouter (A/A copy)",
            "APIRouter",
            goal=None,
        ),
        compare("Router / APIRouter", samples, "mintaka.router.Router", "APIRouter", goal=GOAL),
    ]
    return section(
        TITLE,
        f"One build = a router with {count:,} routes (`GET /items/N/{{item_id}}` returning a "
        f"pydantic model, response model inferred from the annotation) included into a new "
        f"`FastAPI()`; {options.rounds(5)['rounds']} interleaved rounds after one warm-up round.",
        [group],
    )
