"""The database the response-scope examples share: one table, an engine, a transaction."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy import String
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    pass


class Note(Base):
    __tablename__ = "notes"

    id: Mapped[int] = mapped_column(primary_key=True)
    text: Mapped[str] = mapped_column(String(2000), unique=True)


engine = create_async_engine("sqlite+aiosqlite:///notes.db")


@asynccontextmanager
async def transaction(engine: AsyncEngine) -> AsyncIterator[AsyncConnection]:
    async with engine.begin() as connection:  # commits on exit, rolls back on error
        yield connection


@asynccontextmanager
async def lifespan(app: object) -> AsyncIterator[None]:
    async with engine.begin() as connection:  # create the table when the app starts
        await connection.run_sync(Base.metadata.create_all)
    yield
    await engine.dispose()
