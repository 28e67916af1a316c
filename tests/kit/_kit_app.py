"""The app the test kit's tests run against: notes, in an async or a sync session.

`create_app(maker)` serves:

* `POST /notes` — stores a note, registers an `on_commit` callback; the text `"refused"`
  answers 409 (rolled back by the status), a text already stored fails at the flush.
* `POST /notes/by-hand` — commits in the endpoint, then refreshes, as tutorials teach.
* `GET /notes/count` — a read-only session counts the notes.
"""

from typing import Annotated, Any

import anyio.to_thread
from fastapi import APIRouter, Body, Depends, FastAPI
from fastapi.responses import JSONResponse
from sqlalchemy import Column, Integer, MetaData, String, Table, func, insert, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import Session, sessionmaker

from mintaka.core.fastapi import ResponseScopedRoute
from mintaka.depends.sqlalchemy import on_commit, transactional_session


def notes_table(name: str) -> Table:
    return Table(
        name,
        MetaData(),
        Column("id", Integer, primary_key=True),
        Column("text", String(100), unique=True, nullable=False),
    )


async def run(session: AsyncSession | Session, work: Any) -> Any:
    """Run `work(sync_session)` on either kind of session, off the event loop when sync."""
    if isinstance(session, AsyncSession):
        return await session.run_sync(work)
    return await anyio.to_thread.run_sync(work, session)


def create_app(
    maker: async_sessionmaker[AsyncSession] | sessionmaker[Session],
    notes: Table,
    committed: list[str] | None = None,
) -> FastAPI:
    """The notes app on `maker`; `committed` receives each committed note's text."""
    get_session = transactional_session(maker)
    read_session = transactional_session(maker, read_only=True)
    router = APIRouter(route_class=ResponseScopedRoute)
    effects = [] if committed is None else committed

    @router.post("/notes", status_code=201, response_model=None)
    async def create(
        text: Annotated[str, Body(embed=True)],
        session: Annotated[Any, Depends(get_session)],
    ) -> Any:
        await run(session, lambda s: s.execute(insert(notes).values(text=text)))
        await run(session, lambda s: s.flush())
        on_commit(session, effects.append, text)
        if text == "refused":
            return JSONResponse({"detail": "refused"}, status_code=409)
        return {"text": text}

    @router.post("/notes/by-hand", status_code=201)
    async def create_by_hand(
        text: Annotated[str, Body(embed=True)],
        session: Annotated[Any, Depends(get_session)],
    ) -> dict[str, Any]:
        def work(s: Session) -> int:
            s.execute(insert(notes).values(text=text))
            s.commit()  # the tutorials' pattern: commit, then keep using the session
            return int(s.execute(select(func.count()).select_from(notes)).scalar_one())

        return {"count": await run(session, work)}

    @router.get("/notes/count")
    async def count(session: Annotated[Any, Depends(read_session)]) -> dict[str, int]:
        query = select(func.count()).select_from(notes)
        return {"count": int(await run(session, lambda s: s.execute(query).scalar_one()))}

    app = FastAPI()
    app.include_router(router)
    return app
