"""The apps under measurement: the same endpoint, built the mintaka way and the FastAPI way.

No `from __future__ import annotations` here: FastAPI reads the endpoints' annotations at
run time, and they name local variables.
"""

import tempfile
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI
from fastapi.routing import APIRoute
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import Session, sessionmaker

from benchmarks.suite._asgi import PATH
from benchmarks.suite._features import Missing, attribute, function_scope


class Resource:
    """What the plain dependencies hand out: opened before the endpoint, closed after it."""

    __slots__ = ("open",)

    def __init__(self) -> None:
        self.open = True


def resource_dependency() -> Callable[[], AsyncIterator[Resource]]:
    """A new async generator dependency (FastAPI caches per function, so each is distinct)."""

    async def resource() -> AsyncIterator[Resource]:
        held = Resource()
        try:
            yield held
        finally:
            held.open = False

    return resource


def notes_app(route_class: type[APIRoute] = APIRoute, dependency: Any = None) -> FastAPI:
    """An app with `GET /notes`, optionally depending on `dependency` (a `Depends`)."""
    router = APIRouter(route_class=route_class)
    if dependency is None:

        @router.get(PATH)
        async def read_notes() -> dict[str, int]:
            return {"count": 3}

    else:

        @router.get(PATH)
        async def read_notes_with(held: Annotated[Resource, dependency]) -> dict[str, int]:
            return {"count": 3 if held.open else -1}

    app = FastAPI()
    app.include_router(router)
    return app


def many_dependencies_app(route_class: type[APIRoute], dependencies: Sequence[Any]) -> FastAPI:
    """`GET /notes` with the `Depends` of `dependencies` on the route."""
    router = APIRouter(route_class=route_class)

    async def read_notes() -> dict[str, int]:
        return {"count": 3}

    router.add_api_route(PATH, read_notes, methods=["GET"], dependencies=list(dependencies))
    app = FastAPI()
    app.include_router(router)
    return app


def route_class() -> type[APIRoute]:
    """Mintaka's `ResponseScopedRoute`."""
    from mintaka.core.fastapi import ResponseScopedRoute

    return ResponseScopedRoute


def mintaka_scoped(dependency: Callable[..., Any]) -> Any:
    """`Depends(response_scoped_dependency(dependency))`."""
    from mintaka.depends import response_scoped_dependency

    return Depends(response_scoped_dependency(dependency))


def fastapi_scoped(dependency: Callable[..., Any]) -> tuple[Any, str]:
    """What a FastAPI user writes to close before the response, and its name.

    `Depends(scope="function")` from FastAPI 0.121; a plain `Depends` before that.
    """
    try:
        return function_scope(dependency), 'Depends(scope="function")'
    except Missing:
        return Depends(dependency), "Depends (plain yield)"


SELECT_NOTE = text("SELECT text FROM notes WHERE id = 1")


class Database:
    """A SQLite file with one note, and the engines and sessionmakers for it."""

    def __init__(self, directory: Path | None = None, *, populate: bool = True) -> None:
        if directory is None:
            self._temporary = tempfile.TemporaryDirectory(prefix="mintaka-bench-")
            directory = Path(self._temporary.name)
        self.path = directory / "notes.db"
        self.sync_engine: Engine = create_engine(
            f"sqlite:///{self.path}", connect_args={"check_same_thread": False}
        )
        if populate:  # False: another process did
            with self.sync_engine.begin() as connection:
                connection.execute(text("CREATE TABLE notes (id INTEGER, text TEXT)"))
                connection.execute(text("INSERT INTO notes VALUES (1, 'buy milk')"))
        self.async_engine: AsyncEngine = create_async_engine(f"sqlite+aiosqlite:///{self.path}")
        self.async_sessionmaker = async_sessionmaker(self.async_engine)
        self.sessionmaker = sessionmaker(self.sync_engine)

    async def dispose(self) -> None:
        """Close every connection."""
        await self.async_engine.dispose()
        self.sync_engine.dispose()


def fastapi_async_recipe(
    maker: async_sessionmaker[AsyncSession],
) -> Callable[[], AsyncIterator[AsyncSession]]:
    """The FastAPI way: a `yield` dependency with a session in a transaction."""

    async def get_session() -> AsyncIterator[AsyncSession]:
        async with maker() as session, session.begin():
            yield session

    return get_session


def fastapi_sync_recipe(maker: sessionmaker[Session]) -> Callable[[], Iterator[Session]]:
    """The FastAPI way for a sync `Session`: a sync `yield` dependency (run in threads)."""

    def get_session() -> Iterator[Session]:
        with maker() as session, session.begin():
            yield session

    return get_session


def mintaka_session(maker: Any, *, sync: bool) -> Callable[..., Any]:
    """`transactional_session(maker)`; `Missing` where it does not accept this kind yet."""
    transactional_session = attribute("mintaka.depends.sqlalchemy", "transactional_session")
    try:
        return transactional_session(maker)  # type: ignore[no-any-return]
    except TypeError:
        kind = "a sync sessionmaker" if sync else "an async_sessionmaker"
        raise Missing(f"needs transactional_session() accepting {kind} (issue 10)") from None


def async_session_app(route_class: type[APIRoute], dependency: Any) -> FastAPI:
    """`GET /notes` reading the note through an `AsyncSession` from `dependency`."""
    router = APIRouter(route_class=route_class)

    @router.get(PATH)
    async def read_note(session: Annotated[AsyncSession, dependency]) -> dict[str, str]:
        return {"text": (await session.execute(SELECT_NOTE)).scalar_one()}

    app = FastAPI()
    app.include_router(router)
    return app


def sync_session_app(route_class: type[APIRoute], dependency: Any) -> FastAPI:
    """`GET /notes` reading the note through a sync `Session` (a sync endpoint, in threads)."""
    router = APIRouter(route_class=route_class)

    @router.get(PATH)
    def read_note(session: Annotated[Session, dependency]) -> dict[str, str]:
        return {"text": session.execute(SELECT_NOTE).scalar_one()}

    app = FastAPI()
    app.include_router(router)
    return app
