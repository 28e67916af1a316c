"""Idempotency keys claimed and stored in the request's own transaction.

A route that depends on `idempotent_requests(get_session)` reads the `Idempotency-Key`
header. The first request with a key runs the endpoint; the key, the request's fingerprint
and the response are inserted through the request's transactional session just before it
commits, so they are durable together with the endpoint's write, or not at all. A later
request with the key gets the stored response without running the endpoint.

While a request with a key is in flight, another with the same key gets 409: on
PostgreSQL a transaction-scoped advisory lock (`pg_try_advisory_xact_lock`) is the claim,
seen by every worker and released by the commit or the rollback; on every database a
process-local registry is too (on SQLite it is the only one: a second worker process
waits for the write lock, then replays).
"""

from __future__ import annotations

import hashlib
import json
import time
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import TYPE_CHECKING, Any, Final

from fastapi import Depends, Request
from sqlalchemy import Table, and_, bindparam, delete, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.exceptions import HTTPException
from starlette.responses import Response

from mintaka.core import HandleAgain, request_attempt, response_stack, response_status
from mintaka.core._again import RespondEarly
from mintaka.core._scope import describe_request, response_object
from mintaka.depends._contexts import run_in_own_thread
from mintaka.depends._idempotency_table import MAX_KEY_LENGTH, IdempotencyKeys
from mintaka.depends._session import _Transaction, transaction_of

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Callable, Coroutine, Sequence

    from sqlalchemy.orm import Session

__all__ = ["REPLAYED_HEADER", "idempotent_requests"]

REPLAYED_HEADER: Final = "Idempotent-Replayed"
"""The header (value `true`) of a response replayed from a stored idempotency key."""

_STORED_HEADERS: Final = ("content-type", "location", "etag")
_IN_FLIGHT: set[tuple[int, str, str]] = set()
"""(store, scope, key) of the requests of this process whose key is claimed."""


class _Stored:
    __slots__ = ("body", "fingerprint", "headers", "status")

    def __init__(self, fingerprint: str, status: int, headers: str, body: bytes) -> None:
        self.fingerprint = fingerprint
        self.status = status
        self.headers = headers
        self.body = body

    def response(self) -> Response:
        headers: dict[str, str] = json.loads(self.headers)
        headers[REPLAYED_HEADER] = "true"
        return Response(content=self.body, status_code=self.status, headers=headers)


def _parse_key(raw: str, header: str) -> str:
    """The key of a header value: a Structured Field string (`"..."`) or a bare token."""
    value = raw.strip()
    if len(value) >= 2 and value[0] == value[-1] == '"':  # noqa: PLR2004 - two quotes
        value = value[1:-1]
        if "\\" in value or '"' in value:
            raise HTTPException(400, f"The {header} header must be a string without escapes.")
    if not value:
        raise HTTPException(400, f"The {header} header is empty: send a unique key.")
    if len(value) > MAX_KEY_LENGTH:
        raise HTTPException(400, f"The {header} header is longer than {MAX_KEY_LENGTH} characters.")
    if not all(" " < ch <= "~" for ch in value):
        raise HTTPException(
            400, f"The {header} header may hold only visible ASCII characters, no spaces."
        )
    return value


def _fingerprint(request: Request, body: bytes) -> str:
    digest = hashlib.sha256()
    scope = request.scope
    for part in (request.method.encode(), scope["path"].encode(), scope["query_string"]):
        digest.update(len(part).to_bytes(8, "big"))
        digest.update(part)
    digest.update(body)
    return digest.hexdigest()


def _lock_id(scope: str, key: str) -> int:
    digest = hashlib.sha256(f"{len(scope)}:{scope}:{key}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


class _Statements:
    """The claim's statements, built once per table, their values sent as parameters.

    Built per request, each statement cost SQLAlchemy a new cache key (a walk of the whole
    statement) on every request; built once, the key and the compiled form are reused.
    """

    def __init__(self, table: Table) -> None:
        self.table = table
        where = and_(table.c.scope == bindparam("scope"), table.c.key == bindparam("key"))
        columns = (
            table.c.fingerprint,
            table.c.status,
            table.c.headers,
            table.c.body,
            table.c.expires_at,
        )
        self.look_up = select(*columns).where(where)
        # PostgreSQL: the advisory lock and the look-up in one statement (one round trip).
        lock = func.pg_try_advisory_xact_lock(bindparam("lock")).label("locked")
        claim = select(lock).subquery()
        self.lock_and_look_up = select(claim.c.locked, *columns).select_from(
            claim.outerjoin(table, where)
        )
        self.delete = delete(table).where(where)
        self.insert = table.insert()


class _Claim:
    """One request's claim on a key: looked up first, stored just before the commit."""

    def __init__(
        self,
        statements: _Statements,
        *,
        scope: str,
        key: str,
        fingerprint: str,
        expires_after: float,
        stored_headers: Sequence[str],
    ) -> None:
        self.statements = statements
        self.scope = scope
        self.key = key
        self.fingerprint = fingerprint
        self.expires_after = expires_after
        self.stored_headers = stored_headers

    def lookup(self, session: Session) -> tuple[bool, _Stored | None]:
        """(whether the key is free to claim, its stored response if one is).

        On PostgreSQL the advisory lock and the look-up are one statement: one round trip.
        Its snapshot can predate the lock, so a key committed in between is missed here;
        the insert before the commit then meets it, and the request is handled again.
        """
        connection = session.connection()
        statements = self.statements
        where = {"scope": self.scope, "key": self.key}
        row: Any
        if connection.dialect.name == "postgresql":
            found = connection.execute(
                statements.lock_and_look_up, {**where, "lock": _lock_id(self.scope, self.key)}
            ).first()
            if found is None or not found.locked:
                return False, None
            row = found if found.fingerprint is not None else None
        else:
            row = connection.execute(statements.look_up, where).first()
        if row is None:
            return True, None
        if row.expires_at <= time.time():
            connection.execute(statements.delete, where)
            return True, None
        return True, _Stored(row.fingerprint, row.status, row.headers, row.body)

    def store(self, session: Session, response: Response) -> None:
        headers = {
            name: response.headers[name] for name in self.stored_headers if name in response.headers
        }
        now = time.time()
        session.connection().execute(
            self.statements.insert,
            {
                "scope": self.scope,
                "key": self.key,
                "fingerprint": self.fingerprint,
                "status": response.status_code,
                "headers": json.dumps(headers),
                "body": bytes(response.body),
                "created_at": now,
                "expires_at": now + self.expires_after,
            },
        )


@asynccontextmanager
async def _stored_before_commit(
    claim: _Claim, session: AsyncSession | Session, context: _Transaction, request: Request
) -> AsyncIterator[None]:
    """Store the response just before the session commits (entered after the session).

    Its exit runs before the session's: when the transaction is about to commit, it
    inserts the key and the response; an error from the endpoint skips it.
    """
    yield
    if response_status(request) is None or not context.will_commit(request):
        return
    response = response_object(request)
    if not isinstance(response, Response) or not hasattr(response, "body"):
        raise TypeError(
            f"{describe_request(request.scope)} is idempotent, but its response "
            f"({type(response).__qualname__}) has no body in memory to store: return "
            "a plain Response or data, not a StreamingResponse or FileResponse."
        )
    try:
        await _on_sync(session, lambda s: claim.store(s, response))
    except IntegrityError:
        # Another request stored the key between our look-up and now (a look-up
        # snapshot older than the lock, or a second process on SQLite): handle this
        # one again, so that it replays that response, or answer 409.
        if request_attempt(request) == 1:
            raise HandleAgain("idempotency key stored meanwhile") from None
        raise _in_flight(claim.key) from None


async def _on_sync(session: AsyncSession | Session, work: Callable[[Session], Any]) -> Any:
    if isinstance(session, AsyncSession):
        return await session.run_sync(work)
    return await run_in_own_thread(work, session)


def _in_flight(key: str) -> HTTPException:
    return HTTPException(
        409,
        f"A request with the idempotency key {key!r} is still being processed; "
        "retry once it has finished.",
    )


def idempotent_requests(
    session_dependency: Callable[[], Coroutine[Any, Any, Any]],
    keys: IdempotencyKeys,
    *,
    header: str = "Idempotency-Key",
    required: bool = False,
    scope: Callable[[Request], str] | None = None,
    expires_after: timedelta = timedelta(hours=24),
    stored_headers: Sequence[str] = _STORED_HEADERS,
    max_body: int = 1_048_576,
) -> Callable[..., Coroutine[Any, Any, None]]:
    """Make a route dependency that makes POSTs with an `Idempotency-Key` safe to resend.

    Put it on a route (or a router) of a response-scoped route class, next to the
    transactional session it shares: `dependencies=[Depends(idempotency)]`.

    * The first request with a key runs the endpoint. If its transaction commits, the
      key, the request's fingerprint (sha256 of method, path, query and body) and the
      response (status, body, the `stored_headers`) are inserted **in that same
      transaction**: both are durable, or neither is. A failed commit or a status that
      rolls back stores nothing, so the client's retry runs the endpoint again.
    * A later request with the key and the same fingerprint gets the stored response
      without running the endpoint, with the header `Idempotent-Replayed: true`.
    * The key with another fingerprint: 422. While the first request with the key is in
      flight: 409. No key on a route with `required=True`: 400. A malformed or
      over-long key (more than 255 characters): 400. A body over `max_body`: 413.
    * Keys are scoped by `scope(request)` (for example the authenticated subject), so two
      users' keys never collide; expired keys (`expires_after`) count as absent, and
      `keys.purge` deletes them.

    The key lives in the request's one transaction, so on a request with a key the
    endpoint may not call `commit()` itself: that raises `InvalidRequestError`, naming the
    route (a 500). Needs a route adapter (`mintaka.router.Router` or
    `ResponseScopedRoute`), which holds the serialized body before the commit; behind the
    ASGI middleware it cannot store it.

    Example:
        ```python
        from fastapi import Depends
        from mintaka.depends.sqlalchemy import (
            IdempotencyKeys,
            idempotent_requests,
            transactional_session,
        )

        get_session = transactional_session(async_sessionmaker(engine))
        keys = IdempotencyKeys()  # create it once: await conn.run_sync(keys.create)
        idempotency = idempotent_requests(get_session, keys, required=True)

        @router.post("/orders", status_code=201, dependencies=[Depends(idempotency)])
        async def place_order(order: OrderIn, session: Session) -> OrderOut: ...
        ```

    Args:
        session_dependency: The `transactional_session(...)` dependency the endpoint uses.
        keys: The table the keys live in.
        header: The request header that carries the key.
        required: Answer 400 to a request without the header.
        scope: Maps a request to the scope its keys live in; one scope by default.
        expires_after: How long a stored key replays.
        stored_headers: The response headers stored and replayed, besides status and body.
        max_body: The largest request body fingerprinted, in bytes.

    Returns:
        An `async def` dependency, for `Depends()`.

    Raises:
        TypeError: `session_dependency` is not a `transactional_session` dependency.
    """
    if getattr(session_dependency, "__mintaka_sessionmaker__", None) is None:
        raise TypeError(
            "idempotent_requests() expects the dependency transactional_session() made, "
            f"so that the key is stored in the endpoint's transaction; got {session_dependency!r}."
        )
    lifetime = expires_after.total_seconds()
    kept_headers = tuple(name.lower() for name in stored_headers)
    store_id = id(keys)
    statements = _Statements(keys.table)

    async def idempotency_key(
        request: Request,
        session: Any = Depends(session_dependency),  # noqa: B008
    ) -> None:
        raw = request.headers.get(header)
        if raw is None:
            if required:
                raise HTTPException(400, f"This route needs an {header} header.")
            return
        key = _parse_key(raw, header)
        length = request.headers.get("content-length")
        if length is not None and length.isdigit() and int(length) > max_body:
            raise HTTPException(413, f"The request body is over {max_body} bytes.")
        body = await request.body()
        if len(body) > max_body:
            raise HTTPException(413, f"The request body is over {max_body} bytes.")
        subject = scope(request) if scope is not None else ""
        claim = _Claim(
            statements,
            scope=subject,
            key=key,
            fingerprint=_fingerprint(request, body),
            expires_after=lifetime,
            stored_headers=kept_headers,
        )
        sync_session = session.sync_session if isinstance(session, AsyncSession) else session
        context = transaction_of(sync_session)
        if not isinstance(context, _Transaction):
            raise TypeError("idempotent_requests(): the session has no open transaction")
        # A commit by the endpoint would make its write durable before the key is stored,
        # in a transaction of its own: a failed final commit would leave the write without
        # its key, and the client's resend would run the endpoint again.
        context.refuse_explicit_commits(
            "the route is idempotent (idempotent_requests): its key is stored in the "
            "request's one transaction, with the endpoint's writes"
        )
        registered = (store_id, subject, key)
        if registered in _IN_FLIGHT:
            raise _in_flight(key)
        # Claimed before the first await, released once the session's transaction has
        # ended, whatever the outcome (a retried attempt claims it afresh).
        _IN_FLIGHT.add(registered)
        context.when_ended(lambda: _IN_FLIGHT.discard(registered))
        free, stored = await _on_sync(session, claim.lookup)
        if not free:
            raise _in_flight(key)
        if stored is not None:
            if stored.fingerprint != claim.fingerprint:
                raise HTTPException(
                    422,
                    f"The idempotency key {key!r} was used for a different request "
                    "(method, path or body); use a new key for a new request.",
                )
            raise RespondEarly(stored.response())
        await response_stack(request).enter_async_context(
            _stored_before_commit(claim, session, context, request)
        )

    return idempotency_key
