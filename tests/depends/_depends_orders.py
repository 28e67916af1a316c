"""An orders app with idempotency keys, and the `orders` fixture that makes it.

Shared by the idempotency tests at the ASGI `send` and over uvicorn; `conftest.py`
registers the fixture.
"""

import uuid
from typing import TYPE_CHECKING, Annotated, Any

import anyio
import pytest
from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.responses import JSONResponse
from sqlalchemy import func, select

from mintaka.core.fastapi import ResponseScopedRoute
from mintaka.depends.sqlalchemy import IdempotencyKeys, idempotent_requests, transactional_session
from testing.asgi import Exchange, call
from tests.depends.test_depends_on_commit import run

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Callable

    from sqlalchemy.orm import Session

    from tests.depends._depends_db import Database
    from tests.depends.conftest import SessionFactory


class Orders:
    """`POST /orders/{key}` writes note `key` and answers 201 with a run number.

    `?fail=commit` writes a note whose deferred foreign key fails at the commit;
    `?status=409` returns a 409 (the transaction rolls back); `?wait=1` waits for
    `release` before it returns; `?commit=1` calls `commit()` after its write.
    """

    def __init__(self, database: "Database", make_sessionmaker: "SessionFactory", **options: Any):
        self.database = database
        name = options.pop("table", None) or f"idem_{uuid.uuid4().hex[:12]}"
        self.keys = IdempotencyKeys(name=name)
        self.runs = 0
        self.entered = anyio.Event()
        self.release = anyio.Event()
        maker = options.pop("maker", None) or make_sessionmaker()
        get_session = transactional_session(maker, retries=options.pop("retries", 0))
        self.on_run: Callable[[int], None] = lambda _run: None
        idempotency = idempotent_requests(get_session, self.keys, **options)
        router = APIRouter(route_class=ResponseScopedRoute)
        Note = database.note_class

        @router.post("/orders/{key}", status_code=201, dependencies=[Depends(idempotency)])
        async def create(
            key: str,
            request: Request,
            session: Annotated[Any, Depends(get_session)],
            fail: str = "",
            status: int = 201,
            wait: int = 0,
            commit: int = 0,
        ) -> Any:
            self.runs += 1
            self.on_run(self.runs)
            parent = 999 if fail == "commit" else None

            def write(s: "Session") -> None:
                s.add(Note(f"{key}-{self.runs}", parent_id=parent))
                s.flush()

            await run(session, write)
            if commit:
                await run(session, lambda s: s.commit())
            if wait:
                self.entered.set()
                await self.release.wait()
            if status != 201:
                return JSONResponse({"refused": key}, status_code=status)
            return JSONResponse(
                {"key": key, "run": self.runs}, status_code=201, headers={"Location": f"/o/{key}"}
            )

        self.app = FastAPI()
        self.app.include_router(router)

    async def post(
        self,
        target: str,
        key: bytes | None = b"k-1",
        body: bytes = b"{}",
        raises: type[Exception] | tuple[type[Exception], ...] = (),
        **headers: str,
    ) -> Exchange:
        sent = [(b"idempotency-key", key)] if key is not None else []
        sent += [(k.replace("_", "-").encode(), v.encode()) for k, v in headers.items()]
        return await call(self.app, target, method="POST", body=body, headers=sent, raises=raises)

    async def stored(self) -> int:
        async with self.database.observer.connect() as connection:
            counted = select(func.count()).select_from(self.keys.table)
            return int((await connection.execute(counted)).scalar_one())


@pytest.fixture
async def orders(database: "Database", make_sessionmaker: "SessionFactory") -> "AsyncIterator[Any]":
    made: list[Orders] = []

    def make(**options: Any) -> Orders:
        made.append(Orders(database, make_sessionmaker, **options))
        return made[-1]

    yield make
    async with database.observer.begin() as connection:
        for each in made:
            await connection.run_sync(each.keys.table.drop, checkfirst=True)


async def create_table(orders: Orders) -> Orders:
    async with orders.database.observer.begin() as connection:
        await connection.run_sync(orders.keys.create)
    return orders


def header(exchange: Exchange, name: str) -> str | None:
    values = [v.decode() for k, v in exchange.headers if k.decode().lower() == name.lower()]
    return values[0] if values else None
