"""`mintaka.depends.sqlalchemy` says how to install what it needs and refuses wrong input.

The transactional behaviour itself is tested against real databases in `tests/depends`.
"""

import importlib
import sys
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from sqlalchemy import Engine, create_engine
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_scoped_session,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import Session, scoped_session, sessionmaker

from mintaka.depends.sqlalchemy import transactional_session


def test_import_without_sqlalchemy_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in [n for n in sys.modules if n == "sqlalchemy" or n.startswith("sqlalchemy.")]:
        monkeypatch.setitem(sys.modules, name, None)  # None in sys.modules blocks the import
    for name in ("mintaka.depends.sqlalchemy", "mintaka.depends._session"):
        monkeypatch.delitem(sys.modules, name, raising=False)

    with pytest.raises(ImportError) as caught:
        importlib.import_module("mintaka.depends.sqlalchemy")

    assert str(caught.value) == (
        "mintaka.depends.sqlalchemy needs SQLAlchemy 2 with asyncio support, which is not "
        "installed. Install it with: pip install 'mintaka-depends[sqlalchemy]'"
    )


@pytest.fixture
def engine() -> Iterator[Engine]:
    engine = create_engine("sqlite://")
    yield engine
    engine.dispose()


@pytest.fixture
def async_engine() -> AsyncEngine:
    return create_async_engine("sqlite+aiosqlite://")  # never connects: nothing to dispose


def test_both_kinds_of_sessionmaker_are_accepted(engine: Engine, async_engine: AsyncEngine) -> None:
    assert callable(transactional_session(async_sessionmaker(async_engine)))
    assert callable(transactional_session(sessionmaker(engine)))


WRONG: dict[str, tuple[Callable[[Engine, AsyncEngine], Any], str]] = {
    "an async engine": (
        lambda engine, async_engine: async_engine,
        "it is an engine: pass async_sessionmaker(engine) instead.",
    ),
    "a sync engine": (
        lambda engine, async_engine: engine,
        "it is an engine: pass sessionmaker(engine) instead.",
    ),
    "an async session": (
        lambda engine, async_engine: AsyncSession(async_engine),
        "it is a session: pass the sessionmaker that makes it",
    ),
    "a sync session": (
        lambda engine, async_engine: Session(engine),
        "it is a session: pass the sessionmaker that makes it",
    ),
    "a scoped session": (
        lambda engine, async_engine: scoped_session(sessionmaker(engine)),
        "it is a scoped session registry: pass the sessionmaker behind it",
    ),
    "an async scoped session": (
        lambda engine, async_engine: async_scoped_session(
            async_sessionmaker(async_engine), scopefunc=object
        ),
        "it is a scoped session registry: pass the sessionmaker behind it",
    ),
    "a sessionmaker of AsyncSession (the SQLAlchemy 1.4 recipe)": (
        lambda engine, async_engine: sessionmaker(async_engine, class_=AsyncSession),  # type: ignore[call-overload]
        "this sessionmaker makes AsyncSession, an AsyncSession: use async_sessionmaker(engine)",
    ),
    "an async_sessionmaker of Session": (
        lambda engine, async_engine: async_sessionmaker(engine, class_=Session),  # type: ignore[call-overload]
        "this async_sessionmaker makes Session, which is not an AsyncSession",
    ),
    "a function that makes sessions": (
        lambda engine, async_engine: lambda: Session(engine),
        "create one with async_sessionmaker(engine) for AsyncSession, or sessionmaker(engine)",
    ),
}


@pytest.mark.parametrize("given", list(WRONG))
def test_a_wrong_factory_fails_at_creation_naming_it_and_the_fix(
    given: str, engine: Engine, async_engine: AsyncEngine
) -> None:
    make, fix = WRONG[given]
    factory = make(engine, async_engine)

    with pytest.raises(TypeError) as caught:
        transactional_session(factory)

    message = str(caught.value)
    assert message.startswith(
        "transactional_session() expects a sqlalchemy.ext.asyncio.async_sessionmaker or a "
        f"sqlalchemy.orm.sessionmaker; got {factory!r} ({type(factory).__qualname__}): "
    )
    assert fix in message


def test_a_commit_rule_that_is_not_callable_fails_at_creation(engine: Engine) -> None:
    with pytest.raises(TypeError) as caught:
        transactional_session(sessionmaker(engine), commit_on=400)  # type: ignore[call-overload]

    assert str(caught.value) == (
        "transactional_session(commit_on=...) expects a function that takes the response's "
        "status code and returns whether to commit; got 400 (int). For example: "
        "commit_on=lambda status: 200 <= status < 300."
    )


def test_a_commit_rule_on_a_read_only_session_fails_at_creation(engine: Engine) -> None:
    def only_2xx(status: int) -> bool:
        return status < 300

    with pytest.raises(TypeError) as caught:
        transactional_session(sessionmaker(engine), commit_on=only_2xx, read_only=True)

    assert str(caught.value) == (
        "transactional_session(read_only=True) never commits, so commit_on="
        f"{only_2xx!r} would never be asked. Drop commit_on, or drop read_only."
    )
