"""The transactional session dependency behind `mintaka.depends.sqlalchemy`.

One dependency per `transactional_session(...)` call. Per request it opens a session with a
transaction begun on it, and enters a context on the response stack that decides, when the
response scope exits, whether that transaction commits: only when no exception reached it,
the session is not read-only, and the status of the response passes `commit_on`.
"""

from __future__ import annotations

import logging
import weakref
from collections.abc import Callable, Coroutine
from typing import TYPE_CHECKING, Any, Final, Literal, TypeAlias, TypeVar, cast, get_args, overload

from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import InvalidRequestError
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_scoped_session,
    async_sessionmaker,
)
from sqlalchemy.orm import Session, scoped_session, sessionmaker
from starlette.requests import Request  # noqa: TC002 - FastAPI reads the annotation at runtime

from mintaka.core import ResponseScopeError, response_headers, response_stack, response_status
from mintaka.core._again import ATTEMPT_KEY
from mintaka.core._scope import describe_request
from mintaka.depends._binding import BOUND, bound_options, opened_bound
from mintaka.depends._conflicts import check_retries, conflict_code, handle_conflict
from mintaka.depends._contexts import run_in_own_thread
from mintaka.depends._effects import Effects
from mintaka.depends._replicas import ReadReplicas

if TYPE_CHECKING:
    from types import TracebackType

    from sqlalchemy.orm import ORMExecuteState, SessionTransaction
    from sqlalchemy.pool import ConnectionPoolEntry

__all__ = [
    "PARTIAL_COMMIT_HEADER",
    "CommitRule",
    "ExplicitCommits",
    "SessionDependency",
    "transactional_session",
]

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

ExplicitCommits: TypeAlias = Literal["allow", "forbid"]
"""The type of `explicit_commits`: whether the endpoint may call `commit()` itself.

`"allow"` (the default): a `commit()` in the endpoint commits at once, and the session
goes on in a new transaction that is settled before the response. `"forbid"`: a
`commit()` raises `InvalidRequestError`, so that the request is all or nothing.
"""

PARTIAL_COMMIT_HEADER: Final = "Mintaka-Partial-Commit"
"""The header of a response that reports a failure although part of the request committed.

Its value is how many commits of the request are durable: commits the endpoint made
itself, or another database's session that committed before this one failed.
"""

_logger = logging.getLogger("mintaka.depends")

_CONTEXT: Final = "mintaka.depends.transaction"
"""Where a session's `info` points at the response-scoped context that opened it."""
_OUTCOME_KEY: Final = "mintaka.depends.outcome"
"""Where the ASGI scope keeps what the request's sessions made durable."""
_QUERY_ONLY: Final = "mintaka.depends.query_only"
"""Marks, in a pooled SQLite connection's `info`, that `PRAGMA query_only` is on."""


_FIRST_ERROR_STATUS: Final = 400


def _below_400(status: int) -> bool:
    return status < _FIRST_ERROR_STATUS


class _Rule:
    """What one dependency decides at the end of each request: commit or roll back."""

    __slots__ = ("commit_on", "explicit_commits", "name", "read_only", "replicas", "retries")

    def __init__(
        self,
        commit_on: CommitRule,
        *,
        read_only: bool,
        explicit_commits: ExplicitCommits,
        name: str,
        retries: int = 0,
        replicas: ReadReplicas | None = None,
    ) -> None:
        self.replicas = replicas
        self.commit_on = commit_on
        self.read_only = read_only
        self.explicit_commits = explicit_commits
        self.name = name
        self.retries = retries

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
    if engine not in _RESETTING_ENGINES:
        _RESETTING_ENGINES.add(engine)
        event.listen(engine, "checkin", _allow_writes_again)


_RESETTING_ENGINES: weakref.WeakSet[Engine] = weakref.WeakSet()
"""The engines whose pool already resets `PRAGMA query_only` at checkin."""
_LISTENING_CLASSES: weakref.WeakSet[type[Session]] = weakref.WeakSet()
"""The session classes the listeners below are registered on."""


def _allow_writes_again(dbapi_connection: Any, record: ConnectionPoolEntry) -> None:
    """Pool `checkin` hook: undo `PRAGMA query_only` before another request gets it."""
    if record.info.pop(_QUERY_ONLY, False) and dbapi_connection is not None:
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA query_only = OFF")
        cursor.close()


def _refuse_writes(connection: Connection) -> None:
    """Have the database refuse writes in the transaction just begun on `connection`."""
    dialect = connection.dialect.name
    if dialect == "postgresql":
        connection.exec_driver_sql("SET TRANSACTION READ ONLY")
    elif dialect == "sqlite":
        _restrict_to_reads(connection)


class _Outcome:
    """What one request's transactional sessions made durable, and whether it failed.

    A request whose response reports a failure (an exception, a status that does not pass
    a session's `commit_on`, a refused commit) after some of its work was committed — by
    the endpoint's own `commit()`, or by another database's session — is a partial
    commit: the client is told so in a header, and the log says which request it was.
    """

    __slots__ = ("attempt", "durable", "failed", "logged")

    def __init__(self, attempt: int) -> None:
        self.attempt = attempt
        self.durable = 0
        self.failed = False
        self.logged = False

    @staticmethod
    def of(request: Request) -> _Outcome:
        scope = request.scope
        attempt: int = scope.get(ATTEMPT_KEY, 1)
        outcome: _Outcome | None = scope.get(_OUTCOME_KEY)
        # A request handled again (`retries`) starts afresh: what its abandoned attempt
        # failed at is not this attempt's failure.
        if outcome is None or outcome.attempt != attempt:
            outcome = scope[_OUTCOME_KEY] = _Outcome(attempt)
        return outcome

    def committed(self, request: Request) -> None:
        self.durable += 1
        self._report(request)

    def fail(self, request: Request) -> None:
        self.failed = True
        self._report(request)

    def _report(self, request: Request) -> None:
        if not (self.failed and self.durable):
            return
        response_headers(request)[PARTIAL_COMMIT_HEADER] = str(self.durable)
        if not self.logged:
            self.logged = True
            _logger.warning(
                "%s: the response reports a failure, but %d commit(s) of this request are "
                "durable; the response carries %s. Commit once, at the end (let the "
                "transactional session commit), for all or nothing.",
                describe_request(request.scope),
                self.durable,
                PARTIAL_COMMIT_HEADER,
            )


class _Transaction:
    """What the async and the sync context share: the rule, and what the session did.

    The session begins a new transaction whenever it is used (SQLAlchemy's autobegin), so
    an endpoint may `commit()` by hand and go on; the transaction left open when the
    response scope exits is settled by the rule. The session listeners call back into the
    context the session's `info` points at.
    """

    __slots__ = (
        "_began",
        "_commits_refused",
        "_effects",
        "_ended",
        "_request",
        "_rule",
        "_settling",
        "_wrote",
    )

    def __init__(self, rule: _Rule, request: Request) -> None:
        self._ended: list[Callable[[], None]] | None = None
        self._rule = rule
        self._request = request
        self._settling = False
        self._began = False
        self._wrote = False
        self._effects: Effects | None = None
        self._commits_refused: str | None = None

    @property
    def effects(self) -> Effects:
        """The session's `on_commit` callbacks, created on first use."""
        if self._effects is None:
            request = self._request
            self._effects = Effects(request, lambda: describe_request(request.scope))
        return self._effects

    def must_commit_for_effects(self) -> bool:
        """Whether callbacks wait on a transaction that has not begun: commit it anyway."""
        return self._effects is not None and bool(self._effects.waiting)

    async def run_effects_before_response(self) -> None:
        if self._effects is not None:
            await self._effects.run_before_response()

    def rolled_back(self, transaction: SessionTransaction) -> None:
        if self._effects is not None:
            self._effects.rolled_back(transaction)

    def ended(self, session: Session) -> None:
        """The response scope is done with the session: leave only the request's name."""
        session.info[_CONTEXT] = _Ended(describe_request(self._request.scope))
        callbacks, self._ended = self._ended, None
        for callback in callbacks or ():
            callback()

    def when_ended(self, callback: Callable[[], None]) -> None:
        """Call `callback()` once the transaction has been settled (committed or not)."""
        if self._ended is None:
            self._ended = []
        self._ended.append(callback)

    def will_commit(self, request: Request) -> bool:
        """Whether the rule commits the open transaction, if nothing fails from here on."""
        return self._rule.commits(request, None)

    def began(self, connection: Connection) -> None:
        """A transaction (not a savepoint) has begun on `connection`."""
        self._began = True
        if self._rule.read_only:
            _refuse_writes(connection)

    def refuse_explicit_commits(self, because: str) -> None:
        """Make `commit()` by the endpoint raise for this request, `because` saying why."""
        self._commits_refused = because

    def wrote(self) -> None:
        """The session flushed, or executed a statement that may write."""
        self._wrote = True

    @property
    def sends_position(self) -> bool:
        """Whether a commit of this session hands the client the primary's WAL position."""
        return self._wrote and self._rule.replicas is not None and not BOUND

    def before_commit(self) -> None:
        """A transaction is about to commit; refuse it if commits are not the endpoint's."""
        if self._settling:
            return
        if self._commits_refused is not None:
            raise InvalidRequestError(
                f"{describe_request(self._request.scope)} called commit() on its "
                f"transactional session, but {self._commits_refused}. Remove the commit() "
                "(use flush() for generated keys): the session commits by itself before "
                "the response."
            )
        if self._rule.explicit_commits == "allow":
            return
        raise InvalidRequestError(
            f"{describe_request(self._request.scope)} called commit() on a transactional "
            f"session made with explicit_commits='forbid' ({self._rule.name}). The session "
            "commits by itself before the response, when the status passes commit_on: "
            "remove the commit() (use flush() for generated keys), or make the dependency "
            "with explicit_commits='allow'."
        )

    def committed(self) -> None:
        """A transaction committed: its work is durable, whatever the response says."""
        if self._began and not self._rule.read_only:
            _Outcome.of(self._request).committed(self._request)
        self._began = False
        if self._effects is not None:
            if self._rule.read_only:
                self._effects.discard()
            else:
                self._effects.committed()

    def decide(self, error: BaseException | None) -> bool:
        """Whether the open transaction commits; records a failing outcome."""
        try:
            commit = self._rule.commits(self._request, error)
        except BaseException:
            self.failed()
            raise
        if not commit and not self._rule.read_only:
            self.failed()
        return commit

    async def settle_then_replace_conflicts(
        self,
        settle: Callable[[BaseException | None], Coroutine[Any, Any, None]],
        exc: BaseException | None,
    ) -> None:
        """Settle the transaction; a conflict, at a statement or at the commit, is replaced.

        By `HandleAgain` while attempts remain, by a 503 after the last one.
        """
        try:
            await settle(exc)
        except BaseException as failure:
            replacement = self.replacing_conflict(failure)
            if replacement is None:
                raise
            raise replacement from failure
        replacement = self.replacing_conflict(exc)
        if replacement is not None:
            raise replacement from exc

    def replacing_conflict(self, error: BaseException | None) -> BaseException | None:
        """What replaces `error` when it is a conflict: handle again, or a 503; else None."""
        code = conflict_code(error)
        if code is None:
            return None
        return handle_conflict(self._request, code, self._rule.retries)

    def failed(self) -> None:
        _Outcome.of(self._request).fail(self._request)


class _Ended:
    """What a session's `info` keeps once its response scope is done: the request's name."""

    __slots__ = ("request",)

    def __init__(self, request: str) -> None:
        self.request = request


def _context(session: Session) -> _Transaction | None:
    context = session.info.get(_CONTEXT)
    return context if isinstance(context, _Transaction) else None


def transaction_of(session: Session) -> _Transaction | _Ended | None:
    """The open context of a session `transactional_session` made, what is left of it, or None."""
    context = session.info.get(_CONTEXT)
    return context if isinstance(context, (_Transaction, _Ended)) else None


def _on_begin(session: Session, transaction: SessionTransaction, connection: Connection) -> None:
    context = _context(session)
    if context is not None and not transaction.nested:
        context.began(connection)


def _on_before_commit(session: Session) -> None:
    context = _context(session)
    if context is not None and not session.in_nested_transaction():
        context.before_commit()


def _on_after_commit(session: Session) -> None:
    context = _context(session)
    if context is not None and not session.in_nested_transaction():
        context.committed()


def _on_rollback(session: Session, previous_transaction: SessionTransaction) -> None:
    context = _context(session)
    if context is not None:
        context.rolled_back(previous_transaction)


def _on_flush(session: Session, flush_context: object) -> None:
    context = _context(session)
    if context is not None:
        context.wrote()


def _on_execute(state: ORMExecuteState) -> None:
    if not state.is_select:
        context = _context(state.session)
        if context is not None:
            context.wrote()


_WRITE_LISTENERS: Final = (("after_flush", _on_flush), ("do_orm_execute", _on_execute))
"""What tells a session with replicas that its transaction wrote: it then sends a position."""
_LISTENING_FOR_WRITES: weakref.WeakSet[type[Session]] = weakref.WeakSet()


_LISTENERS: Final = (
    ("after_begin", _on_begin),
    ("before_commit", _on_before_commit),
    ("after_commit", _on_after_commit),
    ("after_soft_rollback", _on_rollback),
)


def _listen(session_class: type[Session]) -> None:
    """Register the listeners on a session class (once): they cost a request nothing."""
    # Not event.contains(): SQLAlchemy's registry knows targets by id(), which a class or
    # engine made later can reuse once the first is gone; a weak set cannot be fooled.
    if session_class in _LISTENING_CLASSES:
        return
    _LISTENING_CLASSES.add(session_class)
    for name, listener in _LISTENERS:
        event.listen(session_class, name, listener)


def _listen_for_writes(session_class: type[Session]) -> None:
    """Register the listeners that tell a session with replicas that it wrote (once)."""
    if session_class in _LISTENING_FOR_WRITES:
        return
    _LISTENING_FOR_WRITES.add(session_class)
    for name, listener in _WRITE_LISTENERS:
        event.listen(session_class, name, listener)


class _AsyncTransaction(_Transaction):
    """The response-scoped context of one request's `AsyncSession`."""

    __slots__ = ("_maker", "_session", "_sync_class")

    _session: AsyncSession

    def __init__(
        self,
        maker: async_sessionmaker[AsyncSession],
        sync_class: type[Session],
        rule: _Rule,
        request: Request,
    ) -> None:
        super().__init__(rule, request)
        self._maker = maker
        self._sync_class = sync_class

    async def __aenter__(self) -> AsyncSession:
        # Closing for good, not for reuse: a background task or a streamed body that
        # uses the session after the response scope raises, instead of starting a
        # transaction that nobody commits.
        options: dict[str, Any] = {"sync_session_class": self._sync_class}
        if BOUND:  # a test's outer transaction (mintaka.depends.testing)
            options.update(bound_options(self._maker, self._request))
        options.update(autobegin=True, close_resets_only=False)
        replicas = self._rule.replicas
        session = None
        if replicas is not None and self._rule.read_only and self._maker not in BOUND:
            session = await replicas.open_async(self._request, options)
        if session is None:
            session = self._maker(**options)
        self._session = session
        session.sync_session.info[_CONTEXT] = self
        if BOUND:
            opened_bound(self._maker, session.sync_session, self._request)
        return session

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.settle_then_replace_conflicts(self._settle, exc)

    async def _settle(self, exc: BaseException | None) -> None:
        session = self._session
        try:
            commit = self.decide(exc)
            if session.in_transaction() or (commit and self.must_commit_for_effects()):
                if commit:
                    self._settling = True
                    try:
                        await session.commit()
                    except BaseException:
                        self.failed()
                        # A COMMIT the database refused (a deferred constraint) can leave
                        # its transaction, and on SQLite the write lock, open: end it here.
                        await session.rollback()
                        raise
                    if self.sends_position:
                        await cast("ReadReplicas", self._rule.replicas).committed_async(
                            self._request
                        )
                else:
                    await session.rollback()
        finally:
            self.ended(session.sync_session)
            # Also after a failed commit: closing rolls back what is left.
            await session.close()
            # What an explicit commit made ready runs even when the rest failed.
            await self.run_effects_before_response()


class _SyncTransaction(_Transaction):
    """The response-scoped context of one request's `Session`; its blocking work in threads."""

    __slots__ = ("_maker", "_session")

    _session: Session

    def __init__(self, maker: sessionmaker[Session], rule: _Rule, request: Request) -> None:
        super().__init__(rule, request)
        self._maker = maker

    async def __aenter__(self) -> Session:
        # Closing for good, not for reuse, as in the async context.
        options = bound_options(self._maker, self._request) if BOUND else {}
        options.update(autobegin=True, close_resets_only=False)
        replicas = self._rule.replicas
        session = None
        if replicas is not None and self._rule.read_only and self._maker not in BOUND:
            session = await replicas.open_sync(self._request, options)
        if session is None:
            session = self._maker(**options)
        self._session = session
        session.info[_CONTEXT] = self
        if BOUND:  # a test's outer transaction (mintaka.depends.testing)
            opened_bound(self._maker, session, self._request)
        return session

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.settle_then_replace_conflicts(self._settle, exc)

    async def _settle(self, exc: BaseException | None) -> None:
        try:
            try:
                commit = self.decide(exc)
            except BaseException:
                await run_in_own_thread(self._end, False)  # noqa: FBT003
                raise
            await run_in_own_thread(self._end, commit)
        finally:
            # What an explicit commit made ready runs even when the rest failed.
            await self.run_effects_before_response()

    def _end(self, commit: bool) -> None:  # noqa: FBT001
        session = self._session
        try:
            if session.in_transaction() or (commit and self.must_commit_for_effects()):
                if commit:
                    self._settling = True
                    try:
                        session.commit()
                    except BaseException:
                        self.failed()
                        session.rollback()  # as in the async context, above
                        raise
                    if self.sends_position:
                        cast("ReadReplicas", self._rule.replicas).committed_sync(self._request)
                else:
                    session.rollback()
        finally:
            self.ended(session)
            session.close()


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
        # A sync session class of this dependency's own carries the listeners, so that
        # they see only the sessions that async_maker makes, and cost nothing per request.
        base: type[Session] = async_maker.kw.get("sync_session_class", Session)
        sync_class = type(base.__name__, (base,), {})
        _listen(sync_class)
        if rule.replicas is not None and not rule.read_only:
            _listen_for_writes(sync_class)
        return lambda request: _AsyncTransaction(async_maker, sync_class, rule, request)
    if isinstance(factory, sessionmaker) and not issubclass(factory.class_, AsyncSession):
        sync_maker: sessionmaker[Session] = factory
        # sessionmaker makes its sessions from a subclass of its own: listen there.
        _listen(sync_maker.class_)
        if rule.replicas is not None and not rule.read_only:
            _listen_for_writes(sync_maker.class_)
        return lambda request: _SyncTransaction(sync_maker, rule, request)
    raise _wrong_factory(factory)


def _check_explicit_commits(explicit_commits: object) -> ExplicitCommits:
    if explicit_commits not in get_args(ExplicitCommits):
        raise ValueError(
            "transactional_session(explicit_commits=...) expects 'allow' (the endpoint may "
            "call commit() itself) or 'forbid' (commit() raises); got "
            f"{explicit_commits!r}."
        )
    return cast("ExplicitCommits", explicit_commits)


def _describe_maker(factory: object) -> str:
    """Name a sessionmaker by what it makes and where, as a reader of the app would."""
    made = getattr(factory, "class_", None)
    parts = [f"class_={getattr(made, '__name__', '?')}"]
    settings = getattr(factory, "kw", None)
    bind = settings.get("bind") if isinstance(settings, dict) else None
    url = getattr(bind, "url", None)
    if url is not None:
        parts.append(f"bind={url.render_as_string(hide_password=True)}")
    return f"{type(factory).__name__}({', '.join(parts)})"


@overload
def transactional_session(
    sessionmaker: async_sessionmaker[_AS],
    *,
    commit_on: CommitRule | None = None,
    read_only: bool = False,
    explicit_commits: ExplicitCommits = "allow",
    retries: int = 0,
    replicas: ReadReplicas | None = None,
) -> SessionDependency[_AS]: ...
@overload
def transactional_session(
    sessionmaker: sessionmaker[_SS],
    *,
    commit_on: CommitRule | None = None,
    read_only: bool = False,
    explicit_commits: ExplicitCommits = "allow",
    retries: int = 0,
    replicas: ReadReplicas | None = None,
) -> SessionDependency[_SS]: ...
def transactional_session(
    sessionmaker: async_sessionmaker[Any] | sessionmaker[Any],
    *,
    commit_on: CommitRule | None = None,
    read_only: bool = False,
    explicit_commits: ExplicitCommits = "allow",
    retries: int = 0,
    replicas: ReadReplicas | None = None,
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

    **Commits in the endpoint.** `session.commit()` in the endpoint (or in a helper it
    calls, as FastAPI's and SQLModel's tutorials teach) commits at once, and the session
    goes on in a new transaction, which is settled by the rule above before the response;
    `refresh()`, lazy loads and expired attributes work after it, and so do savepoints
    (`begin_nested()`). If the request then fails (an exception, a status that rolls back,
    a refused commit), what was committed stays committed: the response carries the
    header `Mintaka-Partial-Commit` (the number of durable commits) and the
    `mintaka.depends` logger warns, naming the request. With
    `explicit_commits="forbid"`, `commit()` raises `InvalidRequestError` instead, so every
    request is all or nothing.

    **Read replicas.** With `replicas=ReadReplicas([...])` (PostgreSQL), a session that
    wrote hands the client the WAL position of its commit with the response, and a
    `read_only=True` session reads from a replica that has replayed the client's position,
    or from the primary when none has within `max_wait`; see `ReadReplicas` and the
    "Scaling out" page.

    **Conflicts.** A serialization failure (SQLSTATE 40001), a deadlock (40P01) or
    SQLite's "database is locked" rolls the transaction back and, with `retries=n`,
    has the whole request handled again, up to n more times, before anything is sent
    (see the guide's "Conflicts and retries"); after the last attempt, a 503.

    Once the response scope has exited, the session is closed for good: using it (from a
    background task or a streamed body) raises `sqlalchemy.exc.InvalidRequestError`
    instead of starting a transaction that nobody would commit. Give them a session of
    their own.

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
        explicit_commits: `"allow"` (the default) lets the endpoint call `commit()`
            itself; `"forbid"` makes `commit()` raise, so every request is all or nothing.
        retries: How many more times the route adapter may handle the whole request
            again after a serialization failure or deadlock (SQLite: "database is
            locked"), at a statement or at the commit; once they are spent, the client
            gets a 503 with `Retry-After`. 0 (the default) answers the first conflict so.
        replicas: The primary's read replicas (`ReadReplicas`): a write session hands the
            client its position; a read-only session reads from a replica that has it.

    Returns:
        A response-scoped `async def` dependency, for `Depends()`.

    Raises:
        TypeError: `sessionmaker` is not an `async_sessionmaker` making an `AsyncSession`
            or a `sessionmaker` making a `Session` (for example an engine, a session, or a
            scoped session), `commit_on` is not callable, or `commit_on` is given
            together with `read_only=True`.
        ValueError: `explicit_commits` is neither `"allow"` nor `"forbid"`.
        TypeError: `retries` is not an int of 0 or more.
        TypeError: `replicas` is not a `ReadReplicas`, or its sessionmakers are not of the
            kind (async, sync) of `sessionmaker`.
        ValueError: `replicas` is given with a `sessionmaker` that is not on PostgreSQL.
    """
    checked_commit_on = _check_commit_on(commit_on, read_only=read_only)
    checked_explicit_commits = _check_explicit_commits(explicit_commits)
    checked_retries = check_retries(retries)
    if replicas is not None and not isinstance(replicas, ReadReplicas):
        raise TypeError(
            "transactional_session(replicas=...) expects ReadReplicas([replica_maker, ...]); "
            f"got {replicas!r}."
        )
    name = f"transactional_session({_describe_maker(sessionmaker)})"
    rule = _Rule(
        checked_commit_on,
        read_only=read_only,
        explicit_commits=checked_explicit_commits,
        name=name,
        retries=checked_retries,
        replicas=replicas,
    )
    open_context = _context_for(sessionmaker, rule)
    if replicas is not None:
        replicas.attach(sessionmaker)
        if not isinstance(sessionmaker, async_sessionmaker):
            # Each replica's sessionmaker makes its sessions from a class of its own.
            for replica_maker in replicas.sessionmakers:
                _listen(replica_maker.class_)

    async def transactional_session_dependency(request: Request) -> Any:
        """Provide a session in a transaction that ends before the response is sent."""
        try:
            stack = response_stack(request)
        except ResponseScopeError as error:
            raise ResponseScopeError(f"Cannot open the session of {name}: {error}") from None
        return await stack.enter_async_context(open_context(request))

    # What the audit and error messages call it: what the maker makes, and where.
    transactional_session_dependency.__name__ = name
    transactional_session_dependency.__qualname__ = name

    # How mintaka-routes --audit and the Router's registration check, which must not import
    # mintaka.depends, recognise a response-scoped dependency (as for the wrapper's).
    marked: Any = transactional_session_dependency
    marked.__mintaka_response_scoped__ = True
    # What it provides, for them and for readers of the signature: the maker's session class.
    marked.__annotations__["return"] = sessionmaker.class_
    # Where the test kit (mintaka.depends.testing) finds the maker to bind to a test's
    # outer transaction.
    marked.__mintaka_sessionmaker__ = sessionmaker
    # FastAPI passes the request; to its users the dependency takes no arguments.
    return cast("SessionDependency[Any]", transactional_session_dependency)
