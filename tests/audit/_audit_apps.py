"""Small real apps, each with one finding of the dependency audit, and its corrected twin.

Every app logs what its dependencies do to `EVENTS`, so that a test can show the finding
is real (the request fails, the teardown runs late, two instances exist) and that the
twin fixes it. `mintaka-routes` imports this module in the command-line tests.
"""

from __future__ import annotations

import inspect
from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import APIRouter, Depends, FastAPI
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine

from mintaka.core.fastapi import ResponseScopedRoute
from mintaka.depends import response_scoped_dependency
from mintaka.depends.sqlalchemy import transactional_session
from mintaka.router import Router

EVENTS: list[str] = []
FUNCTION_SCOPE = "scope" in inspect.signature(Depends).parameters  # FastAPI >= 0.121

sessionmaker = async_sessionmaker(create_async_engine("sqlite+aiosqlite://"))


async def open_cache() -> AsyncIterator[dict[str, str]]:
    cache: dict[str, str] = {}
    EVENTS.append(f"cache open {id(cache)}")
    yield cache
    EVENTS.append("cache close")


cache = response_scoped_dependency(open_cache)


async def _resource(name: str) -> AsyncIterator[str]:
    EVENTS.append(f"{name} open")
    yield name
    EVENTS.append(f"{name} close")


@response_scoped_dependency
async def scoped_resource() -> AsyncIterator[str]:
    async for value in _resource("resource"):
        yield value


async def service(resource: Annotated[str, Depends(scoped_resource)]) -> AsyncIterator[str]:
    """A request-scoped dependency with a teardown on a response-scoped resource."""
    yield resource
    EVENTS.append("service close")


@response_scoped_dependency
async def scoped_service(resource: Annotated[str, Depends(scoped_resource)]) -> AsyncIterator[str]:
    """The fix: the service is response-scoped too, so it closes before the resource."""
    yield resource
    EVENTS.append("service close")


async def plain_session() -> AsyncIterator[AsyncSession]:
    async with sessionmaker() as session:
        yield session
    EVENTS.append("session close")


scoped_session = response_scoped_dependency(plain_session)


def _app(*routers: APIRouter) -> FastAPI:
    app = FastAPI(docs_url=None, redoc_url=None, openapi_url=None)
    for router in routers:
        app.include_router(router)
    return app


# (a) a response-scoped dependency on a route without a response scope, and the twin.
no_scope_router = APIRouter()
scope_router = Router()
for _router in (no_scope_router, scope_router):

    @_router.get("/resource")
    async def read_resource(resource: Annotated[str, Depends(scoped_resource)]) -> str:
        return resource


no_response_scope = _app(no_scope_router)
no_response_scope_fixed = _app(scope_router)

# (b) a teardown after the response-scoped resource closed; app-level and router-level
# dependencies carry it too. A Router refuses it, so a plain APIRouter holds it here.
late_router = APIRouter(route_class=ResponseScopedRoute)
fixed_router = Router()


@late_router.post("/items")
async def create_item(value: Annotated[str, Depends(service)]) -> str:
    return value


@fixed_router.post("/items")
async def create_item_fixed(value: Annotated[str, Depends(scoped_service)]) -> str:
    return value


teardown_after_resource = _app(late_router)

# The same service twice in one route: one instance, so one finding.
_twice_router = APIRouter(route_class=ResponseScopedRoute)


@_twice_router.put("/items")
async def replace_item(
    value: Annotated[str, Depends(service)], again: Annotated[str, Depends(service)]
) -> str:
    return value + again


used_twice = _app(_twice_router)
teardown_after_resource_fixed = _app(fixed_router)


async def ping() -> str:
    return "pong"


# The same finding through app-level, inclusion-level, router-level and route-level
# dependencies=[...], and through a FastAPI app mounted in another.
app_level = FastAPI(
    docs_url=None, redoc_url=None, openapi_url=None, dependencies=[Depends(service)]
)
app_level.include_router(APIRouter(route_class=ResponseScopedRoute, routes=[]), prefix="/unused")
_app_level_router = APIRouter(route_class=ResponseScopedRoute)
_app_level_router.add_api_route("/ping", ping)
app_level.include_router(_app_level_router, prefix="/app")

inclusion_level = FastAPI(docs_url=None, redoc_url=None, openapi_url=None)
_inclusion_router = APIRouter(route_class=ResponseScopedRoute)
_inclusion_router.add_api_route("/ping", ping)
inclusion_level.include_router(_inclusion_router, prefix="/inc", dependencies=[Depends(service)])

_router_level_router = APIRouter(route_class=ResponseScopedRoute, dependencies=[Depends(service)])
_router_level_router.add_api_route("/ping", ping)
router_level = _app(_router_level_router)

_route_level_router = APIRouter(route_class=ResponseScopedRoute)
_route_level_router.add_api_route("/ping", ping, dependencies=[Depends(service)])
route_level = _app(_route_level_router)

mounted = FastAPI(docs_url=None, redoc_url=None, openapi_url=None)
mounted.mount("/sub", teardown_after_resource)

# (c) one dependency under two scopes in one route, and the twin.
two_router = Router()
one_router = Router()


@two_router.get("/cache")
async def read_cache(
    scoped: Annotated[dict[str, str], Depends(cache)],
    plain: Annotated[dict[str, str], Depends(open_cache)],
) -> bool:
    return scoped is plain


@one_router.get("/cache")
async def read_cache_fixed(
    scoped: Annotated[dict[str, str], Depends(cache)],
    again: Annotated[dict[str, str], Depends(cache)],
) -> bool:
    return scoped is again


two_scopes = _app(two_router)
two_scopes_fixed = _app(one_router)

# (d) a database session that closes after the response, and the twin.
late_session_router = Router()
session_router = Router()


@late_session_router.get("/notes")
async def list_notes(session: Annotated[AsyncSession, Depends(plain_session)]) -> int:
    return 0


@session_router.get("/notes")
async def list_notes_fixed(session: Annotated[AsyncSession, Depends(scoped_session)]) -> int:
    return 0


transactional_router = Router()


@transactional_router.get("/notes")
async def list_notes_in_a_transaction(
    session: Annotated[AsyncSession, Depends(transactional_session(sessionmaker))],
) -> int:
    return 0


transactional = _app(transactional_router)
session_after_response = _app(late_session_router)
session_after_response_fixed = _app(session_router)

# Everything at once, with its fixed twin: for --strict.
everything = _app(no_scope_router, late_router, two_router, late_session_router)
everything_fixed = _app(scope_router, fixed_router, one_router, session_router)

# FastAPI's own function scope (0.121+): a function-scoped teardown on a response-scoped
# resource, and one dependency under the function and the request scope. A Router
# refuses the first, so a plain APIRouter with the response-scoped route class holds it.
_function_router = APIRouter(route_class=ResponseScopedRoute)
if FUNCTION_SCOPE:
    _function_cache = Depends(open_cache, scope="function")  # type: ignore[call-arg,unused-ignore]
    _function_service = Depends(service, scope="function")  # type: ignore[call-arg,unused-ignore]

    @_function_router.get("/both")
    async def both(
        one: Annotated[dict[str, str], _function_cache],
        two: Annotated[dict[str, str], Depends(open_cache)],
        three: Annotated[str, _function_service],
    ) -> bool:
        return one is two


function_scope = _app(_function_router)
