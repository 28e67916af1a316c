"""A read-only session for the routes that only read."""

from typing import Annotated

from fastapi import Depends, FastAPI
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine

from examples.sessions._tables import Booking, creating_bookings
from mintaka.depends.sqlalchemy import transactional_session
from mintaka.router import Router


def create_app(database_url: str) -> FastAPI:
    """The bookings report, and a route that writes by mistake."""
    engine = create_async_engine(database_url)
    router = Router()
    # --8<-- [start:read-only]
    get_reader = transactional_session(async_sessionmaker(engine), read_only=True)
    Reader = Annotated[AsyncSession, Depends(get_reader)]  # noqa: N806

    @router.get("/bookings")
    async def list_bookings(session: Reader) -> list[str]:
        return list(await session.scalars(select(Booking.room).order_by(Booking.room)))

    @router.post("/bookings/{room}")
    async def book_by_mistake(room: str, session: Reader) -> None:
        session.add(Booking(room=room))
        await session.flush()  # refused by the database: the client gets a 500

    # --8<-- [end:read-only]

    app = FastAPI(lifespan=creating_bookings(engine))
    app.include_router(router)
    return app
