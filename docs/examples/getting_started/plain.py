"""The Getting-started API on plain FastAPI: `Depends(..., scope="function")`, no mintaka.

The same models, routes and answers as `main.py`, written the way FastAPI 0.121 and newer
suggest: the session's dependency closes with function scope, before the response is sent,
and the effects are FastAPI background tasks. Run it with ``uvicorn plain:app``.
"""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated

from fastapi import APIRouter, BackgroundTasks, Depends, FastAPI, HTTPException, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy import String, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    pass


class NoteRow(Base):
    __tablename__ = "notes"

    slug: Mapped[str] = mapped_column(String(100), primary_key=True)
    text: Mapped[str] = mapped_column(String(2000))


class Note(BaseModel):
    slug: str
    text: str


engine = create_async_engine("sqlite+aiosqlite:///notes.db")
make_session = async_sessionmaker(engine)


# --8<-- [start:session]
async def get_session() -> AsyncIterator[AsyncSession]:
    async with make_session() as session, session.begin():
        yield session  # commits when the endpoint returns, before the response is sent


Session = Annotated[AsyncSession, Depends(get_session, scope="function")]
# --8<-- [end:session]

router = APIRouter(prefix="/notes")
announced: list[str] = []


async def announce(slug: str) -> None:
    announced.append(slug)


@router.post("", status_code=201)
async def create_note(note: Note, session: Session, background: BackgroundTasks) -> Note:
    session.add(NoteRow(slug=note.slug, text=note.text))
    background.add_task(announce, note.slug)
    return note


@router.post("/import", status_code=201, response_model=list[Note])
async def import_notes(
    notes: list[Note], session: Session, background: BackgroundTasks
) -> list[Note] | JSONResponse:
    for note in notes:
        if not note.text.strip():
            detail = f"note {note.slug!r} has no text; nothing imported"
            return JSONResponse({"detail": detail}, status_code=422)
        session.add(NoteRow(slug=note.slug, text=note.text))
        background.add_task(announce, note.slug)
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
