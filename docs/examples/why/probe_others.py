# ruff: noqa: PLC0415, SIM112 - each probe imports its library; fastapi-sqla reads lowercase
"""Probe other libraries' transaction-per-request support (run by measure_others.py).

Runs inside a throwaway virtual environment that has fastapi-sqla, advanced-alchemy and
Litestar installed; it is not imported by mintaka's own environments. For each library the
same endpoint adds a row whose primary key already exists, so the commit fails. Each app is
called with raw ASGI messages; SQLAlchemy's engine ``commit`` event and the ``send``
callable record, in order, when the commit ran and what the client was sent.
"""

import asyncio
import contextlib
import os
import sqlite3
import sys
import tempfile
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

from raw_asgi import http_scope
from sqlalchemy import String, event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

App = Callable[[dict[str, Any], Any, Any], Awaitable[None]]
events: list[str] = []


class Base(DeclarativeBase):
    pass


class Note(Base):
    __tablename__ = "notes"

    slug: Mapped[str] = mapped_column(String(100), primary_key=True)


def fresh_database(folder: Path, name: str) -> str:
    path = folder / f"{name}.db"
    with contextlib.closing(sqlite3.connect(path)) as connection:
        connection.execute("CREATE TABLE notes (slug VARCHAR(100) PRIMARY KEY)")
        connection.execute("INSERT INTO notes VALUES ('taken')")
        connection.commit()
    return f"sqlite+aiosqlite:///{path}"


async def post(app: App, path: str) -> None:
    """POST ``path``; record the response start and any error that reaches the server."""
    scope = http_scope("POST", path)

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            events.append(f"response.start {message['status']}")

    try:
        await app(scope, receive, send)
    except Exception as error:
        events.append(f"raised {type(error).__name__}")


@contextlib.asynccontextmanager
async def lifespan_of(app: App) -> AsyncIterator[None]:
    """Run the app's ASGI lifespan around the block."""
    to_app: asyncio.Queue[dict[str, str]] = asyncio.Queue()
    from_app: asyncio.Queue[dict[str, str]] = asyncio.Queue()
    scope = {"type": "lifespan", "asgi": {"version": "3.0"}, "state": {}}
    task = asyncio.ensure_future(app(scope, to_app.get, from_app.put))
    await to_app.put({"type": "lifespan.startup"})
    started = await from_app.get()
    assert started["type"] == "lifespan.startup.complete", started
    yield
    await to_app.put({"type": "lifespan.shutdown"})
    await from_app.get()
    await task


def fastapi_sqla_app(url: str) -> App:
    os.environ["sqlalchemy_url"] = url
    import fastapi_sqla
    from fastapi import FastAPI

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await fastapi_sqla.startup()
        yield

    app = FastAPI(lifespan=lifespan)
    fastapi_sqla.setup_middlewares(app)

    @app.post("/notes/{slug}", status_code=201)
    async def create(slug: str, session: fastapi_sqla.AsyncSession) -> dict[str, str]:
        session.add(Note(slug=slug))
        return {"slug": slug}

    return app


def advanced_alchemy_fastapi_app(url: str) -> App:
    from typing import Annotated

    from advanced_alchemy.extensions.fastapi import AdvancedAlchemy, SQLAlchemyAsyncConfig
    from fastapi import Depends, FastAPI
    from sqlalchemy.ext.asyncio import AsyncSession

    app = FastAPI()
    config = SQLAlchemyAsyncConfig(connection_string=url, commit_mode="autocommit")
    alchemy = AdvancedAlchemy(config=config, app=app)
    Session = Annotated[AsyncSession, Depends(alchemy.provide_session())]  # noqa: N806

    @app.post("/notes/{slug}", status_code=201)
    async def create(slug: str, session: Session) -> dict[str, str]:
        session.add(Note(slug=slug))
        return {"slug": slug}

    return app


def litestar_autocommit_app(url: str) -> App:
    from advanced_alchemy.extensions.litestar import SQLAlchemyAsyncConfig, SQLAlchemyPlugin
    from litestar import Litestar, post
    from sqlalchemy.ext.asyncio import AsyncSession

    @post("/notes/{slug:str}", status_code=201)
    async def create(slug: str, db_session: AsyncSession) -> dict[str, str]:
        db_session.add(Note(slug=slug))
        return {"slug": slug}

    config = SQLAlchemyAsyncConfig(connection_string=url, before_send_handler="autocommit")
    return Litestar(route_handlers=[create], plugins=[SQLAlchemyPlugin(config=config)])


PROBES = {
    "fastapi-sqla": fastapi_sqla_app,
    "advanced-alchemy FastAPI (autocommit)": advanced_alchemy_fastapi_app,
    "Litestar + advanced-alchemy (autocommit)": litestar_autocommit_app,
}


async def probe(name: str, folder: Path) -> str:
    app = PROBES[name](fresh_database(folder, name.split(maxsplit=1)[0]))
    async with lifespan_of(app):
        events.clear()
        await post(app, "/notes/fresh")
        ok = list(events)
        events.clear()
        await post(app, "/notes/taken")
        failed = list(events)
    return f"{name}: success {ok}; failed commit {failed}"


def main() -> None:
    """Print one line per library, prefixed ``probe:`` (the libraries log to stdout too)."""
    event.listen(Engine, "commit", lambda connection: events.append("commit"))
    with tempfile.TemporaryDirectory() as folder:
        for name in PROBES:
            print(f"probe: {asyncio.run(probe(name, Path(folder)))}")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
