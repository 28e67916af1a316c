"""Sessions bound to a test's outer transaction, and `on_commit` callbacks captured by a test.

Both are switched on only by the test kit (`mintaka.depends.testing`). Outside it, `BOUND`
is empty and `capturing` is `None`: a request's session checks one empty dict, its
callbacks one global.

A bound session is made on the outer transaction's connection with
`join_transaction_mode="create_savepoint"`: its begin is a SAVEPOINT, its commit a RELEASE,
its rollback a ROLLBACK TO SAVEPOINT, and the test's rollback at the end undoes it all.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any, Final

from sqlalchemy import event

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from sqlalchemy.engine import Connection
    from sqlalchemy.ext.asyncio import AsyncConnection
    from sqlalchemy.orm import Session, SessionTransaction
    from starlette.requests import Request

__all__ = ["BOUND", "RECORD_KEY", "Binding", "bound_options", "capturing", "opened_bound"]

RECORD_KEY: Final = "mintaka.depends.testing.events"
"""The ASGI scope key of the list a test client records a request's events in."""

_QUERY_ONLY: Final = "mintaka.depends.query_only"  # as in _session: set by read-only sessions


class Binding:
    """One outer transaction's connection, and the event loop an async one lives on."""

    __slots__ = ("connection", "loop", "sync_connection")

    def __init__(
        self,
        connection: Connection | AsyncConnection,
        sync_connection: Connection,
        loop: asyncio.AbstractEventLoop | None,
    ) -> None:
        self.connection = connection
        self.sync_connection = sync_connection
        self.loop = loop


BOUND: dict[object, Binding] = {}
"""Each bound sessionmaker, and the outer transaction its sessions join."""

capturing: Callable[[Sequence[Any], str, str], None] | None = None
"""While a test captures `on_commit` callbacks: receives those due, instead of running them."""


def bound_options(maker: object, request: Request) -> dict[str, Any]:
    """The options that make `maker`'s session join the test's outer transaction."""
    binding = BOUND.get(maker)
    if binding is None:
        return {}
    if binding.loop is not None:
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # pragma: no cover - an async session always runs in a loop
            loop = None
        if loop is not binding.loop:
            raise RuntimeError(
                "mintaka.depends.testing: the app handles "
                f"{request.method} {request.url.path} on another event loop than the one the "
                "test's outer transaction lives on, and an async connection cannot be shared "
                "between loops. Send the request with the mintaka_client fixture, or with a "
                "TestClient whose `portal` is mintaka_database.portal."
            )
    return {"bind": binding.connection, "join_transaction_mode": "create_savepoint"}


def opened_bound(maker: object, session: Session, request: Request) -> None:
    """Record what the bound `session` does, and undo a read-only session's restriction."""
    binding = BOUND.get(maker)
    if binding is None:
        return
    events: list[str] | None = request.scope.get(RECORD_KEY)

    def committed(session: Session) -> None:
        if events is not None and not session.in_nested_transaction():
            events.append("commit")

    def rolled_back(session: Session, previous: SessionTransaction) -> None:
        if events is not None and previous.parent is None:
            events.append("rollback")

    def ended(session: Session, transaction: SessionTransaction) -> None:
        # A read-only session on SQLite switched the connection to query_only; in
        # production the pool undoes it at checkin, but the outer connection stays out.
        if transaction.parent is None and binding.sync_connection.info.pop(_QUERY_ONLY, False):
            binding.sync_connection.exec_driver_sql("PRAGMA query_only = OFF")

    event.listen(session, "after_commit", committed)
    event.listen(session, "after_soft_rollback", rolled_back)
    event.listen(session, "after_transaction_end", ended)
