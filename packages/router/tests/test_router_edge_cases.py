"""A union return annotation without a `Response` member is the response model as it is."""

import pytest

from mintaka.router import Router
from packages.router.tests._router_apps import Item, app_with
from testing.asgi import call

pytestmark = pytest.mark.anyio


async def test_an_optional_model_annotation_is_the_response_model_as_written() -> None:
    router = Router()

    @router.get("/item")
    async def find_item(found: bool = True) -> Item | None:
        return {"name": "lamp", "secret": "s3"} if found else None  # type: ignore[return-value]

    app = app_with(router)
    found = await call(app, "/item")
    missing = await call(app, "/item?found=false")

    assert (found.status, found.body) == (200, b'{"name":"lamp"}')
    assert (missing.status, missing.body) == (200, b"null")
    (route,) = router.routes
    assert route.response_model == Item | None  # type: ignore[attr-defined]
    schema = app.openapi()["paths"]["/item"]["get"]["responses"]["200"]["content"]
    assert schema["application/json"]["schema"]["anyOf"][0] == {"$ref": "#/components/schemas/Item"}
