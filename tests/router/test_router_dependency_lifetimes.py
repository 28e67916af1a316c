"""A Router refuses, at registration, a teardown that would run after its resource closed.

FastAPI tears a `yield` dependency down after the response scope closed (after the
response on 0.118+, at the end of the handler with `scope="function"`), so one that
depends on a response-scoped dependency would use it closed. FastAPI refuses the same
shape for its own scopes (`DependencyScopeError`); the Router refuses this one on every
FastAPI version, so that an app does not break on an upgrade.
"""

from __future__ import annotations

import functools
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Annotated

import pytest
from fastapi import Depends, FastAPI

from mintaka.depends import response_scoped_dependency
from mintaka.introspect import audit_dependencies
from mintaka.router import Router, RouteRegistrationError
from testing.asgi import call

pytestmark = pytest.mark.anyio


@response_scoped_dependency
async def get_connection() -> AsyncIterator[str]:
    yield "connection"


async def get_repository(connection: Annotated[str, Depends(get_connection)]) -> AsyncIterator[str]:
    yield connection


def get_sync_repository(connection: Annotated[str, Depends(get_connection)]) -> Iterator[str]:
    yield connection


async def get_unit_of_work(repository: Annotated[str, Depends(get_repository)]) -> str:
    return repository


@response_scoped_dependency
async def get_scoped_repository(
    connection: Annotated[str, Depends(get_connection)],
) -> AsyncIterator[str]:
    yield connection


async def get_plain_repository(connection: Annotated[str, Depends(get_connection)]) -> str:
    return connection


async def ping() -> str:
    return "pong"


@pytest.mark.parametrize(
    ("dependency", "parent"),
    [
        (get_repository, "get_repository"),
        (get_sync_repository, "get_sync_repository"),
        (get_unit_of_work, "get_repository"),  # nested one level deeper
    ],
)
def test_a_yield_dependency_on_a_response_scoped_one_is_refused_with_the_fix(
    dependency: Callable[..., object], parent: str
) -> None:
    router = Router(prefix="/items")

    with pytest.raises(RouteRegistrationError) as raised:
        router.add_api_route("/", ping, methods=["POST"], dependencies=[Depends(dependency)])

    message = str(raised.value)
    assert message.startswith("POST /items/ (")
    assert f"the dependency {parent} has a teardown" in message
    assert "response-scoped get_connection" in message
    assert "decorate it with mintaka.depends.response_scoped_dependency" in message
    assert router.routes == []


def test_a_parameter_and_router_level_dependencies_are_checked_too() -> None:
    router = Router()
    with pytest.raises(RouteRegistrationError, match="get_repository"):

        @router.get("/items")
        async def read_items(value: Annotated[str, Depends(get_repository)]) -> str:
            return value

    with pytest.raises(RouteRegistrationError, match="get_repository"):
        Router(dependencies=[Depends(get_repository)]).add_api_route("/ping", ping)


@pytest.mark.parametrize("dependency", [get_scoped_repository, get_plain_repository])
def test_the_fixes_register_and_the_audit_agrees(dependency: Callable[..., object]) -> None:
    router = Router()
    router.add_api_route("/items", ping, methods=["POST"], dependencies=[Depends(dependency)])

    app = FastAPI(docs_url=None, redoc_url=None, openapi_url=None)
    app.include_router(router)
    assert audit_dependencies(app).findings == ()
    assert [d.closes for d in audit_dependencies(app).routes[0].dependencies][-1] == "response"


# A partial and a class have no `__globals__`: FastAPI 0.110 to 0.120 cannot resolve the
# string annotations of this module for them, so they take `Depends` as a default.
async def get_labelled_repository(
    label: str, connection: str = Depends(get_connection)
) -> AsyncIterator[str]:
    yield f"{label} {connection}"


async def get_repository_of_plain_one(
    repository: Annotated[str, Depends(get_plain_repository)],
    pong: Annotated[str, Depends(ping)],
) -> AsyncIterator[str]:
    yield f"{repository} {pong}"


@pytest.mark.parametrize(
    "dependency",
    [
        pytest.param(functools.partial(get_labelled_repository, "main"), id="partial"),
        pytest.param(get_repository_of_plain_one, id="through-a-plain-dependency"),
    ],
)
def test_a_partial_or_a_deeper_response_scoped_dependency_is_refused_too(
    dependency: Callable[..., object],
) -> None:
    router = Router()

    with pytest.raises(RouteRegistrationError) as raised:
        router.add_api_route("/items", ping, dependencies=[Depends(dependency)])

    message = str(raised.value)
    parent = getattr(dependency, "func", dependency).__name__
    assert f"the dependency {parent} has a teardown" in message
    assert "response-scoped get_connection" in message
    assert router.routes == []


async def get_session() -> AsyncIterator[str]:
    yield "session"


async def get_settings(pong: Annotated[str, Depends(ping)]) -> str:
    return f"settings {pong}"


async def get_service(
    settings: Annotated[str, Depends(get_settings)],
    session: Annotated[str, Depends(get_session)],
) -> AsyncIterator[str]:
    yield f"{settings} {session}"


async def test_a_yield_dependency_on_plain_ones_only_registers_and_serves() -> None:
    router = Router()

    @router.get("/service")
    async def read(service: Annotated[str, Depends(get_service)]) -> str:
        return service

    app = FastAPI()
    app.include_router(router)
    exchange = await call(app, "/service")

    assert (exchange.status, exchange.json()) == (200, "settings pong session")


class Repository:
    """A class dependency: FastAPI calls it and tears nothing down."""

    def __init__(self, connection: str = Depends(get_connection)) -> None:
        self.connection = connection


async def test_a_class_dependency_on_a_response_scoped_one_registers_and_serves() -> None:
    router = Router()

    @router.get("/repository")
    async def read(repository: Annotated[Repository, Depends()]) -> str:
        return repository.connection

    app = FastAPI()
    app.include_router(router)
    exchange = await call(app, "/repository")

    assert (exchange.status, exchange.json()) == (200, "connection")
