"""Serve an ASGI app with uvicorn on 127.0.0.1, and watch a SQLite database while it runs.

`Probe` sits between uvicorn and the app: when the app's `http.response.start` reaches
it, it reads the database through a connection of its own, so a test can tell whether a
commit was visible to others before the response began.
"""

from __future__ import annotations

import asyncio
import json
import socket
import sqlite3
from collections.abc import AsyncIterator, MutableMapping
from contextlib import asynccontextmanager, closing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import anyio
import uvicorn
from sqlalchemy import event
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from examples.asgi.notes_db import create_tables
from mintaka.core.asgi import ASGIApp

Message = MutableMapping[str, Any]


@asynccontextmanager
async def serving(app: ASGIApp) -> AsyncIterator[int]:
    """Run uvicorn for `app` in this event loop; yield the port it listens on."""
    config = uvicorn.Config(
        app, http="h11", ws="none", lifespan="auto", log_config=None, access_log=False
    )
    server = uvicorn.Server(config)
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(512)
        task = asyncio.create_task(server.serve(sockets=[listener]))
        try:
            yield listener.getsockname()[1]
        finally:
            server.should_exit = True
            await task


@dataclass
class Database:
    """A SQLite file with the notes table, its engine, and every transaction that ended."""

    path: Path
    engine: AsyncEngine
    sessionmaker: async_sessionmaker[AsyncSession]
    ended: list[str] = field(default_factory=list)
    some_ended: anyio.Event = field(default_factory=anyio.Event)

    def end(self, how: str) -> None:
        """Record that a transaction ended (the engine's events call it)."""
        self.ended.append(how)
        self.some_ended.set()

    def texts(self) -> set[str]:
        """The committed notes, read through a connection of the test's own."""
        with closing(sqlite3.connect(self.path, timeout=5)) as connection:
            return {text for (text,) in connection.execute("SELECT text FROM notes")}


@asynccontextmanager
async def database(path: Path) -> AsyncIterator[Database]:
    """A fresh notes database at `path`, in WAL mode so readers never wait for a writer."""
    with closing(sqlite3.connect(path)) as connection:
        connection.execute("PRAGMA journal_mode=WAL")
    # 200 concurrent writers queue for SQLite's one write lock on a loaded machine: give
    # each one time to wait its turn instead of failing with "database is locked".
    engine = create_async_engine(f"sqlite+aiosqlite:///{path}", connect_args={"timeout": 60})
    await create_tables(engine)
    found = Database(path, engine, async_sessionmaker(engine, expire_on_commit=False))
    event.listen(engine.sync_engine, "commit", lambda _: found.end("commit"))
    event.listen(engine.sync_engine, "rollback", lambda _: found.end("rollback"))
    try:
        yield found
    finally:
        await engine.dispose()


@dataclass
class Start:
    """What the probe saw when a response started: its request's note and status."""

    text: str | None
    status: int
    visible: bool


class Probe:
    """An ASGI wrapper that checks the database at each `http.response.start`."""

    def __init__(self, app: ASGIApp, db: Database) -> None:
        self.app = app
        self.db = db
        self.starts: list[Start] = []

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        body = bytearray()

        async def receive_body() -> Message:
            message: Message = await receive()
            body.extend(message.get("body", b""))
            return message

        async def send_checking(message: Message) -> None:
            if message["type"] == "http.response.start":
                try:
                    text = json.loads(body).get("text")
                except ValueError:
                    text = None
                visible = text in self.db.texts()
                self.starts.append(Start(text, message["status"], visible))
            await send(message)

        await self.app(scope, receive_body, send_checking)
