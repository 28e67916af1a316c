"""The transactional session dependency behind `mintaka.depends.sqlalchemy`.

One dependency per `transactional_session(...)` call. Per request it opens a session with a
transaction begun on it, and enters a context on the response stack that decides, when the
response scope exits, whether that transaction commits: only when no exception reached it,
the session is not read-only, and the status of the response passes `commit_on`.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import TYPE_CHECKING, Any, Final, TypeAlias, TypeVar, cast, overload

import anyio
from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_scoped_session,
    async_sessionmaker,
)
from sqlalchemy.orm import Session, scoped_session, sessionmaker
from starlette.requests import Request  # noqa: TC002 - FastAPI reads the annotation at runtime

from mintaka.core import ResponseScopeError, response_stack, response_status
from mintaka.depends._contexts import run_in_own_thread

if TYPE_CHECKING:
    from types import TracebackType

    from sqlalchemy.ext.asyncio import AsyncSessionTransaction
    from sqlalchemy.orm import SessionTransaction
    from sqlalchemy.pool import ConnectionPoolEntry

__all__ = ["CommitRule", "SessionDependency", "transactional_session"]

_S = TypeVar("_S", bound="AsyncSession | Session")
_AS = TypeVar("_AS", bound=AsyncSession)
_SS = TypeVar("_SS", bound=Session)

SessionDependency: TypeAlias = Callable[[], Coroutine[Any, Any, _S]]
"""The type of what [`transactional_session`][mintaka.depends.sqlalchemy.transactional_session]
returns: a response-scoped dependency that provides an `AsyncSession` or a `Session` (or
your subclass, such as SQLModel's `Session`).

Example:
    ```python
    from mintaka.depends.sqlalchemy import SessionDependency, transactional_session
    from sqlalchemy.ext.asyncio import AsyncSession

    get_session: SessionDependency[AsyncSession] = transactional_session(sessionmaker)
    ```
"""

CommitRule: TypeAlias = Callable[[int], bool]
"""The type of `commit_on`: given the response's status code, whether to commit.

Example:
    ```python
    from mintaka.depends.sqlalchemy import CommitRule

    only_2xx: CommitRule = lambda status: 200 <= status < 300
    ```
"""

_POSTGRESQL_READ_ONLY: Final = {"postgresql_readonly": True}
_QUERY_ONLY: Final = "mintaka.depends.query_only"
"""Marks, in a pooled SQLite connection's `info`, that `PRAGMA query_only` is on."""


_FIRST_ERROR_STATUS: Final = 400


def _below_400(status: int) -> bool:
    return status < _FIRST_ERROR_STATUS


class _Rule:
    """What one dependency decides at the end of each request: commit or roll back."""

    __slots__ = ("commit_on", "read_only")

    def __init__(self, commit_on: CommitRule, *, read_only: bool) -> None:
        self.commit_on = commit_on
        self.read_only = read_only

    def commits(self, request: Request, error: BaseException | None) -> bool:
        """Whether the transaction commits, as the response scope exits for `request`.

        Raises:
            ResponseScopeError: The scope exits without an error and without a status, so
                nobody can tell whether the client is told of a success.
        """
        if error is not None or self.read_only:
            return False
        status = response_status(request)
        if status is None:
            raise ResponseScopeError(
                "The transactional session cannot tell the status of the response: the "
                "response scope exited without recording one, so the transaction was rolled "
                "back. The adapter that opens the scope must call ResponseScope.respond()."
            )
        return self.commit_on(status)


def _restrict_to_reads(connection: Connection) -> None:
    """Make SQLite refuse writes on `connection` until it goes back to the pool."""
    connection.exec_driver_sql("PRAGMA query_only = ON")
    connection.info[_QUERY_ONLY] = True
    engine = connection.engine
    if not event.contains(engine, "checkin", _allow_writes_again):
        event.listen(engine, "checkin", _allow_writes_again)


def _allow_writes_again(dbapi_connection: Any, record: ConnectionPoolEntry) -> None:
    """Pool `checkin` hook: undo `PRAGMA query_only` before another request gets it."""
    if record.info.pop(_QUERY_ONLY, False) and dbapi_connection is not None:
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA query_only = OFF")
        cursor.close()


def _read_only_connection(session: Session) -> None:
    """Start the session's transaction on a connection that refuses writes."""
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        session.connection(execution_options=_POSTGRESQL_READ_ONLY)
    elif dialect == "sqlite":
        _restrict_to_reads(session.connection())


class _AsyncTransaction:
    """The response-scoped context of one request's `AsyncSession`."""

    __slots__ = ("_maker", "_request", "_rule", "_session", "_transaction")

    _session: AsyncSession
    _transaction: AsyncSessionTransaction

    def __init__(
        self, maker: async_sessionmaker[AsyncSession], rule: _Rule, request: Request
    ) -> None:
        self._maker = maker
        self._rule = rule
        self._request = request

    async def __aenter__(self) -> AsyncSession:
        # Without autobegin the session refuses work once this transaction has ended,
        # instead of starting one that nobody commits (a write from a background task
        # would otherwise be lost without a word).
        session = self._session = self._maker(autobegin=False)
        try:
            self._transaction = await session.begin()
            if self._rule.read_only:
                await session.run_sync(_read_only_connection)
        except BaseException:
            with anyio.CancelScope(shield=True):
                await session.close()
            raise
        return session

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        session = self._session
        try:
            if self._transaction.is_active:
                if self._rule.commits(self._request, exc):
                    await self._transaction.commit()
                else:
                    await self._transaction.rollback()
        finally:
            # Also after a failed commit: closing rolls back what is left.
            await session.close()


class _SyncTransaction:
    """The response-scoped context of one request's `Session`; its blocking work in threads."""

    __slots__ = ("_maker", "_request", "_rule", "_session", "_transaction")

    _session: Session
    _transaction: SessionTransaction

    def __init__(self, maker: sessionmaker[Session], rule: _Rule, request: Request) -> None:
        self._maker = maker
        self._rule = rule
        self._request = request

    async def __aenter__(self) -> Session:
        return await anyio.to_thread.run_sync(self._begin)

    def _begin(self) -> Session:
        session = self._session = self._maker(autobegin=False)
        try:
            self._transaction = session.begin()
            if self._rule.read_only:
                _read_only_connection(session)
        except BaseException:
            session.close()
            raise
        return session

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        try:
            commit = self._rule.commits(self._request, exc)
        except BaseException:
            await run_in_own_thread(self._end, False)  # noqa: FBT003
            raise
        await run_in_own_thread(self._end, commit)

    def _end(self, commit: bool) -> None:  # noqa: FBT001
        try:
            if self._transaction.is_active:
                if commit:
                    self._transaction.commit()
                else:
                    self._transaction.rollback()
        finally:
            self._session.close()


def _check_commit_on(commit_on: CommitRule | None, *, read_only: bool) -> CommitRule:
    if commit_on is None:
        return _below_400
    if not callable(commit_on):
        raise TypeError(
            "transactional_session(commit_on=...) expects a function that takes the "
            f"response's status code and returns whether to commit; got {commit_on!r} "
            f"({type(commit_on).__qualname__}). For example: "
            "commit_on=lambda status: 200 <= status < 300."
        )
    if read_only:
        raise TypeError(
            "transactional_session(read_only=True) never commits, so commit_on="
            f"{commit_on!r} would never be asked. Drop commit_on, or drop read_only."
        )
    return commit_on


def _wrong_factory(factory: object) -> TypeError:
    """The error for a `factory` that is not a sessionmaker of a matching session class."""
    given = f"got {factory!r} ({type(factory).__qualname__})"
    if isinstance(factory, AsyncEngine):
        fix = "it is an engine: pass async_sessionmaker(engine) instead."
    elif isinstance(factory, Engine):
        fix = "it is an engine: pass sessionmaker(engine) instead."
    elif isinstance(factory, (AsyncSession, Session)):
        fix = (
            "it is a session: pass the sessionmaker that makes it, so that every request "
            "gets a session of its own."
        )
    elif isinstance(factory, (scoped_session, async_scoped_session)):
        fix = (
            "it is a scoped session registry: pass the sessionmaker behind it "
            "(registry.session_factory); the dependency already scopes a session to the "
            "request."
        )
    elif isinstance(factory, sessionmaker):
        fix = (
            f"this sessionmaker makes {factory.class_.__qualname__}, an AsyncSession: use "
            "async_sessionmaker(engine) for AsyncSession, or sessionmaker(engine) for Session."
        )
    elif isinstance(factory, async_sessionmaker):
        fix = (
            f"this async_sessionmaker makes {factory.class_.__qualname__}, which is not an "
            "AsyncSession: use sessionmaker(engine, class_=...) for a sync Session class."
        )
    else:
        fix = (
            "create one with async_sessionmaker(engine) for AsyncSession, or "
            "sessionmaker(engine) for Session (sessionmaker(engine, class_=sqlmodel.Session) "
            "for SQLModel)."
        )
    return TypeError(
        "transactional_session() expects a sqlalchemy.ext.asyncio.async_sessionmaker or a "
        f"sqlalchemy.orm.sessionmaker; {given}: {fix}"
    )


def _context_for(
    factory: object, rule: _Rule
) -> Callable[[Request], _AsyncTransaction | _SyncTransaction]:
    """What opens one request's session from `factory`, or the error naming the fix."""
    if isinstance(factory, async_sessionmaker) and issubclass(factory.class_, AsyncSession):
        async_maker: async_sessionmaker[AsyncSession] = factory
        return lambda request: _AsyncTransaction(async_maker, rule, request)
    if isinstance(factory, sessionmaker) and not issubclass(factory.class_, AsyncSession):
        sync_maker: sessionmaker[Session] = factory
        return lambda request: _SyncTransaction(sync_maker, rule, request)
    raise _wrong_factory(factory)


@overload
def transactional_session(
    sessionmaker: async_sessionmaker[_AS],
    *,
    commit_on: CommitRule | None = None,
    read_only: bool = False,
) -> SessionDependency[_AS]: ...
@overload
def transactional_session(
    sessionmaker: sessionmaker[_SS],
    *,
    commit_on: CommitRule | None = None,
    read_only: bool = False,
) -> SessionDependency[_SS]: ...
def transactional_session(
    sessionmaker: async_sessionmaker[Any] | sessionmaker[Any],
    *,
    commit_on: CommitRule | None = None,
    read_only: bool = False,
) -> SessionDependency[Any]:
    """Make a dependency that provides a session in a transaction settled before the response.

    Each request that uses the dependency gets a new session from `sessionmaker` with a
    transaction begun on it. When the response scope exits — after the endpoint returned
    and the response was serialized, before anything is sent — the transaction:

    * **commits** when the endpoint returned normally and the response's status passes
      `commit_on` (by default: below 400, so 2xx and 3xx). The client's next request sees
      the write, and a commit that fails becomes the response (a 500 unless an exception
      handler says otherwise) instead of a false success;
    * **rolls back** when the status does not pass (a returned `JSONResponse(status_code=409)`,
      a status set on an injected `Response`), or when any exception reached the dependency
      (the endpoint, response validation or serialization raised, `HTTPException` included).

    The session is closed exactly once either way.

    An `async_sessionmaker` gives an `AsyncSession`; a `sessionmaker` gives a `Session`
    (SQLModel's too: `sessionmaker(engine, class_=sqlmodel.Session)`), whose begin, commit,
    rollback and close run in worker threads, never on the event loop.

    With `read_only=True` the transaction never commits, and the database refuses writes:
    on PostgreSQL the transaction is started `READ ONLY`; on SQLite the connection runs
    with `PRAGMA query_only = ON` until it goes back to the pool.

    The session does not begin a new transaction by itself: once this one has ended (the
    response is being sent, or the endpoint called `commit()` or `rollback()` itself),
    using the session raises `sqlalchemy.exc.InvalidRequestError` instead of starting a
    transaction that nobody would commit. A background task or a streamed body therefore
    cannot lose a write silently through it; give them a session of their own.

    Create the dependency once (at module level) and reuse it: FastAPI's per-request
    cache then hands every dependency of a request the same session. Two dependencies
    (two databases) on one route each commit before the response, the one entered last
    first; see the guide's "Several databases".

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
        sessionmaker: The `async_sessionmaker` or `sessionmaker` that creates the sessions.
        commit_on: Given the status code the client is about to receive, whether to
            commit; by default `status < 400`. For example `lambda status: status < 300`.
        read_only: Never commit, and have the database refuse writes.

    Returns:
        A response-scoped `async def` dependency, for `Depends()`.

    Raises:
        TypeError: `sessionmaker` is not an `async_sessionmaker` making an `AsyncSession`
            or a `sessionmaker` making a `Session` (for example an engine, a session, or a
            scoped session), `commit_on` is not callable, or `commit_on` is given
            together with `read_only=True`.
    """
    rule = _Rule(_check_commit_on(commit_on, read_only=read_only), read_only=read_only)
    open_context = _context_for(sessionmaker, rule)
    maker = sessionmaker

    async def transactional_session_dependency(request: Request) -> Any:
        """Provide a session in a transaction that ends before the response is sent."""
        try:
            stack = response_stack(request)
        except ResponseScopeError as error:
            raise ResponseScopeError(
                f"Cannot open the transactional session of {maker!r}: {error}"
            ) from None
        return await stack.enter_async_context(open_context(request))

    # How mintaka-routes --audit and the Router's registration check, which must not import
    # mintaka.depends, recognise a response-scoped dependency (as for the wrapper's).
    marked: Any = transactional_session_dependency
    marked.__mintaka_response_scoped__ = True
    # What it provides, for them and for readers of the signature: the maker's session class.
    marked.__annotations__["return"] = sessionmaker.class_
    # FastAPI passes the request; to its users the dependency takes no arguments.
    return cast("SessionDependency[Any]", transactional_session_dependency)
