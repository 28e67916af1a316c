"""The transactional `AsyncSession` dependency behind `mintaka.depends.sqlalchemy`."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import TYPE_CHECKING, Any, TypeAlias, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from mintaka.depends._wrapper import response_scoped_dependency

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

__all__ = ["SessionDependency", "transactional_session"]

_S = TypeVar("_S", bound=AsyncSession)

SessionDependency: TypeAlias = Callable[[], Coroutine[Any, Any, _S]]
"""The type of what [`transactional_session`][mintaka.depends.sqlalchemy.transactional_session]
returns: a response-scoped dependency that provides an `AsyncSession` (or your subclass).

Example:
    ```python
    from mintaka.depends.sqlalchemy import SessionDependency, transactional_session
    from sqlalchemy.ext.asyncio import AsyncSession

    get_session: SessionDependency[AsyncSession] = transactional_session(sessionmaker)
    ```
"""


def transactional_session(sessionmaker: async_sessionmaker[_S]) -> SessionDependency[_S]:
    """Make a dependency that provides a session in a transaction committed before the response.

    Each request that uses the dependency gets a new session from `sessionmaker` with a
    transaction begun on it. When the endpoint returned normally and the response was
    serialized, the transaction commits and the session closes — before the response is
    sent, so the client's next request sees the write, and a commit that fails becomes
    the response (a 500 by default) instead of a false success. When any exception
    reaches the dependency (the endpoint, response validation or serialization raised,
    `HTTPException` included), the transaction rolls back instead. The session is closed
    exactly once either way.

    The session does not begin a new transaction by itself: once this one has ended (the
    response is being sent, or the endpoint called `commit()` or `rollback()` itself),
    using the session raises `sqlalchemy.exc.InvalidRequestError` instead of starting a
    transaction that nobody would commit. A background task or a streamed body therefore
    cannot lose a write silently through it; give them a session of their own.

    Create the dependency once (at module level) and reuse it: FastAPI's per-request
    cache then hands every dependency of a request the same session.

    The route must open a response scope: use `mintaka.router.Router` or
    `mintaka.core.fastapi.ResponseScopedRoute`.

    Example:
        ```python
        from typing import Annotated

        from fastapi import Depends
        from mintaka.depends.sqlalchemy import transactional_session
        from mintaka.router import Router
        from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine

        engine = create_async_engine("sqlite+aiosqlite:///notes.db")
        get_session = transactional_session(async_sessionmaker(engine))
        Session = Annotated[AsyncSession, Depends(get_session)]

        router = Router()

        @router.post("/notes", status_code=201)
        async def create_note(note: NoteIn, session: Session) -> NoteOut:
            row = Note(text=note.text)
            session.add(row)
            await session.flush()  # assigns row.id; the commit follows before the 201
            return NoteOut(id=row.id, text=row.text)
        ```

    Args:
        sessionmaker: The `async_sessionmaker` that creates the sessions.

    Returns:
        A response-scoped `async def` dependency without parameters, for `Depends()`.

    Raises:
        TypeError: `sessionmaker` is not an `async_sessionmaker` (for example a sync
            `sessionmaker`, an engine, or a session).
    """
    if not isinstance(sessionmaker, async_sessionmaker):
        raise TypeError(
            "transactional_session() expects a sqlalchemy.ext.asyncio.async_sessionmaker, "
            f"got {sessionmaker!r} ({type(sessionmaker).__qualname__}). Create one with "
            "async_sessionmaker(engine)."
        )

    async def transactional_session_dependency() -> AsyncIterator[_S]:
        """Provide a session in a transaction that commits before the response is sent."""
        # Two blocks, not sessionmaker.begin(): the session must close even when the
        # commit itself fails. Without autobegin, the session refuses work once this
        # transaction has ended, instead of starting one that nobody commits (a write
        # from a background task would otherwise be lost without a word).
        async with sessionmaker(autobegin=False) as session, session.begin():
            yield session

    return response_scoped_dependency(transactional_session_dependency)
