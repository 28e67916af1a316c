"""The table that holds idempotency keys and their stored responses (SQLAlchemy Core)."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Final

from sqlalchemy import Column, Float, Integer, LargeBinary, MetaData, String, Table, Text, delete

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection

__all__ = ["MAX_KEY_LENGTH", "IdempotencyKeys"]

MAX_KEY_LENGTH: Final = 255
"""The longest key accepted (and the width of the `key` column)."""


class IdempotencyKeys:
    """The table that holds idempotency keys and their responses, in the app's database.

    Columns: `scope` and `key` (the primary key), `fingerprint` (sha256 of the request),
    `status`, `headers` (JSON), `body`, `created_at` and `expires_at` (seconds since the
    epoch). Create it with [`create`][mintaka.depends.sqlalchemy.IdempotencyKeys.create]
    or include [`table`][mintaka.depends.sqlalchemy.IdempotencyKeys.table]'s metadata in
    your migrations (Alembic: pass `metadata` of your own and autogenerate).

    Example:
        ```python
        keys = IdempotencyKeys()
        async with engine.begin() as connection:
            await connection.run_sync(keys.create)
        ```

    Args:
        metadata: The `MetaData` to define the table in; a new one by default.
        name: The table's name.
        schema: The table's schema, if any.
    """

    def __init__(
        self,
        metadata: MetaData | None = None,
        *,
        name: str = "mintaka_idempotency_keys",
        schema: str | None = None,
    ) -> None:
        self.table: Table = Table(
            name,
            metadata if metadata is not None else MetaData(),
            Column("scope", String(255), primary_key=True),
            Column("key", String(MAX_KEY_LENGTH), primary_key=True),
            Column("fingerprint", String(64), nullable=False),
            Column("status", Integer, nullable=False),
            Column("headers", Text, nullable=False),
            Column("body", LargeBinary, nullable=False),
            Column("created_at", Float, nullable=False),
            Column("expires_at", Float, nullable=False),
            schema=schema,
        )
        """The SQLAlchemy Core `Table`."""

    def create(self, connection: Connection) -> None:
        """Create the table (and its index) unless it exists.

        Args:
            connection: A sync `Connection`; with an async engine,
                `await connection.run_sync(keys.create)`.
        """
        self.table.create(connection, checkfirst=True)

    def purge(self, connection: Connection, *, now: float | None = None) -> int:
        """Delete the keys that have expired; return how many were deleted.

        Expired keys are treated as absent already; purging only frees the space. Run it
        from a scheduled job: `await connection.run_sync(keys.purge)` in an async app.

        Args:
            connection: A sync `Connection` in a transaction (`engine.begin()`).
            now: The time to compare `expires_at` with, in seconds since the epoch;
                `time.time()` by default.
        """
        moment = time.time() if now is None else now
        result = connection.execute(delete(self.table).where(self.table.c.expires_at <= moment))
        return int(result.rowcount)
