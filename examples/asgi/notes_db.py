"""The database side shared by the framework examples: one table and a transaction."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from mintaka.core import RequestLike, response_stack, response_status


class Base(DeclarativeBase):
    """The examples' tables."""


class Note(Base):
    """A note; no two notes have the same text."""

    __tablename__ = "notes"

    id: Mapped[int] = mapped_column(primary_key=True)
    text: Mapped[str] = mapped_column(unique=True)


@asynccontextmanager
async def transaction(
    request: RequestLike, sessionmaker: async_sessionmaker[AsyncSession]
) -> AsyncIterator[AsyncSession]:
    """A session that commits before the response when the response is a success.

    On the response stack it exits once the app has built its response: it commits when
    the status is below 400, and otherwise, or when the request failed with an exception,
    closing the session rolls the transaction back.
    """
    async with sessionmaker() as session:
        yield session
        status = response_status(request)
        if status is not None and status < 400:
            await session.commit()


async def open_session(
    request: RequestLike, sessionmaker: async_sessionmaker[AsyncSession]
) -> AsyncSession:
    """Enter a transaction on the request's response stack and return its session."""
    return await response_stack(request).enter_async_context(transaction(request, sessionmaker))


async def create_tables(engine: AsyncEngine) -> None:
    """Create the `notes` table."""
    async with engine.begin() as connection:
        await connection.run_sync(Base.metadata.create_all)
