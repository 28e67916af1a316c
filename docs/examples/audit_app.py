"""An app with one of each finding of `mintaka-routes --audit`, for the audit guide.

Run `mintaka-routes docs.examples.audit_app:app --audit` from the repository root; the
guide shows its output, and a test checks that the guide shows what it prints today.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

from fastapi import APIRouter, Depends, FastAPI
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine

from mintaka.core.fastapi import ResponseScopedRoute
from mintaka.depends import response_scoped_dependency
from mintaka.depends.sqlalchemy import transactional_session
from mintaka.router import Router

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

engine = create_async_engine("sqlite+aiosqlite://")
sessionmaker = async_sessionmaker(engine)

# Commits and closes before the response: the session mintaka recommends.
get_session = transactional_session(sessionmaker)
Session = Annotated[AsyncSession, Depends(get_session)]


async def get_plain_session() -> AsyncIterator[AsyncSession]:
    """The session of FastAPI's tutorial: it closes after the response."""
    async with sessionmaker() as session:
        yield session


class NoteService:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session


async def get_service(session: Session) -> AsyncIterator[NoteService]:
    """A request-scoped dependency with a teardown on top of the response-scoped session."""
    service = NoteService(session)
    yield service
    await session.flush()  # runs after the session closed: FastAPI tears this down later


@response_scoped_dependency
async def get_audit_log() -> AsyncIterator[list[str]]:
    log: list[str] = []
    yield log


async def open_export_buffer() -> AsyncIterator[list[str]]:
    buffer: list[str] = []
    yield buffer


# The same buffer, response-scoped: a route that uses both gets two buffers.
export_buffer = response_scoped_dependency(open_export_buffer)


async def get_exporter(buffer: Annotated[list[str], Depends(open_export_buffer)]) -> list[str]:
    return buffer


router = Router(prefix="/notes")


@router.get("/export")
async def export_notes(
    buffer: Annotated[list[str], Depends(export_buffer)],
    exporter: Annotated[list[str], Depends(get_exporter)],
) -> int:
    return len(buffer) + len(exporter)


@router.get("/{note_id}")
async def read_note(note_id: int, session: Session) -> dict[str, int]:
    return {"id": note_id}


# A mintaka Router refuses create_note at registration; a plain APIRouter with the
# response-scoped route class accepts it, and only the audit finds it.
scoped = APIRouter(prefix="/notes", route_class=ResponseScopedRoute)


@scoped.post("/", status_code=201)
async def create_note(service: Annotated[NoteService, Depends(get_service)]) -> dict[str, str]:
    return {"status": "created"}


@router.get("/legacy/{note_id}")
async def read_legacy_note(
    note_id: int, session: Annotated[AsyncSession, Depends(get_plain_session)]
) -> dict[str, int]:
    return {"id": note_id}


plain = APIRouter(prefix="/reports")


@plain.get("/")
async def list_reports(log: Annotated[list[str], Depends(get_audit_log)]) -> list[str]:
    return log


app = FastAPI()
app.include_router(router)
app.include_router(scoped)
app.include_router(plain)
