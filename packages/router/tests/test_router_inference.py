"""The response model is inferred from runtime return annotations and quoted forward references.

Unlike `test_router_inference_future.py`, annotations here are evaluated when the function
is defined, except where a test quotes them on purpose.
"""

import functools
from collections.abc import AsyncIterator
from typing import Any

import pytest
from fastapi import APIRouter, FastAPI, Response
from fastapi.responses import HTMLResponse, JSONResponse
from pydantic import BaseModel

from mintaka.router import Router, RouteRegistrationError
from packages.router.tests._router_apps import Item, app_with
from testing.asgi import call

pytestmark = pytest.mark.anyio

ITEM_REF = {"$ref": "#/components/schemas/Item"}


def ok_schema(app: FastAPI, path: str) -> Any:
    return app.openapi()["paths"][path]["get"]["responses"]["200"]["content"]


async def test_a_quoted_forward_reference_is_resolved_in_the_endpoints_module() -> None:
    router = Router()

    @router.get("/item")
    async def read_item() -> "Item":
        return {"name": "lamp", "secret": "s3"}  # type: ignore[return-value]

    app = app_with(router)
    exchange = await call(app, "/item")

    assert exchange.body == b'{"name":"lamp"}'
    assert ok_schema(app, "/item") == {"application/json": {"schema": ITEM_REF}}


async def test_a_quoted_reference_nested_in_a_generic_is_resolved() -> None:
    router = Router()

    @router.get("/items")
    async def list_items() -> dict[str, list["Item"]]:
        return {"shelf": [{"name": "lamp", "secret": "s3"}]}  # type: ignore[list-item]

    exchange = await call(app_with(router), "/items")

    assert exchange.body == b'{"shelf":[{"name":"lamp"}]}'


async def test_a_class_local_to_a_function_works_when_the_annotation_is_not_a_string() -> None:
    router = Router()

    class Local(BaseModel):
        value: int

    @router.get("/local")
    async def read_local() -> Local:
        return {"value": 1, "secret": "s3"}  # type: ignore[return-value]

    exchange = await call(app_with(router), "/local")

    assert exchange.body == b'{"value":1}'


async def test_a_response_class_annotation_means_no_model_and_the_response_is_sent_as_is() -> None:
    router = Router()

    @router.get("/page")
    async def page() -> HTMLResponse:
        return HTMLResponse("<p>hi</p>")

    @router.get("/maybe")
    async def maybe() -> Response | None:
        return None

    app = app_with(router)
    exchange = await call(app, "/page")

    assert exchange.headers == [
        (b"content-length", b"9"),
        (b"content-type", b"text/html; charset=utf-8"),
    ]
    assert exchange.body == b"<p>hi</p>"
    assert ok_schema(app, "/maybe") == {"application/json": {"schema": {}}}


def test_an_annotation_that_is_not_an_expression_fails_at_registration() -> None:
    router = Router()

    with pytest.raises(RouteRegistrationError, match=r"^GET /broken \(.*read_broken\): cannot"):

        @router.get("/broken")
        async def read_broken() -> "list[Item":  # type: ignore[valid-type]  # noqa: F722
            raise NotImplementedError


async def test_generator_endpoints_are_registered_exactly_as_fastapi_registers_them() -> None:
    async def stream() -> AsyncIterator[Item]:
        yield Item(name="lamp")
        yield Item(name="desk")

    outcomes: list[tuple[object, ...]] = []
    for router in (APIRouter(), Router()):
        try:
            router.add_api_route("/stream", stream)
        except Exception as error:
            outcomes.append(("refused", type(error), str(error)))
            continue
        exchange = await call(app_with(router), "/stream")
        outcomes.append(("served", exchange.status, exchange.body))

    assert outcomes[0] == outcomes[1]


class ItemReader:
    """A callable object used as an endpoint; its annotation is a string on purpose."""

    def __call__(self) -> "Item":
        return {"name": "lamp", "secret": "s3"}  # type: ignore[return-value]


async def read_named(name: str) -> "Item":
    return {"name": name, "secret": "s3"}  # type: ignore[return-value]


async def test_callable_objects_and_partials_resolve_against_their_defining_module() -> None:
    router = Router()
    router.add_api_route("/object", ItemReader())
    router.add_api_route("/partial", functools.partial(read_named, "desk"))

    app = app_with(router)

    assert (await call(app, "/object")).body == b'{"name":"lamp"}'
    assert (await call(app, "/partial")).body == b'{"name":"desk"}'
    assert ok_schema(app, "/partial") == {"application/json": {"schema": ITEM_REF}}


async def test_an_optional_union_of_data_and_a_response_keeps_the_optional_data_model() -> None:
    router = Router()

    @router.get("/maybe")
    async def maybe(found: bool = True) -> Item | JSONResponse | None:
        return {"name": "lamp", "secret": "s3"} if found else None  # type: ignore[return-value]

    app = app_with(router)

    assert (await call(app, "/maybe")).body == b'{"name":"lamp"}'
    assert (await call(app, "/maybe?found=false")).body == b"null"
    schema = ok_schema(app, "/maybe")["application/json"]["schema"]
    assert schema["anyOf"] == [ITEM_REF, {"type": "null"}]


async def test_an_endpoint_without_a_return_annotation_has_no_model() -> None:
    router = Router()

    @router.get("/free", responses={"default": {"model": Item}, "2XX": {"description": "ok"}})
    async def free():  # type: ignore[no-untyped-def]
        return {"anything": 1}

    app = app_with(router)

    assert (await call(app, "/free")).body == b'{"anything":1}'
    assert ok_schema(app, "/free") == {"application/json": {"schema": {}}}
