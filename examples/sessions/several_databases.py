"""Two databases on one route: the app's and an audit log, each with its session."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated

from fastapi import Depends, FastAPI
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine

from examples.sessions._tables import AuditBase, AuditEntry, Base, Booking
from mintaka.depends.sqlalchemy import transactional_session
from mintaka.router import Router


def create_app(database_url: str, audit_url: str) -> FastAPI:
    """The bookings service with an audit log in a second database."""
    engine = create_async_engine(database_url)
    audit_engine = create_async_engine(audit_url)
    # --8<-- [start:two]
    AppSession = Annotated[  # noqa: N806
        AsyncSession, Depends(transactional_session(async_sessionmaker(engine)))
    ]
    AuditSession = Annotated[  # noqa: N806
        AsyncSession, Depends(transactional_session(async_sessionmaker(audit_engine)))
    ]
    router = Router()

    @router.post("/bookings/{room}", status_code=201)
    async def book(room: str, session: AppSession, audit: AuditSession) -> dict[str, str]:
        # Entered in this order (session, then audit), they commit in the reverse one:
        # audit first, then session, both before the 201 is sent.
        session.add(Booking(room=room))
        audit.add(AuditEntry(action=f"booked {room}"))
        return {"room": room}

    # --8<-- [end:two]

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        for database, base in ((engine, Base), (audit_engine, AuditBase)):
            async with database.begin() as connection:
                await connection.run_sync(base.metadata.create_all)
        yield
        await engine.dispose()
        await audit_engine.dispose()

    app = FastAPI(lifespan=lifespan)
    app.include_router(router)
    return app
