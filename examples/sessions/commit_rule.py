"""When the transaction commits: below 400 by default, or what `commit_on` says."""

from typing import Annotated

from fastapi import Depends, FastAPI
from fastapi.responses import JSONResponse
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine

from examples.sessions._tables import Booking, creating_bookings
from mintaka.depends.sqlalchemy import transactional_session
from mintaka.router import Router

MAX_BOOKINGS = 2


def create_app(database_url: str) -> FastAPI:
    """The bookings service: `POST /bookings/{room}` and `POST /holds/{room}`."""
    engine = create_async_engine(database_url)
    router = Router()
    # --8<-- [start:rule]
    get_session = transactional_session(async_sessionmaker(engine))
    Session = Annotated[AsyncSession, Depends(get_session)]  # noqa: N806

    @router.post("/bookings/{room}", status_code=201)
    async def book(room: str, session: Session) -> dict[str, str] | JSONResponse:
        session.add(Booking(room=room))
        await session.flush()
        booked = (await session.execute(select(func.count()).select_from(Booking))).scalar_one()
        if booked > MAX_BOOKINGS:
            # A returned 409 rolls the transaction back: the booking is not kept.
            return JSONResponse({"detail": "fully booked"}, status_code=409)
        return {"room": room}  # 201: committed before the client reads it

    # --8<-- [end:rule]
    # --8<-- [start:commit-on]
    get_session_2xx = transactional_session(
        async_sessionmaker(engine), commit_on=lambda status: 200 <= status < 300
    )

    @router.post("/holds/{room}", status_code=303)
    async def hold_and_redirect(
        room: str, session: Annotated[AsyncSession, Depends(get_session_2xx)]
    ) -> None:
        session.add(Booking(room=room))  # a 303 is not 2xx: rolled back

    # --8<-- [end:commit-on]

    app = FastAPI(lifespan=creating_bookings(engine))
    app.include_router(router)
    return app
