"""Effects that follow a durable write: a welcome mail, a job, a cache entry."""

import itertools
from typing import Annotated

from fastapi import Depends, FastAPI
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine

from examples.sessions._tables import Booking, creating_bookings
from mintaka.depends.sqlalchemy import on_commit, transactional_session
from mintaka.router import Router


class Outbox:
    """Stand-ins for a mail server, a job queue and a cache, recording what they were asked."""

    def __init__(self) -> None:
        self.mails: list[str] = []
        self.jobs: dict[int, str] = {}
        self.cache: dict[str, str] = {"rooms": "stale list"}
        self._job_ids = itertools.count(1)

    def send_mail(self, to: str, text: str) -> None:
        """Send a mail: blocking, so `on_commit` runs it in a worker thread."""
        self.mails.append(f"{to}: {text}")

    def new_job_id(self) -> int:
        """Reserve the id of a job before it is enqueued."""
        return next(self._job_ids)

    async def enqueue(self, job_id: int, task: str) -> None:
        """Put a job on the queue under a reserved id."""
        self.jobs[job_id] = task

    async def invalidate(self, key: str) -> None:
        """Drop a cache entry."""
        self.cache.pop(key, None)


def create_app(database_url: str, outbox: Outbox) -> FastAPI:
    """Book a room: mail the guest, start the invoice job, drop the cached room list."""
    engine = create_async_engine(database_url)
    router = Router()
    get_session = transactional_session(async_sessionmaker(engine))
    Session = Annotated[AsyncSession, Depends(get_session)]  # noqa: N806

    # --8<-- [start:effects]
    @router.post("/bookings/{room}", status_code=201)
    async def book(room: str, guest: str, session: Session) -> dict[str, int]:
        session.add(Booking(room=room))
        await session.flush()
        # After the response, and only if the booking commits:
        on_commit(session, outbox.send_mail, guest, f"room {room} is yours")
        on_commit(session, outbox.invalidate, "rooms")
        # Before the response, so that the job the client is told to poll exists:
        job_id = outbox.new_job_id()
        on_commit(session, outbox.enqueue, job_id, f"invoice {room}", when="before_response")
        return {"invoice_job": job_id}

    # --8<-- [end:effects]

    app = FastAPI(lifespan=creating_bookings(engine))
    app.include_router(router)
    return app
