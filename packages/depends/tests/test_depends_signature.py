"""The wrapper shows users and FastAPI the dependency's face, and no `__wrapped__`."""

import inspect
from collections.abc import AsyncIterator, Iterator
from typing import Annotated, Any

import pytest
from fastapi import APIRouter, Depends, FastAPI, Query, Request
from fastapi.routing import APIRoute
from starlette.requests import HTTPConnection

from mintaka.core.fastapi import ResponseScopedRoute
from mintaka.depends import response_scoped_dependency
from testing.asgi import call

pytestmark = pytest.mark.anyio


async def limit_param(limit: int = 10) -> int:
    return limit


async def notes_page(
    user: str,
    limit: Annotated[int, Depends(limit_param)],
    *,
    sort: Annotated[str, Query()] = "date",
) -> AsyncIterator[list[str]]:
    """Yield one page of notes."""
    yield [user] * limit + [sort]


def test_name_qualname_doc_and_module_are_the_dependency_s() -> None:
    wrapped = response_scoped_dependency(notes_page)

    assert wrapped.__name__ == "notes_page"
    assert wrapped.__qualname__ == "notes_page"
    assert wrapped.__doc__ == "Yield one page of notes."
    assert wrapped.__module__ == notes_page.__module__


def test_the_wrapper_is_a_coroutine_function_without_wrapped() -> None:
    wrapped = response_scoped_dependency(notes_page)

    # FastAPI >= 0.123.5 follows __wrapped__ and would call the async generator itself.
    assert not hasattr(wrapped, "__wrapped__")
    assert inspect.unwrap(wrapped) is wrapped
    assert inspect.iscoroutinefunction(wrapped)
    assert not inspect.isasyncgenfunction(wrapped)


def test_signature_keeps_every_parameter_and_adds_a_keyword_only_request() -> None:
    signature = inspect.signature(response_scoped_dependency(notes_page))
    original = inspect.signature(notes_page).parameters

    *kept, added = signature.parameters.values()
    assert kept == list(original.values())
    assert added.kind is inspect.Parameter.KEYWORD_ONLY
    assert added.name.startswith("_")
    assert added.name not in original
    assert added.annotation is HTTPConnection
    assert signature.return_annotation == list[str]


def test_the_added_request_parameter_precedes_var_keyword() -> None:
    def with_kwargs(a: int, **extra: Any) -> Iterator[int]:
        yield a

    wrapped = response_scoped_dependency(with_kwargs)
    parameters = list(inspect.signature(wrapped).parameters.values())

    assert [p.kind for p in parameters] == [
        inspect.Parameter.POSITIONAL_OR_KEYWORD,
        inspect.Parameter.KEYWORD_ONLY,
        inspect.Parameter.VAR_KEYWORD,
    ]


def test_annotations_match_the_signature() -> None:
    async def plain(req: Request, count: int) -> AsyncIterator[str]:
        yield str(count)

    wrapped = response_scoped_dependency(plain)

    assert wrapped.__annotations__ == {"req": Request, "count": int, "return": str}


async def test_fastapi_versions_with_unwrapping_still_await_the_wrapper() -> None:
    wrapped = response_scoped_dependency(notes_page)
    router = APIRouter(route_class=ResponseScopedRoute)

    @router.get("/page")
    async def page(notes: Annotated[list[str], Depends(wrapped)]) -> list[str]:
        return notes

    app = FastAPI()
    app.include_router(router)
    exchange = await call(app, "/page?user=ada&limit=2&sort=title")

    assert exchange.status == 200
    assert exchange.json() == ["ada", "ada", "title"]


def test_the_openapi_document_is_the_one_of_the_plain_dependency() -> None:
    def document(dependency: Any, route_class: type[APIRoute]) -> dict[str, Any]:
        router = APIRouter(route_class=route_class)

        @router.get("/page")
        async def page(notes: Annotated[list[str], Depends(dependency)]) -> list[str]:
            return notes

        app = FastAPI()
        app.include_router(router)
        return app.openapi()

    plain = document(notes_page, APIRoute)
    scoped = document(response_scoped_dependency(notes_page), ResponseScopedRoute)

    assert scoped == plain
    parameters = plain["paths"]["/page"]["get"]["parameters"]
    assert sorted(p["name"] for p in parameters) == ["limit", "sort", "user"]
