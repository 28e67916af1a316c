"""The tables the recipes write to: bookings, and an audit log in a database of its own."""

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager

from fastapi import FastAPI
from sqlalchemy import String
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    """The app's database."""


class AuditBase(DeclarativeBase):
    """The audit database."""


class Booking(Base):
    """A booked room."""

    __tablename__ = "bookings"

    room: Mapped[str] = mapped_column(String(40), primary_key=True)


class AuditEntry(AuditBase):
    """What happened, kept in the audit database."""

    __tablename__ = "audit"

    id: Mapped[int] = mapped_column(primary_key=True)
    action: Mapped[str] = mapped_column(String(200))


def creating_bookings(
    engine: AsyncEngine,
) -> Callable[[FastAPI], AbstractAsyncContextManager[None]]:
    """A lifespan that creates the bookings table at startup and disposes of `engine`."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with engine.begin() as connection:
            await connection.run_sync(Base.metadata.create_all)
        yield
        await engine.dispose()

    return lifespan
