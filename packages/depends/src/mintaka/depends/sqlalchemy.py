"""A transactional SQLAlchemy `AsyncSession` that commits before the response is sent.

Needs the `[sqlalchemy]` extra: `pip install 'mintaka-depends[sqlalchemy]'`.

The rule, in one line: **any exception that reaches the dependency rolls the transaction
back; a response the endpoint returns normally commits, whatever its status code.**

* The endpoint, a sub-dependency that runs after the session was handed out, response
  validation or serialization raises — including `HTTPException` — the transaction
  rolls back, the session closes, and the error response is sent.
* The endpoint returns (a model, a dict, or any `Response`, a `JSONResponse(status_code=409)`
  too) — the transaction commits before the response is sent. If the commit fails, the
  client gets the error response (a 500 unless an exception handler says otherwise), never
  the original success.
* Either way the session is closed exactly once, before the response is sent.

To answer with an error status *and* discard the changes, raise `HTTPException` (or your
own exception with a handler) instead of returning the error response.
"""

from __future__ import annotations

try:
    import sqlalchemy.ext.asyncio  # noqa: F401 - fail here, with the fix, if it is missing
except ImportError as error:  # pragma: no cover - exercised with SQLAlchemy hidden
    raise ImportError(
        "mintaka.depends.sqlalchemy needs SQLAlchemy 2 with asyncio support, which is not "
        "installed. Install it with: pip install 'mintaka-depends[sqlalchemy]'"
    ) from error

from mintaka.depends._session import SessionDependency, transactional_session

__all__ = ["SessionDependency", "transactional_session"]
