"""The response model is inferred from return annotations that are strings at runtime.

This module uses `from __future__ import annotations`, so every annotation below is a
string that the Router resolves against the endpoint's own module at registration.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest
from fastapi import FastAPI, status
from fastapi.responses import JSONResponse, RedirectResponse
from pydantic import BaseModel

from mintaka.router import Router, RouteRegistrationError
from packages.router.tests._router_apps import Item, app_with
from packages.router.tests._router_decorators import counted
from testing.asgi import call

if TYPE_CHECKING:
    from decimal import Decimal

pytestmark = pytest.mark.anyio

ITEM_REF = {"$ref": "#/components/schemas/Item"}


class PublicItem(BaseModel):
    label: str


def success_schema(app: FastAPI, path: str, method: str = "get") -> Any:
    responses = app.openapi()["paths"][path][method]["responses"]
    (code,) = [code for code in responses if code.startswith("2")]
    return responses[code]["content"]["application/json"]["schema"]


async def test_a_model_annotation_is_the_response_model_on_the_wire_and_in_openapi() -> None:
    router = Router()

    @router.get("/item")
    async def read_item() -> Item:
        return {"name": "lamp", "secret": "s3"}  # type: ignore[return-value]

    app = app_with(router, "/api")
    exchange = await call(app, "/api/item")

    assert exchange.status == 200
    assert exchange.body == b'{"name":"lamp"}'
    assert success_schema(app, "/api/item") == ITEM_REF


async def test_a_generic_annotation_is_resolved_with_its_arguments() -> None:
    router = Router()

    @router.get("/items")
    async def list_items() -> list[Item]:
        return [{"name": "lamp", "secret": "s3"}]  # type: ignore[list-item]

    app = app_with(router, "/api")
    exchange = await call(app, "/api/items")

    assert exchange.body == b'[{"name":"lamp"}]'
    assert success_schema(app, "/api/items")["items"] == ITEM_REF


async def test_a_decorated_endpoint_is_resolved_against_its_own_module() -> None:
    router = Router()
    calls: list[str] = []

    @router.get("/item")
    @counted(calls)
    async def read_item() -> Item:
        return {"name": "lamp", "secret": "s3"}  # type: ignore[return-value]

    app = app_with(router, "/api")
    exchange = await call(app, "/api/item")

    assert calls == ["read_item"]
    assert exchange.body == b'{"name":"lamp"}'
    assert success_schema(app, "/api/item") == ITEM_REF


async def test_a_none_endpoint_registers_on_204_and_sends_nothing() -> None:
    router = Router()

    @router.delete("/item", status_code=status.HTTP_204_NO_CONTENT)
    async def delete_item() -> None:
        return None

    app = app_with(router, "/api")
    exchange = await call(app, "/api/item", method="DELETE")

    assert (exchange.status, exchange.headers, exchange.body) == (204, [], b"")
    assert app.openapi()["paths"]["/api/item"]["delete"]["responses"] == {
        "204": {"description": "Successful Response"}
    }


async def test_a_none_annotation_means_no_model_on_a_status_with_a_body() -> None:
    router = Router()

    @router.post("/ping")
    async def ping() -> None:
        return None

    app = app_with(router, "/api")
    exchange = await call(app, "/api/ping", method="POST")

    assert (exchange.status, exchange.body) == (200, b"null")
    assert success_schema(app, "/api/ping", "post") == {}


async def test_a_union_of_response_classes_means_no_model() -> None:
    router = Router()

    @router.get("/go")
    async def go(away: bool = False) -> JSONResponse | RedirectResponse:
        if away:
            return RedirectResponse("/elsewhere")
        return JSONResponse({"here": True})

    app = app_with(router, "/api")
    redirected = await call(app, "/api/go?away=true")
    stayed = await call(app, "/api/go")

    assert (redirected.status, dict(redirected.headers)[b"location"]) == (307, b"/elsewhere")
    assert (stayed.status, stayed.body) == (200, b'{"here":true}')
    assert success_schema(app, "/api/go") == {}


async def test_in_a_union_of_data_and_responses_the_data_is_the_model() -> None:
    router = Router()

    @router.get("/item")
    async def read_item(missing: bool = False) -> Item | JSONResponse:
        if missing:
            return JSONResponse({"detail": "gone"}, status_code=410)
        return {"name": "lamp", "secret": "s3"}  # type: ignore[return-value]

    app = app_with(router, "/api")
    found = await call(app, "/api/item")
    missing = await call(app, "/api/item?missing=true")

    assert found.body == b'{"name":"lamp"}'
    assert (missing.status, missing.body) == (410, b'{"detail":"gone"}')
    assert success_schema(app, "/api/item") == ITEM_REF


async def test_response_model_none_turns_inference_off() -> None:
    router = Router()

    @router.get("/raw", response_model=None)
    async def read_raw() -> Item:
        return {"name": "lamp", "secret": "s3"}  # type: ignore[return-value]

    app = app_with(router, "/api")
    exchange = await call(app, "/api/raw")

    assert exchange.json() == {"name": "lamp", "secret": "s3"}
    assert success_schema(app, "/api/raw") == {}


async def test_an_explicit_response_model_wins_over_the_annotation() -> None:
    router = Router()

    @router.get("/item", response_model=PublicItem)
    async def read_item() -> Item:
        return {"label": "lamp", "name": "internal"}  # type: ignore[return-value]

    app = app_with(router, "/api")
    exchange = await call(app, "/api/item")

    assert exchange.body == b'{"label":"lamp"}'
    assert success_schema(app, "/api/item") == {"$ref": "#/components/schemas/PublicItem"}


def test_an_undefined_name_fails_at_registration_naming_endpoint_and_name() -> None:
    router = Router()

    with pytest.raises(RouteRegistrationError) as caught:

        @router.get("/ghost")
        async def read_ghost() -> Ghost:  # type: ignore[name-defined]  # noqa: F821
            raise NotImplementedError

    message = str(caught.value)
    assert message.startswith(f"GET /ghost ({__name__}.")
    assert ".read_ghost): cannot resolve the return annotation, 'Ghost' is not defined" in message
    assert "pass response_model= explicitly" in message
    assert router.routes == []


def test_a_name_imported_only_for_type_checking_fails_at_registration() -> None:
    router = Router()

    expected = r"'Decimal' is not defined in .*TYPE_CHECKING"
    with pytest.raises(RouteRegistrationError, match=expected):

        @router.get("/price")
        async def read_price() -> Decimal:
            raise NotImplementedError


def test_a_class_local_to_a_function_fails_at_registration_and_says_module_level() -> None:
    router = Router()

    class Local(BaseModel):
        value: int

    with pytest.raises(RouteRegistrationError, match=r"'Local' is not defined .* module level"):

        @router.get("/local")
        async def read_local() -> Local:
            return Local(value=1)
