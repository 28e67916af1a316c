"""A booking limit kept under SERIALIZABLE, with conflicting requests handled again."""

from typing import Annotated

from fastapi import Depends, FastAPI, HTTPException
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine

from examples.sessions._tables import Booking, creating_bookings
from mintaka.depends.sqlalchemy import transactional_session
from mintaka.router import Router

ROOMS = 3


def create_app(database_url: str) -> FastAPI:
    """At most three bookings, however many requests race for the last room."""
    # --8<-- [start:retries]
    # PostgreSQL: isolation_level="SERIALIZABLE" makes two racing bookings conflict.
    engine = create_async_engine(database_url)
    get_session = transactional_session(async_sessionmaker(engine), retries=5)
    Session = Annotated[AsyncSession, Depends(get_session)]  # noqa: N806
    router = Router()

    @router.post("/bookings/{room}", status_code=201)
    async def book(room: str, session: Session) -> int:
        booked = await session.scalar(select(func.count()).select_from(Booking))
        if booked is not None and booked >= ROOMS:
            raise HTTPException(status_code=409, detail="fully booked")
        session.add(Booking(room=room))  # a conflict here or at the commit: handled again
        return (booked or 0) + 1

    # --8<-- [end:retries]
    app = FastAPI(lifespan=creating_bookings(engine))
    app.include_router(router)
    return app
