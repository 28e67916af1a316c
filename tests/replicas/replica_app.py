"""The app the replica tests and the replica proof serve: notes written on the primary, read back.

* `POST /notes` inserts a note through the write session (`transactional_session(primary,
  replicas=...)`) and answers its id;
* `GET /notes/{id}` reads it through the read session and answers whether it was found
  and which server answered (`inet_server_port()`), so a test tells a replica's read from
  the primary's;
* `GET /health` uses no session.

`create_app(...)` builds it for a test's own uvicorn; `create_app_from_env()` is the
factory a uvicorn process of its own serves (`MINTAKA_REPLICA_*`, below). With
`routing="control"` the reads go to the first replica as a plain read-only session, with
no position: what an app without `ReadReplicas` does.

No `from __future__ import annotations`: FastAPI resolves the endpoints' annotations
against the module's globals.
"""

import logging
import os
from typing import Annotated, Any, Literal

from fastapi import Depends, FastAPI
from sqlalchemy import Column, Integer, MetaData, String, Table, create_engine, insert, select, text
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import Session, sessionmaker

from mintaka.depends.sqlalchemy import ReadReplicas, transactional_session
from mintaka.router import Router

Kind = Literal["async", "sync"]
Routing = Literal["replicas", "control"]

NOTES = Table(
    "replica_notes",
    MetaData(),
    Column("id", Integer, primary_key=True),
    Column("client", String(80), nullable=False),
)
CREATE_NOTES = "CREATE TABLE IF NOT EXISTS replica_notes (id serial PRIMARY KEY, client text)"
SERVER_PORT = text("SELECT inet_server_port()")


def _makers(kind: Kind, urls: list[str]) -> list[Any]:
    if kind == "async":
        return [async_sessionmaker(create_async_engine(url)) for url in urls]
    return [sessionmaker(create_engine(url.replace("+asyncpg", "+psycopg"))) for url in urls]


def create_app(
    primary_url: str,
    replica_urls: list[str],
    *,
    kind: Kind = "async",
    routing: Routing = "replicas",
    max_wait: float = 0.1,
    retry_after: float = 5.0,
) -> FastAPI:
    """The notes app on the primary at `primary_url` and its replicas (module docstring)."""
    (primary,) = _makers(kind, [primary_url])
    replica_makers = _makers(kind, replica_urls)
    replicas = ReadReplicas(replica_makers, max_wait=max_wait, retry_after=retry_after)
    if routing == "replicas":
        get_session: Any = transactional_session(primary, replicas=replicas)
        get_reader: Any = transactional_session(primary, read_only=True, replicas=replicas)
    else:
        get_session = transactional_session(primary)
        get_reader = transactional_session(replica_makers[0], read_only=True)
    router = Router()
    if kind == "async":

        @router.post("/notes", status_code=201)
        async def create_note(
            client: str, session: Annotated[AsyncSession, Depends(get_session)]
        ) -> dict[str, int]:
            created = insert(NOTES).values(client=client).returning(NOTES.c.id)
            return {"id": (await session.execute(created)).scalar_one()}

        @router.get("/notes/{note_id}")
        async def read_note(
            note_id: int, session: Annotated[AsyncSession, Depends(get_reader)]
        ) -> dict[str, Any]:
            found = await session.scalar(select(NOTES.c.id).where(NOTES.c.id == note_id))
            return {"found": found is not None, "port": await session.scalar(SERVER_PORT)}

    else:

        @router.post("/notes", status_code=201)
        def create_note_sync(
            client: str, session: Annotated[Session, Depends(get_session)]
        ) -> dict[str, int]:
            created = insert(NOTES).values(client=client).returning(NOTES.c.id)
            return {"id": session.execute(created).scalar_one()}

        @router.get("/notes/{note_id}")
        def read_note_sync(
            note_id: int, session: Annotated[Session, Depends(get_reader)]
        ) -> dict[str, Any]:
            found = session.scalar(select(NOTES.c.id).where(NOTES.c.id == note_id))
            return {"found": found is not None, "port": session.scalar(SERVER_PORT)}

    @router.get("/health")
    async def health() -> dict[str, str]:
        return {"status": "ok"}

    app = FastAPI()
    app.include_router(router)
    app.state.makers = [primary, *replica_makers]
    return app


async def dispose(app: FastAPI) -> None:
    """Close the connection pools of `app`'s engines."""
    for maker in app.state.makers:
        engine = maker.kw["bind"]
        if isinstance(engine, AsyncEngine):
            await engine.dispose()
        else:
            engine.dispose()


def create_app_from_env() -> FastAPI:
    """The app for a uvicorn of its own, configured by `MINTAKA_REPLICA_PRIMARY_URL`,
    `MINTAKA_REPLICA_URLS` (comma-separated), `MINTAKA_REPLICA_ROUTING` and
    `MINTAKA_REPLICA_MAX_WAIT`.
    """
    # uvicorn configures its own loggers only: show mintaka's replica warnings in its log.
    logger = logging.getLogger("mintaka.depends")
    logger.setLevel(logging.INFO)
    logger.addHandler(logging.StreamHandler())
    control = os.environ["MINTAKA_REPLICA_ROUTING"] == "control"
    routing: Routing = "control" if control else "replicas"
    return create_app(
        os.environ["MINTAKA_REPLICA_PRIMARY_URL"],
        os.environ["MINTAKA_REPLICA_URLS"].split(","),
        routing=routing,
        max_wait=float(os.environ["MINTAKA_REPLICA_MAX_WAIT"]),
        retry_after=float(os.environ.get("MINTAKA_REPLICA_RETRY_AFTER", "1.0")),
    )
