"""The app the conflict-retry proof (`test_conflict_retries.py`) serves with uvicorn.

Two endpoints that conflict under concurrency on PostgreSQL, each on a
`transactional_session(..., retries=MINTAKA_PROOF_RETRIES)`:

* `POST /counters/{name}/increment` reads a counter and writes it back plus one, under
  `SERIALIZABLE`: two requests that read the same value cannot both commit, and the loser
  gets a serialization failure (40001);
* `POST /pairs/{name}?order=forward|backward` adds one to two rows, in the order given,
  under `READ COMMITTED`: two requests that take the rows in opposite orders deadlock
  (40P01). The connections set `deadlock_timeout` to 20 ms (PostgreSQL's default, 1 s,
  would make the proof slow, not different).

Configured from the environment: `MINTAKA_PROOF_DATABASE_URL` (PostgreSQL, async),
`MINTAKA_PROOF_TABLES` (the table's name; the test creates and drops it) and
`MINTAKA_PROOF_RETRIES`. `GET /calls` says how many times each endpoint was called, so
the test sees that a retried request really ran the endpoint again.

No `from __future__ import annotations`: FastAPI resolves the endpoints' annotations
against the module's globals.
"""

import asyncio
import logging
import os
from collections import Counter
from typing import Annotated, Literal

from fastapi import Depends, FastAPI
from sqlalchemy import Column, Integer, MetaData, String, Table, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine

from mintaka.depends.sqlalchemy import transactional_session
from mintaka.router import Router
from tests.integration._app import serving

LOCK_GAP = 0.005
"""Seconds between a pair's two updates: long enough for opposite orders to interleave."""


def counters_table(name: str) -> Table:
    """The proof's one table: named counters."""
    return Table(
        name,
        MetaData(),
        Column("name", String(80), primary_key=True),
        Column("value", Integer, nullable=False),
    )


def create_app() -> FastAPI:
    """The conflicting endpoints, configured from the environment (module docstring)."""
    # uvicorn configures its own loggers only: show mintaka's retries (INFO) in its log.
    logger = logging.getLogger("mintaka.depends")
    logger.setLevel(logging.INFO)
    logger.addHandler(logging.StreamHandler())
    url = os.environ["MINTAKA_PROOF_DATABASE_URL"]
    counters = counters_table(os.environ["MINTAKA_PROOF_TABLES"])
    retries = int(os.environ["MINTAKA_PROOF_RETRIES"])
    settings = {"server_settings": {"deadlock_timeout": "20ms"}}
    serializable = create_async_engine(url, isolation_level="SERIALIZABLE", connect_args=settings)
    read_committed = create_async_engine(url, connect_args=settings)
    strict_session = transactional_session(async_sessionmaker(serializable), retries=retries)
    plain_session = transactional_session(async_sessionmaker(read_committed), retries=retries)
    calls: Counter[str] = Counter()
    router = Router()

    @router.post("/counters/{name}/increment")
    async def increment(
        name: str, session: Annotated[AsyncSession, Depends(strict_session)]
    ) -> int:
        calls["increment"] += 1
        value = await session.scalar(select(counters.c.value).where(counters.c.name == name))
        if value is None:
            raise LookupError(name)
        await session.execute(
            update(counters).where(counters.c.name == name).values(value=value + 1)
        )
        return int(value) + 1

    @router.post("/pairs/{name}")
    async def add_to_pair(
        name: str,
        order: Literal["forward", "backward"],
        session: Annotated[AsyncSession, Depends(plain_session)],
    ) -> None:
        calls["pair"] += 1
        rows = [f"{name}-a", f"{name}-b"]
        if order == "backward":
            rows.reverse()
        for index, row in enumerate(rows):
            await session.execute(
                update(counters).where(counters.c.name == row).values(value=counters.c.value + 1)
            )
            if index == 0:
                await asyncio.sleep(LOCK_GAP)

    @router.get("/calls")
    async def read_calls() -> dict[str, int]:
        return dict(calls)

    return serving(router, serializable, read_committed)
