"""Status codes that allow no body (1xx, 204, 205, 304) go out with no body and no claim of one.

Every response is observed at the ASGI `send` callable: the exact header list of
`http.response.start` and the body bytes, which is what a server puts on the wire.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from fastapi import BackgroundTasks, Response, status
from fastapi.responses import StreamingResponse

from mintaka.router import Router, RouteRegistrationError
from packages.router.tests._router_apps import Item, app_with
from testing.asgi import call

pytestmark = pytest.mark.anyio


# What RFC 9110 allows: a 205 must say its content is empty (Content-Length: 0 keeps the
# connection usable); 1xx, 204 and 304 carry no Content-Length at all.
EXPECTED_HEADERS = {
    status.HTTP_103_EARLY_HINTS: [],
    status.HTTP_204_NO_CONTENT: [],
    status.HTTP_205_RESET_CONTENT: [(b"content-length", b"0")],
    status.HTTP_304_NOT_MODIFIED: [],
}


@pytest.mark.parametrize("code", sorted(EXPECTED_HEADERS))
async def test_a_none_endpoint_on_a_bodiless_status_sends_no_body_and_no_body_headers(
    code: int,
) -> None:
    router = Router()

    @router.post("/reset", status_code=code)
    async def reset() -> None:
        return None

    exchange = await call(app_with(router), "/reset", method="POST")

    assert exchange.status == code
    assert exchange.headers == EXPECTED_HEADERS[code]
    assert exchange.body == b""


async def test_a_status_set_by_the_endpoint_at_runtime_drops_the_serialized_body() -> None:
    router = Router()

    @router.put("/form")
    async def submit(response: Response) -> dict[str, str]:
        response.status_code = status.HTTP_205_RESET_CONTENT
        response.headers["x-form"] = "cleared"
        return {"status": "stored"}

    exchange = await call(app_with(router), "/form", method="PUT")

    assert exchange.status == 205
    assert exchange.headers == [(b"x-form", b"cleared"), (b"content-length", b"0")]
    assert exchange.body == b""


async def test_a_returned_not_modified_response_keeps_its_validators_but_no_content_type() -> None:
    router = Router()

    @router.get("/note")
    async def read_note() -> Response:
        return Response(
            status_code=status.HTTP_304_NOT_MODIFIED,
            headers={"ETag": '"v1"', "Cache-Control": "max-age=60"},
            media_type="application/json",
        )

    exchange = await call(app_with(router), "/note")

    assert exchange.status == 304
    assert exchange.headers == [(b"etag", b'"v1"'), (b"cache-control", b"max-age=60")]
    assert exchange.body == b""


async def test_a_streaming_response_on_a_bodiless_status_streams_nothing() -> None:
    router = Router()

    async def chunks() -> AsyncIterator[bytes]:
        yield b"never sent"

    @router.get("/stream")
    async def stream() -> StreamingResponse:
        return StreamingResponse(chunks(), status_code=204, media_type="text/plain")

    exchange = await call(app_with(router), "/stream")

    assert exchange.status == 204
    assert exchange.headers == []
    assert exchange.body == b""


async def test_background_tasks_of_a_stripped_response_still_run() -> None:
    router = Router()
    done: list[str] = []

    @router.delete("/items/{name}", status_code=status.HTTP_204_NO_CONTENT)
    async def delete_item(name: str, tasks: BackgroundTasks) -> None:
        tasks.add_task(done.append, name)

    exchange = await call(app_with(router), "/items/lamp", method="DELETE")

    assert (exchange.status, exchange.body) == (204, b"")
    assert done == ["lamp"]


@pytest.mark.parametrize("code", [200, 201, 404])
async def test_statuses_with_a_body_are_left_as_fastapi_sends_them(code: int) -> None:
    router = Router()

    @router.get("/item", status_code=code)
    async def read_item() -> Item:
        return Item(name="lamp")

    exchange = await call(app_with(router), "/item")

    assert exchange.status == code
    assert exchange.headers == [
        (b"content-length", b"15"),
        (b"content-type", b"application/json"),
    ]
    assert exchange.body == b'{"name":"lamp"}'


async def test_an_explicit_response_model_on_a_bodiless_status_fails_at_registration() -> None:
    router = Router(prefix="/items")

    with pytest.raises(RouteRegistrationError) as caught:

        @router.post("/{item_id}/reset", status_code=205, response_model=Item)
        async def reset(item_id: int) -> None: ...

    message = str(caught.value)
    assert message.startswith(
        "POST /items/{item_id}/reset "
        f"({__name__}.test_an_explicit_response_model_on_a_bodiless_status_fails_at_"
        "registration.<locals>.reset): status code 205 allows no response body, but "
        "response_model=Item was given;"
    )
    assert "remove the response_model" in message
    assert router.routes == []


async def test_a_model_implied_by_the_annotation_on_a_bodiless_status_fails_at_registration() -> (
    None
):
    router = Router()

    with pytest.raises(RouteRegistrationError) as caught:

        @router.api_route("/sync", methods=["PUT", "POST"], status_code=304)
        async def sync() -> Item:
            return Item(name="never")

    message = str(caught.value)
    assert message.startswith("POST, PUT /sync (")
    assert ".sync): status code 304 allows no response body" in message
    assert "the return annotation implies response_model=Item" in message
    assert "annotate the endpoint `-> None`" in message


async def test_a_documented_body_for_a_bodiless_status_names_the_route() -> None:
    router = Router()

    expected = r"^GET /cached \(.*read_cached\): status code 304 allows no response body"
    with pytest.raises(RouteRegistrationError, match=expected):

        @router.get("/cached", responses={304: {"model": Item}})
        async def read_cached() -> Item:
            return Item(name="never")


async def test_response_model_none_lets_an_annotated_endpoint_use_a_bodiless_status() -> None:
    router = Router()

    @router.post("/reset", status_code=205, response_model=None)
    async def reset() -> Item:
        return Item(name="ignored")

    exchange = await call(app_with(router), "/reset", method="POST")

    assert (exchange.status, exchange.headers, exchange.body) == (
        205,
        [(b"content-length", b"0")],
        b"",
    )


async def test_bodiless_routes_document_their_status_without_content() -> None:
    router = Router()

    @router.delete("/item", status_code=204)
    async def delete_item() -> None: ...

    @router.post("/form", status_code=205)
    async def reset_form() -> None: ...

    @router.get("/cached", status_code=304)
    async def cached() -> Response:
        return Response(status_code=304)

    paths = app_with(router).openapi()["paths"]

    for path, method, code in [
        ("/item", "delete", "204"),
        ("/form", "post", "205"),
        ("/cached", "get", "304"),
    ]:
        assert paths[path][method]["responses"] == {code: {"description": "Successful Response"}}
