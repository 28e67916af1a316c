"""The transactional session needs a response scope that records the response status.

Run on an in-memory or unreachable database: what is tested here happens before or
around the database work. The commit rule itself is tested on real databases in
`tests/depends`.
"""

from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any

import pytest
from fastapi import APIRouter, Depends, FastAPI
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine
from sqlalchemy.orm import Session, sessionmaker
from starlette.requests import Request

from mintaka.core import ResponseScope, ResponseScopeError
from mintaka.core.fastapi import ResponseScopedRoute
from mintaka.depends.sqlalchemy import transactional_session
from testing.asgi import call, http_scope

pytestmark = pytest.mark.anyio


@pytest.fixture
def engine() -> Iterator[Engine]:
    engine = create_engine("sqlite://")
    yield engine
    engine.dispose()


async def test_a_route_without_a_response_scope_is_refused_naming_the_fix(engine: Engine) -> None:
    maker = sessionmaker(engine)
    get_session = transactional_session(maker)
    app = FastAPI()

    @app.get("/notes")
    def read(session: Annotated[Session, Depends(get_session)]) -> None: ...

    exchange = await call(app, "/notes", raises=ResponseScopeError)

    assert exchange.status == 500
    message = str(exchange.raised)
    assert message.startswith(
        "Cannot open the session of transactional_session(sessionmaker(class_=Session, "
        "bind=sqlite://)): response_stack() needs a response scope, but the route of GET "
        "/notes (endpoint "
    )
    assert "ResponseScopedRoute" in message


async def test_a_scope_that_exits_without_a_status_rolls_back_and_says_why(engine: Engine) -> None:
    closed: list[str] = []

    class Recorded(Session):
        def close(self) -> None:
            closed.append("close")
            super().close()

    get_session: Any = transactional_session(sessionmaker(engine, class_=Recorded))
    scope = http_scope("/notes")

    with pytest.raises(ResponseScopeError) as caught:
        async with ResponseScope(scope):  # an adapter that never calls respond()
            await get_session(request=Request(scope))

    assert str(caught.value) == (
        "The transactional session cannot tell the status of the response: the response "
        "scope exited without recording one, so the transaction was rolled back. The "
        "adapter that opens the scope must call ResponseScope.respond()."
    )
    assert closed == ["close"]


@pytest.mark.parametrize("kind", ["async", "sync"])
async def test_a_read_only_session_that_cannot_connect_fails_the_request_that_reads(
    kind: str, tmp_path: Path
) -> None:
    # Nothing listens on port 1; SQLite cannot create a file in a folder that is missing.
    # (aiosqlite's worker thread outlives a failed connect, so the async case uses asyncpg.)
    if kind == "async":
        async_engine = create_async_engine("postgresql+asyncpg://mintaka@127.0.0.1:1/none")
        maker: Any = async_sessionmaker(async_engine)
    else:
        sync_engine = create_engine(f"sqlite:///{tmp_path / 'missing-folder' / 'notes.db'}")
        maker = sessionmaker(sync_engine)
    get_session = transactional_session(maker, read_only=True)
    router = APIRouter(route_class=ResponseScopedRoute)

    if kind == "async":

        @router.get("/notes")
        async def read(session: Annotated[Any, Depends(get_session)]) -> None:
            await session.execute(text("SELECT 1"))

    else:

        @router.get("/notes")
        def read_in_thread(session: Annotated[Any, Depends(get_session)]) -> None:
            session.execute(text("SELECT 1"))

    app = FastAPI()
    app.include_router(router)

    try:
        exchange = await call(app, "/notes", raises=Exception)
    finally:
        if kind == "async":
            await async_engine.dispose()
        else:
            sync_engine.dispose()

    assert exchange.status == 500
    assert isinstance(exchange.raised, (OSError, DBAPIError))
