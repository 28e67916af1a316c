"""The apps the integration suite and `benchmarks/read_your_write.py` serve with uvicorn.

uvicorn imports this module in its own process (`--factory`), so everything an app needs
comes from environment variables that the launcher (`tests/integration/_server.py`) sets:

* `MINTAKA_PROOF_DATABASE_URL`: the async SQLAlchemy URL;
* `MINTAKA_PROOF_TABLES`: the prefix of this run's tables (created and dropped by the
  caller, see [`tables`][tests.integration.service.tables]);
* `MINTAKA_PROOF_SESSION`: `mintaka` (the default) for `transactional_session` on a
  mintaka `Router`, or `plain` for the control, the session a FastAPI user writes as a
  plain `yield` dependency, committed in its teardown;
* `MINTAKA_PROOF_APPLICATION_NAME`: PostgreSQL's `application_name` for the app's
  connections, so a test can count its backends in `pg_stat_activity`;
* `MINTAKA_PROOF_EFFECTS_LOG`: a file that the `on_commit` callbacks of `POST /effects`
  append the request's key to (mintaka's session only; the route exists when it is set).

`create_notes_app` serves the example (`examples/notes`) on `MINTAKA_PROOF_DATABASE_URL`.

No `from __future__ import annotations`: FastAPI resolves the endpoints' annotations
against the module's globals, and the session types here are local to `build_app`.
"""

import asyncio
import os
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, FastAPI, HTTPException, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from sqlalchemy import (
    Column,
    ForeignKey,
    Integer,
    MetaData,
    String,
    Table,
    UniqueConstraint,
    event,
    func,
    select,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from sqlalchemy.ext.asyncio import create_async_engine as _create_async_engine
from sqlalchemy.orm import registry

from mintaka.depends import response_scoped_dependency
from mintaka.depends.sqlalchemy import on_commit, transactional_session
from mintaka.router import Router
from tests.integration._app import serving

SessionKind = Literal["mintaka", "plain"]

PARENT_ID = 1
"""The one parent row the caller inserts; any other `parent_id` breaks the deferred key."""


@dataclass(frozen=True)
class Tables:
    """This run's tables: items, a deferred foreign key to parents, a unique `slot`."""

    metadata: MetaData
    parents: Table
    items: Table


def tables(prefix: str, dialect: str) -> Tables:
    """Define this run's tables for `dialect` (`sqlite` or `postgresql`).

    On PostgreSQL the foreign key and the unique constraint are both `DEFERRABLE
    INITIALLY DEFERRED`, so they fail at `COMMIT` itself. SQLite cannot defer a unique
    constraint: the endpoints never flush, so its violation surfaces when the commit
    flushes the `INSERT`.
    """
    metadata = MetaData()
    parents = Table(f"{prefix}_parents", metadata, Column("id", Integer, primary_key=True))
    deferrable = dialect == "postgresql"
    unique_slot = UniqueConstraint(
        "slot",
        name=f"{prefix}_slot_key",
        deferrable=deferrable or None,
        initially="DEFERRED" if deferrable else None,
    )
    items = Table(
        f"{prefix}_items",
        metadata,
        Column("key", String(80), primary_key=True),
        Column("text", String(200), nullable=False),
        Column("batch", String(80), nullable=True, index=True),
        Column(
            "parent_id",
            Integer,
            ForeignKey(parents.c.id, deferrable=True, initially="DEFERRED"),
            nullable=True,
        ),
        Column("slot", Integer, nullable=True),
        unique_slot,
    )
    return Tables(metadata=metadata, parents=parents, items=items)


def create_async_engine(
    url: str, application_name: str | None = None, **options: Any
) -> AsyncEngine:
    """An engine for `url`: SQLite enforces foreign keys; PostgreSQL names its backends."""
    connect_args: dict[str, Any] = {}
    if application_name and url.startswith("postgresql"):
        connect_args["server_settings"] = {"application_name": application_name}
    if url.startswith("sqlite"):
        # SQLite lets one writer in at a time; under load a writer may wait longer than
        # the driver's default of 5 s for the lock.
        connect_args["timeout"] = 60
    engine = _create_async_engine(url, connect_args=connect_args, **options)
    if engine.dialect.name == "sqlite":
        event.listen(engine.sync_engine, "connect", _enforce_foreign_keys)
    return engine


def _enforce_foreign_keys(connection: Any, _record: Any) -> None:
    cursor = connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


class Item:
    """A row of the items table, for writes the session flushes at commit."""

    def __init__(self, **columns: Any) -> None:
        for name, value in columns.items():
            setattr(self, name, value)


class ItemIn(BaseModel):
    """A write: the key, a text, and the columns that can break a constraint."""

    key: str = Field(min_length=1, max_length=80)
    text: str = Field(max_length=200)
    parent_id: int | None = None
    slot: int | None = None


class ItemOut(BaseModel):
    """A stored item, as the client reads it back."""

    key: str
    text: str


class BatchIn(BaseModel):
    """Several rows written by one request: all of them, or none.

    `flush` sends each row's `INSERT` at once, so the transaction holds written rows while
    the endpoint waits; without it (for SQLite, which lets one writer in at a time) the
    rows are sent when the session commits.
    """

    size: int = Field(ge=1, le=10)
    flush: bool = True
    wait_for_disconnect: float = Field(default=0.0, ge=0.0, le=30.0)


class EffectIn(ItemIn):
    """A write whose `on_commit` callback logs its key; it may raise, or the route refuse.

    `answer` (a 4xx) makes the endpoint refuse the write after registering the callback:
    by raising `HTTPException` when `raise_it`, else by returning a `JSONResponse`.
    """

    callback: Literal["record", "raise"] = "record"
    answer: int | None = Field(default=None, ge=400, le=499)
    raise_it: bool = False


def record_effect(log: Path, key: str, *, fail: bool) -> None:
    """The `on_commit` callback: append `key` to `log` (one `write`), then maybe raise."""
    with log.open("a") as file:
        file.write(f"{key}\n")
    if fail:
        raise RuntimeError(f"the effect of {key} failed after it was recorded")


@dataclass
class Diagnostics:
    """What the test app tells about itself (one worker process's view)."""

    engine: AsyncEngine
    started: set[str] = field(default_factory=set)
    effects_in_flight: int = 0

    def checked_out(self) -> int:
        """Connections the pool has handed out and not had back."""
        checkedout = getattr(self.engine.pool, "checkedout", None)
        return int(checkedout()) if checkedout is not None else 0


def create_app() -> FastAPI:
    """The test app, configured from the environment (see the module docstring)."""
    url = os.environ["MINTAKA_PROOF_DATABASE_URL"]
    requested = os.environ.get("MINTAKA_PROOF_SESSION", "mintaka")
    if requested not in ("mintaka", "plain"):
        raise ValueError(f"MINTAKA_PROOF_SESSION must be 'mintaka' or 'plain', not {requested!r}")
    kind: SessionKind = "plain" if requested == "plain" else "mintaka"
    engine = create_async_engine(url, os.environ.get("MINTAKA_PROOF_APPLICATION_NAME"))
    schema = tables(os.environ["MINTAKA_PROOF_TABLES"], engine.dialect.name)
    effects = os.environ.get("MINTAKA_PROOF_EFFECTS_LOG")
    return build_app(engine, schema, kind, Path(effects) if effects else None)


def build_app(
    engine: AsyncEngine, schema: Tables, kind: SessionKind, effects_log: Path | None = None
) -> FastAPI:
    """The items service on `engine`, with mintaka's session or the plain control.

    Both variants share every endpoint; they differ only in when the session commits:
    mintaka's before the response is sent, the plain `yield` dependency's in FastAPI's
    teardown, after it (FastAPI >= 0.118). `?commit_delay=` (seconds) models a slow
    commit: a sleep in the teardown just before the commit. With `effects_log`, mintaka's
    variant also serves `POST /effects` (see `add_effects`).
    """
    items = schema.items
    item_class = type("Item", (Item,), {})
    registry().map_imperatively(item_class, items)
    diagnostics = Diagnostics(engine)
    sessionmaker = async_sessionmaker(engine)
    if kind == "mintaka":
        router: APIRouter = Router()
        session_dependency: Any = transactional_session(sessionmaker)

        # Entered after the session, so it exits first: its sleep runs just before the
        # session's commit, inside the response scope.
        @response_scoped_dependency
        async def slow_commit(
            session: Annotated[AsyncSession, Depends(session_dependency)],
            commit_delay: float = 0.0,
        ) -> AsyncIterator[AsyncSession]:
            yield session
            if commit_delay:
                await asyncio.sleep(commit_delay)

    else:
        router = APIRouter()

        async def plain_session(commit_delay: float = 0.0) -> AsyncIterator[AsyncSession]:
            async with sessionmaker() as session, session.begin():
                yield session
                if commit_delay:
                    await asyncio.sleep(commit_delay)

        slow_commit = plain_session  # type: ignore[assignment]

    Session = Annotated[AsyncSession, Depends(slow_commit)]

    @router.post("/items", status_code=201)
    async def create_item(item: ItemIn, session: Session) -> ItemOut:
        # No flush: the INSERT, and any constraint it breaks, happen at commit.
        session.add(item_class(**item.model_dump()))
        return ItemOut(key=item.key, text=item.text)

    @router.get("/items/{key}")
    async def read_item(key: str, session: Session) -> ItemOut:
        row = (await session.execute(select(items).where(items.c.key == key))).first()
        if row is None:
            raise HTTPException(status_code=404, detail=f"no item {key!r}")
        return ItemOut(key=row.key, text=row.text)

    @router.post("/batches/{batch}", status_code=201)
    async def create_batch(batch: str, body: BatchIn, session: Session, request: Request) -> int:
        for index in range(body.size):
            session.add(item_class(key=f"{batch}-{index}", text=batch, batch=batch))
            if body.flush:
                await session.flush()
        diagnostics.started.add(batch)
        if body.wait_for_disconnect:
            # Keep the transaction open until the client hangs up (or the time is up);
            # uvicorn does not cancel the request, so the endpoint then returns normally.
            async with asyncio.timeout(body.wait_for_disconnect):
                while (await request.receive())["type"] != "http.disconnect":
                    pass
        return body.size

    @router.get("/batches/{batch}/started")
    async def batch_started(batch: str) -> bool:
        return batch in diagnostics.started

    @router.get("/diagnostics")
    async def read_diagnostics() -> dict[str, Any]:
        return {
            "session": kind,
            "checked_out": diagnostics.checked_out(),
            "effects_in_flight": diagnostics.effects_in_flight,
        }

    @router.get("/health")
    async def health() -> Response:
        async with engine.connect() as connection:
            await connection.scalar(select(func.count()).select_from(items))
        return Response(status_code=204)

    app = serving(router, engine, health=False)
    app.add_exception_handler(IntegrityError, conflict)
    if kind == "mintaka" and effects_log is not None:
        add_effects(app, Session, item_class, diagnostics, effects_log)
    return app


def add_effects(
    app: FastAPI, session_type: Any, item_class: type, diagnostics: Diagnostics, log: Path
) -> None:
    """`POST /effects`: write an item, register `record_effect` with `on_commit`.

    `CountEffects` counts these requests while they run, for `GET /diagnostics`.
    """
    router = Router()

    @router.post("/effects", status_code=201, response_model=ItemOut)
    async def create_with_effect(effect: EffectIn, session: session_type) -> Any:
        session.add(item_class(**effect.model_dump(include=set(ItemIn.model_fields))))
        on_commit(session, record_effect, log, effect.key, fail=effect.callback == "raise")
        if effect.answer is not None:
            detail = f"{effect.key} refused"
            if effect.raise_it:
                raise HTTPException(status_code=effect.answer, detail=detail)
            return JSONResponse({"detail": detail}, status_code=effect.answer)
        return ItemOut(key=effect.key, text=effect.text)

    app.include_router(router)
    app.add_middleware(CountEffects, diagnostics=diagnostics)


class CountEffects:
    """Counts the `/effects` requests whose app call (callbacks included) is not over."""

    def __init__(self, app: Any, diagnostics: Diagnostics) -> None:
        self.app = app
        self.diagnostics = diagnostics

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or scope["path"] != "/effects":
            await self.app(scope, receive, send)
            return
        self.diagnostics.effects_in_flight += 1
        try:
            await self.app(scope, receive, send)
        finally:
            self.diagnostics.effects_in_flight -= 1


async def conflict(request: Request, exc: Exception) -> JSONResponse:
    """Answer a write the database refused with 409 Conflict."""
    return JSONResponse({"detail": f"{request.method} {request.url.path}: conflict"}, 409)


def create_notes_app() -> FastAPI:
    """The example's notes service on `MINTAKA_PROOF_DATABASE_URL`."""
    # Imported here: uvicorn's process has the repository root on its path, pytest's not.
    from examples.notes.app import create_app as create_example_app

    return create_example_app(os.environ["MINTAKA_PROOF_DATABASE_URL"])
