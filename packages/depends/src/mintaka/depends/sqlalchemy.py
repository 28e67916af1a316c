"""A transactional SQLAlchemy session that commits or rolls back before the response is sent.

Needs the `[sqlalchemy]` extra: from a checkout,
`pip install "./packages/core[fastapi]" "./packages/depends[sqlalchemy]"`; once released,
`pip install 'mintaka-depends[sqlalchemy]'`.

The rule, in one line: **the transaction commits when the endpoint returned normally and
the response status is below 400 (or passes `commit_on`); any other outcome rolls it back.**

* The endpoint returns a response with status 2xx or 3xx — the transaction commits before
  the response is sent. If the commit fails, the client gets the error response (a 500
  unless an exception handler says otherwise), never the original success.
* The endpoint returns a 4xx or 5xx response (`JSONResponse(status_code=409)`, a status set
  on an injected `Response`) — the transaction rolls back.
* The endpoint, a sub-dependency that runs after the session was handed out, response
  validation or serialization raises — `HTTPException` included — the transaction rolls
  back.
* Either way the session is closed exactly once, before the response is sent.

The endpoint may call `session.commit()` itself: that commit is durable at once, and the
session goes on in a new transaction settled by the same rule. A response that reports a
failure after such a commit carries the header `Mintaka-Partial-Commit`;
`explicit_commits="forbid"` makes `commit()` raise instead.

`transactional_session(sessionmaker, commit_on=lambda status: status < 300)` commits on
2xx only; `read_only=True` never commits and has the database refuse writes. Both an
`async_sessionmaker` (an `AsyncSession`) and a `sessionmaker` (a `Session`, SQLModel's
too) are accepted.
"""

from __future__ import annotations

try:
    import sqlalchemy.ext.asyncio  # noqa: F401 - fail here, with the fix, if it is missing
except ImportError as error:  # pragma: no cover - exercised with SQLAlchemy hidden
    raise ImportError(
        "mintaka.depends.sqlalchemy needs SQLAlchemy 2 with asyncio support, which is not "
        "installed. Install it with: pip install 'mintaka-depends[sqlalchemy]'"
    ) from error

from mintaka.depends._effects import CommitWhen
from mintaka.depends._idempotency import REPLAYED_HEADER, idempotent_requests
from mintaka.depends._idempotency_table import IdempotencyKeys
from mintaka.depends._on_commit import on_commit
from mintaka.depends._replicas import ReadReplicas
from mintaka.depends._session import (
    PARTIAL_COMMIT_HEADER,
    CommitRule,
    ExplicitCommits,
    SessionDependency,
    transactional_session,
)

__all__ = [
    "PARTIAL_COMMIT_HEADER",
    "REPLAYED_HEADER",
    "CommitRule",
    "CommitWhen",
    "ExplicitCommits",
    "IdempotencyKeys",
    "ReadReplicas",
    "SessionDependency",
    "idempotent_requests",
    "on_commit",
    "transactional_session",
]
