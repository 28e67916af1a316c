"""String annotations are resolved against the dependency's module, not the wrapper's.

This module uses `from __future__ import annotations`, so every annotation below is a
string that names things imported or defined here: FastAPI, which resolves strings
against the wrapper's globals, would not find `Settings` or `Request` there.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Annotated

import pytest
from fastapi import APIRouter, Depends, FastAPI, Query, Request

from mintaka.core.fastapi import ResponseScopedRoute
from mintaka.depends import response_scoped_dependency
from testing.asgi import call

pytestmark = pytest.mark.anyio


@dataclass
class Settings:
    greeting: str


def settings() -> Settings:
    return Settings(greeting="hello")


@response_scoped_dependency
async def greeting(
    conf: Annotated[Settings, Depends(settings)],
    req: Request,
    times: Annotated[int, Query(ge=1)] = 1,
) -> AsyncIterator[str]:
    yield " ".join([f"{conf.greeting} {req.url.path}"] * times)


def build_app() -> FastAPI:
    router = APIRouter(route_class=ResponseScopedRoute)

    @router.get("/greet")
    async def greet(text: Annotated[str, Depends(greeting)]) -> str:
        return text

    app = FastAPI()
    app.include_router(router)
    return app


async def test_future_annotations_resolve_to_the_dependency_s_types() -> None:
    app = build_app()

    ok = await call(app, "/greet?times=2")
    invalid = await call(app, "/greet?times=0")

    assert ok.json() == "hello /greet hello /greet"
    assert invalid.status == 422
    assert invalid.json()["detail"][0]["loc"] == ["query", "times"]


def test_resolved_annotations_are_objects_in_the_signature() -> None:
    import inspect

    parameters = inspect.signature(greeting).parameters

    assert parameters["req"].annotation is Request
    assert parameters["conf"].annotation.__origin__ is Settings
    assert inspect.signature(greeting).return_annotation is str


def test_an_annotation_that_names_nothing_fails_at_decoration() -> None:
    async def broken(value: Undefined) -> AsyncIterator[int]:  # type: ignore[name-defined]  # noqa: F821
        yield value

    with pytest.raises(TypeError) as caught:
        response_scoped_dependency(broken)

    assert str(caught.value) == (
        "response_scoped_dependency() cannot resolve the annotation 'Undefined' of "
        "parameter 'value' of packages.depends.tests.test_depends_string_annotations."
        "test_an_annotation_that_names_nothing_fails_at_decoration.<locals>.broken: name "
        "'Undefined' is not defined. FastAPI needs it at runtime: import or define it "
        "before the decorated dependency (not only under TYPE_CHECKING)."
    )


def test_a_return_annotation_only_known_to_type_checkers_is_dropped() -> None:
    async def typed_for_checkers() -> AsyncIterator[OnlyForTypeCheckers]:  # type: ignore[name-defined]  # noqa: F821
        yield 1

    import inspect

    signature = inspect.signature(response_scoped_dependency(typed_for_checkers))

    assert signature.return_annotation is inspect.Signature.empty
