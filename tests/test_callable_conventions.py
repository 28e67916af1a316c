"""One convention for naming callables and resolving their annotations, shared by all.

Each row is one shape a route endpoint or a dependency comes in (function, partial, bound
method, callable object, function wrapped with `functools.wraps`) written with string
annotations or under `from __future__ import annotations`. For each row the test checks
what `mintaka.core._callables` says (the name, and the annotations resolved against the
defining module), then that the router's and the dependency wrapper's error messages name
the callable exactly so and resolved the same annotations.
"""

from __future__ import annotations

import functools
import inspect
import types
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Annotated, Any

import pytest
from fastapi import Depends, FastAPI

from mintaka.core import ResponseScopeError
from mintaka.core._callables import (
    annotation_namespace,
    callable_name,
    resolve_annotation,
    signature_of,
)
from mintaka.depends import response_scoped_dependency
from mintaka.router import Router, RouteRegistrationError
from testing.asgi import call
from tests import _shapes_future, _shapes_strings


def passing_through(endpoint: Callable[..., Any]) -> Callable[..., Any]:
    """A decorator in this module, whose globals know nothing of `Item`."""

    @functools.wraps(endpoint)
    async def wrapper(*args: Any, **kwargs: Any) -> Any:
        return await endpoint(*args, **kwargs)

    return wrapper


def yielding_through(dependency: Callable[..., Any]) -> Callable[..., Any]:
    """The same for an async generator function."""

    @functools.wraps(dependency)
    async def wrapper(*args: Any, **kwargs: Any) -> AsyncIterator[Any]:
        async for value in dependency(*args, **kwargs):
            yield value

    return wrapper


@dataclass(frozen=True)
class Row:
    """One shape: an endpoint and a dependency built alike, and what to expect of them."""

    endpoint: Callable[..., Any]
    dependency: Callable[..., Any]
    name: str
    dependency_name: str
    parameters: dict[str, Any]
    item: type


def rows(module: types.ModuleType) -> dict[str, Row]:
    where = module.__name__
    parameters = {"shelf": str, "limit": Annotated[int, "per page"]}
    return {
        "function": Row(
            module.read,
            module.provide,
            f"{where}.read",
            f"{where}.provide",
            parameters,
            module.Item,
        ),
        "partial": Row(
            functools.partial(module.read, "a"),
            functools.partial(module.provide, "a"),
            f"{where}.read",
            f"{where}.provide",
            {"limit": parameters["limit"]},
            module.Item,
        ),
        "bound method": Row(
            module.Shelf().read,
            module.Shelf().provide,
            f"{where}.Shelf.read",
            f"{where}.Shelf.provide",
            parameters,
            module.Item,
        ),
        "callable object": Row(
            module.Reader(),
            module.Provider(),
            f"{where}.Reader instance",
            f"{where}.Provider instance",
            parameters,
            module.Item,
        ),
        "wrapped function": Row(
            passing_through(module.read),
            yielding_through(module.provide),
            f"{where}.read",
            f"{where}.provide",
            parameters,
            module.Item,
        ),
    }


ROWS = {
    f"{shape}, {style}": row
    for style, module in [("string annotations", _shapes_strings), ("future", _shapes_future)]
    for shape, row in rows(module).items()
}
table = pytest.mark.parametrize("row", ROWS.values(), ids=ROWS.keys())


def resolved(subject: Callable[..., Any]) -> dict[str, Any]:
    signature = signature_of(subject)
    namespace = annotation_namespace(subject)
    annotations = {name: p.annotation for name, p in signature.parameters.items()}
    annotations["return"] = signature.return_annotation
    return {name: resolve_annotation(value, namespace) for name, value in annotations.items()}


@table
def test_the_convention_names_the_callable_as_the_user_wrote_it(row: Row) -> None:
    assert callable_name(row.endpoint) == row.name
    assert callable_name(row.dependency) == row.dependency_name


@table
def test_the_convention_resolves_annotations_in_the_defining_module(row: Row) -> None:
    assert resolved(row.endpoint) == {**row.parameters, "return": row.item}
    assert resolved(row.dependency) == {
        **row.parameters,
        "return": types.GenericAlias(AsyncIterator, (row.item,)),
    }


@table
def test_the_router_names_the_endpoint_and_infers_the_same_model(row: Row) -> None:
    router = Router()

    with pytest.raises(RouteRegistrationError) as caught:
        router.add_api_route("/items", row.endpoint, status_code=204)

    assert str(caught.value).startswith(
        f"GET /items ({row.name}): status code 204 allows no response body, but the return "
        f"annotation implies response_model={row.item.__qualname__};"
    )
    assert row.item.__module__ != __name__


@table
def test_the_dependency_wrapper_resolves_the_same_annotations(row: Row) -> None:
    wrapped = response_scoped_dependency(row.dependency)

    shown = inspect.signature(wrapped)

    assert {name: shown.parameters[name].annotation for name in row.parameters} == row.parameters
    assert shown.return_annotation is row.item


@pytest.mark.anyio
@table
async def test_the_dependency_wrapper_names_the_dependency_the_same_way(row: Row) -> None:
    wrapped = response_scoped_dependency(row.dependency)
    app = FastAPI()  # plain APIRoute: no response scope, so the dependency cannot enter

    @app.get("/items", dependencies=[Depends(wrapped)])
    async def items() -> None: ...

    exchange = await call(app, "/items?shelf=a&limit=2", raises=ResponseScopeError)

    assert exchange.status == 500
    assert str(exchange.raised).startswith(
        f"Cannot enter the response-scoped dependency {row.dependency_name}: "
    )


def test_a_name_that_is_missing_fails_in_evaluation_not_in_reading_the_signature() -> None:
    async def broken(value: Undefined) -> None: ...  # type: ignore[name-defined]  # noqa: F821

    signature = signature_of(broken)

    with pytest.raises(NameError, match="Undefined"):
        resolve_annotation(signature.parameters["value"].annotation, annotation_namespace(broken))


def test_callables_without_a_module_name_or_qualname_are_named_sensibly() -> None:
    assert callable_name(len) == "len"
    assert callable_name(functools.partial(functools.partial(len))) == "len"
    assert callable_name(dict) == "dict"
    assert callable_name(str.upper) == "str.upper"
