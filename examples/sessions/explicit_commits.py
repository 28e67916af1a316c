"""Endpoints that commit by hand, as FastAPI's and SQLModel's tutorials teach."""

from typing import Annotated

from fastapi import Depends, FastAPI, HTTPException, Request
from fastapi.responses import JSONResponse
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine

from examples.sessions._tables import Booking, creating_bookings
from mintaka.core import response_headers
from mintaka.depends.sqlalchemy import SessionDependency, transactional_session
from mintaka.router import Router


def create_app(database_url: str) -> FastAPI:
    """Book a room with a CRUD helper that commits; book a pair, one at a time."""
    engine = create_async_engine(database_url)
    router = Router()
    # --8<-- [start:helper]
    get_session = transactional_session(async_sessionmaker(engine))
    Session = Annotated[AsyncSession, Depends(get_session)]  # noqa: N806

    async def create_booking(session: AsyncSession, room: str) -> Booking:
        booking = Booking(room=room)
        session.add(booking)
        await session.commit()  # durable now
        await session.refresh(booking)  # the session goes on in a new transaction
        return booking

    @router.post("/bookings/{room}", status_code=201)
    async def book(room: str, session: Session) -> str:
        return (await create_booking(session, room)).room

    # --8<-- [end:helper]
    # --8<-- [start:partial]
    @router.post("/pairs/{first}/{second}", status_code=201)
    async def book_pair(first: str, second: str, session: Session) -> list[str]:
        await create_booking(session, first)  # committed: it stays, whatever follows
        if await session.get(Booking, second) is not None:
            raise HTTPException(status_code=409, detail=f"{second} is taken")
        return [first, (await create_booking(session, second)).room]

    # --8<-- [end:partial]

    app = FastAPI(lifespan=creating_bookings(engine))
    app.include_router(router)

    # --8<-- [start:handler]
    @app.exception_handler(IntegrityError)
    async def conflict(request: Request, error: IntegrityError) -> JSONResponse:
        response = JSONResponse({"detail": "already booked"}, status_code=409)
        response.headers.update(response_headers(request))  # Mintaka-Partial-Commit
        return response

    # --8<-- [end:handler]
    return app


def all_or_nothing(maker: async_sessionmaker[AsyncSession]) -> SessionDependency[AsyncSession]:
    """The session for a codebase that must never commit by hand."""
    # --8<-- [start:forbid]
    get_session = transactional_session(maker, explicit_commits="forbid")
    # --8<-- [end:forbid]
    return get_session  # noqa: RET504 - the line the guide shows is the assignment
