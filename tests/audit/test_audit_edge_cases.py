"""Edge cases of the dependency audit: the shapes of dependency real apps use.

Class dependencies, callable instances, `functools.partial`, generic session providers,
optional sessions, router-level dependencies, and middleware other than the response
scope's. Each test reads what the audit says and, where it matters, what the app does.
"""

from __future__ import annotations

import functools
import textwrap
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Annotated, Any, Generic, TypeVar

import pytest

pytest.importorskip("fastapi", reason="the audit of FastAPI routes needs FastAPI")

from fastapi import APIRouter, Depends, FastAPI
from sqlalchemy import Engine, create_engine
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.orm import Session
from starlette.middleware.gzip import GZipMiddleware

from mintaka.core.asgi import ResponseScopeMiddleware
from mintaka.introspect import DependencyAudit, DependencyLifetime, audit_dependencies
from mintaka.introspect._cli import main
from testing.asgi import call, fastapi_version
from testing.cli import run_main
from tests.audit._audit_apps import scoped_resource

pytestmark = pytest.mark.anyio

CLOSES_AFTER_RESPONSE = fastapi_version() >= (0, 118)

engine: Engine = create_engine("sqlite://")
async_sessions = async_sessionmaker(create_async_engine("sqlite+aiosqlite://"))


def _app() -> FastAPI:
    return FastAPI(docs_url=None, redoc_url=None, openapi_url=None)


def lifetimes(audit: DependencyAudit, route: str) -> list[tuple[tuple[str, ...], str, str | None]]:
    (entry,) = (entry for entry in audit.routes if entry.route == route)
    return [(d.chain, d.closes, d.provides) for d in entry.dependencies]


def lifetimes_of(audit: DependencyAudit, route: str) -> tuple[DependencyLifetime, ...]:
    (entry,) = (entry for entry in audit.routes if entry.route == route)
    return entry.dependencies


def sessions_after_response(audit: DependencyAudit) -> list[tuple[str, tuple[str, ...]]]:
    return [(f.route, f.chain) for f in audit.findings if f.kind == "session-after-response"]


# -- the response scope and other middleware ------------------------------------------


def scoped_app(*middleware: Any) -> FastAPI:
    app = _app()
    for cls in middleware:
        app.add_middleware(cls)

    @app.get("/resource")
    async def read(resource: Annotated[str, Depends(scoped_resource)]) -> str:
        return resource

    return app


async def test_other_middleware_does_not_open_a_response_scope() -> None:
    app = scoped_app(GZipMiddleware)

    audit = audit_dependencies(app)

    assert [(f.kind, f.chain) for f in audit.findings] == [
        ("no-response-scope", ("scoped_resource",))
    ]
    assert not audit.routes[0].response_scope
    failed = await call(app, "/resource", raises=Exception)
    assert failed.status == 500


async def test_the_response_scope_middleware_is_found_behind_other_middleware() -> None:
    # add_middleware puts the last one added outermost: GZip wraps the response scope.
    app = scoped_app(ResponseScopeMiddleware, GZipMiddleware)
    classes: list[object] = [m.cls for m in app.user_middleware]
    assert classes == [GZipMiddleware, ResponseScopeMiddleware]

    audit = audit_dependencies(app)

    assert audit.findings == ()
    assert audit.routes[0].response_scope
    assert (await call(app, "/resource")).status == 200


# -- what a dependency provides -------------------------------------------------------


class Pagination:
    def __init__(self, limit: int = 10, offset: int = 0) -> None:
        self.limit, self.offset = limit, offset


class Settings:
    """A callable instance: FastAPI calls it, and what its `__call__` returns is provided."""

    def __init__(self, name: str) -> None:
        self.name = name

    def __call__(self) -> dict[str, str]:
        return {"name": self.name}


settings = Settings("shop")


def test_a_class_provides_its_instances_and_a_callable_instance_what_it_returns() -> None:
    app = _app()

    @app.get("/items")
    async def list_items(
        page: Annotated[Pagination, Depends()],
        config: Annotated[dict[str, str], Depends(settings)],
        other: Annotated[dict[str, str], Depends(Settings("other"))],
    ) -> list[str]:
        return []

    # The instance is named by the variable that holds it; one that none holds, by its class.
    assert lifetimes(audit_dependencies(app), "GET /items") == [
        (("Pagination",), "nothing", "Pagination"),
        (("settings",), "nothing", "dict[str, str]"),
        (("Settings",), "nothing", "dict[str, str]"),
    ]


def session_for(url: str) -> Iterator[Session]:
    with Session(create_engine(url)) as session:
        yield session


# One session generator bound to a database, as apps with several databases write it.
main_db = functools.partial(session_for, "sqlite://")


def test_a_partial_is_named_by_its_variable_and_provides_what_its_function_returns() -> None:
    app = _app()

    @app.post("/items", dependencies=[Depends(main_db)])
    async def create_item() -> None:
        return None

    @app.put("/items", dependencies=[Depends(functools.partial(session_for, "sqlite://"))])
    async def replace_item() -> None:
        return None

    audit = audit_dependencies(app)

    (dependency,) = lifetimes_of(audit, "POST /items")
    assert dependency.chain == ("main_db",)
    assert dependency.dependency == f"{__name__}.main_db"
    assert (dependency.closes, dependency.provides) == ("request", "Session")
    # A partial that no variable holds is named after its function.
    (inline,) = lifetimes_of(audit, "PUT /items")
    assert (inline.chain, inline.dependency) == (("session_for",), f"{__name__}.session_for")
    expected = [("POST /items", ("main_db",)), ("PUT /items", ("session_for",))]
    assert sessions_after_response(audit) == (expected if CLOSES_AFTER_RESPONSE else [])


# -- sessions the audit recognises ----------------------------------------------------

SessionT = TypeVar("SessionT", bound=Session)
AnySession = TypeVar("AnySession", Session, AsyncSession)


class SessionProvider(Generic[SessionT]):
    """A reusable dependency, generic in the session class it opens."""

    def __init__(self, factory: Callable[[], SessionT]) -> None:
        self.factory = factory

    def __call__(self) -> Iterator[SessionT]:
        with self.factory() as session:
            yield session


class EitherSessionProvider(Generic[AnySession]):
    """The same, for a session class constrained to a sync or an async session."""

    def __init__(self, factory: Callable[[], AnySession]) -> None:
        self.factory: Callable[[], AnySession] = factory

    async def __call__(self) -> AsyncIterator[AnySession]:
        yield self.factory()


async def maybe_session(
    tenant: str | None = None,
) -> AsyncIterator[AsyncSession | None]:
    """An optional session: only a request that names a tenant gets one."""
    if tenant is None:
        yield None
        return
    async with async_sessions() as session:
        yield session


# Module globals: FastAPI resolves the (string) annotations of an endpoint in its module.
bound = SessionProvider(lambda: Session(engine))
either: EitherSessionProvider[AsyncSession] = EitherSessionProvider(async_sessions)


def test_generic_and_optional_session_dependencies_are_sessions_too() -> None:
    app = _app()

    @app.get("/bound")
    def read_bound(session: Annotated[Session, Depends(bound)]) -> None:
        return None

    @app.get("/either")
    async def read_either(session: Annotated[AsyncSession, Depends(either)]) -> None:
        return None

    @app.get("/maybe")
    async def read_maybe(session: Annotated[AsyncSession | None, Depends(maybe_session)]) -> None:
        return None

    audit = audit_dependencies(app)

    expected = [
        ("GET /bound", ("bound",)),
        ("GET /either", ("either",)),
        ("GET /maybe", ("maybe_session",)),
    ]
    # Before FastAPI 0.118 a request-scoped teardown runs before the response.
    assert sessions_after_response(audit) == (expected if CLOSES_AFTER_RESPONSE else [])
    assert [route.dependencies[0].closes for route in audit.routes] == ["request"] * 3


# -- dependencies of a router ---------------------------------------------------------


def test_a_dependency_of_an_inclusion_is_listed_for_every_route_it_includes() -> None:
    router = APIRouter()

    @router.get("/users")
    async def users() -> list[str]:
        return []

    @router.get("/groups")
    async def groups() -> list[str]:
        return []

    app = _app()
    app.include_router(router, prefix="/admin", dependencies=[Depends(maybe_session)])

    audit = audit_dependencies(app)

    assert [(entry.route, lifetimes(audit, entry.route)) for entry in audit.routes] == [
        ("GET /admin/groups", [(("maybe_session",), "request", "AsyncSession | None")]),
        ("GET /admin/users", [(("maybe_session",), "request", "AsyncSession | None")]),
    ]
    expected = [("GET /admin/groups", ("maybe_session",)), ("GET /admin/users", ("maybe_session",))]
    assert sessions_after_response(audit) == (expected if CLOSES_AFTER_RESPONSE else [])


# -- the command, on an app as users write it -----------------------------------------

UNTYPED = """
from fastapi import Depends, FastAPI

app = FastAPI(docs_url=None, redoc_url=None, openapi_url=None)


def verify_token():
    pass


def get_db():
    yield "db"


@app.get("/ping")
def ping():
    return "pong"


@app.get("/items", dependencies=[Depends(verify_token)])
def list_items(db=Depends(get_db)):
    return []
"""


@pytest.fixture
def untyped_app(tmp_path: Path) -> Path:
    (tmp_path / "edge_untyped.py").write_text(textwrap.dedent(UNTYPED), encoding="utf-8")
    return tmp_path


def test_an_app_without_annotations_is_audited_with_what_it_declares(untyped_app: Path) -> None:
    done = run_main(
        main, "edge_untyped:app", "--app-dir", str(untyped_app), "--audit", cwd=untyped_app
    )
    status, out, err = done.returncode, done.stdout, done.stderr

    assert (status, err) == (0, "")
    blocks = out.split("\n\n")
    items = next(block for block in blocks if block.startswith("GET /items  "))
    ping = next(block for block in blocks if block.startswith("GET /ping  "))
    # Nothing says what the dependencies provide: the column shows "-".
    rows = [line.split()[:2] + line.split()[-1:] for line in items.splitlines()[3:]]
    assert rows == [["verify_token", "nothing", "-"], ["get_db", "request", "-"]]
    assert ping.splitlines() == [
        "GET /ping  (edge_untyped.ping; no response scope)",
        "  (no dependencies)",
    ]
