"""The notes service: FastAPI, a mintaka Router and a transactional SQLAlchemy session."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated, Any

from fastapi import Depends, FastAPI, HTTPException, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import String, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from examples.notes.body_limit import BodySizeLimit
from mintaka.depends.sqlalchemy import transactional_session
from mintaka.router import Router

DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///notes.db"
MAX_BODY_BYTES = 64 * 1024
"""The largest request body the service reads; larger ones are answered with 413."""


class Base(DeclarativeBase):
    """The declarative base of the example's tables."""


class NoteRow(Base):
    """A stored note. The slug is the primary key, so a duplicate fails at commit."""

    __tablename__ = "mintaka_example_notes"

    slug: Mapped[str] = mapped_column(String(100), primary_key=True)
    text: Mapped[str] = mapped_column(String(2000))


class Note(BaseModel):
    """A note, as clients send and receive it."""

    model_config = ConfigDict(from_attributes=True)

    slug: str = Field(pattern=r"^[a-z0-9-]{1,100}$")
    text: str = Field(max_length=2000)


class Problem(BaseModel):
    """An error, as the service answers it."""

    detail: str


NOT_FOUND: dict[int | str, dict[str, Any]] = {
    404: {"model": Problem, "description": "No note has this slug"},
}
WRITE_ERRORS: dict[int | str, dict[str, Any]] = {
    # FastAPI answers JSON it cannot decode (bytes that are not UTF-8) with 400, and JSON
    # text that does not parse, or does not fit `Note`, with 422.
    400: {"model": Problem, "description": "The body cannot be decoded as JSON text"},
    409: {"model": Problem, "description": "A note with this slug is stored already"},
    413: {"model": Problem, "description": f"The body is larger than {MAX_BODY_BYTES} bytes"},
}


async def conflict(request: Request, exc: Exception) -> JSONResponse:
    """Answer a write that the database refused at commit with 409 Conflict."""
    return JSONResponse(
        {"detail": f"{request.method} {request.url.path} conflicts with a stored note"},
        status_code=409,
    )


def create_app(database_url: str = DEFAULT_DATABASE_URL) -> FastAPI:
    """Build the notes service on the database at ``database_url``.

    Each request's session commits before the response is sent: a `201` means the note is
    stored, and a note that cannot be stored is answered with `409`. Request bodies over
    `MAX_BODY_BYTES` are answered with `413`; `HEAD` works wherever `GET` does.

    Args:
        database_url: An async SQLAlchemy URL: SQLite through aiosqlite by default, or
            PostgreSQL through asyncpg.

    Returns:
        The application. Its lifespan creates the table and disposes of the engine.
    """
    # FastAPI resolves parameter annotations against the module's globals, so this module
    # does not use `from __future__ import annotations`: `Session` is local to the app.
    engine = create_async_engine(database_url)
    session_dependency = transactional_session(async_sessionmaker(engine))
    Session = Annotated[AsyncSession, Depends(session_dependency)]  # noqa: N806
    router = Router(prefix="/notes", tags=["notes"])

    @router.post("", status_code=201, responses=WRITE_ERRORS)
    async def create_note(note: Note, session: Session) -> Note:
        # No flush here: the INSERT, and a duplicate slug with it, happen at commit,
        # which mintaka runs before this 201 is sent.
        session.add(NoteRow(slug=note.slug, text=note.text))
        return note

    @router.head("", include_in_schema=False)
    @router.get("")
    async def list_notes(session: Session) -> list[Note]:
        rows = await session.scalars(select(NoteRow).order_by(NoteRow.slug))
        return [Note.model_validate(row) for row in rows]

    @router.head("/{slug}", include_in_schema=False)
    @router.get("/{slug}", responses=NOT_FOUND)
    async def read_note(slug: str, session: Session) -> Note:
        row = await session.get(NoteRow, slug)
        if row is None:
            raise HTTPException(status_code=404, detail=f"no note {slug!r}")
        return Note.model_validate(row)

    @router.delete("/{slug}", status_code=204, responses=NOT_FOUND)
    async def delete_note(slug: str, session: Session) -> None:
        row = await session.get(NoteRow, slug)
        if row is None:
            raise HTTPException(status_code=404, detail=f"no note {slug!r}")
        await session.delete(row)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with engine.begin() as connection:
            await connection.run_sync(Base.metadata.create_all)
        yield
        await engine.dispose()

    app = FastAPI(title="mintaka notes", lifespan=lifespan)
    app.include_router(router)
    app.add_exception_handler(IntegrityError, conflict)
    app.add_middleware(BodySizeLimit, max_bytes=MAX_BODY_BYTES)
    return app
