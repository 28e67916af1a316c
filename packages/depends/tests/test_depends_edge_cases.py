"""Edge cases of the signature a response-scoped dependency shows FastAPI.

A partial whose signature cannot be read, parameters without annotations, and a
generator whose return annotation names no value type. The annotations are evaluated at
definition (no `from __future__ import annotations`): the endpoint below names a local.
"""

import functools
import inspect
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated, Any

import pytest
from fastapi import APIRouter, Depends, FastAPI

from mintaka.core.fastapi import ResponseScopedRoute
from mintaka.depends import response_scoped_dependency
from testing.asgi import call

pytestmark = pytest.mark.anyio


def app_serving(dependency: Any) -> FastAPI:
    """`GET /value` answers with what `dependency` provides."""
    router = APIRouter(route_class=ResponseScopedRoute)

    @router.get("/value")
    async def read(value: Annotated[Any, Depends(dependency)]) -> Any:
        return value

    app = FastAPI()
    app.include_router(router)
    return app


@asynccontextmanager
async def open_pool(size: int) -> AsyncIterator[str]:
    yield f"pool of {size}"


def test_a_partial_with_an_argument_its_function_does_not_take_fails_at_decoration() -> None:
    misspelled = functools.partial(open_pool, sise=5)  # type: ignore[call-arg]

    with pytest.raises(TypeError) as raised:
        response_scoped_dependency(misspelled)

    message = str(raised.value)
    assert message.startswith(
        "response_scoped_dependency() cannot read the signature of "
        f"{__name__}.open_pool: partial object "
    )
    assert message.endswith(
        "has incorrect arguments. Pass a function, a class or a callable object whose "
        "parameters FastAPI can inspect."
    )
    assert isinstance(raised.value.__cause__, ValueError)


async def test_a_parameter_without_an_annotation_is_a_query_parameter_as_in_fastapi() -> None:
    @response_scoped_dependency
    async def tagged(tag="untagged") -> AsyncIterator[Any]:  # type: ignore[no-untyped-def]
        yield tag

    app = app_serving(tagged)
    given = await call(app, "/value?tag=urgent")
    default = await call(app, "/value")

    assert (given.status, given.json()) == (200, "urgent")
    assert (default.status, default.json()) == (200, "untagged")
    parameter = inspect.signature(tagged).parameters["tag"]
    assert parameter.annotation is inspect.Parameter.empty
    assert parameter.default == "untagged"
    assert "tag" not in tagged.__annotations__


async def test_a_generator_annotated_without_a_value_type_provides_no_return_type() -> None:
    @response_scoped_dependency
    async def connection() -> Any:
        yield "connection"

    exchange = await call(app_serving(connection), "/value")

    assert (exchange.status, exchange.json()) == (200, "connection")
    assert inspect.signature(connection).return_annotation is inspect.Signature.empty
    assert "return" not in connection.__annotations__
