"""`mintaka.depends.sqlalchemy` says how to install what it needs and refuses wrong input.

The transactional behaviour itself is tested against real databases in `tests/depends`.
"""

import importlib
import sys

import pytest
from sqlalchemy import create_engine
from sqlalchemy.orm import sessionmaker


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


def test_a_sync_sessionmaker_is_refused_with_the_fix() -> None:
    from mintaka.depends.sqlalchemy import transactional_session

    engine = create_engine("sqlite://")
    sync_maker = sessionmaker(engine)

    with pytest.raises(TypeError) as caught:
        transactional_session(sync_maker)  # type: ignore[arg-type]

    assert str(caught.value) == (
        "transactional_session() expects a sqlalchemy.ext.asyncio.async_sessionmaker, got "
        f"{sync_maker!r} (sessionmaker). Create one with async_sessionmaker(engine)."
    )
    engine.dispose()
