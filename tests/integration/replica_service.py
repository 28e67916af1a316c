"""The app the replica proof (`test_replica_proof.py`) serves with uvicorn.

`POST /items/{client}/{n}` writes row (client, n) on the primary, through a
`transactional_session(primary, replicas=...)`: its response hands the client the WAL
position of the commit (the cookie, which the proof's clients keep, and the header).
Two ways to read it back, each answering `{"found": ..., "replica": ...}` (whether the
row was there, and whether a standby served the read):

* `GET /items/{client}/{n}`: mintaka's read session,
  `transactional_session(primary, read_only=True, replicas=...)`;
* `GET /control/items/{client}/{n}`: the control, a read-only session on the replica
  itself, which is what sending reads to a replica without positions amounts to.

Configured from the environment: `MINTAKA_PROOF_PRIMARY_URL`, `MINTAKA_PROOF_REPLICA_URL`
(PostgreSQL, async) and `MINTAKA_PROOF_TABLES` (the table's name; the test creates and
drops it).

No `from __future__ import annotations`: FastAPI resolves the endpoints' annotations
against the module's globals.
"""

import os
from typing import Annotated, Any

from fastapi import Depends, FastAPI
from sqlalchemy import Column, Integer, MetaData, String, Table, func, insert, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine

from mintaka.depends.sqlalchemy import ReadReplicas, transactional_session
from mintaka.router import Router
from tests.integration._app import serving


def items_table(name: str) -> Table:
    """The proof's one table: a row per client and write."""
    return Table(
        name,
        MetaData(),
        Column("client", String(40), primary_key=True),
        Column("n", Integer, primary_key=True),
    )


def create_app() -> FastAPI:
    """The write, the routed read and the control read (module docstring)."""
    items = items_table(os.environ["MINTAKA_PROOF_TABLES"])
    primary_engine = create_async_engine(os.environ["MINTAKA_PROOF_PRIMARY_URL"])
    replica_engine = create_async_engine(os.environ["MINTAKA_PROOF_REPLICA_URL"])
    primary = async_sessionmaker(primary_engine)
    replica = async_sessionmaker(replica_engine)
    replicas = ReadReplicas([replica])
    writer = transactional_session(primary, replicas=replicas)
    reader = transactional_session(primary, read_only=True, replicas=replicas)
    control = transactional_session(replica, read_only=True)
    router = Router()

    async def look_up(session: AsyncSession, client: str, n: int) -> dict[str, Any]:
        found = await session.execute(
            select(items.c.n, func.pg_is_in_recovery()).where(
                items.c.client == client, items.c.n == n
            )
        )
        row = found.first()
        if row is None:
            standby = await session.scalar(select(func.pg_is_in_recovery()))
            return {"found": False, "replica": bool(standby)}
        return {"found": True, "replica": bool(row[1])}

    @router.post("/items/{client}/{n}", status_code=201)
    async def write(
        client: str, n: int, session: Annotated[AsyncSession, Depends(writer)]
    ) -> dict[str, int]:
        await session.execute(insert(items).values(client=client, n=n))
        return {"n": n}

    @router.get("/items/{client}/{n}")
    async def read(
        client: str, n: int, session: Annotated[AsyncSession, Depends(reader)]
    ) -> dict[str, Any]:
        return await look_up(session, client, n)

    @router.get("/control/items/{client}/{n}")
    async def read_replica(
        client: str, n: int, session: Annotated[AsyncSession, Depends(control)]
    ) -> dict[str, Any]:
        return await look_up(session, client, n)

    return serving(router, primary_engine, replica_engine)
