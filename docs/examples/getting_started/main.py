"""Getting started: a notes API whose writes are committed before the client hears 201.

Beside it, `plain.py` is the same API on plain FastAPI (`Depends(..., scope="function")`).

Run it with ``uvicorn main:app`` from the folder that holds this file.
"""

# --8<-- [start:models]
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated

from fastapi import Depends, FastAPI, HTTPException, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy import String, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from mintaka.depends.sqlalchemy import on_commit, transactional_session
from mintaka.router import Router


class Base(DeclarativeBase):
    pass


class NoteRow(Base):
    __tablename__ = "notes"

    slug: Mapped[str] = mapped_column(String(100), primary_key=True)
    text: Mapped[str] = mapped_column(String(2000))


class Note(BaseModel):
    slug: str
    text: str


# --8<-- [end:models]
# --8<-- [start:engine]
engine = create_async_engine("sqlite+aiosqlite:///notes.db")
Session = Annotated[AsyncSession, Depends(transactional_session(async_sessionmaker(engine)))]
# --8<-- [end:engine]


# --8<-- [start:routes]
router = Router(prefix="/notes")
announced: list[str] = []  # what a real app would e-mail, publish or enqueue


async def announce(slug: str) -> None:
    announced.append(slug)


@router.post("", status_code=201)
async def create_note(note: Note, session: Session) -> Note:
    session.add(NoteRow(slug=note.slug, text=note.text))
    on_commit(session, announce, note.slug)  # runs only if the commit succeeds
    return note  # the INSERT and the COMMIT run after this, before the 201 is sent


@router.post("/import", status_code=201)
async def import_notes(notes: list[Note], session: Session) -> list[Note] | JSONResponse:
    for note in notes:
        if not note.text.strip():
            detail = f"note {note.slug!r} has no text; nothing imported"
            return JSONResponse({"detail": detail}, status_code=422)  # rolls back
        session.add(NoteRow(slug=note.slug, text=note.text))
        on_commit(session, announce, note.slug)
    return notes


@router.get("/announced")
async def list_announced() -> list[str]:
    return announced


@router.get("/{slug}")
async def read_note(slug: str, session: Session) -> Note:
    row = await session.get(NoteRow, slug)
    if row is None:
        raise HTTPException(status_code=404, detail=f"no note {slug!r}")
    return Note(slug=row.slug, text=row.text)


@router.get("")
async def list_notes(session: Session) -> list[Note]:
    rows = await session.scalars(select(NoteRow).order_by(NoteRow.slug))
    return [Note(slug=row.slug, text=row.text) for row in rows]


# --8<-- [end:routes]
# --8<-- [start:app]
async def conflict(request: Request, exc: Exception) -> JSONResponse:
    return JSONResponse({"detail": "a note with this slug exists"}, status_code=409)


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    async with engine.begin() as connection:
        await connection.run_sync(Base.metadata.create_all)
    yield
    await engine.dispose()


app = FastAPI(lifespan=lifespan)
app.include_router(router)
app.add_exception_handler(IntegrityError, conflict)
# --8<-- [end:app]
