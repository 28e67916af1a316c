"""How many failed commits does each Litestar setup answer with a success?

The same Litestar service (`POST /notes` stores a note whose text is unique) runs twice,
served by uvicorn on 127.0.0.1 and driven over TCP:

1. with advanced-alchemy's `SQLAlchemyPlugin` and its `autocommit` before-send handler,
   Litestar's usual answer to "commit before the response";
2. with mintaka's `ResponseScopeMiddleware` and a session on the response stack that
   commits when the status is below 400.

Every note is posted twice, so every second request's commit fails on the unique
constraint. The script counts, for each setup, the requests answered 2xx whose note was
not stored by that request: the false successes. Run it with
`hatch run bench:litestar-autocommit`.
"""

import argparse
import asyncio
import socket
import sqlite3
import tempfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, closing
from importlib.metadata import version
from pathlib import Path
from typing import Annotated, Any

import httpx
import uvicorn
from advanced_alchemy.extensions.litestar import SQLAlchemyAsyncConfig, SQLAlchemyPlugin
from litestar import Litestar, Request, post
from litestar.datastructures import State
from litestar.enums import RequestEncodingType
from litestar.params import Body
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from mintaka.core import response_stack, response_status
from mintaka.core.asgi import ASGIApp, ResponseScopeMiddleware

JSONBody = Annotated[dict[str, str], Body(media_type=RequestEncodingType.JSON)]


class Base(DeclarativeBase):
    """The benchmark's table."""


class Note(Base):
    """A note; no two notes have the same text."""

    __tablename__ = "notes"

    id: Mapped[int] = mapped_column(primary_key=True)
    text: Mapped[str] = mapped_column(unique=True)


def advanced_alchemy_app(url: str) -> ASGIApp:
    @post("/notes", status_code=201)
    async def create_note(db_session: AsyncSession, data: JSONBody) -> dict[str, str]:
        db_session.add(Note(text=data["text"]))
        return {"text": data["text"]}

    config = SQLAlchemyAsyncConfig(connection_string=url, before_send_handler="autocommit")
    return Litestar(route_handlers=[create_note], plugins=[SQLAlchemyPlugin(config=config)])


def mintaka_app(url: str) -> ASGIApp:
    sessionmaker = async_sessionmaker(create_async_engine(url), expire_on_commit=False)

    @asynccontextmanager
    async def transaction(request: Request[Any, Any, Any]) -> AsyncIterator[AsyncSession]:
        async with sessionmaker() as session:
            yield session
            status = response_status(request)
            if status is not None and status < 400:
                await session.commit()

    @post("/notes", status_code=201)
    async def create_note(request: Request[Any, Any, State], data: JSONBody) -> dict[str, str]:
        session = await response_stack(request).enter_async_context(transaction(request))
        session.add(Note(text=data["text"]))
        return {"text": data["text"]}

    return ResponseScopeMiddleware(Litestar(route_handlers=[create_note]))


async def create_tables(url: str) -> None:
    engine = create_async_engine(url)
    async with engine.begin() as connection:
        await connection.run_sync(Base.metadata.create_all)
    await engine.dispose()


async def false_successes(app: ASGIApp, database: Path, notes: int) -> tuple[int, int, int]:
    """Post every note twice; return (requests, 2xx answers, notes stored)."""
    config = uvicorn.Config(app, lifespan="on", log_config=None, access_log=False)
    server = uvicorn.Server(config)
    successes = 0
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = listener.getsockname()[1]
        # The socket listens already: the kernel queues the client's connections until
        # uvicorn has run the app's startup and accepts them.
        serving = asyncio.create_task(server.serve(sockets=[listener]))
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client:
            for number in range(notes):
                for _ in range(2):
                    response = await client.post("/notes", json={"text": f"note {number}"})
                    successes += response.is_success
        server.should_exit = True
        await serving
    with closing(sqlite3.connect(database)) as connection:
        (stored,) = connection.execute("SELECT count(*) FROM notes").fetchone()
    return 2 * notes, successes, stored


async def compare(notes: int) -> None:
    print(
        f"Litestar {version('litestar')}, advanced-alchemy {version('advanced-alchemy')}, "
        f"{notes} notes each posted twice (so {notes} commits fail)"
    )
    for name, build in [
        ("advanced-alchemy autocommit", advanced_alchemy_app),
        ("mintaka ResponseScopeMiddleware", mintaka_app),
    ]:
        with tempfile.TemporaryDirectory() as directory:
            database = Path(directory) / "notes.db"
            url = f"sqlite+aiosqlite:///{database}"
            await create_tables(url)
            requests, successes, stored = await false_successes(build(url), database, notes)
        print(
            f"  {name:<32} {requests} requests, {successes} answered 2xx, {stored} notes "
            f"stored: {successes - stored} failed commits answered 2xx"
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--notes", type=int, default=50, help="distinct notes, each posted twice")
    args = parser.parse_args(argv)
    asyncio.run(compare(args.notes))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
