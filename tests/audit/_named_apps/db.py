"""The database module of an app laid out like FastAPI's full-stack template.

It only assigns the dependencies and the `Annotated` aliases the routes import: no
endpoint is defined here, so the audit finds the variables among the app's modules.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends
from sqlalchemy import create_engine
from sqlalchemy.orm import Session, sessionmaker

from mintaka.depends.sqlalchemy import transactional_session

EVENTS: list[str] = []

engine = create_engine("sqlite://")


def get_db() -> Iterator[Session]:
    """The template's session: its teardown only closes it, after the response."""
    with Session(engine) as session:
        yield session
    EVENTS.append("session close")


def get_committing_db() -> Iterator[Session]:
    """A session whose teardown commits, after the response as well."""
    with Session(engine) as session:
        yield session
        session.commit()
    EVENTS.append("session commit")


# The mintaka way: the dependency is made by a factory, and assigned to a name.
get_transaction = transactional_session(sessionmaker(engine))

SessionDep = Annotated[Session, Depends(get_db)]
CommittingSessionDep = Annotated[Session, Depends(get_committing_db)]
TransactionDep = Annotated[Session, Depends(get_transaction)]
