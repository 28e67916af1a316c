"""`on_commit`: run a callback once the request's transaction has committed."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast

from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from mintaka.core import ResponseScopeError
from mintaka.core._callables import callable_name
from mintaka.depends._effects import CommitWhen, Effects
from mintaka.depends._session import _Ended, transaction_of

if TYPE_CHECKING:
    from collections.abc import Callable

__all__ = ["on_commit"]


def on_commit(
    session: AsyncSession | Session,
    callback: Callable[..., Any],
    /,
    *args: Any,
    when: CommitWhen = "after_response",
    **kwargs: Any,
) -> None:
    """Run `callback(*args, **kwargs)` only once the session's transaction has committed.

    For the effects that must follow a durable write and only a durable write: send the
    e-mail, enqueue the job, invalidate the cache, publish the event.

    * The callback waits on the transaction in progress (or the one the session begins
      next). It runs **only if that transaction commits** — by the transactional session
      before the response, or by the endpoint's own `commit()` — and is dropped when it
      rolls back for any reason: an exception, a status that does not pass `commit_on`, a
      commit the database refused, a read-only session. Registered inside a savepoint
      (`begin_nested()`) that rolls back, it is dropped; inside one that is released, it
      is kept.
    * By default it runs **after the response has been sent**, so the client does not
      wait for it (when the request raised instead, as the exception leaves the route).
      With `when="before_response"` it runs right after the commit and before the
      response starts: for an effect the client must be able to observe.
    * Callbacks run in the order they were registered, each once. A plain function runs
      in a worker thread, never on the event loop; a coroutine function is awaited. A
      client that disconnects does not cancel them.
    * One that raises is logged on the `mintaka.depends` logger, naming the request and
      the callback; the others still run, and **the response is never changed**: the write
      is durable, so an error response would be the lie.

    Example:
        ```python
        from mintaka.depends.sqlalchemy import on_commit

        @router.post("/users", status_code=201)
        async def create_user(user: UserIn, session: Session) -> UserOut:
            row = User(email=user.email)
            session.add(row)
            await session.flush()
            on_commit(session, send_welcome_mail, row.email)  # only if the user is saved
            return UserOut.model_validate(row)
        ```

    Args:
        session: A session that a `transactional_session` dependency provided.
        callback: A function or coroutine function.
        *args: Positional arguments for `callback`.
        when: `"after_response"` (the default) or `"before_response"`.
        **kwargs: Keyword arguments for `callback`.

    Raises:
        TypeError: `session` did not come from `transactional_session`, or `callback` is
            not callable.
        ResponseScopeError: The session's request is over (its response scope has
            exited): the callback could never run.
        ValueError: `when` is neither `"after_response"` nor `"before_response"`.
    """
    checked_when = Effects.check_when(when)
    if not callable(callback):
        raise TypeError(f"on_commit() expects a function or coroutine function, got {callback!r}.")
    sync_session: object = session.sync_session if isinstance(session, AsyncSession) else session
    context = transaction_of(sync_session) if isinstance(sync_session, Session) else None
    if context is None:
        raise TypeError(
            f"on_commit() needs a session that a transactional_session() dependency "
            f"provided; got {session!r} ({type(session).__qualname__}). Take the session "
            "from Depends(get_session), where get_session = transactional_session(maker), "
            "so that mintaka knows when its transaction commits."
        )
    if isinstance(context, _Ended):
        raise ResponseScopeError(
            f"on_commit({callable_name(callback)}) on the session of {context.request}: the "
            "request's transaction has already ended and its response scope has exited, so "
            "the callback could never run. Register it in the endpoint (or a dependency), "
            "before the response."
        )
    context.effects.add(
        callback,
        args,
        kwargs,
        when=checked_when,
        savepoint=cast("Session", sync_session).get_nested_transaction(),
    )
