from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated

from fastapi import APIRouter, Depends, FastAPI
from pydantic import BaseModel
from sqlalchemy import String
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from mintaka.core.fastapi import ResponseScopedRoute
from mintaka.depends.sqlalchemy import transactional_session


class Base(DeclarativeBase):
    pass


class Note(Base):
    __tablename__ = "notes"

    id: Mapped[int] = mapped_column(primary_key=True)
    text: Mapped[str] = mapped_column(String(2000), unique=True)


class NoteIn(BaseModel):
    text: str


class NoteOut(BaseModel):
    id: int
    text: str


engine = create_async_engine("sqlite+aiosqlite:///notes.db")
get_session = transactional_session(async_sessionmaker(engine))
Session = Annotated[AsyncSession, Depends(get_session)]

router = APIRouter(route_class=ResponseScopedRoute)  # the route opens a response scope


@router.post("/notes", status_code=201)
async def create_note(note: NoteIn, session: Session) -> NoteOut:
    row = Note(text=note.text)
    session.add(row)
    await session.flush()  # assigns row.id
    return NoteOut(id=row.id, text=row.text)  # committed before the 201 is sent


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    async with engine.begin() as connection:  # create the table when the app starts
        await connection.run_sync(Base.metadata.create_all)
    yield
    await engine.dispose()


app = FastAPI(lifespan=lifespan)
app.include_router(router)
