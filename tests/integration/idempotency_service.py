"""The app the idempotency proof (`test_idempotency_proof.py`) serves with uvicorn.

`POST /orders` (an `Idempotency-Key` required) inserts an order with an id of its own,
so a create that ran twice leaves two rows. With `?fault=commit` the order points at a
missing parent through a deferred foreign key: the endpoint succeeds, the commit fails.

Configured from the environment: `MINTAKA_PROOF_DATABASE_URL` (PostgreSQL, async) and
`MINTAKA_PROOF_TABLES` (the prefix of the tables' names; the test creates and drops
them).

No `from __future__ import annotations`: FastAPI resolves the endpoints' annotations
against the module's globals.
"""

import os
import uuid
from typing import Annotated

from fastapi import Depends, FastAPI, Header
from pydantic import BaseModel
from sqlalchemy import Column, ForeignKey, Integer, MetaData, String, Table
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine

from mintaka.depends.sqlalchemy import IdempotencyKeys, idempotent_requests, transactional_session
from mintaka.router import Router
from tests.integration._app import serving


def proof_tables(prefix: str) -> tuple[MetaData, Table, IdempotencyKeys]:
    """The orders, their parents (for the commit fault), and the keys, in one MetaData."""
    metadata = MetaData()
    parents = Table(f"{prefix}_parents", metadata, Column("id", Integer, primary_key=True))
    deferred = ForeignKey(parents.c.id, deferrable=True, initially="DEFERRED")
    orders = Table(
        f"{prefix}_orders",
        metadata,
        Column("id", String(40), primary_key=True),
        Column("idempotency_key", String(255), nullable=False),
        Column("item", Integer, nullable=False),
        Column("parent_id", Integer, deferred, nullable=True),
    )
    return metadata, orders, IdempotencyKeys(metadata, name=f"{prefix}_keys")


class OrderIn(BaseModel):
    """What the client orders."""

    item: int


def create_app() -> FastAPI:
    """`POST /orders` and `GET /health`, configured from the environment."""
    engine = create_async_engine(os.environ["MINTAKA_PROOF_DATABASE_URL"])
    _, orders, keys = proof_tables(os.environ["MINTAKA_PROOF_TABLES"])
    get_session = transactional_session(async_sessionmaker(engine), explicit_commits="forbid")
    idempotency = idempotent_requests(get_session, keys, required=True)
    router = Router()

    @router.post("/orders", status_code=201, dependencies=[Depends(idempotency)])
    async def place_order(
        order: OrderIn,
        session: Annotated[AsyncSession, Depends(get_session)],
        idempotency_key: Annotated[str, Header(alias="Idempotency-Key")],
        fault: str = "",
    ) -> dict[str, str | int]:
        order_id = uuid.uuid4().hex
        await session.execute(
            orders.insert().values(
                id=order_id,
                idempotency_key=idempotency_key,
                item=order.item,
                parent_id=-1 if fault == "commit" else None,
            )
        )
        return {"order": order_id, "item": order.item}

    return serving(router, engine)
