"""The session dependency, before and after adopting mintaka.

The routers take the dependency as an argument, so the same routers serve both apps.
"""

from collections.abc import Callable, Iterator

from sqlalchemy import Engine
from sqlalchemy.orm import sessionmaker
from sqlmodel import Session

from mintaka.depends.sqlalchemy import SessionDependency, transactional_session


def plain_get_db(engine: Engine) -> Callable[[], Iterator[Session]]:
    """The template's `get_db`: one session per request, closed after the response."""

    # --8<-- [start:plain]
    def get_db() -> Iterator[Session]:
        with Session(engine) as session:
            yield session

    # --8<-- [end:plain]
    return get_db


def mintaka_get_db(engine: Engine) -> SessionDependency[Session]:
    """The adopted `get_db`: settled and closed before the response is sent."""
    # --8<-- [start:mintaka]
    get_db = transactional_session(sessionmaker(engine, class_=Session))
    # --8<-- [end:mintaka]
    return get_db  # noqa: RET504 - the line the guide shows is the assignment
