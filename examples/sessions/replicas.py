"""Reads from PostgreSQL streaming replicas that still show every client its own writes."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated

from fastapi import Depends, FastAPI
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine

from examples.sessions._tables import Booking, creating_bookings
from mintaka.depends.sqlalchemy import ReadReplicas, transactional_session
from mintaka.router import Router


def create_app(primary_url: str, replica_urls: list[str]) -> FastAPI:
    """Booking writes on the primary; the bookings list from a replica that has them."""
    engine = create_async_engine(primary_url)
    router = Router()
    # --8<-- [start:replicas]
    primary = async_sessionmaker(engine)
    replica_engines = [create_async_engine(url) for url in replica_urls]
    replicas = ReadReplicas([async_sessionmaker(replica) for replica in replica_engines])
    get_session = transactional_session(primary, replicas=replicas)
    get_reader = transactional_session(primary, read_only=True, replicas=replicas)
    Session = Annotated[AsyncSession, Depends(get_session)]  # noqa: N806
    Reader = Annotated[AsyncSession, Depends(get_reader)]  # noqa: N806

    @router.post("/bookings/{room}", status_code=201)
    async def book(room: str, session: Session) -> str:
        session.add(Booking(room=room))
        return room  # committed before the 201, which carries the commit's WAL position

    @router.get("/bookings")
    async def list_bookings(session: Reader) -> list[str]:
        # On a replica that has replayed this client's position (its cookie or header),
        # else, after max_wait, on the primary: the client's own bookings are always here.
        return list(await session.scalars(select(Booking.room).order_by(Booking.room)))

    # --8<-- [end:replicas]

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with creating_bookings(engine)(app):
            yield
        for replica in replica_engines:
            await replica.dispose()

    app = FastAPI(lifespan=lifespan)
    app.include_router(router)
    return app
