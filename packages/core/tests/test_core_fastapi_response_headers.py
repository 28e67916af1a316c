"""`response_headers()` on the FastAPI route class, observed at the ASGI `send` callable.

A returned response, an `HTTPException` and an exception handler that copies them.
"""

import pytest

pytest.importorskip("fastapi", reason="the FastAPI adapter needs FastAPI")

from fastapi import APIRouter, FastAPI, HTTPException, Request
from fastapi.responses import JSONResponse

from mintaka.core import response_headers, response_stack
from mintaka.core.fastapi import ResponseScopedRoute
from packages.core.tests._headers import start_headers, telling
from testing.asgi import call

pytestmark = pytest.mark.anyio


class Refused(Exception):
    """Raised by an endpoint; the app's exception handler turns it into a 409."""


def fastapi_app() -> FastAPI:
    router = APIRouter(route_class=ResponseScopedRoute)

    @router.post("/returned", status_code=201)
    async def returned(request: Request) -> dict[str, str]:
        await response_stack(request).enter_async_context(telling(request))
        return {"ok": "yes"}

    @router.post("/http-error")
    async def http_error(request: Request) -> None:
        await response_stack(request).enter_async_context(telling(request))
        raise HTTPException(status_code=409, headers={"X-Own": "kept"})

    @router.post("/handled")
    async def handled(request: Request) -> None:
        await response_stack(request).enter_async_context(telling(request))
        raise Refused

    @router.post("/untouched", status_code=201)
    async def untouched() -> dict[str, str]:
        return {"ok": "yes"}

    app = FastAPI()
    app.include_router(router)

    @app.exception_handler(Refused)
    async def refused(request: Request, error: Refused) -> JSONResponse:
        response = JSONResponse({"detail": "refused"}, status_code=409)
        response.headers.update(response_headers(request))
        return response

    return app


async def test_a_returned_response_carries_what_the_contexts_set() -> None:
    exchange = await call(fastapi_app(), "/returned", method="POST")

    assert exchange.status == 201
    headers = start_headers(exchange)
    assert ("x-exited-for", "201") in headers
    assert [v for k, v in headers if k == "set-cookie"] == ["a=1", "b=2"]


async def test_an_http_exception_carries_them_beside_its_own() -> None:
    exchange = await call(fastapi_app(), "/http-error", method="POST")

    assert exchange.status == 409
    headers = dict(start_headers(exchange))
    # An exception exits the scope with no status.
    assert (headers["x-own"], headers["x-exited-for"]) == ("kept", "None")


async def test_an_exception_handler_copies_them_from_the_request() -> None:
    exchange = await call(fastapi_app(), "/handled", method="POST")

    assert exchange.status == 409
    assert dict(start_headers(exchange))["x-exited-for"] == "None"


async def test_a_request_whose_contexts_set_nothing_gets_no_extra_header() -> None:
    plain = FastAPI()

    @plain.post("/untouched", status_code=201)
    async def untouched() -> dict[str, str]:
        return {"ok": "yes"}

    scoped = await call(fastapi_app(), "/untouched", method="POST")
    unscoped = await call(plain, "/untouched", method="POST")

    assert start_headers(scoped) == start_headers(unscoped)
