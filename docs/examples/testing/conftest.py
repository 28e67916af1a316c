"""The test kit for the full-stack example app (`examples/fullstack`): sync SQLModel sessions.

The session-scoped fixture makes the database and its tables once; every test then runs in
an outer transaction on it that the kit rolls back, whatever the app committed.
"""

# --8<-- [start:conftest]
import pytest
from sqlmodel import create_engine

from examples.fullstack.app import create_app, create_tables

pytest_plugins = ["mintaka.depends.testing"]


@pytest.fixture(scope="session")
def engine(tmp_path_factory):
    engine = create_engine(f"sqlite:///{tmp_path_factory.mktemp('db') / 'app.db'}")
    create_tables(engine)  # once for the whole run, as a migration would
    yield engine
    engine.dispose()


@pytest.fixture
def mintaka_app(engine):
    return create_app(engine, mintaka=True)


# --8<-- [end:conftest]
