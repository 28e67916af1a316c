"""Bookings that a client may resend safely: an Idempotency-Key kept in the transaction."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated

from fastapi import Depends, FastAPI, Request
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine

from examples.sessions._tables import Base, Booking
from mintaka.depends.sqlalchemy import IdempotencyKeys, idempotent_requests, transactional_session
from mintaka.router import Router


def create_app(database_url: str) -> FastAPI:
    """`POST /bookings/{room}` needs an `Idempotency-Key`; a resend replays the answer."""
    # --8<-- [start:idempotency]
    engine = create_async_engine(database_url)
    get_session = transactional_session(async_sessionmaker(engine), explicit_commits="forbid")
    Session = Annotated[AsyncSession, Depends(get_session)]  # noqa: N806
    keys = IdempotencyKeys()  # the table mintaka_idempotency_keys

    def user_of(request: Request) -> str:  # one user's keys never meet another's
        return request.headers.get("X-User", "")

    idempotency = idempotent_requests(get_session, keys, required=True, scope=user_of)
    router = Router()

    @router.post("/bookings/{room}", status_code=201, dependencies=[Depends(idempotency)])
    async def book(room: str, session: Session) -> dict[str, str]:
        session.add(Booking(room=room))
        return {"booked": room}

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with engine.begin() as connection:  # or in your migrations: keys.table
            await connection.run_sync(Base.metadata.create_all)
            await connection.run_sync(keys.create)
        yield
        await engine.dispose()

    # --8<-- [end:idempotency]
    app = FastAPI(lifespan=lifespan)
    app.include_router(router)
    return app
