"""Read replicas that still show every client its own writes.

`ReadReplicas` holds a primary's PostgreSQL streaming replicas and what this process knows
of them: how far each has replayed the primary's WAL, and which are down. A transactional
session made with `replicas=` hands a client, with the response of each request that
wrote, the WAL position of that commit; a read-only one sends a later request of that
client to a replica that has replayed at least that position.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Final

from sqlalchemy.engine import Engine
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from sqlalchemy.orm import Session, sessionmaker

from mintaka.core._scope import describe_request
from mintaka.depends._contexts import run_in_own_thread
from mintaka.depends._wal_position import format_position, request_position, send_position

if TYPE_CHECKING:
    from collections.abc import Sequence

    from starlette.requests import Request

__all__ = ["ReadReplicas"]

_logger = logging.getLogger("mintaka.depends")

_REPLAY_POSITION: Final = "SELECT pg_last_wal_replay_lsn() - '0/0'::pg_lsn"
_PRIMARY_POSITION: Final = (
    "SELECT lsn - '0/0'::pg_lsn - CASE WHEN (pg_walfile_name_offset(lsn)).file_offset = 40 "
    "THEN 40 WHEN mod(lsn - '0/0'::pg_lsn, current_setting('wal_block_size')::int) = 24 "
    "THEN 24 ELSE 0 END FROM pg_current_wal_insert_lsn() AS lsn"
)
"""Where the primary's WAL ends, once a commit is in it: the insert position, less a page
header the insert position already counts when the last record ended at a page's end (a
replica that replayed that record reports the page's end, and would never reach it)."""
_HIGHEST_POSITION: Final = 0xFFFFFFFF_FFFFFFFF
_POLL_INTERVAL: Final = 0.01
"""How long a read that waits for a replica sleeps between two looks at its position."""

_Maker = async_sessionmaker[Any] | sessionmaker[Any]


class _NotAStandbyError(RuntimeError):
    """The server behind a replica's sessionmaker is not replaying a primary's WAL."""


class _Replica:
    """One replica, and the last replay position this process saw it report."""

    __slots__ = ("down_until", "maker", "name", "position")

    def __init__(self, maker: _Maker, name: str) -> None:
        self.maker = maker
        self.name = name
        # A replay position only moves forward: the last one seen is never ahead of the truth.
        self.position = 0
        self.down_until = 0.0

    def reached(self, position: int) -> None:
        self.position = max(self.position, position)

    def failed(self, error: BaseException, retry_after: float, request: Request) -> None:
        self.down_until = time.monotonic() + retry_after
        _logger.warning(
            "%s: read replica %s is unavailable (%s: %s); its reads go to another replica or "
            "to the primary, and it is tried again in %.1f s.",
            describe_request(request.scope),
            self.name,
            type(error).__name__,
            str(error).splitlines()[0] if str(error) else "",
            retry_after,
        )


def _bind_of(maker: object, role: str) -> Engine | AsyncEngine:
    settings = getattr(maker, "kw", None)
    bind = settings.get("bind") if isinstance(settings, dict) else None
    if not isinstance(bind, (Engine, AsyncEngine)):
        raise TypeError(
            f"ReadReplicas needs the {role}'s sessionmaker bound to an engine, as "
            f"async_sessionmaker(create_async_engine(url)) or sessionmaker(create_engine(url)); "
            f"{maker!r} has bind={bind!r}."
        )
    if bind.dialect.name != "postgresql":
        raise ValueError(
            "ReadReplicas supports PostgreSQL only: a primary and its streaming replicas (hot "
            f"standbys), whose replay positions tell which has a client's writes; the {role} "
            f"{bind.url.render_as_string(hide_password=True)} is {bind.dialect.name}. Use "
            "transactional_session() without replicas= for this database."
        )
    return bind


def _is_async(maker: object) -> bool:
    if isinstance(maker, async_sessionmaker) and issubclass(maker.class_, AsyncSession):
        return True
    if isinstance(maker, sessionmaker) and not issubclass(maker.class_, AsyncSession):
        return False
    raise TypeError(
        "ReadReplicas expects sessionmakers of the replicas: async_sessionmaker(engine) for "
        f"AsyncSession, or sessionmaker(engine) for Session; got {maker!r} "
        f"({type(maker).__qualname__})."
    )


def _number(value: object, name: str, *, zero: bool) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"ReadReplicas({name}=...) expects seconds as a number; got {value!r}.")
    if value < 0 or (value == 0 and not zero):
        floor = "0 or more" if zero else "more than 0"
        raise ValueError(f"ReadReplicas({name}=...) expects {floor} seconds; got {value!r}.")
    return float(value)


def _name(value: object, what: str) -> str | None:
    if value is None or (isinstance(value, str) and value):
        return value
    raise TypeError(
        f"ReadReplicas({what}=...) expects a non-empty name, or None to turn it off; got {value!r}."
    )


class ReadReplicas:
    """PostgreSQL streaming replicas, for the reads of a primary's transactional sessions.

    Pass the same `ReadReplicas` to the primary's write session and to its read-only
    session:

    * a **write** session, once its transaction committed on the primary, and only when
      the transaction wrote (it flushed, or executed a statement other than a `SELECT`),
      reads the primary's WAL position and hands it to the client with the response: a
      cookie (`HttpOnly`, `SameSite=Lax`, `Secure` when the request came over https) and a
      header, for API clients that keep it themselves;
    * a **read-only** session of a later request takes the client's position (the header
      first, then the cookie) and opens on a replica that has replayed at least that
      position, so the client sees every write it was told of. A request without a
      position goes to any replica that is up, in turn. When no replica has caught up, it
      waits, looking every 10 ms, up to `max_wait`, then reads from the primary.

    Which replica has caught up is asked at session setup, before the endpoint runs, in
    the session's own transaction: `SELECT pg_last_wal_replay_lsn()` takes the place of
    the `SET TRANSACTION READ ONLY` a read-only session sends on the primary (a standby's
    transactions are read-only by themselves), so a replica read costs the round trips of
    a primary read. The position each replica last reported is kept to choose which to
    ask first; a replay position only moves forward, so a kept one is never ahead of the
    truth, and a replica is used only after it reported a covering position itself.

    A replica that refuses connections or fails at setup is skipped — the read goes to
    another replica or to the primary, never to an error — with a warning on the
    `mintaka.depends` logger, and it is asked again `retry_after` seconds later.

    A position that is malformed is ignored. One ahead of every replica and of the
    primary's last known position is checked against the primary's current position
    (one query) and taken as at most that, so a forged position costs its own client at
    most `max_wait` and a read on the primary.

    Replicas must run at READ COMMITTED (PostgreSQL's default): each statement of the
    endpoint then reads a snapshot taken after the position was checked.

    Under the test kit (`mintaka.depends.testing`), which binds the primary's
    sessionmaker to the test's transaction, reads go to the primary, in that transaction.

    Example:
        ```python
        primary = async_sessionmaker(create_async_engine(PRIMARY_URL))
        replicas = ReadReplicas([async_sessionmaker(create_async_engine(REPLICA_URL))])

        get_session = transactional_session(primary, replicas=replicas)
        get_reader = transactional_session(primary, read_only=True, replicas=replicas)
        ```

    Args:
        sessionmakers: One sessionmaker per replica, of the same kind as the primary's
            (`async_sessionmaker` or `sessionmaker`), each bound to a PostgreSQL engine.
        max_wait: How long, in seconds, a read waits for a replica to catch up before it
            reads from the primary; 0.1 by default. 0 never waits.
        cookie: The cookie that carries the client's position; None sends none.
        header: The response header (and request header) that carries it; None sends none.
        retry_after: How long, in seconds, a replica that failed is left out; 5 by default.

    Raises:
        TypeError: `sessionmakers` is not a list of sessionmakers of one kind bound to
            engines, or an option has the wrong type.
        ValueError: The list is empty, a replica is not PostgreSQL, `max_wait` is
            negative, `retry_after` is not positive, or both `cookie` and `header` are None.
    """

    __slots__ = (
        "_cookie",
        "_header",
        "_is_async",
        "_max_wait",
        "_next",
        "_primary",
        "_primary_position",
        "_replicas",
        "_retry_after",
    )

    def __init__(
        self,
        sessionmakers: Sequence[async_sessionmaker[Any]] | Sequence[sessionmaker[Any]],
        *,
        max_wait: float = 0.1,
        cookie: str | None = "mintaka-wal",
        header: str | None = "Mintaka-WAL-Position",
        retry_after: float = 5.0,
    ) -> None:
        given: object = sessionmakers
        if not isinstance(given, (list, tuple)):
            raise TypeError(
                "ReadReplicas expects a list of the replicas' sessionmakers, "
                f"ReadReplicas([replica_maker]); got {sessionmakers!r}."
            )
        if not sessionmakers:
            raise ValueError(
                "ReadReplicas needs at least one replica's sessionmaker; without replicas, "
                "use transactional_session() without replicas=."
            )
        kinds = {_is_async(maker) for maker in sessionmakers}
        if len(kinds) > 1:
            raise TypeError(
                "ReadReplicas expects sessionmakers of one kind: all async_sessionmaker or "
                "all sessionmaker, as the primary's; got both."
            )
        self._is_async = kinds.pop()
        self._replicas = [
            _Replica(maker, _bind_of(maker, "replica").url.render_as_string(hide_password=True))
            for maker in sessionmakers
        ]
        self._max_wait = _number(max_wait, "max_wait", zero=True)
        self._retry_after = _number(retry_after, "retry_after", zero=False)
        self._cookie = _name(cookie, "cookie")
        self._header = _name(header, "header")
        if self._cookie is None and self._header is None:
            raise ValueError(
                "ReadReplicas(cookie=None, header=None) gives the client no way to carry its "
                "position: keep one of them."
            )
        self._next = 0
        self._primary: Engine | AsyncEngine | None = None
        self._primary_position = 0

    def __repr__(self) -> str:
        names = ", ".join(replica.name for replica in self._replicas)
        return f"ReadReplicas([{names}], max_wait={self._max_wait})"

    @property
    def sessionmakers(self) -> list[Any]:
        """The replicas' sessionmakers, in the order given."""
        return [replica.maker for replica in self._replicas]

    def attach(self, primary: object) -> None:
        """Check that the primary's sessionmaker `primary` fits these replicas; keep its engine.

        Raises:
            TypeError: `primary` is of the other kind (async, sync) than the replicas.
            ValueError: `primary` is not on PostgreSQL, or another primary was attached.
        """
        if _is_async(primary) is not self._is_async:
            kind, other = ("async_sessionmaker", "sessionmaker")[:: 1 if self._is_async else -1]
            raise TypeError(
                f"transactional_session(replicas=...): the replicas are {kind}s, the primary "
                f"{primary!r} is a {other}. Make them of one kind."
            )
        engine = _bind_of(primary, "primary")
        if self._primary is None:
            self._primary = engine
        elif self._primary is not engine:
            raise ValueError(
                "transactional_session(replicas=...): these ReadReplicas already serve the "
                f"primary {self._primary.url.render_as_string(hide_password=True)}; make "
                "one ReadReplicas per primary."
            )

    async def open_async(self, request: Request, options: dict[str, Any]) -> AsyncSession | None:
        """A session on a replica that has the client's writes, its transaction begun; or None."""
        return await self._open(request, options, _AsyncProbe())  # type: ignore[no-any-return]

    async def open_sync(self, request: Request, options: dict[str, Any]) -> Session | None:
        """As `open_async`, for a sync `Session`; its blocking work in worker threads."""
        return await self._open(request, options, _SyncProbe())  # type: ignore[no-any-return]

    async def committed_async(self, request: Request) -> None:
        """The request's transaction committed a write: hand the client its position."""
        engine = self._primary
        assert isinstance(engine, AsyncEngine)
        try:
            async with engine.execution_options(isolation_level="AUTOCOMMIT").connect() as db:
                position = int((await db.exec_driver_sql(_PRIMARY_POSITION)).scalar_one())
        except Exception as error:  # the commit stands: never a 500 for it
            self._unknown(request, error)
        else:
            self._sent(request, position)

    def committed_sync(self, request: Request) -> None:
        """As `committed_async`, in the worker thread that committed a sync `Session`."""
        engine = self._primary
        assert isinstance(engine, Engine)
        try:
            position = _sync_primary_position(engine)
        except Exception as error:  # as in committed_async
            self._unknown(request, error)
        else:
            self._sent(request, position)

    def _sent(self, request: Request, position: int) -> None:
        self._primary_position = max(self._primary_position, position)
        send_position(request, position, self._header, self._cookie)

    def _unknown(self, request: Request, error: Exception) -> None:
        # The highest position there is: the client's next read takes it as the primary's
        # position then, which covers this commit.
        _logger.warning(
            "%s: committed, but the primary's WAL position could not be read (%s: %s); the "
            "client's next read waits for a replica to replay all the primary has then.",
            describe_request(request.scope),
            type(error).__name__,
            error,
        )
        send_position(request, _HIGHEST_POSITION, self._header, self._cookie)

    async def _primary_now(self) -> int:
        engine = self._primary
        if isinstance(engine, AsyncEngine):
            async with engine.execution_options(isolation_level="AUTOCOMMIT").connect() as db:
                position = int((await db.exec_driver_sql(_PRIMARY_POSITION)).scalar_one())
        else:
            assert engine is not None
            position = await run_in_own_thread(_sync_primary_position, engine)
        self._primary_position = max(self._primary_position, position)
        return position

    def _order(self, target: int | None) -> list[_Replica]:
        """The replicas that are not left out, the ones known to have `target` first, in turn."""
        now = time.monotonic()
        live = [replica for replica in self._replicas if replica.down_until <= now]
        if not live:
            return live
        start = self._next % len(live)
        self._next += 1
        turn = live[start:] + live[:start]
        if target is None:
            return turn
        covered = [replica for replica in turn if replica.position >= target]
        behind = sorted(
            (replica for replica in turn if replica.position < target),
            key=lambda replica: replica.position,
            reverse=True,
        )
        return covered + behind

    async def _open(self, request: Request, options: dict[str, Any], probe: _Probe) -> Any:
        target = request_position(request, self._header, self._cookie)
        best: tuple[_Replica, Any, int] | None = None
        for replica in self._order(target):
            try:
                session, position = await probe.open(replica.maker, options)
            except Exception as error:
                replica.failed(error, self._retry_after, request)
                continue
            replica.reached(position)
            if target is None or position >= target:
                if best is not None:
                    await probe.discard(best[1])
                return session
            if best is None or position > best[2]:
                if best is not None:
                    await probe.discard(best[1])
                best = (replica, session, position)
            else:
                await probe.discard(session)
        if best is None:
            return None
        assert target is not None
        if target > self._primary_position:
            # Ahead of every replica and of any commit this process saw: a commit of
            # another process, or a forged position. The primary's own is the most to wait for.
            try:
                target = min(target, await self._primary_now())
            except BaseException:
                await probe.discard(best[1])
                raise
        return await self._wait(request, best, target, probe)

    async def _wait(
        self, request: Request, best: tuple[_Replica, Any, int], target: int, probe: _Probe
    ) -> Any:
        replica, session, position = best
        deadline = time.monotonic() + self._max_wait
        while position < target:
            left = deadline - time.monotonic()
            if left <= 0:
                _logger.debug(
                    "%s: no replica replayed %s within %.3f s; reading from the primary.",
                    describe_request(request.scope),
                    format_position(target),
                    self._max_wait,
                )
                await probe.discard(session)
                return None
            await asyncio.sleep(min(_POLL_INTERVAL, left))
            try:
                position = await probe.position(session)
            except Exception as error:
                await probe.discard(session)
                replica.failed(error, self._retry_after, request)
                return None
            replica.reached(position)
        return session


def _session_replay_position(session: Session) -> int:
    return _replay_position(session.connection())


def _replay_position(connection: Any) -> int:
    return _standby_position(connection.exec_driver_sql(_REPLAY_POSITION).scalar_one())


def _standby_position(position: object) -> int:
    if not isinstance(position, (int, Decimal)):
        raise _NotAStandbyError("the server is not a standby (pg_last_wal_replay_lsn() is NULL)")
    return int(position)


def _sync_primary_position(engine: Engine) -> int:
    with engine.execution_options(isolation_level="AUTOCOMMIT").connect() as db:
        return int(db.exec_driver_sql(_PRIMARY_POSITION).scalar_one())


class _Probe:
    """How a replica's session is opened, asked its position, and given up."""

    async def open(self, maker: Any, options: dict[str, Any]) -> tuple[Any, int]:
        raise NotImplementedError

    async def position(self, session: Any) -> int:
        raise NotImplementedError

    async def discard(self, session: Any) -> None:
        raise NotImplementedError


class _AsyncProbe(_Probe):
    async def open(self, maker: Any, options: dict[str, Any]) -> tuple[Any, int]:
        session: AsyncSession = maker(**options)
        try:
            return session, await self.position(session)
        except BaseException:
            await self.discard(session)
            raise

    async def position(self, session: Any) -> int:
        # One hop into SQLAlchemy's greenlet for the BEGIN and the query together, as the
        # primary's SET TRANSACTION READ ONLY rides on the endpoint's first statement.
        return await session.run_sync(_session_replay_position)  # type: ignore[no-any-return]

    async def discard(self, session: Any) -> None:
        # A dead replica's session is gone either way.
        with contextlib.suppress(Exception):
            await session.close()


class _SyncProbe(_Probe):
    async def open(self, maker: Any, options: dict[str, Any]) -> tuple[Any, int]:
        return await run_in_own_thread(self._open, maker, options)

    @staticmethod
    def _open(maker: Any, options: dict[str, Any]) -> tuple[Any, int]:
        session: Session = maker(**options)
        try:
            return session, _replay_position(session.connection())
        except BaseException:
            _SyncProbe._close(session)
            raise

    async def position(self, session: Any) -> int:
        return await run_in_own_thread(lambda: _replay_position(session.connection()))

    async def discard(self, session: Any) -> None:
        await run_in_own_thread(self._close, session)

    @staticmethod
    def _close(session: Session) -> None:
        with contextlib.suppress(Exception):
            session.close()
