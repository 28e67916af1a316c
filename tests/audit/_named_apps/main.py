"""The routes of the template-like app: they import the `Annotated` aliases only."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, FastAPI
from sqlalchemy.orm import Session, sessionmaker

from mintaka.depends import response_scoped_dependency
from mintaka.depends.sqlalchemy import transactional_session
from mintaka.router import Router

from .db import CommittingSessionDep, SessionDep, TransactionDep, engine


async def open_buffer() -> AsyncIterator[list[str]]:
    yield []


# A response-scoped wrapper assigned to a name of its own.
export_buffer = response_scoped_dependency(open_buffer)

router = Router()


@router.get("/items")
def read_items(session: SessionDep) -> list[str]:
    return []


@router.post("/items")
def create_item(session: CommittingSessionDep) -> str:
    return "created"


@router.get("/orders")
def read_orders(session: TransactionDep) -> list[str]:
    return []


@router.get("/inline")
def read_inline(
    session: Annotated[Session, Depends(transactional_session(sessionmaker(engine)))],
) -> list[str]:
    return []


@router.get("/export")
async def export(
    scoped: Annotated[list[str], Depends(export_buffer)],
    plain: Annotated[list[str], Depends(open_buffer)],
) -> int:
    return len(scoped) + len(plain)


app = FastAPI(docs_url=None, redoc_url=None, openapi_url=None)
app.include_router(router)
