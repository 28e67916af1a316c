"""A Router's routes keep the conventions and the response scope however they reach the app.

FastAPI up to 0.136 copies included routes (through the including router's
`add_api_route`, with `route_class_override=type(route)`); from 0.137 it keeps a lazy
entry and builds a handler per inclusion. Each shape below runs on both mechanisms.
"""

from collections.abc import Callable

import pytest
from fastapi import APIRouter, FastAPI, Request

from mintaka.core import response_stack
from mintaka.router import Router
from packages.router.tests._router_apps import Item
from testing.asgi import START, call, recorded

pytestmark = pytest.mark.anyio


def conventional_router(events: list[str]) -> Router:
    router = Router(prefix="/shop")

    @router.post("/reset", status_code=205)
    async def reset() -> None:
        return None

    @router.get("/item")
    async def read_item() -> Item:
        return {"name": "lamp", "secret": "s3"}  # type: ignore[return-value]

    @router.post("/scoped")
    async def scoped(request: Request) -> dict[str, bool]:
        await response_stack(request).enter_async_context(recorded(events, "session"))
        return {"ok": True}

    return router


def directly(router: Router) -> tuple[FastAPI, str]:
    app = FastAPI()
    app.include_router(router)
    return app, ""


def with_a_prefix(router: Router) -> tuple[FastAPI, str]:
    app = FastAPI()
    app.include_router(router, prefix="/v1")
    return app, "/v1"


def nested_in_plain_routers(router: Router) -> tuple[FastAPI, str]:
    inner = APIRouter(prefix="/inner")
    inner.include_router(router, prefix="/mid")
    outer = APIRouter()
    outer.include_router(inner, prefix="/outer")
    app = FastAPI()
    app.include_router(outer, prefix="/v2")
    return app, "/v2/outer/inner/mid"


def nested_in_a_router(router: Router) -> tuple[FastAPI, str]:
    outer = Router(prefix="/outer")
    outer.include_router(router)
    app = FastAPI()
    app.include_router(outer)
    return app, "/outer"


def included_twice(router: Router) -> tuple[FastAPI, str]:
    app = FastAPI()
    app.include_router(router, prefix="/a")
    app.include_router(router, prefix="/b")
    return app, "/b"


SHAPES = [directly, with_a_prefix, nested_in_plain_routers, nested_in_a_router, included_twice]


@pytest.mark.parametrize("shape", SHAPES)
async def test_included_routes_keep_the_no_body_rule(
    shape: Callable[[Router], tuple[FastAPI, str]],
) -> None:
    app, prefix = shape(conventional_router([]))

    exchange = await call(app, f"{prefix}/shop/reset", method="POST")

    assert (exchange.status, exchange.headers, exchange.body) == (
        205,
        [(b"content-length", b"0")],
        b"",
    )
    responses = app.openapi()["paths"][f"{prefix}/shop/reset"]["post"]["responses"]
    assert responses == {"205": {"description": "Successful Response"}}


@pytest.mark.parametrize("shape", SHAPES)
async def test_included_routes_keep_the_inferred_model(
    shape: Callable[[Router], tuple[FastAPI, str]],
) -> None:
    app, prefix = shape(conventional_router([]))

    exchange = await call(app, f"{prefix}/shop/item")

    assert exchange.body == b'{"name":"lamp"}'
    operation = app.openapi()["paths"][f"{prefix}/shop/item"]["get"]
    schema = operation["responses"]["200"]["content"]["application/json"]["schema"]
    assert schema == {"$ref": "#/components/schemas/Item"}


@pytest.mark.parametrize("shape", SHAPES)
async def test_included_routes_keep_the_response_scope(
    shape: Callable[[Router], tuple[FastAPI, str]],
) -> None:
    events: list[str] = []
    app, prefix = shape(conventional_router(events))

    exchange = await call(app, f"{prefix}/shop/scoped", method="POST", events=events)

    assert exchange.json() == {"ok": True}
    assert events[:3] == ["session enter", "session exit", START]


async def test_a_router_included_twice_serves_both_inclusions() -> None:
    app, _ = included_twice(conventional_router([]))

    first = await call(app, "/a/shop/reset", method="POST")
    second = await call(app, "/b/shop/reset", method="POST")

    assert first.headers == second.headers == [(b"content-length", b"0")]
