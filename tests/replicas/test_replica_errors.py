"""ReadReplicas and transactional_session(replicas=...) refuse what cannot work, naming the fix.

Creating an engine connects to nothing, so these need no server.
"""

from typing import Any

import pytest
from sqlalchemy import create_engine
from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine
from sqlalchemy.orm import sessionmaker

from mintaka.depends.sqlalchemy import ReadReplicas, transactional_session

PRIMARY = "postgresql+asyncpg://postgres@127.0.0.1:1/app"
REPLICA = "postgresql+asyncpg://postgres@127.0.0.1:2/app"
untyped: Any = ReadReplicas
"""For the arguments a type checker would refuse, which these tests pass on purpose."""


def async_maker(url: str = REPLICA) -> async_sessionmaker[Any]:
    return async_sessionmaker(create_async_engine(url))


def sync_maker(url: str = REPLICA) -> sessionmaker[Any]:
    return sessionmaker(create_engine(url.replace("+asyncpg", "+psycopg")))


@pytest.mark.parametrize(
    ("make", "error", "says"),
    [
        (lambda: ReadReplicas([]), ValueError, "at least one replica"),
        (lambda: untyped(async_maker()), TypeError, "a list of the replicas"),
        (lambda: untyped([async_maker(), sync_maker()]), TypeError, "of one kind"),
        (lambda: untyped([create_async_engine(REPLICA)]), TypeError, "async_sessionmaker"),
        (lambda: ReadReplicas([async_sessionmaker()]), TypeError, "bound to an engine"),
        (
            lambda: ReadReplicas([async_maker("sqlite+aiosqlite:///replica.db")]),
            ValueError,
            "supports PostgreSQL only",
        ),
        (lambda: ReadReplicas([async_maker()], max_wait=-0.1), ValueError, "0 or more"),
        (lambda: untyped([async_maker()], max_wait="1"), TypeError, "seconds"),
        (lambda: ReadReplicas([async_maker()], retry_after=0), ValueError, "more than 0"),
        (lambda: ReadReplicas([async_maker()], cookie=""), TypeError, "non-empty name"),
        (
            lambda: ReadReplicas([async_maker()], cookie=None, header=None),
            ValueError,
            "keep one of them",
        ),
    ],
)
def test_bad_replicas_fail_at_creation(make: Any, error: type[Exception], says: str) -> None:
    with pytest.raises(error, match=says):
        make()


def test_replicas_of_the_other_kind_than_the_primary_fail_at_creation() -> None:
    with pytest.raises(TypeError, match="Make them of one kind"):
        transactional_session(sync_maker(PRIMARY), replicas=ReadReplicas([async_maker()]))


def test_a_primary_that_is_not_postgresql_fails_at_creation() -> None:
    replicas = ReadReplicas([async_maker()])
    with pytest.raises(ValueError, match=r"supports PostgreSQL only.*sqlite"):
        transactional_session(async_maker("sqlite+aiosqlite:///app.db"), replicas=replicas)


def test_one_replicas_object_serves_one_primary() -> None:
    replicas = ReadReplicas([async_maker()])
    transactional_session(async_maker(PRIMARY), replicas=replicas)
    with pytest.raises(ValueError, match="one ReadReplicas per primary"):
        transactional_session(async_maker(PRIMARY), replicas=replicas)


def test_replicas_must_be_read_replicas() -> None:
    with pytest.raises(TypeError, match=r"expects ReadReplicas\(\[replica_maker"):
        transactional_session(async_maker(PRIMARY), replicas=untyped([async_maker()]).sessionmakers)
